"""``mirage demo``: train the offline demo family, sweep it with lm-eval and write the report.

The command parses its flags and calls :func:`mirage_metrics.demo.run_demo`, which
says what lands under ``--out``.
"""

from __future__ import annotations

from pathlib import Path

EPILOG = """\
examples:
  mirage demo                         # evaluates the 8 shipped sizes and 5 earlier steps of the largest (minutes
                                      # on a CPU), seconds when cached
  mirage demo --retrain               # trains the 8 sizes from scratch first (the recipe that made them)
  mirage demo --quick --out /tmp/demo # 2 sizes, fewer steps and problems: a smoke test
  mirage demo --device cuda           # evaluate on a GPU (with --retrain, train there too)"""


def register(subparsers) -> None:
    import argparse

    parser = subparsers.add_parser(
        "demo",
        help="offline end-to-end demo: train tiny GPT-2s on arithmetic, sweep them with lm-eval, report",
        description=(
            "Train (or reuse) a ladder of tiny GPT-2 models on the mirage_arith prompts, evaluate every size "
            "with `mirage sweep` (lm-eval's hf backend) and analyse them with `mirage report`; the largest size's "
            "checkpoints part way through its training are evaluated too and reported against the training step "
            "(report-steps/, `mirage report --x step`)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=Path("demo"), help="output folder (default: demo/)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default: CUDA when available)")
    parser.add_argument("--quick", action="store_true", help="2 sizes, fewer training steps and test problems")
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="train every size from scratch instead of using the checkpoints that ship with the package "
        "(or cached ones in --out); the recipe is seeded, so on the same device it reproduces them",
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="test problems per task (default: 500, or 50 with --quick)"
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=None,
        help="bootstrap resamples per confidence interval in the report (default: 1000, 200 quick)",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from mirage_metrics.demo import run_demo

    page = run_demo(
        args.out, device=args.device, quick=args.quick, retrain=args.retrain, limit=args.limit, bootstrap=args.bootstrap
    )
    return 0 if page is not None else 1
