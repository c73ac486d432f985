"""Wall-clock time of ``mirage demo``: the first run (checkpoints, sweep, report) and a second, cached run.

Runs ``mirage demo --out OUT`` twice in subprocesses, as ``make demo`` does (venv in
place), and prints each run's seconds, the stage lines of its output, the number of
CPU cores and the load average before and after (other work on the machine slows
every stage; quote the load with the times). ``OUT`` must not exist, so that the
first run starts from nothing: it copies the shipped checkpoints, or with
``--retrain`` trains every size from scratch. Run::

    .venv/bin/python benchmarks/bench_demo.py --out /tmp/bench-demo            # the default demo
    .venv/bin/python benchmarks/bench_demo.py --out /tmp/bench-demo --retrain  # training the family first
    .venv/bin/python benchmarks/bench_demo.py --out /tmp/bench-demo --quick    # the smoke-test family
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path


def timed_demo(out: Path, options: list[str], device: str) -> tuple[float, str]:
    """Seconds and stdout of one ``mirage demo`` run with ``options``."""
    command = [sys.executable, "-m", "mirage_metrics.cli", "demo", "--out", str(out), "--device", device, *options]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"mirage demo failed ({result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return seconds, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="a folder that does not exist yet")
    parser.add_argument("--quick", action="store_true", help="time `mirage demo --quick` instead")
    parser.add_argument("--retrain", action="store_true", help="the first run trains every size (`--retrain`)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    args = parser.parse_args()
    if args.out.exists():
        raise SystemExit(f"--out {args.out} exists; pass a new folder so that the first run starts from nothing")
    print(f"{os.cpu_count()} CPU cores; load average before: {os.getloadavg()}", flush=True)
    quick = ["--quick"] if args.quick else []
    for label, options in (("first run", quick + (["--retrain"] if args.retrain else [])), ("cached run", quick)):
        seconds, stdout = timed_demo(args.out, options, args.device)
        lines = [line for line in stdout.splitlines() if line.startswith(("  ", "sweep ", "Demo finished"))]
        print(f"\n{label}: {seconds:.0f} s (load average after: {os.getloadavg()})", flush=True)
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
