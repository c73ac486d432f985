"""``mirage tasks-path``: print the folder of lm-eval task configs."""

from __future__ import annotations

from mirage_metrics.paths import tasks_path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "tasks-path",
        help="print the folder of mirage lm-eval tasks (for lm_eval --include_path)",
        description='Usage: lm_eval --include_path "$(mirage tasks-path)" --tasks mirage_arith ...',
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    print(tasks_path())
    return 0
