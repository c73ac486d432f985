"""The demo's resolution check (the paper's Fig 4) with many problems: the smallest demo models on 10,000 sums.

Copies the named sizes of the shipped demo checkpoints into ``OUT/models`` (as ``mirage demo`` does; cached ones
are reused), writes a family file of them, runs ``mirage sweep`` on the demo's temperature-1 and log-likelihood
tasks (``mirage_arith_4da_gen_t1``, ``mirage_arith_4da_ll``) with ``--problems`` problems per task and ``mirage
report`` on the result (both as subprocesses of this interpreter), then prints per model the temperature-1 exact
match with its exact 95% interval, the exact answer probability of the same problems (what that exact match should
be), and the exact match of the first tenth of the problems. Not a speed benchmark: it measures what the README's
resolution paragraph quotes. Run::

    .venv/bin/python benchmarks/demo_resolution.py --out /tmp/res10k
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

from mirage_metrics import demo_family

STEM = f"mirage_arith_{demo_family.DEMO_EVAL_TASKS[0]}"  # the task the demo evaluates
SAMPLED, LOGLIKELIHOOD = f"{STEM}_gen_t1", f"{STEM}_ll"


def mirage(*arguments: str) -> None:
    """Run ``mirage ARGUMENTS`` with this interpreter; stop with its output when it fails."""
    command = [sys.executable, "-m", "mirage_metrics.cli", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="toy-1x8,toy-1x12,toy-1x16,toy-2x24", help="demo sizes, comma-separated")
    parser.add_argument("--problems", type=int, default=10000, help="problems per task (default 10,000)")
    parser.add_argument("--out", type=Path, required=True, help="folder for models/, family.yaml, runs/ and report/")
    args = parser.parse_args()
    if args.problems < 1:
        raise SystemExit(f"--problems {args.problems} must be a positive number of problems per task")
    by_name = {size.name: size for size in demo_family.DEMO_SIZES}
    names = args.models.split(",")
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise SystemExit(f"--models {unknown} are not demo sizes; choose from {', '.join(by_name)}")
    sizes = [by_name[name] for name in names]
    records = demo_family.build_family(args.out / "models", sizes, progress=False)
    args.out.mkdir(parents=True, exist_ok=True)
    family_file = args.out / "family.yaml"
    family_file.write_text(demo_family.family_yaml(records, demo_family.DEMO_FAMILY), encoding="utf-8")
    metadata = f'{{"num_problems": {args.problems}}}'
    mirage(
        "sweep", "--family-file", str(family_file), "--tasks", f"{SAMPLED},{LOGLIKELIHOOD}", "--metadata", metadata,
        "--batch-size", "64", "--device", "cpu", "--out", str(args.out / "runs"),
    )  # fmt: skip
    mirage("report", str(args.out / "runs"), "--out", str(args.out / "report"))
    metrics = pd.read_csv(args.out / "report" / "metrics.csv").set_index("model")
    first_file = args.out / "report" / "first_problems.csv"  # written from 100 problems up
    first = pd.read_csv(first_file).set_index("model") if first_file.is_file() else metrics.iloc[:0]
    overall = metrics["length"].isna()
    sampled = metrics[overall & (metrics["task"] == SAMPLED) & (metrics["metric"] == "exact_match")]
    probability = metrics[overall & (metrics["task"] == LOGLIKELIHOOD) & (metrics["metric"] == "exact_answer_prob")]
    tenth = first[first["length"].isna() & (first["task"] == SAMPLED) & (first["metric"] == "exact_match")]
    table = sampled[["params", "mean", "ci_low", "ci_high"]].rename(columns={"mean": "exact_match_t1"})
    table["exact_answer_prob"] = probability["mean"]
    table["first_tenth"], table["first_tenth_ci_high"] = tenth["mean"], tenth["ci_high"]
    table = table.sort_values("params")
    print(f"{args.problems} problems per task; report: {(args.out / 'report' / 'report.html').resolve()}")
    print(table.to_string(float_format=lambda value: f"{value:.5f}"))


if __name__ == "__main__":
    main()
