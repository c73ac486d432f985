"""The report's HTML sections for lm-eval results: the answer per task first, then one section per task (its verdict
and the numbers behind it, its figures, its table folded away), the fit, and the per-model table, folded away."""

from __future__ import annotations

import pandas as pd

from mirage_metrics.emergence import SHARP
from mirage_metrics.html_page import Details, Image, Paragraph, Section, Table
from mirage_metrics.mechanism import mechanism_sentence
from mirage_metrics.mirage_fit import INTERVAL_CONFIDENCE, MIN_FIT_SIZES, SAMPLED_FORM, MirageFit, task_stem
from mirage_metrics.report.verdict import answer_numbers, curve_label, prediction_sentence, task_answer, task_verdict
from mirage_metrics.results import empty_outputs_note, mostly_empty
from mirage_metrics.summary import PER_CHAR_PROB

__all__ = ["analysis_sections"]

_LEAD = (
    "Per task: does an all-or-nothing metric (exact match, whose every sample scores 0 or 1) jump across the "
    "models (larger sizes, or later training steps), and does a graded measure of the same models (the per-character probability of the answer, edit "
    "distance) jump too? 'the mirage': the graded measure rises smoothly, so the jump is the metric's (Schaeffer, "
    "Miranda & Koyejo 2023); 'a real jump': it jumps too, the models changed; 'cannot tell': its interval is too "
    "wide. Sharpness: 0 when a curve rises in equal steps, 1 when all of its rise comes in one step; a curve jumps "
    f"when its whole 95% interval (in brackets) is ≥ {SHARP:g}."
)

_INTRO = (
    "Each task's metrics are averaged per model and compared across model sizes. Intervals are 95%: exact "
    "(Clopper–Pearson) for metrics whose every per-sample value is 0 or 1, so that 0 of n reads as 'below about "
    "3.7/n' and not as zero; percentile bootstrap otherwise. Per curve, lower-is-better metrics (edit distance, "
    "Brier score, loss) are negated first, so positive means 'better with size'. Two measures of how sudden a "
    "curve is: the sharpness (0 when every step between sizes is equal, 1 when all the change comes in one "
    "step; the same scale at any number of sizes) and BIG-bench's emergence score (breakthroughness), kept for "
    "comparability (a straight line over n sizes scores n − 1, and with 3 sizes it cannot tell a jump from a "
    "line). Both carry bootstrap intervals from the per-sample data. One rule throughout: a curve 'jumps' when "
    f"its whole sharpness interval is ≥ {SHARP:g}, is 'smooth' when it lies within ±{SHARP:g}, and is 'unclear' "
    "otherwise; with fewer than 3 sizes nothing is judged. The verdict asks the paper's question (Schaeffer, "
    "Miranda & Koyejo 2023): when an all-or-nothing metric on the full answer jumps, does the same models' "
    "per-character probability of the answer jump too (the models changed) or rise smoothly (the jump is "
    "the metric's)?"
)


_FIT_TEXT = (
    "Per-character loss L_CE(N) = (N / c)^alpha (the mean over problems of the loss_task's per-character loss of the "
    f"whole gold continuation) fitted by least squares in log-log space on the n_fit_models smallest models, never "
    f"through fewer than {MIN_FIT_SIZES} sizes. Its predictions, as the paper's model makes them (every character "
    "alike): token edit distance L(1 − p), and exact match of the first L characters as the mean over problems of "
    "p_i^L (per-problem losses spread as a gamma of shape loss_shape around L_CE; inf: p^L with p = exp(−L_CE)). "
    "Where the loss_task has prefix_prob_L (the probability of the answer's first L characters), exact match of "
    "length L comes instead from a law of its own per L: the loss of the first L characters, −log(mean prefix_prob_L) "
    "/ L, fitted against N the same way (its c and alpha are on those rows), so exp(−L × loss) is the mean "
    "probability that temperature-1 exact match estimates; one per-character p cannot describe every L where an "
    "answer's characters differ in difficulty (the first digit of a sum is easier than the rest). predicted_low and "
    f"predicted_high are its {INTERVAL_CONFIDENCE:.0%} prediction interval for the observed value: the fitted sizes' "
    "scatter around the law (Student's t on n_fit_models − 2 degrees of freedom, wider the further the size lies "
    "from the fitted ones) and the binomial noise of the held-out model's answers. Held-out rows compare with the "
    "_gen_t1 task (greedy accuracy is not p^L and is not compared). A fit whose loss rises or stays flat with size "
    "is flagged in the problem column and predicts nothing."
)


def _emergence_table(rows: pd.DataFrame) -> Table:
    def interval(point, low, high):
        return f"{point:.3g}" if low == high else f"{point:.3g} [{low:.3g}, {high:.3g}]"

    labelled = pd.DataFrame(
        {
            "metric": [curve_label(m, n) for m, n in zip(rows["metric"], rows["length"])],
            "kind": rows["kind"],
            "better": rows["direction"],
            "trend": rows["trend"],
            "sharpness": [interval(*v) for v in zip(rows["sharpness"], rows["sharpness_low"], rows["sharpness_high"])],
            "emergence score": [
                interval(*v) for v in zip(rows["emergence_score"], rows["emergence_low"], rows["emergence_high"])
            ],
            "sizes": rows["n_sizes"],
        }
    )
    return Table.from_frame(labelled)


def _exact_answer_check(summary: pd.DataFrame, family: str, task: str) -> str:
    """On a ``_gen_t1`` task: its exact match against the stem's ``exact_answer_prob`` (empty elsewhere)."""
    if not task.endswith(SAMPLED_FORM):
        return ""
    rows = summary[(summary["family"] == family) & summary["length"].isna()]
    observed = rows[(rows["task"] == task) & (rows["metric"] == "exact_match")]
    predicted = rows[(rows["metric"] == "exact_answer_prob") & (rows["task"].map(task_stem) == task_stem(task))]
    if observed.empty or predicted.empty:
        return ""
    return prediction_sentence(observed, predicted[predicted["task"] == predicted["task"].min()])


def _mechanism_check(mechanism: pd.DataFrame | None, family: str, task: str) -> str:
    """On a ``_gen_t1`` task paired in ``mechanism``: how often the mean prefix probability predicts its exact match
    of the first L characters, and how the two events differ."""
    if mechanism is None:
        return ""
    rows = mechanism[(mechanism["family"] == family) & (mechanism["task"] == task)]
    if rows.empty:
        return ""
    return (
        f"The mechanism (mechanism.csv): exact match of the first L characters at temperature 1 is the product of "
        f"per-character probabilities, so its mean should equal the mean prefix_prob_L of {task_stem(task)}_ll, the "
        "probability that the model continues the prompt with a space and those characters. (The generated "
        "output is stripped before it is compared, so it also counts outputs that begin with no space or other "
        "whitespace: its event is the larger, by the probability of those outputs.) " + mechanism_sentence(rows)
    )


def _empty_outputs_warning(outputs: pd.DataFrame | None, family: str, task: str) -> list[Paragraph]:
    """A warning naming the models whose outputs on ``task`` are nearly all empty (none when no model's are)."""
    if outputs is None:
        return []
    rows = mostly_empty(outputs[(outputs["family"] == family) & (outputs["task"] == task)])
    notes = [f"{row.model}: {empty_outputs_note(row.empty, row.outputs)}" for row in rows.itertuples()]
    return (
        [Paragraph("; ".join(notes) + ". Empty outputs score 0 whatever the model knows.", "Warning:")] if notes else []
    )


def _task_section(
    family: str,
    task: str,
    curves: pd.DataFrame,
    per_token: pd.DataFrame,
    fit: MirageFit | None,
    images: list[Image],
    check: str,
    warnings: list[Paragraph],
) -> Section:
    """The answer first (warnings, the verdict with its numbers, the checks), then the figures, then the table of
    every curve, folded away."""
    blocks = [*warnings, Paragraph(task_verdict(curves, per_token, fit), f"Answer: {task_answer(curves, per_token)}.")]
    if check:
        blocks.append(Paragraph(check))
    blocks.extend(images)
    if not curves.empty:
        blocks.append(Details(f"Every curve of {task}, by length too (emergence.csv)", [_emergence_table(curves)]))
    return Section(f"{task} — {family}", blocks, level=3)


def _per_token_curve(curves: pd.DataFrame, family: str, task: str) -> pd.DataFrame:
    """The per-character probability curve of the same problems (the task stem's ``_ll`` task)."""
    same = curves[(curves["family"] == family) & (curves["metric"] == PER_CHAR_PROB) & curves["length"].isna()]
    return same[same["task"].map(task_stem) == task_stem(task)].sort_values("task").head(1)


def _fit_task(fit: MirageFit, tasks: list[tuple[str, str]]) -> str:
    """The task whose section tells how ``fit`` did: its stem's temperature-1 task (what it predicts), else its
    loss task.

    >>> fit = MirageFit("f", "t", "t_ll", None, (), pd.DataFrame())
    >>> _fit_task(fit, [("f", "t_gen"), ("f", "t_gen_t1"), ("f", "t_ll")]), _fit_task(fit, [("f", "t_ll")])
    ('t_gen_t1', 't_ll')
    """
    sampled = [
        task
        for family, task in tasks
        if family == fit.family and task_stem(task) == fit.stem and task.endswith(SAMPLED_FORM)
    ]
    return sampled[0] if sampled else fit.loss_task


def analysis_sections(
    summary: pd.DataFrame,
    curves: pd.DataFrame,
    fits: list[MirageFit],
    fit_rows: pd.DataFrame,
    figures: dict[tuple[str, str], list[Image]],
    *,
    mechanism: pd.DataFrame | None = None,
    outputs: pd.DataFrame | None = None,
    x_column: str = "params",
) -> list[Section]:
    """The answer per task (one line each, with the numbers behind it), a section per (family, task), the fit, and
    the per-model table. ``mechanism``: :func:`mirage_metrics.mechanism.mechanism_table`, one sentence on each
    ``_gen_t1`` task in it; ``outputs``: :data:`mirage_metrics.results.OUTPUT_COLUMNS` counts, a warning beside each
    task whose outputs are nearly all empty; ``x_column``: what the ``params`` column holds (``step`` when the
    report is against training steps)."""
    tasks = sorted(set(zip(summary["family"], summary["task"])))
    fit_by_task = {(fit.family, _fit_task(fit, tasks)): fit for fit in fits}
    overview, task_sections = [], []
    for family, task in tasks:
        rows = curves[(curves["family"] == family) & (curves["task"] == task)]
        per_token = _per_token_curve(curves, family, task)
        fit = fit_by_task.get((family, task))
        warnings = _empty_outputs_warning(outputs, family, task)
        answer = task_answer(rows, per_token) + (" (outputs empty: see the warning)" if warnings else "")
        overview.append((family, task, answer, *answer_numbers(rows, per_token)))
        check = " ".join(
            filter(None, [_exact_answer_check(summary, family, task), _mechanism_check(mechanism, family, task)])
        )
        images = figures.get((family, task), [])
        task_sections.append(_task_section(family, task, rows, per_token, fit, images, check, warnings))
    sizes = summary.drop_duplicates(["family", "model"]).sort_values(["family", "params"])
    sections = [
        Section(
            "Answers",
            [
                Paragraph(_LEAD),
                Table(["family", "task", "answer", "all-or-nothing", "graded (compared with)"], overview),
                Details(
                    f"How the numbers are made, and the {len(sizes)} models",
                    [
                        Paragraph(_INTRO),
                        Table.from_frame(
                            sizes[["family", "model", "params"]]
                            .astype({"params": "int64"})
                            .rename(columns={"params": x_column})
                        ),
                    ],
                ),
            ],
        ),
        Section("Tasks", task_sections),
    ]
    refusals = [Paragraph(f"{fit.family}, {fit.stem}: no fit; {fit.refusal}.") for fit in fits if fit.law is None]
    if not fit_rows.empty or refusals:
        blocks = [Paragraph(_FIT_TEXT), *refusals]
        if not fit_rows.empty:
            blocks.append(Details("The fit's table (fit.csv)", [Table.from_frame(fit_rows, float_format="{:.4g}")]))
        sections.append(Section("Mirage fit (fit.csv)", blocks))
    sections.append(
        Section(
            "Per-model means (metrics.csv)",
            [Details(f"Every metric of every model, {len(summary)} rows", [Table.from_frame(summary)])],
        )
    )
    return sections
