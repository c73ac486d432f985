"""The ``mirage`` command line: one module per command, each with ``register(subparsers)``.

A command module defines ``register(subparsers)``, which adds its sub-parser and
sets ``func`` (a callable taking the parsed ``argparse.Namespace`` and returning
an exit code) with ``parser.set_defaults(func=...)``. A ``ValueError`` that ``func``
lets through becomes one line on stderr in the command line's words
(:func:`user_message`) and exit status 2; an ``OSError`` (disk full, no permission)
becomes one line ``<strerror>: <path>`` and exit status 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from mirage_metrics import __version__

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


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like every other ``mirage`` error (no usage block); exit 2.

    Sub-parsers inherit the class, so every ``mirage`` command reports a bad flag value the same way.
    """

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="mirage",
        description=(
            "Measure the same model outputs under discontinuous and continuous metrics, "
            "across model sizes (Schaeffer, Miranda & Koyejo 2023)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"mirage_metrics.cli.{name}").register(subparsers)
    _remember_parsers(parser)
    return parser


def _remember_parsers(parser: argparse.ArgumentParser) -> None:
    """Each (sub-)command's parser as the default ``command_parser``; a nested command's parser wins."""
    for action in parser._actions:  # argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                subparser.set_defaults(command_parser=subparser)
                _remember_parsers(subparser)


_PATH_REPR = re.compile(r"\b(?:Posix|Windows|Pure\w*)?Path\(('[^']*'|\"[^\"]*\")\)")


def user_message(error: Exception | str, parser: argparse.ArgumentParser) -> str:
    """An error's text in the command line's words: a parameter's ``name=`` becomes its flag, a path prints plainly.

    >>> parser = argparse.ArgumentParser(prog="mirage report")
    >>> _ = parser.add_argument("--holdout-largest", type=int)
    >>> user_message(ValueError("holdout_largest=9 leaves 1 model"), parser)
    '--holdout-largest 9 leaves 1 model'
    >>> from pathlib import PosixPath
    >>> user_message(f"source {PosixPath('runs/x')!r} does not exist", parser)
    "source 'runs/x' does not exist"
    """
    text = _PATH_REPR.sub(r"\1", str(error))
    for action in parser._actions:
        flags = [flag for flag in action.option_strings if flag.startswith("--")]
        if flags:
            text = re.sub(rf"(?<![\w-]){re.escape(action.dest)}=", f"{flags[0]} ", text)
    return text


#: Seconds between progress-bar redraws when stderr is a log file, not a terminal.
LOG_PROGRESS_INTERVAL = 30


def quiet_progress_in_logs() -> None:
    """Progress bars (tqdm, here and in lm-eval children) redraw every 30 s when stderr is not a terminal.

    tqdm (4.66+) takes ``TQDM_<ARGUMENT>`` environment variables as defaults when it
    is imported; an explicit ``TQDM_MININTERVAL`` is kept.
    """
    if not sys.stderr.isatty():
        os.environ.setdefault("TQDM_MININTERVAL", str(LOG_PROGRESS_INTERVAL))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        parser.print_help()
        return 0
    if extra and not getattr(args, "accepts_extra_args", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "accepts_extra_args", False):
        args.extra_args = extra
    quiet_progress_in_logs()
    try:
        return int(args.func(args) or 0)
    except ValueError as error:
        command_parser = args.command_parser
        print(f"{command_parser.prog}: error: {user_message(error, command_parser)}", file=sys.stderr)
        return 2
    except OSError as error:  # disk full, file too large, no permission, name too long, ...
        print(f"{args.command_parser.prog}: error: {os_error_message(error)}", file=sys.stderr)
        return 1


def os_error_message(error: OSError) -> str:
    """``<strerror>: <path>`` of an OSError, on one line.

    >>> os_error_message(OSError(28, "No space left on device", "out/metrics.csv"))
    'No space left on device: out/metrics.csv'
    >>> os_error_message(OSError(18, "Invalid cross-device link", "a", None, "b"))
    'Invalid cross-device link: a -> b'
    >>> os_error_message(ConnectionResetError("peer went away"))
    'peer went away'
    """
    text = error.strerror or str(error)
    for separator, name in ((": ", error.filename), (" -> ", error.filename2)):
        if name is not None:
            text += separator + (os.fsdecode(name) if isinstance(name, bytes) else str(name))
    return " ".join(text.split())
