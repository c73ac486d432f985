"""Plots (matplotlib, PNG). They draw frames that other modules computed; they compute nothing.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state, no
display needed) and saved atomically.
"""

from __future__ import annotations

import math
import textwrap
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

from mirage_metrics.atomic_files import atomic_path

__all__ = [
    "FULL_ANSWER_COLOUR",
    "MARKERS",
    "add_note",
    "identical_groups",
    "length_colour",
    "length_marker",
    "new_figure",
    "params_axis",
    "save_figure",
    "short_count",
    "x_axis_label",
    "x_label",
]

#: Colours of the target lengths L = 1, 2, ... in every figure (tab10 without its grey, which the resolution floor
#: uses); the full answer is black.
LENGTH_COLOURS = ["C0", "C1", "C2", "C3", "C4", "C5", "C6", "C8", "C9"]
FULL_ANSWER_COLOUR = "black"
#: Markers of the metrics (or filters) of one figure, in order; "v" is kept for measured zeros, "D" for predictions.
MARKERS = ["o", "s", "^", "P", "X", "*", "h", "p", "<", ">"]

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


def _full_answer(length) -> bool:
    """Whether ``length`` stands for the whole answer (None or NaN) rather than a target length L."""
    return length is None or (isinstance(length, float) and math.isnan(length))


def length_colour(length: float) -> str:
    """The colour of target length ``length`` (NaN: the full answer), the same in every figure.

    >>> length_colour(1), length_colour(2), length_colour(float("nan"))
    ('C0', 'C1', 'black')
    """
    if _full_answer(length):
        return FULL_ANSWER_COLOUR
    return LENGTH_COLOURS[(int(length) - 1) % len(LENGTH_COLOURS)]


def length_marker(length: float, index: int) -> str:
    """The marker of the ``index``-th metric of a figure at target length ``length``: lengths that share a colour
    (L and L + 9) get different markers, so no two curves share colour and marker.

    >>> length_marker(1, 0), length_marker(1, 1), length_marker(10, 0)
    ('o', 's', 's')
    """
    turn = 0 if _full_answer(length) else (int(length) - 1) // len(LENGTH_COLOURS)
    return MARKERS[(index + turn) % len(MARKERS)]


def short_count(value: float) -> str:
    """A parameter count as researchers write it.

    >>> short_count(20_000), short_count(1.4e9), short_count(160e6), short_count(425_600), short_count(500)
    ('20k', '1.4B', '160M', '426k', '500')
    """
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


class _CountFormatter(Formatter):
    """Labels of a log axis of parameter counts (:func:`short_count`). Minor ticks are labelled only where the
    view spans under two decades, when major ticks alone could leave fewer than two labels: all of them under a
    factor of 2.5, those at 2, 3 and 5 times a power of ten under 10, else those at 2 and 5."""

    def __init__(self, minor: bool = False):
        self.minor = minor

    def __call__(self, value, pos=None):
        if not value > 0:
            return ""
        if self.minor:
            low, high = sorted(self.axis.get_view_interval())
            span = high / low if low > 0 else np.inf
            mantissa = round(value / 10 ** math.floor(math.log10(value)), 6)
            shown = (1, 2, 3, 4, 5, 6, 7, 8, 9) if span < 2.5 else (2, 3, 5) if span < 10 else (2, 5)
            if span >= 100 or mantissa not in shown:
                return ""
        return short_count(value)


def params_axis(axes) -> None:
    """A log x-axis labelled :func:`x_label` ("Parameters") in counts (10k, 1.4B), with labelled ticks also when every size lies
    within one power of ten (:class:`_CountFormatter`).

    Call it after drawing: data of a single size (a one-model report) get the decade on either side, so the
    axis has labelled ticks around the point.
    """
    axes.set_xscale("log")
    axes.xaxis.set_major_formatter(_CountFormatter())
    axes.xaxis.set_minor_formatter(_CountFormatter(minor=True))
    axes.set_xlabel(x_label())
    low, high = axes.dataLim.intervalx
    if low == high and low > 0:
        axes.set_xlim(low / 10, high * 10)


def add_note(figure: Figure, note: str | None) -> None:
    """A short note under the figure (what a reader needs to read it right), wrapped to its width."""
    if note:
        width = int(figure.get_figwidth() * 72 / 5.2)  # characters of a small font per line
        lines = [textwrap.fill(paragraph, width) for paragraph in note.split("\n")]
        figure.supxlabel("\n".join(lines), fontsize="small", style="italic", color="0.25")


def identical_groups(curves: dict, columns=("params", "n", "mean")) -> dict:
    """The keys of ``curves`` (frames) grouped by identical values in ``columns``: {first key: [its key and
    every later key with the same values]}, in order. A figure draws each group once and names every key of it.
    Intervals are not compared: bootstrap intervals of the same values differ by their resamples.

    >>> a = pd.DataFrame({"params": [1, 2], "n": 10, "mean": [0.1, 0.2], "ci_low": 0.0, "ci_high": 1.0})
    >>> identical_groups({"strict": a, "flexible": a.copy(), "other": a.assign(mean=[0.1, 0.3])})
    {'strict': ['strict', 'flexible'], 'other': ['other']}
    """
    groups, first_of = {}, {}
    for key, frame in curves.items():
        values = frame[list(columns)].apply(pd.to_numeric, errors="coerce").astype(float)  # pd.NA: NaN
        values = values.sort_values(list(columns)).to_numpy()
        signature = (values.shape, np.round(values, 12).tobytes())
        if signature in first_of:
            groups[first_of[signature]].append(key)
        else:
            first_of[signature] = key
            groups[key] = [key]
    return groups


def save_figure(figure: Figure, path) -> Path:
    """Save ``figure`` as PNG at ``path`` atomically and return the path."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=110)
    return Path(path)
