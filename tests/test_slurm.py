"""``mirage sweep`` in a Slurm job array: ``--shard auto`` from SLURM_ARRAY_* (ids from 0 or 1, stepped), the
default inside an array, and the shipped sbatch template."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import MIRAGE, REPO_ROOT, offline_env, run_cli
from mirage_metrics.families import get_family
from mirage_metrics.sharding import parse_shard, shard_items, slurm_array_shard

PYTHIA_8 = "70m,160m,410m,1b,1.4b,2.8b,6.9b,12b"


def _array(task: int, low: int, high: int, count: int) -> dict[str, str]:
    """The variables sbatch --array sets in one task."""
    values = {"ID": task, "MIN": low, "MAX": high, "COUNT": count}
    return {f"SLURM_ARRAY_TASK_{key}": str(value) for key, value in values.items()}


@pytest.mark.parametrize("low", [0, 1, 5])
def test_an_8_task_array_runs_one_pythia_model_per_task_whatever_its_first_id(low):
    models = get_family("pythia").select(PYTHIA_8.split(","))
    ran = []
    for task in range(low, low + 8):
        shard = parse_shard("auto", _array(task, low, low + 7, 8))
        ran.append([m.size for m in shard_items(models, *shard)])
    assert ran == [[size] for size in PYTHIA_8.split(",")]


@given(low=st.integers(0, 1000), step=st.integers(1, 5), count=st.integers(1, 12), n_models=st.integers(1, 30))
def test_the_tasks_of_any_evenly_spaced_array_split_the_models_exactly_once(low, step, count, n_models):
    high = low + step * (count - 1)
    models = list(range(n_models))
    shards = [slurm_array_shard(_array(task, low, high, count)) for task in range(low, high + 1, step)]
    assert sorted(shards) == [(i, count) for i in range(1, count + 1)]
    assert sorted(m for shard in shards for m in shard_items(models, *shard)) == models


@pytest.mark.parametrize(
    "environ, message",
    [(_array(2, 1, 7, 3), "evenly spaced"),  # --array=1,2,7: ids 1, 4, 7 would be evenly spaced
     (_array(9, 0, 7, 8), "evenly spaced"),
     (_array(3, 3, 3, 2), "evenly spaced"),
     ({"SLURM_ARRAY_TASK_ID": "3"}, "incomplete or not integers"),
     ({**_array(3, 0, 7, 8), "SLURM_ARRAY_TASK_COUNT": "eight"}, "incomplete or not integers")],
)  # fmt: skip
def test_arrays_that_cannot_be_numbered_are_refused(environ, message):
    with pytest.raises(ValueError, match=message):
        slurm_array_shard(environ)


def test_auto_outside_an_array_says_what_to_pass_instead(monkeypatch):
    for name in list(_array(0, 0, 0, 1)):
        monkeypatch.delenv(name, raising=False)
    assert slurm_array_shard({}) is None
    with pytest.raises(ValueError, match=r"SLURM_ARRAY_TASK_ID is not set; pass --shard i/n outside one"):
        parse_shard("auto")  # reads os.environ
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "1")
    monkeypatch.setenv("SLURM_ARRAY_TASK_MIN", "1")
    monkeypatch.setenv("SLURM_ARRAY_TASK_MAX", "2")
    monkeypatch.setenv("SLURM_ARRAY_TASK_COUNT", "2")
    assert parse_shard("auto") == (1, 2)


@pytest.mark.parametrize(
    "shard_flag, expected", [([], (3, 8)), (["--shard", "auto"], (3, 8)), (["--shard", "1/1"], (1, 1))]
)
def test_inside_an_array_the_cli_shards_by_default_and_says_so(tmp_path, monkeypatch, capsys, shard_flag, expected):
    from mirage_metrics import sweep as sweep_module
    from mirage_metrics.cli import main

    for name, value in _array(12, 10, 17, 8).items():
        monkeypatch.setenv(name, value)
    planned = []
    monkeypatch.setattr(
        sweep_module, "sweep", lambda family, out, options, sizes, shard, force, isolate: planned.append(shard) or []
    )
    args = ["sweep", "--family", "pythia", "--sizes", PYTHIA_8, "--tasks", "mirage_arith", "--out", str(tmp_path)]
    assert main([*args, *shard_flag]) == 0
    assert planned == [expected]
    announced = "sweep pythia: shard 3/8 from Slurm array task 12 (--shard auto)"
    assert (announced in capsys.readouterr().out) == (expected != (1, 1))


def test_a_slurm_task_stops_before_any_model_runs_when_its_weights_were_not_downloaded(tmp_path):
    """Task 3 of --array=0-7 on a compute node (HF_HUB_OFFLINE=1) with an empty cache: its model is the 4th."""
    env = offline_env(HF_HOME=str(tmp_path / "hf"), **_array(3, 0, 7, 8))
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        env.pop(name, None)
    done = run_cli(
        [
            *MIRAGE,
            "sweep",
            "--family",
            "pythia",
            "--sizes",
            PYTHIA_8,
            "--tasks",
            "mirage_arith_2dm_gen",
            "--out",
            tmp_path / "runs",
        ],
        env=env,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "shard 4/8 from Slurm array task 3" in done.stdout
    assert done.stderr.startswith("mirage sweep: error: not in the Hugging Face cache")
    assert "EleutherAI/pythia-1b" in done.stderr
    assert "hf download EleutherAI/pythia-1b" in done.stderr and done.stderr.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_the_sbatch_template_is_a_valid_script_that_runs_the_documented_sweep():
    template = REPO_ROOT / "examples" / "slurm" / "sweep.sbatch"
    text = template.read_text()
    assert subprocess.run(["bash", "-n", str(template)], check=False).returncode == 0
    directives = [line for line in text.splitlines() if line.startswith("#SBATCH")]
    assert "#SBATCH --array=0-7" in directives and "#SBATCH --gres=gpu:1" in directives
    assert "export HF_HUB_OFFLINE=1" in text and PYTHIA_8 in text and "--shard" not in text.split("mirage sweep")[-1]
    assert "mirage sweep" in text and "--dependency=afterok" in text and "mirage report" in text
