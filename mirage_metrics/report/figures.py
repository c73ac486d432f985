"""Which plots a report draws for each (family, task), and where their PNGs go.

Per (family, task): every metric against size; the Fig 3 panels when the task
has metrics by target length (with the mirage fit of its task stem dashed);
the Fig 4 log-accuracy view when it has an all-or-nothing metric. Per (family,
task) holding ``target_log_prob``: greedy accuracy of its task stem beside the
geometric-mean target probability.

>>> figure_name("fig3", "pythia", "mirage_arith_2dm_gen")
'fig3_pythia_mirage_arith_2dm_gen.png'
>>> figure_name("all", "fam x", "t"), figure_name("all", "fam_x", "t")
('all_fam_x-a9a554d1f7_t.png', 'all_fam_x_t.png')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mirage_metrics.html_page import Image
from mirage_metrics.mirage_fit import SAMPLED_FORM, MirageFit, mirage_curves, task_stem
from mirage_metrics.paths import file_stem
from mirage_metrics.plots import x_label
from mirage_metrics.plots.scaling import (
    plot_all_metrics,
    plot_by_length,
    plot_greedy_vs_probability,
    plot_log_accuracy,
    plot_mechanism,
    plot_metrics_by_length,
)
from mirage_metrics.registry import is_discontinuous, mirage_columns
from mirage_metrics.summary import geometric_mean_probability

__all__ = ["figure_name", "make_figures"]

_CURVE_POINTS = 60


def figure_name(kind: str, family: str, task: str) -> str:
    """A file name that is safe on every file system, different for different families and tasks
    (:func:`mirage_metrics.paths.file_stem` of each part: a hash is appended to any part it had to change).

    The parts are joined with ``_``, so ``("a_b", "c")`` and ``("a", "b_c")`` would meet:
    :func:`make_figures` checks that every (family, task) of a report gets its own names.
    """
    return f"{kind}_{file_stem(family)}_{file_stem(task)}.png"


def _fit_curves(rows: pd.DataFrame, task: str, fit: MirageFit | None) -> pd.DataFrame | None:
    """The fit's predictions, only where they describe the plotted outputs (a temperature-1 task) and the fit
    has no problem."""
    lengths = sorted(rows["length"].dropna().astype(int).unique())
    if fit is None or fit.problem or not lengths or not task.endswith(SAMPLED_FORM):
        return None
    params = np.geomspace(rows["params"].min(), rows["params"].max(), _CURVE_POINTS)
    return mirage_curves(fit, params, lengths)


def length_note(rows: pd.DataFrame) -> str | None:
    """What a reader of a by-length figure must know when the lengths L average over different problems (an
    answer shorter than L has no first L characters): None when every L has as many problems.

    >>> rows = pd.DataFrame({"length": [1.0, 2.0, 5.0, 1.0], "n": [500, 500, 257, 500]})
    >>> length_note(rows)
    'L = 5 exists only for answers of at least 5 characters: each L averages over a different set of problems (n = 500 at L = 1, 500 at L = 2, 257 at L = 5), so a longer L can score above a shorter one.'
    """
    counts = rows[rows["length"].notna()].dropna(subset=["n"]).groupby("length")["n"].max()
    if counts.nunique() < 2:
        return None
    longest = int(counts.index.max())
    per_length = ", ".join(f"{int(n):,} at L = {int(length)}" for length, n in counts.items())
    return (
        f"L = {longest} exists only for answers of at least {longest} characters: each L averages over a different "
        f"set of problems (n = {per_length}), so a longer L can score above a shorter one."
    )


def _sentence(note: str | None) -> str:
    return "" if note is None else f" {note}"


def _task_figures(
    rows: pd.DataFrame, family: str, task: str, fit: MirageFit | None, out: Path, first: pd.DataFrame | None = None
) -> list[Image]:
    images = []
    overall = rows[rows["length"].isna()]
    if not overall.empty:
        path = plot_all_metrics(overall, f"{task} ({family}): every metric", out / figure_name("all", family, task))
        against = x_label().lower()
        images.append(Image(path, f"{task} ({family}): every metric against {against}, with 95% bootstrap CIs."))
    by_length = rows[rows["length"].notna() & rows["metric"].isin(list(mirage_columns()))]
    if not by_length.empty:
        curves = _fit_curves(by_length, task, fit)
        held_out = fit.held_out["params"] if curves is not None and not fit.held_out.empty else None
        path = plot_by_length(
            by_length,
            curves,
            f"{task} ({family}): by target length",
            out / figure_name("fig3", family, task),
            held_out_from=None if held_out is None else float(held_out.min()),
            note=length_note(by_length),
        )
        caption = (
            f"{task} ({family}): exact match (top) and −token edit distance (bottom) by target length L, "
            f"as in the paper's Fig 3.{_sentence(length_note(by_length))}"
        )
        if curves is not None:
            caption += (
                f" Dashed: the mirage fit's p^L and L(1 − p) from the per-character loss of {fit.loss_task}, "
                "the expected values under temperature-1 sampling, which this task measures."
            )
            if held_out is not None:
                caption += " Shaded: sizes held out of the fit, so the dashed lines there are predictions."
        images.append(Image(path, caption))
    every_length = rows[rows["length"].notna()]
    if not every_length["metric"].isin(list(mirage_columns())).all():  # more than Fig 3 shows
        path = plot_metrics_by_length(
            every_length,
            f"{task} ({family}): by length L",
            out / figure_name("bylength", family, task),
            note=length_note(every_length),
        )
        images.append(
            Image(
                path,
                f"{task} ({family}): every metric by length L against {x_label().lower()}, with 95% intervals "
                "(exact for 0/1 values); one panel per metric with each of its lm-eval filters (the unfiltered "
                "strict one, the paper's, first); filters that give identical values are drawn once and named "
                f"together.{_sentence(length_note(every_length))}",
            )
        )
    accuracy = rows[rows["metric"].map(is_discontinuous) & rows["n"].fillna(0).gt(0)]
    if not accuracy.empty:
        path = plot_log_accuracy(
            accuracy,
            f"{task} ({family}): accuracy, log scale",
            out / figure_name("fig4", family, task),
            first=first,
            note=length_note(accuracy),
        )
        caption = (
            f"{task} ({family}): all-or-nothing metrics on a log axis with 95% exact "
            "(Clopper–Pearson) intervals and the 1/n resolution floor, as in the paper's Fig 4: the full answer "
            "black and bold, each target length L in its colour of Fig 3, each metric its own marker; metrics "
            "(e.g. two lm-eval filters) that give identical values are drawn once and named together. "
            "A triangle marks a measured 0 at its upper bound (the true rate is below it)."
            + _sentence(length_note(accuracy))
        )
        if first is not None:
            few = int(first["first_problems"].iloc[0])
            caption += (
                f" Hollow, dashed, black: the full answers of the same outputs scored on the first {few:,} problems only, what "
                f"lm-eval's --limit {few} would have measured: a smaller test set reads 0 where this one "
                "resolves a small rate."
            )
        images.append(Image(path, caption))
    return images


def _probability_figure(summary: pd.DataFrame, family: str, task: str, out: Path) -> Image:
    stem_rows = summary[(summary["family"] == family) & (summary["task"].map(task_stem) == task_stem(task))]
    decoded = ~stem_rows["task"].str.endswith(SAMPLED_FORM)  # temperature-1 samples are not greedy
    greedy = stem_rows[decoded & stem_rows["metric"].isin(["exact_match", "greedy_match"]) & stem_rows["length"].isna()]
    probability = geometric_mean_probability(stem_rows[stem_rows["task"] == task])
    path = plot_greedy_vs_probability(
        greedy,
        probability,
        f"{task_stem(task)} ({family}): greedy vs probability",
        out / figure_name("probability", family, task),
    )
    return Image(
        path,
        f"{task_stem(task)} ({family}): greedy accuracy (left; curves with identical values drawn once and named "
        "together) beside exp(mean log p(target)), a measure of the same outputs without a resolution floor (right).",
    )


def _mechanism_figure(rows: pd.DataFrame, family: str, task: str, out: Path) -> Image:
    stem = task_stem(task)
    path = plot_mechanism(
        rows,
        f"{stem} ({family}): t = 1 exact match, observed and predicted",
        out / figure_name("mechanism", family, task),
    )
    return Image(
        path,
        f"{stem} ({family}): exact match of the first L characters under temperature-1 sampling ({task}; filled, "
        f"95% exact intervals) and its prediction, the mean probability that the model continues the prompt with a "
        f"space and those L characters ({stem}_ll prefix_prob_L; hollow diamonds, dashed), one colour per L, on a "
        "log axis. A triangle marks a measured 0 at its 95% upper bound; predictions far below the resolution lie "
        "off the bottom.",
    )


def make_figures(
    summary: pd.DataFrame,
    fits: list[MirageFit],
    out: Path,
    *,
    first: pd.DataFrame | None = None,
    mechanism: pd.DataFrame | None = None,
    progress: bool = False,
) -> dict[tuple[str, str], list[Image]]:
    """Draw every plot into ``out``; return the images per (family, task). ``first``: the all-or-nothing metrics
    on each task's first problems (:func:`mirage_metrics.summary.summarise_first_problems`), shown in Fig 4;
    ``mechanism``: :func:`mirage_metrics.mechanism.mechanism_table`, drawn for each ``_gen_t1`` task in it."""
    fit_by_stem = {(fit.family, fit.stem): fit for fit in fits}
    figures = {}
    groups = list(summary.groupby(["family", "task"], sort=True))
    names = {figure_name("all", family, task) for (family, task), _ in groups}
    if len(names) != len(groups):
        raise ValueError(
            "two (family, task) pairs of this report share plot file names (e.g. family 'a_b' with "
            "task 'c' and family 'a' with task 'b_c'); rename a family"
        )
    for (family, task), rows in tqdm(groups, desc="plots", unit="task", disable=not progress):
        few = None if first is None else first[(first["family"] == family) & (first["task"] == task)]
        few = None if few is None or few.empty else few
        images = _task_figures(rows, family, task, fit_by_stem.get((family, task_stem(task))), out, few)
        if (rows["metric"] == "target_log_prob").any():
            images.append(_probability_figure(summary, family, task, out))
        if mechanism is not None:
            pairs = mechanism[(mechanism["family"] == family) & (mechanism["task"] == task)]
            if not pairs.empty:
                images.append(_mechanism_figure(pairs, family, task, out))
        figures[(family, task)] = images
    return figures
