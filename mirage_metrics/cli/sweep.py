"""``mirage sweep``: run lm-eval tasks on every size of a model family, resumably."""

from __future__ import annotations

from typing import TYPE_CHECKING

# pandas, yaml and the sweep machinery load in run(), not for `mirage --help`.
from mirage_metrics.preflight import BACKENDS

if TYPE_CHECKING:
    from mirage_metrics.sweep import SweepOptions

EPILOG = """\
examples:
  mirage sweep --family pythia --sizes 70m,160m,410m --tasks mirage_arith_2dm_gen --out runs/pythia --device cuda
  mirage sweep --family-file fam.yaml --tasks mirage_arith_2dm_gen,mirage_arith_2dm_ll --out runs/mine --limit 100
  mirage sweep --family pythia --tasks mirage_arith --out runs/pythia --shard 2/4   # second of four jobs
  mirage sweep --family pythia --backend vllm --model-args tensor_parallel_size=2,data_parallel_size=2 ...
  accelerate launch --num_processes 4 -m mirage_metrics.cli sweep --family pythia ...   # data parallel
Arguments after the known ones go to lm_eval verbatim, e.g. --gen_kwargs temperature=0.
Task names, lm-eval arguments, settings (--limit, --batch-size, --num_fewshot, --device, --backend, --metadata)
and model paths are checked before any model starts; Hub models missing from the cache are named all at once
when HF_HUB_OFFLINE is set or the Hub does not answer.
In a Slurm job array (sbatch --array=0-7) --shard defaults to auto: the k-th task of the array runs
shard k of n (array ids may start at 0 or 1), so --sizes 70m,160m,410m,1b,1.4b,2.8b,6.9b,12b over
--array=0-7 gives one model per task and GPU; pass --shard 1/1 to run every model in each task.
An sbatch template: examples/slurm/sweep.sbatch in the mirage-metrics repository.
Rerun the same command to finish an interrupted sweep: a model whose folder holds whole results of every
task under the same settings is skipped; tasks it lacks are run and added to it. A folder written with other
settings (--limit, --num_fewshot, --metadata, --model-args, --backend, lm_eval arguments, lm-eval version) is
an error: pass a new --out, or --force to rerun such models from scratch.
Sweeps may share OUT: a model another live sweep is running is reported busy and left to it.
Models run one after another in one lm-eval worker process (lm-eval starts once; memory is freed between
models; a model that crashes the worker fails alone); --isolate runs one lm-eval process per model instead
(as do multi-process launches and --backend vllm).
Family files cannot switch on trust_remote_code; pass --model-args trust_remote_code=True yourself if you must."""


def register(subparsers) -> None:
    import argparse

    parser = subparsers.add_parser(
        "sweep",
        help="run lm-eval tasks on every model of a family (resumable; one folder per model)",
        description=(
            "For every model, run lm-eval with sample logging and the mirage task folder; keep lm-eval's "
            "own output files (results JSON + samples JSONL) and model.json in OUT/FAMILY/MODEL/."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--family", help="a built-in family (see `mirage families`): pythia, pythia-deduped, gpt2")
    which.add_argument("--family-file", help="a YAML family file (name, models: [{name, path, params?, revision?}])")
    parser.add_argument("--sizes", help="comma-separated sizes or model names (default: all)")
    parser.add_argument("--tasks", required=True, help="comma-separated lm-eval tasks or groups, e.g. mirage_arith")
    parser.add_argument("--out", required=True, help="output folder; models go to OUT/FAMILY/MODEL/")
    parser.add_argument("--device", help="lm-eval --device, e.g. cuda, cuda:0, cpu")
    parser.add_argument("--batch-size", help="lm-eval --batch_size: a whole number, auto or auto:N")
    parser.add_argument("--limit", help="lm-eval --limit: samples per task (a whole number) or a fraction in (0, 1)")
    parser.add_argument("--backend", choices=BACKENDS, default="hf", help="lm-eval model backend (default: hf)")
    parser.add_argument(
        "--model-args", help="extra lm-eval model args, e.g. dtype=float16 or tensor_parallel_size=2 (vllm)"
    )
    parser.add_argument(
        "--shard",
        help="run shard i of n (1-based), e.g. 2/4; auto: i and n from the Slurm job array (sbatch --array) "
        "(default: auto inside a Slurm job array, else 1/1)",
    )
    parser.add_argument("--include_path", "--include-path", dest="include_path", help="another folder of task YAMLs")
    parser.add_argument(
        "--metadata",
        help="lm-eval --metadata (JSON or key=val); mirage_arith tasks read num_problems (1 to 1,000,000) and seed",
    )
    parser.add_argument("--num_fewshot", "--num-fewshot", dest="num_fewshot", type=int, help="lm-eval --num_fewshot")
    parser.add_argument("--quiet", action="store_true", help="keep lm-eval's output in the log files only")
    parser.add_argument(
        "--force", action="store_true", help="rerun every selected model from scratch, replacing its folder"
    )
    parser.add_argument(
        "--isolate",
        action="store_true",
        help="run each model in an lm-eval process of its own (slower: lm-eval starts once per model) instead of "
        "one worker process for the sweep",
    )
    parser.set_defaults(func=run, accepts_extra_args=True)


def run(args) -> int:
    import os

    from mirage_metrics.families import get_family, load_family_file
    from mirage_metrics.sharding import parse_shard
    from mirage_metrics.sweep import sweep

    family = load_family_file(args.family_file) if args.family_file else get_family(args.family)
    shard_text = args.shard or ("auto" if "SLURM_ARRAY_TASK_ID" in os.environ else "1/1")
    shard = parse_shard(shard_text)
    options = _options(args)
    sizes = [size.strip() for size in args.sizes.split(",") if size.strip()] if args.sizes else None
    family.select(sizes)  # unknown sizes fail before anything runs
    if shard_text == "auto":
        print(
            f"sweep {family.name}: shard {shard[0]}/{shard[1]} from Slurm array task "
            f"{os.environ['SLURM_ARRAY_TASK_ID']} (--shard auto)",
            flush=True,
        )
    # sweep() checks everything before running anything.
    outcomes = sweep(family, args.out, options, sizes=sizes, shard=shard, force=args.force, isolate=args.isolate)
    counts = {status: sum(o.status == status for o in outcomes) for status in ("done", "skipped", "busy", "failed")}
    busy = f", {counts['busy']} busy in another sweep" if counts["busy"] else ""
    print(f"sweep {family.name}: {counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed{busy}")
    for outcome in outcomes:
        if outcome.status == "failed":
            print(f"FAILED {outcome.model.name}: {outcome.message}")
    return 1 if counts["failed"] else 0


def _options(args) -> SweepOptions:
    from mirage_metrics.sweep import SweepOptions

    return SweepOptions(
        tasks=args.tasks,
        backend=args.backend,
        device=args.device,
        batch_size=args.batch_size,
        limit=args.limit,
        model_args=args.model_args,
        num_fewshot=args.num_fewshot,
        include_path=args.include_path,
        metadata=args.metadata,
        extra_args=list(getattr(args, "extra_args", [])),
        echo=not args.quiet,
    )
