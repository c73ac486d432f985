"""The HTML section of a ``mirage meta-analysis`` output folder (for its own page and ``mirage report``).

It lays out what the folder holds (``by_metric.csv``, ``emergence_scores.csv``,
``meta_analysis.json`` and the PNG plots) with :mod:`mirage_metrics.html_report`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Union

import pandas as pd

from mirage_metrics.html_report import Image, Paragraph, Section, Table

__all__ = [
    "BY_METRIC_FILE",
    "SCORES_FILE",
    "SETTINGS_FILE",
    "DISTRIBUTION_PLOT",
    "SHARE_PLOT",
    "PAGE_FILE",
    "TOP_CURVES",
    "read_outputs",
    "meta_section",
]

BY_METRIC_FILE = "by_metric.csv"
SCORES_FILE = "emergence_scores.csv"
SETTINGS_FILE = "meta_analysis.json"
DISTRIBUTION_PLOT = "emergence_score_distributions.png"
SHARE_PLOT = "share_above_threshold.png"
PAGE_FILE = "meta_analysis.html"
TOP_CURVES = 20

EXPLANATION = (
    "For every curve (source, model family, task, subtask, number of shots, metric) with at least two model "
    "sizes, the emergence score is BIG-bench's breakthroughness against parameter count: "
    "sign(argmax − argmin) · (max − min) / sqrt(median squared step). A steady climb over n sizes scores n − 1; "
    "a flat curve with one jump scores far more (±inf when the median step is exactly 0). Lower-is-better "
    "metrics (edit distance, Brier score) are negated first, so a positive score means better with size; "
    "sharpness is read as |emergence score|; "
    "±inf is above every threshold and drawn as triangles at the plot's ends. The paper (Schaeffer et al. 2023, "
    "Fig 5) finds high scores concentrated in a few discontinuous metrics such as Multiple Choice Grade and "
    "Exact String Match."
)


def read_outputs(folder: Union[str, Path]) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """``(by_metric, emergence_scores, settings)`` of a meta-analysis folder."""
    folder = Path(folder)
    missing = [name for name in (BY_METRIC_FILE, SCORES_FILE, SETTINGS_FILE) if not (folder / name).is_file()]
    if missing:
        raise ValueError(f"{folder} is not a complete meta-analysis folder: missing {missing}; run mirage meta-analysis")
    by_metric = pd.read_csv(folder / BY_METRIC_FILE)
    scores = pd.read_csv(folder / SCORES_FILE, keep_default_na=False, na_values={"shots": [""]})
    settings = json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
    return by_metric, scores, settings


def meta_section(folder: Union[str, Path]) -> Section:
    """The meta-analysis as one :class:`~mirage_metrics.html_report.Section`."""
    from mirage_metrics.meta.analysis import ranked_curves

    folder = Path(folder)
    by_metric, scores, settings = read_outputs(folder)
    threshold = settings["threshold"]
    blocks = [
        Paragraph(EXPLANATION),
        Paragraph(
            f"Sources: {', '.join(settings['sources'])}. Parameters: {settings['params']}. "
            f"Threshold: |emergence score| > {threshold:g}. Curves: {len(scores)}. Per metric below: n_pairs "
            "curves (task or subtask × shots × family), median_score the median |emergence score|, "
            "share_above_threshold the share of those curves above the threshold, highest share first."
        ),
    ]
    if scores.empty:
        blocks.append(Paragraph("No curve had scores at two or more model sizes, so there is nothing to rank."))
        return Section("Meta-analysis: which metrics look emergent", blocks)
    blocks.append(Table.from_frame(by_metric))
    for name, caption in (
        (DISTRIBUTION_PLOT, "Emergence scores per metric, one dot per curve (cf. the paper's Fig 5A)."),
        (SHARE_PLOT, f"Share of curves with |emergence score| > {threshold:g}, per metric."),
    ):
        if (folder / name).is_file():
            blocks.append(Image(folder / name, caption))
    blocks.append(Paragraph(f"The {min(TOP_CURVES, len(scores))} sharpest curves:"))
    blocks.append(Table.from_frame(ranked_curves(scores, top=TOP_CURVES)))
    return Section("Meta-analysis: which metrics look emergent", blocks)
