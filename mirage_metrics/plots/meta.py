"""Plots of the meta-analysis (computed in :mod:`mirage_metrics.meta.analysis`); nothing is computed here.

- :func:`plot_score_distributions`: per metric, every curve's signed emergence score
  (like the paper's Fig 5A, on a symmetric-log axis; ±inf drawn as triangles at the
  axis ends, labelled ``+inf`` / ``-inf``) and its jump sharpness, one colour per
  number of model sizes (2 sizes cannot score above 1, 3 sizes above 2);
- :func:`plot_share_above_threshold`: per metric, the share of curves above the
  threshold, over the share whose number of sizes allows it at all.

Both write a PNG atomically (:func:`mirage_metrics.plots.save_figure`) and return its path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence, Union

import numpy as np
import pandas as pd
from matplotlib import colormaps

from mirage_metrics.plots import new_figure, save_figure

__all__ = ["plot_score_distributions", "plot_share_above_threshold"]

PathLike = Union[str, Path]
_LIMITS = {2: " (|score| ≤ 1)", 3: " (|score| ≤ 2)"}


def _metric_rows(axes, metric_order: list[str]) -> None:
    axes.set_ylim(len(metric_order) - 0.5, -0.5)
    axes.grid(axis="x", alpha=0.3)


def plot_score_distributions(
    scores: pd.DataFrame, metric_order: Sequence[str], threshold: float, path: PathLike
) -> Path:
    """Two strip plots side by side, one row per metric (``metric_order`` top to bottom), one dot per curve.

    ``scores`` has columns ``metric``, ``direction``, ``n_sizes``, ``emergence_score``
    and ``sharpness``. Left: the emergence score, dashed lines at ±``threshold``;
    right: the jump sharpness (curves with 2 sizes have none). Colour: number of sizes.
    """
    metric_order = list(metric_order)
    scores = scores.reset_index(drop=True)
    values = scores["emergence_score"].to_numpy(float)
    finite = values[np.isfinite(values)]
    # ±inf sits one decade beyond the largest finite score (or the threshold).
    edge = 10.0 ** (np.ceil(np.log10(max([threshold, 1.0, *np.abs(finite)]))) + 1)
    figure, axes = new_figure(1, 2, width=5.5, height=max(2.5, 0.4 * len(metric_order) + 1.6), sharey=True)
    score_axes, sharpness_axes = axes[0]
    rows = scores["metric"].map({metric: row for row, metric in enumerate(metric_order)}).to_numpy(float)
    heights = rows + np.random.default_rng(0).uniform(-0.2, 0.2, size=len(scores))
    palette = colormaps["tab10"]
    for index, (n_sizes, curves) in enumerate(scores.groupby("n_sizes", sort=True)):
        colour, where = palette(index % 10), curves.index
        emergence, sharpness = values[where], curves["sharpness"].to_numpy(float)
        label = f"{n_sizes} sizes{_LIMITS.get(n_sizes, '')}: {len(curves)} curve{'s' * (len(curves) != 1)}"
        shown = np.isfinite(emergence)
        score_axes.scatter(emergence[shown], heights[where][shown], s=14, alpha=0.6, color=colour, label=label)
        for sign, marker in ((1, ">"), (-1, "<")):
            at_edge = emergence == sign * np.inf
            score_axes.scatter(
                np.full(at_edge.sum(), sign * edge), heights[where][at_edge], s=30, marker=marker, color=colour
            )
        sharpness_axes.scatter(sharpness, heights[where], s=14, alpha=0.6, color=colour)
    for sign in (1, -1):
        score_axes.axvline(sign * threshold, color="grey", linestyle="--", linewidth=1)
    score_axes.set_xscale("symlog", linthresh=1.0)
    score_axes.set_xlim(-edge * 2, edge * 2)
    ticks = [t for t in score_axes.get_xticks() if abs(t) < edge] + [-edge, edge]
    score_axes.set_xticks(ticks, [f"{t:g}" for t in ticks[:-2]] + ["-inf", "+inf"])
    unknown = set(scores.loc[scores["direction"] == "unknown", "metric"])
    score_axes.set_yticks(
        range(len(metric_order)), [f"{m} (direction unknown)" if m in unknown else m for m in metric_order]
    )
    score_axes.set_xlabel("emergence score (symmetric log; triangles: ±inf; + is better with size)")
    score_axes.set_title(f"Emergence scores (dashed: ±{threshold:g})")
    sharpness_axes.axvline(0, color="grey", linewidth=1)
    sharpness_axes.set_xlim(-1.1, 1.1)
    sharpness_axes.set_xlabel("jump sharpness (0: equal steps, ±1: one jump)")
    sharpness_axes.set_title("Jump sharpness (3+ sizes)")
    for axes in (score_axes, sharpness_axes):
        _metric_rows(axes, metric_order)
    figure.legend(loc="outside lower center", ncols=min(4, scores["n_sizes"].nunique()), fontsize=8)
    return save_figure(figure, path)


def plot_share_above_threshold(by_metric: pd.DataFrame, threshold: float, path: PathLike) -> Path:
    """Horizontal bars per metric, in the frame's order, top to bottom.

    Grey: ``share_can_exceed`` (curves with enough sizes to pass the threshold);
    orange: ``share_above_threshold``.
    """
    figure, axes = new_figure(1, 1, width=8, height=max(2.5, 0.4 * len(by_metric) + 1.2))
    axes = axes[0, 0]
    positions = np.arange(len(by_metric))
    axes.barh(positions, by_metric["share_can_exceed"], color="lightgrey", label="could exceed (enough sizes)")
    axes.barh(positions, by_metric["share_above_threshold"], height=0.5, color="tab:orange", label="exceeds")
    for position, row in enumerate(by_metric.itertuples(index=False)):
        axes.text(
            max(row.share_can_exceed, row.share_above_threshold),
            position,
            f" {row.share_above_threshold:.0%} of {row.n_pairs} ({row.share_can_exceed:.0%} could)",
            va="center",
            fontsize=8,
        )
    axes.set_yticks(positions, by_metric["metric"])
    _metric_rows(axes, list(by_metric["metric"]))
    axes.set_xlim(0, 1.3)
    axes.set_xlabel(f"share of task–family curves with |emergence score| > {threshold:g}")
    out_of_reach = by_metric["share_can_exceed"].max() == 0
    axes.set_title(
        "Where emergence concentrates" + (": no curve has enough sizes to exceed it" if out_of_reach else "")
    )
    axes.legend(loc="lower right", fontsize=8)
    return save_figure(figure, path)
