"""Run lm-eval on every model of a family, one folder per model, resumable and crash-safe.

Each model's ``python -m lm_eval`` command line runs in one worker process per sweep
(:mod:`mirage_metrics.sweep_worker`: lm-eval's own command line in process, so its
output files are exactly the CLI's, with lm-eval imported and its task index built
once), or with ``isolate`` in a subprocess of its own, into a hidden temporary
folder beside the target, ``<out>/<family>/.<model>.tmp-<pid>``.
Only when lm-eval's outputs are verified whole (:func:`verify_model_folder`: a
results JSON, and for every task a samples JSONL with one complete line per
document and filter, as many as lm-eval's ``n-samples``) does the folder get
``model.json`` and take the place of ``<out>/<family>/<model>/`` in one rename: a
model folder is never seen half-written, so a sweep killed at any moment (even
SIGKILL) is finished by running the same command again. A failing model (lm-eval
failed, or its outputs are incomplete, e.g. on a full disk) is reported (its
lm-eval log kept as ``<out>/<family>/<model>.failed.log``) and the sweep goes on.

Resuming: ``model.json`` records the settings that decide the results
(:func:`run_settings`) and, per lm-eval run, the tasks it ran. A model is skipped
only when its folder holds whole results of every requested task under the same
settings; requested tasks it lacks (or whose files are damaged) are run and added
to the folder, keeping the others; a differing setting is an error before
anything runs, unless ``force`` reruns the model from scratch.

Sweeps may share an ``--out`` (overlapping shards, a rerun while one still runs):
a model is worked on only under an exclusive lock (``fcntl.flock`` on
``.<model>.lock``); a model locked by another live sweep is reported ``busy`` and
left to it, and work folders are removed as stale only by the lock's holder.

Under ``accelerate launch`` (multi-GPU data parallel) every rank runs the same sweep:
each rank's lm-eval subprocess joins the launch's process group, and only rank 0
writes and renames the model folders. Such sweeps, and vLLM's (whose engine does
not give its GPU memory back to a process that goes on), run one subprocess per
model, as ``isolate`` does.

>>> from mirage_metrics.families import get_family
>>> [m.name for m in shard_items(get_family("gpt2").models, 2, 2)]
['gpt2-medium', 'gpt2-xl']
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from mirage_metrics import preflight
from mirage_metrics.families import Family, Model
from mirage_metrics.paths import tasks_path
from mirage_metrics.results import MODEL_FILE, Run, load_json, load_results_file, read_samples_file
from mirage_metrics.sharding import shard_items

__all__ = [
    "SweepOptions",
    "ModelOutcome",
    "check_names",
    "check_sweep",
    "lm_eval_command",
    "requested_tasks",
    "run_model",
    "run_settings",
    "sweep",
    "verify_model_folder",
    "lm_eval_runner",
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
    folders = _task_folders(options)
    if len(folders) == 1:
        return ["--include_path", folders[0]]
    config = scratch / "lm_eval_config.yaml"
    config.write_text(json.dumps({"include_path": folders}), encoding="utf-8")  # JSON is YAML
    return ["--config", str(config)]


def _task_folders(options: SweepOptions) -> list[str]:
    """The task folders lm-eval gets besides its own: the package's, then the user's ``include_path``."""
    return [str(tasks_path())] + ([str(Path(options.include_path).resolve())] if options.include_path else [])


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


#: Runs one ``python -m lm_eval`` command line, its output to a log file (and stderr when asked); its exit code.
RunLmEval = Callable[[list[str], Path, bool], int]


@contextlib.contextmanager
def lm_eval_runner(options: SweepOptions, isolate: bool = False, start: bool = True) -> Iterator[RunLmEval]:
    """How a sweep runs lm-eval: in one worker process (started at once when ``start``, to get lm-eval going
    while the sweep checks its arguments; ended on leaving), or one subprocess per model when ``isolate``,
    under a multi-process launch or with the vLLM backend. Pass it as :func:`sweep`'s ``runner`` to sweep several
    families with the same task folders on one lm-eval start-up."""
    if isolate or options.backend == "vllm" or int(os.environ.get("WORLD_SIZE", "1")) > 1:
        yield _run_logged
        return
    from mirage_metrics.sweep_worker import Worker

    worker = Worker(_task_folders(options))
    try:
        if start:
            worker.start()
        yield worker.run
    finally:
        worker.close()


def _collect_outputs(work: Path) -> str:
    """Move lm-eval's files from ``work/<model_name_sanitized>/`` into ``work``; the run's date.

    Raises RuntimeError when there is not exactly one results file (lm-eval only warns when it cannot save).
    """
    results_files = sorted(work.glob("*/results_*.json"))
    if len(results_files) != 1:
        raise RuntimeError(f"lm-eval wrote {len(results_files)} results files (expected 1)")
    written = results_files[0].parent
    for item in written.iterdir():
        item.rename(work / item.name)
    written.rmdir()
    return results_files[0].stem[len("results_") :]


# --------------------------------------------------------------------------- what a model folder holds


def run_settings(model: Model, options: SweepOptions) -> dict:
    """The settings that decide a model's results, as ``model.json`` records them; a sweep adds tasks to a model
    folder only under equal settings. Device, batch size and task folders are not among them (lm-eval's
    ``--model_args`` and ``--metadata`` compare as mappings, key order aside)."""
    from importlib.metadata import version

    return {
        "backend": options.backend,
        "model_args": _as_mapping(_model_args(model, options)),
        "limit": options.limit,
        "num_fewshot": options.num_fewshot,
        "metadata": None if options.metadata is None else _as_mapping(options.metadata),
        "extra_args": list(options.extra_args),
        "lm_eval_version": version("lm_eval"),
    }


def _as_mapping(text: str) -> dict | str:
    """``key=value,...`` or a JSON object as lm-eval reads it; the text itself if it reads as neither."""
    from lm_eval._cli.utils import key_val_to_dict

    try:
        value = json.loads(text) if text.lstrip().startswith("{") else key_val_to_dict(text)
        json.dumps(value)
    except (ValueError, TypeError):
        return text
    return value if isinstance(value, dict) else text


#: How errors name the settings without a flag of their own (the others read ``name=``, which the CLI shows as
#: the flag).
_SETTING_NAMES = {"extra_args": "the arguments passed on to lm_eval", "lm_eval_version": "the lm-eval version"}


def requested_tasks(options: SweepOptions) -> list[str]:
    """The task names of ``options.tasks`` (as lm-eval splits them), each once, in order."""
    return list(dict.fromkeys(name for name in options.tasks.split(",") if name))


@dataclass
class _Contents:
    """A model folder as a resuming sweep sees it: its ``model.json``, the task names its whole runs cover,
    the dates of its damaged runs and what is wrong with each."""

    info: dict
    covered: set[str]
    damaged: dict[str, str]


def _ends_a_line(path: Path) -> bool:
    """Whether the file ``path`` is empty or ends with a newline (a file cut mid-line does not)."""
    with open(path, "rb") as handle:
        if handle.seek(0, os.SEEK_END) == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _run_problems(folder: Path, date: str, results: dict) -> list[str]:
    """What is missing or cut short among the samples files of the run ``date`` (one line each)."""
    run = Run("", "", 0, folder, date, results)
    problems = []
    for task in results["results"]:
        if run.is_group(task):
            continue
        path = run.samples_file(task)
        try:
            if not _ends_a_line(path):
                raise ValueError(f"{path}: the last line is cut short; the file is truncated")
            read_samples_file(path, run.expected_samples(task), run.filters(task))
        except FileNotFoundError:
            problems.append(f"{path}: missing (lm-eval wrote no samples of task {task!r})")
        except (ValueError, OSError) as error:
            problems.append(str(error))
    return problems


def _read_contents(folder: Path) -> _Contents:
    """What ``folder`` (a model folder with a ``model.json`` that records runs) holds; ValueError otherwise.

    Read again only when a file in it changed (name, inode, size or modification time): a resumed sweep plans,
    rechecks under the model's lock and merges, and parses each kept samples file once for the three."""
    with os.scandir(folder) as entries:
        stamp = tuple(sorted((e.name, e.inode(), e.stat().st_size, e.stat().st_mtime_ns) for e in entries))
    return _read_unchanged_contents(str(folder), stamp)


@functools.lru_cache(maxsize=16)
def _read_unchanged_contents(folder: str, stamp: tuple) -> _Contents:
    """:func:`_read_contents` of ``folder`` as it was when its files had the ``stamp``."""
    folder = Path(folder)
    model_file = folder / MODEL_FILE
    if not model_file.is_file():
        raise ValueError(f"{folder} holds files but no {MODEL_FILE}, so mirage sweep did not write it")
    info = load_json(model_file)
    runs = info.get("runs")
    if not isinstance(info.get("settings"), dict) or not isinstance(runs, list):
        raise ValueError(f"{model_file} records no settings (an older mirage sweep wrote it)")
    covered, damaged = set(), {}
    for run in runs:
        name = run.get("results") if isinstance(run, dict) else None
        names = run.get("tasks") if isinstance(run, dict) else None
        if not (isinstance(name, str) and name.startswith("results_") and name.endswith(".json") and "/" not in name):
            raise ValueError(f"{model_file}: a run without its 'results' file name; the file is damaged")
        date = name[len("results_") : -len(".json")]
        try:
            results = load_results_file(folder / name)
            problems = _run_problems(folder, date, results)
        except FileNotFoundError:
            results, problems = {}, [f"{folder / name}: missing"]
        except ValueError as error:
            results, problems = {}, [str(error)]
        if problems:
            damaged[date] = problems[0]
        else:
            covered.update(names if isinstance(names, list) else [], results["results"])
    return _Contents(info, covered, damaged)


def _setting_conflict(recorded: dict, settings: dict) -> str | None:
    """The first setting whose recorded value differs from ``settings``: its name and both values."""
    for key, value in settings.items():
        if recorded.get(key) != value:
            old, new = json.dumps(recorded.get(key)), json.dumps(value)
            if key in _SETTING_NAMES:
                return f"{_SETTING_NAMES[key]}: {old} in its {MODEL_FILE}, {new} now"
            return f"{key}={old} in its {MODEL_FILE} but {key}={new} now"
    return None


def verify_model_folder(folder: str | Path, tasks: list[str], settings: dict) -> list[str]:
    """What keeps ``folder`` from holding whole results of every task in ``tasks`` under ``settings``
    (:func:`run_settings`), one line each: a differing setting, a damaged or missing file, a task not run.
    Empty when the model is done."""
    folder = Path(folder)
    if not folder.is_dir():
        return [f"{folder} does not exist"]
    if not any(folder.iterdir()):
        return [f"{folder} is empty"]
    try:
        contents = _read_contents(folder)
    except ValueError as error:
        return [str(error)]
    conflict = _setting_conflict(contents.info["settings"], settings)
    missing = [task for task in tasks if task not in contents.covered]
    return (
        ([f"{folder}: {conflict}"] if conflict else [])
        + list(contents.damaged.values())
        + ([f"{folder}: no results of {', '.join(missing)}"] if missing else [])
    )


def _pending_tasks(model: Model, folder: Path, options: SweepOptions, force: bool) -> list[str]:
    """The requested tasks a sweep runs for ``model``: all of them in a new, empty or (``force``) any folder,
    else those whose whole results the folder lacks. ValueError when the folder's settings differ."""
    requested = requested_tasks(options)
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"model {model.name}: {folder} is a file, not a model folder; move it away or pass a new --out"
        )
    if force or not folder.is_dir() or not any(folder.iterdir()):
        return requested
    how = "pass a new --out, or --force to rerun the model from scratch (its other results are dropped)"
    try:
        contents = _read_contents(folder)
    except ValueError as error:
        raise ValueError(f"model {model.name}: {error}; move the folder away, {how}") from None
    conflict = _setting_conflict(contents.info["settings"], run_settings(model, options))
    if conflict:
        raise ValueError(f"model {model.name}: {folder}: {conflict}; rerun with the recorded settings, {how}")
    return [task for task in requested if task not in contents.covered]


# --------------------------------------------------------------------------- running one model


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


def _follow(model: Model, target: Path, options: SweepOptions, run_lm_eval: RunLmEval) -> ModelOutcome:
    """A non-zero rank: run lm-eval to take part in the data-parallel run; rank 0 writes the outputs."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        command = lm_eval_command(model, options, Path(scratch) / "out", Path(scratch))
        code = run_lm_eval(command, Path(scratch) / "lm_eval.log", options.echo)
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


#: The hidden folders a model's sweep works in: ``.<model>.tmp-<pid>`` (the new folder), ``.<model>.old-<pid>``.
_WORK_KINDS = ("tmp", "old")
#: What a failed model's lm-eval log is called beside the model folders: ``<model>.failed.log``.
_FAILED_LOG = ".failed.log"
#: Bytes a hidden work folder's name adds to the model name (``.`` + ``.tmp-`` + a pid of up to 7 digits).
_WORK_NAME_EXTRA = 13


def _remove_stale_work(family_dir: Path, name: str) -> None:
    """Remove ``.<name>.tmp-<pid>`` and ``.<name>.old-<pid>`` folders; only called under the model's lock,
    so their owners are gone."""
    for entry in family_dir.iterdir():
        for kind in _WORK_KINDS:
            prefix = f".{name}.{kind}-"
            if entry.name.startswith(prefix) and entry.name[len(prefix) :].isdigit():
                shutil.rmtree(entry, ignore_errors=True)


def run_model(model: Model, family_name: str, out: Path, options: SweepOptions, *, force: bool = False) -> ModelOutcome:
    """Evaluate one model into ``out/<family>/<model>/``: skipped when that folder holds whole results of every
    requested task under the same settings, the missing tasks added otherwise (every task with ``force``),
    busy when another sweep is running it. ValueError when the folder's settings differ (without ``force``)."""
    family_dir = Path(out) / family_name
    tasks = _pending_tasks(model, family_dir / model.name, options, force)
    return _run_planned(model, family_dir, options, tasks, force, _run_logged)


def _run_planned(
    model: Model, family_dir: Path, options: SweepOptions, tasks: list[str], force: bool, run_lm_eval: RunLmEval
) -> ModelOutcome:
    """Run ``tasks`` for ``model`` (planned by :func:`_pending_tasks`; none: skipped), rechecked under the lock."""
    target = family_dir / model.name
    if not tasks:
        return ModelOutcome(model, "skipped", target)
    if _process_rank() != 0:
        return _follow(model, target, replace(options, tasks=",".join(tasks)), run_lm_eval)
    family_dir.mkdir(parents=True, exist_ok=True)
    with _model_lock(family_dir, model.name) as locked:
        if not locked:
            return ModelOutcome(model, "busy", target, message="another sweep is running it")
        if not force:  # another sweep may have added tasks since this one planned
            try:
                tasks = _pending_tasks(model, target, replace(options, tasks=",".join(tasks)), force)
            except ValueError as error:
                return ModelOutcome(model, "failed", target, message=str(error))
            if not tasks:
                return ModelOutcome(model, "skipped", target)
        _remove_stale_work(family_dir, model.name)
        return _evaluate(model, family_dir, replace(options, tasks=",".join(tasks)), not force, run_lm_eval)


def _discard(work: Path, failed_log: Path) -> None:
    """Keep a failed run's lm-eval log as ``failed_log`` (when it can be kept) and remove its work folder."""
    with contextlib.suppress(OSError):
        if (work / "lm_eval.log").is_file():
            shutil.move(work / "lm_eval.log", failed_log)
    shutil.rmtree(work, ignore_errors=True)


def _save_errors(log: Path) -> str:
    """lm-eval's reasons for not saving its outputs (it logs them and exits 0), e.g. ``OSError(27, 'File too
    large')``, as `` (lm-eval: ...)``; empty when the log names none."""
    with contextlib.suppress(OSError):
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        reasons = [after.strip() for line, after in zip(lines, lines[1:]) if "Could not save" in line]
        reasons = list(dict.fromkeys(reason.rsplit("] ", 1)[-1] for reason in reasons))
        return f" (lm-eval: {'; '.join(reasons)})" if reasons else ""
    return ""


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _merge_kept(target: Path, work: Path) -> list[dict]:
    """Bring ``target``'s files into ``work`` (linked), except ``model.json`` and the damaged runs' files;
    its ``lm_eval.log`` goes before the new run's. The runs kept, as ``model.json`` records them."""
    contents = _read_contents(target)
    dropped = {f"results_{date}.json" for date in contents.damaged}
    dropped |= {path.name for date in contents.damaged for path in target.glob(f"samples_*_{date}.jsonl")}
    for item in target.iterdir():
        if item.name in (MODEL_FILE, "lm_eval.log") or item.name in dropped:
            continue
        if item.is_dir():
            shutil.copytree(item, work / item.name, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(str(item), str(work / item.name))
    if (target / "lm_eval.log").is_file():
        new_log = (work / "lm_eval.log").read_bytes()
        shutil.copyfile(target / "lm_eval.log", work / "lm_eval.log")
        with open(work / "lm_eval.log", "ab") as log:
            log.write(new_log)
    return [run for run in contents.info["runs"] if run["results"] not in dropped]


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where that is not available."""
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0:
        return True
    error = ctypes.get_errno()
    if error in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not on this system or filesystem
        return False
    raise OSError(error, os.strerror(error), str(second))


def _put_in_place(work: Path, target: Path) -> None:
    """Make the complete folder ``work`` the model folder ``target``; readers see the old folder or the new one
    (for a moment none, where folders cannot be swapped in one step), never a mix. ``work`` is gone after."""
    if not target.exists():
        work.rename(target)
        return
    if _exchange(work, target):
        shutil.rmtree(work)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    target.rename(old)
    work.rename(target)
    shutil.rmtree(old)


def _evaluate(
    model: Model, family_dir: Path, options: SweepOptions, keep: bool, run_lm_eval: RunLmEval
) -> ModelOutcome:
    """Run lm-eval for one model in a work folder, verify its outputs, add the whole runs of the model folder
    (``keep``) and put the work folder in its place."""
    started = time.monotonic()
    target = family_dir / model.name
    work = family_dir / f".{model.name}.tmp-{os.getpid()}"
    work.mkdir()
    failed_log = family_dir / (model.name + _FAILED_LOG)
    existed = target.is_dir() and any(target.iterdir())
    keep = keep and existed
    try:
        with tempfile.TemporaryDirectory() as scratch:
            command = lm_eval_command(model, options, work, Path(scratch))
            code = run_lm_eval(command, work / "lm_eval.log", options.echo)
        if code != 0:
            raise RuntimeError(
                f"lm_eval was killed by signal {-code}" if code < 0 else f"lm_eval exited with code {code}"
            )
        date = _collect_outputs(work)
        try:
            results = load_results_file(work / f"results_{date}.json")
            problems = _run_problems(work, date, results)
        except ValueError as error:
            problems = [str(error)]
        if problems:
            problem = problems[0].replace(f"{work}{os.sep}", "")  # the work folder goes; name the file alone
            raise RuntimeError(f"lm-eval's outputs are incomplete: {problem}{_save_errors(work / 'lm_eval.log')}")
        runs = _merge_kept(target, work) if keep else []
        run = {
            "tasks": requested_tasks(options),
            "results": f"results_{date}.json",
            "lm_eval_command": command,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        info = {
            "family": family_dir.name,
            "model": model.name,
            **{key: value for key, value in asdict(model).items() if key != "name"},
            "settings": run_settings(model, options),
            "tasks": list(dict.fromkeys(name for each in [*runs, run] for name in each["tasks"])),
            "runs": [*runs, run],
        }
        _write_json(work / MODEL_FILE, info)
        _put_in_place(work, target)
    except (RuntimeError, OSError, ValueError) as error:
        _discard(work, failed_log)
        kept = f"; {target} is kept as it was" if existed else ""
        message = f"{error}{kept}; lm-eval log: {failed_log}"
        return ModelOutcome(model, "failed", target, time.monotonic() - started, message)
    except BaseException:  # Ctrl-C, MemoryError, ...: no work folder is left behind
        _discard(work, failed_log)
        raise
    failed_log.unlink(missing_ok=True)
    added = f"added to {len(runs)} earlier run(s): " if keep else ""
    return ModelOutcome(model, "done", target, time.monotonic() - started, added + _summary(results))


def _describe(outcome: ModelOutcome) -> str:
    params = f"{outcome.model.params:,} params" if outcome.model.params else "params unknown"
    head = f"{outcome.status:>7}  {outcome.model.name} ({params})"
    if outcome.status == "skipped":
        return f"{head}: every task done with the same settings, {outcome.folder}"
    if outcome.status == "busy":
        return f"{head}: {outcome.message}, {outcome.folder}"
    return f"{head} in {outcome.seconds:.0f} s: {outcome.message}"


# --------------------------------------------------------------------------- checks before running


def _dangling_link(path: Path) -> Path | None:
    """The first of ``path`` and its parents that is a symbolic link to nothing, if any."""
    for part in reversed([path, *path.parents]):
        if part.is_symlink() and not part.exists():
            return part
    return None


def _check_writable(family_dir: Path, out: str | Path) -> None:
    """Create ``family_dir`` and a probe folder in it; a ValueError naming ``out`` when that fails."""
    link = _dangling_link(family_dir)
    if link is not None:
        raise ValueError(
            f"out={str(out)!r}: {link} is a symbolic link to {os.readlink(link)}, which does not exist; "
            "create that folder or pass another --out"
        )
    try:
        family_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryDirectory(dir=family_dir, prefix=".write-probe-").cleanup()
    except OSError as error:
        raise ValueError(
            f"out={str(out)!r}: cannot write model folders into {family_dir} ({error.strerror or error}); "
            "pass a writable folder as --out"
        ) from None


def _name_max(path: Path) -> int:
    """The longest file name (bytes) the filesystem holding ``path`` (or its nearest existing parent) allows."""
    for part in [path, *path.parents]:
        if part.is_dir():
            with contextlib.suppress(OSError, ValueError):
                return os.pathconf(part, "PC_NAME_MAX")
            break
    return 255


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def check_names(family: Family, models: list[Model], options: SweepOptions, out: str | Path) -> None:
    """Every folder and file name the sweep creates for ``models`` fits the filesystem of ``out``, and no model
    folder has the name of another model's failure log; a ValueError naming the model and what to do otherwise.
    (:class:`Family` refuses names that would share a folder.)"""
    from lm_eval.loggers.evaluation_tracker import GeneralConfigTracker
    from lm_eval.utils import sanitize_model_name

    limit = _name_max(Path(out))
    if len(os.fsencode(family.name)) > limit:
        raise ValueError(f"family name {_short(family.name)} is longer than the {limit} bytes a folder name in "
                         f"{out} may have; give the family a shorter name")  # fmt: skip
    names = {model.name.casefold() for model in family.models}
    for model in family.models:
        if model.name.casefold().endswith(_FAILED_LOG) and model.name.casefold()[: -len(_FAILED_LOG)] in names:
            raise ValueError(
                f"family {family.name!r}: model name {model.name!r} is the name of the log a failed model "
                f"{model.name[: -len(_FAILED_LOG)]!r} leaves beside the model folders; rename it"
            )
    for model in models:
        size = len(os.fsencode(model.name))
        if size + _WORK_NAME_EXTRA > limit:
            raise ValueError(
                f"model name {_short(model.name)} is {size} bytes long; its folders in {out} may have "
                f"{limit} bytes, so give it a name of at most {limit - _WORK_NAME_EXTRA} bytes"
            )
        lm_eval_name = GeneralConfigTracker._get_model_name(_model_args(model, options)) or ""
        if len(os.fsencode(sanitize_model_name(lm_eval_name))) > limit:
            raise ValueError(
                f"model {model.name}: lm-eval names its output folder after {_short(lm_eval_name)}, longer than "
                f"the {limit} bytes a folder name may have; link the checkpoint under a shorter path"
            )


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
    force: bool = False,
    isolate: bool = False,
    runner: RunLmEval | None = None,
) -> list[ModelOutcome]:
    """Run ``options.tasks`` on the selected models of ``family``; one outcome per model, in order.

    A model folder that holds whole results of every task under the same settings is
    skipped; tasks it lacks are run and added (``force``: every model is rerun from
    scratch, replacing its folder). lm-eval runs in one worker process for the
    whole sweep (or ``runner``, a :func:`lm_eval_runner` of the same ``options`` shared by several sweeps), or
    with ``isolate`` in a subprocess per model. Which models and tasks still need running is
    decided once, up front, so every rank of a multi-process launch agrees on the
    plan. Raises ValueError, before running anything or writing into ``out``, when no
    model is selected, when (``check``) :func:`check_sweep` finds a wrong task name,
    lm-eval argument or model location, when a name does not fit the disk
    (:func:`check_names`), when ``out`` cannot hold the family's folder, or when a
    model folder was written with other settings (without ``force``).
    """
    from tqdm.auto import tqdm

    selected = family.select(sizes)
    models = shard_items(selected, *shard)
    if not models:
        raise ValueError(
            f"shard={shard[0]}/{shard[1]} selects no model of family {family.name!r} ({len(selected)} models "
            f"selected, so at most {len(selected)} shards have work; a Slurm array needs at most {len(selected)} tasks)"
        )
    check_names(family, models, options, out)
    family_dir = Path(out) / family.name
    plan = [_pending_tasks(model, family_dir / model.name, options, force) for model in models]
    own_runner = lm_eval_runner(options, isolate, start=any(plan)) if runner is None else None
    with own_runner or contextlib.nullcontext(runner) as run_lm_eval:
        if check:
            check_sweep(models, options)
        leader = _process_rank() == 0
        if leader:
            _check_writable(family_dir, out)
        outcomes = []
        bar = tqdm(models, desc=f"sweep {family.name}", unit="model", disable=not (progress and leader))
        for model, tasks in zip(bar, plan):
            outcome = _run_planned(model, family_dir, options, tasks, force, run_lm_eval)
            outcomes.append(outcome)
            if leader:
                bar.write(_describe(outcome))
    return outcomes
