"""``mirage demo``: train the offline demo family, sweep it with lm-eval and write the report.

Everything lands under ``--out``: ``models/<name>/`` (Hugging Face checkpoints),
``family.yaml`` (the family file handed to ``mirage sweep``), ``runs/`` (the sweep,
as ``mirage sweep`` writes it) and ``report/`` (as ``mirage report`` writes it).
A second run reuses the checkpoints and the finished sweep folders.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

EPILOG = """\
examples:
  mirage demo                         # ~6 minutes on a 2-core CPU the first time, seconds when cached
  mirage demo --quick --out /tmp/demo # 2 sizes, fewer steps and problems: a smoke test
  mirage demo --device cuda           # train and evaluate on a GPU"""


def register(subparsers) -> None:
    import argparse

    parser = subparsers.add_parser(
        "demo",
        help="offline end-to-end demo: train tiny GPT-2s on arithmetic, sweep them with lm-eval, report",
        description=(
            "Train (or reuse) a ladder of tiny GPT-2 models on the mirage_arith prompts, evaluate every size "
            "with `mirage sweep` (lm-eval's hf backend) and analyse them with `mirage report`."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=Path("demo"), help="output folder (default: demo/)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default: CUDA when available)")
    parser.add_argument("--quick", action="store_true", help="2 sizes, fewer training steps and test problems")
    parser.add_argument("--limit", type=int, default=None,
                        help="test problems per task (default: 500, or 50 with --quick)")
    parser.add_argument("--bootstrap", type=int, default=None,
                        help="bootstrap resamples per confidence interval in the report (default: 1000, 200 quick)")
    parser.set_defaults(func=run)


def _stage(message: str) -> None:
    print(f"\n== {message}", flush=True)


def _sweep_tasks(tasks) -> str:
    """lm-eval task names for the demo: greedy generation and log-likelihood of every training task.

    >>> _sweep_tasks(("2da", "3da"))
    'mirage_arith_2da_gen,mirage_arith_2da_ll,mirage_arith_3da_gen,mirage_arith_3da_ll'
    """
    return ",".join(f"mirage_arith_{task}_{form}" for task in tasks for form in ("gen", "ll"))


def _headline(report_dir: Path) -> str:
    """Per model: exact match, token edit distance and per-character probability; then the emergence scores."""
    import pandas as pd

    metrics = pd.read_csv(report_dir / "metrics.csv")
    wanted = ["exact_match", "token_edit_distance", "per_char_prob"]
    overall = metrics[metrics["metric"].isin(wanted) & metrics["length"].isna()]
    table = overall.pivot_table(index=["task", "params", "model"], columns="metric", values="mean").reset_index()
    table["task"] = table["task"].str.replace(r"_(gen|ll)$", "", regex=True)
    table = table.groupby(["task", "params", "model"], as_index=False).first()
    lines = [table.to_string(index=False, float_format=lambda v: f"{v:.3f}")]
    emergence = pd.read_csv(report_dir / "emergence.csv")
    emergence = emergence[emergence["metric"].isin(wanted) & emergence["length"].isna()]
    if len(emergence):
        lines += ["", "emergence scores:", emergence[["task", "metric", "emergence_score"]].to_string(
            index=False, float_format=lambda v: f"{v:.2f}")]
    return "\n".join(lines)


def run(args) -> int:
    from mirage_metrics import toy
    from mirage_metrics.cli import main as mirage
    from mirage_metrics.atomic_files import write_text
    from mirage_metrics.devices import resolve_device

    device = resolve_device(args.device)
    sizes = toy.QUICK_SIZES if args.quick else toy.DEMO_SIZES
    plan = toy.QUICK_PLAN if args.quick else toy.TrainingPlan()
    family = toy.QUICK_FAMILY if args.quick else toy.DEMO_FAMILY
    limit = args.limit or (50 if args.quick else 500)
    if limit < 1:
        raise ValueError(f"--limit {limit} must be a positive number of test problems per task")
    bootstrap = args.bootstrap or (200 if args.quick else 1000)
    out = args.out
    runs, report = out / "runs", out / "report"
    started = time.monotonic()

    _stage(f"1/3 training the {family} family on {device} into {out / 'models'} (cached checkpoints are reused)")
    records = toy.build_family(out / "models", sizes, plan, device=device, workers=toy.default_workers(device))
    for record in records:
        state = "trained" if record["trained"] else "cached"
        print(f"  {record['name']:<14} {record['params']:>9,} params  {state}  "
              f"(loss {record['final_loss']:.3f}, {record['train_seconds']:.0f} s to train)")
        if record["trained"]:  # a retrained model's old evaluation is stale
            shutil.rmtree(runs / family / record["name"], ignore_errors=True)
    family_file = write_text(toy.family_yaml(records, family), out / "family.yaml")

    _stage(f"2/3 mirage sweep: lm-eval (hf backend) on {len(records)} models, {limit} problems per task")
    if device == "cpu":
        os.environ.setdefault("OMP_NUM_THREADS", "1")  # tiny models: threads only contend with each other
    sweep_code = mirage(["sweep", "--family-file", str(family_file), "--tasks", _sweep_tasks(plan.tasks),
                         "--out", str(runs), "--device", device, "--limit", str(limit), "--batch-size", "64",
                         "--quiet"])
    if sweep_code != 0:
        print(f"mirage demo: the sweep failed for some models; see the logs under {runs / family}")
        return sweep_code

    _stage("3/3 mirage report")
    shutil.rmtree(report, ignore_errors=True)
    report_code = mirage(["report", str(runs / family), "--out", str(report), "--bootstrap", str(bootstrap)])
    if report_code != 0:
        return report_code
    print()
    print(_headline(report))
    print(f"\nDemo finished in {time.monotonic() - started:.0f} s. Open the report: {(report / 'report.html').resolve()}")
    return 0
