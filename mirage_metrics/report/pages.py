"""The report's HTML sections for lm-eval results: overview, one section per task, the fit and the tables."""

from __future__ import annotations

import pandas as pd

from mirage_metrics.html_report import Image, Paragraph, Section, Table
from mirage_metrics.report.verdict import EMERGENT_RATIO, curve_label, task_verdict
from mirage_metrics.scaling import MirageFit, task_stem

__all__ = ["analysis_sections"]

_INTRO = (
    "Each task's metrics are averaged per model with a 95% bootstrap confidence interval and compared across "
    "model sizes. The emergence score (BIG-bench's breakthroughness) is large when a curve is flat and then "
    f"jumps; a curve here 'looks emergent' when it scores at least {EMERGENT_RATIO:g}× a straight line through "
    "the same sizes. Lower-is-better metrics (token edit distance, Brier score, loss) are negated first. "
    "If an all-or-nothing metric jumps while a continuous metric on the same outputs rises smoothly, the jump "
    "is a property of the metric (Schaeffer, Miranda & Koyejo 2023), not of the models."
)


def _emergence_table(rows: pd.DataFrame) -> Table:
    labelled = pd.DataFrame({
        "metric": [curve_label(m, n) for m, n in zip(rows["metric"], rows["length"])],
        "emergence score": rows["emergence_score"].astype(float),
        "sizes": rows["n_sizes"],
    })
    return Table.from_frame(labelled, float_format="{:.3g}")


def _task_section(family: str, task: str, emergence: pd.DataFrame, fit: MirageFit | None,
                  images: list[Image]) -> Section:
    blocks = [Paragraph(task_verdict(emergence, fit))]
    if not emergence.empty:
        blocks.append(_emergence_table(emergence))
    blocks.extend(images)
    return Section(f"{task} — {family}", blocks, level=3)


def analysis_sections(summary: pd.DataFrame, emergence: pd.DataFrame, fits: list[MirageFit], fit_rows: pd.DataFrame,
                      figures: dict[tuple[str, str], list[Image]]) -> list[Section]:
    """Overview with one verdict per task, a section per (family, task), the fit, and the per-model table."""
    fit_by_stem = {(fit.family, fit.stem): fit for fit in fits}
    overview, task_sections = [], []
    for family, task in sorted(set(zip(summary["family"], summary["task"]))):
        rows = emergence[(emergence["family"] == family) & (emergence["task"] == task)]
        fit = fit_by_stem.get((family, task_stem(task)))
        overview.append((family, task, task_verdict(rows)))
        task_sections.append(_task_section(family, task, rows, fit, figures.get((family, task), [])))
    sizes = summary.drop_duplicates(["family", "model"]).sort_values(["family", "params"])
    sections = [
        Section("What this report shows", [
            Paragraph(_INTRO),
            Table.from_frame(sizes[["family", "model", "params"]].astype({"params": "int64"})),
            Table(["family", "task", "verdict"], overview),
        ]),
        Section("Tasks", task_sections),
    ]
    if not fit_rows.empty:
        sections.append(Section("Mirage fit (fit.csv)", [
            Paragraph("Per-character loss L_CE(N) = (N / c)^alpha fitted by least squares in log-log space; "
                      "predictions p = exp(−L_CE), exact match p^L, token edit distance L(1 − p). Held-out rows "
                      "compare the prediction for models the fit did not see with what they scored."),
            Table.from_frame(fit_rows, float_format="{:.4g}"),
        ]))
    cells = summary.astype(object).where(summary.notna(), None)  # empty cells for missing n, length, CI
    sections.append(Section("Per-model means (metrics.csv)", [Table.from_frame(cells)]))
    return sections
