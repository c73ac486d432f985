"""The offline end-to-end demo: train (or reuse) the toy GPT-2 family, sweep it with lm-eval, write the report.

:func:`run_demo` is what ``mirage demo`` runs. Everything lands under ``out``:
``models/<name>/`` (Hugging Face checkpoints), ``family.yaml`` (the family file
handed to ``mirage sweep``), ``runs/`` (the sweep, as ``mirage sweep`` writes it) and
``report/`` (as ``mirage report`` writes it). The largest size's run also saved
checkpoints part way (``<name>-step<N>``): they are a second family, over training
(``family-steps.yaml``, ``runs/<family>-steps``), evaluated on the same tasks and reported
against the training step in ``report-steps/`` (``mirage report --x step``). A second run
reuses the checkpoints and the finished sweep folders.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Optional, Union

from mirage_metrics.task_forms import ARITH, GEN, LIKELIHOOD, SAMPLED, task_stem

__all__ = ["run_demo", "trained_family", "holdout_size", "headline"]


def _stage(message: str) -> None:
    print(f"\n== {message}", flush=True)


def _sweep_tasks(tasks) -> str:
    """lm-eval task names for the demo: greedy generation, temperature-1 generation (what the mirage fit predicts)
    and log-likelihood of each evaluated task.

    >>> _sweep_tasks(("2da",))
    'mirage_arith_2da_gen,mirage_arith_2da_gen_t1,mirage_arith_2da_ll'
    """
    return ",".join(f"{ARITH}_{task}{form}" for task in tasks for form in (GEN, SAMPLED, LIKELIHOOD))


def trained_family(records: list[dict], name: str):
    """The :class:`~mirage_metrics.families.Family` of trained ``records`` (from
    :func:`mirage_metrics.demo_family.build_family`), with their training step and tokens where known.

    >>> model = trained_family([{"name": "a", "path": "/m/a", "params": 2688, "step": 50}], "toy").models[0]
    >>> model.params, model.step, model.tokens
    (2688, 50, None)
    """
    from mirage_metrics.families import Family, Model

    models = (
        Model(r["name"], r["path"], r["name"], params=int(r["params"]), step=r.get("step"), tokens=r.get("tokens"))
        for r in records
    )
    return Family(name, tuple(models))


def holdout_size(n_sizes: int) -> int:
    """How many of the largest sizes the mirage fit leaves out: the larger half, keeping at least
    :data:`~mirage_metrics.mirage_fit.MIN_FIT_SIZES` to fit on.

    >>> [holdout_size(n) for n in (1, 2, 3, 4, 5, 8)]
    [0, 0, 0, 1, 2, 4]
    """
    from mirage_metrics.mirage_fit import MIN_FIT_SIZES

    return max(0, min(n_sizes // 2, n_sizes - MIN_FIT_SIZES))


def headline(report_dir: Path) -> str:
    """Per model: exact match, token edit distance and per-character probability; then the emergence scores.
    Models are ordered by the report's x (``params``, or ``step`` in a report against training steps)."""
    import pandas as pd

    metrics = pd.read_csv(report_dir / "metrics.csv")
    x = metrics.columns[2]  # family, model, then the x (see mirage_metrics.report.build)
    wanted = ["exact_match", "token_edit_distance", "per_char_prob"]
    overall = metrics[
        metrics["metric"].isin(wanted) & metrics["length"].isna() & ~metrics["task"].str.endswith(SAMPLED)
    ]  # greedy outputs and log-likelihoods
    table = overall.pivot_table(index=["task", x, "model"], columns="metric", values="mean").reset_index()
    table["task"] = table["task"].map(task_stem)
    table = table.groupby(["task", x, "model"], as_index=False).first()
    lines = [table.to_string(index=False, float_format=lambda v: f"{v:.3f}")]
    emergence = pd.read_csv(report_dir / "emergence.csv")
    emergence = emergence[emergence["metric"].isin(wanted) & emergence["length"].isna()]
    if len(emergence):
        lines += [
            "",
            "emergence scores:",
            emergence[["task", "metric", "emergence_score"]].to_string(index=False, float_format=lambda v: f"{v:.2f}"),
        ]
    return "\n".join(lines)


def run_demo(
    out: Union[str, Path],
    *,
    device: str = "auto",
    quick: bool = False,
    retrain: bool = False,
    limit: Optional[int] = None,
    bootstrap: Optional[int] = None,
) -> Optional[Path]:
    """Build (or reuse) the toy family under ``out``, sweep it and write the report; the report page.

    Prints each stage as it goes. ``None`` when the sweep did not finish every
    model (the logs under ``out/runs/<family>`` say why). ``limit`` test problems
    per task (default 500, 50 ``quick``), ``bootstrap`` resamples per interval
    (default 1000, 200 ``quick``).
    """
    from mirage_metrics import demo_family
    from mirage_metrics.atomic_files import OutputFolder, output_path, write_text
    from mirage_metrics.devices import resolve_device
    from mirage_metrics.report import build_report
    from mirage_metrics.sweep import (
        SweepOptions,
        lm_eval_runner,
        requested_tasks,
        run_settings,
        sweep,
        verify_model_folder,
    )

    device = resolve_device(device)
    sizes = demo_family.QUICK_SIZES if quick else demo_family.DEMO_SIZES
    plan = demo_family.QUICK_PLAN if quick else demo_family.TrainingPlan()
    family_name = demo_family.QUICK_FAMILY if quick else demo_family.DEMO_FAMILY
    steps_name = demo_family.QUICK_STEPS_FAMILY if quick else demo_family.DEMO_STEPS_FAMILY
    snapshots = demo_family.QUICK_SNAPSHOT_STEPS if quick else demo_family.DEMO_SNAPSHOT_STEPS
    limit = limit or (50 if quick else 500)
    if limit < 1:
        raise ValueError(f"--limit {limit} must be a positive number of test problems per task")
    bootstrap = bootstrap or (200 if quick else 1000)
    out = Path(out)
    runs, report, steps_report = out / "runs", out / "report", out / "report-steps"
    output_path(out, "mirage demo", replaced=False)  # a file or a dangling symlink: refused before training,
    for folder in (report, steps_report):
        OutputFolder(folder, "mirage report")  # and so is a report/ holding files the report would delete
    started = time.monotonic()

    _stage(
        f"1/3 the {family_name} family into {out / 'models'}: "
        + (
            f"training every size on {device}"
            if retrain
            else f"shipped or cached checkpoints, else trained on {device}"
        )
    )
    records = demo_family.build_family(
        out / "models",
        sizes,
        plan,
        device=device,
        workers=demo_family.default_workers(device),
        retrain=retrain,
        snapshots=snapshots,
    )
    (stepped,) = [size for size in sizes if size.name in snapshots]
    (stepped_record,) = [record for record in records if record["name"] == stepped.name]
    step_records = demo_family.training_steps_records(stepped_record, stepped)
    for record in [*records, *step_records[:-1]]:
        print(
            f"  {record['name']:<18} {record['params']:>9,} params  {record['source']}  "
            f"(loss {record['final_loss']:.3f}, {record['train_seconds']:.0f} s to train)"
        )
    # For `mirage sweep --family-file`: the sizes, and the largest one's run over training.
    write_text(demo_family.family_yaml(records, family_name), out / "family.yaml")
    write_text(demo_family.family_yaml(step_records, steps_name), out / "family-steps.yaml")
    options = SweepOptions(
        tasks=_sweep_tasks(demo_family.DEMO_EVAL_TASKS), device=device, batch_size="64", limit=str(limit), echo=False
    )
    families = [trained_family(records, family_name), trained_family(step_records, steps_name)]
    for family, family_records in zip(families, (records, step_records)):
        for record, model in zip(family_records, family.models):
            folder = runs / family.name / model.name
            # The demo owns its runs: a new checkpoint's evaluation, or one made with other settings (--limit), is
            # stale.
            if record["source"] != "cached" or verify_model_folder(
                folder, requested_tasks(options), run_settings(model, options)
            ):
                shutil.rmtree(folder, ignore_errors=True)

    models = len(records) + len(step_records)
    _stage(f"2/3 mirage sweep: lm-eval (hf backend) on {models} models, {limit} problems per task")
    with lm_eval_runner(options, start=False) as run_lm_eval:  # one lm-eval start-up for both families
        for family in families:
            outcomes = sweep(family, runs, options, runner=run_lm_eval)
            counts = {status: sum(o.status == status for o in outcomes) for status in ("done", "skipped", "failed")}
            print(f"sweep {family.name}: {counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed")
            if counts["failed"] or len(outcomes) != counts["done"] + counts["skipped"]:
                print(f"mirage demo: the sweep did not finish every model; see the logs under {runs / family.name}")
                return None

    holdout = holdout_size(len(records))
    _stage(
        f"3/3 mirage report (the mirage fit uses the {len(records) - holdout} smallest models and predicts "
        f"the {holdout} largest)"
    )
    shutil.rmtree(report, ignore_errors=True)
    page = build_report([runs / family_name], report, holdout_largest=holdout, n_boot=bootstrap)
    print()
    print(headline(report))
    print(f"\nOver training: {stepped.name} at steps {', '.join(str(r['step']) for r in step_records)} (--x step)")
    steps_page = build_report([runs / steps_name], steps_report, x="step", n_boot=bootstrap)
    print(headline(steps_report))
    print(
        f"\nDemo finished in {time.monotonic() - started:.0f} s. Open the report: {page.resolve()}\n"
        f"and the report over training: {steps_page.resolve()}"
    )
    return page
