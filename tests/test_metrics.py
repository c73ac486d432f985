"""Hand-computed values for every function of the metrics core, and the docs/design.md facts that concern it."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
from scipy.special import logsumexp

import mirage_metrics as mm
from mirage_metrics import metrics


def test_every_core_function_is_reexported_from_the_package():
    for name in metrics.__all__:
        assert getattr(mm, name) is getattr(metrics, name)
        assert name in mm.__all__


# --- exact match ---------------------------------------------------------------------------------------------------


def test_exact_match_strips_by_default_and_is_case_sensitive():
    values = mm.exact_match(["42 ", "\n7", "Paris", ""], ["42", "7", "paris", ""])
    np.testing.assert_array_equal(values, [1.0, 1.0, 0.0, 1.0])
    assert values.dtype == float


def test_exact_match_options():
    np.testing.assert_array_equal(mm.exact_match([" 42"], ["42"], strip=False), [0.0])
    np.testing.assert_array_equal(mm.exact_match(["PARIS"], ["paris"], ignore_case=True), [1.0])


def test_exact_match_and_edit_distance_share_one_normalisation():
    """Exact match 1 with edit distance 1 on " 42" vs "42" is impossible: one normalisation rule."""
    assert mm.exact_match([" 42"], ["42"]).tolist() == [1.0]
    assert mm.token_edit_distance([" 42"], ["42"]).tolist() == [0]
    assert mm.exact_match([" 42"], ["42"], strip=False).tolist() == [0.0]
    assert mm.token_edit_distance([" 42"], ["42"], strip=False).tolist() == [1]
    assert mm.token_edit_distance(["PARIS"], ["paris"], ignore_case=True).tolist() == [0]
    out = mm.prefix_metrics(["AB3"], ["ab4"], lengths=[2, 3], ignore_case=True)
    assert out["exact_match_L2"].tolist() == [1.0] and out["token_edit_distance_L3"].tolist() == [1.0]


def test_prefix_metrics_does_not_strip_inside_a_prefix():
    """Only the whole texts are stripped: a prefix ending in a space keeps it."""
    out = mm.prefix_metrics(["1 2"], ["12x"], lengths=[2])
    assert out["exact_match_L2"].tolist() == [0.0] and out["token_edit_distance_L2"].tolist() == [1.0]


def test_empty_prediction_is_a_valid_wrong_answer():
    np.testing.assert_array_equal(mm.exact_match([""], ["12"]), [0.0])
    np.testing.assert_array_equal(mm.token_edit_distance([""], ["12"]), [2])


# --- token edit distance -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "reference", "distance"),
    [
        ("1234", "1234", 0),
        ("1234", "1243", 2),  # a transposition is two substitutions
        ("123", "1234", 1),  # one insertion
        ("12345", "1234", 1),  # one deletion
        ("kitten", "sitting", 3),  # the textbook example
        ("", "", 0),
        ("999", "", 3),
    ],
)
def test_token_edit_distance_by_characters(prediction, reference, distance):
    result = mm.token_edit_distance([prediction], [reference])
    np.testing.assert_array_equal(result, [distance])
    assert np.issubdtype(result.dtype, np.integer)


def test_token_edit_distance_other_tokenizers():
    assert mm.token_edit_distance(["a b c"], ["a x c d"], tokenizer="whitespace").tolist() == [2]
    assert mm.token_edit_distance(["1,2,3"], ["1,2"], tokenizer=lambda s: s.split(",")).tolist() == [1]


# --- prefix metrics (the paper's "Target Str Len") ------------------------------------------------------------------


def test_prefix_metrics_by_hand():
    out = mm.prefix_metrics(["12389", " 5", "99"], ["12345", "5", "9"], lengths=(1, 2, 4))
    assert sorted(out) == sorted(f"{m}_L{n}" for m in ("exact_match", "token_edit_distance") for n in (1, 2, 4))
    np.testing.assert_array_equal(out["exact_match_L1"], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(out["exact_match_L2"], [1.0, np.nan, np.nan])
    np.testing.assert_array_equal(out["exact_match_L4"], [0.0, np.nan, np.nan])
    np.testing.assert_array_equal(out["token_edit_distance_L4"], [1.0, np.nan, np.nan])  # "1238" vs "1234"
    np.testing.assert_array_equal(out["token_edit_distance_L1"], [0.0, 0.0, 0.0])


def test_prefix_metrics_short_prediction_counts_as_deletions():
    out = mm.prefix_metrics(["1"], ["1234"], lengths=(3,))
    assert out["exact_match_L3"].tolist() == [0.0]
    assert out["token_edit_distance_L3"].tolist() == [2.0]


# --- multiple choice -----------------------------------------------------------------------------------------------


def test_choice_probs_is_the_softmax_per_sample():
    probs = mm.choice_probs([[math.log(0.1), math.log(0.3)], [0.0, 0.0, 0.0, 0.0], [-1000.0, -1001.0]])
    np.testing.assert_allclose(probs[0], [0.25, 0.75])
    np.testing.assert_allclose(probs[1], [0.25] * 4)
    np.testing.assert_allclose(probs[2], [1 / (1 + math.exp(-1)), math.exp(-1) / (1 + math.exp(-1))])


def test_multiple_choice_grade_with_indices_and_target_scores():
    grades = mm.multiple_choice_grade([[-3.0, -1.0, -2.0], [-0.1, -5.0], [-1.0, -2.0, -0.5]], [1, 1, [0.0, 0.25, 0.5]])
    np.testing.assert_array_equal(grades, [1.0, 0.0, 0.5])


def _bigbench_tie_position(log_likelihoods: list[float]) -> int:
    """BIG-bench's choice, written independently from its source: json_task normalises the model's
    log-probs (``np.array(x) - logsumexp(x)``, absolute_normalization=False) and task_metrics' argmax
    hashes that array to pick among the tied maxima."""
    from scipy.special import logsumexp

    array = np.asarray(list(np.array(log_likelihoods) - logsumexp(log_likelihoods)))
    max_indices = np.arange(len(array))[array == np.max(array)]
    return int(max_indices[int(hashlib.sha256(array.tobytes()).hexdigest(), 16) % len(max_indices)])


@pytest.mark.parametrize(
    "log_probs",
    [
        [-1.0, -1.0],
        [-1.0, -1.0, -1.0],
        [-2.0, -0.5, -0.5, -3.0, -0.5],
        [0.0] * 7,
        [-0.25, -0.25, -9.0, -0.25],
        [-7.5, -7.5, -7.5, -7.5, -7.5, -7.5],
    ],
)
def test_multiple_choice_grade_breaks_ties_as_bigbench(log_probs):
    chosen = _bigbench_tie_position(log_probs)
    for correct in range(len(log_probs)):
        expected = 1.0 if correct == chosen else 0.0
        assert mm.multiple_choice_grade([log_probs], [correct]).tolist() == [expected]


def test_tie_breaking_is_not_always_the_first_maximum():
    """Guard against a plain np.argmax: across these ties BIG-bench picks a later maximum at least once."""
    ties = [[-1.0] * n for n in range(2, 8)] + [[float(-k)] * 3 for k in range(1, 6)]
    positions = [_bigbench_tie_position(row) for row in ties]
    assert any(p > 0 for p in positions)
    for row, position in zip(ties, positions):
        assert mm.multiple_choice_grade([row], [position]).tolist() == [1.0]


def test_multiple_choice_grade_groups_ragged_samples_and_keeps_their_order():
    rows = [[-1.0, -2.0], [-3.0, -0.5, -2.0], [-0.1, -4.0], [-2.0, -2.5, -0.2, -1.0], [-5.0, -0.3, -1.0]]
    targets = [0, 1, 1, [0.0, 0.25, 0.5, 0.75], [1.0, 0.5, 0.0]]
    np.testing.assert_array_equal(mm.multiple_choice_grade(rows, targets), [1.0, 1.0, 0.0, 0.5, 0.5])


def test_multiple_choice_grade_fast_path_equals_lists():
    rng = np.random.default_rng(0)
    rows = np.round(-rng.gamma(3.0, 1.0, size=(500, 4)), 1)  # rounded: many ties
    targets = rng.integers(0, 4, size=500)
    fast = mm.multiple_choice_grade(rows, targets)
    np.testing.assert_array_equal(fast, mm.multiple_choice_grade(rows.tolist(), targets.tolist()))
    one_hot = np.eye(4)[targets]
    np.testing.assert_array_equal(fast, mm.multiple_choice_grade(rows, one_hot))
    np.testing.assert_array_equal(fast, mm.multiple_choice_grade(rows.tolist(), one_hot.tolist()))


def test_brier_score_by_hand():
    np.testing.assert_allclose(
        mm.brier_score([[0.7, 0.2, 0.1], [0.0, 1.0], [0.5, 0.5]], [0, 0, [1.0, 1.0]]),
        [0.3**2 + 0.2**2 + 0.1**2, 2.0, 0.5],
    )


def test_bigbench_brier_score_follows_bigbench_code():
    """BIG-bench's code: softmax of the log-probs; t = s / Σs; Σ t(p − 1)² + (1 − t)p² / total options."""
    log_probs = [[math.log(0.6), math.log(0.4)], [math.log(0.2), math.log(0.3), math.log(0.5)]]
    targets = [0, [0.0, 1.0, 1.0]]  # the second sample has two correct options: t = [0, 0.5, 0.5]
    one_hot = 0.4**2 + 0.4**2
    two_correct = 0.2**2 + (0.5 * 0.7**2 + 0.5 * 0.3**2) + (0.5 * 0.5**2 + 0.5 * 0.5**2)
    assert mm.bigbench_brier_score(log_probs, targets) == pytest.approx((one_hot + two_correct) / 5)
    per_sample = mm.brier_score(mm.choice_probs(log_probs), targets)
    np.testing.assert_allclose(per_sample, [one_hot, two_correct])
    assert mm.bigbench_brier_score(log_probs, targets) == pytest.approx(per_sample.sum() / 5)


@pytest.mark.parametrize(
    ("log_probs", "scores", "bigbench"),
    [([0.0, 0.0, -1.0], [1.0, 1.0, 0.0], 0.17874), ([-2.0, -1.0, -4.0], [0.0, 0.5, 1.0], 0.34969)],
)
def test_bigbench_brier_score_regressions_with_several_correct_and_graded_targets(log_probs, scores, bigbench):
    """Values of BIG-bench 1.0.0's calibration_multiple_choice_brier_score (the old rule gave 0.23052 and 0.49863)."""
    assert mm.bigbench_brier_score([log_probs], [scores]) == pytest.approx(bigbench, abs=5e-6)
    assert mm.brier_score(mm.choice_probs([log_probs]), [scores])[0] == pytest.approx(3 * bigbench, abs=2e-5)


def test_brier_score_with_all_zero_target_scores_is_the_sum_of_squared_probabilities():
    np.testing.assert_allclose(mm.brier_score([[0.25, 0.75]], [[0.0, 0.0]]), [0.25**2 + 0.75**2])


def test_multiple_choice_grade_absolute_normalization_hashes_the_raw_log_probs():
    """Ties are broken by a hash of the compared array: normalised and raw arrays hash differently."""
    rows = [[-1.0] * n for n in range(2, 9)] + [[-2.5] * 3, [-0.5, -0.5, -4.0, -0.5]]
    for row in rows:
        raw = np.asarray(row)
        for flag, compared in ((False, raw - logsumexp(raw)), (True, raw)):
            tied = np.flatnonzero(compared == compared.max())
            chosen = tied[int(hashlib.sha256(compared.tobytes()).hexdigest(), 16) % len(tied)]
            grades = [mm.multiple_choice_grade([row], [k], absolute_normalization=flag)[0] for k in range(len(row))]
            assert grades == [float(k == chosen) for k in range(len(row))]
    assert any(
        mm.multiple_choice_grade([row], [[float(k) for k in range(len(row))]], absolute_normalization=True)[0]
        != mm.multiple_choice_grade([row], [[float(k) for k in range(len(row))]])[0]
        for row in rows
    )


def test_bigbench_brier_score_normalises_unnormalised_loglikelihoods():
    shifted = [[-10.0 + math.log(0.6), -10.0 + math.log(0.4)]]
    assert mm.bigbench_brier_score(shifted, [0]) == pytest.approx((0.4**2 + 0.4**2) / 2)


# --- log-probabilities ---------------------------------------------------------------------------------------------


def test_target_log_prob_and_per_token_prob():
    np.testing.assert_array_equal(mm.target_log_prob([-2.0, 0.0]), [-2.0, 0.0])
    log_p = mm.target_log_prob([math.log(0.008), math.log(0.5)])
    assert isinstance(log_p, np.ndarray)  # one return type
    np.testing.assert_allclose(log_p, [math.log(0.008), math.log(0.5)])
    np.testing.assert_allclose(mm.per_token_prob(log_p, [3, 1]), [0.2, 0.5])
    np.testing.assert_allclose(mm.per_token_prob([math.log(0.008)], [3]), [0.2])


@pytest.mark.parametrize(("params", "p_token"), [(3.5e8, 0.092), (1.3e9, 0.289), (6.7e9, 0.579), (1.75e11, 0.899)])
def test_design_math_model_per_token_probability(params, p_token):
    """docs/design.md reference: L_CE(N) = (N / 2e9) ** -0.5 per token gives these p = exp(-L_CE)."""
    per_token_loss = (params / 2e9) ** -0.5
    target_length = 4
    total_log_likelihood = -per_token_loss * target_length
    assert mm.per_token_prob([total_log_likelihood], [target_length])[0] == pytest.approx(p_token, abs=5e-4)


# --- vision metrics ------------------------------------------------------------------------------------------------


def test_subset_accuracy_by_hand():
    correct = [[1, 1, 1, 0], [1, 0, 1, 1], [1, 1, 1, 1]]
    np.testing.assert_array_equal(mm.subset_accuracy(correct), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(mm.subset_accuracy(correct, k=1), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(mm.subset_accuracy(correct, k=3), [1.0, 0.0, 1.0])


def test_mean_squared_error_and_reconstruction_c_on_images():
    x = np.zeros((2, 2, 2))
    x_hat = np.zeros((2, 2, 2))
    x_hat[0, 0, 0] = 0.4  # MSE 0.16 / 4 = 0.04
    x_hat[1] = 0.1  # MSE 0.01
    np.testing.assert_allclose(mm.mean_squared_error(x, x_hat), [0.04, 0.01])
    np.testing.assert_array_equal(mm.reconstruction_c(x, x_hat, c=0.02), [0.0, 1.0])
    np.testing.assert_array_equal(mm.reconstruction_c(x, x_hat, c=0.04), [0.0, 1.0])  # strictly below c
    np.testing.assert_array_equal(mm.reconstruction_c(x, x_hat, c=0.05), [1.0, 1.0])


# --- emergence score -----------------------------------------------------------------------------------------------


def test_emergence_score_design_formula_by_hand():
    """docs/design.md: sign(argmax − argmin) · (max − min) / sqrt(median of squared steps), x sorted ascending."""
    sizes = [1e9, 1e7, 1e8, 1e10, 1e6]  # unsorted on purpose
    scores = [0.5, 0.1, 0.2, 0.9, 0.0]  # sorted by size: 0.0, 0.1, 0.2, 0.5, 0.9
    # steps 0.1, 0.1, 0.3, 0.4; squared 0.01, 0.01, 0.09, 0.16; median 0.05
    assert mm.emergence_score(sizes, scores) == pytest.approx(0.9 / math.sqrt(0.05))


def test_emergence_score_sign_and_degenerate_curves():
    # steps -0.4, -0.5; squared 0.16, 0.25; median 0.205
    assert mm.emergence_score([1, 2, 3], [0.9, 0.5, 0.0]) == pytest.approx(-0.9 / math.sqrt(0.205))
    assert mm.emergence_score([1, 2], [0.2, 0.2]) == 0.0
    assert mm.emergence_score([1, 2, 3, 4], [0.0, 0.0, 0.0, 1.0]) == math.inf  # a pure jump
    assert mm.emergence_score([1, 2], [0.0, 0.3]) == pytest.approx(1.0)


@pytest.mark.parametrize("scale", [1e308, 1e-308, 2.0**-1074 * 2**20, 1.0])
def test_emergence_score_and_sharpness_near_the_float_limits(scale):
    """Scores near ±1e308 do not overflow max - min; both measures are scale-free, so any scale
    gives the value of the unscaled curve."""
    curve = np.array([-1.0, -1.0, -0.5, 1.0])
    sizes = [1, 2, 3, 4]
    assert mm.emergence_score(sizes, curve * scale) == pytest.approx(mm.emergence_score(sizes, curve), rel=1e-12)
    assert mm.jump_sharpness(sizes, curve * scale) == pytest.approx(mm.jump_sharpness(sizes, curve), rel=1e-12)
    many = np.array([curve, -curve, curve / 2]) * scale
    np.testing.assert_allclose(mm.emergence_score(sizes, many), mm.emergence_score(sizes, many / scale), rtol=1e-12)


def test_emergence_score_of_scores_at_plus_minus_the_float_maximum():
    top = np.finfo(float).max
    assert mm.emergence_score([1, 2, 3, 4], [-top, -top, -top, top]) == math.inf  # a pure jump, not NaN
    assert mm.emergence_score([1, 2, 3], [-top, -top, top]) == pytest.approx(math.sqrt(2))
    assert mm.emergence_score([1, 2, 3], [-1e308, 0.0, 1e308]) == pytest.approx(2.0)
    assert mm.jump_sharpness([1, 2, 3], [-1e308, -1e308, 1e308]) == 1.0


def test_correct_choice_log_prob_by_hand():
    rows = [[math.log(0.2), math.log(0.3), math.log(0.5)], [math.log(0.1), math.log(0.1)]]
    normalised = mm.correct_choice_log_prob(rows, [[1.0, 0.0, 1.0], 1])
    np.testing.assert_allclose(np.exp(normalised), [0.7, 0.5])
    raw = mm.correct_choice_log_prob(rows, [[1.0, 0.0, 1.0], 1], normalise=False)
    np.testing.assert_allclose(np.exp(raw), [0.7, 0.1])


def test_correct_choice_log_prob_counts_only_the_top_scored_choice_of_graded_targets():
    rows = [[math.log(0.5), math.log(0.3), math.log(0.2)]]
    np.testing.assert_allclose(np.exp(mm.correct_choice_log_prob(rows, [[0.0, 0.5, 1.0]])), [0.2])
    np.testing.assert_allclose(np.exp(mm.correct_choice_log_prob(rows, [[1.0, 1.0, 0.0]])), [0.8])


@pytest.mark.parametrize("params", [3.5e8, 1.3e9, 6.7e9, 1.75e11])
def test_per_token_loss_inverts_per_token_prob_on_the_design_math_model(params):
    per_token_loss = (params / 2e9) ** -0.5
    p_token = mm.per_token_prob([-3 * per_token_loss], [3])
    assert mm.per_token_loss(p_token)[0] == pytest.approx(per_token_loss)
