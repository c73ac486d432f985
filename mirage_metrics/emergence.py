"""Across model sizes, per curve: how sharp is it, with intervals, and does it jump, rise smoothly or neither.

A curve is one (family, task, metric, length) of the per-model summary
(:func:`mirage_metrics.summary.summarise`). For each, with the metric's direction
from :mod:`mirage_metrics.registry` applied first (so positive always means "gets
better with size"):

- ``emergence_score``: BIG-bench's breakthroughness, kept for comparability; weak
  with few sizes (a straight line over n sizes scores n − 1; with 3 sizes a line
  scores 2 and flat-then-jump 1.41);
- ``sharpness``: :func:`mirage_metrics.metrics.jump_sharpness`, 0 for equal steps
  and 1 for a single jump at every n ≥ 3;
- both with percentile intervals from the per-model bootstrap replicates of the
  per-sample data (each model's samples resampled independently);
- ``trend``, the one rule used everywhere on the report page (:func:`curve_trend`);
- ``values``: ``0/1`` when every model's per-sample values are 0 or 1 (so a
  "continuous" metric such as token edit distance at L = 1 is really all or
  nothing there), ``graded`` otherwise, empty for aggregate-only metrics.

>>> summary = pd.DataFrame({"family": "f", "model": list("abcd"), "params": [1e6, 1e7, 1e8, 1e9],
...     "task": "t", "metric": "token_edit_distance", "length": 2.0, "mean": [2.0, 2.0, 1.99, 1.1],
...     "ci_low": [1.9, 1.9, 1.9, 1.0], "ci_high": [2.1, 2.1, 2.1, 1.2]})
>>> row = curve_table(summary).iloc[0]
>>> round(float(row.emergence_score), 2), round(float(row.sharpness), 3), row.direction, row.trend
(90.0, 0.983, 'lower', 'jumps')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mirage_metrics import registry
from mirage_metrics.metrics import emergence_score, jump_sharpness
from mirage_metrics.summary import BINOMIAL, BOOTSTRAP

__all__ = ["SHARP", "CURVE_COLUMNS", "curve_trend", "curve_table"]

#: A curve "jumps" when its sharpness interval lies at or above this, and is "smooth" when it lies below it.
SHARP = 0.5
CURVE_COLUMNS = [
    "family",
    "task",
    "metric",
    "length",
    "n_sizes",
    "direction",
    "kind",
    "emergence_score",
    "emergence_low",
    "emergence_high",
    "sharpness",
    "sharpness_low",
    "sharpness_high",
    "largest_step_from",
    "largest_step_to",
    "changes",
    "trend",
    "values",
]
_DIRECTIONS = {1.0: "higher", -1.0: "lower"}


def curve_trend(n_sizes: int, sharpness_low: float, sharpness_high: float, changes: bool) -> str:
    """The verdict on one curve, from its sharpness interval.

    ``"too few sizes"`` below 3 sizes (one step cannot be compared with another);
    ``"no clear change"`` when the best model's interval overlaps the worst's;
    ``"jumps"`` when the whole sharpness interval is ≥ :data:`SHARP` (most of the
    change comes in one step, upward); ``"falls sharply"`` when it is ≤ −SHARP;
    ``"smooth"`` when it lies inside (−SHARP, SHARP); ``"unclear"`` otherwise.

    >>> curve_trend(8, 0.7, 0.95, True), curve_trend(8, 0.1, 0.4, True), curve_trend(8, 0.3, 0.8, True)
    ('jumps', 'smooth', 'unclear')
    >>> curve_trend(2, 1.0, 1.0, True), curve_trend(5, 0.9, 1.0, False)
    ('too few sizes', 'no clear change')
    """
    if n_sizes < 3:
        return "too few sizes"
    if not changes:
        return "no clear change"
    if sharpness_low >= SHARP:
        return "jumps"
    if sharpness_high <= -SHARP:
        return "falls sharply"
    if -SHARP < sharpness_low and sharpness_high < SHARP:
        return "smooth"
    return "unclear"


def _interval(replicates: np.ndarray, point: float, confidence: float) -> tuple[float, float]:
    finite = replicates[~np.isnan(replicates)]
    if finite.size == 0:
        return point, point
    tail = (1.0 - confidence) / 2.0
    low = float(np.quantile(finite, tail, method="lower"))
    high = float(np.quantile(finite, 1.0 - tail, method="higher"))
    return min(low, point), max(high, point)


def _changes(signed_means: np.ndarray, signed_low: np.ndarray, signed_high: np.ndarray) -> bool:
    """Whether the best model's interval lies wholly above the worst's (no intervals: any difference counts)."""
    best, worst = int(np.argmax(signed_means)), int(np.argmin(signed_means))
    if np.isnan(signed_low[best]) or np.isnan(signed_high[worst]):
        return bool(signed_means[best] > signed_means[worst])
    return bool(signed_low[best] > signed_high[worst])


def _replicates(curve: pd.DataFrame, resamples: dict | None) -> np.ndarray | None:
    """Bootstrap means, shape (n_boot, sizes), in the curve's row order; None unless every model has them."""
    if not resamples:
        return None
    columns = []
    for row in curve.itertuples(index=False):
        length = -1.0 if pd.isna(row.length) else float(row.length)
        key = (row.family, row.model, row.params, row.task, row.metric, length)
        if key not in resamples:
            return None
        columns.append(resamples[key])
    return np.column_stack(columns)


def curve_table(
    summary: pd.DataFrame,
    resamples: dict | None = None,
    *,
    confidence: float = 0.95,
    higher_is_better: dict | None = None,
) -> pd.DataFrame:
    """One row per curve with ≥ 2 sizes: :data:`CURVE_COLUMNS`.

    ``resamples`` (from :func:`mirage_metrics.summary.summarise_with_resamples`)
    gives the intervals; without them (or for aggregate-only metrics) the
    interval is the point value. ``higher_is_better`` maps a metric name to
    lm-eval's own flag, used only for metrics the registry does not know; a
    metric with no known direction keeps its raw values (``direction``
    ``"unknown"``). Two models of one family with the same parameter count on
    one curve is an error naming them.
    """
    missing = [c for c in ("family", "model", "params", "task", "metric", "length", "mean") if c not in summary]
    if missing:
        raise ValueError(f"summary lacks columns {missing}; pass the output of mirage_metrics.summary.summarise")
    rows = []
    groups = summary.groupby(["family", "task", "metric", "length"], sort=True, dropna=False)
    for (family, task, metric, length), curve in groups:
        curve = curve[np.isfinite(curve["mean"].astype(float))].sort_values("params")
        if len(curve) < 2:
            continue
        if curve["params"].duplicated().any():
            duplicated = curve.loc[curve["params"].duplicated(keep=False), "model"].tolist()
            raise ValueError(
                f"family {family!r} has models with the same parameter count {duplicated}; "
                "give each size its own count (--params FILE) or put them in different families"
            )
        fallback = (higher_is_better or {}).get(registry.base_name(metric))
        info = registry.metric_info(metric, fallback)
        sign = 1.0 if np.isnan(info.sign) else info.sign
        sizes = curve["params"].to_numpy(float)
        means = sign * curve["mean"].to_numpy(float)
        low = sign * curve.get("ci_low", pd.Series(np.nan, index=curve.index)).to_numpy(float)
        high = sign * curve.get("ci_high", pd.Series(np.nan, index=curve.index)).to_numpy(float)
        signed_low, signed_high = np.fmin(low, high), np.fmax(low, high)
        es, sharp = emergence_score(sizes, means), jump_sharpness(sizes, means)
        es_interval, sharp_interval = (es, es), (sharp, sharp)
        replicates = _replicates(curve, resamples)
        if replicates is not None and np.all(np.isfinite(replicates)):
            es_interval = _interval(emergence_score(sizes, sign * replicates), es, confidence)
            sharp_interval = _interval(jump_sharpness(sizes, sign * replicates), sharp, confidence)
        step = int(np.argmax(np.abs(np.diff(means))))
        models = curve["model"].tolist()
        changes = _changes(means, signed_low, signed_high)
        intervals = curve.get("interval", pd.Series("", index=curve.index))
        values = "0/1" if (intervals == BINOMIAL).all() else ("graded" if intervals.eq(BOOTSTRAP).any() else "")
        rows.append(
            (
                family,
                task,
                metric,
                length,
                len(curve),
                _DIRECTIONS.get(info.sign, "unknown"),
                info.kind,
                es,
                *es_interval,
                sharp,
                *sharp_interval,
                models[step],
                models[step + 1],
                changes,
                curve_trend(len(curve), sharp_interval[0], sharp_interval[1], changes),
                values,
            )
        )
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)
