"""lm-eval hooks of the mirage_bb_* tasks (``!function utils.*``); the code lives in mirage_metrics.bigbench_lm_eval."""

from mirage_metrics.bigbench_lm_eval import (  # noqa: F401
    aggregate_bigbench_brier,
    load_docs,
    process_results_gen,
    process_results_ll,
    process_results_mc,
)
