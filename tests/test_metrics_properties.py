"""Properties of the metrics core, checked with hypothesis against plain independent implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import mirage_metrics as mm
from mirage_metrics import metrics, validation

SHORT_TEXT = st.text(alphabet="0123 ab", max_size=8)
# any Unicode text: every code point but surrogates, whitespace and case-changing letters of every script included
UNICODE_TEXT = st.text(max_size=10)
FINITE_LOGLIKELIHOOD = st.floats(min_value=-50.0, max_value=0.0, allow_nan=False)


def score_vector(target, n_choices: int) -> np.ndarray:
    """A target's scores over the choices: one-hot for a choice index, else the given scores."""
    return np.eye(n_choices)[target] if isinstance(target, (int, np.integer)) else np.asarray(target, dtype=float)


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


@given(st.lists(st.tuples(UNICODE_TEXT, UNICODE_TEXT), min_size=1, max_size=20))
def test_token_edit_distance_equals_dp_by_characters(pairs):
    predictions, references = map(list, zip(*pairs))
    expected = [dp_edit_distance(p, r) for p, r in pairs]
    assert mm.token_edit_distance(predictions, references, strip=False).tolist() == expected
    stripped = [dp_edit_distance(p.strip(), r.strip()) for p, r in pairs]
    assert mm.token_edit_distance(predictions, references).tolist() == stripped


@given(UNICODE_TEXT, UNICODE_TEXT)
def test_token_edit_distance_equals_dp_by_whitespace_and_callable(prediction, reference):
    words = mm.token_edit_distance([prediction], [reference], tokenizer="whitespace")[0]
    assert words == dp_edit_distance(prediction.split(), reference.split())
    pairs_of_chars = mm.token_edit_distance(
        [prediction], [reference], tokenizer=lambda s: list(zip(s, s[1:])), strip=False
    )[0]
    assert pairs_of_chars == dp_edit_distance(
        list(zip(prediction, prediction[1:])), list(zip(reference, reference[1:]))
    )


@pytest.fixture(scope="module")
def gpt2_tokenizer(tiny_gpt2):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_gpt2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet="0123456789 +=QAWhatisplu?", max_size=24), st.text(alphabet="0123456789 abc", max_size=24))
def test_token_edit_distance_equals_dp_on_hugging_face_token_ids(gpt2_tokenizer, prediction, reference):
    ids = [gpt2_tokenizer(t, add_special_tokens=False)["input_ids"] for t in (prediction, reference)]
    expected = dp_edit_distance(*ids)
    assert mm.token_edit_distance([prediction], [reference], tokenizer=gpt2_tokenizer, strip=False)[0] == expected
    backend = gpt2_tokenizer.backend_tokenizer  # a `tokenizers.Tokenizer`
    assert mm.token_edit_distance([prediction], [reference], tokenizer=backend, strip=False)[0] == expected


@given(UNICODE_TEXT, UNICODE_TEXT, UNICODE_TEXT)
def test_token_edit_distance_is_a_metric(a, b, c):
    def d(x, y):
        return int(mm.token_edit_distance([x], [y], strip=False)[0])

    assert d(a, a) == 0
    assert (d(a, b) == 0) == (a == b)
    assert d(a, b) == d(b, a)
    assert d(a, c) <= d(a, b) + d(b, c)
    assert abs(len(a) - len(b)) <= d(a, b) <= max(len(a), len(b))


@st.composite
def near_pairs(draw):
    """A (prediction, reference) pair of any Unicode text, often the same answer up to whitespace or case."""
    reference = draw(UNICODE_TEXT)
    padding = st.text(alphabet=" \t\n\r\x0b\x0c\xa0\u2003\u3000", max_size=3)
    prediction = draw(
        st.one_of(
            UNICODE_TEXT,
            st.just(reference),
            st.tuples(padding, padding).map(lambda pad: pad[0] + reference + pad[1]),
            st.sampled_from([reference.upper(), reference.lower(), reference.swapcase()]),
        )
    )
    return prediction, reference


@settings(max_examples=300)
@given(
    st.lists(near_pairs(), min_size=1, max_size=10),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["char", "whitespace"]),
)
def test_exact_match_implies_zero_edit_distance_for_the_same_options(pairs, strip, ignore_case, tokenizer):
    """One normalisation rule: with the same options, exact match 1 implies edit distance 0 (and for characters,
    distance 0 implies exact match), over the full Unicode range; the default options agree too."""
    predictions, references = map(list, zip(*pairs))
    options = {"strip": strip, "ignore_case": ignore_case}
    matches = mm.exact_match(predictions, references, **options)
    distances = mm.token_edit_distance(predictions, references, tokenizer=tokenizer, **options)
    assert np.all(distances[matches == 1.0] == 0)
    if tokenizer == "char":
        np.testing.assert_array_equal(matches, (distances == 0).astype(float))
    by_default = mm.token_edit_distance(predictions, references)
    assert np.all(by_default[mm.exact_match(predictions, references) == 1.0] == 0)
    prefixes = mm.prefix_metrics(predictions, references, lengths=(1, 3), **options)
    for length in (1, 3):
        prefix_match = prefixes[f"exact_match_L{length}"]
        assert np.all(prefixes[f"token_edit_distance_L{length}"][prefix_match == 1.0] == 0)


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
        scores = score_vector(target, len(row))
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


# --- Brier on arbitrary probability vectors --------------------------------------------------------------------------


@st.composite
def probability_rows_and_targets(draw):
    """Arbitrary probability vectors (any non-negative weights, normalised) with indices or non-negative scores."""
    rows, targets = [], []
    for _ in range(draw(st.integers(1, 6))):
        n_choices = draw(st.integers(1, 8))
        weights = np.array(draw(st.lists(st.floats(0.0, 1e6), min_size=n_choices, max_size=n_choices)))
        assume(weights.sum() > 0)
        rows.append(weights / weights.sum())
        if draw(st.booleans()):
            targets.append(draw(st.integers(0, n_choices - 1)))
        else:
            targets.append(draw(st.lists(st.floats(0.0, 1e3), min_size=n_choices, max_size=n_choices)))
    return rows, targets


@settings(max_examples=300)
@given(probability_rows_and_targets())
def test_brier_score_on_arbitrary_probability_vectors(rows_and_targets):
    """BIG-bench's terms t(p - 1)^2 + (1 - t)p^2 equal sum (p - t)^2 + t(1 - t), in [0, 2] for any p and scores."""
    rows, targets = rows_and_targets
    for p, target, score in zip(rows, targets, mm.brier_score(rows, targets)):
        s = score_vector(target, len(p))
        t = s / s.sum() if s.sum() > 0 else np.zeros_like(s)
        assert score == pytest.approx(float(np.sum((p - t) ** 2 + t * (1 - t))), abs=1e-9)
        assert -1e-12 <= score <= 2.0 + 1e-9
        if isinstance(target, int):
            assert score == pytest.approx(float(np.sum((p - s) ** 2)), abs=1e-9)


# --- multiple choice grade, vectorised, against the per-row function it replaced -----------------------------------


def per_row_multiple_choice_grade(rows, targets, absolute_normalization=False) -> list[float]:
    """The per-row multiple_choice_grade the vectorised one replaced (BIG-bench's json_task and argmax), kept as
    the reference: score each row (x - logsumexp(x), or raw x), hash the float64 array among tied maxima."""
    import hashlib

    from scipy.special import logsumexp

    grades = []
    for row, target in zip(rows, targets):
        row = np.asarray(row, dtype=np.float64)
        scores = score_vector(target, len(row))
        scored = row if absolute_normalization else row - logsumexp(row)
        tied = np.flatnonzero(scored == scored.max())
        grades.append(float(scores[tied[int(hashlib.sha256(scored.tobytes()).hexdigest(), 16) % len(tied)]]))
    return grades


# exact ties, values that differ by less than the rounding of x - logsumexp(x) (distinct raw, tied normalised),
# ordinary and extreme log-probabilities (<= 0)
TIE_PRONE = st.one_of(
    st.sampled_from([-0.5, -1.0, -2.25, -7.0, 0.0, -1e-20, -5e-324, -1.0 - 2.0**-52, -1.0 + 2.0**-53, -1e-16]),
    st.floats(-1e4, 0.0),
    st.floats(-1e300, 0.0),
)


@st.composite
def choice_samples(draw, rectangular: bool):
    """Samples with tie-heavy log-likelihoods; targets are indices or distinct scores, so a grade names its choice."""
    n_samples = draw(st.integers(1, 12))
    fixed = draw(st.integers(1, 6))
    rows, targets = [], []
    for _ in range(n_samples):
        n_choices = fixed if rectangular else draw(st.integers(1, 6))
        rows.append(draw(st.lists(TIE_PRONE, min_size=n_choices, max_size=n_choices)))
        targets.append(draw(st.integers(0, n_choices - 1)) if draw(st.booleans()) else list(np.arange(n_choices) / 8))
    return rows, targets


@settings(max_examples=300)
@given(choice_samples(rectangular=False), st.booleans())
def test_multiple_choice_grade_is_bit_identical_to_the_per_row_function(rows_and_targets, absolute_normalization):
    rows, targets = rows_and_targets
    expected = per_row_multiple_choice_grade(rows, targets, absolute_normalization)
    got = mm.multiple_choice_grade(rows, targets, absolute_normalization=absolute_normalization)
    assert got.tolist() == expected


@settings(max_examples=300)
@given(choice_samples(rectangular=True), st.booleans(), st.booleans())
def test_multiple_choice_grade_on_arrays_is_bit_identical_to_the_per_row_function(
    rows_and_targets, absolute_normalization, index_targets
):
    """Rectangular numpy input takes the fast path: an index vector or a score matrix as targets."""
    rows, targets = rows_and_targets
    n_choices = len(rows[0])
    targets = (
        [t if isinstance(t, int) else int(np.argmax(t)) for t in targets]
        if index_targets
        else [list(np.arange(n_choices) / 8) for _ in rows]
    )
    expected = per_row_multiple_choice_grade(rows, targets, absolute_normalization)
    got = mm.multiple_choice_grade(np.array(rows), np.array(targets), absolute_normalization=absolute_normalization)
    assert got.tolist() == expected


# --- Brier scores and prefix metrics, vectorised, against the per-row functions they replaced ---------------------


def old_brier_terms(probs: np.ndarray, scores: np.ndarray) -> float:
    """The per-row Brier sum that brier_score replaced: t = s / sum(s) (zeros for 0), then
    sum(t(p - 1)^2 + (1 - t)p^2) added by Python's sum."""
    total = sum(scores.tolist())
    t = np.zeros_like(scores) if total == 0 else scores / total
    return sum((t * (probs - 1) ** 2 + (1 - t) * probs**2).tolist())


def old_softmax(row: np.ndarray) -> np.ndarray:
    shifted = np.exp(row - row.max())
    return shifted / shifted.sum()


def old_brier_score(probs, targets) -> np.ndarray:
    rows = validation.check_probability_rows(probs, "probs")
    scores = validation.check_targets(targets, [len(r) for r in rows])
    return np.array([old_brier_terms(p, s) for p, s in zip(rows, scores)], dtype=float)


def old_bigbench_brier_score(loglikelihoods, targets) -> float:
    rows = validation.check_ragged_rows(loglikelihoods, "loglikelihoods")
    scores = validation.check_targets(targets, [len(r) for r in rows])
    total = sum(old_brier_terms(old_softmax(row), s) for row, s in zip(rows, scores))
    return total / sum(len(r) for r in rows)


def old_prefix_metrics(predictions, references, lengths, strip=True, ignore_case=False) -> dict:
    """The per-length prefix_metrics that one dynamic programme replaced: slice, then exact match and edit distance."""
    predictions = [p.strip() if strip else p for p in predictions]
    references = [r.strip() if strip else r for r in references]
    if ignore_case:
        predictions, references = [p.lower() for p in predictions], [r.lower() for r in references]
    ref_lengths = np.array([len(r) for r in references])
    out = {}
    for n in lengths:
        heads_p, heads_r = [p[:n] for p in predictions], [r[:n] for r in references]
        match = mm.exact_match(heads_p, heads_r, strip=False)
        distance = mm.token_edit_distance(heads_p, heads_r, strip=False).astype(float)
        match[ref_lengths < n] = np.nan
        distance[ref_lengths < n] = np.nan
        out[f"exact_match_L{n}"], out[f"token_edit_distance_L{n}"] = match, distance
    return out


SCORE = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 1.0, 0.25, 3.0]), st.floats(0.0, 1e3), st.floats(0.0, 1e300))


@st.composite
def brier_inputs(draw, rectangular: bool):
    """Log-likelihood rows (1-12 choices, ragged or not) with index, one-hot, several-correct, graded or all-zero
    targets, so that sums of more than 8 terms (numpy's pairwise blocks) come up too."""
    n_samples = draw(st.integers(1, 10))
    fixed = draw(st.integers(1, 12))
    rows, targets = [], []
    for _ in range(n_samples):
        n = fixed if rectangular else draw(st.integers(1, 12))
        rows.append(draw(st.lists(st.one_of(TIE_PRONE, st.floats(-60.0, 0.0)), min_size=n, max_size=n)))
        kind = draw(st.sampled_from(["index", "scores", "zeros"]))
        if kind == "index" and not rectangular:
            targets.append(draw(st.integers(0, n - 1)))
        elif kind == "zeros":
            targets.append([0.0] * n)
        else:
            targets.append(draw(st.lists(SCORE, min_size=n, max_size=n)))
    return rows, targets


@settings(max_examples=400, deadline=None)
@given(brier_inputs(rectangular=False))
def test_brier_scores_are_bit_identical_to_the_per_row_functions(rows_and_targets):
    rows, targets = rows_and_targets
    probs = [old_softmax(np.array(row)) for row in rows]
    assert np.array_equal(mm.brier_score(probs, targets), old_brier_score(probs, targets))
    assert mm.bigbench_brier_score(rows, targets) == old_bigbench_brier_score(rows, targets)


@settings(max_examples=400, deadline=None)
@given(brier_inputs(rectangular=True), st.booleans())
def test_brier_scores_on_arrays_are_bit_identical_to_the_per_row_functions(rows_and_targets, index_targets):
    rows, targets = rows_and_targets
    if index_targets:
        targets = [int(np.argmax(t)) for t in targets]
    probs = np.array([old_softmax(np.array(row)) for row in rows])
    assert np.array_equal(mm.brier_score(probs, np.array(targets)), old_brier_score(probs, targets))
    assert mm.bigbench_brier_score(np.array(rows), np.array(targets)) == old_bigbench_brier_score(rows, targets)


def test_brier_scores_on_many_random_samples_are_bit_identical_to_the_per_row_functions():
    rng = np.random.default_rng(7)
    for n_choices in (1, 2, 4, 7, 8, 9, 16, 17, 40):
        loglikelihoods = np.round(-rng.gamma(2.0, 2.0, size=(3000, n_choices)), int(rng.integers(1, 12)))
        indices = rng.integers(0, n_choices, size=3000)
        graded = rng.choice([0.0, 0.25, 0.5, 1.0], size=(3000, n_choices))
        graded[::5] = 0.0  # zero-sum targets
        probs = np.array([old_softmax(row) for row in loglikelihoods])
        for targets in (indices, graded):
            expected = old_brier_score(probs, list(targets))
            assert np.array_equal(mm.brier_score(probs, targets), expected)
            assert np.array_equal(mm.brier_score(np.asfortranarray(probs), targets), expected)  # column-major
            expected = old_bigbench_brier_score(loglikelihoods, list(targets))
            assert mm.bigbench_brier_score(loglikelihoods, targets) == expected
            assert mm.bigbench_brier_score(np.asfortranarray(loglikelihoods), targets) == expected
    ragged = [row[: rng.integers(1, 10)] for row in np.round(-rng.gamma(2.0, 2.0, size=(3000, 9)), 3)]
    targets = [int(rng.integers(0, len(row))) if k % 2 else list(rng.random(len(row))) for k, row in enumerate(ragged)]
    probs = [old_softmax(row) for row in ragged]
    assert np.array_equal(mm.brier_score(probs, targets), old_brier_score(probs, targets))
    assert mm.bigbench_brier_score(ragged, targets) == old_bigbench_brier_score(ragged, targets)


def neumaier_sum(values: list[float]) -> float:
    """Python 3.12's sum() of floats, written out: Neumaier's compensated sum, started from the int 0."""
    total, compensation = 0 + values[0], 0.0
    for x in values[1:]:
        t = total + x
        compensation += (total - t) + x if abs(total) >= abs(x) else (x - t) + total
        total = t
    return total + compensation if compensation and math.isfinite(compensation) else total


@settings(max_examples=300)
@given(
    st.lists(st.lists(st.floats(0.0, 1e300), min_size=1, max_size=12), min_size=1, max_size=6).filter(
        lambda rows: len({len(r) for r in rows}) == 1
    )
)
def test_row_sums_add_as_python_sum_does_on_every_python(rows):
    matrix = np.array(rows)
    assert metrics._python_row_sums(matrix).tolist() == [sum(row) for row in rows]  # this interpreter
    assert metrics._python_row_sums(matrix, compensated=True).tolist() == [neumaier_sum(row) for row in rows]
    assert metrics._python_row_sums(matrix, compensated=False).tolist() == [float(np.cumsum(row)[-1]) for row in rows]


PREFIX_TEXT = st.one_of(
    st.text(alphabet="0123456789", max_size=9), st.text(max_size=9), st.text(alphabet="ab\x00 ", max_size=9)
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(PREFIX_TEXT, PREFIX_TEXT), min_size=1, max_size=12),
    st.lists(st.integers(1, 12), min_size=1, max_size=5),
    st.booleans(),
    st.booleans(),
)
def test_prefix_metrics_equal_the_per_length_function(pairs, lengths, strip, ignore_case):
    predictions, references = map(list, zip(*pairs))
    expected = old_prefix_metrics(predictions, references, lengths, strip, ignore_case)
    got = mm.prefix_metrics(predictions, references, lengths, strip=strip, ignore_case=ignore_case)
    assert list(got) == list(expected)
    for key in expected:
        assert np.array_equal(got[key], expected[key], equal_nan=True), key


def test_prefix_metrics_on_many_arithmetic_answers_and_long_prefixes_equal_the_per_length_function():
    rng = np.random.default_rng(3)
    references = rng.integers(0, 10**9, size=4000).astype(str).tolist()
    predictions = [r if k % 3 == 0 else str(int(r) + int(rng.integers(-999, 1000))) for k, r in enumerate(references)]
    for k in range(0, len(predictions), 7):
        predictions[k] = ["", " ", "x" * 80, "1" * 300, references[k][:-1]][k % 5]
    for k in range(0, len(references), 11):
        references[k] = "7" * 250 if k % 2 else "x" * 70
    for lengths in ((1, 2, 3, 4, 5), (10, 3, 3), (1, 40), (200,), tuple(range(1, 70))):
        expected = old_prefix_metrics(predictions, references, lengths)
        got = mm.prefix_metrics(predictions, references, lengths)
        for key in expected:
            assert np.array_equal(got[key], expected[key], equal_nan=True), key
