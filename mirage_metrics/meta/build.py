"""The meta-analysis folder, end to end: read the sources, score every curve, summarise per metric, write the files.

:func:`build_meta_analysis` is what ``mirage meta-analysis`` runs; it writes
``emergence_scores.csv``, ``by_metric.csv``, ``meta_analysis.json`` (settings and
warnings), the two plots and ``meta_analysis.html`` into ``out``, replaced as a whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple, Optional, Union

import pandas as pd

from mirage_metrics.meta.analysis import (
    declared_directions,
    direction_warnings,
    emergence_scores,
    size_notes,
    summarise_by_metric,
    summary_curves,
    threshold_warnings,
)
from mirage_metrics.meta.defaults import DEFAULT_MIN_SIZES, DEFAULT_THRESHOLD
from mirage_metrics.meta.page import (
    BY_METRIC_FILE,
    DISTRIBUTION_PLOT,
    PAGE_FILE,
    SCORES_FILE,
    SETTINGS_FILE,
    SHARE_PLOT,
    meta_section,
)
from mirage_metrics.meta.sources import read_sources

__all__ = ["MetaAnalysis", "build_meta_analysis"]


class MetaAnalysis(NamedTuple):
    """What :func:`build_meta_analysis` wrote: the page, every curve, the summarised ones, per metric, warnings, and
    what the summarised scores can show at their numbers of sizes (:func:`~mirage_metrics.meta.size_notes`)."""

    page: Path
    scores: pd.DataFrame
    kept: pd.DataFrame
    by_metric: pd.DataFrame
    warnings: list[str]
    notes: list[str]


def _check_bigbench_results(sources: list) -> None:
    """A folder of BIG-bench tasks without their published results is an error that says so."""
    from mirage_metrics.bigbench import find_benchmark_tasks

    for source in map(Path, sources):
        if source.is_dir() and find_benchmark_tasks(source) and not any(source.rglob("scores_*.json")):
            raise ValueError(
                f"source {source} holds BIG-bench tasks (<task>/task.json) but no results/scores_*.json; "
                "BIG-bench's published scores are in benchmark_tasks/<task>/results/ of a full BIG-bench "
                "checkout (git clone https://github.com/google/BIG-bench): pass that folder"
            )


def _write_outputs(work: Path, settings: dict, result: MetaAnalysis, threshold: float) -> None:
    """The CSVs, settings, plots and page of the meta-analysis, into the new folder ``work``."""
    from mirage_metrics.atomic_files import write_csv, write_text
    from mirage_metrics.html_page import render_page
    from mirage_metrics.plots.meta import plot_score_distributions, plot_share_above_threshold

    write_csv(result.scores, work / SCORES_FILE)
    write_csv(result.by_metric, work / BY_METRIC_FILE)
    write_text(json.dumps(settings, indent=2) + "\n", work / SETTINGS_FILE)
    if not result.kept.empty:
        plot_score_distributions(result.kept, result.by_metric["metric"], threshold, work / DISTRIBUTION_PLOT)
        plot_share_above_threshold(result.by_metric, threshold, work / SHARE_PLOT)
    write_text(render_page("mirage meta-analysis", [meta_section(work)]), work / PAGE_FILE)


def build_meta_analysis(
    sources: list,
    out: Union[str, Path],
    *,
    params: str = "total",
    param_counts: Optional[Union[str, Path]] = None,
    threshold: float = DEFAULT_THRESHOLD,
    min_sizes: int = DEFAULT_MIN_SIZES,
    directions: Optional[dict] = None,
    progress: bool = False,
) -> MetaAnalysis:
    """Read ``sources`` (:func:`~mirage_metrics.meta.read_sources`), score and summarise them, write ``out``.

    ``by_metric.csv`` summarises the curves with ``min_sizes`` or more sizes
    against ``threshold``; a threshold those curves cannot cross, and a metric of
    unknown direction, are among the returned ``warnings`` (also in the JSON and on
    the page). ``directions`` (``{metric: "higher" | "lower"}``, ``--direction``) win
    over the sources' direction column and the registry.
    """
    from mirage_metrics.atomic_files import OutputFolder

    target = OutputFolder(out, "mirage meta-analysis", inputs=[*sources, param_counts])
    _check_bigbench_results(sources)
    frame = read_sources(sources, params=params, param_counts=param_counts, progress=progress)
    declared = declared_directions(frame, directions)
    scores = emergence_scores(frame, directions, progress=progress)
    kept = summary_curves(scores, min_sizes)
    by_metric = summarise_by_metric(scores, threshold=threshold, min_sizes=min_sizes)
    warnings = direction_warnings(scores, declared) + threshold_warnings(kept, threshold)
    result = MetaAnalysis(Path(out) / PAGE_FILE, scores, kept, by_metric, warnings, size_notes(kept))
    settings = {
        "sources": [str(s) for s in sources],
        "params": params,
        "param_counts": None if param_counts is None else str(param_counts),
        "threshold": threshold,
        "min_sizes": min_sizes,
        "directions": {metric: str(value).strip().lower() for metric, value in (directions or {}).items()},
        "curves": len(scores),
        "curves_in_summary": len(kept),
        "warnings": result.warnings,
        "notes": result.notes,
    }
    with target.writing() as work:
        _write_outputs(work, settings, result, threshold)
    return result
