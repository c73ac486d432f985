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
  metric's direction applied first, so that positive means "better with size". The
  direction is the user's where given (:func:`declared_directions`: ``--direction``,
  then a tidy CSV's ``direction`` column), else the registry's; a metric neither
  knows keeps its raw values, is marked ``direction="unknown"`` and warned about
  (:func:`direction_warnings`);
- :func:`summarise_by_metric`: per metric, over the curves with at least
  ``min_sizes`` sizes, the signed median and quartiles of the emergence score, the
  median |emergence score|, the share of curves above a threshold (and the share
  that could be, given their number of sizes), the signed median jump sharpness,
  and the number of curves with 2, 3 and 4+ sizes;
- :func:`largest_possible_score` and :func:`threshold_warnings`: with 2 sizes no
  curve scores above 1, with 3 none above 2, so a threshold such as 10 is
  unreachable there and every share above it is 0 by construction;
- :func:`size_notes`: per metric, what its emergence scores can and cannot show at
  the numbers of sizes its curves have (at 3 sizes a straight line scores 2 and a
  jump less, so the score cannot tell them apart; jump sharpness can);
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

from mirage_metrics import registry
from mirage_metrics.emergence import CURVE_SCORE_COLUMNS, curve_table, emergence_score
from mirage_metrics.meta.defaults import DEFAULT_MIN_SIZES, DEFAULT_THRESHOLD
from mirage_metrics.meta.sources import DIRECTIONS, SCORE_COLUMNS

__all__ = [
    "DEFAULT_THRESHOLD",
    "DEFAULT_MIN_SIZES",
    "CURVE_KEYS",
    "SCORE_TABLE_COLUMNS",
    "BY_METRIC_COLUMNS",
    "declared_directions",
    "emergence_scores",
    "direction_warnings",
    "largest_possible_score",
    "summary_curves",
    "summarise_by_metric",
    "threshold_warnings",
    "size_notes",
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
    """``frame`` if it has the columns of :data:`SCORE_COLUMNS` (``direction`` may be absent: nothing declared)."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame with columns {SCORE_COLUMNS}")
    missing = [c for c in SCORE_COLUMNS if c not in frame.columns and c != "direction"]
    if missing:
        raise ValueError(f"frame is missing column(s) {missing}; read sources with mirage_metrics.meta.read_sources")
    return frame


def declared_directions(frame: pd.DataFrame, overrides: dict | None = None) -> dict[str, str]:
    """Which way each metric is better where the user says so: ``{metric: "higher" | "lower"}``.

    ``overrides`` (``--direction METRIC=higher|lower``, any case) win over the
    sources' ``direction`` column (a tidy CSV's); the registry's direction, applied
    by :func:`emergence_scores` to every metric not declared here, comes last.
    Sources that declare one metric differently, an override naming a metric no
    source has and a value other than higher or lower are errors naming them.

    >>> frame = pd.DataFrame({"source": ["a.csv", "a.csv", "b.csv"], "metric": ["edit_distance", "bleu", "bleu"],
    ...                       "direction": ["lower", "", "higher"]})
    >>> declared_directions(frame.assign(family="f", model="m", params=1.0, task="t", subtask="", shots=0, value=1.0),
    ...                     {"bleu": "Lower"})
    {'edit_distance': 'lower', 'bleu': 'lower'}
    """
    frame = _check_frame(frame)
    overrides = dict(overrides or {})
    metrics = set(frame["metric"])
    declared = {}
    given = frame[["metric", "direction", "source"]] if "direction" in frame else frame.iloc[:0].assign(direction="")
    given = given[(given["direction"] != "") & ~given["metric"].isin(overrides)].drop_duplicates(
        ["metric", "direction"]
    )
    for metric, rows in given.groupby("metric", sort=False):
        if len(rows) > 1:
            (first, source, _), (other, elsewhere, _) = rows[["direction", "source", "metric"]].to_numpy()[:2]
            raise ValueError(
                f"metric {metric!r} is declared {first} in {source} and {other} in {elsewhere}; give one direction "
                f"per metric, or settle it with --direction {metric}=higher|lower"
            )
        declared[metric] = rows["direction"].iloc[0]
    for metric, value in overrides.items():
        direction = str(value).strip().lower()
        if direction not in DIRECTIONS:
            raise ValueError(f"--direction {metric}={value}: write higher or lower (which way the metric is better)")
        if metric not in metrics:
            names = sorted(metrics)
            listed = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
            raise ValueError(
                f"--direction {metric}={value}: no source has a metric {metric!r}; the sources' metrics: {listed}"
            )
        declared[metric] = direction
    return declared


def emergence_scores(frame: pd.DataFrame, directions: dict | None = None, progress: bool = False) -> pd.DataFrame:
    """One row per curve with ≥ 2 sizes: :data:`SCORE_TABLE_COLUMNS`, in curve order.

    The curves are the (source, family, task, subtask, shots, metric) of ``frame``,
    scored by :func:`mirage_metrics.emergence.curve_table` (no intervals: each
    ``_low``/``_high`` column holds the point value), each metric signed by its
    direction: ``directions`` (``{metric: "higher" | "lower"}``, as ``--direction``),
    then the ``direction`` column of ``frame``, then the registry (see
    :func:`declared_directions`). Missing or infinite values (NaN, ±inf) are dropped
    first; curves left with fewer than two sizes are skipped. Two models of one
    family with the same parameter count on one curve is an error naming them.
    """
    declared = declared_directions(frame, directions)
    higher = {metric: direction == "higher" for metric, direction in declared.items()}
    scores = curve_table(_check_frame(frame), keys=CURVE_KEYS, value="value", declared=higher, progress=progress)
    return scores.astype({"shots": "Int64"})


def direction_warnings(scores: pd.DataFrame, declared: dict[str, str]) -> list[str]:
    """Warnings about directions: metrics left unsigned (direction unknown), and declarations against the registry.

    ``scores`` are :func:`emergence_scores`' curves, ``declared`` what
    :func:`declared_directions` gave for them.

    >>> scores = pd.DataFrame({"metric": ["edit_distance", "brier_score"], "direction": ["unknown", "higher"]})
    >>> for warning in direction_warnings(scores, {"brier_score": "higher"}):
    ...     print(warning)  # doctest: +ELLIPSIS
    Direction unknown for metric(s) ['edit_distance']: their values are scored as they are, ...
    Metric 'brier_score' is declared higher is better, against the registry (lower is better); the declaration is used.
    """
    warnings = []
    unknown = sorted(set(scores.loc[scores["direction"] == "unknown", "metric"]))
    if unknown:
        warnings.append(
            f"Direction unknown for metric(s) {unknown}: their values are scored as they are, so a curve that falls "
            "with size scores negative even where lower is better, and their medians are not comparable with the "
            "signed ones. Declare it in a direction column of the CSV (higher or lower) or with "
            "--direction METRIC=higher|lower."
        )
    for metric, direction in sorted(declared.items()):
        known = registry.metric_info(metric).higher_is_better
        if known is not None and known != (direction == "higher"):
            against = "higher" if known else "lower"
            warnings.append(
                f"Metric {metric!r} is declared {direction} is better, against the registry ({against} is better); "
                "the declaration is used."
            )
    return warnings


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
            "on can it reach inf), so every share above the threshold is 0 whatever the data. At these sizes the "
            "emergence score cannot tell a jump from a straight line either (its sign still says which way a metric "
            "moved): read the median jump sharpness instead, or add curves with 4 or more sizes."
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


def _size_classes(n_sizes: pd.Series) -> tuple:
    """The kinds of curve a metric has, by number of sizes: some of 2, 3 and "4+"."""
    return tuple(sorted({n if n < 4 else "4+" for n in n_sizes.astype(int)}, key=str))


def size_notes(scores: pd.DataFrame) -> list[str]:
    """What each metric's emergence scores can and cannot show, given the numbers of sizes of its curves.

    With n sizes a straight line scores n − 1. With 2 sizes the score is only the
    sign of the one change; with 3 a straight line scores 2 and a flat curve with
    one jump about 1.41, less than the line, so the score cannot tell them apart;
    from 4 sizes on such a jump scores above the line (inf when the median step is 0).
    Jump sharpness has one scale at every number of sizes from 3 on. Metrics whose
    curves have the same kinds of sizes (2, 3, 4 or more) share one note, which
    begins with their names. Pass the curves the summary uses (:func:`summary_curves`).

    >>> scores = pd.DataFrame({"metric": ["a", "b", "c"], "n_sizes": [3, 3, 6]})
    >>> for note in size_notes(scores):
    ...     print(note.split(" where ")[0])
    a, b: every curve has 3 sizes,
    c: curves with 6 sizes,
    """
    if scores.empty:
        return []
    metrics_of = {}
    for metric, n_sizes in scores.groupby("metric", sort=True)["n_sizes"]:
        metrics_of.setdefault(_size_classes(n_sizes), []).append(metric)
    line, jump = emergence_score([1, 2, 3], [0.0, 1.0, 2.0]), emergence_score([1, 2, 3], [0.0, 0.0, 1.0])
    notes = []
    for kinds, metrics in metrics_of.items():
        names = ", ".join(metrics)
        sizes = scores.loc[scores["metric"].isin(metrics), "n_sizes"].astype(int)
        if kinds == (2,):
            notes.append(
                f"{names}: every curve has 2 sizes, so its emergence score is only the sign of the one change "
                "(+1, −1 or 0) and its jump sharpness is undefined: these curves show which way the metric moved "
                "with size, not whether it jumped."
            )
        elif kinds == (3,):
            notes.append(
                f"{names}: every curve has 3 sizes, where a straight line scores {line:g} and a flat curve with one "
                f"jump {jump:.2f}, less than the line: the emergence score cannot tell a jump from a steady climb, so "
                "a larger median score does not mean a sharper metric (its sign says only which way the metric "
                "moved). Jump sharpness can tell them apart (0: equal steps, 1: one jump, one scale at every number "
                "of sizes from 3 on): compare median_jump_sharpness."
            )
        elif kinds == (2, 3):
            notes.append(
                f"{names}: curves with 2 and 3 sizes only, where the emergence score cannot tell a jump from a "
                f"straight line (with 2 sizes it is the sign of the one change, with 3 a straight line scores "
                f"{line:g} and one jump {jump:.2f}); its sign says which way the metric moved. Compare "
                "median_jump_sharpness (over the curves with 3 sizes; undefined with 2)."
            )
        elif kinds == ("4+",):
            low, high = sizes.min(), sizes.max()
            counts, lines = (
                (f"{low}", f"{low - 1}") if low == high else (f"{low} to {high}", f"{low - 1} to {high - 1}")
            )
            notes.append(
                f"{names}: curves with {counts} sizes, where a straight line scores n − 1 ({lines}) and a flat curve with one jump scores more (inf when the median step is 0): a median "
                "score well above n − 1 says the change came in a few steps. Jump sharpness gives the same reading "
                "on one scale (0: equal steps, 1: one jump)."
            )
        else:
            few = " and ".join(str(k) for k in kinds if k != "4+")
            notes.append(
                f"{names}: curves with {few} and 4 or more sizes mixed. Below 4 sizes the emergence score cannot "
                "tell a jump from a straight line, from 4 on it can, and a straight line scores n − 1 at every n, "
                "so the median score mixes scales: compare median_jump_sharpness (one scale from 3 sizes on), or "
                "rerun with --min-sizes 4 to summarise only curves whose emergence score can single out a jump."
            )
    return notes


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
