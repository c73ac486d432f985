"""Intervals of a mean: the percentile bootstrap (vectorised resampling) and the exact binomial interval.

The resampling engine behind :func:`mirage_metrics.summary.summarise`: values with
few distinct levels are resampled as multinomial counts of those levels, others as
counts of resampled row indices, several columns with the same rows at once.

>>> n, mean, low, high = bootstrap_mean_ci([0.0, 1.0, 2.0, 3.0], seed=0)
>>> n, mean, low <= mean <= high
(4, 1.5, True)
"""

from __future__ import annotations

import numpy as np

__all__ = ["bootstrap_mean_ci", "binomial_ci"]

# Index resampling draws at most this many indices per chunk (~1 MB): small enough that the buffers stay in
# cache; the random stream, and so every CI, is the same for any chunk size.
_CHUNK_VALUES = 1 << 18
# Up to this many distinct values, resampling draws multinomial counts of the values instead of indices.
_MAX_DISTINCT_FOR_COUNTS = 256


def check_confidence(confidence: float) -> float:
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence} must lie strictly between 0 and 1, e.g. 0.95")
    return confidence


def check_n_boot(n_boot: int) -> int:
    if int(n_boot) < 1:
        raise ValueError(f"n_boot={n_boot} must be a positive number of bootstrap resamples, e.g. 1000")
    return int(n_boot)


def resampled_means(columns: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap means, shape ``(n_boot, k)``, of the ``k`` columns of ``columns`` (shape ``(n, k)``), all resampled
    with the same row indices: each resample's counts of every row, times the columns, over n."""
    n = len(columns)
    means = np.empty((n_boot, columns.shape[1]))
    rows = max(1, _CHUNK_VALUES // n)
    index_dtype = np.int64 if n * rows > 2**31 - 1 else np.int32
    for start in range(0, n_boot, rows):
        stop = min(n_boot, start + rows)
        index = rng.integers(0, n, size=(stop - start, n), dtype=index_dtype)
        index += (np.arange(stop - start, dtype=index_dtype) * n)[:, None]
        counts = np.bincount(index.ravel(), minlength=(stop - start) * n).reshape(stop - start, n)
        means[start:stop] = counts.astype(float) @ columns / n
    return means


def multinomial_means(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray | None:
    """Bootstrap means of ``values`` with few distinct levels, ``None`` when there are too many for this path."""
    distinct, counts = np.unique(values, return_counts=True)
    if len(distinct) > _MAX_DISTINCT_FOR_COUNTS:
        return None
    # Resampling n values with replacement draws multinomial counts of the distinct values.
    n = len(values)
    return rng.multinomial(n, counts / n, size=n_boot) @ distinct / n


def _bootstrap_means(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    means = multinomial_means(values, n_boot, rng)
    return resampled_means(values[:, None], n_boot, rng)[:, 0] if means is None else means


def present_values(values: np.ndarray) -> tuple[np.ndarray, float]:
    """``values`` without NaNs, and their mean: NaN when none is left, infinite with an infinite value (a
    log-probability of -inf). A mean that is not finite gets no interval."""
    present = values[~np.isnan(values)]
    return present, (float(present.mean()) if present.size else float("nan"))


def percentile_ci(means: np.ndarray, mean: float, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(min(low, mean)), float(max(high, mean))


def bootstrap_mean_ci(values, *, n_boot: int = 1000, confidence: float = 0.95, seed=0) -> tuple:
    """``(n, mean, ci_low, ci_high)`` of ``values`` with a percentile bootstrap CI; NaNs are dropped.

    Vectorised: values with few distinct levels (0/1 accuracies, small edit
    distances) are resampled as multinomial counts of those levels, others as
    counts of resampled indices in chunks, so memory stays bounded for any
    number of samples. An infinite value leaves the interval NaN.

    >>> n, mean, low, high = bootstrap_mean_ci([0, 1, 1, 1, np.nan], seed=1)
    >>> n, mean, 0.0 <= low <= mean <= high <= 1.0
    (4, 0.75, True)
    >>> bootstrap_mean_ci([np.nan])
    (0, nan, nan, nan)
    """
    confidence, n_boot = check_confidence(confidence), check_n_boot(n_boot)
    array, mean = present_values(np.asarray(values, dtype=float).ravel())
    if not np.isfinite(mean):
        return int(array.size), mean, float("nan"), float("nan")
    means = _bootstrap_means(array, n_boot, np.random.default_rng(seed))
    return (int(array.size), mean, *percentile_ci(means, mean, confidence))


def is_binary(values: np.ndarray) -> bool:
    return bool(values.size) and bool(np.all((values == 0.0) | (values == 1.0)))


def binomial_ci(successes: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper–Pearson) interval of a proportion: ``successes`` of ``n`` 0/1 samples.

    Used for every group whose values are all 0 or 1, where a bootstrap says
    nothing at the extremes: 0 of n resamples to ``[0, 0]``, while the exact
    upper bound, 1 − (α/2)^(1/n) ≈ 3.7/n at 95%, says "below about 3/n"
    (the paper's Fig 4 point). It covers the true proportion at least
    ``confidence`` of the time for every p and n.

    >>> [round(v, 5) for v in binomial_ci(0, 1000)]
    [0.0, 0.00368]
    >>> [round(v, 3) for v in binomial_ci(5, 10)]
    [0.187, 0.813]
    """
    from scipy.stats import beta

    confidence = check_confidence(confidence)
    successes, n = int(successes), int(n)
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"successes={successes} of n={n}: need n >= 1 and 0 <= successes <= n")
    tail = (1.0 - confidence) / 2.0
    low = 0.0 if successes == 0 else float(beta.ppf(tail, successes, n - successes + 1))
    high = 1.0 if successes == n else float(beta.isf(tail, successes + 1, n - successes))
    return low, high
