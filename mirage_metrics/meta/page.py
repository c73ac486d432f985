"""The HTML section of a ``mirage meta-analysis`` output folder (for its own page and ``mirage report``).

It lays out what the folder holds (``by_metric.csv``, ``emergence_scores.csv``,
``meta_analysis.json`` and the PNG plots) with :mod:`mirage_metrics.html_page`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Union

import pandas as pd

from mirage_metrics.html_page import Image, Paragraph, Section, Table
from mirage_metrics.meta.analysis import ranked_curves, size_notes, summary_curves

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
    "sizes, two measures against parameter count. The emergence score is BIG-bench's breakthroughness: "
    "sign(argmax − argmin) · (max − min) / sqrt(median squared step). A steady climb over n sizes scores n − 1; "
    "a flat curve with one jump scores far more (±inf when the median step is exactly 0), but only from 4 sizes "
    "on: with 2 sizes the score is ±1 or 0, with 3 it is at most 2 (a straight line scores 2, a jump less), so "
    "a threshold above that is out of reach and the share above it is 0 whatever the data. The jump sharpness "
    "is the largest step's share of all movement, rescaled so that equal steps give 0 and one jump gives 1 at "
    "every number of sizes from 3 on (undefined with 2), signed by the direction of that step. Both are signed: "
    "the values of lower-is-better metrics (edit distance, Brier score) are negated first, so positive means "
    "better with size. A metric's direction is the one given with --direction, else a CSV's direction column, "
    "else the registry's; a metric with none keeps its raw values and is marked 'unknown'. Per "
    "metric, the table gives the signed median and quartiles of the emergence score, the median |emergence "
    "score|, the share of curves that could exceed the threshold with their number of sizes, the share that "
    "did, and the signed median jump sharpness. The paper (Schaeffer et al. 2023, Fig 5) finds high scores "
    "concentrated in a few discontinuous metrics such as Multiple Choice Grade and Exact String Match."
)
#: The score columns of ``emergence_scores.csv`` that may be empty (NaN): sharpness with 2 sizes.
_NUMERIC_SCORES = ("emergence_score", "emergence_low", "emergence_high", "sharpness", "sharpness_low", "sharpness_high")
SETTINGS_KEYS = ("sources", "params", "threshold", "min_sizes", "curves", "curves_in_summary", "warnings")


def read_outputs(folder: Union[str, Path]) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """``(by_metric, emergence_scores, settings)`` of a meta-analysis folder."""
    folder = Path(folder)
    missing = [name for name in (BY_METRIC_FILE, SCORES_FILE, SETTINGS_FILE) if not (folder / name).is_file()]
    if missing:
        raise ValueError(
            f"{folder} is not a complete meta-analysis folder: missing {missing}; run mirage meta-analysis"
        )
    by_metric = pd.read_csv(folder / BY_METRIC_FILE)
    # Only numeric cells are NaN when empty: a subtask "" or a family named "NA" stays text.
    scores = pd.read_csv(
        folder / SCORES_FILE,
        keep_default_na=False,
        na_values={"shots": [""], **dict.fromkeys(_NUMERIC_SCORES, [""])},
    )
    settings = json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
    missing = [key for key in SETTINGS_KEYS if key not in settings]
    if missing:
        raise ValueError(
            f"{folder / SETTINGS_FILE} has no {missing}: it is from an older version; rerun mirage meta-analysis"
        )
    return by_metric, scores, settings


def meta_section(folder: Union[str, Path]) -> Section:
    """The meta-analysis as one :class:`~mirage_metrics.html_page.Section`: warnings first, then tables and plots."""
    folder = Path(folder)
    by_metric, scores, settings = read_outputs(folder)
    threshold, min_sizes = settings["threshold"], settings["min_sizes"]
    kept = summary_curves(scores, min_sizes)
    blocks = [Paragraph(f"Warning: {warning}") for warning in settings["warnings"]]
    blocks += [
        Paragraph(EXPLANATION),
        Paragraph(
            f"Sources: {', '.join(settings['sources'])}. Parameters: {settings['params']}. "
            f"Threshold: |emergence score| > {threshold:g}. Curves: {settings['curves']}, of which "
            f"{settings['curves_in_summary']} have at least {min_sizes} sizes and enter the summary and plots "
            "(emergence_scores.csv lists them all). Per metric below: direction (which way is better; 'unknown': "
            "raw values), kind, n_pairs curves (task or subtask × shots × family) and how many have 2, 3 and 4+ "
            "sizes, then the measures above; highest share above the threshold first, then highest signed median."
        ),
    ]
    if kept.empty:
        blocks.append(
            Paragraph(f"No curve had scores at {min_sizes} or more model sizes, so there is nothing to rank.")
        )
        return Section("Meta-analysis: which metrics look emergent", blocks)
    blocks.append(Table.from_frame(by_metric))
    blocks.append(Paragraph("What these scores can show at their numbers of sizes:"))
    blocks += [Paragraph(note) for note in size_notes(kept)]
    for name, caption in (
        (
            DISTRIBUTION_PLOT,
            "Signed emergence score (left, cf. the paper's Fig 5A) and jump sharpness (right) per metric, one dot "
            "per curve, coloured by its number of sizes.",
        ),
        (
            SHARE_PLOT,
            f"Per metric, the share of curves with |emergence score| > {threshold:g} (orange) and the share whose "
            "number of sizes allows it at all (grey).",
        ),
    ):
        if (folder / name).is_file():
            blocks.append(Image(folder / name, caption))
    blocks.append(Paragraph(f"The {min(TOP_CURVES, len(kept))} sharpest curves by |emergence score|:"))
    blocks.append(Table.from_frame(ranked_curves(kept, top=TOP_CURVES)))
    return Section("Meta-analysis: which metrics look emergent", blocks)
