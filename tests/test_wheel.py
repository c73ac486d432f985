"""The non-editable wheel: built from the working tree, installed into a folder, run by lm_eval from elsewhere."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO_ROOT, offline_env

BIN = Path(sys.executable).parent


def working_tree_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    return [name for name in listed if (REPO_ROOT / name).is_file()]


def run(command: list[str], cwd: Path, env: dict) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return done.stdout


def test_wheel_runs_the_arith_task_with_lm_eval_outside_the_repo(tmp_path):
    source = tmp_path / "source"
    for name in working_tree_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, source / name)
    env = offline_env(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    built = run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "-w",
                 str(tmp_path / "dist"), str(source)], cwd=tmp_path, env=env)
    # No setuptools warning about our own pyproject.toml (license table, package data folders).
    assert "BuildBackendWarning" not in built and "DeprecationWarning" not in built, built[-5000:]
    (wheel,) = (tmp_path / "dist").glob("mirage_metrics-*.whl")
    target = tmp_path / "target"
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)], cwd=tmp_path, env=env)

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env["PYTHONPATH"] = str(target)
    tasks = Path(run([str(target / "bin" / "mirage"), "tasks-path"], cwd=outside, env=env).strip())
    assert tasks.is_relative_to(target), tasks
    assert (tasks / "arith" / "mirage_arith_2dm_gen.yaml").is_file() and (tasks / "arith" / "_gen.yaml").is_file()

    out = outside / "out"
    run([str(BIN / "lm_eval"), "--tasks", "mirage_arith_2dm_gen", "--include_path", str(tasks), "--model", "dummy",
         "--limit", "2", "--output_path", str(out)], cwd=outside, env=env)
    (results,) = out.rglob("results_*.json")
    assert '"exact_match_L4,none"' in results.read_text()
