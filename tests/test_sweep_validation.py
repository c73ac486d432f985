"""``mirage sweep`` checks task names, lm-eval arguments and model locations before any model starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import MIRAGE, run_cli
from mirage_metrics import sweep as sweep_module
from mirage_metrics.families import Family, Model, load_family_file
from mirage_metrics.preflight import (
    check_lm_eval_arguments,
    check_model_location,
    check_tasks,
    looks_like_folder,
)
from mirage_metrics.sweep import SweepOptions, lm_eval_command, sweep

TASK = "mirage_arith_2dm_gen"


def _checkpoint(folder: Path) -> Path:
    """A folder that passes the location check (lm-eval would still fail on it: it is never started here)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    return folder


# --------------------------------------------------------------------------- task names


@pytest.mark.parametrize("tasks", [TASK, "mirage_arith", "mirage_arith_2d*_gen", f"{TASK},mirage_arith_2dm_ll"])
def test_mirage_tasks_groups_and_patterns_pass(tasks):
    check_tasks(tasks)


@pytest.mark.parametrize(
    "tasks, unknown, suggestion",
    [("mirage_arth_2dm_gen", "'mirage_arth_2dm_gen'", "'mirage_arith_2dm_gen'"),
     (f"mirage_arith, {TASK}", f"' {TASK}'", f"'{TASK}'"),  # lm-eval would look for ' mirage_arith_2dm_gen'
     ("helaswag", "'helaswag'", "'hellaswag'"),  # lm-eval's own tasks are suggested too
     (f"{TASK},,mirage_arith", "''", None)],
)  # fmt: skip
def test_an_unknown_name_is_reported_with_what_was_probably_meant(tasks, unknown, suggestion):
    with pytest.raises(ValueError, match="is not an lm-eval task, group or tag") as error:
        check_tasks(tasks)
    message = str(error.value)
    assert message.startswith(f"tasks: {unknown} is not an lm-eval task") and "\n" not in message
    assert (f"did you mean {suggestion}" in message) if suggestion else "did you mean" not in message


def test_task_files_folders_and_an_include_path_are_found(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "my_task.yaml").write_text("task: my_task\ndataset_path: x\ndoc_to_text: q\ndoc_to_target: a\n")
    check_tasks("my_task", include_path=mine)
    check_tasks(str(mine / "my_task.yaml"))
    check_tasks(str(mine))
    with pytest.raises(ValueError, match="did you mean 'my_task'"):
        check_tasks("my_tsak", include_path=mine)
    with pytest.raises(ValueError, match="no task file matches"):
        check_tasks(str(mine / "other.yaml"))


@pytest.mark.slow
def test_names_that_only_lm_evals_full_index_can_settle_are_settled_by_it():
    check_tasks("hellaswag")  # an lm-eval task, not a mirage one
    with pytest.raises(ValueError, match="'arith' is not an lm-eval task.*did you mean .*'arithmetic'"):
        check_tasks("arith")  # written in lm-eval's task files, but not a name


# --------------------------------------------------------------------------- lm-eval arguments


def _check_arguments(tmp_path, extra_args: list[str], **options) -> None:
    sweep_options = SweepOptions(tasks=TASK, extra_args=extra_args, **options)
    command = lm_eval_command(Model("m", "/ckpt/m", "m"), sweep_options, tmp_path / "out", tmp_path)
    check_lm_eval_arguments(command[3:], extra_args)


@pytest.mark.parametrize("extra", [[], ["--gen_kwargs", "temperature=0"], ["--apply_chat_template"], ["--seed", "3"]])
def test_lm_eval_arguments_lm_eval_accepts_pass(tmp_path, extra):
    _check_arguments(tmp_path, extra, limit="5", model_args="dtype=float32")


@pytest.mark.parametrize(
    "extra, message",
    [(["--limt", "5"], "'--limt' is not an lm-eval option (did you mean '--limit'?)"),
     (["--gen-kwargs", "temperature=0"], "(did you mean '--gen_kwargs'?)"),
     (["stray"], "'stray' follows no lm-eval option"),
     (["--seed", "a,b"], "argument --seed: invalid"),
     (["--samples", '{"t": [0]}'], "If --samples is not None, then --limit must be None"),
     (["--fewshot_as_multiturn"], "`apply_chat_template` must be set"),
     (["-o", "elsewhere"], "'output_path' in '-o elsewhere': mirage sweep sets it for every model; use --out"),
     (["--tasks", "x"], "use --tasks"),
     (["-a", "trust_remote_code=True"], "use --model-args"),
     (["--config", "c.yaml"], "it writes lm-eval's --config itself")],
)  # fmt: skip
def test_lm_eval_arguments_lm_eval_would_refuse_or_the_sweep_owns_are_refused(tmp_path, extra, message):
    with pytest.raises(ValueError) as error:
        _check_arguments(tmp_path, extra, limit="5")
    assert message in str(error.value) and "\n" not in str(error.value)


# --------------------------------------------------------------------------- model locations


@pytest.mark.parametrize("location", ["/no/such/ckpt", "./ckpt", "../ckpt", "~/no-such-ckpt", "a/b/c", "my model"])
def test_a_missing_local_looking_path_is_a_missing_folder(tmp_path, monkeypatch, location):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"no such folder \(") as error:
        check_model_location(location)
    assert "Hub" not in str(error.value) and "params" not in str(error.value)


def test_an_owner_name_path_is_local_when_its_owner_is_a_folder_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert not looks_like_folder("checkpoints/tiny")
    (tmp_path / "checkpoints").mkdir()
    assert looks_like_folder("checkpoints/tiny") and not looks_like_folder("EleutherAI/pythia-70m")


def test_a_folder_without_config_json_is_refused(tmp_path):
    (tmp_path / "weights").mkdir()
    with pytest.raises(ValueError, match="the folder has no config.json"):
        check_model_location(str(tmp_path / "weights"))
    check_model_location(str(_checkpoint(tmp_path / "ckpt")))


def _cached(cache: Path, repo: str, revision: str) -> None:
    """The Hugging Face cache layout of a downloaded ``config.json``."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    (folder / "snapshots" / "abc123").mkdir(parents=True)
    (folder / "snapshots" / "abc123" / "config.json").write_text("{}")
    (folder / "refs").mkdir()
    (folder / "refs" / revision).write_text("abc123")


def test_offline_a_hub_id_must_be_in_the_cache(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    check_model_location("EleutherAI/pythia-70m")  # online: lm-eval will download it
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ValueError, match=r"not in the Hugging Face cache .* HF_HUB_OFFLINE is set") as error:
        check_model_location("EleutherAI/pythia-70m", revision="step1000")
    assert "on the login node: hf download EleutherAI/pythia-70m --revision step1000" in str(error.value)
    _cached(tmp_path / "hub", "EleutherAI/pythia-70m", "step1000")
    check_model_location("EleutherAI/pythia-70m", revision="step1000")
    with pytest.raises(ValueError, match="not in the Hugging Face cache"):
        check_model_location("EleutherAI/pythia-70m")  # main was never downloaded


@pytest.mark.parametrize("params", ["", ", params: 5"])
def test_a_family_file_path_to_a_missing_folder_says_so_whether_or_not_params_is_given(tmp_path, params):
    family_file = tmp_path / "fam.yaml"
    (tmp_path / "checkpoints").mkdir()
    family_file.write_text(f"name: f\nmodels:\n  - {{name: a, path: checkpoints/tiny-a{params}}}\n")
    with pytest.raises(ValueError, match=r"models\[0\]: path='checkpoints/tiny-a': no such folder") as error:
        load_family_file(family_file)
    assert str(tmp_path / "checkpoints" / "tiny-a") in str(error.value)
    assert "Hub did not answer" not in str(error.value) and "give 'params'" not in str(error.value)


# --------------------------------------------------------------------------- before anything runs


def test_sweep_checks_before_writing_or_running_anything(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(sweep_module, "_run_logged", lambda *args: ran.append(args) or 1)
    family = Family("f", (Model("a", str(_checkpoint(tmp_path / "a")), "a"), Model("b", str(tmp_path / "b"), "b")))
    cases = [(SweepOptions(tasks="mirage_arth"), "did you mean"),
             (SweepOptions(tasks=TASK, extra_args=["--limt", "1"]), "did you mean '--limit'"),
             (SweepOptions(tasks=TASK), f"model b: path='{tmp_path / 'b'}': no such folder")]  # fmt: skip
    for options, message in cases:
        with pytest.raises(ValueError, match=message):
            sweep(family, tmp_path / "runs", options, progress=False)
    assert not ran and not (tmp_path / "runs").exists()
    assert sweep(family, tmp_path / "runs", SweepOptions(tasks=TASK), sizes=["a"], progress=False)[0].status == "failed"
    assert len(ran) == 1  # the checks passed: lm-eval ran (here a stand-in that fails)


def test_a_typo_in_a_task_name_fails_in_the_cli_before_any_model_loads(tmp_path):
    family_file = tmp_path / "fam.yaml"
    models = [{"name": name, "path": str(_checkpoint(tmp_path / name)), "params": 5} for name in ("a", "b", "c")]
    family_file.write_text(json.dumps({"name": "f", "models": models}))  # JSON is YAML
    done = run_cli(
        [
            *MIRAGE,
            "sweep",
            "--family-file",
            family_file,
            "--tasks",
            "mirage_arith_2dm_gen,mirage_arith_2dn_ll",
            "--out",
            tmp_path / "runs",
        ],
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("mirage sweep: error: tasks: 'mirage_arith_2dn_ll' is not an lm-eval task")
    assert "did you mean 'mirage_arith_2dm_ll'" in done.stderr and done.stderr.count("\n") == 1
    assert not (tmp_path / "runs").exists()
