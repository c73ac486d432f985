"""``mirage report``: read results, analyse across sizes, write CSVs, plots and one self-contained HTML page.

Modules: :mod:`~mirage_metrics.report.build` (reads sources and writes the
files), :mod:`~mirage_metrics.report.figures` (which plots per task),
:mod:`~mirage_metrics.report.pages` (HTML sections), :mod:`~mirage_metrics.report.verdict`
(plain-language verdicts); outputs are written atomically by :mod:`mirage_metrics.atomic_files`.
"""

from mirage_metrics.report.build import ReportOptions, analyse_lm_eval, build_report, source_kind

__all__ = ["ReportOptions", "analyse_lm_eval", "build_report", "source_kind"]
