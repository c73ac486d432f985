"""``mirage report``: read every source folder, analyse across sizes, write CSVs, PNGs and ``report.html``.

A source folder is one of three kinds (:func:`source_kind`): a vision study
(``samples.csv``, written by ``mirage vision``), a meta-analysis
(``by_metric.csv``), or lm-eval output (anything else: ``mirage sweep`` or plain
``lm_eval --output_path ... --log_samples`` folders). All lm-eval and vision
folders are read together into one tidy per-sample table and analysed the same
way; vision folders add a section saying what their study is, and
meta-analysis folders contribute the section their module builds.

Files written for lm-eval and vision sources (a stable contract): ``metrics.csv`` (family,
model, params, task, metric, length, n, mean, ci_low, ci_high, interval: see
:func:`mirage_metrics.summary.summarise`), ``emergence.csv`` (one row per curve,
:data:`~mirage_metrics.emergence.SUMMARY_CURVE_KEYS` + :data:`~mirage_metrics.emergence.CURVE_SCORE_COLUMNS`), ``fit.csv`` (see
:data:`mirage_metrics.mirage_fit.FIT_COLUMNS`), ``mechanism.csv`` where a ``_gen_t1`` task has an ``_ll`` task of
the same problems with ``prefix_prob`` (see :func:`mirage_metrics.mechanism.mechanism_table`), the PNG plots and
``report.html``. Under ``--x step|tokens`` or ``--params non-embedding`` the ``params`` column of these CSVs is
named after what it holds (``step``, ``tokens``, ``non_embedding_params``); under ``--x step|tokens`` the
mirage fit, a law in the parameter count, is not made (``fit.csv`` has its header only).

``--out`` always holds one whole report (:class:`mirage_metrics.atomic_files.OutputFolder`):
the report is written into a new folder beside it and swapped in by renaming, so
a report stopped at any moment leaves the previous one untouched, and files of
an earlier report that this one does not write (plots of another source) are
gone. The folder is replaced only when it is empty or holds only the files its
manifest lists as an earlier report's; anything else is refused with an error,
never deleted. Warnings met while reading (counted NaN values, generation tasks whose
outputs are nearly all empty) are listed at the top of the page; an empty-output
warning is repeated beside its task's verdict.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import numpy as np
import pandas as pd

from mirage_metrics.atomic_files import OutputFolder, write_csv, write_text
from mirage_metrics.emergence import CURVE_SCORE_COLUMNS, SUMMARY_CURVE_KEYS, curve_table
from mirage_metrics.html_page import Paragraph, Section, render_page
from mirage_metrics.mechanism import mechanism_table
from mirage_metrics.mirage_fit import fit_mirage, fit_table
from mirage_metrics.summary import (
    SUMMARY_COLUMNS,
    concat_tables,
    summarise_first_problems,
    summarise_with_resamples,
    with_per_char_loss,
)
from mirage_metrics.x_axes import X_CHOICES, X_LABELS

if TYPE_CHECKING:
    from mirage_metrics.results import Params

__all__ = ["source_kind", "ReportOptions", "analyse_lm_eval", "build_report"]

REPORT_TITLE = "mirage-metrics report"
FIRST_PROBLEMS_FILE = "first_problems.csv"  # Fig 4's view of the all-or-nothing metrics on each task's first problems
MECHANISM_FILE = "mechanism.csv"  # predicted (mean prefix_prob_L) beside observed t = 1 exact match of L characters


@dataclass(frozen=True)
class ReportOptions:
    """The settings of a report, ``mirage report``'s flags: ``holdout_largest`` (fit the mirage model on all but
    the K largest models and report its prediction error on them), ``x`` (the x of every curve, score and figure:
    one of :data:`~mirage_metrics.x_axes.X_CHOICES`), ``params`` (which parameter count is that x: ``"total"`` or
    ``"non-embedding"``, the meta-analysis' choices), ``param_counts`` (counts of that kind by model, a mapping or a
    file, see :func:`mirage_metrics.results.read_results`), ``n_boot`` (bootstrap resamples per confidence interval) and
    its ``seed``, ``workers`` (processes reading lm-eval samples files, see
    :func:`~mirage_metrics.results.read_results`), ``progress`` (show progress bars)."""

    holdout_largest: int = 0
    x: str = "params"
    params: str = "total"
    param_counts: Params = None
    n_boot: int = 1000
    seed: int = 0
    workers: int | str = 1
    progress: bool = False


def _options(options: ReportOptions | None, keywords: dict) -> ReportOptions:
    """``options`` (default: :class:`ReportOptions`'s defaults) with the fields named in ``keywords`` replaced;
    TypeError naming a keyword that is no option, ValueError for a value that is no choice."""
    from mirage_metrics.meta.defaults import PARAMETER_KINDS

    options = replace(options or ReportOptions(), **keywords)
    if options.x not in X_CHOICES:
        raise ValueError(f"x={options.x!r} is not a choice; choose one of {', '.join(X_CHOICES)}")
    if options.params not in PARAMETER_KINDS:
        raise ValueError(f"params={options.params!r} is not a choice; choose one of {', '.join(PARAMETER_KINDS)}")
    if options.x != "params" and options.params != "total":
        raise ValueError(
            f"params={options.params!r} chooses a parameter count, which x={options.x!r} does not use; leave it "
            "out, or report against x='params'"
        )
    if options.x != "params" and options.holdout_largest:
        raise ValueError(
            f"holdout_largest={options.holdout_largest} holds models out of the mirage fit, which is not made "
            f"against x={options.x!r}; leave it out, or report against x='params'"
        )
    if options.x != "params" and options.param_counts is not None:
        raise ValueError(
            f"param_counts={str(options.param_counts)!r} gives parameter counts, which x={options.x!r} does not "
            "use; leave it out, or report against x='params'"
        )
    return options


def x_field(options: ReportOptions) -> str:
    """The ``model.json`` field (a key of :data:`mirage_metrics.x_axes.X_LABELS`) that is the x of the report.

    >>> x_field(ReportOptions(params="non-embedding")), x_field(ReportOptions(x="step"))
    ('non_embedding_params', 'step')
    """
    return "non_embedding_params" if options.x == "params" and options.params == "non-embedding" else options.x


def source_kind(folder) -> str:
    """``"vision"``, ``"meta_analysis"`` or ``"lm_eval"``, from the files in ``folder``.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> source_kind(folder)
    'lm_eval'
    >>> _ = (folder / "samples.csv").write_text("family,model\\n")
    >>> source_kind(folder)
    'vision'
    """
    from mirage_metrics.vision.samples import SAMPLES_FILE

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(
            f"source {folder} is not a folder; pass folders from mirage sweep, lm_eval, "
            "a vision study or mirage meta-analysis"
        )
    if (folder / SAMPLES_FILE).is_file():
        return "vision"
    if (folder / "by_metric.csv").is_file():
        return "meta_analysis"
    return "lm_eval"


def _per_sample_keys(summary: pd.DataFrame) -> set[tuple]:
    """(family, model, task, metric, length) of every per-sample curve; length -1 where not by length."""
    lengths = summary["length"].astype(float).fillna(-1.0)
    return set(zip(summary["family"], summary["model"], summary["task"], summary["metric"], lengths))


def _aggregate_only(aggregates: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """The lm-eval aggregates (:func:`mirage_metrics.results.read_aggregates`) with no per-sample values (e.g.
    ``bigbench_brier_score``), as summary rows without CI.

    NaN aggregates (a by-length metric longer than every answer) are left out.
    """
    known = _per_sample_keys(summary)
    keys = zip(
        aggregates["family"],
        aggregates["model"],
        aggregates["task"],
        aggregates["metric"],
        aggregates["length"].fillna(-1.0),
    )
    unknown = [key not in known for key in keys]
    keep = np.asarray(unknown, dtype=bool) & aggregates["value"].notna().to_numpy()
    rows = aggregates[keep].rename(columns={"value": "mean"})
    return rows.assign(n=pd.NA, ci_low=float("nan"), ci_high=float("nan"), interval="")[SUMMARY_COLUMNS]


def _metrics_csv_frame(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.astype({"params": "int64", "length": "Int64", "n": "Int64"})


def _x_named(frame: pd.DataFrame, field: str) -> pd.DataFrame:
    """``frame`` for a CSV: its ``params`` column named after what it holds (``step`` under ``--x step``)."""
    return frame.rename(columns={"params": field})


def _x_section(field: str, fitted: bool) -> Section:
    """What the x of this report is, when it is not the total parameter count."""
    text = (
        f"Every curve, emergence score and figure of this report is against {X_LABELS[field].lower()} "
        f"(the {field} column of the CSVs), not the total parameter count."
    )
    if not fitted:
        text += (
            " The mirage fit L_CE(N) = (N/c)^alpha is a law in the parameter count N, so it is not fitted here "
            "(fit.csv is empty); report against --x params for it."
        )
    return Section("The x-axis", [Paragraph(text)])


def analyse_lm_eval(
    sources: list[Path], out: Path, options: ReportOptions | None = None, *, vision: list[Path] = (), **keywords
) -> list[Section]:
    """Read, summarise, score and fit lm-eval outputs and vision sweeps (``vision``: their folders, read by
    :func:`mirage_metrics.vision.samples.read_samples`); write the CSVs and plots to ``out``; return sections.

    ``options`` and ``keywords`` as :func:`build_report`'s. Each lm-eval results file is read once.
    """
    from mirage_metrics.plots import x_axis_label
    from mirage_metrics.report.figures import make_figures
    from mirage_metrics.report.pages import analysis_sections
    from mirage_metrics.results import ResultsWarning, read_lm_eval, results_warnings
    from mirage_metrics.vision.samples import read_samples

    options = _options(options, keywords)
    field = x_field(options)
    if vision and field != "params":
        raise ValueError(
            f"vision studies {_plain(vision)} record only total parameter counts; report them against "
            f"x='params' with params='total', apart from the lm-eval sources"
        )
    tables, aggregates, directions, outputs = [], None, None, None
    with results_warnings() as notes:
        if sources:
            table, aggregates, directions, outputs = read_lm_eval(
                sources, options.param_counts, x=field, workers=options.workers, progress=options.progress
            )
            tables.append(table)
        table = with_per_char_loss(concat_tables(tables + [read_samples(folder) for folder in vision]))
    if field in ("step", "tokens"):
        _check_one_model_per_point(table, field)
    for note in notes:  # listed on the page, and passed on to the caller
        warnings.warn(note, ResultsWarning, stacklevel=2)
    per_sample, resamples = summarise_with_resamples(
        table, n_boot=options.n_boot, seed=options.seed, progress=options.progress
    )
    first = summarise_first_problems(table)
    del table, tables
    aggregate_only = _aggregate_only(aggregates, per_sample) if sources else []
    summary = pd.concat([per_sample, aggregate_only], ignore_index=True) if len(aggregate_only) else per_sample
    summary = summary.sort_values(["family", "task", "metric", "length", "params"], ignore_index=True)
    curves = curve_table(summary, resamples, higher_is_better=directions)
    fitted = options.x == "params"  # the mirage law is one in the parameter count
    fits = fit_mirage(summary, holdout_largest=options.holdout_largest) if fitted else []
    fit_rows = fit_table(fits).astype({"params": "Int64", "length": "Int64"})  # counts stay integers
    write_csv(_x_named(_metrics_csv_frame(summary), field), out / "metrics.csv")
    write_csv(curves[SUMMARY_CURVE_KEYS + CURVE_SCORE_COLUMNS].astype({"length": "Int64"}), out / "emergence.csv")
    write_csv(_x_named(fit_rows, field), out / "fit.csv")
    if len(first):
        first_rows = _metrics_csv_frame(first).astype({"first_problems": "int64"})
        write_csv(_x_named(first_rows, field), out / FIRST_PROBLEMS_FILE)
    mechanism = mechanism_table(summary)
    if len(mechanism):
        write_csv(_x_named(mechanism.astype({"params": "int64"}), field), out / MECHANISM_FILE)
    with x_axis_label(X_LABELS[field]):
        figures = make_figures(summary, fits, out, first=first, mechanism=mechanism, progress=options.progress)
    sections = analysis_sections(
        _metrics_csv_frame(summary),
        curves,
        fits,
        fit_rows,
        figures,
        mechanism=mechanism,
        outputs=outputs,
        x_column=field,
    )
    head = [_warnings_section(notes)] if notes else []
    return head + ([_x_section(field, fitted)] if field != "params" else []) + sections


def _check_one_model_per_point(table: pd.DataFrame, field: str) -> None:
    """A ValueError naming the models of one family at one training ``field`` value (``step`` or ``tokens``):
    a curve over training has one checkpoint per point.

    >>> table = pd.DataFrame({"family": "f", "model": ["a", "b", "c"], "params": [3000.0, 3000.0, 50.0]})
    >>> _check_one_model_per_point(table, "step")
    Traceback (most recent call last):
    ...
    ValueError: models a, b of family 'f' are all at step 3000; a report over training (--x step) needs one checkpoint per step: report them against --x params, or put them in different families
    """
    models = table[["family", "model", "params"]].drop_duplicates()
    repeated = models[models.duplicated(["family", "params"], keep=False)]
    if len(repeated):
        first = repeated.iloc[0]
        same = repeated[(repeated["family"] == first["family"]) & (repeated["params"] == first["params"])]
        raise ValueError(
            f"models {', '.join(map(str, same['model']))} of family {first['family']!r} are all at {field} "
            f"{int(first['params'])}; a report over training (--x {field}) needs one checkpoint per {field}: "
            f"report them against --x params, or put them in different families"
        )


def _plain(folders: list[Path]) -> str:
    return ", ".join(str(folder) for folder in folders)


def _warnings_section(notes: list[str]) -> Section:
    return Section(f"Warnings ({len(notes)})", [Paragraph(note) for note in notes])


def _other_sections(folder: Path, kind: str) -> list[Section]:
    if kind == "vision":
        from mirage_metrics.vision.sections import study_section

        return [study_section(folder)]
    from mirage_metrics.meta.page import meta_section

    return [meta_section(folder)]


def build_report(sources: Iterable, out, options: ReportOptions | None = None, **keywords) -> Path:
    """Write the report of ``sources`` into ``out`` (replacing an earlier report there as a whole) and return the
    path of ``report.html``.

    ``options``: the report's settings (:class:`ReportOptions`); keywords set single ones (``n_boot=200``), over
    those of ``options``. ValueError, before anything is read, when ``out`` may not be replaced (see
    :class:`~mirage_metrics.atomic_files.OutputFolder`).
    """
    options = _options(options, keywords)
    folders = [Path(source) for source in sources]
    if not folders:
        raise ValueError("sources is empty; pass at least one folder (mirage sweep, lm_eval, vision or meta-analysis)")
    params_file = options.param_counts if isinstance(options.param_counts, (str, Path)) else None
    target = OutputFolder(out, "mirage report", inputs=[*folders, params_file])
    kinds = {folder: source_kind(folder) for folder in folders}
    with target.writing() as work:
        _write_report(folders, kinds, work, options)
    return Path(out) / "report.html"


def _write_report(folders: list[Path], kinds: dict[Path, str], out: Path, options: ReportOptions) -> None:
    lm_eval = [folder for folder in folders if kinds[folder] == "lm_eval"]
    vision = [folder for folder in folders if kinds[folder] == "vision"]
    sections = []
    if lm_eval or vision:
        sections.extend(analyse_lm_eval(lm_eval, out, options, vision=vision))
    for folder in folders:
        if kinds[folder] != "lm_eval":
            sections.extend(_other_sections(folder, kinds[folder]))
    write_text(render_page(REPORT_TITLE, sections), out / "report.html")
