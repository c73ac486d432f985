"""Input checks for the metrics core, in the spirit of scikit-learn's ``check_array``.

Each helper raises ``ValueError`` naming the argument and saying how to fix it.

>>> check_strings(["1", ""], "predictions")
['1', '']
>>> check_strings(["1", None], "predictions")
Traceback (most recent call last):
...
ValueError: predictions[1] is None; pass a string (the empty string is a valid model output)
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any, Sequence

import numpy as np

__all__ = [
    "check_strings",
    "check_same_length",
    "check_finite_vector",
    "check_ragged_rows",
    "check_probability_rows",
    "check_targets",
    "check_rectangular",
    "check_whole_numbers",
    "check_log_probs",
    "check_choice_matrix",
    "check_target_matrix",
]

PROB_TOLERANCE = 1e-6


def _check_ordered(values: Any, name: str) -> None:
    """Sets and dicts have no sample order: their items would be paired with the wrong samples."""
    if isinstance(values, (Set, Mapping)):
        raise ValueError(
            f"{name} is a {type(values).__name__}, which has no sample order; pass a list (one entry per sample)"
        )


def _check_sequence(values: Any, name: str) -> list:
    if values is None:
        raise ValueError(f"{name} is None; pass a sequence")
    if isinstance(values, (str, bytes)):
        raise ValueError(f"{name} is a single string; pass a list of strings")
    _check_ordered(values, name)
    try:
        values = list(values)
    except TypeError:
        raise ValueError(f"{name} is a single {type(values).__name__}; pass a list (one entry per sample)") from None
    if not values:
        raise ValueError(f"{name} is empty; pass at least one sample")
    return values


def check_strings(values: Sequence[str], name: str) -> list[str]:
    """A non-empty list of strings (the empty string allowed, None not)."""
    values = _check_sequence(values, name)
    if set(map(type, values)) == {str}:  # the common case, checked at C speed
        return values
    for i, value in enumerate(values):
        if not isinstance(value, str):
            if value is None:
                raise ValueError(f"{name}[{i}] is None; pass a string (the empty string is a valid model output)")
            raise ValueError(f"{name}[{i}] is {type(value).__name__}, not str; pass strings")
    return values


def check_same_length(first: Sequence, second: Sequence, first_name: str, second_name: str) -> None:
    if len(first) != len(second):
        raise ValueError(
            f"{first_name} has {len(first)} samples but {second_name} has {len(second)}; "
            "pass one entry per sample in both"
        )


def check_finite_vector(values: Any, name: str, fix_empty: str = "pass at least one sample") -> np.ndarray:
    """A non-empty 1-D float array without NaN or inf."""
    if values is None:
        raise ValueError(f"{name} is None; pass a sequence of numbers")
    _check_ordered(values, name)
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a flat sequence of numbers ({error})") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one number per sample), got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty; {fix_empty}")
    if not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{name}[{bad}] is {array[bad]}; every value must be finite")
    return array


def check_whole_numbers(values: Any, name: str, minimum: int = 1) -> np.ndarray:
    """A non-empty 1-D int array of whole numbers >= ``minimum`` (1.7 is an error, never silently 1).

    >>> check_whole_numbers([1, 2.0], "lengths")
    array([1, 2])
    >>> check_whole_numbers([1.7], "lengths")
    Traceback (most recent call last):
    ...
    ValueError: lengths[0] = 1.7 is not a whole number; pass integers >= 1
    """
    array = check_finite_vector(values, name, fix_empty=f"pass integers >= {minimum}")
    fractional = np.flatnonzero(array != np.round(array))
    if fractional.size:
        i = int(fractional[0])
        raise ValueError(f"{name}[{i}] = {array[i]} is not a whole number; pass integers >= {minimum}")
    too_small = np.flatnonzero(array < minimum)
    if too_small.size:
        i = int(too_small[0])
        raise ValueError(f"{name}[{i}] = {array[i]:g} is below {minimum}; pass integers >= {minimum}")
    return array.astype(int)


def check_log_probs(values: Any, name: str) -> np.ndarray:
    """A non-empty 1-D finite array of log-probabilities, each <= 0.

    >>> check_log_probs([5.0], "loglikelihoods")
    Traceback (most recent call last):
    ...
    ValueError: loglikelihoods[0] = 5.0 is positive, so not a log-probability; pass log p (<= 0), e.g. lm-eval's loglikelihoods
    """
    array = check_finite_vector(values, name)
    positive = np.flatnonzero(array > 0)
    if positive.size:
        i = int(positive[0])
        raise ValueError(
            f"{name}[{i}] = {array[i]} is positive, so not a log-probability; "
            "pass log p (<= 0), e.g. lm-eval's loglikelihoods"
        )
    return array


def check_rectangular(values: Any, name: str, dtype=None, what: str = "an array") -> np.ndarray:
    """``values`` as a numpy array; ragged nesting (rows of different lengths) is an error naming ``name``.

    >>> check_rectangular([[1, 2], [3]], "correct", what="a 2-D array (sample × item)")
    Traceback (most recent call last):
    ...
    ValueError: correct is ragged (rows of different lengths); pass a 2-D array (sample × item)
    """
    if values is None:
        raise ValueError(f"{name} is None; pass {what}")
    _check_ordered(values, name)
    try:
        return np.asarray(values, dtype=dtype)
    except ValueError as error:
        if "inhomogeneous" in str(error):
            raise ValueError(f"{name} is ragged (rows of different lengths); pass {what}") from None
        raise ValueError(f"{name} must be {what} of numbers ({error})") from None
    except TypeError as error:
        raise ValueError(f"{name} must be {what} of numbers ({error})") from None


def check_ragged_rows(values: Any, name: str, what: str = "log-likelihoods") -> list[np.ndarray]:
    """One non-empty 1-D finite array per sample, one value per choice (ragged allowed)."""
    rows = _check_sequence(values, name)
    checked = []
    for i, row in enumerate(rows):
        if row is None:
            raise ValueError(f"{name}[{i}] is None; pass the {what} of every choice")
        try:
            array = np.asarray(row, dtype=float)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name}[{i}] must be a sequence of numbers ({error})") from None
        if array.ndim != 1 or array.size == 0:
            raise ValueError(
                f"{name}[{i}] must be a non-empty 1-D sequence (one value per choice), got shape {array.shape}"
            )
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name}[{i}] contains NaN or inf; {what} must be finite")
        checked.append(array)
    return checked


def check_choice_matrix(values: Any) -> np.ndarray | None:
    """Fast path of :func:`check_ragged_rows` when every sample has the same number of choices.

    Returns ``values`` as a finite float64 array (sample × choice) with at least one
    sample and one choice, or None when it is anything else (ragged, non-numeric,
    NaN, empty...): check that row by row with :func:`check_ragged_rows`, which
    names the bad row.

    >>> check_choice_matrix([[-1.0, -2.0], [0.0, -3.0]]).shape
    (2, 2)
    >>> check_choice_matrix([[-1.0, -2.0], [0.0]]) is None
    True
    """
    if isinstance(values, (Set, Mapping, str, bytes)):
        return None
    try:
        matrix = np.asarray(values, dtype=float)
    except (TypeError, ValueError, OverflowError):
        return None
    if matrix.ndim != 2 or matrix.size == 0 or not np.isfinite(matrix).all():
        return None
    return matrix


def check_target_matrix(targets: Any, shape: tuple[int, int]) -> np.ndarray | None:
    """Fast path of :func:`check_targets` for ``shape`` = (samples, choices).

    Returns choice indices (a 1-D integer array, each in range) as they are, or a
    finite numeric array of ``shape`` (BIG-bench target scores) as floats. Anything
    else gives None: check it row by row with :func:`check_targets`.

    >>> check_target_matrix([1, 0], (2, 3))
    array([1, 0])
    >>> check_target_matrix([[0, 1, 0]], (1, 3))
    array([[0., 1., 0.]])
    >>> check_target_matrix([1, 3], (2, 3)) is None
    True
    """
    if isinstance(targets, (Set, Mapping, str, bytes)):
        return None
    try:
        array = np.asarray(targets)
    except (TypeError, ValueError, OverflowError):
        return None
    n_samples, n_choices = shape
    if array.dtype.kind in "iu" and array.shape == (n_samples,):
        return array if np.all((array >= 0) & (array < n_choices)) else None
    if array.dtype.kind in "iuf" and array.shape == shape and np.isfinite(array).all():
        return array.astype(float)
    return None


def check_probability_rows(values: Any, name: str = "probs") -> list[np.ndarray]:
    """One probability vector per sample: entries in [0, 1] summing to 1 (tolerance 1e-6)."""
    rows = check_ragged_rows(values, name, what="probabilities")
    for i, row in enumerate(rows):
        if np.any(row < -PROB_TOLERANCE) or np.any(row > 1 + PROB_TOLERANCE):
            raise ValueError(f"{name}[{i}] has values outside [0, 1]: {row.tolist()}")
        total = float(row.sum())
        if abs(total - 1.0) > PROB_TOLERANCE:
            raise ValueError(f"{name}[{i}] sums to {total:.8g}, not 1; normalise it (e.g. with choice_probs)")
    return rows


def check_targets(targets: Any, n_choices: Sequence[int], name: str = "targets") -> list[np.ndarray]:
    """Per sample, the target scores of every choice.

    A target is either the index of the correct choice (one-hot scores) or a
    sequence of BIG-bench target scores, one per choice.
    """
    targets = _check_sequence(targets, name)
    check_same_length(targets, n_choices, name, "loglikelihoods")
    scores = []
    for i, (target, n) in enumerate(zip(targets, n_choices)):
        if target is None:
            raise ValueError(f"{name}[{i}] is None; pass a choice index or a list of target scores")
        if isinstance(target, bool) or (np.isscalar(target) and not isinstance(target, (int, np.integer, str, bytes))):
            raise ValueError(
                f"{name}[{i}] = {target!r} is not a choice index; pass an int index or a list of target scores"
            )
        if isinstance(target, (int, np.integer)):
            if not 0 <= int(target) < n:
                raise ValueError(f"{name}[{i}] = {int(target)} is out of range for {n} choices (0..{n - 1})")
            one_hot = np.zeros(n)
            one_hot[int(target)] = 1.0
            scores.append(one_hot)
            continue
        try:
            row = np.asarray(target, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name}[{i}] must be a choice index or a list of target scores, got {target!r}") from None
        if row.ndim != 1 or row.size != n:
            raise ValueError(
                f"{name}[{i}] has {row.size if row.ndim == 1 else row.shape} target scores for {n} choices; "
                "pass one score per choice or a choice index"
            )
        if not np.all(np.isfinite(row)):
            raise ValueError(f"{name}[{i}] contains NaN or inf target scores")
        scores.append(row)
    return scores
