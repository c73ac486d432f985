"""The ``mirage`` command line: one module per command, each with ``register(subparsers)``.

A command module defines ``register(subparsers)``, which adds its sub-parser and
sets ``func`` (a callable taking the parsed ``argparse.Namespace`` and returning
an exit code) with ``parser.set_defaults(func=...)``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Order is the order of `mirage --help`.
COMMAND_MODULES = [
    "tasks_path",
    "eval",
    "install_metrics",
    "families",
    "sweep",
    "report",
    "simulate",
    "bigbench_tasks",
    "meta_analysis",
    "vision",
    "demo",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mirage",
        description=(
            "Measure the same model outputs under discontinuous and continuous metrics, "
            "across model sizes (Schaeffer, Miranda & Koyejo 2023)."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"mirage_metrics.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if extra and not getattr(args, "accepts_extra_args", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "accepts_extra_args", False):
        args.extra_args = extra
    return int(args.func(args) or 0)
