"""BIG-bench JSON tasks as lm-eval tasks (the paper's Fig 6).

- :mod:`~mirage_metrics.bigbench.reader`: find and read BIG-bench JSON tasks and render
  their prompts as BIG-bench does; its API is re-exported here;
- :mod:`~mirage_metrics.bigbench.lm_eval_hooks`: the ``!function`` hooks of the
  ``mirage_bb_*`` task YAMLs (documents, per-sample metrics, the BIG-bench Brier
  aggregate), reached through ``tasks/bigbench/utils.py``;
- :mod:`~mirage_metrics.bigbench.task_yamls`: the YAML generator behind ``mirage bigbench-tasks``.

Only the reader (numpy) is imported here: ``mirage --help`` builds its parsers from
this package, and the hooks import ``datasets``.
"""

from mirage_metrics.bigbench.reader import (
    BIGBENCH_DIR_ENV,
    FORMS,
    HUB_DATASET,
    SHOT_POOL_SIZE,
    BigBenchDataNotFound,
    JsonTask,
    discover_tasks,
    find_benchmark_tasks,
    lm_eval_task_name,
    load_task,
    postprocess_output,
    read_json_task,
    resolve_bigbench_dir,
)

__all__ = [
    "BIGBENCH_DIR_ENV",
    "FORMS",
    "HUB_DATASET",
    "SHOT_POOL_SIZE",
    "BigBenchDataNotFound",
    "JsonTask",
    "discover_tasks",
    "find_benchmark_tasks",
    "lm_eval_task_name",
    "load_task",
    "postprocess_output",
    "read_json_task",
    "resolve_bigbench_dir",
]
