"""The functional core: every per-sample metric of Schaeffer, Miranda & Koyejo (2023), defined once.

Functions take plain Python/numpy inputs and return numpy arrays with one value
per sample (no hidden averaging); aggregates, confidence intervals and scaling
analyses live elsewhere and call these. Inputs are validated at the boundary and
bad ones raise ``ValueError`` naming the argument (and the position of the bad
value): booleans and strings (numeric ones too) where numbers belong, NaN and inf,
ragged rows, log-likelihoods above 0, negative target scores, lengths that are not
whole numbers from 1 to 2**53 - 1, model sizes that are not positive, and options
(``strip``, ``ignore_case``, ``absolute_normalization``, ``normalise``) other than
True or False.

Discontinuous metrics: :func:`exact_match`, :func:`multiple_choice_grade`,
:func:`subset_accuracy`, :func:`reconstruction_c`.
Continuous metrics: :func:`token_edit_distance`, :func:`brier_score`,
:func:`target_log_prob`, :func:`per_token_prob`, :func:`mean_squared_error`.

One normalisation rule for the text metrics: :func:`exact_match`,
:func:`token_edit_distance` and :func:`prefix_metrics` take the same keywords,
``strip=True`` (surrounding whitespace removed, ``str.strip``) and
``ignore_case=False`` (``str.lower`` when true), applied to predictions and
references alike before comparing. So with the same options an exact match
always has edit distance 0.

>>> exact_match(["42", "41"], ["42", "42"])
array([1., 0.])
>>> token_edit_distance(["4201", "41"], ["4211", "42"])
array([1, 1])
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from typing import Any, Callable, Hashable, Sequence, Union

import numpy as np
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cpdist
from scipy.special import logsumexp

from mirage_metrics.metric_spec import CONTINUOUS, DISCONTINUOUS, metric_spec
from mirage_metrics.task_forms import ARITH_GEN, ARITH_LL, BIGBENCH_GEN, BIGBENCH_LL, BIGBENCH_MC
from mirage_metrics.validation import (
    check_choice_matrix,
    check_finite_vector,
    check_flag,
    check_log_prob_rows,
    check_log_probs,
    check_probability_rows,
    check_rectangular,
    check_same_length,
    check_strings,
    check_target_matrix,
    check_targets,
    check_whole_numbers,
)

__all__ = [
    "exact_match",
    "token_edit_distance",
    "prefix_metrics",
    "choice_probs",
    "multiple_choice_grade",
    "brier_score",
    "bigbench_brier_score",
    "correct_choice_log_prob",
    "target_log_prob",
    "per_token_prob",
    "exact_answer_log_prob",
    "subset_accuracy",
    "mean_squared_error",
    "reconstruction_c",
    "per_token_loss",
]

Tokenizer = Union[str, Callable[[str], Sequence[Hashable]], Any]


def _normalise(texts: list[str], strip: bool, ignore_case: bool) -> list[str]:
    if strip:
        texts = list(map(str.strip, texts))
    if ignore_case:
        texts = list(map(str.lower, texts))
    return texts


def _check_pairs(predictions, references, strip: bool, ignore_case: bool) -> tuple[list[str], list[str]]:
    """Validated predictions and references, both normalised by the module's one rule."""
    predictions = check_strings(predictions, "predictions")
    references = check_strings(references, "references")
    check_same_length(predictions, references, "predictions", "references")
    strip, ignore_case = check_flag(strip, "strip"), check_flag(ignore_case, "ignore_case")
    return _normalise(predictions, strip, ignore_case), _normalise(references, strip, ignore_case)


@metric_spec(
    "exact_str_match_ignore_case",
    True,
    DISCONTINUOUS,
    0,
    1,
    label="exact string match (any case)",
    binary=True,
    produced_by=(BIGBENCH_GEN,),
)
@metric_spec(
    "exact_str_match_stripped",
    True,
    DISCONTINUOUS,
    0,
    1,
    label="exact string match (stripped)",
    binary=True,
    produced_by=(BIGBENCH_GEN,),
)
@metric_spec(
    "exact_str_match", True, DISCONTINUOUS, 0, 1, label="exact string match", binary=True, produced_by=(BIGBENCH_GEN,)
)
@metric_spec(
    "exact_match",
    True,
    DISCONTINUOUS,
    0,
    1,
    by_length=True,
    binary=True,
    produced_by=(ARITH_GEN,),
    mirage_column="accuracy",
)
def exact_match(predictions, references, *, strip: bool = True, ignore_case: bool = False) -> np.ndarray:
    """1.0 where the prediction equals the reference, else 0.0 (normalised as the module says).

    >>> exact_match([" 42\\n", "Paris"], ["42", "paris"], ignore_case=True)
    array([1., 1.])
    >>> exact_match(["", "7"], ["0", "7"])
    array([0., 1.])
    """
    predictions, references = _check_pairs(predictions, references, strip, ignore_case)
    return np.fromiter((p == r for p, r in zip(predictions, references)), dtype=float, count=len(references))


def _tokenize(texts: list[str], tokenizer: Tokenizer) -> Iterable:
    if isinstance(tokenizer, str):
        if tokenizer == "char":
            return texts
        if tokenizer == "whitespace":
            return [t.split() for t in texts]
        raise ValueError(
            f"tokenizer={tokenizer!r} is not known; use 'char', 'whitespace', a callable or a Hugging Face tokenizer"
        )
    if hasattr(tokenizer, "encode_batch"):  # a `tokenizers.Tokenizer`
        return [encoding.ids for encoding in tokenizer.encode_batch(texts, add_special_tokens=False)]
    if hasattr(tokenizer, "batch_decode") and callable(tokenizer):  # a transformers tokenizer
        return tokenizer(texts, add_special_tokens=False)["input_ids"]
    if callable(tokenizer):
        return [_tokens(tokenizer, t) for t in texts]
    raise ValueError(
        f"tokenizer must be 'char', 'whitespace', a callable or a Hugging Face tokenizer, got {type(tokenizer).__name__}"
    )


def _tokens(tokenizer: Callable[[str], Sequence[Hashable]], text: str) -> list:
    tokens = tokenizer(text)
    if isinstance(tokens, Iterable):
        return list(tokens)
    raise ValueError(
        f"tokenizer returned {type(tokens).__name__} for {text!r}; it must return a sequence of hashable tokens"
    )


@metric_spec("token_edit_distance_words", False, CONTINUOUS, 0, label="word edit distance", produced_by=(BIGBENCH_GEN,))
@metric_spec(
    "token_edit_distance",
    False,
    CONTINUOUS,
    0,
    by_length=True,
    produced_by=(ARITH_GEN, BIGBENCH_GEN),
    mirage_column="token_edit_distance",
)
def token_edit_distance(
    predictions, references, *, tokenizer: Tokenizer = "char", strip: bool = True, ignore_case: bool = False
) -> np.ndarray:
    """Levenshtein distance between token sequences: substitutions + insertions + deletions.

    Not normalised, as in the paper. Texts are normalised first as by
    :func:`exact_match` (same ``strip`` and ``ignore_case``), so an exact match
    has distance 0; pass ``strip=False`` to count surrounding whitespace. ``tokenizer`` is ``"char"`` (each character a
    token; digits for arithmetic), ``"whitespace"``, a callable ``str -> sequence of
    hashable tokens``, or a Hugging Face tokenizer (its token ids are compared).
    Computed by rapidfuzz's C++ Levenshtein (the engine of the ``Levenshtein`` package).

    >>> token_edit_distance(["1234", "", "12"], ["1243", "12", "12"])
    array([2, 2, 0])
    >>> token_edit_distance(["the cat sat"], ["the dog sat"], tokenizer="whitespace")
    array([1])
    >>> token_edit_distance(["a-b"], ["a-c-d"], tokenizer=lambda s: s.split("-"))
    array([2])
    >>> token_edit_distance([" 42"], ["42"]), token_edit_distance([" 42"], ["42"], strip=False)
    (array([0]), array([1]))
    """
    predictions, references = _check_pairs(predictions, references, strip, ignore_case)
    left = _tokenize(predictions, tokenizer)
    right = _tokenize(references, tokenizer)
    try:
        return cpdist(left, right, scorer=Levenshtein.distance, dtype=np.int64, workers=1).astype(int)
    except TypeError as error:  # the inputs are validated: only a tokenizer's tokens can be unhashable
        raise ValueError(f"tokenizer gave unhashable tokens ({error}); it must return hashable tokens") from None


def prefix_metrics(
    predictions, references, lengths: Sequence[int] = (1, 2, 3, 4, 5), *, strip: bool = True, ignore_case: bool = False
) -> dict:
    """Exact match and edit distance on the first ``L`` characters, for each ``L`` in ``lengths``.

    The paper's "Target Str Len" (its Fig 3): the first L characters of the
    prediction against the first L of the reference, both normalised first as by
    :func:`exact_match` (same ``strip`` and ``ignore_case``). Where the
    reference is shorter than L the value is NaN. Returns a dict of float arrays
    keyed ``exact_match_L{L}`` and ``token_edit_distance_L{L}``; the exact match is
    1 where the edit distance is 0. The distances of all lengths come from one
    Levenshtein table per block of samples, so five lengths cost about one
    :func:`token_edit_distance` call.

    >>> out = prefix_metrics(["1239", "7"], ["1234", "8"], lengths=(1, 4))
    >>> out["exact_match_L1"], out["exact_match_L4"]
    (array([1., 0.]), array([ 0., nan]))
    >>> out["token_edit_distance_L4"]
    array([ 1., nan])
    """
    predictions, references = _check_pairs(predictions, references, strip, ignore_case)
    lengths = check_whole_numbers(lengths, "lengths").tolist()
    distances = _prefix_edit_distances(predictions, references, sorted(set(lengths)))
    out = {}
    for n in lengths:
        out[f"exact_match_L{n}"] = np.where(np.isnan(distances[n]), np.nan, distances[n] == 0)
        out[f"token_edit_distance_L{n}"] = distances[n]
    return out


_TABLE_BLOCK = 1 << 15  # samples per table: its columns stay in the CPU cache
_CELL_COST = 1 / 200  # a table cell costs about 1/200 of a rapidfuzz call on one sample's prefixes (measured)


def _table_width(lengths: list[int]) -> int:
    """The longest prefix length to read from the table (0: none), the rest from rapidfuzz, one call per length:
    of ``lengths`` (ascending), the width w with the least estimated cost, w² cells plus one call per longer length.

    >>> _table_width([1, 2, 3, 4, 5]), _table_width([8]), _table_width([30]), _table_width([1, 2, 40])
    (5, 8, 0, 2)
    """
    costs = [len(lengths)] + [n * n * _CELL_COST + len(lengths) - i for i, n in enumerate(lengths, start=1)]
    best = min(range(len(costs)), key=costs.__getitem__)
    return lengths[best - 1] if best else 0


def _prefix_edit_distances(predictions: list[str], references: list[str], lengths: list[int]) -> dict:
    """Per L in ``lengths`` (ascending), the character edit distance between the first L characters of each
    prediction and of each reference, NaN where the reference is shorter than L.

    Cell (i, j) of the Levenshtein table of a prediction against a reference is the
    distance between their first i and first j characters, so one table gives
    every L: the cell (min(L, len(prediction)), L). The table is filled for a block
    of samples at once, a numpy vector per cell.
    """
    n_samples = len(references)
    ref_lengths = np.fromiter(map(len, references), dtype=np.int64, count=n_samples)
    pred_lengths = np.fromiter(map(len, predictions), dtype=np.int64, count=n_samples)
    distances = {n: np.full(n_samples, np.nan) for n in lengths}
    lengths = [n for n in lengths if n <= ref_lengths.max()]  # longer prefixes are NaN everywhere
    width = _table_width(lengths)
    in_table = [n for n in lengths if n <= width]
    for start in range(0, n_samples, _TABLE_BLOCK) if in_table else ():
        block = slice(start, start + _TABLE_BLOCK)
        cells = _prefix_table_cells(predictions[block], references[block], pred_lengths[block], in_table)
        for n, values in cells.items():
            distances[n][block] = values
    for n in lengths[len(in_table) :]:
        heads_p, heads_r = [p[:n] for p in predictions], [r[:n] for r in references]
        distances[n] = cpdist(heads_p, heads_r, scorer=Levenshtein.distance, dtype=np.int64, workers=1).astype(float)
    for n in lengths:
        distances[n][ref_lengths < n] = np.nan
    return distances


def _prefix_table_cells(predictions: list[str], references: list[str], pred_lengths, lengths: list[int]) -> dict:
    """Cell (min(L, len(prediction)), L) of each sample's Levenshtein table, for every L in ``lengths``."""
    width = lengths[-1]

    def characters(texts: list[str]) -> np.ndarray:  # row k: the k-th character (code point) of every text
        codes = np.array(texts, dtype=f"<U{width}").view(np.uint32).reshape(len(texts), width)
        return np.ascontiguousarray(codes.T)

    pred_chars, ref_chars = characters(predictions), characters(references)
    previous = [np.full(len(references), j, dtype=np.int16) for j in range(width + 1)]  # row 0: D[0][j] = j
    cells = {n: previous[n].copy() for n in lengths}  # final for empty predictions
    wanted = set(lengths)
    for i in range(1, min(width, int(pred_lengths.max(initial=0))) + 1):
        reached = pred_lengths >= i  # the prediction has an i-th character: row i is its cell for L >= i
        row = [np.full(len(references), i, dtype=np.int16)]
        for j in range(1, width + 1):
            cell = previous[j - 1] + (pred_chars[i - 1] != ref_chars[j - 1])  # substitute (or match)
            np.minimum(cell, previous[j] + 1, out=cell)  # delete
            np.minimum(cell, row[j - 1] + 1, out=cell)  # insert
            row.append(cell)
            if j >= i and j in wanted:
                np.copyto(cells[j], cell, where=reached)
        previous = row
    return {n: values.astype(float) for n, values in cells.items()}


def _softmax(rows: np.ndarray) -> np.ndarray:
    """The softmax of a 1-D row, or of each row of a C-contiguous 2-D array (the same bits as row by row)."""
    shifted = np.exp(rows - rows.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def choice_probs(loglikelihoods) -> list[np.ndarray]:
    """Per sample, the softmax of its choices' log-likelihoods (samples may differ in choices).

    >>> [p.round(3) for p in choice_probs([[0.0, 0.0], [-1.0, -2.0, -3.0]])]
    [array([0.5, 0.5]), array([0.665, 0.245, 0.09 ])]
    """
    return [_softmax(row) for row in check_log_prob_rows(loglikelihoods, "loglikelihoods")]


def _bigbench_argmax(matrix: np.ndarray, absolute_normalization: bool = False) -> np.ndarray:
    """BIG-bench's argmax over each row's choices (a float64 sample × choice array), pseudorandom among ties.

    BIG-bench's json_task scores a choice by its log-probability normalised over
    the choices, ``x - scipy.special.logsumexp(x)``, or, for tasks with
    ``absolute_normalization: true``, by the raw log-probability ``x``;
    ``task_metrics.argmax`` then picks, among the tied maxima of that float64
    array, the one at ``int(sha256(array.tobytes()).hexdigest(), 16) % ties``.

    Rounding is monotonic, so a row's normalised maximum is its raw maximum unless
    another raw value lies within rounding of it; only such rows (within
    ``_MAY_TIE`` of the values' magnitude, a bound far above one ulp) are
    normalised and hashed, the others take their raw argmax. Columns are visited
    one at a time: for the few choices of a sample that is faster than numpy's
    reductions along short rows.
    """
    best, chosen = matrix[:, 0].copy(), np.zeros(len(matrix), dtype=np.intp)
    for j in range(1, matrix.shape[1]):
        np.copyto(chosen, j, where=matrix[:, j] > best)  # strictly greater: the first maximum, as np.argmax
        np.maximum(best, matrix[:, j], out=best)
    threshold = best - _MAY_TIE * (2 * np.abs(best) + np.log(matrix.shape[1]) + 1.0)
    near_maximum = np.zeros(len(matrix), dtype=np.intp)
    for j in range(matrix.shape[1]):
        near_maximum += matrix[:, j] >= threshold
    near = np.flatnonzero(near_maximum > 1)
    if near.size == 0:
        return chosen
    scored = matrix[near] if absolute_normalization else matrix[near] - logsumexp(matrix[near], axis=1, keepdims=True)
    for i, row in zip(near, scored):
        tied = np.flatnonzero(row == row.max())
        chosen[i] = tied[int(hashlib.sha256(row.tobytes()).hexdigest(), 16) % len(tied)]
    return chosen


_MAY_TIE = 2.0**-44  # relative gap below which normalising may merge two maxima (one ulp is 2^-52)


def _choices_and_scores(loglikelihoods, targets) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rows = check_log_prob_rows(loglikelihoods, "loglikelihoods")
    scores = check_targets(targets, [len(r) for r in rows])
    return rows, scores


def _choice_groups(
    values, targets, probabilities: bool = False
) -> list[tuple[Union[slice, np.ndarray], np.ndarray, np.ndarray]]:
    """Samples grouped by number of choices: (sample positions, C-contiguous rows, targets) per group.

    ``values`` are log-likelihoods, or with ``probabilities`` one probability row per
    sample (the argument ``probs``). Targets are choice indices (1-D) or target
    scores (sample × choice). Rectangular inputs (the same number of choices
    everywhere) are one group, checked at numpy speed; ragged ones are checked row
    by row and then stacked.
    """
    name = "probs" if probabilities else "loglikelihoods"
    matrix = check_choice_matrix(values, probabilities)
    if matrix is not None:
        scores = check_target_matrix(targets, matrix.shape)
        if scores is None:
            scores = np.stack(check_targets(targets, [matrix.shape[1]] * len(matrix), rows_name=name))
        return [(slice(None), np.ascontiguousarray(matrix), scores)]
    rows = check_probability_rows(values, name) if probabilities else check_log_prob_rows(values, name)
    row_scores = check_targets(targets, [len(r) for r in rows], rows_name=name)
    n_choices = np.array([len(row) for row in rows])
    groups = []
    for n in np.unique(n_choices):
        positions = np.flatnonzero(n_choices == n)
        groups.append((positions, np.stack([rows[i] for i in positions]), np.stack([row_scores[i] for i in positions])))
    return groups


@metric_spec("multiple_choice_grade", True, DISCONTINUOUS, 0, 1, produced_by=(BIGBENCH_MC,))
def multiple_choice_grade(loglikelihoods, targets, *, absolute_normalization: bool = False) -> np.ndarray:
    """The target score of the most likely choice, as BIG-bench's ``multiple_choice_grade``.

    ``targets`` per sample: the index of the correct choice or BIG-bench target scores
    (the grade is the chosen option's raw score, e.g. 0.5 for a half-right option).
    Ties are broken as BIG-bench does, by a sha256 of the log-probabilities it
    compares: normalised over the choices by default, raw with
    ``absolute_normalization=True`` (the flag of the BIG-bench task), so pass the
    raw log-likelihoods (lm-eval's) as BIG-bench's models return them.

    >>> multiple_choice_grade([[-1.0, -0.5], [-0.2, -3.0]], [1, 1])
    array([1., 0.])
    >>> multiple_choice_grade([[-2.0, -1.0, -4.0]], [[0.0, 0.5, 1.0]])
    array([0.5])
    >>> multiple_choice_grade([[-1.0, -1.0], [-2.0, -0.1, -3.0]], [1, 1])  # a tie, then a 3-choice sample
    array([1., 1.])
    """
    absolute_normalization = check_flag(absolute_normalization, "absolute_normalization")
    groups = _choice_groups(loglikelihoods, targets)
    grades = np.empty(sum(len(matrix) for _, matrix, _ in groups))
    for positions, matrix, scores in groups:
        chosen = _bigbench_argmax(matrix, absolute_normalization)
        if scores.ndim == 1:  # choice indices
            grades[positions] = chosen == scores
        else:
            grades[positions] = np.take_along_axis(scores, chosen[:, None], axis=1)[:, 0]
    return grades


_PYTHON_SUM_IS_COMPENSATED = sys.version_info >= (3, 12)  # from 3.12, sum() of floats is Neumaier's


def _python_row_sums(matrix: np.ndarray, compensated: bool = _PYTHON_SUM_IS_COMPENSATED) -> np.ndarray:
    """Each row's ``sum(row.tolist())`` bit for bit, a column at a time: Python's sum adds the floats left to
    right from the int 0, and from Python 3.12 with Neumaier's compensation (its C code, written out)."""
    columns = matrix.T
    total = columns[0] + 0.0  # 0 + x: x, but 0.0 for -0.0
    compensation = np.zeros_like(total)
    for x in columns[1:]:
        new_total = total + x
        if compensated:
            compensation += np.where(np.abs(total) >= np.abs(x), (total - new_total) + x, (x - new_total) + total)
        total = new_total
    if compensated:
        total = np.where((compensation != 0) & np.isfinite(compensation), total + compensation, total)
    return total


def _bigbench_brier_sums(probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per row of ``probs``, BIG-bench's sum over options of t(p - 1)^2 + (1 - t)p^2, as its code adds them.

    ``targets`` are choice indices (one-hot scores) or target scores s per row;
    t = s / Σs, all zeros when Σs = 0.
    """
    if targets.ndim == 1:
        scores = np.zeros_like(probs)
        scores[np.arange(len(probs)), targets] = 1.0
    else:
        scores = targets
    totals = _python_row_sums(scores)[:, None]
    t = np.divide(scores, totals, out=np.zeros_like(scores), where=totals != 0)
    return _python_row_sums(t * (probs - 1) ** 2 + (1 - t) * probs**2)


@metric_spec("brier_score", False, CONTINUOUS, 0, 2, label="Brier score", produced_by=(BIGBENCH_MC,))
def brier_score(probs, targets) -> np.ndarray:
    """Per sample, BIG-bench's multi-category Brier sum Σ_k t_k(p_k − 1)² + (1 − t_k)p_k².

    The definition of BIG-bench's ``calibration_multiple_choice_brier_score`` code
    (bigbench 1.0.0), summed over one sample's options: ``probs`` p per sample sum
    to 1 (use :func:`choice_probs` on log-likelihoods); the target scores s become
    t = s / Σs (all zeros when Σs = 0). Equivalently Σ_k (p_k − t_k)² + t_k(1 − t_k).
    For one-hot targets (a choice index) this is the classic Σ_k (p_k − y_k)²,
    range [0, 2]; with several correct options (scores ``[1, 1, 0]`` give
    t = ``[0.5, 0.5, 0]``) or graded non-negative scores it stays in [0, 2], and
    it is 0 only for p = t with t one-hot.

    >>> brier_score([[0.5, 0.5], [1.0, 0.0]], [0, 0])
    array([0.5, 0. ])
    >>> brier_score([[0.5, 0.5]], [[1.0, 1.0]])
    array([0.5])
    """
    groups = _choice_groups(probs, targets, probabilities=True)
    scores = np.empty(sum(len(matrix) for _, matrix, _ in groups))
    for positions, matrix, targets_of_group in groups:
        scores[positions] = _bigbench_brier_sums(matrix, targets_of_group)
    return scores


@metric_spec(
    "bigbench_brier_score",
    False,
    CONTINUOUS,
    0,
    1,
    label="Brier score (BIG-bench, per option)",
    produced_by=(BIGBENCH_MC,),
    aggregation="utils.aggregate_bigbench_brier",
)
def bigbench_brier_score(loglikelihoods, targets) -> float:
    """BIG-bench's ``calibration_multiple_choice_brier_score``, one float over all samples.

    As BIG-bench's code computes it (its docstring says otherwise): p is the
    softmax of a sample's choice log-likelihoods, the target scores s become
    t = s / Σs (all zeros when Σs = 0), and the score is the sum over samples and
    options of t(p − 1)² + (1 − t)p² divided by the total number of options, i.e.
    Σ :func:`brier_score` / Σ options. For one-hot targets each option adds (p − y)².

    >>> round(bigbench_brier_score([[0.0, 0.0], [0.0, -100.0]], [0, 0]), 4)
    0.125
    >>> round(bigbench_brier_score([[0.0, 0.0, -1.0]], [[1.0, 1.0, 0.0]]), 5)
    0.17874
    """
    groups = _choice_groups(loglikelihoods, targets)
    sums = np.empty(sum(len(matrix) for _, matrix, _ in groups))
    for positions, matrix, targets_of_group in groups:
        sums[positions] = _bigbench_brier_sums(_softmax(matrix), targets_of_group)
    return sum(sums.tolist()) / sum(matrix.size for _, matrix, _ in groups)  # Python's sum, in sample order


@metric_spec("log_p_correct", True, CONTINUOUS, high=0, label="log p(correct choice)", produced_by=(BIGBENCH_MC,))
@metric_spec("p_correct", True, CONTINUOUS, 0, 1, label="probability of the correct choice", produced_by=(BIGBENCH_MC,))
def correct_choice_log_prob(loglikelihoods, targets, *, normalise: bool = True) -> np.ndarray:
    """Per sample, the log of the probability mass on the best-scored choice(s).

    A choice counts where its target score equals the sample's maximum: the
    correct choice of a one-hot target, every correct one when several share the
    top score (their probabilities add up), and only the top-scored option of a
    graded target (a 0.5-scored option adds nothing); when all scores are equal
    every choice counts (BIG-bench rejects such examples). With ``normalise=True``
    the mass is taken over the choices (log-softmax), so its exp is the paper's
    continuous "probability of the correct answer" in [0, 1] (``p_correct`` of the
    BIG-bench tasks); with ``normalise=False`` it is the model's unnormalised log p
    of the best-scored continuation(s).

    >>> np.exp(correct_choice_log_prob([[0.0, 0.0], [-1.0, -3.0]], [0, [1.0, 0.0]])).round(3)
    array([0.5  , 0.881])
    >>> np.exp(correct_choice_log_prob([[np.log(0.5), np.log(0.3), np.log(0.2)]], [[0.0, 0.5, 1.0]])).round(3)
    array([0.2])
    >>> correct_choice_log_prob([[-2.0, -1.0]], [0], normalise=False)
    array([-2.])
    """
    normalise = check_flag(normalise, "normalise")
    rows, scores = _choices_and_scores(loglikelihoods, targets)
    values = []
    for row, score in zip(rows, scores):
        log_mass = float(np.logaddexp.reduce(row[score == score.max()]))
        values.append(log_mass - float(np.logaddexp.reduce(row)) if normalise else log_mass)
    return np.array(values, dtype=float)


@metric_spec(
    "per_char_prob", True, CONTINUOUS, 0, 1, label="per-character probability", produced_by=(ARITH_LL, BIGBENCH_LL)
)
def per_token_prob(loglikelihoods, lengths) -> np.ndarray:
    """Geometric-mean probability per token, exp(ll / length): the paper's p(single token correct).

    ``loglikelihoods`` are log-probabilities (<= 0); ``lengths`` count the tokens or
    characters of each target (whole numbers from 1 to 2**53 - 1, not booleans).

    >>> per_token_prob([np.log(0.25), 0.0], [2, 3])
    array([0.5, 1. ])
    """
    values = check_log_probs(loglikelihoods, "loglikelihoods")
    lengths = check_whole_numbers(lengths, "lengths")
    check_same_length(values, lengths, "loglikelihoods", "lengths")
    return np.exp(values / lengths)


@metric_spec(
    "target_log_prob", True, CONTINUOUS, high=0, label="log p(answer tokens)", produced_by=(ARITH_LL, BIGBENCH_LL)
)
def target_log_prob(loglikelihoods) -> np.ndarray:
    """log p(target) per sample, validated (finite, ≤ 0); :func:`per_token_prob` gives the per-token value.

    >>> target_log_prob([-1.5, -0.25])
    array([-1.5 , -0.25])
    """
    return check_log_probs(loglikelihoods, "loglikelihoods")


@metric_spec(
    "subset_accuracy", True, DISCONTINUOUS, 0, 1, by_length=True, label="all of the first L images correct", binary=True
)
def subset_accuracy(correct, k: int | None = None) -> np.ndarray:
    """1.0 where the first ``k`` items of a sample are all correct (all items when k is None).

    ``correct`` is a 2-D boolean array, sample × item: the Omniglot "all images correct".

    >>> subset_accuracy([[True, True, False], [True, True, True]])
    array([0., 1.])
    >>> subset_accuracy([[True, True, False]], k=2)
    array([1.])
    """
    array = check_rectangular(correct, "correct", what="a 2-D boolean array (sample × item)")
    if array.ndim != 2:
        raise ValueError(f"correct must be 2-D (sample × item), got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"correct is empty (shape {array.shape}); pass at least one sample and one item")
    if array.dtype != bool:
        if not np.isin(array, (0, 1)).all():
            raise ValueError("correct must hold booleans (or 0/1)")
        array = array.astype(bool)
    n_items = array.shape[1]
    if k is None:
        k = n_items
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"k={k!r} must be an int (1..{n_items}, the number of items) or None")
    if not 1 <= k <= n_items:
        raise ValueError(f"k={k} is out of range; use 1..{n_items} (the number of items) or None")
    return array[:, :k].all(axis=1).astype(float)


def _check_images(x, x_hat) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for name, value in (("x", x), ("x_hat", x_hat)):
        array = check_rectangular(value, name, dtype=float, what="an array with samples on the first axis")
        if array.ndim < 1 or array.shape[0] == 0:
            raise ValueError(f"{name} is empty; pass at least one sample on the first axis")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} contains NaN or inf")
        arrays.append(array)
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(f"x has shape {arrays[0].shape} but x_hat has shape {arrays[1].shape}; they must match")
    return arrays[0], arrays[1]


@metric_spec("mean_squared_error", False, CONTINUOUS, 0)
def mean_squared_error(x, x_hat) -> np.ndarray:
    """Per sample, the mean squared error over all of its elements.

    >>> mean_squared_error([[0.0, 1.0], [1.0, 1.0]], [[0.0, 0.0], [1.0, 1.0]])
    array([0.5, 0. ])
    """
    x, x_hat = _check_images(x, x_hat)
    return ((x - x_hat) ** 2).reshape(len(x), -1).mean(axis=1)


@metric_spec("reconstruction_c", True, DISCONTINUOUS, 0, 1, label="Reconstruction_c (fraction with MSE < c)")
def reconstruction_c(x, x_hat, c: float) -> np.ndarray:
    """The paper's Reconstruction_c: 1.0 where the sample's MSE is below ``c``.

    >>> reconstruction_c([[0.0, 1.0], [1.0, 1.0]], [[0.0, 0.9], [1.0, 1.0]], c=0.004)
    array([0., 1.])
    """
    if isinstance(c, bool) or not isinstance(c, (int, float, np.integer, np.floating)) or not 0 < c < np.inf:
        raise ValueError(f"c={c!r} must be a positive finite number (the MSE threshold)")
    return (mean_squared_error(x, x_hat) < c).astype(float)


@metric_spec("per_char_loss", False, CONTINUOUS, 0, label="per-character loss")
def per_token_loss(per_token_probs) -> np.ndarray:
    """Per-token cross-entropy −log p of each sample: the paper's L_CE, from :func:`per_token_prob` values.

    >>> per_token_loss([1.0, np.exp(-2.0)])
    array([-0.,  2.])
    """
    probs = check_finite_vector(per_token_probs, "per_token_probs")
    if np.any(probs <= 0) or np.any(probs > 1):
        raise ValueError("per_token_probs must lie in (0, 1]; a probability of 0 has infinite loss")
    return -np.log(probs)


@metric_spec(
    "exact_answer_log_prob", True, CONTINUOUS, high=0, label="log p(answer, then stop)", produced_by=(ARITH_LL,)
)
def exact_answer_log_prob(stop_loglikelihoods) -> np.ndarray:
    """log P(a generation is exactly the answer) per sample: logsumexp over the answer's disjoint stop events.

    Each row holds log p(answer, then stop s) for stops s whose token sequences are
    not prefixes of one another (e.g. the answer's tokens followed by one newline
    token, by another newline token, or by end-of-text), so their probabilities add up.

    >>> exact_answer_log_prob([[np.log(0.2), np.log(0.3)], [0.0]]).round(6)
    array([-0.693147,  0.      ])
    """
    rows = check_log_prob_rows(stop_loglikelihoods, "stop_loglikelihoods", what="log-likelihoods of answer-then-stop")
    return np.array([float(logsumexp(row)) for row in rows], dtype=float)
