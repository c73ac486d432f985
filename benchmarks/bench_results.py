"""Reading sweep outputs: ``read_results`` on 10 models x 100,000 samples vs the bare JSON-parse floor.

Writes a synthetic sweep folder in lm-eval's own format (``results_<date>.json`` +
``samples_<task>_<date>.jsonl`` + ``model.json`` per model; every sample line as
lm-eval logs an arithmetic ``_gen`` task: the doc, the rendered 2-shot prompt, the
response, hashes and 12 per-sample metrics), then times, on the same files:

- the floor: ``json.loads`` of every line of every samples file, nothing kept;
- ``mirage_metrics.results.read_results`` of the folder (the tidy table, every row).

Prints both times, the ratio (target <= 2x), the table's rows and memory, and the
process's peak resident memory. Run::

    .venv/bin/python benchmarks/bench_results.py                         # 10 models x 100,000 samples
    .venv/bin/python benchmarks/bench_results.py --models 3 --samples 20000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from pathlib import Path

from mirage_metrics.results import read_results

TASK = "mirage_arith_2dm_gen"
DATE = "2026-01-01T00-00-00.000000"
TARGET_RATIO = 2.0


def _sample_line(doc_id: int, rng: random.Random) -> str:
    a, b = rng.randrange(10, 100), rng.randrange(10, 100)
    answer = str(a * b)
    response = answer if rng.random() < 0.3 else str(a * b + rng.randrange(1, 50))
    metrics = {"exact_match": float(response == answer), "token_edit_distance": rng.randrange(0, 5)}
    for length in range(1, 6):
        applicable = length <= len(answer)
        metrics[f"exact_match_L{length}"] = float(response[:length] == answer[:length]) if applicable else float("nan")
        metrics[f"token_edit_distance_L{length}"] = float(rng.randrange(0, length + 1)) if applicable else float("nan")
    prompt = f"Q: What is 54 times 4? A: 216\n\nQ: What is 27 times 94? A: 2538\n\nQ: What is {a} times {b}? A:"
    record = {
        "doc_id": doc_id,
        "doc": {"id": f"2dm-test-{doc_id}", "a": a, "b": b, "operator": "*", "answer": answer,
                "question": f"Q: What is {a} times {b}? A:", "answer_length": len(answer)},
        "target": answer,
        "arguments": {"gen_args_0": {"arg_0": prompt, "arg_1": {"until": ["\n"], "do_sample": False, "max_gen_toks": 16}}},
        "resps": [[response]],
        "filtered_resps": [response],
        "filter": "none",
        "metrics": list(metrics),
        "doc_hash": f"{rng.getrandbits(256):064x}",
        "prompt_hash": f"{rng.getrandbits(256):064x}",
        "target_hash": f"{rng.getrandbits(256):064x}",
        **metrics,
    }  # fmt: skip
    return json.dumps(record) + "\n"


def write_sweep(root: Path, n_models: int, n_samples: int) -> list[Path]:
    """A sweep folder ``root/bench/model-<i>/``; returns the samples files."""
    files = []
    for index in range(n_models):
        folder = root / "bench" / f"model-{index}"
        folder.mkdir(parents=True)
        rng = random.Random(index)
        samples = folder / f"samples_{TASK}_{DATE}.jsonl"
        with open(samples, "w") as handle:
            handle.writelines(_sample_line(doc_id, rng) for doc_id in range(n_samples))
        results = {"results": {TASK: {"alias": TASK}}, "n-samples": {TASK: {"original": n_samples, "effective": n_samples}}}
        (folder / f"results_{DATE}.json").write_text(json.dumps(results))
        info = {"family": "bench", "model": f"model-{index}", "path": str(folder), "params": 10**6 * (index + 1)}
        (folder / "model.json").write_text(json.dumps(info))
        files.append(samples)
    return files


def json_floor(files: list[Path]) -> float:
    loads = json.loads
    started = time.perf_counter()
    for file in files:
        with open(file, "rb") as handle:
            for line in handle:
                loads(line)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--samples", type=int, default=100_000, help="samples per model")
    parser.add_argument("--dir", help="where to write the synthetic files (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        files = write_sweep(root, args.models, args.samples)
        size = sum(f.stat().st_size for f in files)
        print(f"wrote {args.models} models x {args.samples:,} samples, {size / 2**20:,.0f} MiB "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        json_floor(files[:1])  # warm the page cache and the interpreter
        floor = json_floor(files)
        started = time.perf_counter()
        frame = read_results(root)
        ours = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"json.loads floor:  {floor:8.2f} s  ({args.models * args.samples / floor:,.0f} lines/s)")
    print(f"read_results:      {ours:8.2f} s  ({len(frame):,} rows, {frame.memory_usage(deep=True).sum() / 2**20:,.0f} MiB)")
    print(f"ratio:             {ours / floor:8.2f}x  (target <= {TARGET_RATIO:.0f}x: {'met' if ours / floor <= TARGET_RATIO else 'NOT met'})")
    print(f"peak resident memory of this process: {peak_mib:,.0f} MiB")


if __name__ == "__main__":
    main()
