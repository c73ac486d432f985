"""The meta-analysis (the paper's Fig 5): which metrics make abilities look emergent.

``mirage meta-analysis`` runs three steps, one module each, and one module joins them; import them from here:

- :mod:`~mirage_metrics.meta.sources`: BIG-bench results files, tidy CSVs and lm-eval
  output folders → one tidy frame of scores per model (:func:`read_sources`);
- :mod:`~mirage_metrics.meta.analysis`: every curve's signed emergence score and jump
  sharpness and, per metric, their signed medians and the share of curves above a
  threshold (:func:`emergence_scores`, :func:`summarise_by_metric`), with a warning
  when the curves have too few sizes to cross it (:func:`threshold_warnings`) or a
  metric's direction is unknown (:func:`direction_warnings`), and a note per metric
  on what its scores can show at its numbers of sizes (:func:`size_notes`);
- :mod:`~mirage_metrics.meta.page`: the output folder's file names and its HTML section
  (:func:`meta_section`, also what ``mirage report`` shows for such a folder);
- :mod:`~mirage_metrics.meta.build`: the three steps end to end, writing the folder
  (:func:`build_meta_analysis`, what the CLI calls).

The defaults (threshold, minimum number of sizes, parameter kinds) are in
:mod:`~mirage_metrics.meta.defaults`, which imports nothing; the plots are in
:mod:`mirage_metrics.plots.meta`. The names below load their module on first use, so that
``mirage meta-analysis --help`` reads the defaults without importing pandas.
"""

from __future__ import annotations

import importlib

_MODULE_OF = {
    **dict.fromkeys(("DEFAULT_MIN_SIZES", "DEFAULT_THRESHOLD", "PARAMETER_KINDS"), "defaults"),
    **dict.fromkeys(
        (
            "BY_METRIC_COLUMNS",
            "CURVE_KEYS",
            "SCORE_TABLE_COLUMNS",
            "declared_directions",
            "direction_warnings",
            "emergence_scores",
            "largest_possible_score",
            "ranked_curves",
            "size_notes",
            "summarise_by_metric",
            "summary_curves",
            "threshold_warnings",
        ),
        "analysis",
    ),
    **dict.fromkeys(("MetaAnalysis", "build_meta_analysis"), "build"),
    **dict.fromkeys(
        (
            "BY_METRIC_FILE",
            "DISTRIBUTION_PLOT",
            "PAGE_FILE",
            "SCORES_FILE",
            "SETTINGS_FILE",
            "SHARE_PLOT",
            "TOP_CURVES",
            "meta_section",
            "read_outputs",
        ),
        "page",
    ),
    **dict.fromkeys(
        (
            "DIRECTIONS",
            "SCORE_COLUMNS",
            "read_bigbench_file",
            "read_bigbench_folder",
            "read_lm_eval_folder",
            "read_sources",
            "read_tidy_csv",
        ),
        "sources",
    ),
}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
