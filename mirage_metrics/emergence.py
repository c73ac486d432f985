"""Across model sizes, per curve: how sharp is it, with intervals, and does it jump, rise smoothly or neither.

A curve is one metric's values against parameter count over the models of one
family: one (family, task, metric, length) of the per-model summary
(:func:`mirage_metrics.summary.summarise`, the report) or one (source, family,
task, subtask, shots, metric) of the meta-analysis frame
(:func:`mirage_metrics.meta.read_sources`). :func:`curve_table` scores both the same
way, one row of :data:`CURVE_SCORE_COLUMNS` per curve, with the metric's direction
applied first (so positive always means "gets better with size"): the registry's
(:mod:`mirage_metrics.registry`), else lm-eval's own ``higher_is_better`` when given,
else none (raw values, ``direction`` ``"unknown"``).

- ``emergence_score``: BIG-bench's breakthroughness (:func:`emergence_score`), kept
  for comparability; weak with few sizes (a straight line over n sizes scores n − 1;
  with 3 sizes a line scores 2 and flat-then-jump 1.41);
- ``sharpness``: :func:`jump_sharpness`, 0 for equal steps and 1 for a single jump at
  every n ≥ 3;
- both with percentile intervals from the per-model bootstrap replicates of the
  per-sample data (each model's samples resampled independently) when given; else
  the interval is the point value;
- ``trend``, the one rule used everywhere on the report page (:func:`curve_trend`);
- ``values``: ``0/1`` when every model's per-sample values are 0 or 1 (so a
  "continuous" metric such as token edit distance at L = 1 is really all or
  nothing there), ``graded`` otherwise, empty for aggregate-only metrics.

This module does not import pandas (its tables come from the caller), so ``import
mirage_metrics``, which exports :func:`emergence_score` and :func:`jump_sharpness`, stays light.

>>> import pandas as pd
>>> summary = pd.DataFrame({"family": "f", "model": list("abcd"), "params": [1e6, 1e7, 1e8, 1e9],
...     "task": "t", "metric": "token_edit_distance", "length": 2.0, "mean": [2.0, 2.0, 1.99, 1.1],
...     "ci_low": [1.9, 1.9, 1.9, 1.0], "ci_high": [2.1, 2.1, 2.1, 1.2]})
>>> row = curve_table(summary).iloc[0]
>>> round(float(row.emergence_score), 2), round(float(row.sharpness), 3), row.direction, row.trend
(90.0, 0.983, 'lower', 'jumps')
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from mirage_metrics import registry
from mirage_metrics.validation import check_finite_vector, check_model_sizes, check_rectangular, check_same_length

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SHARP",
    "SUMMARY_CURVE_KEYS",
    "CURVE_SCORE_COLUMNS",
    "emergence_score",
    "jump_sharpness",
    "curve_trend",
    "curve_table",
]

#: A curve "jumps" when its sharpness interval lies at or above this, and is "smooth" when it lies below it.
SHARP = 0.5
#: What makes one curve of the per-model summary (the report's ``emergence.csv`` starts with these).
SUMMARY_CURVE_KEYS = ["family", "task", "metric", "length"]
#: The columns :func:`curve_table` adds after a curve's keys.
CURVE_SCORE_COLUMNS = [
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


def _sorted_curves(sizes, scores) -> tuple[np.ndarray, bool]:
    """``scores`` as a 2-D array (one curve per row) with columns in ascending order of ``sizes``.

    Each curve is multiplied by a power of two (exactly, so scale-free measures
    keep every bit) to bring its largest magnitude into [0.5, 1): differences of
    scores near the float limits (e.g. ±1e308) then stay finite.
    """
    x = check_model_sizes(sizes, "sizes")
    y = check_rectangular(scores, "scores", dtype=float, what="one score per size or a 2-D array of curves")
    one_curve = y.ndim == 1
    if one_curve:
        y = check_finite_vector(y, "scores")
        check_same_length(x, y, "sizes", "scores")
        y = y[None, :]
    else:
        if y.ndim != 2 or y.shape[1] != len(x):
            raise ValueError(
                f"scores must have one value per size ({len(x)}) or be 2-D with one curve per row, got shape {y.shape}"
            )
        if not np.all(np.isfinite(y)):
            raise ValueError("scores contains NaN or inf; drop sizes without a finite score first")
    if len(x) < 2:
        raise ValueError("sizes must hold at least two model sizes")
    if len(np.unique(x)) != len(x):
        raise ValueError("sizes has duplicates; pass one score per model size")
    _, exponent = np.frexp(np.abs(y).max(axis=1, keepdims=True))
    return np.ldexp(y, -exponent)[:, np.argsort(x)], one_curve


def emergence_score(sizes, scores):
    """BIG-bench breakthroughness of a curve of ``scores`` against model ``sizes``.

    With x sorted ascending, ES = sign(argmax y − argmin y) · (max y − min y) /
    sqrt(median_i (y_i − y_{i−1})²). A constant curve gives 0; a curve whose
    median squared step is 0 but which does change gives ±inf. A tied maximum or
    minimum counts at its first (smallest) model, as ``np.argmax`` does.
    ``scores`` may be 2-D, one curve per row over the same sizes (e.g. bootstrap
    replicates); then one score per row is returned. ``sizes`` are positive (e.g.
    parameter counts); only their order matters.

    Weak with few sizes: over n sizes a straight line scores n − 1, and with 2 or
    3 sizes no curve scores above 1 or 2 (see :func:`jump_sharpness`).

    >>> round(emergence_score([1e6, 1e7, 1e8, 1e9], [0.0, 0.0, 0.01, 0.9]), 3)
    90.0
    >>> emergence_score([3, 1, 2], [0.5, 0.5, 0.5])
    0.0
    >>> round(emergence_score([1, 2, 3, 4], [0.9, 0.01, 0.0, 0.0]), 3)
    -90.0
    >>> emergence_score([1, 2, 3], [[0.0, 0.5, 1.0], [0.0, 0.0, 1.0]]).round(3)
    array([2.   , 1.414])
    """
    y, one_curve = _sorted_curves(sizes, scores)
    spread = y.max(axis=1) - y.min(axis=1)
    direction = np.sign(np.argmax(y, axis=1) - np.argmin(y, axis=1)).astype(float)
    typical_step = np.sqrt(np.median(np.diff(y, axis=1) ** 2, axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(
            typical_step > 0, direction * spread / np.where(typical_step > 0, typical_step, 1.0), direction * np.inf
        )
    score = np.where(spread == 0, 0.0, score)
    return float(score[0]) if one_curve else score


def jump_sharpness(sizes, scores):
    """How much of a curve's movement comes in its single largest step: 0 for equal steps, 1 for one jump.

    With x sorted ascending and steps d_i = y_i − y_{i−1} over n sizes, the
    largest step's share of all movement, s = max|d_i| / Σ|d_i|, lies in
    [1/(n − 1), 1]; the sharpness rescales it to [0, 1], (s − 1/(n − 1)) /
    (1 − 1/(n − 1)), and takes the sign of that largest step (negative when the
    curve's biggest move is a fall). A flat curve scores 0. Unlike BIG-bench's
    emergence score it has the same scale at every n ≥ 3: a straight line is 0
    and flat-then-jump is 1 whether there are 3 or 30 sizes. With 2 sizes there
    is one step and nothing to compare it with, so the value is NaN. ``scores``
    may be 2-D, one curve per row.

    >>> jump_sharpness([1, 2, 3], [0.0, 0.0, 1.0]), jump_sharpness([1, 2, 3, 4], [0.0, 1.0, 2.0, 3.0])
    (1.0, 0.0)
    >>> round(jump_sharpness([1, 2, 3, 4, 5], [0.0, 0.0, 0.0, 0.5, 1.0]), 3)
    0.333
    >>> jump_sharpness([1, 2, 3], [[1.0, 1.0, 0.0], [0.2, 0.2, 0.2]]).tolist()
    [-1.0, 0.0]
    >>> jump_sharpness([1, 2], [0.0, 1.0])
    nan
    """
    y, one_curve = _sorted_curves(sizes, scores)
    steps = np.diff(y, axis=1)
    if steps.shape[1] < 2:
        score = np.full(len(y), np.nan)
    else:
        sizes_of_steps = np.abs(steps)
        total = sizes_of_steps.sum(axis=1)
        largest = np.argmax(sizes_of_steps, axis=1)
        even_share = 1.0 / steps.shape[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(total > 0, sizes_of_steps[np.arange(len(y)), largest] / np.where(total > 0, total, 1), 0)
        sign = np.sign(steps[np.arange(len(y)), largest])
        score = np.where(total > 0, sign * (share - even_share) / (1.0 - even_share), 0.0) + 0.0  # no -0.0
    return float(score[0]) if one_curve else score


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


def _changes(signed: np.ndarray, signed_low: np.ndarray, signed_high: np.ndarray) -> np.ndarray:
    """Per curve (row): whether the best model's interval lies wholly above the worst's (no intervals: any difference)."""
    rows = np.arange(len(signed))
    best, worst = np.argmax(signed, axis=1), np.argmin(signed, axis=1)
    low, high = signed_low[rows, best], signed_high[rows, worst]
    return np.where(np.isnan(low) | np.isnan(high), signed[rows, best] > signed[rows, worst], low > high)


def _replicates(curve: pd.DataFrame, resamples: dict | None) -> np.ndarray | None:
    """Bootstrap means, shape (n_boot, sizes), in the curve's row order; None unless every model has them."""
    if not resamples:
        return None
    columns = []
    for row in curve.itertuples(index=False):
        length = -1.0 if np.isnan(row.length) else float(row.length)
        key = (row.family, row.model, row.params, row.task, row.metric, length)
        if key not in resamples:
            return None
        columns.append(resamples[key])
    return np.column_stack(columns)


def _repeated_sizes_error(curve: pd.DataFrame, keys: list[str]) -> ValueError:
    repeated = curve[curve["params"].duplicated(keep=False)]
    names = ", ".join(f"{m} ({p:g})" for m, p in repeated[["model", "params"]].itertuples(index=False))
    first = curve.iloc[0]
    known = first[keys].notna()
    where = ", ".join(
        f"{key} {int(first[key]) if key == 'length' else repr(first[key])}"
        for key in keys
        if key != "family" and known[key]
    )
    return ValueError(
        f"models {names} of family {first['family']!r} share one parameter count on the curve of {where}; "
        "give each size its own parameter count (--param-counts FILE) or put the models in different families"
    )


def _values_kind(intervals: np.ndarray) -> str:
    from mirage_metrics.summary import BINOMIAL, BOOTSTRAP

    return "0/1" if (intervals == BINOMIAL).all() else ("graded" if (intervals == BOOTSTRAP).any() else "")


def curve_table(
    points: pd.DataFrame,
    resamples: dict | None = None,
    *,
    keys: list[str] = SUMMARY_CURVE_KEYS,
    value: str = "mean",
    confidence: float = 0.95,
    higher_is_better: dict | None = None,
    declared: dict | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """One row per curve with ≥ 2 sizes, in ``keys`` order: ``keys`` + :data:`CURVE_SCORE_COLUMNS`.

    ``points`` has one row per model and curve: the ``keys`` columns, ``model``,
    ``params`` and the ``value`` column, and optionally ``ci_low``/``ci_high``
    (used for ``changes``) and ``interval`` (for ``values``), as the per-model
    summary has. Missing or infinite values are dropped first; curves left with
    fewer than two sizes are skipped. ``resamples`` (from
    :func:`mirage_metrics.summary.summarise_with_resamples`, keyed like the summary)
    gives the intervals; without them (or for aggregate-only metrics) the interval
    is the point value. ``higher_is_better`` maps a metric name to lm-eval's own
    flag, used only for metrics the registry does not know. ``declared`` maps a
    metric name, as ``points`` spells it, to the user's own declaration (True: higher
    is better), which wins over both. Two models of one family with the same
    parameter count on one curve is an error naming them.
    """
    from tqdm.auto import tqdm

    missing = [c for c in (*keys, "model", "params", value) if c not in points]
    if missing:
        raise ValueError(
            f"the table lacks columns {missing}; pass the output of mirage_metrics.summary.summarise "
            "(or of mirage_metrics.meta.read_sources with keys and value='value')"
        )
    finite = points[np.isfinite(points[value].astype(float))].reset_index(drop=True)
    curve_ids = finite.groupby(keys, dropna=False, sort=True).ngroup().to_numpy()
    metrics = finite["metric"].astype(str)
    fallbacks = higher_is_better or {}
    infos = {m: registry.metric_info(m, fallbacks.get(registry.base_name(m))) for m in metrics.unique()}
    for metric, higher in (declared or {}).items():
        if metric in infos:
            infos[metric] = dataclasses.replace(infos[metric], higher_is_better=bool(higher))
    signs = metrics.map(lambda m: 1.0 if np.isnan(infos[m].sign) else infos[m].sign).to_numpy(float)
    # Rows by curve, then by size: each curve is one run of rows.
    order = np.lexsort((finite["params"].to_numpy(float), curve_ids))
    ids, sizes, signs = curve_ids[order], finite["params"].to_numpy(float)[order], signs[order]
    repeated = np.flatnonzero((np.diff(sizes) == 0) & (np.diff(ids) == 0))
    if len(repeated):
        raise _repeated_sizes_error(finite[curve_ids == ids[repeated[0]]], keys)
    signed = signs * finite[value].to_numpy(float)[order]
    nan = np.full(len(finite), np.nan)
    low = signs * np.asarray(finite.get("ci_low", nan), float)[order]
    high = signs * np.asarray(finite.get("ci_high", nan), float)[order]
    signed_low, signed_high = np.fmin(low, high), np.fmax(low, high)
    starts = np.flatnonzero(np.diff(ids, prepend=-1))
    lengths = np.diff(np.append(starts, len(order)))
    emergence, sharpness = np.full(len(starts), np.nan), np.full(len(starts), np.nan)
    steps, changes = np.zeros(len(starts), int), np.zeros(len(starts), bool)
    # Curves of one length are scored together, one row each (their values are already in size order).
    for n in tqdm(np.unique(lengths[lengths >= 2]), desc="emergence scores", disable=not progress):
        which = np.flatnonzero(lengths == n)
        rows = starts[which, None] + np.arange(n)
        curves = signed[rows]
        emergence[which] = emergence_score(np.arange(1, n + 1), curves)
        sharpness[which] = jump_sharpness(np.arange(1, n + 1), curves)
        steps[which] = np.argmax(np.abs(np.diff(curves, axis=1)), axis=1)
        changes[which] = _changes(curves, signed_low[rows], signed_high[rows])
    kept = np.flatnonzero(lengths >= 2)
    emergence_low, emergence_high = emergence.copy(), emergence.copy()
    sharpness_low, sharpness_high = sharpness.copy(), sharpness.copy()
    models = finite["model"].to_numpy()[order]
    intervals = finite["interval"].to_numpy()[order] if "interval" in finite else np.full(len(finite), "")
    step_from, step_to, trends, values = [], [], [], []
    for curve in kept:
        rows = slice(starts[curve], starts[curve] + lengths[curve])
        replicates = _replicates(finite.iloc[order[rows]], resamples)
        if replicates is not None and np.all(np.isfinite(replicates)):
            curve_sizes, sign = sizes[rows], signs[starts[curve]]
            emergence_low[curve], emergence_high[curve] = _interval(
                emergence_score(curve_sizes, sign * replicates), emergence[curve], confidence
            )
            sharpness_low[curve], sharpness_high[curve] = _interval(
                jump_sharpness(curve_sizes, sign * replicates), sharpness[curve], confidence
            )
        step_from.append(models[starts[curve] + steps[curve]])
        step_to.append(models[starts[curve] + steps[curve] + 1])
        trends.append(curve_trend(lengths[curve], sharpness_low[curve], sharpness_high[curve], changes[curve]))
        values.append(_values_kind(intervals[rows]))
    table = finite.iloc[order[starts[kept]]][list(keys)].reset_index(drop=True)
    kept_metrics = metrics.to_numpy()[order[starts[kept]]]
    table["n_sizes"] = lengths[kept].astype(int)
    table["direction"] = [_DIRECTIONS.get(infos[m].sign, "unknown") for m in kept_metrics]
    table["kind"] = [infos[m].kind for m in kept_metrics]
    for column, scores in (
        ("emergence_score", emergence),
        ("emergence_low", emergence_low),
        ("emergence_high", emergence_high),
        ("sharpness", sharpness),
        ("sharpness_low", sharpness_low),
        ("sharpness_high", sharpness_high),
    ):
        table[column] = scores[kept]
    table["largest_step_from"], table["largest_step_to"] = step_from, step_to
    table["changes"], table["trend"], table["values"] = changes[kept], trends, values
    return table[[*keys, *CURVE_SCORE_COLUMNS]]
