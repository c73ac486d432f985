"""Plots of ``mirage simulate`` (the paper's Fig 2), from the frames of :mod:`mirage_metrics.simulate`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mirage_metrics.plots import length_colour, new_figure, params_axis, save_figure

__all__ = ["plot_simulation", "plot_sampled"]

_BY_LENGTH = [
    ("accuracy", "Accuracy  p^L"),
    ("token_edit_distance", "Token edit distance  L(1 − p)"),
    ("brier", "Two-choice Brier  (1 − p^L)²"),
]


def _by_length(axes, table: pd.DataFrame, column: str, label: str, *, log_y: bool = False) -> None:
    for length, rows in table.groupby("length"):
        axes.plot(rows["params"], rows[column], marker="o", color=length_colour(length), label=f"L = {length}")
    params_axis(axes)
    if log_y:
        axes.set_yscale("log")
    axes.set_ylabel(label)


def plot_simulation(table: pd.DataFrame, path) -> Path:
    """Loss and p per token against parameters, then accuracy, TED and Brier by target length L."""
    figure, axes = new_figure(1, 5)
    per_size = table.drop_duplicates("params").sort_values("params")
    axes[0, 0].plot(per_size["params"], per_size["loss"], marker="o")
    axes[0, 0].set(yscale="log", ylabel="Per-token loss  L_CE = (N/c)^α")
    axes[0, 1].plot(per_size["params"], per_size["p"], marker="o")
    axes[0, 1].set_ylabel("p(token correct) = exp(−L_CE)")
    for panel in axes[0, :2]:
        params_axis(panel)
    for panel, (column, label) in zip(axes[0, 2:], _BY_LENGTH):
        _by_length(panel, table, column, label)
    axes[0, 2].legend(fontsize="small")
    figure.suptitle("Mirage model: smooth loss, sharp accuracy, smooth edit distance")
    return save_figure(figure, path)


def plot_sampled(table: pd.DataFrame, path) -> Path:
    """Monte Carlo accuracy on a log axis with the 1/n resolution floor, beside the exact p^L."""
    figure, axes = new_figure(1, 2)
    n = int(table["n_problems"].iloc[0])
    _by_length(axes[0, 0], table, "accuracy", "Accuracy  p^L (exact)", log_y=True)
    _by_length(
        axes[0, 1],
        table[table["sampled_accuracy"] > 0],
        "sampled_accuracy",
        f"Accuracy on {n} sampled problems",
        log_y=True,
    )
    for panel in axes[0]:
        panel.axhline(1.0 / n, color="grey", linestyle="--", label=f"resolution 1/n = {1.0 / n:.2g}")
    axes[0, 1].legend(fontsize="small")
    figure.suptitle("With few problems, small accuracies read as 0 (below the resolution floor)")
    return save_figure(figure, path)
