"""Run lm-eval on every model of a family, one folder per model, resumable and crash-safe.

Each model runs in its own ``python -m lm_eval`` subprocess (crashes and memory stay
per model; lm-eval writes its own output files exactly as its CLI does) into a
hidden temporary folder beside the target, ``<out>/<family>/.<model>.tmp-<pid>``.
Only when lm-eval has written its results JSON and every samples JSONL does the
folder get ``model.json`` and is renamed to ``<out>/<family>/<model>/``: a model
folder exists only when complete, so a sweep killed at any moment (even SIGKILL)
is finished by running the same command again. A failing model is reported (its
lm-eval log kept as ``<out>/<family>/<model>.failed.log``) and the sweep goes on.

Sweeps may share an ``--out`` (overlapping shards, a rerun while one still runs):
a model is worked on only under an exclusive lock (``fcntl.flock`` on
``.<model>.lock``); a model locked by another live sweep is reported ``busy`` and
left to it, and work folders are removed as stale only by the lock's holder.

Under ``accelerate launch`` (multi-GPU data parallel) every rank runs the same sweep:
each rank's lm-eval subprocess joins the launch's process group, and only rank 0
writes and renames the model folders.

>>> from mirage_metrics.families import get_family
>>> [m.name for m in shard_items(get_family("gpt2").models, 2, 2)]
['gpt2-medium', 'gpt2-xl']
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from mirage_metrics import preflight
from mirage_metrics.families import Family, Model
from mirage_metrics.paths import tasks_path
from mirage_metrics.results import MODEL_FILE
from mirage_metrics.sharding import shard_items

__all__ = [
    "SweepOptions",
    "ModelOutcome",
    "check_sweep",
    "lm_eval_command",
    "run_model",
    "sweep",
]


@dataclass
class SweepOptions:
    """What every lm-eval run of a sweep gets; ``extra_args`` go to ``lm_eval`` verbatim."""

    tasks: str
    backend: str = "hf"
    device: str | None = None
    batch_size: str | None = None
    limit: str | None = None
    model_args: str | None = None
    num_fewshot: int | None = None
    include_path: str | None = None
    metadata: str | None = None
    extra_args: list[str] = field(default_factory=list)
    echo: bool = True

    def __post_init__(self) -> None:
        if not self.tasks or not self.tasks.strip(","):
            raise ValueError("tasks is empty; pass lm-eval task names, e.g. --tasks mirage_arith_2dm_gen")
        if self.backend not in preflight.BACKENDS:
            raise ValueError(
                f"backend={self.backend!r} is not supported; choose one of {', '.join(preflight.BACKENDS)}"
            )
        if self.include_path is not None and not Path(self.include_path).is_dir():
            raise ValueError(f"include_path={self.include_path!r} is not a folder; pass a folder of task YAMLs")


@dataclass
class ModelOutcome:
    """What happened to one model: ``status`` is done, skipped, busy (another sweep holds it) or failed."""

    model: Model
    status: str
    folder: Path
    seconds: float = 0.0
    message: str = ""


def _model_args(model: Model, options: SweepOptions) -> str:
    parts = [f"pretrained={model.path}"]
    if model.revision:
        parts.append(f"revision={model.revision}")
    if options.model_args:
        parts.append(options.model_args)
    return ",".join(parts)


def _task_folder_args(options: SweepOptions, scratch: Path) -> list[str]:
    """``--include_path`` for the package's task folder; with a user ``include_path`` too, a
    ``--config`` file listing both (the lm-eval CLI takes one ``--include_path``, its config a list)."""
    if options.include_path is None:
        return ["--include_path", str(tasks_path())]
    config = scratch / "lm_eval_config.yaml"
    folders = [str(tasks_path()), str(Path(options.include_path).resolve())]
    config.write_text(json.dumps({"include_path": folders}), encoding="utf-8")  # JSON is YAML
    return ["--config", str(config)]


def lm_eval_command(model: Model, options: SweepOptions, output_path: Path, scratch: Path) -> list[str]:
    """The ``python -m lm_eval`` command line for one model (results and samples under ``output_path``).

    ``scratch`` is a folder that lives as long as the command runs (for a config file).
    """
    command = [
        sys.executable, "-m", "lm_eval",
        "--model", options.backend,
        "--model_args", _model_args(model, options),
        "--tasks", options.tasks,
        *_task_folder_args(options, scratch),
        "--output_path", str(output_path),
        "--log_samples",
    ]  # fmt: skip
    optional = {
        "--device": options.device,
        "--batch_size": options.batch_size,
        "--limit": options.limit,
        "--num_fewshot": options.num_fewshot,
        "--metadata": options.metadata,
    }
    for flag, value in optional.items():
        if value is not None:
            command += [flag, str(value)]
    return command + list(options.extra_args)


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the sweep dies, so no orphaned lm-eval keeps running (Linux)."""
    import ctypes
    import signal

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def _stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """End ``process`` if it still runs (SIGTERM, then SIGKILL after ``grace`` seconds) and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.stdout.close()


def _run_logged(command: list[str], log_path: Path, echo: bool) -> int:
    """Run ``command``, writing its output to ``log_path`` (and to stderr when ``echo``); its exit code.

    The child never outlives this call: whatever goes wrong here (the log's disk is
    full, Ctrl-C), it is stopped and waited for before the error goes on.
    """
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    env = dict(os.environ, TOKENIZERS_PARALLELISM="false")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, preexec_fn=preexec
        )
        try:
            for chunk in iter(lambda: process.stdout.read1(1 << 16), b""):
                log.write(chunk)
                if echo:
                    sys.stderr.buffer.write(chunk)
                    sys.stderr.flush()
            return process.wait()
        finally:
            _stop(process)


def _collect_outputs(work: Path) -> dict:
    """Move lm-eval's files from ``work/<model_name_sanitized>/`` into ``work``; the results JSON.

    Raises RuntimeError when the results JSON or a samples file is missing (lm-eval only
    warns when it cannot save).
    """
    results_files = sorted(work.glob("*/results_*.json"))
    if len(results_files) != 1:
        raise RuntimeError(f"lm-eval wrote {len(results_files)} results files (expected 1)")
    written = results_files[0].parent
    for item in written.iterdir():
        item.rename(work / item.name)
    written.rmdir()
    results_file = work / results_files[0].name
    results = json.loads(results_file.read_text(encoding="utf-8"))
    date = results_file.stem[len("results_") :]
    missing = [t for t in results.get("n-samples", {}) if not (work / f"samples_{t}_{date}.jsonl").is_file()]
    if missing:
        raise RuntimeError(f"lm-eval wrote no samples file for {', '.join(missing)}")
    return results


def _summary(results: dict) -> str:
    """The first metric of every task, e.g. ``mirage_arith_2dm_gen exact_match=0.031``."""
    parts = []
    for task, values in results.get("results", {}).items():
        for key, value in values.items():
            if type(value) in (int, float) and "_stderr" not in key and key not in ("sample_len",):
                parts.append(f"{task} {key.split(',')[0]}={value:.3g}")
                break
    return "; ".join(parts)


def _process_rank() -> int:
    """This process's rank under ``accelerate launch`` / torchrun (0 otherwise)."""
    return int(os.environ.get("RANK", "0"))


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _follow(model: Model, target: Path, options: SweepOptions) -> ModelOutcome:
    """A non-zero rank: run lm-eval to take part in the data-parallel run; rank 0 writes the outputs."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        command = lm_eval_command(model, options, Path(scratch) / "out", Path(scratch))
        code = _run_logged(command, Path(scratch) / "lm_eval.log", options.echo)
    status = "done" if code == 0 else "failed"
    return ModelOutcome(model, status, target, time.monotonic() - started, f"rank {_process_rank()}")


@contextlib.contextmanager
def _model_lock(family_dir: Path, name: str) -> Iterator[bool]:
    """Hold an exclusive lock on ``family_dir/.<name>.lock``: yields True, or False when another process holds it.

    The lock file is removed on release; a lock taken on a file that was removed
    meanwhile (by the previous holder) does not count, and is taken again.
    """
    path = family_dir / f".{name}.lock"
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                current = os.stat(path).st_ino == os.fstat(descriptor).st_ino
            except FileNotFoundError:
                current = False
            if current:
                try:
                    yield True
                finally:
                    path.unlink(missing_ok=True)  # while still locked: a waiter then sees a removed file
                return
        finally:
            os.close(descriptor)


def _remove_stale_work(family_dir: Path, name: str) -> None:
    """Remove ``.<name>.tmp-<pid>`` folders; only called under the model's lock, so their owners are gone."""
    prefix = f".{name}.tmp-"
    for entry in family_dir.iterdir():
        if entry.name.startswith(prefix) and entry.name[len(prefix) :].isdigit():
            shutil.rmtree(entry, ignore_errors=True)


def run_model(model: Model, family_name: str, out: Path, options: SweepOptions) -> ModelOutcome:
    """Evaluate one model into ``out/<family>/<model>/`` (skipped when that folder exists, busy when
    another sweep is running it)."""
    family_dir = Path(out) / family_name
    target = family_dir / model.name
    if _process_rank() != 0:
        return _follow(model, target, options)
    if target.is_dir():
        return ModelOutcome(model, "skipped", target)
    family_dir.mkdir(parents=True, exist_ok=True)
    with _model_lock(family_dir, model.name) as locked:
        if not locked:
            return ModelOutcome(model, "busy", target, message="another sweep is running it")
        if target.is_dir():  # finished by another sweep since this one planned
            return ModelOutcome(model, "skipped", target)
        _remove_stale_work(family_dir, model.name)
        return _evaluate(model, family_name, family_dir, options)


def _discard(work: Path, failed_log: Path) -> None:
    """Keep a failed run's lm-eval log as ``failed_log`` (when it can be kept) and remove its work folder."""
    with contextlib.suppress(OSError):
        if (work / "lm_eval.log").is_file():
            shutil.move(work / "lm_eval.log", failed_log)
    shutil.rmtree(work, ignore_errors=True)


def _evaluate(model: Model, family_name: str, family_dir: Path, options: SweepOptions) -> ModelOutcome:
    """Run lm-eval for one model in a work folder and rename it to the model folder when complete."""
    started = time.monotonic()
    target = family_dir / model.name
    work = family_dir / f".{model.name}.tmp-{os.getpid()}"
    work.mkdir()
    failed_log = family_dir / f"{model.name}.failed.log"
    try:
        with tempfile.TemporaryDirectory() as scratch:
            command = lm_eval_command(model, options, work, Path(scratch))
            code = _run_logged(command, work / "lm_eval.log", options.echo)
        if code != 0:
            raise RuntimeError(f"lm_eval exited with code {code}")
        results = _collect_outputs(work)
        info = {
            "family": family_name,
            "model": model.name,
            **{key: value for key, value in asdict(model).items() if key != "name"},
            "backend": options.backend,
            "tasks": options.tasks,
            "lm_eval_command": command,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        _write_json(work / MODEL_FILE, info)
        work.rename(target)
    except (RuntimeError, OSError, ValueError) as error:
        _discard(work, failed_log)
        message = f"{error}; lm-eval log: {failed_log}"
        return ModelOutcome(model, "failed", target, time.monotonic() - started, message)
    except BaseException:  # Ctrl-C, MemoryError, ...: no work folder is left behind
        _discard(work, failed_log)
        raise
    failed_log.unlink(missing_ok=True)
    return ModelOutcome(model, "done", target, time.monotonic() - started, _summary(results))


def _describe(outcome: ModelOutcome) -> str:
    params = f"{outcome.model.params:,} params" if outcome.model.params else "params unknown"
    head = f"{outcome.status:>7}  {outcome.model.name} ({params})"
    if outcome.status == "skipped":
        return f"{head}: complete folder exists, {outcome.folder}"
    if outcome.status == "busy":
        return f"{head}: {outcome.message}, {outcome.folder}"
    return f"{head} in {outcome.seconds:.0f} s: {outcome.message}"


def _check_writable(family_dir: Path, out: str | Path) -> None:
    """Create ``family_dir`` and a probe folder in it; a ValueError naming ``out`` when that fails."""
    try:
        family_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryDirectory(dir=family_dir, prefix=".write-probe-").cleanup()
    except OSError as error:
        raise ValueError(
            f"out={str(out)!r}: cannot write model folders into {family_dir} ({error.strerror or error}); "
            "pass a writable folder as --out"
        ) from None


def check_sweep(models: list[Model], options: SweepOptions) -> None:
    """Everything a sweep can check before lm-eval starts: lm-eval's arguments and settings (the first model's
    command line, parsed by lm-eval's own parser), the task names and every model's location; ValueError if not."""
    with tempfile.TemporaryDirectory() as scratch:
        command = lm_eval_command(models[0], options, Path(scratch) / "out", Path(scratch))
        preflight.check_lm_eval_arguments(command[3:], options.extra_args)
    preflight.check_tasks(options.tasks, options.include_path)
    preflight.check_model_locations({f"model {model.name}": (model.path, model.revision) for model in models})


def sweep(
    family: Family,
    out: str | Path,
    options: SweepOptions,
    *,
    sizes: list[str] | None = None,
    shard: tuple[int, int] = (1, 1),
    progress: bool = True,
    check: bool = True,
) -> list[ModelOutcome]:
    """Run ``options.tasks`` on the selected models of ``family``; one outcome per model, in order.

    Which models still need running is decided once, up front, so every rank of a
    multi-process launch agrees on the plan. Raises ValueError, before running
    anything or writing into ``out``, when no model is selected, when (``check``)
    :func:`check_sweep` finds a wrong task name, lm-eval argument or model location,
    or when ``out`` cannot hold the family's folder.
    """
    from tqdm.auto import tqdm

    selected = family.select(sizes)
    models = shard_items(selected, *shard)
    if not models:
        raise ValueError(
            f"shard={shard[0]}/{shard[1]} selects no model of family {family.name!r} ({len(selected)} models "
            f"selected, so at most {len(selected)} shards have work; a Slurm array needs at most {len(selected)} tasks)"
        )
    if check:
        check_sweep(models, options)
    leader = _process_rank() == 0
    if leader:
        _check_writable(Path(out) / family.name, out)
    outcomes = []
    bar = tqdm(models, desc=f"sweep {family.name}", unit="model", disable=not (progress and leader))
    pending = [not (Path(out) / family.name / model.name).is_dir() for model in models]
    for model, needed in zip(bar, pending):
        if needed:
            outcome = run_model(model, family.name, Path(out), options)
        else:
            outcome = ModelOutcome(model, "skipped", Path(out) / family.name / model.name)
        outcomes.append(outcome)
        if leader:
            bar.write(_describe(outcome))
    return outcomes
