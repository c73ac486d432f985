"""Wall-clock time of ``mirage sweep`` against one plain ``python -m lm_eval`` run, and the worker's memory.

In one run on one machine: one plain ``python -m lm_eval`` run of one shipped demo checkpoint on two
tasks (the command line the sweep itself builds), then ``mirage sweep`` of four such checkpoints on the
same tasks in worker mode (the default) and with ``--isolate`` (one lm-eval process per model); the
ratios of the sweeps to the plain run. With ``--memory``, a sweep of the eight demo sizes on the demo's
tasks while the worker's resident memory (VmRSS) is sampled: its peak and its value as each model
finishes. The load average is printed with every figure (other work on the machine slows every run).
Run::

    .venv/bin/python benchmarks/bench_sweep.py                  # times and ratios
    .venv/bin/python benchmarks/bench_sweep.py --memory         # and the worker's memory over 8 sizes
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from mirage_metrics.demo_family import SHIPPED_DIR
from mirage_metrics.families import Model
from mirage_metrics.sweep import SweepOptions, lm_eval_command

TASKS = "mirage_arith_4da_gen,mirage_arith_4da_ll"
FOUR = ("toy-1x8", "toy-1x12", "toy-1x16", "toy-2x24")
DEMO_SIZES = ("toy-1x8", "toy-1x12", "toy-1x16", "toy-2x24", "toy-2x32", "toy-2x48", "toy-2x64", "toy-2x128")
DEMO_TASKS = "mirage_arith_4da_gen,mirage_arith_4da_gen_t1,mirage_arith_4da_ll"
ENV = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")


def _load() -> str:
    return "load " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def _family_file(folder: Path, sizes: tuple[str, ...]) -> Path:
    lines = ["name: toy", "models:"] + [f"  - {{name: {size}, path: '{SHIPPED_DIR / size}'}}" for size in sizes]
    path = folder / f"family-{len(sizes)}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _timed(command: list[str]) -> float:
    started = time.monotonic()
    done = subprocess.run(command, env=ENV, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return seconds


def _sweep_command(family_file: Path, out: Path, tasks: str, args, *extra: str) -> list[str]:
    return [sys.executable, "-m", "mirage_metrics.cli", "sweep", "--family-file", str(family_file), "--tasks", tasks,
            "--out", str(out), "--limit", str(args.limit), "--device", args.device, "--batch-size", "64", "--quiet",
            *extra]  # fmt: skip


def times(folder: Path, args) -> None:
    """One plain lm-eval run, then the two sweep modes over four models; seconds and ratios."""
    options = SweepOptions(tasks=TASKS, device=args.device, batch_size="64", limit=str(args.limit))
    plain = lm_eval_command(Model(FOUR[0], str(SHIPPED_DIR / FOUR[0]), FOUR[0]), options, folder / "plain", folder)
    family_file = _family_file(folder, FOUR)
    print(f"{os.cpu_count()} CPU cores; {_load()}; tasks {TASKS}, --limit {args.limit}", flush=True)
    seconds = {"plain": _timed(plain)}
    print(f"plain lm_eval, 1 model: {seconds['plain']:.1f} s ({_load()})", flush=True)
    for label, extra in (("worker", ()), ("isolate", ("--isolate",))):
        seconds[label] = _timed(_sweep_command(family_file, folder / label, TASKS, args, *extra))
        print(
            f"mirage sweep{' --isolate' if extra else ''}, 4 models: {seconds[label]:.1f} s = "
            f"{seconds[label] / seconds['plain']:.2f} x plain ({_load()})",
            flush=True,
        )


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _worker_pid(sweep_pid: int) -> int | None:
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"\nPPid:\t{sweep_pid}\n" in status.read_text():
                if b"mirage_metrics.sweep_worker" in (status.parent / "cmdline").read_bytes():
                    return int(status.parent.name)
        except OSError:
            continue
    return None


def memory(folder: Path, args) -> None:
    """The worker's VmRSS over a sweep of the eight demo sizes: the peak, and as each model finishes."""
    family_dir = folder / "memory" / "toy"
    command = _sweep_command(_family_file(folder, DEMO_SIZES), folder / "memory", DEMO_TASKS, args)
    process = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak, after = 0, {}

    def sample() -> None:
        nonlocal peak
        worker = None
        while process.poll() is None:
            worker = worker if worker and _rss_kib(worker) else _worker_pid(process.pid)
            rss = _rss_kib(worker) if worker else None
            if rss:
                peak = max(peak, rss)
                for size in DEMO_SIZES:
                    if size not in after and (family_dir / size).is_dir():
                        after[size] = rss
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    started = time.monotonic()
    sampler.start()
    process.wait()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"the memory sweep failed ({process.returncode})")
    print(f"\nworker over the 8 demo sizes ({DEMO_TASKS}, --limit {args.limit}): "
          f"{time.monotonic() - started:.0f} s, peak VmRSS {peak / 1024:.0f} MiB ({_load()})")  # fmt: skip
    print("VmRSS as each model's folder appears: " + ", ".join(f"{s} {kib / 1024:.0f} MiB" for s, kib in after.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20, help="problems per task (default 20)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--memory", action="store_true", help="also sample the worker's memory over 8 demo sizes")
    parser.add_argument("--no-times", action="store_true", help="skip the timings (with --memory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as scratch:
        if not args.no_times:
            times(Path(scratch), args)
        if args.memory:
            memory(Path(scratch), args)


if __name__ == "__main__":
    main()
