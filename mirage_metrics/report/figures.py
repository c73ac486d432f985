"""Which plots a report draws for each (family, task), and where their PNGs go.

Per (family, task): every metric against size; the Fig 3 panels when the task
has metrics by target length (with the mirage fit of its task stem dashed);
the Fig 4 log-accuracy view when it has an all-or-nothing metric. Per (family,
task) holding ``target_log_prob``: greedy accuracy of its task stem beside the
geometric-mean target probability.

>>> figure_name("fig3", "pythia", "mirage_arith_2dm_gen")
'fig3_pythia_mirage_arith_2dm_gen.png'
>>> figure_name("all", "my family/x", "t")
'all_my_family_x_t.png'
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mirage_metrics.html_report import Image
from mirage_metrics.plots.scaling import plot_all_metrics, plot_by_length, plot_greedy_vs_probability, plot_log_accuracy
from mirage_metrics.report.verdict import is_discontinuous
from mirage_metrics.scaling import MirageFit, geometric_mean_probability, mirage_curves, task_stem

__all__ = ["figure_name", "make_figures"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CURVE_POINTS = 60


def figure_name(kind: str, family: str, task: str) -> str:
    """A file name that is safe on every file system."""
    return _UNSAFE.sub("_", f"{kind}_{family}_{task}") + ".png"


def _fit_curves(rows: pd.DataFrame, fit: MirageFit | None) -> pd.DataFrame | None:
    lengths = sorted(rows["length"].dropna().astype(int).unique())
    if fit is None or not lengths:
        return None
    params = np.geomspace(rows["params"].min(), rows["params"].max(), _CURVE_POINTS)
    return mirage_curves(fit, params, lengths)


def _task_figures(rows: pd.DataFrame, family: str, task: str, fit: MirageFit | None, out: Path) -> list[Image]:
    images = []
    overall = rows[rows["length"].isna()]
    if not overall.empty:
        path = plot_all_metrics(overall, f"{task} ({family}): every metric", out / figure_name("all", family, task))
        images.append(Image(path, f"{task} ({family}): every metric against parameters, with 95% bootstrap CIs."))
    by_length = rows[rows["length"].notna() & rows["metric"].isin(["exact_match", "token_edit_distance"])]
    if not by_length.empty:
        path = plot_by_length(by_length, _fit_curves(by_length, fit), f"{task} ({family}): by target length",
                              out / figure_name("fig3", family, task))
        images.append(Image(path, f"{task} ({family}): exact match (top) and −token edit distance (bottom) "
                                  "by target length L, as in the paper's Fig 3."
                                  + (" Dashed: the mirage fit p^L and L(1 − p)." if fit is not None else "")))
    accuracy = rows[rows["metric"].map(is_discontinuous) & rows["n"].fillna(0).gt(0)]
    if not accuracy.empty:
        path = plot_log_accuracy(accuracy, f"{task} ({family}): accuracy, log scale",
                                 out / figure_name("fig4", family, task))
        images.append(Image(path, f"{task} ({family}): all-or-nothing metrics on a log axis with 95% CIs and the "
                                  "1/n resolution floor (means of 0 lie below it), as in the paper's Fig 4."))
    return images


def _probability_figure(summary: pd.DataFrame, family: str, task: str, out: Path) -> Image:
    stem_rows = summary[(summary["family"] == family) & (summary["task"].map(task_stem) == task_stem(task))]
    greedy = stem_rows[stem_rows["metric"].isin(["exact_match", "greedy_match"]) & stem_rows["length"].isna()]
    probability = geometric_mean_probability(stem_rows[stem_rows["task"] == task])
    path = plot_greedy_vs_probability(greedy, probability, f"{task_stem(task)} ({family}): greedy vs probability",
                                      out / figure_name("probability", family, task))
    return Image(path, f"{task_stem(task)} ({family}): greedy accuracy (left) beside exp(mean log p(target)), "
                       "a measure of the same outputs without a resolution floor (right).")


def make_figures(summary: pd.DataFrame, fits: list[MirageFit], out: Path, *,
                 progress: bool = False) -> dict[tuple[str, str], list[Image]]:
    """Draw every plot into ``out``; return the images per (family, task)."""
    fit_by_stem = {(fit.family, fit.stem): fit for fit in fits}
    figures = {}
    groups = list(summary.groupby(["family", "task"], sort=True))
    for (family, task), rows in tqdm(groups, desc="plots", unit="task", disable=not progress):
        images = _task_figures(rows, family, task, fit_by_stem.get((family, task_stem(task))), out)
        if (rows["metric"] == "target_log_prob").any():
            images.append(_probability_figure(summary, family, task, out))
        figures[(family, task)] = images
    return figures
