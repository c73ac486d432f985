"""Every bad input named in the issue raises ValueError naming the argument and the fix."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import mirage_metrics as mm
from mirage_metrics import validation

NAN = float("nan")
INF = float("inf")


def raises(pattern: str):
    return pytest.raises(ValueError, match=pattern)


# --- strings -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", [mm.exact_match, mm.token_edit_distance, mm.prefix_metrics])
def test_string_metrics_reject_bad_inputs(metric):
    with raises(r"predictions\[1\] is None; pass a string \(the empty string is a valid model output\)"):
        metric(["1", None], ["1", "2"])
    with raises(r"references\[0\] is None"):
        metric(["1"], [None])
    with raises(r"predictions is None; pass a sequence"):
        metric(None, ["1"])
    with raises(r"predictions is empty; pass at least one sample"):
        metric([], [])
    with raises(r"predictions has 2 samples but references has 1; pass one entry per sample in both"):
        metric(["1", "2"], ["1"])
    with raises(r"predictions\[0\] is int, not str; pass strings"):
        metric([12], ["12"])
    with raises(r"references is a single string; pass a list of strings"):
        metric(["12"], "12")


def test_string_subclasses_are_accepted():
    assert mm.exact_match(np.array(["12", ""]), ["12", ""]).tolist() == [1.0, 1.0]


def test_token_edit_distance_rejects_unknown_tokenizers():
    with raises(r"tokenizer='bpe' is not known; use 'char', 'whitespace', a callable or a Hugging Face tokenizer"):
        mm.token_edit_distance(["1"], ["1"], tokenizer="bpe")
    with raises(r"tokenizer must be 'char', 'whitespace', a callable or a Hugging Face tokenizer, got int"):
        mm.token_edit_distance(["1"], ["1"], tokenizer=42)


@pytest.mark.parametrize("lengths", [(), (0, 1), (-2,)])
def test_prefix_metrics_rejects_bad_lengths(lengths):
    with raises(r"lengths(\[\d\] = -?\d is below 1| is empty); pass integers >= 1"):
        mm.prefix_metrics(["1"], ["1"], lengths=lengths)


# --- log-likelihoods -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
@pytest.mark.parametrize(
    "metric",
    [
        lambda rows: mm.choice_probs(rows),
        lambda rows: mm.multiple_choice_grade(rows, [0]),
        lambda rows: mm.bigbench_brier_score(rows, [0]),
    ],
)
def test_choice_loglikelihoods_must_be_finite(metric, bad):
    with raises(r"loglikelihoods\[0\] contains NaN or inf; log-likelihoods must be finite"):
        metric([[-1.0, bad]])


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_target_loglikelihoods_must_be_finite(bad):
    with raises(r"loglikelihoods\[1\] is .*; every value must be finite"):
        mm.target_log_prob([-1.0, bad])
    with raises(r"loglikelihoods\[1\] is .*; every value must be finite"):
        mm.per_token_prob([-1.0, bad], [1, 1])


def test_target_log_prob_rejects_bad_shapes_and_lengths():
    with raises(r"loglikelihoods is empty; pass at least one sample"):
        mm.target_log_prob([])
    with raises(r"loglikelihoods is None; pass a sequence of numbers"):
        mm.target_log_prob(None)
    with raises(r"loglikelihoods must be 1-D \(one number per sample\), got shape \(1, 2\)"):
        mm.target_log_prob([[-1.0, -2.0]])
    with raises(r"loglikelihoods must be a flat sequence of numbers"):
        mm.target_log_prob([[-1.0], [-2.0, -3.0]])
    with raises(r"loglikelihoods has 2 samples but lengths has 1"):
        mm.per_token_prob([-1.0, -2.0], lengths=[3])
    with raises(r"lengths\[0\] = 0 is below 1; pass integers >= 1"):
        mm.per_token_prob([-1.0], lengths=[0])


@pytest.mark.parametrize(
    "metric",
    [lambda rows: mm.choice_probs(rows), lambda rows: mm.multiple_choice_grade(rows, [0] * max(len(rows), 1))],
)
def test_choice_rows_must_be_non_empty_1d(metric):
    with raises(r"loglikelihoods is empty; pass at least one sample"):
        metric([])
    with raises(r"loglikelihoods\[0\] must be a non-empty 1-D sequence \(one value per choice\), got shape \(0,\)"):
        metric([[]])
    with raises(r"loglikelihoods\[0\] must be a non-empty 1-D sequence .* got shape \(1, 2\)"):
        metric([[[-1.0, -2.0]]])
    with raises(r"loglikelihoods\[0\] is None; pass the log-likelihoods of every choice"):
        metric([None])
    with raises(r"loglikelihoods\[0\] must be a sequence of numbers"):
        metric([["a", "b"]])


# --- targets -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric",
    [
        lambda targets: mm.multiple_choice_grade([[-1.0, -2.0]], targets),
        lambda targets: mm.bigbench_brier_score([[-1.0, -2.0]], targets),
        lambda targets: mm.brier_score([[0.5, 0.5]], targets),
    ],
)
def test_targets_are_checked(metric):
    with raises(r"targets\[0\] = 2 is out of range for 2 choices \(0..1\)"):
        metric([2])
    with raises(r"targets\[0\] = -1 is out of range for 2 choices \(0..1\)"):
        metric([-1])
    with raises(r"targets\[0\] has 3 target scores for 2 choices; pass one score per choice or a choice index"):
        metric([[0.0, 1.0, 0.0]])
    with raises(r"targets\[0\] is None; pass a choice index or a list of target scores"):
        metric([None])
    with raises(r"targets\[0\] must be a choice index or a list of target scores, got 'b'"):
        metric(["b"])
    with raises(r"targets\[0\] contains NaN or inf target scores"):
        metric([[NAN, 1.0]])
    with raises(r"targets has 2 samples but loglikelihoods has 1"):
        metric([0, 1])
    with raises(r"targets is empty"):
        metric([])


def test_numpy_integer_targets_are_indices():
    assert mm.multiple_choice_grade([[-2.0, -1.0]], np.array([1])).tolist() == [1.0]


# --- probabilities -------------------------------------------------------------------------------------------------


def test_brier_score_rejects_bad_probabilities():
    with raises(r"probs\[0\] has values outside \[0, 1\]"):
        mm.brier_score([[1.5, -0.5]], [0])
    with raises(r"probs\[1\] sums to 0.9, not 1; normalise it \(e.g. with choice_probs\)"):
        mm.brier_score([[0.5, 0.5], [0.5, 0.4]], [0, 0])
    with raises(r"probs\[0\] contains NaN or inf; probabilities must be finite"):
        mm.brier_score([[NAN, 1.0]], [0])
    with raises(r"probs is empty; pass at least one sample"):
        mm.brier_score([], [])


def test_brier_score_tolerates_rounding_within_1e_6():
    assert mm.brier_score([[0.5 + 4e-7, 0.5]], [0])[0] == pytest.approx(0.5, abs=1e-6)
    with raises(r"sums to"):
        mm.brier_score([[0.5 + 4e-6, 0.5]], [0])


# --- vision metrics ------------------------------------------------------------------------------------------------


def test_subset_accuracy_rejects_bad_inputs():
    with raises(r"correct is None; pass a 2-D boolean array \(sample × item\)"):
        mm.subset_accuracy(None)
    with raises(r"correct is ragged \(rows of different lengths\); pass a 2-D boolean array \(sample × item\)"):
        mm.subset_accuracy([[True, True], [True]])
    with raises(r"correct must be 2-D \(sample × item\), got shape \(3,\)"):
        mm.subset_accuracy([True, False, True])
    with raises(r"correct is empty \(shape \(0, 0\)\)"):
        mm.subset_accuracy(np.zeros((0, 0), dtype=bool))
    with raises(r"correct must hold booleans \(or 0/1\)"):
        mm.subset_accuracy([[0.5, 1.0]])
    with raises(r"k=4 is out of range; use 1..3 \(the number of items\) or None"):
        mm.subset_accuracy([[True, True, True]], k=4)
    with raises(r"k=0 is out of range"):
        mm.subset_accuracy([[True, True, True]], k=0)


def test_image_metrics_reject_bad_inputs():
    x = np.zeros((2, 3))
    with raises(r"x has shape \(2, 3\) but x_hat has shape \(2, 4\); they must match"):
        mm.mean_squared_error(x, np.zeros((2, 4)))
    with raises(r"x_hat is None; pass an array with samples on the first axis"):
        mm.mean_squared_error(x, None)
    with raises(r"x is empty; pass at least one sample on the first axis"):
        mm.mean_squared_error(np.zeros((0, 3)), np.zeros((0, 3)))
    with raises(r"x_hat contains NaN or inf"):
        mm.mean_squared_error(x, np.full((2, 3), NAN))
    with raises(r"x is ragged \(rows of different lengths\)"):
        mm.mean_squared_error([[0.0], [0.0, 1.0]], [[0.0], [0.0, 1.0]])
    with raises(r"c=0 must be a positive finite number \(the MSE threshold\)"):
        mm.reconstruction_c(x, x, c=0)
    with raises(r"c=nan must be a positive finite number"):
        mm.reconstruction_c(x, x, c=NAN)


# --- emergence score -----------------------------------------------------------------------------------------------


def test_emergence_score_rejects_bad_curves():
    with raises(r"sizes must hold at least two model sizes"):
        mm.emergence_score([1e9], [0.5])
    with raises(r"sizes has duplicates; pass one score per model size"):
        mm.emergence_score([1e9, 1e9], [0.5, 0.6])
    with raises(r"sizes has 3 samples but scores has 2"):
        mm.emergence_score([1, 2, 3], [0.5, 0.6])
    with raises(r"scores\[1\] is nan; every value must be finite"):
        mm.emergence_score([1, 2], [0.5, NAN])
    with raises(r"sizes is empty"):
        mm.emergence_score([], [])


# --- helpers directly ----------------------------------------------------------------------------------------------


def test_check_rectangular_non_numeric():
    with raises(r"x must be an array with samples on the first axis of numbers"):
        validation.check_rectangular([["a"]], "x", dtype=float, what="an array with samples on the first axis")


def test_evaluate_path_rejects_unknown_modules():
    with raises(re.escape("name='bleu' is not a mirage-metrics evaluate module; choose one of ['brier'")):
        mm.evaluate_path("bleu")


def test_messages_name_the_fix_for_unnormalised_rows():
    rows = [[math.log(0.3), math.log(0.3)]]
    probs = [np.exp(r) for r in rows]
    with raises(r"normalise it \(e.g. with choice_probs\)"):
        mm.brier_score(probs, [0])
    assert mm.brier_score(mm.choice_probs(rows), [0])[0] == pytest.approx(0.5)


def test_per_token_loss_rejects_impossible_probabilities():
    with raises(r"per_token_probs must lie in \(0, 1\]; a probability of 0 has infinite loss"):
        mm.per_token_loss([0.5, 0.0])
    with raises(r"per_token_probs must lie in \(0, 1\]"):
        mm.per_token_loss([1.5])
    with raises(r"per_token_probs\[0\] is nan; every value must be finite"):
        mm.per_token_loss([NAN])


def test_correct_choice_log_prob_checks_targets_and_rows():
    with raises(r"targets\[0\] = 3 is out of range for 2 choices"):
        mm.correct_choice_log_prob([[-1.0, -2.0]], [3])
    with raises(r"loglikelihoods\[0\] contains NaN or inf"):
        mm.correct_choice_log_prob([[-1.0, NAN]], [0])


# --- issue 14 item 9: wrong numbers or TypeErrors became ValueErrors naming the argument and the fix ---------------


@pytest.mark.parametrize("unordered", [{"12", "7"}, frozenset({"12", "7"}), {"12": 0, "7": 1}])
def test_sets_and_dicts_are_not_paired_in_hash_order(unordered):
    for metric in (mm.exact_match, mm.token_edit_distance, mm.prefix_metrics):
        with raises(r"predictions is a (set|frozenset|dict), which has no sample order; pass a list"):
            metric(unordered, ["12", "7"])
    with raises(r"loglikelihoods is a (set|frozenset|dict), which has no sample order"):
        mm.target_log_prob({-1.0: 0, -2.0: 1} if isinstance(unordered, dict) else {-1.0, -2.0})
    with raises(r"targets is a set, which has no sample order"):
        mm.multiple_choice_grade([[-1.0, -2.0], [-1.0, -2.0]], {0, 1})
    with raises(r"loglikelihoods is a set, which has no sample order"):
        mm.choice_probs({(-1.0, -2.0), (-3.0, -1.0)})


def test_positive_log_likelihoods_are_not_probabilities():
    with raises(r"loglikelihoods\[0\] = 5.0 is positive, so not a log-probability; pass log p \(<= 0\)"):
        mm.per_token_prob([5.0], [1])
    with raises(r"loglikelihoods\[1\] = 0.5 is positive"):
        mm.target_log_prob([-1.0, 0.5])
    assert mm.per_token_prob([0.0, -0.0], [1, 2]).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("lengths", [[1.7], [2, 0.5], (3.25,)])
def test_fractional_lengths_are_errors_not_truncated(lengths):
    with raises(r"lengths\[\d\] = [\d.]+ is not a whole number; pass integers >= 1"):
        mm.prefix_metrics(["12"], ["12"], lengths=lengths)
    with raises(r"lengths\[\d\] = [\d.]+ is not a whole number; pass integers >= 1"):
        mm.per_token_prob([-1.0] * len(lengths), lengths)
    assert mm.prefix_metrics(["12"], ["13"], lengths=[2.0]) == mm.prefix_metrics(["12"], ["13"], lengths=[2])


def test_arguments_of_the_wrong_kind_are_value_errors():
    with raises(r"lengths is None; pass a sequence of numbers"):
        mm.prefix_metrics(["1"], ["1"], lengths=None)
    with raises(r"lengths must be 1-D"):
        mm.prefix_metrics(["1"], ["1"], lengths=3)
    with raises(r"loglikelihoods is a single float; pass a list \(one entry per sample\)"):
        mm.choice_probs(3.0)
    with raises(r"targets is a single int; pass a list \(one entry per sample\)"):
        mm.multiple_choice_grade([[-1.0, -2.0]], 0)
    with raises(r"targets is a single int"):
        mm.brier_score([[0.5, 0.5]], 1)
    x = np.zeros((2, 3))
    with raises(r"c=None must be a positive finite number \(the MSE threshold\)"):
        mm.reconstruction_c(x, x, c=None)
    with raises(r"c='0.1' must be a positive finite number"):
        mm.reconstruction_c(x, x, c="0.1")
    with raises(r"k=1.5 must be an int"):
        mm.subset_accuracy([[True, True]], k=1.5)


@pytest.mark.parametrize("target", [1.7, 1.0, np.float64(0.0), True])
def test_float_or_bool_targets_are_not_choice_indices(target):
    with raises(r"targets\[0\] = .* is not a choice index; pass an int index or a list of target scores"):
        mm.multiple_choice_grade([[-1.0, -2.0]], [target])
    with raises(r"targets\[0\] = .* is not a choice index"):
        mm.brier_score([[0.5, 0.5]], [target])


def test_fast_path_errors_name_the_row():
    """Rectangular inputs are checked at numpy speed; a bad one still gets the row-by-row message."""
    with raises(r"loglikelihoods\[1\] contains NaN or inf"):
        mm.multiple_choice_grade(np.array([[-1.0, -2.0], [NAN, -1.0]]), np.array([0, 1]))
    with raises(r"targets\[1\] = 2 is out of range for 2 choices"):
        mm.multiple_choice_grade(np.array([[-1.0, -2.0], [-3.0, -1.0]]), np.array([0, 2]))
    with raises(r"targets has 1 samples but loglikelihoods has 2"):
        mm.multiple_choice_grade(np.array([[-1.0, -2.0], [-3.0, -1.0]]), np.array([0]))
    with raises(r"loglikelihoods\[0\] must be a non-empty 1-D sequence"):
        mm.multiple_choice_grade(np.zeros((1, 0)), [0])
