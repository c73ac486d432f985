"""Token edit distance on 1,000,000 arithmetic-length (prediction, reference) pairs, against named peers.

One run, side by side, same data:

- ``mirage_metrics.token_edit_distance`` (ours: input validation + rapidfuzz ``cpdist`` with ``workers=1``);
- bare ``cpdist`` without validation, ``workers=1`` and ``workers=-1`` (all CPUs): what ours could gain;
- a bare ``Levenshtein.distance`` loop: the C++ floor, no validation;
- a pure-Python dynamic programme, on a subsample, extrapolated to pairs/s;
- ``torchmetrics.functional.text.edit_distance`` (``reduction="none"``), on a subsample, extrapolated.

Prints pairs/s for each and the ratios that the README quotes. Run::

    .venv/bin/python benchmarks/bench_metrics.py            # 1,000,000 pairs
    .venv/bin/python benchmarks/bench_metrics.py --pairs 100000 --subsample 5000
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Callable

import numpy as np

TARGETS = {"Levenshtein.distance loop": 0.5, "pure-Python DP": 10.0, "torchmetrics edit_distance": 50.0}


def arithmetic_pairs(n_pairs: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """References are sums/products of up to 5-digit numbers (1 to 10 digits); predictions are near misses."""
    rng = np.random.default_rng(seed)
    digits = rng.integers(1, 6, size=(n_pairs, 2))
    a = rng.integers(0, 10 ** digits[:, 0])
    b = rng.integers(0, 10 ** digits[:, 1])
    references = np.where(rng.random(n_pairs) < 0.5, a + b, a * b)
    noise = rng.integers(-999, 1000, size=n_pairs)
    predictions = np.where(rng.random(n_pairs) < 0.3, references, np.abs(references + noise))
    return predictions.astype(str).tolist(), references.astype(str).tolist()


def python_dp(prediction: str, reference: str) -> int:
    """Textbook Levenshtein dynamic programme, one row at a time."""
    previous = list(range(len(reference) + 1))
    for i, p in enumerate(prediction, start=1):
        current = [i]
        for j, r in enumerate(reference, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (p != r)))
        previous = current
    return previous[-1]


def pairs_per_second(compute: Callable[[list[str], list[str]], object], predictions, references) -> tuple[float, object]:
    start = time.perf_counter()
    result = compute(predictions, references)
    return len(predictions) / (time.perf_counter() - start), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=1_000_000, help="pairs for ours and the bare loop")
    parser.add_argument("--subsample", type=int, default=20_000, help="pairs for the slow peers (extrapolated)")
    args = parser.parse_args()

    import Levenshtein
    import torchmetrics.functional.text as tm_text

    from mirage_metrics import token_edit_distance
    from rapidfuzz.distance import Levenshtein as rapidfuzz_levenshtein
    from rapidfuzz.process import cpdist

    predictions, references = arithmetic_pairs(args.pairs)
    sub_p, sub_r = predictions[: args.subsample], references[: args.subsample]
    print(f"{args.pairs:,} pairs, reference lengths 1-{max(map(len, references))} characters; "
          f"slow peers on the first {args.subsample:,} pairs, extrapolated as pairs/s; {os.cpu_count()} CPUs")

    rates = {}
    rates["ours: token_edit_distance"], ours = pairs_per_second(token_edit_distance, predictions, references)
    for workers in (1, -1):
        rates[f"rapidfuzz cpdist, workers={workers}"], _ = pairs_per_second(
            lambda ps, rs: cpdist(ps, rs, scorer=rapidfuzz_levenshtein.distance, workers=workers),
            predictions,
            references,
        )
    rates["Levenshtein.distance loop"], floor = pairs_per_second(
        lambda ps, rs: [Levenshtein.distance(p, r) for p, r in zip(ps, rs)], predictions, references
    )
    rates["pure-Python DP"], dp = pairs_per_second(lambda ps, rs: list(map(python_dp, ps, rs)), sub_p, sub_r)
    rates["torchmetrics edit_distance"], tm = pairs_per_second(
        lambda ps, rs: tm_text.edit_distance(ps, rs, reduction="none"), sub_p, sub_r
    )
    if not (np.array_equal(ours, floor) and np.array_equal(ours[: args.subsample], dp)
            and np.array_equal(ours[: args.subsample], np.asarray(tm))):
        raise SystemExit("the implementations disagree; the benchmark is void")

    width = max(map(len, rates))
    for name, rate in rates.items():
        print(f"{name:<{width}}  {rate:>14,.0f} pairs/s")
    print()
    for peer, target in TARGETS.items():
        ratio = rates["ours: token_edit_distance"] / rates[peer]
        verdict = "meets" if ratio >= target else "MISSES"
        print(f"ours / {peer:<{width}}  {ratio:>8.2f}x   (target >= {target}x: {verdict})")


if __name__ == "__main__":
    main()
