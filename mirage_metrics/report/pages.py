"""The report's HTML sections for lm-eval results: overview, one section per task, the fit and the tables."""

from __future__ import annotations

import pandas as pd

from mirage_metrics.emergence import SHARP
from mirage_metrics.html_page import Image, Paragraph, Section, Table
from mirage_metrics.mechanism import mechanism_sentence
from mirage_metrics.mirage_fit import SAMPLED_FORM, MirageFit, task_stem
from mirage_metrics.report.verdict import curve_label, prediction_sentence, task_verdict
from mirage_metrics.summary import PER_CHAR_PROB

__all__ = ["analysis_sections"]

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


def _task_section(
    family: str,
    task: str,
    curves: pd.DataFrame,
    per_token: pd.DataFrame,
    fit: MirageFit | None,
    images: list[Image],
    check: str,
) -> Section:
    blocks = [Paragraph(" ".join(filter(None, [task_verdict(curves, per_token, fit), check])))]
    if not curves.empty:
        blocks.append(_emergence_table(curves))
    blocks.extend(images)
    return Section(f"{task} — {family}", blocks, level=3)


def _per_token_curve(curves: pd.DataFrame, family: str, task: str) -> pd.DataFrame:
    """The per-character probability curve of the same problems (the task stem's ``_ll`` task)."""
    same = curves[(curves["family"] == family) & (curves["metric"] == PER_CHAR_PROB) & curves["length"].isna()]
    return same[same["task"].map(task_stem) == task_stem(task)].sort_values("task").head(1)


def analysis_sections(
    summary: pd.DataFrame,
    curves: pd.DataFrame,
    fits: list[MirageFit],
    fit_rows: pd.DataFrame,
    figures: dict[tuple[str, str], list[Image]],
    *,
    mechanism: pd.DataFrame | None = None,
    x_column: str = "params",
) -> list[Section]:
    """Overview with one verdict per task, a section per (family, task), the fit, and the per-model table.
    ``mechanism``: :func:`mirage_metrics.mechanism.mechanism_table`, one sentence on each ``_gen_t1`` task in it;
    ``x_column``: what the ``params`` column holds (``step`` when the report is against training steps)."""
    fit_by_stem = {(fit.family, fit.stem): fit for fit in fits}
    overview, task_sections = [], []
    for family, task in sorted(set(zip(summary["family"], summary["task"]))):
        rows = curves[(curves["family"] == family) & (curves["task"] == task)]
        per_token = _per_token_curve(curves, family, task)
        fit = fit_by_stem.get((family, task_stem(task)))
        overview.append((family, task, task_verdict(rows, per_token)))
        check = " ".join(
            filter(None, [_exact_answer_check(summary, family, task), _mechanism_check(mechanism, family, task)])
        )
        task_sections.append(_task_section(family, task, rows, per_token, fit, figures.get((family, task), []), check))
    sizes = summary.drop_duplicates(["family", "model"]).sort_values(["family", "params"])
    sections = [
        Section(
            "What this report shows",
            [
                Paragraph(_INTRO),
                Table.from_frame(
                    sizes[["family", "model", "params"]]
                    .astype({"params": "int64"})
                    .rename(columns={"params": x_column})
                ),
                Table(["family", "task", "verdict"], overview),
            ],
        ),
        Section("Tasks", task_sections),
    ]
    if not fit_rows.empty:
        sections.append(
            Section(
                "Mirage fit (fit.csv)",
                [
                    Paragraph(
                        "Per-character loss L_CE(N) = (N / c)^alpha (the mean over problems of the loss_task's "
                        "per-character loss of the whole gold continuation) fitted by least squares in log-log "
                        "space on the n_fit_models smallest models. Predictions, as the paper's model makes them "
                        "(every character alike): exact match of the first L characters is the mean over problems "
                        "of p_i^L, with the per-problem losses spread as a gamma of shape loss_shape around L_CE "
                        "(from the fitted models' per_char_prob; inf: no spread, p^L with p = exp(−L_CE)), and "
                        "token edit distance L(1 − p). That is what temperature-1 sampling gives, so held-out rows "
                        "compare them with the _gen_t1 task (greedy accuracy is not p^L and is not compared). "
                        "Where an answer's characters differ in difficulty (the first digit of a sum is easier "
                        "than the rest), one per-character p cannot describe every L. A fit whose loss rises or "
                        "stays flat with size is flagged in the problem column and predicts nothing."
                    ),
                    Table.from_frame(fit_rows, float_format="{:.4g}"),
                ],
            )
        )
    sections.append(Section("Per-model means (metrics.csv)", [Table.from_frame(summary)]))
    return sections
