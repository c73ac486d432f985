"""Properties of the metrics core, checked with hypothesis against plain independent implementations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import mirage_metrics as mm

SHORT_TEXT = st.text(alphabet="0123 ab", max_size=8)
FINITE_LOGLIKELIHOOD = st.floats(min_value=-50.0, max_value=0.0, allow_nan=False)


def dp_edit_distance(left, right) -> int:
    """Textbook Levenshtein dynamic programme over the full (len+1) × (len+1) table."""
    table = [[0] * (len(right) + 1) for _ in range(len(left) + 1)]
    for i in range(len(left) + 1):
        table[i][0] = i
    for j in range(len(right) + 1):
        table[0][j] = j
    for i in range(1, len(left) + 1):
        for j in range(1, len(right) + 1):
            substitution = table[i - 1][j - 1] + (left[i - 1] != right[j - 1])
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, substitution)
    return table[-1][-1]


# --- token edit distance is a metric and equals the DP --------------------------------------------------------------


@given(st.lists(st.tuples(SHORT_TEXT, SHORT_TEXT), min_size=1, max_size=20))
def test_token_edit_distance_equals_dp_by_characters(pairs):
    predictions, references = map(list, zip(*pairs))
    expected = [dp_edit_distance(p, r) for p, r in pairs]
    assert mm.token_edit_distance(predictions, references).tolist() == expected


@given(SHORT_TEXT, SHORT_TEXT)
def test_token_edit_distance_equals_dp_by_whitespace_and_callable(prediction, reference):
    words = mm.token_edit_distance([prediction], [reference], tokenizer="whitespace")[0]
    assert words == dp_edit_distance(prediction.split(), reference.split())
    pairs_of_chars = mm.token_edit_distance([prediction], [reference], tokenizer=lambda s: list(zip(s, s[1:])))[0]
    assert pairs_of_chars == dp_edit_distance(list(zip(prediction, prediction[1:])), list(zip(reference, reference[1:])))


@pytest.fixture(scope="module")
def gpt2_tokenizer(tiny_gpt2):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_gpt2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet="0123456789 +=QAWhatisplu?", max_size=24), st.text(alphabet="0123456789 abc", max_size=24))
def test_token_edit_distance_equals_dp_on_hugging_face_token_ids(gpt2_tokenizer, prediction, reference):
    ids = [gpt2_tokenizer(t, add_special_tokens=False)["input_ids"] for t in (prediction, reference)]
    expected = dp_edit_distance(*ids)
    assert mm.token_edit_distance([prediction], [reference], tokenizer=gpt2_tokenizer)[0] == expected
    backend = gpt2_tokenizer.backend_tokenizer  # a `tokenizers.Tokenizer`
    assert mm.token_edit_distance([prediction], [reference], tokenizer=backend)[0] == expected


@given(SHORT_TEXT, SHORT_TEXT, SHORT_TEXT)
def test_token_edit_distance_is_a_metric(a, b, c):
    def d(x, y):
        return int(mm.token_edit_distance([x], [y])[0])

    assert d(a, a) == 0
    assert (d(a, b) == 0) == (a == b)
    assert d(a, b) == d(b, a)
    assert d(a, c) <= d(a, b) + d(b, c)
    assert abs(len(a) - len(b)) <= d(a, b) <= max(len(a), len(b))


@given(st.lists(st.tuples(SHORT_TEXT, SHORT_TEXT), min_size=1, max_size=10))
def test_exact_match_is_zero_edit_distance_without_stripping(pairs):
    predictions, references = map(list, zip(*pairs))
    matches = mm.exact_match(predictions, references, strip=False)
    distances = mm.token_edit_distance(predictions, references)
    np.testing.assert_array_equal(matches, (distances == 0).astype(float))


# --- Brier scores --------------------------------------------------------------------------------------------------


@st.composite
def choice_rows(draw, max_samples=8, indices_only=False):
    """Ragged log-likelihood rows (1-6 choices each) with targets as indices or BIG-bench score lists."""
    n_samples = draw(st.integers(1, max_samples))
    rows, targets = [], []
    for _ in range(n_samples):
        n_choices = draw(st.integers(1, 6))
        rows.append(draw(st.lists(FINITE_LOGLIKELIHOOD, min_size=n_choices, max_size=n_choices)))
        if indices_only or draw(st.booleans()):
            targets.append(draw(st.integers(0, n_choices - 1)))
        else:
            targets.append(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=n_choices, max_size=n_choices)))
    return rows, targets


@given(choice_rows(indices_only=True))
def test_brier_score_is_between_0_and_2(rows_and_targets):
    """With one correct choice (BIG-bench score lists may mark several, each with y = 1, allowing more)."""
    rows, targets = rows_and_targets
    scores = mm.brier_score(mm.choice_probs(rows), targets)
    assert np.all(scores >= 0.0) and np.all(scores <= 2.0 + 1e-12)


@given(st.integers(1, 6), st.data())
def test_brier_score_is_zero_only_for_a_perfect_one_hot(n_choices, data):
    correct = data.draw(st.integers(0, n_choices - 1))
    one_hot = np.eye(n_choices)[correct]
    assert mm.brier_score([one_hot], [correct])[0] == 0.0
    weights = data.draw(st.lists(st.integers(0, 10), min_size=n_choices, max_size=n_choices))
    assume(sum(weights) > 0)
    probs = np.array(weights) / sum(weights)
    assume(not np.array_equal(probs, one_hot))
    assert mm.brier_score([probs], [correct])[0] > 0.0


def bigbench_brier_reference(log_probs: list[list[float]], targets: list) -> float:
    """BIG-bench's calibration_multiple_choice_brier_score as its code computes it, written with plain loops:
    target scores normalised to t = s / sum(s), each option t(p - 1)^2 + (1 - t)p^2, averaged over all options."""
    squared_errors = []
    for row, target in zip(log_probs, targets):
        scores = [1.0 if k == target else 0.0 for k in range(len(row))] if isinstance(target, int) else target
        top = max(row)
        weights = [np.exp(v - top) for v in row]
        probs = [w / sum(weights) for w in weights]
        t = [0.0] * len(scores) if sum(scores) == 0 else [s / sum(scores) for s in scores]
        squared_errors.extend(ti * (p - 1) ** 2 + (1 - ti) * p**2 for p, ti in zip(probs, t))
    return float(np.mean(squared_errors))


@given(choice_rows(max_samples=12))
def test_bigbench_brier_score_equals_an_independent_implementation(rows_and_targets):
    rows, targets = rows_and_targets
    assert mm.bigbench_brier_score(rows, targets) == pytest.approx(bigbench_brier_reference(rows, targets), abs=1e-12)


@given(choice_rows())
def test_multiple_choice_grade_picks_a_most_likely_choice(rows_and_targets):
    """Log-likelihoods in [-50, 0]: one ulp of the normalised values is far below 1e-12."""
    rows, targets = rows_and_targets
    grades = mm.multiple_choice_grade(rows, targets)
    for row, target, grade in zip(rows, targets, grades):
        scores = np.eye(len(row))[target] if isinstance(target, int) else np.array(target)
        # BIG-bench compares normalised log-probs, so choices within rounding of the maximum tie
        best = [scores[k] for k in range(len(row)) if row[k] >= max(row) - 1e-12]
        assert grade in best


# --- emergence score -----------------------------------------------------------------------------------------------

# multiples of 1/8 and 1/4: shifting and differencing them is exact in binary floating point
CURVE = st.lists(st.integers(-100, 100).map(lambda k: k / 8), min_size=2, max_size=10)
SHIFT = st.integers(-40, 40).map(lambda k: k / 4)


@given(CURVE, SHIFT)
def test_emergence_score_is_invariant_to_shifting_scores(scores, shift):
    sizes = np.logspace(6, 6 + len(scores) - 1, len(scores))
    assert mm.emergence_score(sizes, np.array(scores) + shift) == mm.emergence_score(sizes, scores)


@given(CURVE)
def test_emergence_score_flips_sign_when_the_curve_is_reversed(scores):
    """Where the maximum and the minimum are unique (ties go to the first, as np.argmax does)."""
    assume(scores.count(max(scores)) == 1 and scores.count(min(scores)) == 1)
    sizes = np.arange(1, len(scores) + 1) * 1e8
    forward = mm.emergence_score(sizes, scores)
    backward = mm.emergence_score(sizes, scores[::-1])
    assert backward == -forward


@given(CURVE, st.permutations(range(10)))
def test_emergence_score_does_not_depend_on_the_order_of_models(scores, order):
    sizes = np.arange(1, len(scores) + 1) * 1e8
    permutation = [i for i in order if i < len(scores)]
    permuted = mm.emergence_score(sizes[permutation], np.array(scores)[permutation])
    assert permuted == mm.emergence_score(sizes, scores)


def bigbench_multiple_choice_grade_reference(log_likelihoods: list[float], scores: list[float]) -> float:
    """BIG-bench: json_task normalises (x - logsumexp(x)); task_metrics' argmax hashes the array among ties."""
    import hashlib

    from scipy.special import logsumexp

    log_prob = np.asarray(list(np.array(log_likelihoods) - logsumexp(log_likelihoods)))
    max_indices = np.arange(len(log_prob))[log_prob == np.max(log_prob)]
    chosen = max_indices[int(hashlib.sha256(log_prob.tobytes()).hexdigest(), 16) % len(max_indices)]
    return scores[chosen]


@given(st.lists(st.lists(st.sampled_from([-0.5, -1.0, -2.25, -7.0]), min_size=1, max_size=8), min_size=1, max_size=8))
def test_multiple_choice_grade_equals_bigbench_on_tie_heavy_inputs(rows):
    scores = [list(np.linspace(0.0, 1.0, len(row))) for row in rows]
    expected = [bigbench_multiple_choice_grade_reference(row, score) for row, score in zip(rows, scores)]
    assert mm.multiple_choice_grade(rows, scores).tolist() == expected
