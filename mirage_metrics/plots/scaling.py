"""Plots of ``mirage report``: metrics against parameters, drawn from :mod:`mirage_metrics.summary` and :mod:`mirage_metrics.mirage_fit` frames.

Every function takes summary rows (``params, metric, length, n, mean, ci_low,
ci_high``) of one family and one task (or task stem) and writes one PNG.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from mirage_metrics.plots import (
    FULL_ANSWER_COLOUR,
    MARKERS,
    add_note,
    identical_groups,
    length_colour,
    length_marker,
    new_figure,
    params_axis,
    save_figure,
)
from mirage_metrics.registry import direction, metric_info, mirage_columns
from mirage_metrics.registry import label as metric_label

__all__ = [
    "plot_by_length",
    "plot_metrics_by_length",
    "plot_log_accuracy",
    "plot_greedy_vs_probability",
    "plot_all_metrics",
    "plot_mechanism",
]


def _with_ci(axes, rows: pd.DataFrame, label: str, *, sign: float = 1.0, color=None, marker: str = "o", **style):
    rows = rows.sort_values("params")
    mean = sign * rows["mean"].to_numpy(float)
    bounds = np.sort(sign * rows[["ci_low", "ci_high"]].to_numpy(float), axis=1)
    error = np.abs(np.vstack([mean - bounds[:, 0], bounds[:, 1] - mean]))
    container = axes.errorbar(
        rows["params"], mean, yerr=np.nan_to_num(error), marker=marker, capsize=3, label=label, color=color, **style
    )
    return container.lines[0].get_color()


def _panel_label(metric: str) -> str:
    """A Fig 3 panel's label: the metric's, negated where lower is better (the panel plots it upside down).

    >>> _panel_label("exact_match"), _panel_label("token_edit_distance")
    ('Exact match', '− Token edit distance')
    """
    text = metric_info(metric).label
    return ("− " if direction(metric) < 0 else "") + text[:1].upper() + text[1:]


def _length_label(length: float) -> str:
    return "full answer" if math.isnan(length) else f"L = {int(length)}"


#: Hollow markers of the full answers scored on the first problems only (Fig 4), one per metric.
_FIRST_MARKERS = ["D", "H", "8", "d"]


def _names(metrics: tuple, separator: str = " = ") -> str:
    """How a legend names one drawn curve that stands for several metrics with identical values.

    >>> _names(("exact_match",)), _names(("greedy_match", "greedy_exact_match"))
    ('exact_match', 'greedy_match = greedy_exact_match (identical here)')
    """
    return separator.join(metrics) + (" (identical here)" if len(metrics) > 1 else "")


def _filter_order(metric: str) -> tuple:
    """The metric without a filter (lm-eval's strict ``none``, the paper's) first, then its filters by name."""
    return ("," in metric, metric)


def _curves_drawn(rows: pd.DataFrame) -> list[tuple[tuple, float, pd.DataFrame]]:
    """(metrics, length, rows) of each curve to draw, the full answer first: per length, the metrics whose curves
    hold identical values share one curve, named by all of them; curves of other lengths that still coincide
    (e.g. several L all 0) are set apart (:func:`_set_apart`)."""
    drawn = []
    lengths = sorted(rows["length"].unique(), key=lambda length: (not math.isnan(length), length))
    for length in lengths:
        at_length = rows[rows["length"].isna()] if math.isnan(length) else rows[rows["length"] == length]
        curves = {
            metric: at_length[at_length["metric"] == metric]
            for metric in sorted(at_length["metric"].unique(), key=_filter_order)
        }
        for first, group in identical_groups(curves).items():
            drawn.append((tuple(group), length, curves[first]))
    apart = _set_apart([curve for _, _, curve in drawn])
    return [(metrics, length, curve) for (metrics, length, _), curve in zip(drawn, apart)]


_APART = 1.06  # a factor on the log x axis: 6% apart


def _set_apart(curves: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """``curves``, each one whose sizes and means repeat an earlier one's (e.g. two lengths, both 0 everywhere,
    with intervals of different widths) moved right by 6% per repeat, so that each stays visible with its own
    interval.

    >>> a = pd.DataFrame({"params": [10.0, 100.0], "mean": [0.0, 0.0]})
    >>> [curve["params"].round(2).tolist() for curve in _set_apart([a, a.copy(), a.assign(mean=1.0)])]
    [[10.0, 100.0], [10.6, 106.0], [10.0, 100.0]]
    """
    moved = list(curves)
    for group in identical_groups(dict(enumerate(curves)), columns=("params", "mean")).values():
        for repeat, index in enumerate(group[1:], start=1):
            moved[index] = curves[index].assign(params=curves[index]["params"] * _APART**repeat)
    return moved


def _legend_plan(drawn: list) -> tuple[str | None, dict, dict]:
    """The legend title (the metrics, when every curve stands for the same ones), each curve's label and marker
    index by its metrics: one marker per set of metrics, one colour per length."""
    sets = list(dict.fromkeys(metrics for metrics, _, _ in drawn))  # (metrics, lengths, rows) of _curves_drawn
    markers = {metrics: index for index, metrics in enumerate(sets)}
    if len(sets) == 1:
        return _names(sets[0], " =\n"), {sets[0]: ""}, markers
    return None, {metrics: _names(metrics) + ", " for metrics in sets}, markers


def plot_by_length(
    rows: pd.DataFrame,
    curves: pd.DataFrame | None,
    title: str,
    path,
    held_out_from: float | None = None,
    note: str | None = None,
) -> Path:
    """The paper's Fig 3: exact match by target length L (top), −token edit distance by L (bottom), the legend
    beside them and ``note`` under them.

    ``curves`` (params, length, accuracy, token_edit_distance), when given, is the
    mirage fit's prediction, drawn dashed in each length's colour; sizes from
    ``held_out_from`` up, which the fit did not see, are shaded. Lengths whose points coincide (e.g. all 0) are
    set 6% apart.
    """
    figure, axes = new_figure(2, 1, width=7.4, height=3.4, sharex=True)
    panels = [(m, column, direction(m), _panel_label(m)) for m, column in mirage_columns().items()]
    for panel, (metric, predicted, sign, label) in zip(axes[:, 0], panels):
        by_length = dict(list(rows[rows["metric"] == metric].groupby("length")))
        for (length, _), curve in zip(by_length.items(), _set_apart(list(by_length.values()))):
            _with_ci(panel, curve, _length_label(length), sign=sign, color=length_colour(length))
        for length in by_length if curves is not None else ():
            curve = curves[curves["length"] == int(length)]
            panel.plot(curve["params"], sign * curve[predicted], linestyle="--", color=length_colour(length), alpha=0.8)
        if curves is not None and held_out_from is not None:
            panel.axvspan(held_out_from / 1.3, rows["params"].max() * 1.3, color="grey", alpha=0.12, lw=0)
        params_axis(panel)
        panel.set_ylabel(label)
    legend_title = None
    if curves is not None:
        legend_title = "dashed: mirage fit" + ("\nshaded: held out" if held_out_from is not None else "")
    axes[0, 0].legend(
        fontsize="small", title=legend_title, title_fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0)
    )
    axes[0, 0].set_xlabel("")  # shared with the panel below
    figure.suptitle(title)
    add_note(figure, note)
    return save_figure(figure, path)


def plot_metrics_by_length(rows: pd.DataFrame, title: str, path, note: str | None = None) -> Path:
    """Every by-length metric, one panel per metric with all its filters (lm-eval's strict ``none``, the paper's,
    and e.g. ``flexible-extract``): one colour per L, one marker per filter, 95% intervals; filters that give
    identical values drawn once and named together; ``note`` under the panels."""
    base = rows["metric"].str.split(",").str[0]
    metrics = sorted(base.unique())
    figure, axes = new_figure(1, len(metrics), width=6.0, height=3.6)
    for panel, metric in zip(axes.ravel(), metrics):
        drawn = _curves_drawn(rows[base == metric])
        legend_title, prefix, markers = _legend_plan(drawn)
        for names, length, curve in drawn:
            _with_ci(
                panel,
                curve,
                prefix[names] + _length_label(length),
                color=length_colour(length),
                marker=length_marker(length, markers[names]),
            )
        params_axis(panel)
        panel.set_ylabel(textwrap.fill(metric_label(metric), 32), fontsize="small")
        panel.set_title((legend_title or metric).replace("\n", " "), fontsize="small", wrap=True)
        panel.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.suptitle(title)
    add_note(figure, note)
    return save_figure(figure, path)


def plot_log_accuracy(
    rows: pd.DataFrame, title: str, path, first: pd.DataFrame | None = None, note: str | None = None
) -> Path:
    """The paper's Fig 4: accuracy on a log axis with 95% CIs and the 1/n resolution floor per model.

    The full answer is black and bold, each target length L has its own colour
    (as in Fig 3), each metric its own marker; metrics (e.g. two lm-eval filters)
    that give identical values are drawn once and named together. A mean of 0
    cannot be drawn on a log axis: it is drawn as a downward triangle at its
    interval's upper bound (about 3.7/n for 0 of n), meaning "below this", in the
    curve's colour. ``first`` (summary rows with a ``first_problems`` column, from
    :func:`mirage_metrics.summary.summarise_first_problems`), when given, is the
    full-answer metrics scored on the first problems only, drawn hollow and dashed
    with its own resolution floor. ``note``: a line under the plot.
    """
    figure, axes = new_figure(1, 1, width=9.0, height=4.4)
    panel = axes[0, 0]
    drawn = _curves_drawn(rows)
    legend_title, prefix, markers = _legend_plan(drawn)
    occupied = {}  # zeros' triangles drawn so far, so that none covers another (the full answer's first)
    for names, length, curve in drawn:
        full = math.isnan(length)
        _log_curve(
            panel,
            curve,
            prefix[names] + _length_label(length),
            length_colour(length),
            filled=True,
            marker=length_marker(length, markers[names]),
            occupied=occupied,
            **({"linewidth": 2.2, "markersize": 7, "zorder": 4} if full else {}),
        )
    if first is not None:  # full answers only: by-length curves would crowd the view
        full_answers = first[first["length"].isna()]
        few_curves = {
            metric: full_answers[full_answers["metric"] == metric] for metric in full_answers["metric"].unique()
        }
        for index, (key, names) in enumerate(identical_groups(few_curves).items()):
            few = int(few_curves[key]["first_problems"].iloc[0])
            label = (prefix.get(tuple(names), _names(tuple(names)) + ", ")) + f"full answer, first {few:,} problems"
            marker = _FIRST_MARKERS[index % len(_FIRST_MARKERS)]
            _log_curve(
                panel, few_curves[key], label, FULL_ANSWER_COLOUR, filled=False, marker=marker, occupied=occupied
            )
    floor = rows.drop_duplicates("params").sort_values("params")
    panel.plot(floor["params"], 1.0 / floor["n"], color="grey", linestyle=":", marker="_", label="resolution 1/n")
    if first is not None and not first.empty:
        few_floor = first.drop_duplicates("params").sort_values("params")
        panel.plot(
            few_floor["params"],
            1.0 / few_floor["n"],
            color="grey",
            linestyle="-.",
            lw=0.8,
            label="resolution, first problems",
        )
    params_axis(panel)
    panel.set(yscale="log", ylabel="Accuracy (log scale)")
    handles, labels = panel.get_legend_handles_labels()
    # in the order drawn (a curve measured 0 everywhere is a scatter, which matplotlib lists first), then the floors
    names = [prefix[metrics] + _length_label(length) for metrics, length, _ in drawn]
    order = sorted(range(len(labels)), key=lambda i: _drawn_rank(labels[i], names))
    panel.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        fontsize="x-small",
        title=legend_title,
        title_fontsize="x-small",
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    figure.suptitle(title)
    add_note(figure, note)
    return save_figure(figure, path)


def _drawn_rank(label: str, names: list[str]) -> int:
    """Where a legend entry goes: at its curve's place in ``names``, after them all when none is its curve
    (the first problems' curves, the resolution floors).

    >>> _drawn_rank("L = 3: 0 measured, 95% upper bound", ["full answer", "L = 3"]), _drawn_rank("floor", ["L = 3"])
    (1, 1)
    """
    for rank, name in enumerate(names):
        if label == name or label.startswith(f"{name}: "):
            return rank
    return len(names)


def _apart_from(occupied: dict, params, heights) -> np.ndarray:
    """x positions of markers at ``params`` and ``heights``: each moved right by 6% for every marker already drawn
    at that size within 10% of its height (recorded in ``occupied``, {size: heights}), so none covers another.

    >>> occupied = {}
    >>> _apart_from(occupied, [10.0, 20.0], [0.007, 0.5]).tolist(), _apart_from(occupied, [10.0], [0.0071]).round(2).tolist()
    ([10.0, 20.0], [10.6])
    """
    moved = []
    for size, height in zip(params, heights):
        near = occupied.setdefault(float(size), [])
        repeats = sum(abs(math.log(height / other)) < 0.1 for other in near)
        near.append(height)
        moved.append(size * _APART**repeats)
    return np.asarray(moved, float)


def _log_curve(
    panel,
    curve: pd.DataFrame,
    label: str,
    color,
    *,
    filled: bool,
    joined: bool = True,
    marker: str = "o",
    occupied: dict | None = None,
    **style,
):
    """One accuracy curve on a log axis: positive means with their intervals, zeros as triangles at their upper
    bound; hollow and dashed when not ``filled``, points alone when not ``joined``. Triangles near one already
    recorded in ``occupied`` (see :func:`_apart_from`) are set apart. Returns the colour used."""
    positive, zero = curve[curve["mean"] > 0], curve[(curve["mean"] <= 0) & (curve["ci_high"] > 0)]
    style = style | ({} if filled else {"markerfacecolor": "none", "linestyle": "--"})
    if not joined:
        style["linestyle"] = "none"
    if not positive.empty:
        clipped = positive.assign(ci_low=positive["ci_low"].clip(lower=positive["mean"] / 10))  # a log axis
        color = _with_ci(panel, clipped, label, color=color, marker=marker, **style)
    if not zero.empty:
        at = zero["params"] if occupied is None else _apart_from(occupied, zero["params"], zero["ci_high"])
        panel.scatter(
            at,
            zero["ci_high"],
            marker="v",
            color=color if filled else "none",
            edgecolors=color,
            zorder=3,
            label=f"{label}: 0 measured, 95% upper bound" if positive.empty else None,
        )
    return color


def plot_greedy_vs_probability(greedy: pd.DataFrame, probability: pd.DataFrame, title: str, path) -> Path:
    """Greedy accuracy (left) beside the geometric-mean target probability exp(mean log p) (right, log axis).
    Curves with identical values (e.g. the ``_gen`` task's exact match and the ``_ll`` task's greedy match of the
    same outputs) are drawn once and named together."""
    figure, axes = new_figure(1, 2, width=5.2, height=3.4)
    for panel, frame, keys in ((axes[0, 0], greedy, ["metric", "task"]), (axes[0, 1], probability, ["task"])):
        curves = {key if isinstance(key, tuple) else (key,): curve for key, curve in frame.groupby(keys, sort=True)}
        for index, names in enumerate(identical_groups(curves).values()):
            label = _names(tuple(f"{key[0]} ({key[1]})" if len(key) == 2 else key[0] for key in names), "\n= ")
            _with_ci(
                panel,
                curves[names[0]],
                label,
                color=f"C{index % 10}",
                marker=MARKERS[index % len(MARKERS)],
            )
        params_axis(panel)
        panel.legend(fontsize="x-small")
    axes[0, 0].set_ylabel("Greedy accuracy")
    axes[0, 1].set(yscale="log", ylabel="exp(mean target log-prob)")
    figure.suptitle(title)
    return save_figure(figure, path)


def plot_all_metrics(rows: pd.DataFrame, title: str, path) -> Path:
    """Every metric of a task (not by length) against parameters, one panel each, with 95% CIs; a panel's title
    names the metrics with identical values."""
    metrics = sorted(rows["metric"].unique())
    columns = min(4, len(metrics))
    figure, axes = new_figure(int(np.ceil(len(metrics) / columns)), columns, width=3.6, height=2.8)
    same = {}
    for group in identical_groups({metric: rows[rows["metric"] == metric] for metric in metrics}).values():
        same.update({metric: [other for other in group if other != metric] for metric in group})
    for panel, metric in zip(axes.ravel(), metrics):
        _with_ci(panel, rows[rows["metric"] == metric], metric)
        params_axis(panel)
        named = metric + (f" (identical to {', '.join(same[metric])} here)" if same[metric] else "")
        panel.set_title(textwrap.fill(named, 44), fontsize="small")
        panel.set_ylabel(
            textwrap.fill(metric_label(metric), 28), fontsize="small"
        )  # a long label would reach the title
    for panel in axes.ravel()[len(metrics) :]:
        panel.set_visible(False)
    figure.suptitle(title)
    return save_figure(figure, path)


def plot_mechanism(rows: pd.DataFrame, title: str, path) -> Path:
    """Observed temperature-1 exact match of the first L characters (filled points, 95% exact intervals; a measured
    0 as a triangle at its upper bound) and the predicted mean prefix probability (hollow diamonds, dashed) against
    size, one colour per L, on a log axis. ``rows``: one task's :func:`mirage_metrics.mechanism.mechanism_table` rows.

    Triangles that would cover one another are set 6% apart.
    The axis starts a little below the finest resolution 1/n, so predictions far under it lie off the bottom; a
    note under the plot names the lengths predicted below it at every size (they get no legend entry).
    """
    figure, axes = new_figure(1, 1, width=7.5, height=4.2)
    panel = axes[0, 0]
    bottom, below = 0.3 / rows["n"].max(), []
    occupied = {}
    for length, by_length in rows.groupby("L"):
        color = length_colour(length)  # set here: a curve measured 0 everywhere draws no line to take a colour from
        observed = by_length.rename(columns={"observed": "mean"})
        _log_curve(
            panel, observed, f"{_length_label(length)} observed", color, filled=True, joined=False, occupied=occupied
        )
        by_length = by_length.sort_values("params")
        in_view = (by_length["predicted"] >= bottom).any()
        panel.plot(
            by_length["params"],
            by_length["predicted"],
            linestyle="--",
            marker="D",
            markersize=9,  # around the observed point when they agree
            markerfacecolor="none",
            color=color,
            label=f"{_length_label(length)} predicted" if in_view else "_below",  # no legend entry for nothing seen
        )
        below += [] if in_view else [str(length)]
    params_axis(panel)
    panel.set(yscale="log", ylabel="Exact match of the first L characters, t = 1")
    panel.set_ylim(bottom, 1.5)
    handles, labels = panel.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=labels.__getitem__)  # each L's observed and predicted together
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    if ((rows["observed"] <= 0) & (rows["ci_high"] > 0)).any():
        handles.append(Line2D([], [], marker="v", color="grey", linestyle="none"))
        labels.append("0 measured: 95% upper bound")
    panel.legend(handles, labels, fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.suptitle(title)
    if below:
        add_note(figure, f"Predicted below the axis (under {bottom:.2g}) at every size: L = {', '.join(below)}.")
    return save_figure(figure, path)
