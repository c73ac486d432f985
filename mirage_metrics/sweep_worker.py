"""Run the lm-eval command lines of a sweep in one long-lived process: lm-eval is imported and its task index
(14,000 YAML files) built once per sweep, not once per model.

The sweep starts ``python -m mirage_metrics.sweep_worker TOKEN TASK_FOLDER...`` (:class:`Worker`), which
imports lm-eval and builds its task index at once, and sends it one
``python -m lm_eval`` command line per model, as a JSON list on a line of a pipe of its own (its stdin is
empty, as a non-interactive run's: a prompt cannot take a command line for an answer). The worker runs it
through lm-eval's own command line (its parser and its ``run`` command, in process), so it writes exactly
the files ``python -m lm_eval`` writes, then frees the model's memory (``gc``, the CUDA cache, glibc's
free lists) and ends the model's output with ``NUL mirage-sweep-worker TOKEN EXITCODE NUL``. Its stdout
and stderr go to the sweep, which writes them to the model's ``lm_eval.log``. After a failing command
the worker exits, so the next model gets a fresh process; a worker that dies (a crash, a kill, out of
memory) fails only the model it was running. The worker gets SIGKILL when the sweep dies (Linux).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import secrets
import subprocess
import sys
import traceback
from pathlib import Path

__all__ = ["Worker"]

_MARK = b"\0mirage-sweep-worker "


class Worker:
    """A worker process for lm-eval runs whose task folders (besides lm-eval's own) are ``task_folders``:
    started by :meth:`start` or the first :meth:`run`; :meth:`close` ends it."""

    def __init__(self, task_folders: list[str]) -> None:
        self._task_folders = task_folders
        self._process: subprocess.Popen | None = None
        self._commands = None  # the pipe the worker reads command lines from
        self._token = ""

    def run(self, command: list[str], log_path: Path, echo: bool) -> int:
        """Run the ``python -m lm_eval`` ``command`` in the worker, its output to ``log_path`` (and stderr when
        ``echo``); its exit code (negative: the worker was killed by that signal)."""
        if command[1:3] != ["-m", "lm_eval"]:
            raise ValueError(f"not a `python -m lm_eval` command line: {command[:3]}")
        if self._process is None or self._process.poll() is not None:
            self.close()
            self.start()
        process = self._process
        try:
            self._commands.write(json.dumps(command[3:]).encode("utf-8") + b"\n")
            self._commands.flush()
        except BrokenPipeError:
            pass  # the worker died at once; its exit code is read below
        try:
            with open(log_path, "wb") as log:
                code = self._copy_output(log, echo)
        except BaseException:  # the log's disk is full, Ctrl-C, ...: the worker's state is unknown
            self.close()
            raise
        if code is None:  # the worker ended without finishing the command
            self.close()
            code = process.returncode or 1
        elif code != 0:
            self.close()
        return code

    def close(self) -> None:
        """End the worker (it exits at the end of its input; SIGTERM, then SIGKILL, if it is busy) and reap it."""
        from mirage_metrics.sweep import _stop

        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            self._commands.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.5)
        _stop(process)

    def start(self) -> None:
        """Start the worker: it imports lm-eval and builds the task index while the caller goes on."""
        from mirage_metrics import sweep

        self._token = secrets.token_hex(8)
        preexec = sweep._die_with_parent if sys.platform.startswith("linux") else None
        read_end, write_end = os.pipe()
        self._commands = os.fdopen(write_end, "wb")
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "mirage_metrics.sweep_worker", self._token, str(read_end), *self._task_folders],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=dict(os.environ, TOKENIZERS_PARALLELISM="false"),
                preexec_fn=preexec,
                pass_fds=(read_end,),
            )
        except BaseException:
            self._commands.close()
            raise
        finally:
            os.close(read_end)

    def _copy_output(self, log, echo: bool) -> int | None:
        """Copy the worker's output into ``log`` up to the end-of-command mark; the exit code it carries
        (None when the worker's output ends first)."""
        mark = _MARK + self._token.encode("ascii") + b" "
        pending = b""

        def emit(data: bytes) -> None:
            log.write(data)
            if echo and data:
                sys.stderr.buffer.write(data)
                sys.stderr.flush()

        for chunk in iter(lambda: self._process.stdout.read1(1 << 16), b""):
            pending += chunk
            start = pending.find(mark)
            if start >= 0:
                end = pending.find(b"\0", start + len(mark))
                if end >= 0:
                    emit(pending[:start])
                    return int(pending[start + len(mark) : end])
                continue
            keep = len(mark) - 1  # the start of a mark cut between two reads
            emit(pending[:-keep])
            pending = pending[-keep:]
        emit(pending)
        return None


# --------------------------------------------------------------------------- in the worker process


def _cache_task_index() -> None:
    """Make lm-eval's task index (which every ``TaskManager`` builds by reading every task YAML) built once
    per folder list; each TaskManager gets its own copy of the mapping, which loading tasks adds to."""
    from lm_eval.tasks._index import TaskIndex

    build = TaskIndex.build
    built: dict = {}

    def cached_build(paths, *, resolve_includes=True):
        paths = list(paths)
        key = (tuple(str(Path(path).resolve()) for path in paths), resolve_includes)
        if key not in built:
            built[key] = build(paths, resolve_includes=resolve_includes)
        return dict(built[key])

    TaskIndex.build = staticmethod(cached_build)


def _cache_env_info() -> None:
    """Collect the environment report lm-eval puts in every results file (``pretty_env_info``: PyTorch asks
    pip, the GPU driver and more, over half a second) once per worker: it does not change during a sweep."""
    import functools

    from torch.utils import collect_env

    collect_env.get_pretty_env_info = functools.cache(collect_env.get_pretty_env_info)


def _run_lm_eval(argv: list[str]) -> int:
    """Run ``python -m lm_eval *argv`` in this process; its exit code."""
    from lm_eval._cli import HarnessCLI

    sys.argv = ["lm_eval", *argv]
    try:
        cli = HarnessCLI()
        cli.execute(cli.parse_args())
    except SystemExit as exit:  # as the interpreter ends on it
        if exit.code is None or isinstance(exit.code, int):
            return exit.code or 0
        print(exit.code, file=sys.stderr)
        return 1
    except Exception:  # noqa: BLE001 - reported as the interpreter would, the exit code tells the sweep
        traceback.print_exc()
        return 1
    return 0


def _free_memory() -> None:
    """Give back what the last model held: Python objects, PyTorch's CUDA cache, glibc's free lists."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).malloc_trim(0)


def _warm_up(task_folders: list[str]) -> None:
    """Import what every lm-eval run needs and build the task index of lm-eval's and ``task_folders``."""
    import lm_eval.evaluator  # noqa: F401
    import lm_eval.models.huggingface  # noqa: F401 - the backend of worker runs (vLLM's run isolated)
    import lm_eval.tasks
    from lm_eval._cli import HarnessCLI  # noqa: F401
    from lm_eval.tasks._index import TaskIndex

    TaskIndex.build([Path(lm_eval.tasks.__file__).parent, *map(Path, task_folders)])


def main(token: str, commands_fd: int, task_folders: list[str]) -> int:
    """Run the command lines read from ``commands_fd``, one per line, until its end or a failing command."""
    from lm_eval.utils import setup_logging

    setup_logging()  # as `python -m lm_eval` does
    _cache_task_index()
    _cache_env_info()
    _warm_up(task_folders)
    for line in os.fdopen(commands_fd, encoding="utf-8"):
        code = _run_lm_eval(json.loads(line))
        sys.stdout.flush()
        sys.stderr.flush()
        _free_memory()
        os.write(sys.stdout.fileno(), _MARK + f"{token} {code}".encode("ascii") + b"\0")
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3:]))
