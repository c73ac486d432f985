"""The meta-analysis (the paper's Fig 5): which metrics make abilities look emergent.

``mirage meta-analysis`` runs three steps, one module each; import them from here:

- :mod:`~mirage_metrics.meta.sources`: BIG-bench results files, tidy CSVs and lm-eval
  output folders → one tidy frame of scores per model (:func:`read_sources`);
- :mod:`~mirage_metrics.meta.analysis`: every curve's signed emergence score and jump
  sharpness and, per metric, their signed medians and the share of curves above a
  threshold (:func:`emergence_scores`, :func:`summarize_by_metric`), with a warning
  when the curves have too few sizes to cross it (:func:`threshold_warnings`);
- :mod:`~mirage_metrics.meta.page`: the output folder's file names and its HTML section
  (:func:`meta_section`, also what ``mirage report`` shows for such a folder).

The plots are in :mod:`mirage_metrics.plots.meta`.
"""

from mirage_metrics.meta.analysis import (
    BY_METRIC_COLUMNS,
    CURVE_COLUMNS,
    DEFAULT_MIN_SIZES,
    DEFAULT_THRESHOLD,
    SCORE_TABLE_COLUMNS,
    emergence_scores,
    largest_possible_score,
    ranked_curves,
    summarize_by_metric,
    summary_curves,
    threshold_warnings,
)
from mirage_metrics.meta.page import (
    BY_METRIC_FILE,
    DISTRIBUTION_PLOT,
    PAGE_FILE,
    SCORES_FILE,
    SETTINGS_FILE,
    SHARE_PLOT,
    TOP_CURVES,
    meta_section,
    read_outputs,
)
from mirage_metrics.meta.sources import (
    PARAMETER_KINDS,
    SCORE_COLUMNS,
    read_bigbench_file,
    read_bigbench_folder,
    read_lm_eval_folder,
    read_sources,
    read_tidy_csv,
)

__all__ = [
    "BY_METRIC_COLUMNS",
    "BY_METRIC_FILE",
    "CURVE_COLUMNS",
    "DEFAULT_MIN_SIZES",
    "DEFAULT_THRESHOLD",
    "DISTRIBUTION_PLOT",
    "PAGE_FILE",
    "PARAMETER_KINDS",
    "SCORES_FILE",
    "SCORE_COLUMNS",
    "SCORE_TABLE_COLUMNS",
    "SETTINGS_FILE",
    "SHARE_PLOT",
    "TOP_CURVES",
    "emergence_scores",
    "largest_possible_score",
    "meta_section",
    "ranked_curves",
    "read_bigbench_file",
    "read_bigbench_folder",
    "read_lm_eval_folder",
    "read_outputs",
    "read_sources",
    "read_tidy_csv",
    "summarize_by_metric",
    "summary_curves",
    "threshold_warnings",
]
