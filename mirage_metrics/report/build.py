"""``mirage report``: read every source folder, analyse across sizes, write CSVs, PNGs and ``report.html``.

A source folder is one of three kinds (:func:`source_kind`): a vision study
(``results.csv`` with a ``study`` column), a meta-analysis (``by_metric.csv``),
or lm-eval output (anything else: ``mirage sweep`` or plain ``lm_eval
--output_path ... --log_samples`` folders). All lm-eval folders are read
together into one tidy table and analysed; the other kinds contribute the
sections their own modules build.

Files written for lm-eval sources (a stable contract): ``metrics.csv`` (family,
model, params, task, metric, length, n, mean, ci_low, ci_high, interval: see
:func:`mirage_metrics.scaling.summarise`), ``emergence.csv`` (one row per curve,
:data:`mirage_metrics.emergence.CURVE_COLUMNS`), ``fit.csv`` (see
:data:`mirage_metrics.scaling.FIT_COLUMNS`), the PNG plots and ``report.html``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from mirage_metrics.html_report import Section, render_page
from mirage_metrics.atomic_files import write_csv, write_text
from mirage_metrics.emergence import CURVE_COLUMNS, curve_table
from mirage_metrics.scaling import (
    SUMMARY_COLUMNS,
    fit_mirage,
    fit_table,
    summarise_with_resamples,
    with_per_char_loss,
)

__all__ = ["source_kind", "analyse_lm_eval", "build_report"]

REPORT_TITLE = "mirage-metrics report"


def source_kind(folder) -> str:
    """``"vision"``, ``"meta_analysis"`` or ``"lm_eval"``, from the files in ``folder``.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> source_kind(folder)
    'lm_eval'
    >>> _ = (folder / "results.csv").write_text("study,model\\n")
    >>> source_kind(folder)
    'vision'
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"source {folder} is not a folder; pass folders from mirage sweep, lm_eval, "
                         "a vision study or mirage meta-analysis")
    vision_results = folder / "results.csv"
    if vision_results.is_file() and "study" in pd.read_csv(vision_results, nrows=0).columns:
        return "vision"
    if (folder / "by_metric.csv").is_file():
        return "meta_analysis"
    return "lm_eval"


def _per_sample_keys(summary: pd.DataFrame) -> set[tuple[str, str, str, str]]:
    """(family, model, task, lm-eval metric name) of every per-sample curve, ``exact_match_L3`` style."""
    names = [m if pd.isna(n) else f"{m}_L{int(n)}" for m, n in zip(summary["metric"], summary["length"])]
    return set(zip(summary["family"], summary["model"], summary["task"], names))


def _aggregate_only(sources: list[Path], params, summary: pd.DataFrame) -> pd.DataFrame:
    """lm-eval aggregates with no per-sample values (e.g. ``bigbench_brier_score``), as summary rows without CI.

    NaN aggregates (a by-length metric longer than every answer) are left out.
    """
    from mirage_metrics.results import read_aggregates

    aggregates = read_aggregates(sources, params=params)
    known = _per_sample_keys(summary)
    unknown = [key not in known for key in zip(aggregates["family"], aggregates["model"], aggregates["task"],
                                                aggregates["metric"])]
    keep = np.asarray(unknown, dtype=bool) & aggregates["value"].notna().to_numpy()
    rows = aggregates[keep].rename(columns={"value": "mean"})
    return rows.assign(length=float("nan"), n=pd.NA, ci_low=float("nan"), ci_high=float("nan"),
                       interval="")[SUMMARY_COLUMNS]


def _metrics_csv_frame(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.astype({"params": "int64", "length": "Int64", "n": "Int64"})


def analyse_lm_eval(sources: list[Path], out: Path, *, holdout_largest: int = 0, params=None, n_boot: int = 1000,
                    seed: int = 0, workers: int | str = 1, progress: bool = False) -> list[Section]:
    """Read, summarise, score and fit lm-eval outputs; write the CSVs and plots to ``out``; return sections."""
    from mirage_metrics.report.figures import make_figures
    from mirage_metrics.report.pages import analysis_sections
    from mirage_metrics.results import read_directions, read_results

    table = with_per_char_loss(read_results(sources, params=params, workers=workers, progress=progress))
    per_sample, resamples = summarise_with_resamples(table, n_boot=n_boot, seed=seed, progress=progress)
    del table
    aggregate_only = _aggregate_only(sources, params, per_sample)
    summary = pd.concat([per_sample, aggregate_only], ignore_index=True) if len(aggregate_only) else per_sample
    summary = summary.sort_values(["family", "task", "metric", "length", "params"], ignore_index=True)
    curves = curve_table(summary, resamples, higher_is_better=read_directions(sources, params=params))
    fits = fit_mirage(summary, holdout_largest=holdout_largest)
    fit_rows = fit_table(fits)
    write_csv(_metrics_csv_frame(summary), out / "metrics.csv")
    write_csv(curves[CURVE_COLUMNS].astype({"length": "Int64"}), out / "emergence.csv")
    write_csv(fit_rows.astype({"length": "Int64"}), out / "fit.csv")
    figures = make_figures(summary, fits, out, progress=progress)
    return analysis_sections(_metrics_csv_frame(summary), curves, fits, fit_rows, figures)


def _other_sections(folder: Path, kind: str) -> list[Section]:
    if kind == "vision":
        from mirage_metrics.vision.report import report_sections

        return list(report_sections(folder))
    from mirage_metrics.meta import report_section

    return [report_section(folder)]


def build_report(sources: Iterable, out, *, holdout_largest: int = 0, params=None, n_boot: int = 1000,
                 seed: int = 0, workers: int | str = 1, progress: bool = False) -> Path:
    """Write the report of ``sources`` into ``out`` and return the path of ``report.html``.

    ``workers``: processes reading lm-eval samples files (see :func:`mirage_metrics.results.read_results`).
    """
    folders = [Path(source) for source in sources]
    if not folders:
        raise ValueError("sources is empty; pass at least one folder (mirage sweep, lm_eval, vision or meta-analysis)")
    out = Path(out)
    kinds = {folder: source_kind(folder) for folder in folders}
    lm_eval = [folder for folder in folders if kinds[folder] == "lm_eval"]
    sections = []
    if lm_eval:
        sections.extend(analyse_lm_eval(lm_eval, out, holdout_largest=holdout_largest, params=params,
                                        n_boot=n_boot, seed=seed, workers=workers, progress=progress))
    for folder in folders:
        if kinds[folder] != "lm_eval":
            sections.extend(_other_sections(folder, kinds[folder]))
    return write_text(render_page(REPORT_TITLE, sections), out / "report.html")
