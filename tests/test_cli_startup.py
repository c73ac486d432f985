"""`mirage --help` stays fast: building the parser imports no heavy library, and lists every command.

Command modules keep ``register()`` to argparse and defaults read from light modules
(``mirage_metrics.simulate``, ``mirage_metrics.meta.defaults``, ``mirage_metrics.preflight``,
``mirage_metrics.vision.defaults``) and import torch, pandas, matplotlib, lm_eval, ...
inside the functions that run a command. These are checks of what gets imported, not
timings.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from conftest import MIRAGE, run_cli
from mirage_metrics.cli import COMMAND_MODULES

HEAVY = ("torch", "matplotlib", "pandas", "lm_eval", "evaluate", "transformers")


def _python(code: str) -> str:
    return run_cli([sys.executable, "-c", code]).stdout


def _loaded_heavy(code: str) -> list[str]:
    """The HEAVY top-level packages in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    out = _python(
        code
        + f"\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    return json.loads(out.strip().splitlines()[-1])


def _command_names() -> list[str]:
    """The sub-command name each module of COMMAND_MODULES registers, in order."""
    names = []
    for module in COMMAND_MODULES:
        subparsers = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"mirage_metrics.cli.{module}").register(subparsers)
        names.extend(subparsers.choices)
    return names


def test_import_package_is_light():
    assert _loaded_heavy("import mirage_metrics") == []


def test_build_parser_is_light():
    assert _loaded_heavy("import mirage_metrics.cli\nmirage_metrics.cli.build_parser()") == []


def test_command_help_is_light():
    # `mirage eval --help` is lm-eval's own help (every argument goes to lm-eval), so it loads lm_eval.
    commands = [[name, "--help"] for name in _command_names() if name != "eval"]
    commands += [["vision", "autoencoder", "--help"], ["vision", "omniglot", "--help"]]
    code = (
        "import contextlib, io\n"
        "from mirage_metrics.cli import main\n"
        f"for argv in {commands!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "        try:\n"
        "            main(argv)\n"
        "        except SystemExit as exit:\n"
        "            assert exit.code == 0, (argv, exit.code)\n"
        "    assert 'usage: mirage' in out.getvalue(), argv\n"
    )
    assert _loaded_heavy(code) == []


def test_help_lists_every_command():
    names = _command_names()
    assert len(names) == len(COMMAND_MODULES)
    done = run_cli([*MIRAGE, "--help"])
    listed = [line.split()[0] for line in done.stdout.splitlines() if line.startswith("    ") and line.split()]
    for name in names:
        assert name in listed, f"{name} missing from `mirage --help`:\n{done.stdout}"
