"""The non-editable wheel: built from the working tree, installed into a folder, run by lm_eval from elsewhere."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import LM_EVAL, offline_env, run_cli


@pytest.mark.slow
def test_wheel_runs_the_arith_task_with_lm_eval_outside_the_repo(built_wheel, tmp_path):
    wheel, build_log = built_wheel
    # No setuptools warning about our own pyproject.toml (license table, package data folders).
    assert "BuildBackendWarning" not in build_log and "DeprecationWarning" not in build_log, build_log[-5000:]
    target = tmp_path / "target"
    env = offline_env(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    run_cli([sys.executable, "-m", "pip", "install", "--no-deps", "--target", target, wheel], cwd=tmp_path, env=env)

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env["PYTHONPATH"] = str(target)
    tasks = Path(run_cli([target / "bin" / "mirage", "tasks-path"], cwd=outside, env=env).stdout.strip())
    assert tasks.is_relative_to(target), tasks
    assert (tasks / "arith" / "mirage_arith_2dm_gen.yaml").is_file() and (tasks / "arith" / "_gen.yaml").is_file()

    out = outside / "out"
    run_cli(
        [
            *LM_EVAL,
            "--tasks",
            "mirage_arith_2dm_gen",
            "--include_path",
            tasks,
            "--model",
            "dummy",
            "--limit",
            "2",
            "--output_path",
            out,
        ],
        cwd=outside,
        env=env,
    )
    (results,) = out.rglob("results_*.json")
    assert '"exact_match_L4,none"' in results.read_text()
