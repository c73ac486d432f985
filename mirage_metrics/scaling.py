"""Across model sizes: bootstrap CIs of per-model means, emergence scores, and the mirage fit.

Works on the tidy per-sample table of :func:`mirage_metrics.results.read_results`
(columns ``family, model, params, task, metric, length, sample_id, value``) and
on the per-model summary that :func:`summarise` makes from it. Per-sample
formulas live in :mod:`mirage_metrics.metrics`; this module only aggregates and
fits across sizes.

The mirage model (Schaeffer et al. 2023): the per-token loss falls as a power
law, L_CE(N) = (N / c)^α, so the per-token probability p = exp(−L_CE) rises
smoothly, while exact match on L tokens ≈ p^L jumps and token edit distance
≈ L(1 − p) falls smoothly.

>>> fit = fit_power_law([1e8, 1e9, 1e10], [(n / 2e9) ** -0.5 for n in (1e8, 1e9, 1e10)])
>>> f"{fit.c:.3g} {fit.alpha:.3g}"
'2e+09 -0.5'
>>> mirage_predictions([fit.loss([2e9])[0]], lengths=[1, 2]).round(3).to_dict("list")["accuracy"]
[0.368, 0.135]
"""

from __future__ import annotations

import re
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mirage_metrics.devices import usable_cpus
from mirage_metrics.metrics import per_token_loss

__all__ = [
    "SUMMARY_COLUMNS",
    "FIT_COLUMNS",
    "bootstrap_mean_ci",
    "binomial_ci",
    "summarise_with_resamples",
    "with_per_char_loss",
    "summarise",
    "geometric_mean_probability",
    "PowerLaw",
    "fit_power_law",
    "loss_spread_shape",
    "mirage_predictions",
    "task_stem",
    "MirageFit",
    "fit_mirage",
    "fit_table",
    "mirage_curves",
]

GROUP_COLUMNS = ["family", "model", "params", "task", "metric", "length"]
SUMMARY_COLUMNS = GROUP_COLUMNS + ["n", "mean", "ci_low", "ci_high", "interval"]
#: ``interval`` of a group whose every value is 0 or 1 (exact match, multiple-choice grade, all-correct, …).
BINOMIAL = "clopper-pearson"
#: ``interval`` of any other group: the percentile bootstrap of the mean.
BOOTSTRAP = "bootstrap"
FIT_COLUMNS = [
    "family", "task", "loss_task", "c", "alpha", "n_fit_models", "problem",
    "model", "params", "metric", "length", "predicted", "observed",
]
#: The per-sample metric the mirage fit reads: exp(target log-prob / answer characters).
PER_CHAR_PROB = "per_char_prob"
_TASK_FORMS = re.compile(r"_(gen_t1|gen|ll|mc)$")
# Index resampling draws at most this many indices per chunk (~1 MB): small enough that the buffers stay in
# cache; the random stream, and so every CI, is the same for any chunk size.
_CHUNK_VALUES = 1 << 18
# Up to this many distinct values, resampling draws multinomial counts of the values instead of indices.
_MAX_DISTINCT_FOR_COUNTS = 256


def _check_confidence(confidence: float) -> float:
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence} must lie strictly between 0 and 1, e.g. 0.95")
    return confidence


def _check_n_boot(n_boot: int) -> int:
    if int(n_boot) < 1:
        raise ValueError(f"n_boot={n_boot} must be a positive number of bootstrap resamples, e.g. 1000")
    return int(n_boot)


def _resampled_means(columns: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
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


def _multinomial_means(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray | None:
    """Bootstrap means of ``values`` with few distinct levels, ``None`` when there are too many for this path."""
    distinct, counts = np.unique(values, return_counts=True)
    if len(distinct) > _MAX_DISTINCT_FOR_COUNTS:
        return None
    # Resampling n values with replacement draws multinomial counts of the distinct values.
    n = len(values)
    return rng.multinomial(n, counts / n, size=n_boot) @ distinct / n


def _bootstrap_means(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    means = _multinomial_means(values, n_boot, rng)
    return _resampled_means(values[:, None], n_boot, rng)[:, 0] if means is None else means


def _present_values(values: np.ndarray) -> tuple[np.ndarray, float]:
    """``values`` without NaNs, and their mean: NaN when none is left, infinite with an infinite value (a
    log-probability of -inf). A mean that is not finite gets no interval."""
    present = values[~np.isnan(values)]
    return present, (float(present.mean()) if present.size else float("nan"))


def _percentile_ci(means: np.ndarray, mean: float, confidence: float) -> tuple[float, float]:
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
    confidence, n_boot = _check_confidence(confidence), _check_n_boot(n_boot)
    array, mean = _present_values(np.asarray(values, dtype=float).ravel())
    if not np.isfinite(mean):
        return int(array.size), mean, float("nan"), float("nan")
    means = _bootstrap_means(array, n_boot, np.random.default_rng(seed))
    return (int(array.size), mean, *_percentile_ci(means, mean, confidence))


def _is_binary(values: np.ndarray) -> bool:
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

    confidence = _check_confidence(confidence)
    successes, n = int(successes), int(n)
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"successes={successes} of n={n}: need n >= 1 and 0 <= successes <= n")
    tail = (1.0 - confidence) / 2.0
    low = 0.0 if successes == 0 else float(beta.ppf(tail, successes, n - successes + 1))
    high = 1.0 if successes == n else float(beta.isf(tail, successes + 1, n - successes))
    return low, high


def _group_seed(seed: int, key: tuple) -> list[int]:
    # A seed per group from its key, so a group's CI does not depend on which other groups are present.
    return [int(seed), zlib.crc32(repr(key).encode("utf-8"))]


def _check_table(table: pd.DataFrame, columns: list[str], name: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name} lacks columns {missing}; it needs {columns}")


def with_per_char_loss(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` plus ``per_char_loss`` rows, −log of each ``per_char_prob`` sample (the fit's L_CE).

    >>> table = pd.DataFrame({"family": "f", "model": "a", "params": 1.0, "task": "t_ll",
    ...     "metric": "per_char_prob", "length": np.nan, "sample_id": [0, 1], "value": [1.0, np.exp(-2)]})
    >>> with_per_char_loss(table).query("metric == 'per_char_loss'")["value"].tolist()
    [-0.0, 2.0]
    """
    _check_table(table, GROUP_COLUMNS + ["value"], "table")
    probs = table[(table["metric"] == PER_CHAR_PROB) & table["value"].notna()]
    if probs.empty:
        return table
    loss = probs.assign(metric="per_char_loss", value=per_token_loss(probs["value"].to_numpy(float)))
    if isinstance(table["metric"].dtype, pd.CategoricalDtype):  # keep read_results' compact categorical column
        table = table.assign(metric=table["metric"].cat.add_categories(["per_char_loss"]))
        loss["metric"] = loss["metric"].astype(table["metric"].dtype)
    return pd.concat([table, loss], ignore_index=True)


def _contiguous_groups(keys: pd.DataFrame, columns) -> list[tuple[tuple, np.ndarray]] | None:
    """The groups of ``keys`` when each one is a single run of rows (as :func:`read_results` lays them out), else
    ``None``; also ``None`` when a key is missing.

    >>> keys = pd.DataFrame({"a": ["x", "x", "y"], "b": [1, 1, 2]})
    >>> [(key, index.tolist()) for key, index in _contiguous_groups(keys, ["a", "b"])]
    [(('x', 1), [0, 1]), (('y', 2), [2])]
    >>> _contiguous_groups(pd.DataFrame({"a": ["x", "y", "x"]}), ["a"]) is None
    True
    """
    rows = len(keys)
    same_as_previous = np.ones(rows, dtype=bool)
    same_as_previous[0] = False
    for column in columns:
        values = keys[column]
        if values.isna().any():
            return None
        values = values.cat.codes.to_numpy() if isinstance(values.dtype, pd.CategoricalDtype) else values.to_numpy()
        same_as_previous[1:] &= values[1:] == values[:-1]
    starts = np.flatnonzero(~same_as_previous)
    run_keys = list(zip(*(keys[column].iloc[starts].tolist() for column in columns)))
    if len(set(run_keys)) != len(run_keys):
        return None
    bounds = np.append(starts, rows)
    return [(key, np.arange(start, stop)) for key, start, stop in zip(run_keys, bounds[:-1], bounds[1:])]


def _group_indices(keys: pd.DataFrame, columns=GROUP_COLUMNS) -> list[tuple[tuple, np.ndarray]]:
    """``keys.groupby(GROUP_COLUMNS, sort=False, observed=True).indices.items()``, faster at millions of rows.

    Groups that are runs of rows are read off directly. Otherwise each column is factorised once, the codes combine
    into one group id, and a stable sort of the ids gives each group's positions in ascending order; keys are the
    same Python scalars pandas gives. Falls back to pandas when a key is missing (pandas drops those rows) or the
    combined id would overflow.

    >>> keys = pd.DataFrame({"a": ["x", "y", "x"], "b": [1, 2, 1]})
    >>> [(key, index.tolist()) for key, index in _group_indices(keys, ["a", "b"])]
    [(('x', 1), [0, 2]), (('y', 2), [1])]
    """
    if len(keys) and columns:
        groups = _contiguous_groups(keys, columns)
        if groups is not None:
            return groups
    codes, levels = [], []
    for column in columns:
        column_codes, uniques = pd.factorize(keys[column], sort=False)
        codes.append(column_codes)
        levels.append(list(uniques.tolist()) if hasattr(uniques, "tolist") else list(uniques))
    shape = [max(1, len(level)) for level in levels]
    if any((c < 0).any() for c in codes) or float(np.prod(shape, dtype=float)) >= 2.0**62:
        return list(keys.groupby(columns, sort=False, observed=True).indices.items())
    combined = np.ravel_multi_index(codes, shape) if codes else np.zeros(len(keys), dtype=np.int64)
    ids, firsts = pd.factorize(combined, sort=False)
    order = np.argsort(ids.astype(np.int16) if len(firsts) < 2**15 else ids, kind="stable")
    bounds = np.cumsum(np.bincount(ids, minlength=len(firsts)))[:-1]
    key_codes = np.unravel_index(firsts, shape)
    keys_out = [tuple(level[int(code[g])] for level, code in zip(levels, key_codes)) for g in range(len(firsts))]
    return list(zip(keys_out, np.split(order, bounds)))


def _progress_bar(total: int, shown: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="bootstrap", unit="group", disable=not shown)


def summarise_with_resamples(table: pd.DataFrame, *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0,
                             progress: bool = False) -> tuple[pd.DataFrame, dict[tuple, np.ndarray]]:
    """:func:`summarise`, and each group's ``n_boot`` bootstrap means keyed by its (family, model, params, task,
    metric, length) key (length −1.0 where not by length): the replicates from which across-size statistics
    (emergence scores) get their intervals. Groups with no finite mean have none."""
    _check_table(table, GROUP_COLUMNS + ["value"], "table")
    confidence, n_boot = _check_confidence(confidence), _check_n_boot(n_boot)
    keys = table[GROUP_COLUMNS].copy()
    keys["length"] = keys["length"].astype(float).fillna(-1.0)  # groupby keeps NaN groups apart otherwise
    groups = _group_indices(keys)
    values = table["value"].to_numpy(dtype=float)
    bar = _progress_bar(len(groups), progress)
    rows, many_valued, resamples = [], {}, {}
    for key, index in groups:
        group_values, mean = _present_values(values[index])
        if not np.isfinite(mean):
            rows.append((*key, group_values.size, mean, float("nan"), float("nan"), BOOTSTRAP))
        else:
            means = _multinomial_means(group_values, n_boot, np.random.default_rng(_group_seed(seed, key)))
            if means is None:  # resampled below, with the other many-valued metrics of its model and task
                many_valued.setdefault((*key[:4], group_values.size), []).append((key, group_values, mean))
                continue
            resamples[key] = means
            if _is_binary(group_values):
                interval = binomial_ci(int(group_values.sum()), group_values.size, confidence=confidence)
                rows.append((*key, group_values.size, mean, *interval, BINOMIAL))
            else:
                rows.append((*key, group_values.size, mean, *_percentile_ci(means, mean, confidence), BOOTSTRAP))
        bar.update()

    def resample(shared_key: tuple, members: list) -> np.ndarray:
        columns = np.column_stack([group_values for _, group_values, _ in members])
        return _resampled_means(columns, n_boot, np.random.default_rng(_group_seed(seed, shared_key)))

    # numpy releases the GIL while drawing, counting and multiplying, so threads share the work; every draw has
    # its own seeded stream, so the intervals do not depend on the number of threads.
    with ThreadPoolExecutor(usable_cpus()) as pool:
        for members, resampled in zip(many_valued.values(), pool.map(resample, many_valued, many_valued.values())):
            for (key, group_values, mean), means in zip(members, resampled.T):
                resamples[key] = means
                rows.append((*key, group_values.size, mean, *_percentile_ci(means, mean, confidence), BOOTSTRAP))
            bar.update(len(members))
    bar.close()
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    summary["length"] = summary["length"].where(summary["length"] >= 0)
    summary["params"] = summary["params"].astype(float)
    return summary.sort_values(["family", "task", "metric", "length", "params", "model"], ignore_index=True), resamples


def summarise(table: pd.DataFrame, *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0,
              progress: bool = False) -> pd.DataFrame:
    """Per (family, model, params, task, metric, length): n, mean and confidence interval of the per-sample values.

    ``table`` is the tidy per-sample table (``value`` NaN where a sample has no
    value, e.g. a prefix longer than its answer). Rows are sorted by family,
    task, metric, length and params; ``length`` is NaN where not by length.

    The ``interval`` column says how each CI was made: ``clopper-pearson``
    (:func:`binomial_ci`, exact) where every value is 0 or 1, so that 0 of n
    reads "below about 3.7/n" and not ``[0, 0]``; ``bootstrap`` (percentile,
    ``n_boot`` resamples) otherwise.

    Each group is resampled with a seed from its key alone, so its CI does not
    depend on which other groups are present. Metrics with many distinct values
    (log-probabilities, per-character probabilities and losses) share their
    resamples within a (family, model, task) and count of values: the same
    resampled rows for each, a paired bootstrap over the documents of an
    ``_ll`` task, drawn once instead of once per metric. Those draws run in
    threads, one per core; the intervals do not depend on how many.

    >>> table = pd.DataFrame({"family": "f", "model": ["a"] * 4 + ["b"] * 4, "params": [1.0] * 4 + [2.0] * 4,
    ...     "task": "t", "metric": "exact_match", "length": np.nan, "sample_id": list(range(4)) * 2,
    ...     "value": [0, 0, 0, 1, 1, 1, 1, 1]})
    >>> summarise(table)[["model", "n", "mean", "ci_high", "interval"]].round(3).to_dict("list")
    {'model': ['a', 'b'], 'n': [4, 4], 'mean': [0.25, 1.0], 'ci_high': [0.806, 1.0], 'interval': ['clopper-pearson', 'clopper-pearson']}
    """
    return summarise_with_resamples(table, n_boot=n_boot, confidence=confidence, seed=seed, progress=progress)[0]


def geometric_mean_probability(summary: pd.DataFrame, metric: str = "target_log_prob") -> pd.DataFrame:
    """Summary rows of a log-probability ``metric`` mapped through exp (mean and CI bounds).

    exp(mean log p) is the geometric-mean probability of the target: a measure of
    the same outputs with no resolution floor, to set beside greedy accuracy.

    >>> summary = pd.DataFrame({"metric": ["target_log_prob"], "mean": [np.log(0.5)],
    ...     "ci_low": [np.log(0.25)], "ci_high": [0.0]})
    >>> geometric_mean_probability(summary)[["metric", "mean", "ci_low", "ci_high"]].to_dict("records")
    [{'metric': 'exp_target_log_prob', 'mean': 0.5, 'ci_low': 0.25, 'ci_high': 1.0}]
    """
    rows = summary[summary["metric"] == metric].copy()
    for column in ("mean", "ci_low", "ci_high"):
        rows[column] = np.exp(rows[column].astype(float))
    rows["metric"] = f"exp_{metric}"
    return rows


@dataclass(frozen=True)
class PowerLaw:
    """L_CE(N) = (N / c)^alpha, fitted by least squares in log-log space.

    ``log_c`` (derived from ``c`` when not given) keeps predictions finite when a
    nearly flat fit puts c beyond the float range (c is then inf).

    >>> PowerLaw(c=2e9, alpha=-0.5).loss([2e9, 8e9]).round(12).tolist()
    [1.0, 0.5]
    >>> law = PowerLaw(c=float("inf"), alpha=-0.001, log_c=1000.0)
    >>> bool(np.isfinite(law.loss([1e6])).all())
    True
    """

    c: float
    alpha: float
    log_c: float | None = None

    def __post_init__(self) -> None:
        if self.log_c is None:
            object.__setattr__(self, "log_c", float(np.log(self.c)))

    @property
    def problem(self) -> str:
        """Why this law predicts nothing useful (``""`` when it does): a loss that rises or stays flat with size.

        >>> PowerLaw(c=2e9, alpha=-0.5).problem
        ''
        >>> PowerLaw(c=1e3, alpha=0.2).problem
        'the loss rises with size (alpha = 0.2 > 0)'
        """
        if self.alpha > 0:
            return f"the loss rises with size (alpha = {self.alpha:.3g} > 0)"
        if not np.isfinite(self.c):
            return f"the loss is flat with size (alpha = {self.alpha:.3g}, c beyond the float range)"
        return ""

    def loss(self, params) -> np.ndarray:
        """Predicted per-token loss at parameter counts ``params``."""
        return np.exp(self.alpha * (np.log(np.asarray(params, dtype=float)) - self.log_c))


def fit_power_law(params, loss) -> PowerLaw:
    """Fit L_CE(N) = (N / c)^α to per-token losses: a straight line of log L on log N.

    >>> fit = fit_power_law([1e6, 1e7], [4.0, 2.0])
    >>> round(fit.alpha, 4), f"{fit.loss([1e8])[0]:.3f}"
    (-0.301, '1.000')
    >>> fit_power_law([1e6, 1e7], [1.0, 1.0])
    Traceback (most recent call last):
    ...
    ValueError: loss does not change with params (alpha = 0); the power law L = (N/c)^alpha needs a trend
    """
    x = np.asarray(params, dtype=float)
    y = np.asarray(loss, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"params and loss must be 1-D of equal length, got shapes {x.shape} and {y.shape}")
    if len(np.unique(x)) < 2:
        raise ValueError("params must hold at least two different model sizes to fit a power law")
    if not (np.all(np.isfinite(x)) and np.all(x > 0)):
        raise ValueError(f"params must be positive and finite, got {x.tolist()}")
    if not (np.all(np.isfinite(y)) and np.all(y > 0)):
        raise ValueError(f"loss must be positive and finite per-token cross-entropies, got {y.tolist()}")
    alpha, intercept = np.polyfit(np.log(x), np.log(y), 1)
    if alpha == 0.0:
        raise ValueError("loss does not change with params (alpha = 0); the power law L = (N/c)^alpha needs a trend")
    log_c = float(-intercept / alpha)
    with np.errstate(over="ignore"):
        c = float(np.exp(log_c))
    return PowerLaw(c=c, alpha=float(alpha), log_c=log_c)


def _mean_exp(loss, scale, shape: float):
    """E[exp(−scale·ℓ)] for per-sample losses ℓ ~ Gamma(shape) with mean ``loss``; exp(−scale·loss) at shape inf."""
    if np.isinf(shape):
        return np.exp(-loss) ** scale
    return np.exp(-shape * np.log1p(scale * loss / shape))


def loss_spread_shape(mean_loss: float, mean_prob: float) -> float:
    """Shape k of the gamma distribution of per-sample losses ℓ with mean ``mean_loss`` and E[exp(−ℓ)] = ``mean_prob``.

    The mean of p_i^L over samples is not p^L of the mean loss (Jensen's gap): samples
    that differ in loss lift it. A gamma with the observed mean and E[exp(−ℓ)] keeps
    both; E[exp(−Lℓ)] = (1 + L·mean/k)^(−k). Smaller k: more spread; inf: every sample
    has the mean loss (then E[exp(−ℓ)] = exp(−mean), the paper's p^L).

    >>> round(loss_spread_shape(1.0, 0.5), 3), loss_spread_shape(1.0, float(np.exp(-1.0)))
    (1.0, inf)
    """
    from scipy.optimize import brentq

    mean_loss, mean_prob = float(mean_loss), float(mean_prob)
    if not (np.isfinite(mean_loss) and mean_loss > 0):
        raise ValueError(f"mean_loss={mean_loss} must be a positive mean per-sample loss")
    if not 0 < mean_prob < 1:
        raise ValueError(f"mean_prob={mean_prob} must be a mean per-sample probability strictly between 0 and 1")
    gap = lambda log_k: float(_mean_exp(mean_loss, 1.0, np.exp(log_k))) - mean_prob  # noqa: E731  falls with k
    if gap(np.log(1e6)) >= -1e-12 * mean_prob:
        return float("inf")  # no spread to see (the mean of exp(-loss) is exp(-mean loss) up to rounding)
    if gap(np.log(1e-6)) <= 0:
        return 1e-6
    return float(np.exp(brentq(gap, np.log(1e-6), np.log(1e6), xtol=1e-10)))


def mirage_predictions(loss, lengths=(1, 2, 3, 4, 5), *, shape: float = float("inf")) -> pd.DataFrame:
    """The paper's predictions from per-token loss, one row per (loss, length).

    p = exp(−L_CE); accuracy (exact match on L tokens) = p^L; token edit distance
    = L(1 − p); two-choice Brier score (BIG-bench's per-option normalisation) of
    the L-token target = (1 − p^L)². With a finite ``shape`` k (see
    :func:`loss_spread_shape`) the per-sample losses spread as a gamma around
    ``loss``, and p and accuracy are their means over samples: (1 + loss/k)^(−k)
    and (1 + L·loss/k)^(−k).

    >>> mirage_predictions([np.log(2)], lengths=[1, 3]).to_dict("list")
    {'loss': [0.6931471805599453, 0.6931471805599453], 'length': [1, 3], 'p': [0.5, 0.5], 'accuracy': [0.5, 0.125], 'token_edit_distance': [0.5, 1.5], 'brier': [0.25, 0.765625]}
    >>> mirage_predictions([1.0], lengths=[1, 3], shape=1.0)["accuracy"].tolist()
    [0.5, 0.25]
    """
    loss = np.asarray(loss, dtype=float).ravel()
    lengths = np.asarray([int(n) for n in lengths])
    if loss.size == 0 or not np.all(np.isfinite(loss)) or np.any(loss < 0):
        raise ValueError(f"loss must be non-empty, finite and non-negative, got {loss.tolist()}")
    if lengths.size == 0 or np.any(lengths < 1):
        raise ValueError(f"lengths={lengths.tolist()} must be positive integers, e.g. 1..5")
    if not float(shape) > 0:
        raise ValueError(f"shape={shape} must be a positive gamma shape (inf: no spread between samples)")
    loss_grid, length_grid = np.meshgrid(loss, lengths, indexing="ij")
    p = _mean_exp(loss_grid, 1.0, float(shape))
    accuracy = _mean_exp(loss_grid, length_grid, float(shape))
    return pd.DataFrame({
        "loss": loss_grid.ravel(),
        "length": length_grid.ravel(),
        "p": p.ravel(),
        "accuracy": accuracy.ravel(),
        "token_edit_distance": (length_grid * (1.0 - p)).ravel(),
        "brier": ((1.0 - accuracy) ** 2).ravel(),
    })


def task_stem(task: str) -> str:
    """The task without its form suffix, grouping the forms of one problem set.

    >>> task_stem("mirage_arith_2dm_gen_t1"), task_stem("mirage_arith_2dm_ll"), task_stem("custom")
    ('mirage_arith_2dm', 'mirage_arith_2dm', 'custom')
    """
    return _TASK_FORMS.sub("", task)


@dataclass(frozen=True)
class MirageFit:
    """The power law fitted to one family's per-character loss on one task stem, and held-out checks."""

    family: str
    stem: str
    loss_task: str
    law: PowerLaw
    fit_models: tuple
    held_out: pd.DataFrame  # task, model, params, metric, length, predicted, observed
    shape: float = float("inf")  # gamma shape of the per-sample losses (loss_spread_shape); inf: no spread

    @property
    def problem(self) -> str:
        """The law's :attr:`PowerLaw.problem`: when set, the fit's predictions are withheld (NaN)."""
        return self.law.problem


def _per_model_loss(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (family, task, model) the per-character loss −log(geometric-mean per-char probability)."""
    rows = summary[(summary["metric"] == "per_char_loss") & np.isfinite(summary["mean"])]
    return rows[["family", "task", "model", "params", "mean"]].rename(columns={"mean": "loss"})


def _loss_task(tasks: list[str]) -> str:
    loglikelihood = [t for t in tasks if t.endswith("_ll")]
    return sorted(loglikelihood or tasks)[0]


#: The form whose outputs the mirage predictions describe: temperature-1 samples, where accuracy ≈ p^L.
SAMPLED_FORM = "_gen_t1"


def _held_out_rows(law: PowerLaw, observed: pd.DataFrame, held_out: pd.DataFrame, loss_task: str,
                   shape: float = float("inf")) -> pd.DataFrame:
    """Predicted vs observed per held-out model: loss on the loss task, and accuracy (the mean of p_i^L over
    samples, per-sample losses spread with gamma ``shape``) and TED by L on the stem's temperature-1 task (greedy
    accuracy is not p^L, so greedy tasks are not compared). Predictions of a law with a
    :attr:`PowerLaw.problem` are NaN."""
    rows = []
    withheld = bool(law.problem)
    for model in held_out.itertuples(index=False):
        predicted_loss = float(law.loss([model.params])[0])
        rows.append((loss_task, model.model, model.params, "per_char_loss", np.nan,
                     np.nan if withheld else predicted_loss, model.loss))
        by_length = observed[(observed["model"] == model.model) & observed["length"].notna()
                             & observed["task"].str.endswith(SAMPLED_FORM)
                             & observed["metric"].isin(["exact_match", "token_edit_distance"])]
        if by_length.empty:
            continue
        lengths = sorted(by_length["length"].astype(int).unique())
        prediction = mirage_predictions([predicted_loss], lengths, shape=shape).set_index("length")
        for row in by_length.itertuples(index=False):
            column = "accuracy" if row.metric == "exact_match" else "token_edit_distance"
            predicted = np.nan if withheld else float(prediction.loc[int(row.length), column])
            rows.append((row.task, row.model, row.params, row.metric, row.length, predicted, row.mean))
    return pd.DataFrame(rows, columns=["task", "model", "params", "metric", "length", "predicted", "observed"])


def _spread_shape(fit_on: pd.DataFrame, loss_rows: pd.DataFrame) -> float:
    """Median gamma shape of the fitted models' per-sample losses (inf without ``per_char_prob`` rows)."""
    probs = loss_rows[(loss_rows["metric"] == PER_CHAR_PROB) & loss_rows["length"].isna()].set_index("model")["mean"]
    shapes = [loss_spread_shape(row.loss, probs[row.model]) for row in fit_on.itertuples(index=False)
              if row.model in probs.index and row.loss > 0 and 0 < probs[row.model] < 1]
    return float(np.median(shapes)) if shapes else float("inf")


def fit_mirage(summary: pd.DataFrame, holdout_largest: int = 0) -> list[MirageFit]:
    """Fit the mirage power law per (family, task stem) that has a ``per_char_loss`` curve.

    The loss comes from the stem's ``_ll`` task when there is one. The spread of
    per-sample losses around that mean scales with it: the gamma shape
    (:func:`loss_spread_shape`, from each fitted model's mean ``per_char_prob``) is
    the median over the fitted models, so held-out accuracy is predicted as the mean
    of p_i^L, not as p^L of the mean loss (Jensen's gap). With
    ``holdout_largest=k`` the fit leaves out the k largest models and compares its
    predictions for them (loss; exact match p^L and token edit distance L(1 − p)
    on the stem's temperature-1 task, ``*_gen_t1``) with what they scored.
    Stems with a single size, or whose losses cannot be fitted (a warning says
    why), get no fit; a fit whose loss rises or stays flat with size is kept
    with its :attr:`MirageFit.problem` set, a warning, and no predictions.
    """
    _check_table(summary, GROUP_COLUMNS + ["mean"], "summary")
    if int(holdout_largest) < 0:
        raise ValueError(f"holdout_largest={holdout_largest} must be 0 or a positive number of models")
    losses = _per_model_loss(summary)
    fits = []
    for (family, stem), group in losses.groupby(["family", losses["task"].map(task_stem)], sort=True):
        loss_task = _loss_task(group["task"].unique().tolist())
        curve = group[group["task"] == loss_task].sort_values("params")
        fit_on = curve.iloc[: len(curve) - int(holdout_largest)]
        if fit_on["params"].nunique() < 2:
            if int(holdout_largest) == 0:
                continue  # a single size: nothing to fit
            raise ValueError(
                f"holdout_largest={holdout_largest} leaves {len(fit_on)} model(s) of family {family!r} "
                f"to fit on task {loss_task!r}; the fit needs at least two sizes, so hold out fewer"
            )
        try:
            law = fit_power_law(fit_on["params"], fit_on["loss"])
        except ValueError as error:  # e.g. a loss of exactly 0: report the rest without this fit
            warnings.warn(f"no mirage fit for family {family!r}, task {loss_task!r}: {error}", stacklevel=2)
            continue
        if law.problem:
            warnings.warn(f"mirage fit for family {family!r}, task {loss_task!r}: {law.problem}; "
                          "its predictions are withheld", stacklevel=2)
        held_out = curve.iloc[len(fit_on):]
        observed = summary[(summary["family"] == family) & (summary["task"].map(task_stem) == stem)]
        shape = _spread_shape(fit_on, observed[observed["task"] == loss_task])
        fits.append(MirageFit(family, stem, loss_task, law, tuple(fit_on["model"]),
                              _held_out_rows(law, observed, held_out, loss_task, shape), shape))
    return fits


def fit_table(fits: list[MirageFit]) -> pd.DataFrame:
    """The rows of ``fit.csv``: one per fit, or one per held-out (model, metric, length) comparison."""
    rows = []
    for fit in fits:
        head = {"family": fit.family, "loss_task": fit.loss_task, "c": fit.law.c, "alpha": fit.law.alpha,
                "n_fit_models": len(fit.fit_models), "problem": fit.problem}
        if fit.held_out.empty:
            rows.append({**head, "task": fit.loss_task})
        rows.extend({**head, **check} for check in fit.held_out.to_dict("records"))
    return pd.DataFrame(rows, columns=FIT_COLUMNS)


def mirage_curves(fit: MirageFit, params, lengths) -> pd.DataFrame:
    """Predicted loss, p, accuracy and TED by length along ``params`` (for plotting the fit).

    >>> law = PowerLaw(c=2e9, alpha=-0.5)
    >>> fit = MirageFit("f", "t", "t_ll", law, ("a", "b"), pd.DataFrame())
    >>> mirage_curves(fit, [3.5e8, 1.75e11], lengths=[1]).round(3)[["params", "p"]].to_dict("list")
    {'params': [350000000.0, 175000000000.0], 'p': [0.092, 0.899]}
    """
    params = np.asarray(params, dtype=float).ravel()
    curves = mirage_predictions(fit.law.loss(params), lengths, shape=fit.shape)
    curves.insert(0, "params", np.repeat(params, len(list(lengths))))
    return curves
