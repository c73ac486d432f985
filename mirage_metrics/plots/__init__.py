"""Plots (matplotlib, PNG). They draw frames that other modules computed; they compute nothing.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state, no
display needed) and saved atomically.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from mirage_metrics.atomic_files import atomic_path

__all__ = ["new_figure", "params_axis", "x_axis_label", "x_label", "save_figure"]

_X_LABEL = ContextVar("x_label", default="Parameters")


@contextmanager
def x_axis_label(label: str):
    """Within this block, :func:`params_axis` labels the x-axis ``label`` (a report against training steps).

    >>> with x_axis_label("Training step"):
    ...     x_label()
    'Training step'
    >>> x_label()
    'Parameters'
    """
    token = _X_LABEL.set(label)
    try:
        yield
    finally:
        _X_LABEL.reset(token)


def x_label() -> str:
    """What the x-axis of a size plot shows: "Parameters", or the label of the enclosing :func:`x_axis_label`."""
    return _X_LABEL.get()


def new_figure(rows: int, columns: int, *, width: float = 4.2, height: float = 3.2, **kwargs):
    """A figure and its grid of axes (always 2-D), sized per panel."""
    figure = Figure(figsize=(width * columns, height * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False, **kwargs)
    return figure, axes


def params_axis(axes) -> None:
    """A log x-axis labelled :func:`x_label` ("Parameters"), without crowded minor-tick labels on narrow ranges.

    Call it after drawing: data of a single size (a one-model report) get the decade on either side, so the
    axis has labelled ticks around the point.
    """
    axes.set_xscale("log")
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel(x_label())
    low, high = axes.dataLim.intervalx
    if low == high and low > 0:
        axes.set_xlim(low / 10, high * 10)


def save_figure(figure: Figure, path) -> Path:
    """Save ``figure`` as PNG at ``path`` atomically and return the path."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=110)
    return Path(path)
