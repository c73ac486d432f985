"""``mirage sweep`` checks task names, lm-eval arguments and settings, and model locations before any model starts.

No test touches the network: an unreachable Hub is a closed local port, a reachable one a local HTTP server.
"""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest

from conftest import MIRAGE, run_cli
from mirage_metrics import sweep as sweep_module
from mirage_metrics.families import Family, Model, load_family_file
from mirage_metrics.preflight import (
    MAX_NUM_PROBLEMS,
    check_lm_eval_arguments,
    check_model_locations,
    check_run_arguments,
    check_tasks,
    looks_like_folder,
)
from mirage_metrics.sweep import SweepOptions, lm_eval_command, sweep

TASK = "mirage_arith_2dm_gen"
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens there: a Hub that does not answer, at once


def check_model_location(location: str, revision: str | None = None) -> None:
    check_model_locations({"model m": (location, revision)})


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


# --------------------------------------------------------------------------- run settings


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _has_vllm() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


@pytest.mark.parametrize(
    "options, extra, message",
    [({"limit": "-1"}, [], "--limit -1: must be a fraction"),
     ({"limit": "0"}, [], "--limit 0: must be a fraction"),
     ({"limit": "abc"}, [], "--limit abc: must be a fraction"),
     ({"limit": "1.5"}, [], "--limit 1.5: must be a fraction"),
     ({"limit": "nan"}, [], "--limit nan: must be a fraction"),
     ({"batch_size": "0"}, [], "--batch-size 0: must be a whole number from 1 up, auto, or auto:N"),
     ({"batch_size": "-1"}, [], "--batch-size -1: must be"),
     ({"batch_size": "abc"}, [], "--batch-size abc: must be"),
     ({"batch_size": "auto:0"}, [], "--batch-size auto:0: must be"),
     ({"num_fewshot": -1}, [], "--num_fewshot -1: must be a whole number from 0 up"),
     ({}, ["--max_batch_size", "0"], "--max_batch_size 0: must be a whole number from 1 up"),
     ({"metadata": '{"num_problems": 100000000}'}, [],
      f'--metadata {{"num_problems": 100000000}} would need about 150 GB of memory (about 1.5 KB per problem); '
      f"pass at most {MAX_NUM_PROBLEMS:,}"),
     ({"metadata": '{"num_problems": -5}'}, [], '--metadata {"num_problems": -5} must be a whole number from 1 to'),
     ({"metadata": "num_problems=-5"}, [], '--metadata {"num_problems": -5.0} must be a whole number'),
     ({"metadata": '{"num_problems": "lots"}'}, [], '--metadata {"num_problems": "lots"} must be a whole number'),
     ({"metadata": '{"num_problems": true}'}, [], '--metadata {"num_problems": true} must be a whole number'),
     ({"metadata": '{"num_problems": 1.5}'}, [], '--metadata {"num_problems": 1.5} must be a whole number'),
     ({"metadata": '{"seed": -1}'}, [], '--metadata {"seed": -1} must be a whole number from 0 up'),
     ({"metadata": '{"seed": false}'}, [], '--metadata {"seed": false} must be a whole number from 0 up'),
     ({"metadata": '{"num_problem": 100}'}, [],
      "--metadata key 'num_problem' is read by none of the mirage tasks mirage_arith_2dm_gen "
      "(did you mean 'num_problems'?)"),
     ({"metadata": "bigbench_dir=/x"}, [], "'bigbench_dir' is read by none of the mirage tasks mirage_arith_2dm_gen "
      "(only mirage_bb_* and mirage_bigbench* tasks read it)"),
     pytest.param({"device": "cuda"}, [], "--device cuda but CUDA is not available here",
                  marks=pytest.mark.skipif(_has_cuda(), reason="CUDA is available")),
     ({"device": "gpu"}, [], "--device gpu is not a torch device"),
     pytest.param({"backend": "vllm"}, [], "--backend vllm: the package 'vllm' is not installed here",
                  marks=pytest.mark.skipif(_has_vllm(), reason="vllm is installed"))],
)  # fmt: skip
def test_settings_lm_eval_would_take_and_fail_on_later_are_refused_naming_the_flag(tmp_path, options, extra, message):
    with pytest.raises(ValueError) as error:
        _check_arguments(tmp_path, extra, **options)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    "options",
    [{"limit": "0.5"}, {"limit": "10"}, {"limit": "1e2"}, {"batch_size": "auto"}, {"batch_size": "auto:4"},
     {"batch_size": "8"}, {"num_fewshot": 0}, {"device": "cpu"},
     {"metadata": '{"num_problems": 1000000, "seed": 0}'}, {"metadata": "num_problems=10,seed=7,version=2"}],
)  # fmt: skip
def test_valid_settings_pass(tmp_path, options):
    _check_arguments(tmp_path, [], **options)


def test_an_unknown_metadata_key_is_only_a_warning_when_another_task_may_read_it(tmp_path, caplog):
    options = SweepOptions(tasks=f"{TASK},ruler", metadata='{"max_seq_lengths": [4096], "num_problems": 10}')
    command = lm_eval_command(Model("m", "/ckpt/m", "m"), options, tmp_path / "out", tmp_path)
    check_lm_eval_arguments(command[3:], [])
    assert "--metadata key 'max_seq_lengths' is read by none of the mirage tasks" in caplog.text
    with pytest.raises(ValueError, match='"num_problems": 0'):  # a mirage task's key is still checked
        check_run_arguments(["--model", "hf", "--tasks", f"{TASK},ruler", "--metadata", "num_problems=0"])


def test_the_problem_set_itself_refuses_what_the_preflight_refuses():
    from tasks.arith.utils import build_dataset

    with pytest.raises(ValueError, match="would need about 150 GB of memory"):
        build_dataset("2dm", num_problems=10**8)


def test_mirage_eval_checks_its_lm_eval_arguments_the_same_way(hub):
    base = ["--model", "hf", "--tasks", TASK]
    with pytest.raises(ValueError, match="^--batch_size 0: must be"):
        check_run_arguments([*base, "--batch_size", "0", "--model_args", "pretrained=/ckpt/none"])
    with pytest.raises(ValueError, match="^--model vlm: not an lm-eval model type \\(did you mean 'vllm'\\?\\)"):
        check_run_arguments(["--model", "vlm", "--tasks", TASK])
    with pytest.raises(ValueError, match=r"--model_args pretrained \(EleutherAI/pythia-70m\)"):
        check_run_arguments(["--tasks", TASK, "--model_args", "pretrained=EleutherAI/pythia-70m"])  # hf by default


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


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty Hugging Face cache in tmp_path; the Hub unreachable (a closed port) and not offline."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", CLOSED_PORT)
    return constants


@pytest.fixture
def answering_hub(hub, monkeypatch):
    """``hub`` with an endpoint that answers (404 to everything), on this machine."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(hub, "ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    yield hub
    server.shutdown()
    server.server_close()


def test_online_a_hub_id_passes_when_the_hub_answers(answering_hub):
    check_model_location("EleutherAI/pythia-70m")  # lm-eval will download it


def test_an_unreachable_hub_names_every_missing_model_at_once(tmp_path, hub):
    models = {f"model {name}": (f"EleutherAI/pythia-{name}", None) for name in ("70m", "160m", "410m")}
    _cached(tmp_path / "hub", "EleutherAI/pythia-160m", "main")
    models["model local"] = (str(tmp_path / "missing"), None)
    with pytest.raises(ValueError) as error:
        check_model_locations(models)
    message = str(error.value)
    assert f"the Hub ({CLOSED_PORT}) does not answer" in message and "\n" not in message
    assert "model 70m (EleutherAI/pythia-70m)" in message and "model 410m (EleutherAI/pythia-410m)" in message
    assert "model 160m" not in message  # in the cache: lm-eval loads it without the Hub
    assert "model local: path=" in message and "no such folder" in message
    assert "hf download EleutherAI/pythia-70m; hf download EleutherAI/pythia-410m" in message


def test_offline_every_missing_hub_id_is_named_at_once(hub, monkeypatch):
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    with pytest.raises(
        ValueError, match="HF_HUB_OFFLINE is set: model a \\(gpt2\\), model b \\(EleutherAI/pythia-70m\\)"
    ):
        check_model_locations({"model a": ("gpt2", None), "model b": ("EleutherAI/pythia-70m", None)})


def test_offline_a_hub_id_must_be_in_the_cache(tmp_path, hub, monkeypatch):
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    with pytest.raises(ValueError, match=r"not in the Hugging Face cache .* HF_HUB_OFFLINE is set") as error:
        check_model_location("EleutherAI/pythia-70m", revision="step1000")
    assert "on the login node: hf download EleutherAI/pythia-70m --revision step1000" in str(error.value)
    _cached(tmp_path / "hub", "EleutherAI/pythia-70m", "step1000")
    check_model_location("EleutherAI/pythia-70m", revision="step1000")
    with pytest.raises(ValueError, match="not in the Hugging Face cache"):
        check_model_location("EleutherAI/pythia-70m")  # main was never downloaded


def test_a_family_file_without_params_says_the_hub_does_not_answer_instead_of_a_traceback(tmp_path, hub):
    family_file = tmp_path / "fam.yaml"
    family_file.write_text("name: f\nmodels:\n  - {name: a, path: EleutherAI/pythia-70m}\n")
    with pytest.raises(ValueError, match=rf"models\[0\]: .*the Hub \({CLOSED_PORT}\) did not answer; give 'params'"):
        load_family_file(family_file)


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
    assert (
        sweep(family, tmp_path / "runs", SweepOptions(tasks=TASK), sizes=["a"], progress=False, isolate=True)[0].status
        == "failed"
    )
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
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("mirage sweep: error: tasks: 'mirage_arith_2dn_ll' is not an lm-eval task")
    assert "did you mean 'mirage_arith_2dm_ll'" in done.stderr and done.stderr.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_a_cuda_device_beyond_the_machines_count_is_refused(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    _check_arguments(tmp_path, [], device="cuda:1")
    with pytest.raises(ValueError, match=r"^--device cuda:2 but this machine has 2 CUDA devices \(cuda:0 to cuda:1\)"):
        _check_arguments(tmp_path, [], device="cuda:2")
