"""The command line behaves like one: --version, exit status 2 for unknown options, errors in the user's words."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path, PosixPath

import pytest

from conftest import offline_env
from mirage_metrics import __version__
from mirage_metrics.cli import build_parser, main, user_message


def _command_parsers(parser: argparse.ArgumentParser):
    """Every (sub-)command's parser, nested ones included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                yield subparser
                yield from _command_parsers(subparser)


def test_version_and_unknown_top_level_options(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.strip() == f"mirage {__version__}"

    with pytest.raises(SystemExit) as exit:
        main(["--holdout-largest=2"])
    assert exit.value.code == 2
    assert "mirage: error: unrecognized arguments: --holdout-largest=2" in capsys.readouterr().err

    assert main([]) == 0  # bare `mirage` shows the help
    assert "usage: mirage" in capsys.readouterr().out


def test_every_parameter_name_in_an_error_becomes_its_flag_and_paths_print_plainly():
    parsers = list(_command_parsers(build_parser()))
    assert {p.prog for p in parsers} >= {"mirage report", "mirage sweep", "mirage vision omniglot"}
    for parser in parsers:
        for action in parser._actions:
            flag = next((f for f in action.option_strings if f.startswith("--")), None)
            if flag and flag != "--help":
                error = ValueError(f"{action.dest}=3 is not allowed; {action.dest}s are fine")
                assert user_message(error, parser) == f"{flag} 3 is not allowed; {action.dest}s are fine"
    report = next(p for p in parsers if p.prog == "mirage report")
    error = ValueError(f"holdout_largest=2 leaves 1 model(s) under {[PosixPath('runs/a b'), Path('/x')]!r}")
    assert user_message(error, report) == "--holdout-largest 2 leaves 1 model(s) under ['runs/a b', '/x']"


def test_a_library_error_is_one_line_naming_the_flag(tmp_path, capsys):
    assert main(["bigbench-tasks", "--bigbench-dir", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mirage bigbench-tasks: error: --bigbench-dir '{tmp_path}' holds no BIG-bench JSON tasks")
    assert "bigbench_dir" not in err and "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("layout", ["benchmark_tasks", "bigbench/benchmark_tasks"])
def test_meta_analysis_on_bigbench_tasks_without_results_says_so(tmp_path, capsys, layout):
    task = tmp_path / layout / "arithmetic"
    task.mkdir(parents=True)
    (task / "task.json").write_text('{"examples": []}')
    assert main(["meta-analysis", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "holds BIG-bench tasks (<task>/task.json) but no results/scores_*.json" in err
    assert not re.search(r"Path\(", err)


def test_vision_help_shows_the_studies_own_defaults():
    from mirage_metrics.vision.study import AutoencoderConfig, OmniglotConfig

    parsers = {p.prog: p for p in _command_parsers(build_parser())}
    for prog, config in (
        ("mirage vision autoencoder", AutoencoderConfig()),
        ("mirage vision omniglot", OmniglotConfig()),
    ):
        parser = parsers[prog]
        help_text = " ".join(parser.format_help().split())
        for action in parser._actions:
            if hasattr(config, action.dest) and action.default is not None and action.dest != "data":
                assert action.default == getattr(config, action.dest) or (
                    list(action.default) == list(getattr(config, action.dest))
                ), (prog, action.dest)
        assert f"training epochs per size (default {config.epochs})" in help_text
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    assert f"default is {OmniglotConfig().epochs} epochs" in readme


def test_progress_bars_redraw_rarely_when_stderr_is_a_log_file(tmp_path):
    code = (
        "from mirage_metrics.cli import LOG_PROGRESS_INTERVAL, main\n"
        "assert main(['tasks-path']) == 0\n"
        "from tqdm.auto import tqdm\n"
        "print(tqdm(range(3)).mininterval == LOG_PROGRESS_INTERVAL)\n"
    )
    env = offline_env()
    env.pop("TQDM_MININTERVAL", None)
    with open(tmp_path / "log", "w") as log:
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=log, text=True, timeout=600
        )
    assert done.returncode == 0, (tmp_path / "log").read_text()[-3000:]
    assert done.stdout.splitlines()[-1] == "True"
