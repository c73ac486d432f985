"""Every bad input named in the issue raises ValueError naming the argument and the fix."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    with raises(r"loglikelihoods\[0\]\[0\] is the string 'a'; pass the log-likelihoods of every choice as numbers"):
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
    with raises(r"targets\[0\] is the string 'b'; pass a choice index or a list of target scores"):
        metric(["b"])
    with raises(r"targets\[0\] contains NaN or inf target scores"):
        metric([[NAN, 1.0]])
    with raises(r"targets has 2 samples but (loglikelihoods|probs) has 1"):
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
    with raises(r"x\[0\]\[0\] is the string 'a'; pass numbers"):
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


# --- wrong numbers or TypeErrors became ValueErrors naming the argument and the fix -------------------------------


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
    with raises(r"lengths is None; pass a sequence of integers >= 1"):
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


# --- impossible inputs are refused, never scored -------------------------------------------------------------------

CHOICE_METRICS = {
    "multiple_choice_grade": lambda rows, targets: mm.multiple_choice_grade(rows, targets),
    "bigbench_brier_score": lambda rows, targets: mm.bigbench_brier_score(rows, targets),
    "brier_score": lambda rows, targets: mm.brier_score(mm.choice_probs(rows), targets),
    "correct_choice_log_prob": lambda rows, targets: mm.correct_choice_log_prob(rows, targets),
}


@pytest.mark.parametrize("metric", CHOICE_METRICS.values(), ids=CHOICE_METRICS.keys())
@pytest.mark.parametrize("as_array", [False, True])
def test_negative_target_scores_are_refused(metric, as_array):
    wrap = np.array if as_array else list
    with raises(r"targets\[0\]\[0\] = -1.0 is negative; pass target scores >= 0"):
        metric(wrap([[-1.0, -2.0]]), wrap([[-1.0, 0.0]]))
    with raises(r"targets\[1\]\[1\] = -0.5 is negative"):
        metric(wrap([[-1.0, -2.0], [-3.0, -2.0]]), wrap([[1.0, 0.0], [1.0, -0.5]]))
    assert np.isfinite(metric(wrap([[-1.0, -2.0]]), wrap([[0.0, 0.0]]))).all()  # all-zero scores stay valid


def test_target_scores_whose_sum_overflows_are_refused():
    with raises(r"targets\[0\] sums to inf; pass target scores with a finite sum"):
        mm.brier_score([[0.5, 0.5]], [[1e308, 1e308]])
    with raises(r"targets\[0\] sums to inf"):
        mm.bigbench_brier_score(np.array([[-1.0, -1.0]]), np.array([[1e308, 1e308]]))


@pytest.mark.parametrize("metric", CHOICE_METRICS.values(), ids=CHOICE_METRICS.keys())
@pytest.mark.parametrize("as_array", [False, True])
def test_positive_choice_log_likelihoods_are_refused(metric, as_array):
    wrap = np.array if as_array else list
    message = r"loglikelihoods\[1\]\[0\] = 3.0 is positive, so not a log-probability; pass log p \(<= 0\)"
    with raises(message):
        metric(wrap([[-1.0, -2.0], [3.0, -2.0]]), [0, 1])
    assert np.isfinite(metric(wrap([[0.0, -0.0]]), [0])).all()


def test_positive_log_likelihoods_are_refused_by_every_log_likelihood_argument():
    with raises(r"loglikelihoods\[0\]\[1\] = 0.5 is positive"):
        mm.choice_probs([[-1.0, 0.5]])
    with raises(r"stop_loglikelihoods\[0\]\[0\] = 0.1 is positive, so not a log-probability"):
        mm.exact_answer_log_prob([[0.1]])


@pytest.mark.parametrize(
    "lengths", [[1e20], [2.0**63], [10**30], [10**400], np.array([2**64 - 1], dtype=np.uint64), [2**53 + 1], [2**53]]
)
def test_lengths_beyond_exact_whole_numbers_are_refused(lengths):
    message = r"lengths\[0\] (= .* is too large; pass integers from 1 to 2\*\*53 - 1|is too large for a float; pass integers >= 1)"
    with raises(message):
        mm.per_token_prob([-1.0], lengths)
    with raises(message):
        mm.prefix_metrics(["12"], ["12"], lengths=lengths)


def test_the_largest_exact_length_is_accepted():
    assert mm.per_token_prob([-1.0], [2**53 - 1])[0] == np.exp(-1.0 / (2**53 - 1))
    assert np.isnan(mm.prefix_metrics(["12"], ["12"], lengths=[2**53 - 1])[f"exact_match_L{2**53 - 1}"][0])


STRING_INPUTS = {
    "per_token_prob ll": (lambda: mm.per_token_prob(["-1"], [1]), r"loglikelihoods\[0\] is the string '-1'"),
    "per_token_prob mixed": (lambda: mm.per_token_prob([-1.0, "-2"], [1, 1]), r"loglikelihoods\[1\] is the string"),
    "per_token_prob lengths": (lambda: mm.per_token_prob([-1.0], ["2"]), r"lengths\[0\] is the string '2'"),
    "per_token_prob array": (lambda: mm.per_token_prob(np.array(["-1"]), [1]), r"loglikelihoods\[0\] is the string"),
    "target_log_prob": (lambda: mm.target_log_prob(["-1.5"]), r"loglikelihoods\[0\] is the string '-1.5'"),
    "prefix lengths": (lambda: mm.prefix_metrics(["1"], ["1"], lengths=["1"]), r"lengths\[0\] is the string '1'"),
    "prefix lengths str": (lambda: mm.prefix_metrics(["1"], ["1"], lengths="12"), r"lengths is the string '12'"),
    "mcg rows": (lambda: mm.multiple_choice_grade([["-1", "-2"]], [0]), r"loglikelihoods\[0\]\[0\] is the string"),
    "mcg scores": (lambda: mm.multiple_choice_grade([[-1.0, -2.0]], [["1", "0"]]), r"targets\[0\]\[0\] is the string"),
    "mcg index": (lambda: mm.multiple_choice_grade([[-1.0, -2.0]], ["1"]), r"targets\[0\] is the string '1'"),
    "brier probs": (lambda: mm.brier_score([["0.5", "0.5"]], [0]), r"probs\[0\]\[0\] is the string '0.5'"),
    "bigbench brier": (lambda: mm.bigbench_brier_score([[-1.0, "-2"]], [0]), r"loglikelihoods\[0\]\[1\] is the str"),
    "choice_probs": (lambda: mm.choice_probs([["-1"]]), r"loglikelihoods\[0\]\[0\] is the string"),
    "correct choice": (lambda: mm.correct_choice_log_prob([["-1", "-2"]], [0]), r"loglikelihoods\[0\]\[0\] is the"),
    "exact answer": (lambda: mm.exact_answer_log_prob([["-1"]]), r"stop_loglikelihoods\[0\]\[0\] is the string"),
    "sizes": (lambda: mm.emergence_score(["1", "2"], [0.0, 1.0]), r"sizes\[0\] is the string '1'"),
    "scores": (lambda: mm.emergence_score([1, 2], ["0", "1"]), r"scores\[0\] is the string '0'"),
    "scores 2-D": (lambda: mm.jump_sharpness([1, 2, 3], [[0, 1, "2"]]), r"scores\[0\]\[2\] is the string '2'"),
    "per_token_loss": (lambda: mm.per_token_loss(["0.5"]), r"per_token_probs\[0\] is the string '0.5'"),
    "images": (lambda: mm.mean_squared_error([["1"]], [[1.0]]), r"x\[0\]\[0\] is the string '1'"),
    "reconstruction": (lambda: mm.reconstruction_c([[1.0]], [[b"1"]], c=0.1), r"x_hat\[0\]\[0\] is the string b'1'"),
}


@pytest.mark.parametrize(("call", "message"), STRING_INPUTS.values(), ids=STRING_INPUTS.keys())
def test_numeric_strings_are_refused_not_converted(call, message):
    with raises(message):
        call()


BOOL_INPUTS = {
    "length True": (lambda: mm.per_token_prob([-1.0], [True]), r"lengths\[0\] is True, a boolean; pass integers >= 1"),
    "length mixed": (lambda: mm.per_token_prob([-1.0, -2.0], [2, True]), r"lengths\[1\] is True, a boolean"),
    "length array": (lambda: mm.per_token_prob([-1.0], np.array([True])), r"lengths\[0\] is True, a boolean"),
    "prefix length": (lambda: mm.prefix_metrics(["1"], ["1"], lengths=[True]), r"lengths\[0\] is True, a boolean"),
    "prefix np.True_": (lambda: mm.prefix_metrics(["1"], ["1"], lengths=(1, np.True_)), r"lengths\[1\] is True"),
    "log-likelihood": (lambda: mm.target_log_prob([-1.0, False]), r"loglikelihoods\[1\] is False, a boolean"),
    "choice row": (lambda: mm.multiple_choice_grade([[-1.0, False]], [0]), r"loglikelihoods\[0\]\[1\] is False"),
    "choice array": (
        lambda: mm.multiple_choice_grade(np.zeros((2, 2), dtype=bool), [0, 1]),
        r"loglikelihoods\[0\]\[0\] is False",
    ),
    "score row": (lambda: mm.multiple_choice_grade([[-1.0, -2.0]], [[True, False]]), r"targets\[0\]\[0\] is True"),
    "index among ints": (
        lambda: mm.multiple_choice_grade(np.array([[-1.0, -2.0], [-1.0, -2.0]]), [0, True]),
        r"targets\[1\] = True is not a choice index",
    ),
    "probs": (lambda: mm.brier_score([[True, False]], [0]), r"probs\[0\]\[0\] is True, a boolean"),
    "sizes": (lambda: mm.emergence_score([True, 2.0, 3.0], [0.0, 0.5, 1.0]), r"sizes\[0\] is True, a boolean"),
    "scores": (lambda: mm.jump_sharpness([1.0, 2.0], [0.0, True]), r"scores\[1\] is True, a boolean"),
    "per_token_probs": (lambda: mm.per_token_loss([True]), r"per_token_probs\[0\] is True, a boolean"),
    "images": (lambda: mm.mean_squared_error(np.ones((1, 2), dtype=bool), np.ones((1, 2))), r"x\[0\]\[0\] is True"),
}


@pytest.mark.parametrize(("call", "message"), BOOL_INPUTS.values(), ids=BOOL_INPUTS.keys())
def test_booleans_are_refused_where_numbers_are_expected(call, message):
    with raises(message):
        call()


FLAGS = {
    "exact_match strip": lambda value: mm.exact_match(["1"], ["1"], strip=value),
    "token_edit_distance ignore_case": lambda value: mm.token_edit_distance(["1"], ["1"], ignore_case=value),
    "prefix_metrics strip": lambda value: mm.prefix_metrics(["1"], ["1"], strip=value),
    "absolute_normalization": lambda value: mm.multiple_choice_grade([[-1.0]], [0], absolute_normalization=value),
    "normalise": lambda value: mm.correct_choice_log_prob([[-1.0]], [0], normalise=value),
}


@pytest.mark.parametrize("call", FLAGS.values(), ids=FLAGS.keys())
def test_flags_must_be_true_or_false(call):
    for value in ("False", "no", 0, 1, None, 0.0):
        with raises(r"(strip|ignore_case|absolute_normalization|normalise)=.* must be True or False"):
            call(value)
    call(True)
    call(np.False_)


@pytest.mark.parametrize("curve_metric", [mm.emergence_score, mm.jump_sharpness])
def test_model_sizes_must_be_positive(curve_metric):
    with raises(r"sizes\[0\] = 0 is not positive; pass model sizes > 0 \(e.g. parameter counts\)"):
        curve_metric([0, 1e6, 1e7], [0.0, 0.5, 1.0])
    with raises(r"sizes\[1\] = -1e\+09 is not positive"):
        curve_metric([1e8, -1e9, 1e10], [0.0, 0.5, 1.0])
    with raises(r"sizes\[2\] is inf; every value must be finite"):
        curve_metric([1e8, 1e9, np.inf], [0.0, 0.5, 1.0])
    assert np.isfinite(curve_metric([1e-300, 1.0, 1e300], [0.0, 0.5, 1.0]))


def test_check_model_sizes_names_its_argument():
    np.testing.assert_array_equal(validation.check_model_sizes([1e6, 7], "params"), [1e6, 7.0])
    with raises(r"params\[1\] = -3 is not positive"):
        validation.check_model_sizes([1e6, -3], "params")
    with raises(r"params is empty"):
        validation.check_model_sizes([], "params")


def test_ragged_or_nested_vectors_are_refused():
    with raises(r"lengths must be a flat sequence of numbers"):
        mm.per_token_prob([-1.0, -2.0], [[1], [2, 3]])
    with raises(r"sizes must be 1-D"):
        mm.emergence_score([[1, 2], [3, 4]], [0.0, 1.0])
    with raises(r"scores is ragged"):
        mm.emergence_score([1, 2], [[0.0, 1.0], [0.0]])


# --- properties: a bad value anywhere is refused, naming its position -----------------------------------------------

NOT_A_NUMBER = st.one_of(
    st.sampled_from([True, False, np.True_, np.False_, None, "1", "-0.5", "nan", b"2", 1 + 0j]),
    st.from_regex(r"-?[0-9]{1,3}(\.[0-9]{1,2})?", fullmatch=True),  # numeric strings
)
VECTOR_ARGUMENTS = {
    "loglikelihoods": (lambda values: mm.target_log_prob(values), st.floats(-50.0, 0.0)),
    "lengths": (lambda values: mm.per_token_prob([-1.0] * len(values), values), st.integers(1, 10**6)),
    "sizes": (lambda values: mm.emergence_score(values, np.arange(len(values), dtype=float)), st.integers(1, 10**12)),
    "per_token_probs": (lambda values: mm.per_token_loss(values), st.floats(0.01, 1.0)),
}


@settings(max_examples=200)
@given(st.sampled_from(sorted(VECTOR_ARGUMENTS)), st.data(), NOT_A_NUMBER, st.booleans())
def test_a_non_number_anywhere_in_a_vector_is_refused_by_position(name, data, bad, as_array):
    call, good = VECTOR_ARGUMENTS[name]
    values = data.draw(st.lists(good, min_size=2, max_size=8, unique=True))
    position = data.draw(st.integers(0, len(values) - 1))
    values[position] = bad
    if as_array and not isinstance(bad, (str, bytes)):  # numpy would make the whole array strings: no position
        values = np.array(values, dtype=object)
    with raises(rf"^{name}\[{position}\] is "):
        call(values)


CHOICE_FUNCTIONS = {
    "multiple_choice_grade": lambda rows, targets: mm.multiple_choice_grade(rows, targets),
    "bigbench_brier_score": lambda rows, targets: mm.bigbench_brier_score(rows, targets),
    "correct_choice_log_prob": lambda rows, targets: mm.correct_choice_log_prob(rows, targets, normalise=False),
    "choice_probs": lambda rows, targets: mm.choice_probs(rows),
}


@st.composite
def choice_inputs(draw, rectangular: bool):
    """Valid log-likelihood rows (<= 0) with non-negative target scores; equal lengths when ``rectangular``."""
    n_samples = draw(st.integers(1, 6))
    widths = (
        [draw(st.integers(1, 5))] * n_samples
        if rectangular
        else draw(st.lists(st.integers(1, 5), min_size=n_samples, max_size=n_samples))
    )
    rows = [draw(st.lists(st.floats(-1e3, 0.0), min_size=n, max_size=n)) for n in widths]
    scores = [draw(st.lists(st.floats(0.0, 1e3), min_size=n, max_size=n)) for n in widths]
    return rows, scores


@settings(max_examples=200)
@given(st.sampled_from(sorted(CHOICE_FUNCTIONS)), st.booleans(), st.data())
def test_a_positive_log_likelihood_anywhere_is_refused_by_position(name, rectangular, data):
    rows, scores = data.draw(choice_inputs(rectangular))
    i = data.draw(st.integers(0, len(rows) - 1))
    j = data.draw(st.integers(0, len(rows[i]) - 1))
    rows[i][j] = data.draw(st.floats(min_value=5e-324, max_value=1e308))
    with raises(rf"^loglikelihoods\[{i}\]\[{j}\] = .* is positive"):
        CHOICE_FUNCTIONS[name](np.array(rows) if rectangular else rows, np.array(scores) if rectangular else scores)


@settings(max_examples=200)
@given(st.sampled_from(sorted(set(CHOICE_FUNCTIONS) - {"choice_probs"})), st.booleans(), st.data())
def test_a_negative_target_score_anywhere_is_refused_by_position(name, rectangular, data):
    rows, scores = data.draw(choice_inputs(rectangular))
    i = data.draw(st.integers(0, len(rows) - 1))
    j = data.draw(st.integers(0, len(rows[i]) - 1))
    scores[i][j] = data.draw(st.floats(max_value=-5e-324, min_value=-1e308))
    with raises(rf"^targets\[{i}\]\[{j}\] = .* is negative"):
        CHOICE_FUNCTIONS[name](np.array(rows) if rectangular else rows, np.array(scores) if rectangular else scores)


@settings(max_examples=200)
@given(st.sampled_from(sorted(CHOICE_FUNCTIONS)), st.booleans(), st.data(), NOT_A_NUMBER)
def test_a_non_number_anywhere_in_choice_rows_is_refused_by_position(name, rectangular, data, bad):
    rows, scores = data.draw(choice_inputs(rectangular))
    i = data.draw(st.integers(0, len(rows) - 1))
    j = data.draw(st.integers(0, len(rows[i]) - 1))
    in_scores = name != "choice_probs" and data.draw(st.booleans())
    (scores if in_scores else rows)[i][j] = bad
    with raises(rf"^{'targets' if in_scores else 'loglikelihoods'}\[{i}\]\[{j}\] is "):
        CHOICE_FUNCTIONS[name](rows, scores)


@given(st.one_of(st.floats(allow_nan=False), st.integers(-(2**70), 2**70)))
def test_a_length_is_accepted_exactly_when_it_is_a_whole_number_from_1_to_2_53(length):
    valid = math.isfinite(length) and length == int(length) and 1 <= length < 2**53
    if valid:
        assert mm.per_token_prob([-2.0], [length])[0] == np.exp(np.array([-2.0]) / float(length))[0]
        assert f"exact_match_L{int(length)}" in mm.prefix_metrics(["12"], ["12"], lengths=[length])
    else:
        with raises(r"^lengths\[0\]"):
            mm.per_token_prob([-2.0], [length])
        with raises(r"^lengths\[0\]"):
            mm.prefix_metrics(["12"], ["12"], lengths=[length])


@pytest.mark.parametrize("tokenizer", [lambda s: 5, lambda s: None])
def test_a_tokenizer_that_returns_no_sequence_is_named(tokenizer):
    with raises(r"tokenizer returned (int|NoneType) for 'a b'; it must return a sequence of hashable tokens"):
        mm.token_edit_distance(["a b"], ["a c"], tokenizer=tokenizer)


def test_a_tokenizer_with_unhashable_tokens_is_named():
    with raises(r"tokenizer gave unhashable tokens \(unhashable type: 'list'\); it must return hashable tokens"):
        mm.token_edit_distance(["a b"], ["a c"], tokenizer=lambda s: [[c] for c in s])
