"""pyproject.toml: the lm_eval.tasks entry point names the installed task folder; the lm-eval floor."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from mirage_metrics.paths import tasks_path

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]


def test_lm_eval_tasks_entry_point_is_the_task_folder():
    (value,) = PROJECT["entry-points"]["lm_eval.tasks"].values()
    module = importlib.import_module(value)
    assert Path(module.__file__).parent == tasks_path()
    assert (tasks_path() / "arith" / "mirage_arith.yaml").is_file()


def test_lm_eval_floor_and_spdx_license():
    # 0.4.12 is the first release that gives each key of a dict-returning metric hook the hook's own aggregation
    # (prefix_metrics -> nanmean); lm_eval._cli.HarnessCLI, used by `mirage eval`, exists from 0.4.10.
    assert "lm-eval>=0.4.12" in PROJECT["dependencies"]
    assert PROJECT["license"] == "Apache-2.0"
