"""Plots (matplotlib, PNG). They draw frames that other modules computed; they compute nothing.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state, no
display needed) and saved atomically.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from mirage_metrics.atomic_files import atomic_path

__all__ = ["new_figure", "params_axis", "save_figure"]


def new_figure(rows: int, columns: int, *, width: float = 4.2, height: float = 3.2, **kwargs):
    """A figure and its grid of axes (always 2-D), sized per panel."""
    figure = Figure(figsize=(width * columns, height * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False, **kwargs)
    return figure, axes


def params_axis(axes) -> None:
    """A log x-axis labelled "Parameters", without crowded minor-tick labels on narrow ranges.

    Call it after drawing: data of a single size (a one-model report) get the decade on either side, so the
    axis has labelled ticks around the point.
    """
    axes.set_xscale("log")
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("Parameters")
    low, high = axes.dataLim.intervalx
    if low == high and low > 0:
        axes.set_xlim(low / 10, high * 10)


def save_figure(figure: Figure, path) -> Path:
    """Save ``figure`` as PNG at ``path`` atomically and return the path."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=110)
    return Path(path)
