"""lm-eval hooks of the mirage_bb_* tasks (``!function utils.*``); the code lives in mirage_metrics.bigbench.lm_eval_hooks."""

from mirage_metrics.bigbench.lm_eval_hooks import (  # noqa: F401
    BigbenchOutputFilter,
    aggregate_bigbench_brier,
    load_docs,
    process_results_gen,
    process_results_ll,
    process_results_mc,
)
