"""``mirage bigbench-tasks``: write lm-eval configs for BIG-bench JSON tasks."""

from __future__ import annotations

import os
import sys

from mirage_metrics.bigbench import BIGBENCH_DIR_ENV, BigBenchDataNotFound
from mirage_metrics.bigbench.task_yamls import DEFAULT_GROUP, write_task_configs


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bigbench-tasks",
        help="write mirage_bb_* lm-eval task configs for BIG-bench JSON tasks",
        description=(
            "Turn BIG-bench JSON tasks (benchmark_tasks/<task>/task.json and subtasks) into lm-eval configs "
            "mirage_bb_<task>[_<subtask>]_<mc|gen|ll>, a group, and a README with rendered prompts. "
            "Programmatic tasks (task.py) are skipped."
        ),
    )
    parser.add_argument(
        "--bigbench-dir",
        default=os.environ.get(BIGBENCH_DIR_ENV),
        help=f"BIG-bench benchmark_tasks folder (or a checkout holding it); default ${BIGBENCH_DIR_ENV}",
    )
    parser.add_argument("--tasks", nargs="+", metavar="TASK", help="task folder names (default: all)")
    parser.add_argument(
        "--group", default=DEFAULT_GROUP, help=f"name of the group of all tasks (default {DEFAULT_GROUP})"
    )
    parser.add_argument("--out", required=True, help="folder to write the configs into (for lm_eval --include_path)")
    parser.set_defaults(func=run)


def run(args) -> int:
    if not args.bigbench_dir:
        raise ValueError(f"pass --bigbench-dir DIR or set {BIGBENCH_DIR_ENV}")
    try:
        written = write_task_configs(
            args.bigbench_dir, args.out, args.tasks, args.group, log=lambda message: print(message, file=sys.stderr)
        )
    except BigBenchDataNotFound as error:
        raise ValueError(str(error)) from None
    n_tasks = sum(1 for p in written if p.name.startswith("mirage_bb_"))
    print(f"wrote {n_tasks} task configs to {args.out}")
    return 0
