"""Plots of ``mirage report``: metrics against parameters, drawn from :mod:`mirage_metrics.summary` and :mod:`mirage_metrics.mirage_fit` frames.

Every function takes summary rows (``params, metric, length, n, mean, ci_low,
ci_high``) of one family and one task (or task stem) and writes one PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from mirage_metrics.plots import new_figure, params_axis, save_figure
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


def _length_label(length: float) -> str:
    return f"L = {int(length)}"


def _panel_label(metric: str) -> str:
    """A Fig 3 panel's label: the metric's, negated where lower is better (the panel plots it upside down).

    >>> _panel_label("exact_match"), _panel_label("token_edit_distance")
    ('Exact match', '− Token edit distance')
    """
    text = metric_info(metric).label
    return ("− " if direction(metric) < 0 else "") + text[:1].upper() + text[1:]


def plot_by_length(
    rows: pd.DataFrame, curves: pd.DataFrame | None, title: str, path, held_out_from: float | None = None
) -> Path:
    """The paper's Fig 3: exact match by target length L (top), −token edit distance by L (bottom).

    ``curves`` (params, length, accuracy, token_edit_distance), when given, is the
    mirage fit's prediction, drawn dashed in each length's colour; sizes from
    ``held_out_from`` up, which the fit did not see, are shaded.
    """
    figure, axes = new_figure(2, 1, width=6.0, height=3.4, sharex=True)
    panels = [(m, column, direction(m), _panel_label(m)) for m, column in mirage_columns().items()]
    for panel, (metric, predicted, sign, label) in zip(axes[:, 0], panels):
        for length, by_length in rows[rows["metric"] == metric].groupby("length"):
            color = _with_ci(panel, by_length, _length_label(length), sign=sign)
            if curves is not None:
                curve = curves[curves["length"] == int(length)]
                panel.plot(curve["params"], sign * curve[predicted], linestyle="--", color=color, alpha=0.8)
        if curves is not None and held_out_from is not None:
            panel.axvspan(held_out_from / 1.3, rows["params"].max() * 1.3, color="grey", alpha=0.12, lw=0)
        params_axis(panel)
        panel.set_ylabel(label)
    legend_title = None
    if curves is not None:
        legend_title = "dashed: mirage fit" + (" (shaded: held out)" if held_out_from is not None else "")
    axes[0, 0].legend(fontsize="small", title=legend_title)
    axes[0, 0].set_xlabel("")  # shared with the panel below
    figure.suptitle(title)
    return save_figure(figure, path)


def plot_metrics_by_length(rows: pd.DataFrame, title: str, path) -> Path:
    """Any other by-length metrics (e.g. the Omniglot studies' per-image and all-correct accuracy): one panel per
    metric, one line per L, with 95% intervals; lower-is-better metrics labelled so."""
    metrics = sorted(rows["metric"].unique())
    figure, axes = new_figure(1, len(metrics), width=4.2, height=3.2)
    for panel, metric in zip(axes.ravel(), metrics):
        for length, by_length in rows[rows["metric"] == metric].groupby("length"):
            _with_ci(panel, by_length, _length_label(length))
        params_axis(panel)
        panel.set_title(metric, fontsize="small")
        panel.set_ylabel(metric_label(metric), fontsize="small")
        panel.legend(fontsize="x-small")
    figure.suptitle(title)
    return save_figure(figure, path)


def plot_log_accuracy(rows: pd.DataFrame, title: str, path, first: pd.DataFrame | None = None) -> Path:
    """The paper's Fig 4: accuracy on a log axis with 95% CIs and the 1/n resolution floor per model.

    A mean of 0 cannot be drawn on a log axis: it is drawn as a downward
    triangle at its interval's upper bound (about 3.7/n for 0 of n), meaning
    "below this", in the curve's colour. ``first`` (summary rows with a
    ``first_problems`` column, from :func:`mirage_metrics.summary.summarise_first_problems`),
    when given, is the full-answer metrics scored on the first problems only, drawn
    hollow and dashed in each curve's colour with its own resolution floor.
    """
    figure, axes = new_figure(1, 1, width=8.0, height=4.0)
    panel = axes[0, 0]
    for (metric, length), curve in rows.groupby(["metric", "length"], dropna=False):
        label = metric if np.isnan(length) else f"{metric} {_length_label(length)}"
        color = _log_curve(panel, curve, label, None, filled=True)
        if first is not None and np.isnan(length):  # full answers only: by-length curves would crowd the view
            same = (first["metric"] == metric) & first["length"].isna()
            if same.any():
                few = int(first.loc[same, "first_problems"].iloc[0])
                _log_curve(panel, first[same], f"{label}, first {few:,} problems", color, filled=False)
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
    panel.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.suptitle(title)
    return save_figure(figure, path)


def _log_curve(panel, curve: pd.DataFrame, label: str, color, *, filled: bool, joined: bool = True):
    """One accuracy curve on a log axis: positive means with their intervals, zeros as triangles at their upper
    bound; hollow and dashed when not ``filled``, points alone when not ``joined``. Returns the colour used."""
    positive, zero = curve[curve["mean"] > 0], curve[(curve["mean"] <= 0) & (curve["ci_high"] > 0)]
    style = {} if filled else {"markerfacecolor": "none", "linestyle": "--"}
    if not joined:
        style["linestyle"] = "none"
    if not positive.empty:
        clipped = positive.assign(ci_low=positive["ci_low"].clip(lower=positive["mean"] / 10))  # a log axis
        color = _with_ci(panel, clipped, label, color=color, **style)
    if not zero.empty:
        panel.scatter(
            zero["params"],
            zero["ci_high"],
            marker="v",
            color=color if filled else "none",
            edgecolors=color,
            zorder=3,
            label=f"{label}: 0 measured, 95% upper bound" if positive.empty else None,
        )
    return color


def plot_greedy_vs_probability(greedy: pd.DataFrame, probability: pd.DataFrame, title: str, path) -> Path:
    """Greedy accuracy (left) beside the geometric-mean target probability exp(mean log p) (right, log axis)."""
    figure, axes = new_figure(1, 2)
    for (task, metric), curve in greedy.groupby(["task", "metric"]):
        _with_ci(axes[0, 0], curve, f"{metric} ({task})")
    params_axis(axes[0, 0])
    axes[0, 0].set_ylabel("Greedy accuracy")
    axes[0, 0].legend(fontsize="small")
    for task, curve in probability.groupby("task"):
        _with_ci(axes[0, 1], curve, task)
    params_axis(axes[0, 1])
    axes[0, 1].set(yscale="log", ylabel="exp(mean target log-prob)")
    axes[0, 1].legend(fontsize="small")
    figure.suptitle(title)
    return save_figure(figure, path)


def plot_all_metrics(rows: pd.DataFrame, title: str, path) -> Path:
    """Every metric of a task (not by length) against parameters, one panel each, with 95% CIs."""
    metrics = sorted(rows["metric"].unique())
    columns = min(4, len(metrics))
    figure, axes = new_figure(int(np.ceil(len(metrics) / columns)), columns, width=3.6, height=2.8)
    for panel, metric in zip(axes.ravel(), metrics):
        _with_ci(panel, rows[rows["metric"] == metric], metric)
        params_axis(panel)
        panel.set_title(metric, fontsize="small")
        panel.set_ylabel(metric_label(metric), fontsize="small")
    for panel in axes.ravel()[len(metrics) :]:
        panel.set_visible(False)
    figure.suptitle(title)
    return save_figure(figure, path)


def plot_mechanism(rows: pd.DataFrame, title: str, path) -> Path:
    """Observed temperature-1 exact match of the first L characters (filled points, 95% exact intervals; a measured
    0 as a triangle at its upper bound) and the predicted mean prefix probability (hollow diamonds, dashed) against
    size, one colour per L, on a log axis. ``rows``: one task's :func:`mirage_metrics.mechanism.mechanism_table` rows.

    The axis starts a little below the finest resolution 1/n, so predictions far under it lie off the bottom.
    """
    figure, axes = new_figure(1, 1, width=7.5, height=4.2)
    panel = axes[0, 0]
    for index, (length, by_length) in enumerate(rows.groupby("L")):
        color = f"C{index % 10}"  # set here: a curve measured 0 everywhere draws no line to take a colour from
        observed = by_length.rename(columns={"observed": "mean"})
        _log_curve(panel, observed, f"{_length_label(length)} observed", color, filled=True, joined=False)
        by_length = by_length.sort_values("params")
        panel.plot(
            by_length["params"],
            by_length["predicted"],
            linestyle="--",
            marker="D",
            markersize=9,  # around the observed point when they agree
            markerfacecolor="none",
            color=color,
            label=f"{_length_label(length)} predicted",
        )
    params_axis(panel)
    panel.set(yscale="log", ylabel="Exact match of the first L characters, t = 1")
    panel.set_ylim(0.3 / rows["n"].max(), 1.5)
    handles, labels = panel.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=labels.__getitem__)  # each L's observed and predicted together
    handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    if ((rows["observed"] <= 0) & (rows["ci_high"] > 0)).any():
        handles.append(Line2D([], [], marker="v", color="grey", linestyle="none"))
        labels.append("0 measured: 95% upper bound")
    panel.legend(handles, labels, fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.suptitle(title)
    return save_figure(figure, path)
