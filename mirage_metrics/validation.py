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

import numbers
from collections.abc import Mapping, Set
from itertools import chain
from typing import Any, Callable, Sequence

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
    "check_log_prob_rows",
    "check_model_sizes",
    "check_flag",
]

PROB_TOLERANCE = 1e-6
MAX_WHOLE_NUMBER = 2**53 - 1  # below 2**53 a float64 holds every whole number, so no int rounds to one (int64: 2**63)


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


def _as_array(values: Any) -> Any:
    """Array-likes (pandas, torch...) as numpy arrays; the rest (and what numpy cannot read) as it is."""
    if hasattr(values, "__array__") and not isinstance(values, np.ndarray):
        try:
            return np.asarray(values)
        except (TypeError, ValueError, RuntimeError):
            return values
    return values


def _is_sequence(values: Any) -> bool:
    return isinstance(values, Sequence) and not isinstance(values, (str, bytes))


def _is_number_type(kind: type) -> bool:
    """int and float of Python or numpy (and other real numbers), but not bool: numpy would make True 1."""
    return issubclass(kind, (numbers.Real, np.integer, np.floating)) and not issubclass(kind, (bool, np.bool_))


def _only_numbers(values: Any) -> bool:
    """Whether ``values`` surely holds nothing but numbers: a numeric array, or a list (of lists or of numeric
    arrays) of ints and floats, checked at C speed. False means "look closer" (:func:`_first_scalar`)."""
    values = _as_array(values)
    if isinstance(values, np.ndarray):
        return values.dtype.kind in "iuf"
    if not _is_sequence(values):
        return False
    kinds = set(map(type, values))
    if kinds and kinds <= {list, tuple}:
        kinds = set(map(type, chain.from_iterable(values)))
    elif kinds == {np.ndarray}:
        return all(row.dtype.kind in "iuf" for row in values)
    return all(map(_is_number_type, kinds))


def _first_scalar(values: Any, is_bad: Callable[[Any], bool], where: str = "") -> tuple[str, Any] | None:
    """``("[i][j]", value)`` of the first scalar in ``values`` (nested lists or arrays) where ``is_bad`` holds."""
    values = _as_array(values)
    if isinstance(values, np.ndarray):
        if values.dtype.kind in "iuf":
            return None
        if values.dtype != object:
            first = values.flat[0].item() if values.size else None
            return (where + "[0]" * values.ndim, first) if values.size and is_bad(first) else None
        values = list(values) if values.ndim else values.item()
    if _is_sequence(values):
        for i, value in enumerate(values):
            found = _first_scalar(value, is_bad, f"{where}[{i}]")
            if found is not None:
                return found
        return None
    return (where, values) if is_bad(values) else None


def _beyond_float(value: Any) -> bool:
    try:
        float(value)
    except OverflowError:
        return True
    except (TypeError, ValueError):
        pass
    return False


def _overflow_error(values: Any, name: str, what: str) -> ValueError:
    """The error for a number (a Python int) beyond the float range, naming it."""
    where = (_first_scalar(values, _beyond_float) or ("", None))[0]
    return ValueError(f"{name}{where} is too large for a float; pass {what}")


def _check_numbers(values: Any, name: str, what: str = "numbers") -> None:
    """Booleans, strings (numeric ones too) and other non-numbers raise ValueError naming the first one.

    numpy would silently make ``True`` 1 and ``"3"`` 3.0.

    >>> _check_numbers([2, True], "lengths", "integers >= 1")
    Traceback (most recent call last):
    ...
    ValueError: lengths[1] is True, a boolean; pass integers >= 1
    """
    if _only_numbers(values):
        return
    found = _first_scalar(values, lambda value: not _is_number_type(type(value)))
    if found is None:
        return
    where, value = found
    if isinstance(value, (bool, np.bool_)):
        kind = f"{bool(value)}, a boolean"
    elif isinstance(value, (str, bytes)):
        kind = f"the string {value!r}"
    elif value is None:
        kind = "None"
    else:
        kind = f"a {type(value).__name__}"
    raise ValueError(f"{name}{where} is {kind}; pass {what}")


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


def check_finite_vector(
    values: Any, name: str, fix_empty: str = "pass at least one sample", what: str = "numbers"
) -> np.ndarray:
    """A non-empty 1-D float array without NaN or inf, from numbers only (``what`` names them in errors)."""
    if values is None:
        raise ValueError(f"{name} is None; pass a sequence of {what}")
    _check_ordered(values, name)
    _check_numbers(values, name, what)
    try:
        array = np.asarray(values, dtype=float)
    except OverflowError:
        raise _overflow_error(values, name, what) from None
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
    """A non-empty 1-D int array of whole numbers from ``minimum`` to 2**53 - 1 (1.7 is an error, never silently
    1; True is not 1; from 2**53 on floats skip whole numbers, so 2**53 + 1 would become 2**53, and int64 wraps).

    >>> check_whole_numbers([1, 2.0], "lengths")
    array([1, 2])
    >>> check_whole_numbers([1.7], "lengths")
    Traceback (most recent call last):
    ...
    ValueError: lengths[0] = 1.7 is not a whole number; pass integers >= 1
    >>> check_whole_numbers([1e20], "lengths")
    Traceback (most recent call last):
    ...
    ValueError: lengths[0] = 1e+20 is too large; pass integers from 1 to 2**53 - 1
    """
    fix = f"pass integers >= {minimum}"
    array = check_finite_vector(values, name, fix_empty=fix, what=fix[len("pass ") :])
    fractional = np.flatnonzero(array != np.round(array))
    if fractional.size:
        i = int(fractional[0])
        raise ValueError(f"{name}[{i}] = {array[i]} is not a whole number; pass integers >= {minimum}")
    too_small = np.flatnonzero(array < minimum)
    if too_small.size:
        i = int(too_small[0])
        raise ValueError(f"{name}[{i}] = {array[i]:g} is below {minimum}; pass integers >= {minimum}")
    too_large = np.flatnonzero(array > MAX_WHOLE_NUMBER)
    if too_large.size:
        i = int(too_large[0])
        raise ValueError(f"{name}[{i}] = {array[i]:g} is too large; pass integers from {minimum} to 2**53 - 1")
    return array.astype(np.int64)


def check_log_probs(values: Any, name: str) -> np.ndarray:
    """A non-empty 1-D finite array of log-probabilities, each <= 0.

    >>> check_log_probs([5.0], "loglikelihoods")
    Traceback (most recent call last):
    ...
    ValueError: loglikelihoods[0] = 5.0 is positive, so not a log-probability; pass log p (<= 0), e.g. lm-eval's loglikelihoods
    """
    array = check_finite_vector(values, name)
    _refuse_positive(array, name)
    return array


def _refuse_positive(array: np.ndarray, name: str) -> None:
    """A log-probability is <= 0: the first positive entry of a 1-D ``array`` raises ValueError naming it."""
    positive = np.flatnonzero(array > 0)
    if positive.size:
        i = int(positive[0])
        raise ValueError(
            f"{name}[{i}] = {array[i]} is positive, so not a log-probability; "
            "pass log p (<= 0), e.g. lm-eval's loglikelihoods"
        )


def check_rectangular(values: Any, name: str, dtype=None, what: str = "an array") -> np.ndarray:
    """``values`` as a numpy array; ragged nesting (rows of different lengths) is an error naming ``name``, and so
    are booleans and strings where ``dtype`` is float.

    >>> check_rectangular([[1, 2], [3]], "correct", what="a 2-D array (sample × item)")
    Traceback (most recent call last):
    ...
    ValueError: correct is ragged (rows of different lengths); pass a 2-D array (sample × item)
    """
    if values is None:
        raise ValueError(f"{name} is None; pass {what}")
    _check_ordered(values, name)
    if dtype is float:
        _check_numbers(values, name)
    try:
        return np.asarray(values, dtype=dtype)
    except OverflowError:
        raise _overflow_error(values, name, "numbers") from None
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
        _check_numbers(row, f"{name}[{i}]", f"the {what} of every choice as numbers")
        try:
            array = np.asarray(row, dtype=float)
        except OverflowError:
            raise _overflow_error(row, f"{name}[{i}]", f"the {what} of every choice as numbers") from None
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


def check_log_prob_rows(values: Any, name: str, what: str = "log-likelihoods") -> list[np.ndarray]:
    """:func:`check_ragged_rows` for log-probabilities: every value <= 0 as well."""
    rows = check_ragged_rows(values, name, what)
    for i, row in enumerate(rows):
        _refuse_positive(row, f"{name}[{i}]")
    return rows


def check_choice_matrix(values: Any, probabilities: bool = False) -> np.ndarray | None:
    """Fast path of :func:`check_log_prob_rows` (or, with ``probabilities``, of :func:`check_probability_rows`)
    when every sample has the same number of choices.

    Returns ``values`` as a finite float64 array (sample × choice) with at least one
    sample and one choice, of log-probabilities (each <= 0) or of probability rows, or
    None when it is anything else (ragged, non-numeric, NaN, positive, empty...):
    check that row by row, which names the bad row.

    >>> check_choice_matrix([[-1.0, -2.0], [0.0, -3.0]]).shape
    (2, 2)
    >>> check_choice_matrix([[-1.0, -2.0], [0.0]]) is None
    True
    >>> check_choice_matrix([[-1.0, 2.0]]) is None, check_choice_matrix([[0.5, 0.5]], probabilities=True).shape
    (True, (1, 2))
    """
    if isinstance(values, (Set, Mapping, str, bytes)) or not _only_numbers(values):
        return None
    try:
        matrix = np.asarray(values, dtype=float)
    except (TypeError, ValueError, OverflowError):
        return None
    if matrix.ndim != 2 or matrix.size == 0 or not np.isfinite(matrix).all():
        return None
    if probabilities:
        in_range = np.all((matrix >= -PROB_TOLERANCE) & (matrix <= 1 + PROB_TOLERANCE))
        if not in_range or np.any(np.abs(matrix.sum(axis=1) - 1.0) > PROB_TOLERANCE):
            return None
    elif np.any(matrix > 0):
        return None
    return matrix


def check_target_matrix(targets: Any, shape: tuple[int, int]) -> np.ndarray | None:
    """Fast path of :func:`check_targets` for ``shape`` = (samples, choices).

    Returns choice indices (a 1-D integer array, each in range) as they are, or a
    finite non-negative numeric array of ``shape`` (BIG-bench target scores) as
    floats. Anything else gives None: check it row by row with :func:`check_targets`.

    >>> check_target_matrix([1, 0], (2, 3))
    array([1, 0])
    >>> check_target_matrix([[0, 1, 0]], (1, 3))
    array([[0., 1., 0.]])
    >>> check_target_matrix([1, 3], (2, 3)) is None, check_target_matrix([[0, -1, 0]], (1, 3)) is None
    (True, True)
    """
    if isinstance(targets, (Set, Mapping, str, bytes)) or not _only_numbers(targets):
        return None
    try:
        array = np.asarray(targets)
    except (TypeError, ValueError, OverflowError):
        return None
    n_samples, n_choices = shape
    if array.dtype.kind in "iu" and array.shape == (n_samples,):
        return array if np.all((array >= 0) & (array < n_choices)) else None
    if array.dtype.kind in "iuf" and array.shape == shape:
        scores = array.astype(float)
        with np.errstate(over="ignore"):
            totals = scores.sum(axis=1)
        if np.all(scores >= 0) and np.isfinite(totals).all():
            return scores
    return None


def check_probability_rows(values: Any, name: str = "probs") -> list[np.ndarray]:
    """One probability vector per sample: entries in [0, 1] summing to 1 (tolerance 1e-6)."""
    rows = check_ragged_rows(values, name, what="probabilities")
    for i, row in enumerate(rows):  # the rules of check_choice_matrix(probabilities=True), naming the row
        if np.any(row < -PROB_TOLERANCE) or np.any(row > 1 + PROB_TOLERANCE):
            raise ValueError(f"{name}[{i}] has values outside [0, 1]: {row.tolist()}")
        total = float(row.sum())
        if abs(total - 1.0) > PROB_TOLERANCE:
            raise ValueError(f"{name}[{i}] sums to {total:.8g}, not 1; normalise it (e.g. with choice_probs)")
    return rows


def check_targets(
    targets: Any, n_choices: Sequence[int], name: str = "targets", rows_name: str = "loglikelihoods"
) -> list[np.ndarray]:
    """Per sample, the target scores of every choice (``rows_name`` holds the choices).

    A target is either the index of the correct choice (one-hot scores) or a
    sequence of BIG-bench target scores, one per choice: numbers >= 0 with a
    finite sum (BIG-bench's: 1 for a right option, 0 for a wrong one).
    """
    targets = _check_sequence(targets, name)
    check_same_length(targets, n_choices, name, rows_name)
    fix = "pass a choice index or a list of target scores"
    scores = []
    for i, (target, n) in enumerate(zip(targets, n_choices)):
        if target is None:
            raise ValueError(f"{name}[{i}] is None; {fix}")
        if isinstance(target, (str, bytes)):
            raise ValueError(f"{name}[{i}] is the string {target!r}; {fix}")
        if isinstance(target, bool) or (np.isscalar(target) and not isinstance(target, (int, np.integer))):
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
        _check_numbers(target, f"{name}[{i}]", "target scores as numbers >= 0")
        try:
            row = np.asarray(target, dtype=float)
        except OverflowError:
            raise _overflow_error(target, f"{name}[{i}]", "target scores with a finite sum") from None
        except (TypeError, ValueError):
            raise ValueError(f"{name}[{i}] must be a choice index or a list of target scores, got {target!r}") from None
        if row.ndim != 1 or row.size != n:
            raise ValueError(
                f"{name}[{i}] has {row.size if row.ndim == 1 else row.shape} target scores for {n} choices; "
                "pass one score per choice or a choice index"
            )
        if not np.all(np.isfinite(row)):
            raise ValueError(f"{name}[{i}] contains NaN or inf target scores")
        negative = np.flatnonzero(row < 0)
        if negative.size:
            j = int(negative[0])
            raise ValueError(f"{name}[{i}][{j}] = {row[j]} is negative; pass target scores >= 0 (1 right, 0 wrong)")
        with np.errstate(over="ignore"):
            total = row.sum()
        if not np.isfinite(total):
            raise ValueError(f"{name}[{i}] sums to inf; pass target scores with a finite sum (1 right, 0 wrong)")
        scores.append(row)
    return scores


def check_model_sizes(values: Any, name: str = "sizes") -> np.ndarray:
    """A non-empty 1-D float array of model sizes: finite numbers > 0 (e.g. parameter counts).

    >>> check_model_sizes([1e6, 0], "params")
    Traceback (most recent call last):
    ...
    ValueError: params[1] = 0 is not positive; pass model sizes > 0 (e.g. parameter counts)
    """
    what = "model sizes > 0 (e.g. parameter counts)"
    sizes = check_finite_vector(values, name, fix_empty=f"pass {what}", what=what)
    not_positive = np.flatnonzero(sizes <= 0)
    if not_positive.size:
        i = int(not_positive[0])
        raise ValueError(f"{name}[{i}] = {sizes[i]:g} is not positive; pass {what}")
    return sizes


def check_flag(value: Any, name: str) -> bool:
    """An option that is True or False (a string such as "False" would count as true).

    >>> check_flag("no", "strip")
    Traceback (most recent call last):
    ...
    ValueError: strip='no' must be True or False
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}={value!r} must be True or False")
    return bool(value)
