"""``mirage eval <lm_eval arguments>``: lm-evaluation-harness with the mirage tasks already included.

Every argument goes to lm-eval's own command line (``lm_eval run``; also ``ls`` and
``validate``). The package's task folder is added to the task search path before
the user's own ``--include_path``, which therefore wins on name clashes.

>>> include_paths(None) == [str(tasks_path())]
True
>>> include_paths("my_tasks")[-1]
'my_tasks'
"""

from __future__ import annotations

import sys

from mirage_metrics.paths import tasks_path

LM_EVAL_COMMANDS = ("run", "ls", "validate")

INTRO = """\
usage: mirage eval [run|ls|validate] LM_EVAL_ARGUMENTS...

`mirage eval` is `lm_eval` (run is implied; also ls and validate) with one addition: the mirage
task folder (`mirage tasks-path`) comes first on --include_path, so the mirage_* tasks need no flag;
your own --include_path still works and wins on name clashes. Before lm-eval starts, its settings
(--limit, --batch_size, --num_fewshot, --device, --model, --metadata) and the model are checked as in
`mirage sweep`. Example:
  mirage eval --model hf --model_args pretrained=EleutherAI/pythia-160m --tasks mirage_arith --log_samples --output_path out

lm-eval's own options follow.
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="run lm-eval (lm_eval's own arguments) with the mirage tasks included",
        add_help=False,  # `mirage eval --help` prints INTRO, then lm-eval's own help
    )
    parser.set_defaults(func=run, accepts_extra_args=True)


def include_paths(user_include_path: str | None) -> list[str]:
    """The task search path: the mirage tasks first, then the user's folder (later entries win on clashes)."""
    return [str(tasks_path())] + ([user_include_path] if user_include_path else [])


def lm_eval_argv(extra_args: list[str]) -> list[str]:
    """lm-eval's command line for ``mirage eval`` arguments: ``run`` is implied as in ``lm_eval`` itself.

    >>> lm_eval_argv(["--tasks", "mirage_arith"])
    ['run', '--tasks', 'mirage_arith']
    >>> lm_eval_argv(["ls", "tasks"])
    ['ls', 'tasks']
    """
    if extra_args and extra_args[0] in LM_EVAL_COMMANDS:
        return list(extra_args)
    return ["run", *extra_args]


def run(args) -> int:
    from lm_eval._cli import HarnessCLI
    from lm_eval.utils import setup_logging

    from mirage_metrics.preflight import check_run_arguments

    argv = lm_eval_argv(args.extra_args)
    if {"-h", "--help"} & set(args.extra_args):
        print(INTRO, flush=True)
    elif argv[0] == "run":
        check_run_arguments(argv[1:])  # settings lm-eval would fail on only after loading the model
    setup_logging()
    cli = HarnessCLI()
    saved_argv = sys.argv
    sys.argv = ["lm-eval", *argv]
    try:
        namespace = cli.parse_args()
    finally:
        sys.argv = saved_argv
    if hasattr(namespace, "include_path"):
        namespace.include_path = include_paths(namespace.include_path)
    cli.execute(namespace)
    return 0
