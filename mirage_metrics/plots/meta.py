"""Plots of the meta-analysis (computed in :mod:`mirage_metrics.meta.analysis`); nothing is computed here.

- :func:`plot_score_distributions`: per metric, every curve's emergence score (like the
  paper's Fig 5A), on a symmetric-log axis; ±inf scores are drawn as triangles at the
  axis ends, labelled ``+inf`` / ``-inf``.
- :func:`plot_share_above_threshold`: per metric, the share of curves above the threshold.

Both write a PNG atomically (:func:`mirage_metrics.plots.save_figure`) and return its path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence, Union

import numpy as np
import pandas as pd

from mirage_metrics.plots import new_figure, save_figure

__all__ = ["plot_score_distributions", "plot_share_above_threshold"]

PathLike = Union[str, Path]


def _axes(n_rows: int):
    figure, axes = new_figure(1, 1, width=8, height=max(2.5, 0.4 * n_rows + 1.2))
    return figure, axes[0, 0]


def plot_score_distributions(
    scores: pd.DataFrame, metric_order: Sequence[str], threshold: float, path: PathLike
) -> Path:
    """Strip plot: one row per metric (``metric_order`` top to bottom), one dot per curve.

    ``scores`` has columns ``metric`` and ``emergence_score``. Dashed lines mark
    ±``threshold``.
    """
    metric_order = list(metric_order)
    values = scores["emergence_score"].to_numpy(float)
    finite = values[np.isfinite(values)]
    # ±inf sits one decade beyond the largest finite score (or the threshold).
    edge = 10.0 ** (np.ceil(np.log10(max([threshold, 1.0, *np.abs(finite)]))) + 1)
    figure, axes = _axes(len(metric_order))
    jitter = np.random.default_rng(0)
    for row, metric in enumerate(metric_order):
        metric_values = scores.loc[scores["metric"] == metric, "emergence_score"].to_numpy(float)
        heights = row + jitter.uniform(-0.2, 0.2, size=len(metric_values))
        shown = np.isfinite(metric_values)
        axes.scatter(metric_values[shown], heights[shown], s=14, alpha=0.6, color="tab:blue")
        for sign, marker in ((1, ">"), (-1, "<")):
            at_edge = metric_values == sign * np.inf
            axes.scatter(np.full(at_edge.sum(), sign * edge), heights[at_edge], s=30, marker=marker, color="tab:red")
    for sign in (1, -1):
        axes.axvline(sign * threshold, color="grey", linestyle="--", linewidth=1)
    axes.set_xscale("symlog", linthresh=1.0)
    axes.set_xlim(-edge * 2, edge * 2)
    ticks = [t for t in axes.get_xticks() if abs(t) < edge] + [-edge, edge]
    axes.set_xticks(ticks, [f"{t:g}" for t in ticks[:-2]] + ["-inf", "+inf"])
    axes.set_yticks(range(len(metric_order)), metric_order)
    axes.set_ylim(len(metric_order) - 0.5, -0.5)
    axes.set_xlabel("emergence score (symmetric log scale; triangles: ±inf)")
    axes.set_title(f"Emergence scores per metric (dashed: ±{threshold:g})")
    axes.grid(axis="x", alpha=0.3)
    return save_figure(figure, path)


def plot_share_above_threshold(by_metric: pd.DataFrame, threshold: float, path: PathLike) -> Path:
    """Horizontal bars: ``share_above_threshold`` per metric, in the frame's order, top to bottom."""
    figure, axes = _axes(len(by_metric))
    positions = np.arange(len(by_metric))
    axes.barh(positions, by_metric["share_above_threshold"], color="tab:orange")
    for position, (share, count) in enumerate(by_metric[["share_above_threshold", "n_pairs"]].itertuples(index=False)):
        axes.text(share, position, f" {share:.0%} of {count}", va="center", fontsize=8)
    axes.set_yticks(positions, by_metric["metric"])
    axes.set_ylim(len(by_metric) - 0.5, -0.5)
    axes.set_xlim(0, 1.15)
    axes.set_xlabel(f"share of task–family curves with |emergence score| > {threshold:g}")
    axes.set_title("Where emergence concentrates")
    return save_figure(figure, path)
