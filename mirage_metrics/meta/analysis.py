"""Which metrics make abilities look emergent: emergence scores over any collection of results.

The paper's Fig 5 (Schaeffer, Miranda & Koyejo 2023): over BIG-bench, high
emergence scores concentrate in a few metrics (Multiple Choice Grade, Exact
String Match), so "emergence" is a property of metrics more than of tasks. Given
the tidy frame of :mod:`mirage_metrics.meta.sources`, this module computes

- :func:`emergence_scores`: for every (source, family, task, subtask, shots, metric)
  curve with at least two model sizes, against parameter count, the report's
  per-curve scores (:func:`mirage_metrics.emergence.curve_table`): BIG-bench's
  :func:`~mirage_metrics.emergence.emergence_score` and the small-n
  :func:`~mirage_metrics.emergence.jump_sharpness` (column ``sharpness``), with each
  metric's direction applied first, so that positive means "better with size"; a
  metric the registry does not know keeps its raw values and is marked
  ``direction="unknown"``;
- :func:`summarise_by_metric`: per metric, over the curves with at least
  ``min_sizes`` sizes, the signed median and quartiles of the emergence score, the
  median |emergence score|, the share of curves above a threshold (and the share
  that could be, given their number of sizes), the signed median jump sharpness,
  and the number of curves with 2, 3 and 4+ sizes;
- :func:`largest_possible_score` and :func:`threshold_warnings`: with 2 sizes no
  curve scores above 1, with 3 none above 2, so a threshold such as 10 is
  unreachable there and every share above it is 0 by construction;
- :func:`ranked_curves`: the sharpest curves first.

A curve whose median squared step is 0 but that does change scores ±inf (exactly
flat, then a jump); ±inf counts as above every threshold, sorts first in rankings
and enters medians as the largest (or smallest) value.

>>> frame = pd.DataFrame({
...     "source": "demo", "family": "toy", "model": ["s", "m", "l", "xl"] * 2,
...     "params": [1e6, 1e7, 1e8, 1e9] * 2, "task": "t", "subtask": "", "shots": 0,
...     "metric": ["exact_str_match"] * 4 + ["token_edit_distance"] * 4,
...     "value": [0.0, 0.0, 0.01, 0.9, 3.0, 2.0, 1.0, 0.0]})
>>> scores = emergence_scores(frame)
>>> scores[["metric", "direction", "n_sizes", "emergence_score", "sharpness"]].round(2).values.tolist()
[['exact_str_match', 'higher', 4, 90.0, 0.98], ['token_edit_distance', 'lower', 4, 3.0, 0.0]]
>>> summary = summarise_by_metric(scores, threshold=10)
>>> summary[["metric", "median_signed_score", "share_above_threshold", "median_jump_sharpness"]].round(2).values.tolist()
[['exact_str_match', 90.0, 1.0, 0.98], ['token_edit_distance', 3.0, 0.0, 0.0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mirage_metrics.emergence import CURVE_SCORE_COLUMNS, curve_table
from mirage_metrics.meta.defaults import DEFAULT_MIN_SIZES, DEFAULT_THRESHOLD
from mirage_metrics.meta.sources import SCORE_COLUMNS

__all__ = [
    "DEFAULT_THRESHOLD",
    "DEFAULT_MIN_SIZES",
    "CURVE_KEYS",
    "SCORE_TABLE_COLUMNS",
    "BY_METRIC_COLUMNS",
    "emergence_scores",
    "largest_possible_score",
    "summary_curves",
    "summarise_by_metric",
    "threshold_warnings",
    "ranked_curves",
]

#: What makes one curve of the meta-analysis frame.
CURVE_KEYS = ["source", "family", "task", "subtask", "shots", "metric"]
SCORE_TABLE_COLUMNS = CURVE_KEYS + CURVE_SCORE_COLUMNS
BY_METRIC_COLUMNS = [
    "metric",
    "direction",
    "kind",
    "n_pairs",
    "curves_2_sizes",
    "curves_3_sizes",
    "curves_4plus_sizes",
    "median_signed_score",
    "q1_signed_score",
    "q3_signed_score",
    "median_abs_score",
    "share_can_exceed",
    "share_above_threshold",
    "median_jump_sharpness",
]


def _check_frame(frame: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame with columns {SCORE_COLUMNS}")
    missing = [c for c in SCORE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"frame is missing column(s) {missing}; read sources with mirage_metrics.meta.read_sources")
    return frame


def emergence_scores(frame: pd.DataFrame, progress: bool = False) -> pd.DataFrame:
    """One row per curve with ≥ 2 sizes: :data:`SCORE_TABLE_COLUMNS`, in curve order.

    The curves are the (source, family, task, subtask, shots, metric) of ``frame``,
    scored by :func:`mirage_metrics.emergence.curve_table` (no intervals: each
    ``_low``/``_high`` column holds the point value). Missing or infinite values
    (NaN, ±inf) are dropped first; curves left with fewer than two sizes are
    skipped. Two models of one family with the same parameter count on one curve
    is an error naming them.
    """
    scores = curve_table(_check_frame(frame), keys=CURVE_KEYS, value="value", progress=progress)
    return scores.astype({"shots": "Int64"})


def largest_possible_score(n_sizes):
    """The largest |emergence score| a curve over ``n_sizes`` model sizes can have: 1, 2, then inf.

    With 2 sizes the score is the sign of the one step (±1 or 0); with 3 it is at
    most 2 (a straight line); from 4 sizes on the median squared step can be 0
    while the curve changes, so ±inf is possible. Accepts a number or an array.

    >>> largest_possible_score(2), largest_possible_score(3), largest_possible_score(4)
    (1.0, 2.0, inf)
    >>> largest_possible_score([3, 10]).tolist()
    [2.0, inf]
    """
    n = np.asarray(n_sizes)
    if not np.issubdtype(n.dtype, np.number) or np.any(n != np.round(n)) or np.any(n < 2):
        raise ValueError(f"n_sizes={n_sizes!r} must be whole numbers of model sizes, each at least 2")
    largest = np.where(n >= 4, np.inf, n - 1.0)
    return float(largest) if largest.ndim == 0 else largest


def _check_threshold(threshold: float) -> float:
    threshold = float(threshold)
    if not np.isfinite(threshold) or threshold < 0:
        raise ValueError(f"threshold={threshold} must be a finite non-negative emergence score")
    return threshold


def summary_curves(scores: pd.DataFrame, min_sizes: int = DEFAULT_MIN_SIZES) -> pd.DataFrame:
    """The curves the summary uses: those with at least ``min_sizes`` model sizes.

    >>> scores = pd.DataFrame({"metric": ["a", "a"], "n_sizes": [2, 5], "emergence_score": [1.0, 4.0]})
    >>> summary_curves(scores, min_sizes=3)["n_sizes"].tolist()
    [5]
    """
    if isinstance(min_sizes, bool) or int(min_sizes) != min_sizes or min_sizes < 2:
        raise ValueError(f"min_sizes={min_sizes!r} must be a whole number of model sizes, at least 2")
    return scores[scores["n_sizes"] >= min_sizes].reset_index(drop=True)


def _quartiles(values: pd.Series) -> np.ndarray:
    """Linear-interpolation quartiles that, unlike ``np.quantile``, keep ±inf (-inf with +inf gives NaN)."""
    ordered = np.sort(values.to_numpy(float))
    position = (len(ordered) - 1) * np.array([0.25, 0.5, 0.75])
    low, high = ordered[np.floor(position).astype(int)], ordered[np.ceil(position).astype(int)]
    with np.errstate(invalid="ignore"):
        return np.where(low == high, low, low + (high - low) * (position - np.floor(position)))


def summarise_by_metric(
    scores: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD, min_sizes: int = DEFAULT_MIN_SIZES
) -> pd.DataFrame:
    """Per metric, over the curves with ≥ ``min_sizes`` sizes: :data:`BY_METRIC_COLUMNS`.

    ``n_pairs`` curves (``curves_2_sizes``, ``curves_3_sizes``, ``curves_4plus_sizes``
    of them with 2, 3, 4+ sizes), the signed emergence score's median and quartiles
    (positive: better with size), ``median_abs_score`` (|ES|),
    ``share_can_exceed`` (curves with enough sizes to score above ``threshold``, see
    :func:`largest_possible_score`), ``share_above_threshold`` (|ES| > threshold)
    and ``median_jump_sharpness`` (signed, over the curves with ≥ 3 sizes; NaN if
    none). Sorted by share above the threshold, then signed median, highest first.

    >>> scores = pd.DataFrame({"metric": ["a", "a", "b"], "direction": "higher", "kind": "continuous",
    ...                        "n_sizes": [4, 3, 3], "emergence_score": [np.inf, -2.0, 1.5],
    ...                        "sharpness": [1.0, -0.5, 0.2]})
    >>> summary = summarise_by_metric(scores, threshold=1.8)
    >>> summary[["metric", "n_pairs", "median_signed_score", "median_abs_score", "share_above_threshold"]].values.tolist()
    [['a', 2, inf, inf, 1.0], ['b', 1, 1.5, 1.5, 0.0]]
    """
    threshold = _check_threshold(threshold)
    rows = []
    for (metric, direction, kind), curves in summary_curves(scores, min_sizes).groupby(
        ["metric", "direction", "kind"], sort=True
    ):
        n_sizes, signed = curves["n_sizes"], curves["emergence_score"]
        q1, median, q3 = _quartiles(signed)
        rows.append(
            [
                metric,
                direction,
                kind,
                len(curves),
                int((n_sizes == 2).sum()),
                int((n_sizes == 3).sum()),
                int((n_sizes >= 4).sum()),
                median,
                q1,
                q3,
                signed.abs().median(),
                float((largest_possible_score(n_sizes.to_numpy()) > threshold).mean()),
                float((signed.abs() > threshold).mean()),
                curves["sharpness"].median(),
            ]
        )
    summary = pd.DataFrame(rows, columns=BY_METRIC_COLUMNS)
    return summary.sort_values(
        ["share_above_threshold", "median_signed_score"], ascending=False, kind="stable"
    ).reset_index(drop=True)


def threshold_warnings(scores: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> list[str]:
    """Warnings for thresholds the ``scores`` curves cannot cross, given their numbers of sizes.

    One warning when no curve at all can score above ``threshold`` (every share
    above it is 0 whatever the data), else one naming the metrics none of whose
    curves can; an empty list when there is nothing to warn about. Pass the curves
    the summary uses (:func:`summary_curves`).

    >>> three_sizes = pd.DataFrame({"metric": ["a", "b"], "n_sizes": [3, 3], "emergence_score": [2.0, 1.4]})
    >>> print(threshold_warnings(three_sizes, threshold=10)[0])  # doctest: +ELLIPSIS
    No curve can exceed the threshold 10: the curves have at most 3 model sizes, ...
    >>> threshold_warnings(three_sizes.assign(n_sizes=[4, 3]), threshold=10)
    ["No curve of metric(s) ['b'] can exceed the threshold 10 (at most 3 model sizes), so their share above it is 0 by construction."]
    """
    threshold = _check_threshold(threshold)
    if scores.empty:
        return []
    reachable = largest_possible_score(scores["n_sizes"].to_numpy()) > threshold
    if not reachable.any():
        return [
            f"No curve can exceed the threshold {threshold:g}: the curves have at most {scores['n_sizes'].max()} "
            "model sizes, and |emergence score| cannot exceed 1 with 2 sizes or 2 with 3 sizes (only from 4 sizes "
            "on can it reach inf), so every share above the threshold is 0 whatever the data. Compare the signed "
            "medians and the jump sharpness instead, or add curves with 4 or more sizes."
        ]
    can_reach = pd.Series(reachable, index=scores.index).groupby(scores["metric"]).any()
    stuck = sorted(can_reach.index[~can_reach.to_numpy()])
    if not stuck:
        return []
    most = scores.loc[scores["metric"].isin(stuck), "n_sizes"].max()
    return [
        f"No curve of metric(s) {stuck} can exceed the threshold {threshold:g} (at most {most} model sizes), "
        "so their share above it is 0 by construction."
    ]


def ranked_curves(scores: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """Curves by |emergence score|, sharpest (±inf) first; the first ``top`` rows when given.

    >>> scores = pd.DataFrame({"metric": ["a", "b", "c"], "emergence_score": [3.0, -np.inf, -5.0]})
    >>> ranked_curves(scores, top=2)["metric"].tolist()
    ['b', 'c']
    """
    if top is not None and int(top) < 1:
        raise ValueError(f"top={top} must be a positive number of rows or None for all")
    order = scores["emergence_score"].abs().sort_values(ascending=False, kind="stable").index
    ranked = scores.loc[order].reset_index(drop=True)
    return ranked if top is None else ranked.head(int(top))
