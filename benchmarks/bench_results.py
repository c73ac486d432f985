"""Reading and reporting sweep outputs: 10 models x 100,000 samples per task vs the bare JSON-parse floor.

Writes a synthetic sweep folder in lm-eval's own format, as ``mirage sweep --tasks
mirage_arith_2dm_gen,mirage_arith_2dm_ll`` leaves it: per model ``results_<date>.json``
(lm-eval's aggregates), ``model.json`` and one ``samples_<task>_<date>.jsonl`` per task.
Every sample line is what lm-eval logs for the task: the doc (the real ``mirage_arith``
2dm problems), the rendered 2-shot prompt, the response, hashes and the per-sample
metrics (``_gen``: exact_match, token_edit_distance, exact_match_L1..L5,
token_edit_distance_L1..L5, NaN where L exceeds the answer; ``_ll``: target_log_prob,
per_char_prob, greedy_match). The models follow the mirage model: per-character loss
(N / c)^alpha over log-spaced sizes, each answer character right with probability
exp(-loss), so exact match jumps while the continuous metrics move smoothly.
Then times, in one run on the same files:

- the floor: ``json.loads`` of every line of every samples file, nothing kept;
- ``mirage_metrics.results.read_results`` of the folder (the tidy table, every row),
  in this process and with the reader processes it starts by default (one per core);
- with ``--report``: ``mirage_metrics.report.build_report`` end to end (reading,
  bootstrap CIs, emergence scores, the mirage fit, the PNG plots, ``report.html``),
  what ``mirage report`` runs, likewise with one and with the default reader processes.

Prints the times, the ratios to the floor (issue 24's targets: reading at most 1x, the
whole report at most 1.5x), the load average, and the process's peak resident memory
after each step (writing the files first, so a later step's peak shows only where it is
higher). ``--workers 1`` times one reader process only (default: one and the number
``mirage report`` starts). Run::

    .venv/bin/python benchmarks/bench_results.py                         # 10 models x 100,000 samples
    .venv/bin/python benchmarks/bench_results.py --report                # and the whole report
    .venv/bin/python benchmarks/bench_results.py --models 3 --samples 20000 --report --workers 1
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import tempfile
import time
from pathlib import Path

from mirage_metrics.arithmetic import format_prompt, generate_problems, shot_pool
from mirage_metrics.results import read_results

ARITH_TASK = "2dm"
GEN_TASK, LL_TASK = f"mirage_arith_{ARITH_TASK}_gen", f"mirage_arith_{ARITH_TASK}_ll"
DATE = "2026-01-01T00-00-00.000000"
SEED = 1234
LENGTHS = range(1, 6)
# The mirage model of the synthetic family: per-character loss (N / C)^ALPHA at log-spaced sizes.
SMALLEST, LARGEST, C, ALPHA = 1e7, 1e11, 1e9, -0.35
READ_TARGET, REPORT_TARGET = 1.0, 1.5  # issue 24: times the json.loads floor
_DIGITS = "0123456789"


def _hash(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def _gen_line(doc_id: int, doc: dict, prompt: str, p: float, rng: random.Random) -> str:
    answer = doc["answer"]
    right = [rng.random() < p for _ in answer]
    response = "".join(c if ok else rng.choice(_DIGITS.replace(c, "")) for c, ok in zip(answer, right))
    metrics = {"exact_match": float(all(right)), "token_edit_distance": len(right) - sum(right)}
    for length in LENGTHS:
        applicable = length <= len(answer)
        metrics[f"exact_match_L{length}"] = float(all(right[:length])) if applicable else float("nan")
        metrics[f"token_edit_distance_L{length}"] = float(length - sum(right[:length])) if applicable else float("nan")
    record = {
        "doc_id": doc_id, "doc": doc, "target": answer,
        "arguments": {"gen_args_0": {"arg_0": prompt, "arg_1": {"until": ["\n"], "do_sample": False,
                                                                "temperature": 0.0, "max_gen_toks": 16}}},
        "resps": [[" " + response]], "filtered_resps": [" " + response], "filter": "none",
        "metrics": list(metrics), "doc_hash": _hash(rng), "prompt_hash": _hash(rng), "target_hash": _hash(rng),
        **metrics,
    }  # fmt: skip
    return json.dumps(record) + "\n"


def _ll_line(doc_id: int, doc: dict, prompt: str, loss: float, rng: random.Random) -> str:
    answer = doc["answer"]
    char_loss = loss * rng.lognormvariate(0.0, 0.5)  # this sample's per-character loss
    log_prob = -char_loss * len(answer)
    greedy = rng.random() < math.exp(-loss) ** len(answer)
    metrics = {"target_log_prob": log_prob, "per_char_prob": math.exp(-char_loss), "greedy_match": float(greedy)}
    record = {
        "doc_id": doc_id, "doc": doc, "target": " " + answer,
        "arguments": {"gen_args_0": {"arg_0": prompt, "arg_1": " " + answer}},
        "resps": [[[log_prob, greedy]]], "filtered_resps": [[log_prob, greedy]], "filter": "none",
        "metrics": list(metrics), "doc_hash": _hash(rng), "prompt_hash": _hash(rng), "target_hash": _hash(rng),
        **metrics,
    }  # fmt: skip
    return json.dumps(record) + "\n"


def _aggregates(task: str, samples: Path) -> dict:
    """lm-eval's ``results`` entry of one task: every metric's mean of its non-NaN values (NaN if none)."""
    sums: dict[str, list[float]] = {}
    with open(samples, "rb") as handle:
        for line in handle:
            record = json.loads(line)
            for name in record["metrics"]:
                total = sums.setdefault(name, [0.0, 0])
                if record[name] == record[name]:
                    total[0] += record[name]
                    total[1] += 1
    means = {f"{name},none": (s / n if n else float("nan")) for name, (s, n) in sums.items()}
    return {"alias": task, **means, **{f"{name}_stderr,none": "N/A" for name in sums}}


def write_sweep(root: Path, n_models: int, n_samples: int) -> list[Path]:
    """A sweep folder ``root/bench/model-<i>/`` with a ``_gen`` and an ``_ll`` task; returns the samples files."""
    problems = generate_problems(ARITH_TASK, n_samples, SEED)
    shots = shot_pool(ARITH_TASK, seed=SEED)[:2]
    prompts = [format_prompt(shots, problem) for problem in problems]
    files = []
    for index in range(n_models):
        params = round(SMALLEST * (LARGEST / SMALLEST) ** (index / max(1, n_models - 1)))
        loss = (params / C) ** ALPHA
        folder = root / "bench" / f"model-{index}"
        folder.mkdir(parents=True)
        rng = random.Random(index)
        results = {
            "results": {},
            "n-samples": {},
            "model_name": f"bench/model-{index}",
            "config": {"model": "hf", "model_args": f"pretrained={folder}", "model_num_parameters": params},
        }
        for task, line in ((GEN_TASK, _gen_line), (LL_TASK, _ll_line)):
            samples = folder / f"samples_{task}_{DATE}.jsonl"
            value = math.exp(-loss) if task == GEN_TASK else loss
            with open(samples, "w") as handle:
                handle.writelines(line(i, problems[i], prompts[i], value, rng) for i in range(n_samples))
            results["results"][task] = _aggregates(task, samples)
            results["n-samples"][task] = {"original": n_samples, "effective": n_samples}
            files.append(samples)
        (folder / f"results_{DATE}.json").write_text(json.dumps(results))
        info = {"family": "bench", "model": f"model-{index}", "path": str(folder), "params": params}
        (folder / "model.json").write_text(json.dumps(info))
    return files


def json_floor(files: list[Path]) -> float:
    loads = json.loads
    started = time.perf_counter()
    for file in files:
        with open(file, "rb") as handle:
            for line in handle:
                loads(line)
    return time.perf_counter() - started


def _peak_mib() -> str:
    # This process only: a reader process's ru_maxrss starts from this process's size at fork, so it says nothing.
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _ratio(seconds: float, floor: float, target: float) -> str:
    ratio = seconds / floor
    return f"{ratio:8.2f}x  (target <= {target:g}x: {'met' if ratio <= target else 'NOT met'})"


def _default_workers(files: list[Path]) -> int:
    """The reader processes ``read_results(workers="auto")`` (``mirage report``'s default) starts for these files."""
    from mirage_metrics.results import _worker_count

    return _worker_count("auto", files)


def _processes(workers: int) -> str:
    return f"{workers} reader process{'es' if workers > 1 else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--samples", type=int, default=100_000, help="samples per model and task")
    parser.add_argument("--report", action="store_true", help="also time build_report (mirage report) end to end")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples of the report (default 1000)")
    parser.add_argument("--dir", help="where to write the synthetic files (default: a temporary folder)")
    parser.add_argument(
        "--workers",
        type=int,
        action="append",
        help="reader processes to time (repeatable; default: 1 and the number mirage report starts)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        files = write_sweep(root, args.models, args.samples)
        size = sum(f.stat().st_size for f in files)
        print(f"wrote {args.models} models x 2 tasks x {args.samples:,} samples, {size / 2**20:,.0f} MiB "
              f"in {time.perf_counter() - started:.1f} s; peak resident memory {_peak_mib()}")  # fmt: skip
        print(f"load average before timing (1, 5, 15 min): {_load()}")
        json_floor(files[:1])  # warm the page cache and the interpreter
        floor = json_floor(files)
        lines = 2 * args.models * args.samples
        print(f"json.loads floor:  {floor:8.2f} s  ({lines / floor:,.0f} lines/s)")
        processes = sorted(set(args.workers or [1, _default_workers(files)]))
        for workers in processes:
            started = time.perf_counter()
            frame = read_results(root, workers=workers)
            ours = time.perf_counter() - started
            rows, table_mib = len(frame), frame.memory_usage(deep=True).sum() / 2**20
            del frame
            print(f"read_results, {_processes(workers)}:  {ours:8.2f} s  ({rows:,} rows, {table_mib:,.0f} MiB)")
            print(f"ratio:             {_ratio(ours, floor, READ_TARGET)}")
        print(f"peak resident memory after read_results: {_peak_mib()}")
        if args.report:
            from mirage_metrics.report import build_report

            for workers in processes:
                started = time.perf_counter()
                page = build_report([root], root / "report", n_boot=args.bootstrap, workers=workers)
                report = time.perf_counter() - started
                outputs = sorted(p.name for p in page.parent.iterdir())
                print(
                    f"build_report, {_processes(workers)}:  {report:8.2f} s  ({len(outputs)} files, report.html "
                    f"{page.stat().st_size / 2**20:.1f} MiB, --bootstrap {args.bootstrap})"
                )
                print(f"ratio:             {_ratio(report, floor, REPORT_TARGET)}")
            print(f"peak resident memory after build_report: {_peak_mib()}")
    print(f"load average after timing (1, 5, 15 min): {_load()}")


if __name__ == "__main__":
    main()
