"""Which metrics make abilities look emergent: emergence scores over any collection of results.

The paper's Fig 5 (Schaeffer, Miranda & Koyejo 2023): over BIG-bench, high
emergence scores concentrate in a few metrics (Multiple Choice Grade, Exact
String Match), so "emergence" is a property of metrics more than of tasks. Given
the tidy frame of :mod:`mirage_metrics.meta.sources`, this module computes

- :func:`emergence_scores`: for every (source, family, task, subtask, shots, metric)
  curve with at least two model sizes, :func:`mirage_metrics.metrics.emergence_score`
  against parameter count, lower-is-better metrics negated first
  (:func:`mirage_metrics.scaling.lower_is_better`, as ``mirage report`` does);
- :func:`summarize_by_metric`: per metric, the number of curves, the median of
  |emergence score| and the share of curves whose |emergence score| exceeds a threshold;
- :func:`ranked_curves`: the sharpest curves first.

Sharpness is read as |emergence score|: a sudden change counts whichever way the
curve goes (a metric BIG-bench reports may also get worse with size). A curve whose
median squared step is 0 but that does change scores ±inf (exactly flat, then a
jump); ±inf counts as above every threshold, sorts first in rankings and enters
medians as the largest values (a median can be inf).

>>> frame = pd.DataFrame({
...     "source": "demo", "family": "toy", "model": ["s", "m", "l", "xl"] * 2,
...     "parameters": [1e6, 1e7, 1e8, 1e9] * 2, "task": "t", "subtask": "", "shots": 0,
...     "metric": ["exact_str_match"] * 4 + ["token_edit_distance"] * 4,
...     "value": [0.0, 0.0, 0.01, 0.9, 3.0, 2.0, 1.0, 0.0]})
>>> scores = emergence_scores(frame)
>>> scores[["metric", "n_sizes", "emergence_score"]].round(2).values.tolist()
[['exact_str_match', 4, 90.0], ['token_edit_distance', 4, 3.0]]
>>> summarize_by_metric(scores, threshold=10).values.tolist()
[['exact_str_match', 1, 90.0, 1.0], ['token_edit_distance', 1, 3.0, 0.0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mirage_metrics.constants import DEFAULT_THRESHOLD
from mirage_metrics.meta.sources import SCORE_COLUMNS
from mirage_metrics.metrics import emergence_score
from mirage_metrics.scaling import lower_is_better

__all__ = [
    "DEFAULT_THRESHOLD",
    "CURVE_COLUMNS",
    "SCORE_TABLE_COLUMNS",
    "BY_METRIC_COLUMNS",
    "emergence_scores",
    "summarize_by_metric",
    "ranked_curves",
    "report_section",
]

CURVE_COLUMNS = ["source", "family", "task", "subtask", "shots", "metric"]
SCORE_TABLE_COLUMNS = CURVE_COLUMNS + ["n_sizes", "emergence_score"]
BY_METRIC_COLUMNS = ["metric", "n_pairs", "median_score", "share_above_threshold"]


def _check_frame(frame: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame with columns {SCORE_COLUMNS}")
    missing = [c for c in SCORE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"frame is missing column(s) {missing}; read sources with mirage_metrics.meta.read_sources")
    return frame


def _repeated_sizes_error(curve: pd.DataFrame) -> ValueError:
    repeated = curve[curve["parameters"].duplicated(keep=False)]
    names = ", ".join(f"{m} ({p:g})" for m, p in repeated[["model", "parameters"]].itertuples(index=False))
    first = curve.iloc[0]
    return ValueError(
        f"models {names} of family {first['family']!r} in {first['source']} share one parameter count on "
        f"task {first['task']!r} (subtask {first['subtask']!r}, metric {first['metric']!r}); "
        "give each size its own parameter count or put the models in different families"
    )


def emergence_scores(frame: pd.DataFrame, progress: bool = False) -> pd.DataFrame:
    """One row per curve with ≥ 2 sizes: :data:`SCORE_TABLE_COLUMNS`, in curve order.

    Missing or infinite values (NaN, ±inf) are dropped first; curves left with
    fewer than two sizes are skipped. Two models of one family with the same
    parameter count on one curve is an error naming them.
    """
    frame = _check_frame(frame)
    finite = frame[np.isfinite(frame["value"].astype(float))].reset_index(drop=True)
    curve_ids = finite.groupby(CURVE_COLUMNS, dropna=False, sort=True).ngroup().to_numpy()
    sizes = finite["parameters"].to_numpy(float)
    # Lower-is-better metrics are negated, as in `mirage report`: positive means "better with size".
    signs = finite["metric"].astype(str).map(lambda m: -1.0 if lower_is_better(m) else 1.0).to_numpy(float)
    values = signs * finite["value"].to_numpy(float)
    # Rows by curve, then by size: each curve is one slice (plain numpy, fast for 10^5 curves).
    order = np.lexsort((sizes, curve_ids))
    starts = np.flatnonzero(np.diff(curve_ids[order], prepend=-1))
    ends = np.append(starts[1:], len(order))
    kept, n_sizes, scores = [], [], []
    for start, end in tqdm(zip(starts, ends), total=len(starts), desc="emergence scores", disable=not progress):
        rows = order[start:end]
        if len(rows) < 2:
            continue
        if np.any(np.diff(sizes[rows]) == 0):
            raise _repeated_sizes_error(finite.iloc[rows])
        kept.append(rows[0])
        n_sizes.append(len(rows))
        scores.append(emergence_score(sizes[rows], values[rows]))
    table = finite.iloc[kept][CURVE_COLUMNS].reset_index(drop=True)
    table["n_sizes"] = np.asarray(n_sizes, dtype=int)
    table["emergence_score"] = np.asarray(scores, dtype=float)
    return table.astype({"shots": "Int64"})


def _check_threshold(threshold: float) -> float:
    threshold = float(threshold)
    if not np.isfinite(threshold) or threshold < 0:
        raise ValueError(f"threshold={threshold} must be a finite non-negative emergence score")
    return threshold


def summarize_by_metric(scores: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Per metric: ``n_pairs`` curves, ``median_score`` of |ES|, ``share_above_threshold`` (|ES| > threshold).

    Sorted by share, then median, highest first.

    >>> scores = pd.DataFrame({"metric": ["a", "a", "b"], "emergence_score": [np.inf, -2.0, 4.0]})
    >>> summarize_by_metric(scores, threshold=3).values.tolist()
    [['b', 1, 4.0, 1.0], ['a', 2, inf, 0.5]]
    """
    threshold = _check_threshold(threshold)
    sharpness = scores["emergence_score"].abs()
    summary = (
        pd.DataFrame({"metric": scores["metric"], "sharpness": sharpness, "above": sharpness > threshold})
        .groupby("metric", sort=True)
        .agg(n_pairs=("sharpness", "size"), median_score=("sharpness", "median"), share_above_threshold=("above", "mean"))
        .reset_index()
    )
    return summary.sort_values(["share_above_threshold", "median_score"], ascending=False, kind="stable")[
        BY_METRIC_COLUMNS
    ].reset_index(drop=True)


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


def report_section(folder):
    """The HTML section of a ``mirage meta-analysis`` output folder, for ``mirage report``.

    Lays out ``by_metric.csv``, ``emergence_scores.csv`` and the plots (see
    :func:`mirage_metrics.meta.report.meta_section`).
    """
    from mirage_metrics.meta.report import meta_section

    return meta_section(folder)
