"""Would the demo recipe learn a harder task? Train sizes of the demo family on it, then score them teacher-forced.

Trains each size with :func:`mirage_metrics.demo_family.build_family` (the demo's recipe: seed, batch 32, warm-up and
cosine schedule, the width-scaled learning rate unless ``--learning-rates`` sets one per size) on ``--task``
for ``--steps`` steps, then scores ``--problems`` test problems of that task, 2-shot as lm-eval renders them, with
the gold answer fed in (teacher forcing): the share of answer digits that are the model's top choice, the share of
problems with every digit its top choice, and the geometric-mean probability of the answer digits. Prints one line
per size. Training is single-threaded per model, two models at a time on a 2-core machine. Run::

    .venv/bin/python benchmarks/probe_demo_task.py --task 4da --steps 8000 --sizes 2x32,2x48,2x64,2x128 \\
        --out /tmp/probe-4da

``--train-tasks`` trains on several tasks at once and still scores ``--task`` (the demo's recipe)::

    .venv/bin/python benchmarks/probe_demo_task.py --task 4da --train-tasks 1da,2da,3da,4da --steps 3000 \\
        --sizes 1x8,1x16,2x32,2x64 --sequences 4096 --out /tmp/probe-mix
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from mirage_metrics import arithmetic, demo_family


def score(folder: Path, task: str, problems: int) -> dict:
    """Teacher-forced digit accuracy, all-digits accuracy and per-digit probability of the checkpoint in ``folder``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    shots = arithmetic.shot_pool(task, 2)
    digit, every, probability = [], [], []
    with torch.no_grad():
        for problem in arithmetic.generate_problems(task, problems):
            answer = str(problem["a"] + problem["b"] if problem["operator"] == "+" else problem["a"] * problem["b"])
            text = arithmetic.format_prompt(shots, problem) + arithmetic.TARGET_DELIMITER + answer
            ids = torch.tensor([tokenizer(text)["input_ids"]])
            log_probs = torch.log_softmax(model(ids).logits[0, :-1], -1)[-len(answer) :]
            targets = ids[0, -len(answer) :]
            right = log_probs.argmax(-1) == targets
            digit.append(right.float().mean().item())
            every.append(float(right.all()))
            probability.append(log_probs.gather(1, targets[:, None]).mean().exp().item())
    return {"digit_accuracy": np.mean(digit), "all_digits": np.mean(every), "per_digit_prob": np.mean(probability)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="4da", help="arithmetic task, e.g. 3da, 4da (default 4da)")
    parser.add_argument("--train-tasks", default="", help="tasks to train on, comma-separated (default: --task alone)")
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--sizes", default="2x32,2x48,2x64,2x128", help="demo sizes, LAYERSxWIDTH, comma-separated")
    parser.add_argument("--learning-rates", default="", help="per size, comma-separated (empty: the recipe's)")
    parser.add_argument("--sequences", type=int, default=8192, help="training sequences (default 8192)")
    parser.add_argument("--problems", type=int, default=300, help="test problems scored per size")
    parser.add_argument("--out", type=Path, required=True, help="folder for the checkpoints (reused when present)")
    args = parser.parse_args()
    by_name = {f"{size.n_layer}x{size.n_embd}": size for size in demo_family.DEMO_SIZES}
    rates = [float(rate) for rate in args.learning_rates.split(",")] if args.learning_rates else []
    sizes = []
    for index, name in enumerate(args.sizes.split(",")):
        size = dataclasses.replace(by_name[name], steps=args.steps, prefix=f"probe-{args.task}")
        sizes.append(dataclasses.replace(size, learning_rate=rates[index]) if rates else size)
    train_tasks = tuple(args.train_tasks.split(",")) if args.train_tasks else (args.task,)
    plan = demo_family.TrainingPlan(tasks=train_tasks, sequences_per_task=args.sequences)
    records = demo_family.build_family(
        args.out, sizes, plan, progress=False, workers=demo_family.default_workers("cpu"), shipped_dir=None
    )
    for size, record in zip(sizes, records):
        scores = score(Path(record["path"]), args.task, args.problems)
        learning_rate = demo_family.size_learning_rate(size, plan)
        print(
            json.dumps(
                {
                    "size": record["name"],
                    "params": record["params"],
                    "learning_rate": learning_rate,
                    "final_loss": record["final_loss"],
                    "train_seconds": record["train_seconds"],
                    **{key: round(float(value), 3) for key, value in scores.items()},
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
