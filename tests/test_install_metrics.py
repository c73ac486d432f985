"""`mirage install-metrics`: afterwards `evaluate.load("mirage/<name>")` works offline, in a fresh HF_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MIRAGE, offline_env, run_cli
from mirage_metrics.paths import evaluate_module_names

LOAD_ALL = """\
import json, evaluate
token_edit = evaluate.load("mirage/token_edit")
result = token_edit.compute(predictions=["4201", "41", ""], references=["4211", "42", "7"], return_per_sample=True)
names = [evaluate.load(f"mirage/{{name}}").name for name in {names!r}]
print(json.dumps({{"result": result, "names": names}}))
"""


def _env(hf_home: Path) -> dict:
    env = offline_env(HF_HOME=str(hf_home))
    env.pop("HF_MODULES_CACHE", None)
    return env


def _load_all(hf_home: Path, cwd: Path) -> subprocess.CompletedProcess:
    code = LOAD_ALL.format(names=evaluate_module_names())
    return run_cli([sys.executable, "-c", code], cwd=cwd, env=_env(hf_home), check=False)


@pytest.mark.slow
def test_evaluate_load_by_hub_name_works_after_install_metrics(tmp_path):
    hf_home = tmp_path / "hf home"
    before = _load_all(hf_home, tmp_path)
    assert before.returncode != 0  # evaluate's own error: nothing on the Hub, nothing cached

    # A stale copy of token_edit already in the cache (an earlier install or download): the install must be newer.
    stale = hf_home / "modules" / "evaluate_modules" / "metrics" / "mirage--token_edit" / ("0" * 64)
    stale.mkdir(parents=True)
    (stale / "__init__.py").touch()
    (stale / "token_edit.py").write_text("raise RuntimeError('stale copy loaded')\n")
    os.utime(stale / "token_edit.py", (1e9, 1e9))

    done = run_cli([*MIRAGE, "install-metrics"], env=_env(hf_home))
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == [f"mirage/{n}" for n in evaluate_module_names()]

    after = _load_all(hf_home, tmp_path)
    assert after.returncode == 0, after.stderr[-3000:]
    loaded = json.loads(after.stdout.strip().splitlines()[-1])
    assert loaded["result"] == {"token_edit_distance": 1.0, "token_edit_distance_per_sample": [1, 1, 1]}
    assert loaded["names"] == evaluate_module_names()


def test_the_help_lists_the_bundled_modules_that_are_present(monkeypatch, capsys):
    import mirage_metrics.paths
    from mirage_metrics.cli import main

    monkeypatch.setattr(mirage_metrics.paths, "evaluate_module_names", lambda: ["alpha_metric", "beta_metric"])
    with pytest.raises(SystemExit):
        main(["install-metrics", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "(alpha_metric, beta_metric)" in help_text
