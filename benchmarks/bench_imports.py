"""Cold start-up of the everyday entry points, each in a fresh interpreter, against a bare `python -c pass`.

    .venv/bin/python benchmarks/bench_imports.py            # 5 runs each, median
    .venv/bin/python benchmarks/bench_imports.py --runs 3

Rows: `import mirage_metrics`; `mirage_metrics.evaluate_path("brier")` (it must find the module folder without
importing `evaluate` or `datasets`); `mirage --help`; and, for scale, `import evaluate` (what `evaluate_path` used to
pay). The first run of each row warms the file cache and is not counted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

ROWS = {
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
    "import mirage_metrics": [sys.executable, "-c", "import mirage_metrics"],
    "mirage_metrics.evaluate_path('brier')": [
        sys.executable,
        "-c",
        "import sys, mirage_metrics; mirage_metrics.evaluate_path('brier'); assert 'evaluate' not in sys.modules",
    ],
    "mirage --help": [sys.executable, "-m", "mirage_metrics.cli", "--help"],
    "import evaluate (peer: what evaluate_path used to import)": [sys.executable, "-c", "import evaluate"],
}


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per row (default 5)")
    runs = parser.parse_args().runs
    print(f"{'entry point':58s} {'median s':>9s} {'min s':>7s}")
    for name, command in ROWS.items():
        seconds(command)  # warm the file cache
        times = [seconds(command) for _ in range(runs)]
        print(f"{name:58s} {statistics.median(times):9.2f} {min(times):7.2f}")


if __name__ == "__main__":
    main()
