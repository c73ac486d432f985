"""``mirage sweep``: lm-eval command lines, sharding, failures, and a real resumable run (killed, then finished)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import MIRAGE, offline_env
from mirage_metrics import sweep as sweep_module
from mirage_metrics.families import Family, Model, get_family
from mirage_metrics.paths import tasks_path
from mirage_metrics.results import read_aggregates, read_results
from mirage_metrics.sharding import parse_shard, shard_items
from mirage_metrics.sweep import SweepOptions, lm_eval_command, sweep

TASK = "mirage_arith_2dm_gen"
LIMIT = 2


def _mirage(*args: str) -> list[str]:
    return [*MIRAGE, *args]


def test_lm_eval_command_logs_samples_into_the_work_folder_with_the_task_folder(tmp_path):
    model = Model("m", "/ckpt/m", "m", revision="step1000")
    options = SweepOptions(tasks=TASK, device="cpu", limit="5", model_args="dtype=float32", num_fewshot=2,
                           extra_args=["--gen_kwargs", "temperature=0"])  # fmt: skip
    command = lm_eval_command(model, options, tmp_path / "work", tmp_path)
    assert command[:3] == [sys.executable, "-m", "lm_eval"]
    flags = {flag: command[command.index(flag) + 1] for flag in command if flag.startswith("--")}
    assert flags["--model_args"] == "pretrained=/ckpt/m,revision=step1000,dtype=float32"
    assert flags["--include_path"] == str(tasks_path())
    assert (flags["--output_path"], flags["--limit"], flags["--num_fewshot"]) == (str(tmp_path / "work"), "5", "2")
    assert (flags["--device"], flags["--tasks"]) == ("cpu", TASK)
    assert "--log_samples" in command and command[-2:] == ["--gen_kwargs", "temperature=0"]


def test_a_user_include_path_is_added_beside_the_task_folder(tmp_path):
    (tmp_path / "mine").mkdir()
    options = SweepOptions(tasks="my_task", include_path=str(tmp_path / "mine"), backend="vllm")
    command = lm_eval_command(Model("m", "m", "m"), options, tmp_path / "w", tmp_path)
    assert "--include_path" not in command and command[command.index("--model") + 1] == "vllm"
    config = json.loads(Path(command[command.index("--config") + 1]).read_text())
    assert config == {"include_path": [str(tasks_path()), str((tmp_path / "mine").resolve())]}


@pytest.mark.parametrize(
    "kwargs, message",
    [({"tasks": ""}, "tasks is empty"), ({"tasks": "t", "backend": "tgi"}, "backend='tgi'"),
     ({"tasks": "t", "include_path": "/no/such"}, "include_path='/no/such' is not a folder")],
)  # fmt: skip
def test_options_are_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SweepOptions(**kwargs)


def test_shards_partition_the_family():
    models = get_family("pythia").models
    shards = [shard_items(models, i, 3) for i in (1, 2, 3)]
    assert sorted((m for shard in shards for m in shard), key=models.index) == list(models)
    assert [len(shard) for shard in shards] == [4, 3, 3]
    for bad in ("0/2", "3/2", "1", "a/b"):
        with pytest.raises(ValueError, match="must be i/n"):
            parse_shard(bad)


def _family_file(tmp_path, models: dict[str, str]) -> Path:
    lines = ["name: tiny", "models:"] + [f"  - {{name: {name}, path: '{path}'}}" for name, path in models.items()]
    family_file = tmp_path / "fam.yaml"
    family_file.write_text("\n".join(lines) + "\n")
    return family_file


@pytest.mark.slow
def test_a_failing_model_is_reported_and_leaves_no_model_folder(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "gpt2", "n_embd": 8, "n_layer": 1, "n_head": 1}')
    family_file = tmp_path / "fam.yaml"
    family_file.write_text(f"name: tiny\nmodels:\n  - {{name: broken, path: '{broken}', params: 100}}\n")
    out = tmp_path / "runs"
    done = subprocess.run(
        _mirage("sweep", "--family-file", str(family_file), "--tasks", TASK, "--out", str(out), "--limit", "1", "--quiet"),
        capture_output=True, text=True, env=offline_env(), timeout=600,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "0 done, 0 skipped, 1 failed" in done.stdout
    assert "FAILED broken: lm_eval exited with code" in done.stdout
    assert sorted(p.name for p in (out / "tiny").iterdir()) == ["broken.failed.log"]
    assert "Traceback" in (out / "tiny" / "broken.failed.log").read_text()


def _wait_for(condition, process, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"sweep ended (code {process.returncode}) before the condition held")
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the sweep")
        time.sleep(0.2)


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().decode(errors="replace"):
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue  # the process ended meanwhile
    return pids


def _wait_until_gone(text: str, timeout: float = 120) -> None:
    """No process whose command line holds ``text`` is left (an orphaned lm-eval would be)."""
    deadline = time.monotonic() + timeout
    while _processes_mentioning(text):
        assert time.monotonic() < deadline, f"processes still running: {_processes_mentioning(text)}"
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; the child's death signal is Linux's")
def test_sweep_killed_during_second_model_resumes_and_completes(tiny_gpt2_pair, tmp_path):
    family_file = _family_file(tmp_path, {"tiny-a": tiny_gpt2_pair[0], "tiny-b": tiny_gpt2_pair[1]})
    out = tmp_path / "runs"
    family_dir = out / "tiny"
    # One lm-eval process per model: a warm worker can finish tiny-b before the kill (see test_sweep_worker.py).
    command = _mirage("sweep", "--family-file", str(family_file), "--tasks", TASK, "--out", str(out),
                      "--limit", str(LIMIT), "--device", "cpu", "--quiet", "--isolate")  # fmt: skip

    first = subprocess.Popen(command, env=offline_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)  # fmt: skip
    try:
        _wait_for(lambda: (family_dir / "tiny-a").is_dir() and any(family_dir.glob(".tiny-b.tmp-*/lm_eval.log")), first)
        time.sleep(1.0)  # let lm-eval get going on the second model
        first.send_signal(signal.SIGKILL)  # only the sweep: its lm-eval child must die with it
        first.wait()
        _wait_until_gone(str(family_dir / ".tiny-b.tmp-"))
    finally:
        os.killpg(first.pid, signal.SIGKILL) if first.poll() is None else None
    assert sorted(p.name for p in family_dir.iterdir() if not p.name.startswith(".")) == ["tiny-a"]

    resumed = subprocess.run(command, env=offline_env(), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "1 done, 1 skipped, 0 failed" in resumed.stdout
    assert "skipped  tiny-a" in resumed.stdout and "done  tiny-b" in resumed.stdout
    assert sorted(p.name for p in family_dir.iterdir()) == ["tiny-a", "tiny-b"]  # the stale work folder is gone

    for name, checkpoint in (("tiny-a", tiny_gpt2_pair[0]), ("tiny-b", tiny_gpt2_pair[1])):
        folder = family_dir / name
        info = json.loads((folder / "model.json").read_text())
        assert (info["family"], info["model"], info["path"]) == ("tiny", name, str(checkpoint))
        results = json.loads(next(folder.glob("results_*.json")).read_text())
        assert results["config"]["model_num_parameters"] == info["params"]  # lm-eval counted the same
        samples = next(folder.glob(f"samples_{TASK}_*.jsonl")).read_text().splitlines()
        assert {json.loads(line)["doc_id"] for line in samples} == set(range(LIMIT))  # a line per doc and filter

    frame = read_results(out)
    exact = frame[(frame.metric == "exact_match") & frame.length.isna()]
    assert sorted(exact.groupby("model", observed=True).size().items()) == [("tiny-a", LIMIT), ("tiny-b", LIMIT)]
    sample = json.loads(next((family_dir / "tiny-b").glob("samples_*.jsonl")).read_text().splitlines()[0])
    row = frame[(frame.model == "tiny-b") & (frame.metric == "token_edit_distance") & frame.length.isna()
                & (frame.sample_id == sample["doc_id"])]  # fmt: skip
    assert row.value.tolist() == [sample["token_edit_distance"]]
    aggregates = read_aggregates(out)
    assert set(aggregates.model) == {"tiny-a", "tiny-b"} and "exact_match" in set(aggregates.metric)

    rerun = subprocess.run(command, env=offline_env(), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0 and "0 done, 2 skipped, 0 failed" in rerun.stdout


def _fake_lm_eval(calls: list, write: bool = True):
    """Stands in for the lm-eval subprocess: writes its output layout (results JSON, no tasks) when ``write``."""

    def run(command, log_path, echo):
        output = Path(command[command.index("--output_path") + 1])
        calls.append(output)
        log_path.write_text("lm-eval log\n")
        if write:
            (output / "__ckpt__m").mkdir(parents=True)
            (output / "__ckpt__m" / "results_2026-01-01T00-00-00.json").write_text('{"results": {}, "n-samples": {}}')
        return 0

    return run


def test_under_a_multi_process_launch_only_rank_0_writes_the_model_folder(tmp_path, monkeypatch):
    family = Family("f", (Model("m", "/ckpt/m", "m", params=5),))
    out = tmp_path / "out"
    calls = []
    monkeypatch.setattr(sweep_module, "_run_logged", _fake_lm_eval(calls))
    monkeypatch.setenv("RANK", "1")
    follower = sweep(family, out, SweepOptions(tasks="t"), progress=False, check=False, isolate=True)
    assert follower[0].status == "done" and not (out / "f" / "m").exists()
    assert out not in calls[0].parents  # its lm-eval wrote into a scratch folder
    monkeypatch.setenv("RANK", "0")
    leader = sweep(family, out, SweepOptions(tasks="t"), progress=False, check=False, isolate=True)
    assert leader[0].status == "done"
    assert sorted(p.name for p in (out / "f" / "m").iterdir()) == [
        "lm_eval.log", "model.json", "results_2026-01-01T00-00-00.json",
    ]  # fmt: skip
    assert json.loads((out / "f" / "m" / "model.json").read_text())["params"] == 5


def test_lm_eval_that_exits_cleanly_without_results_counts_as_failed(tmp_path, monkeypatch):
    family = Family("f", (Model("m", "/ckpt/m", "m", params=5),))
    monkeypatch.setattr(sweep_module, "_run_logged", _fake_lm_eval([], write=False))
    outcome = sweep(family, tmp_path, SweepOptions(tasks="t"), progress=False, check=False, isolate=True)[0]
    assert outcome.status == "failed" and "wrote 0 results files" in outcome.message
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == ["m.failed.log"]


@pytest.mark.parametrize(
    "args, message",
    [(["--family", "pythia", "--sizes", "70m,7b"], "'7b' is not in family 'pythia'"),
     (["--family", "llama"], "--family 'llama' is not built in"),
     (["--family", "gpt2", "--shard", "5/4"], "--shard '5/4' must be i/n")],
)  # fmt: skip
def test_cli_rejects_bad_arguments_before_running_anything(tmp_path, capsys, args, message):
    from mirage_metrics.cli import main

    assert main(["sweep", *args, "--tasks", TASK, "--out", str(tmp_path / "runs")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("mirage sweep: error: ") and message in error
    assert not (tmp_path / "runs").exists()
