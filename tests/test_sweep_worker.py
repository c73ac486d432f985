"""The sweep's lm-eval worker process: the CLI's own outputs, a crash or kill failing one model only, no orphan."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import MIRAGE, offline_env
from mirage_metrics.demo_family import SHIPPED_DIR
from mirage_metrics.families import Family, Model
from mirage_metrics.sweep import SweepOptions, lm_eval_command, sweep
from mirage_metrics.sweep_worker import _MARK, Worker

TASKS = "mirage_arith_4da_gen,mirage_arith_4da_ll"
SMALL, LARGER = (str(SHIPPED_DIR / name) for name in ("toy-1x8", "toy-2x24"))
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; death signals are Linux's")


class _Output:
    """A worker's stdout that hands out ``chunks`` one read at a time."""

    def __init__(self, chunks: list[bytes]):
        self.chunks = chunks

    def read1(self, size: int) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""


def test_the_end_mark_is_found_when_cut_between_reads_and_kept_out_of_the_log(tmp_path):
    worker = Worker([])
    worker._token = "abc"
    stream = b"lm-eval says hi\n" + _MARK + b"abc 3\0"
    for cut in range(1, len(stream)):
        worker._process = type("P", (), {"stdout": _Output([stream[:cut], stream[cut:]])})()
        log = io.BytesIO()
        assert worker._copy_output(log, echo=False) == 3
        assert log.getvalue() == b"lm-eval says hi\n"
    worker._process = type("P", (), {"stdout": _Output([b"partial ", _MARK[:5]])})()  # died mid-command
    log = io.BytesIO()
    assert worker._copy_output(log, echo=False) is None and log.getvalue() == b"partial " + _MARK[:5]


def test_a_failing_command_is_logged_and_the_next_one_gets_a_fresh_worker(tmp_path):
    worker = Worker([])
    try:
        command = [sys.executable, "-m", "lm_eval", "--model", "hf", "--no_such_flag"]
        assert worker.run(command, tmp_path / "first.log", echo=False) == 2
        assert "unrecognized arguments: --no_such_flag" in (tmp_path / "first.log").read_text()
        first = worker._process
        assert first is None  # ended after the failure
        assert worker.run(command, tmp_path / "second.log", echo=False) == 2
    finally:
        worker.close()
    with pytest.raises(ValueError, match="not a `python -m lm_eval` command line"):
        worker.run([sys.executable, "-c", "pass"], tmp_path / "x.log", echo=False)


def _samples(folder: Path) -> dict[str, list[dict]]:
    return {
        path.name.rsplit("_", 1)[0]: [json.loads(line) for line in path.read_text().splitlines()]
        for path in sorted(folder.glob("samples_*.jsonl"))
    }


@pytest.mark.slow
def test_worker_outputs_equal_a_plain_lm_eval_run_and_a_crashing_model_fails_alone(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "gpt2", "n_embd": 8, "n_layer": 1, "n_head": 1}')
    family = Family("toy", (Model("broken", str(broken), "broken"), Model("small", SMALL, "small"),
                            Model("larger", LARGER, "larger")))  # fmt: skip
    options = SweepOptions(tasks=TASKS, device="cpu", limit="6", batch_size="8", echo=False)
    outcomes = sweep(family, tmp_path / "runs", options, progress=False, check=False)
    assert [o.status for o in outcomes] == ["failed", "done", "done"], [o.message for o in outcomes]
    assert outcomes[0].message.startswith("lm_eval exited with code 1")
    assert "Traceback" in (tmp_path / "runs" / "toy" / "broken.failed.log").read_text()
    folder = tmp_path / "runs" / "toy" / "larger"  # the worker's second model: its task index was cached
    assert "Selected Tasks" in (folder / "lm_eval.log").read_text()

    plain = tmp_path / "plain"
    command = lm_eval_command(family.models[2], options, plain, tmp_path)
    done = subprocess.run(command, env=offline_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (written,) = plain.iterdir()
    # Samples lines hold no time or path: they are equal whole (the file names differ by their date).
    assert _samples(folder) == _samples(written) and len(_samples(folder)) == 2
    ours, theirs = (json.loads(next(f.glob("results_*.json")).read_text()) for f in (folder, written))
    timing = {"date", "total_evaluation_time_seconds"}  # when the run was and how long it took
    assert set(ours) == set(theirs) and {key for key in ours if ours[key] != theirs[key]} <= timing


def _children(pid: int) -> list[int]:
    children = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"\nPPid:\t{pid}\n" in status.read_text():
                children.append(int(status.parent.name))
        except OSError:
            continue
    return children


def _worker_of(sweep_pid: int) -> int | None:
    for child in _children(sweep_pid):
        try:
            if b"mirage_metrics.sweep_worker" in Path(f"/proc/{child}/cmdline").read_bytes():
                return child
        except OSError:
            continue
    return None


def _wait_for(condition, process: subprocess.Popen, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert process.poll() is None, f"the sweep ended (code {process.returncode}) first"
        assert time.monotonic() < deadline, "timed out waiting for the sweep"
        time.sleep(0.1)
    return value


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")  # a zombie has ended
    except (OSError, IndexError):
        return True


def _start_sweep(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    family_file = tmp_path / "fam.yaml"
    family_file.write_text(f"name: toy\nmodels:\n  - {{name: small, path: '{SMALL}'}}\n"
                           f"  - {{name: larger, path: '{LARGER}'}}\n")  # fmt: skip
    out = tmp_path / "runs"
    command = [*MIRAGE, "sweep", "--family-file", str(family_file), "--tasks", TASKS, "--out", str(out),
               "--limit", "4", "--device", "cpu", "--quiet"]  # fmt: skip
    process = subprocess.Popen(command, env=offline_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, start_new_session=True)  # fmt: skip
    return process, out / "toy"


@pytest.mark.slow
@linux_only
def test_a_killed_worker_fails_its_model_and_the_next_model_runs_in_a_fresh_one(tmp_path):
    process, family_dir = _start_sweep(tmp_path)
    try:
        worker = _wait_for(lambda: _worker_of(process.pid), process)
        _wait_for(lambda: list(family_dir.glob(".small.tmp-*/lm_eval.log")), process)
        os.kill(worker, signal.SIGKILL)  # still importing lm-eval or evaluating: mid-model either way
        stdout, _ = process.communicate(timeout=600)
    finally:
        os.killpg(process.pid, signal.SIGKILL) if process.poll() is None else None
    assert process.returncode == 1, stdout
    assert "1 done, 0 skipped, 1 failed" in stdout and "FAILED small: lm_eval was killed by signal 9" in stdout
    assert sorted(p.name for p in family_dir.iterdir()) == ["larger", "small.failed.log"]
    assert (family_dir / "larger" / "model.json").is_file()


@pytest.mark.slow
@linux_only
def test_a_killed_sweep_takes_its_worker_along_and_leaves_no_model_folder(tmp_path):
    process, family_dir = _start_sweep(tmp_path)
    try:
        worker = _wait_for(lambda: _worker_of(process.pid), process)
        _wait_for(lambda: list(family_dir.glob(".small.tmp-*/lm_eval.log")), process)
        process.send_signal(signal.SIGKILL)  # the sweep alone: its worker must die with it
        process.wait()
        deadline = time.monotonic() + 30
        while not _gone(worker):
            assert time.monotonic() < deadline, f"the worker {worker} outlived its sweep"
            time.sleep(0.1)
    finally:
        os.killpg(process.pid, signal.SIGKILL) if process.poll() is None else None
    assert not [p.name for p in family_dir.iterdir() if not p.name.startswith(".")]  # only the stale work folder
