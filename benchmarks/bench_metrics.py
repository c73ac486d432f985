"""Token edit distance, multiple choice grade, Brier scores and prefix metrics on 1,000,000 samples, against peers.

Token edit distance (``--benchmark edit``), one run, side by side, same data:

- ``mirage_metrics.token_edit_distance`` (ours: input validation + rapidfuzz ``cpdist`` with ``workers=1``);
- bare ``cpdist`` without validation, ``workers=1`` and ``workers=-1`` (all CPUs): what ours could gain;
- a bare ``Levenshtein.distance`` loop: the C++ floor, no validation;
- a pure-Python dynamic programme, on a subsample, extrapolated to pairs/s;
- ``torchmetrics.functional.text.edit_distance`` (``reduction="none"``), on a subsample, extrapolated.

Multiple choice grade (``--benchmark mcg``), 1,000,000 samples of 4 choices, lm-eval-like log-likelihoods
rounded to 0.01 nats so that about 1% of samples have a tied maximum:

- ``mirage_metrics.multiple_choice_grade`` on a numpy array with index targets, and on Python lists (what lm-eval's
  per-sample results give): validation, BIG-bench's normalisation and its sha256 tie-break where there is a tie;
- a plain numpy argmax, ``(np.argmax(ll, axis=1) == targets)``: the named peer (first maximum among ties);
- the per-row grade it replaced (one sha256 per sample), on a subsample, extrapolated.

Brier scores (``--benchmark brier``), the same 1,000,000 samples of 4 choices as numpy arrays:

- ``mirage_metrics.brier_score`` on probabilities (the softmax of the log-likelihoods) and index targets, and
  ``mirage_metrics.bigbench_brier_score`` on the log-likelihoods: validation, BIG-bench's t = s / sum(s) and its sums
  added as its Python code adds them;
- their named peers, numpy one-liners computing the same sums over the same arrays without validation:
  ``(t * (p - 1) ** 2 + (1 - t) * p**2).sum(axis=1)`` with t the one-hot targets, and the same summed over everything
  after a softmax, divided by the number of options (target: ours within 5 times each).

Prefix metrics (``--benchmark prefix``), the arithmetic pairs of ``edit``: ``mirage_metrics.prefix_metrics`` at lengths
1-5 (exact match and edit distance of every prefix) against one full-answer ``token_edit_distance`` call and one
``exact_match`` call on the same pairs (target: prefix metrics in at most 2 times the edit distance's time).

The brier and prefix rows count the fastest of 3 calls each (a first call also pays for fresh memory pages).
Prints samples/s for each and the ratios that the README quotes. Run::

    .venv/bin/python benchmarks/bench_metrics.py            # all, 1,000,000 pairs / samples
    .venv/bin/python benchmarks/bench_metrics.py --benchmark mcg --samples 100000 --subsample 5000
    .venv/bin/python benchmarks/bench_metrics.py --benchmark brier --samples 100000
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Callable

import numpy as np

REPEATS = 3  # calls per row of the brier and prefix parts, the fastest counted
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


def pairs_per_second(
    compute: Callable[[list[str], list[str]], object], predictions, references, repeats: int = 1
) -> tuple[float, object]:
    """Items per second of the fastest of ``repeats`` calls (a first call also pays for fresh memory pages)."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = compute(predictions, references)
        seconds.append(time.perf_counter() - start)
    return len(predictions) / min(seconds), result


def choice_samples(n_samples: int, n_choices: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihoods of n_choices continuations (sums of ~5 token log-probs, rounded to 0.01) and index targets."""
    rng = np.random.default_rng(seed)
    loglikelihoods = np.round(-rng.gamma(5.0, 1.5, size=(n_samples, n_choices)), 2)
    return loglikelihoods, rng.integers(0, n_choices, size=n_samples)


def per_row_multiple_choice_grade(loglikelihoods, targets) -> np.ndarray:
    """The per-row grade that multiple_choice_grade replaced: BIG-bench's normalisation and a sha256 per sample."""
    import hashlib

    from scipy.special import logsumexp

    grades = []
    for row, target in zip(loglikelihoods, targets):
        scored = np.asarray(row, dtype=np.float64) - logsumexp(row)
        tied = np.flatnonzero(scored == scored.max())
        grades.append(float(tied[int(hashlib.sha256(scored.tobytes()).hexdigest(), 16) % len(tied)] == target))
    return np.array(grades)


def bench_multiple_choice_grade(n_samples: int, subsample: int) -> None:
    from mirage_metrics import multiple_choice_grade

    loglikelihoods, targets = choice_samples(n_samples)
    rows, indices = loglikelihoods.tolist(), targets.tolist()
    top = np.sort(loglikelihoods, axis=1)
    tied = top[:, -1] == top[:, -2]
    print(
        f"{n_samples:,} samples x {loglikelihoods.shape[1]} choices, {tied.mean():.2%} with a tied maximum; "
        f"the per-row grade on the first {subsample:,}, extrapolated as samples/s; {os.cpu_count()} CPUs"
    )
    rates = {}
    rates["ours: multiple_choice_grade, numpy array"], ours = pairs_per_second(
        multiple_choice_grade, loglikelihoods, targets
    )
    rates["ours: multiple_choice_grade, Python lists"], from_lists = pairs_per_second(
        multiple_choice_grade, rows, indices
    )
    rates["numpy argmax (first maximum)"], argmax = pairs_per_second(
        lambda ll, t: (np.argmax(ll, axis=1) == t).astype(float), loglikelihoods, targets
    )
    rates["per-row grade (before)"], before = pairs_per_second(
        per_row_multiple_choice_grade, rows[:subsample], indices[:subsample]
    )
    if not (
        np.array_equal(ours, from_lists)
        and np.array_equal(ours[~tied], argmax[~tied])
        and np.array_equal(ours[:subsample], before)
    ):
        raise SystemExit("the implementations disagree; the benchmark is void")
    report(
        rates,
        "samples/s",
        "ours: multiple_choice_grade, numpy array",
        {"numpy argmax (first maximum)": None, "per-row grade (before)": None},
    )


def bench_brier_scores(n_samples: int) -> None:
    from mirage_metrics import bigbench_brier_score, brier_score

    loglikelihoods, targets = choice_samples(n_samples)
    shifted = np.exp(loglikelihoods - loglikelihoods.max(axis=1, keepdims=True))
    probs = shifted / shifted.sum(axis=1, keepdims=True)
    print(f"{n_samples:,} samples x {probs.shape[1]} choices, numpy arrays, index targets; {os.cpu_count()} CPUs")

    def brier_sums(p: np.ndarray, y: np.ndarray) -> np.ndarray:
        t = np.eye(p.shape[1])[y]
        return (t * (p - 1) ** 2 + (1 - t) * p**2).sum(axis=1)

    def bigbench_one_liner(ll: np.ndarray, y: np.ndarray) -> float:
        e = np.exp(ll - ll.max(axis=1, keepdims=True))
        return brier_sums(e / e.sum(axis=1, keepdims=True), y).sum() / ll.size

    per_sample, total = {}, {}
    per_sample["ours: brier_score"], ours = pairs_per_second(brier_score, probs, targets, REPEATS)
    per_sample["numpy one-liner: brier sums"], peer = pairs_per_second(brier_sums, probs, targets, REPEATS)
    total["ours: bigbench_brier_score"], ours_total = pairs_per_second(
        bigbench_brier_score, loglikelihoods, targets, REPEATS
    )
    total["numpy one-liner: softmax, brier mean"], peer_total = pairs_per_second(
        bigbench_one_liner, loglikelihoods, targets, REPEATS
    )
    if not (np.allclose(ours, peer, rtol=1e-12, atol=1e-15) and np.isclose(ours_total, peer_total, rtol=1e-12)):
        raise SystemExit("the implementations disagree; the benchmark is void")
    report(per_sample, "samples/s", "ours: brier_score", {"numpy one-liner: brier sums": 0.2})
    print()
    report(total, "samples/s", "ours: bigbench_brier_score", {"numpy one-liner: softmax, brier mean": 0.2})


def bench_prefix_metrics(n_pairs: int) -> None:
    from mirage_metrics import exact_match, prefix_metrics, token_edit_distance

    predictions, references = arithmetic_pairs(n_pairs)
    lengths = (1, 2, 3, 4, 5)
    print(f"{n_pairs:,} pairs, prefix lengths {lengths}; {os.cpu_count()} CPUs")
    rates = {}
    rates["ours: prefix_metrics, lengths 1-5"], ours = pairs_per_second(
        lambda ps, rs: prefix_metrics(ps, rs, lengths), predictions, references, REPEATS
    )
    rates["token_edit_distance, full answers"], full = pairs_per_second(
        token_edit_distance, predictions, references, REPEATS
    )
    rates["exact_match, full answers"], _ = pairs_per_second(exact_match, predictions, references, REPEATS)
    heads = min(n_pairs, 20_000)  # the length-5 prefixes of a subsample, scored as whole strings
    whole = token_edit_distance([p[:5] for p in predictions[:heads]], [r[:5] for r in references[:heads]])
    long_enough = np.array([len(r) >= 5 for r in references[:heads]])
    if not np.array_equal(ours["token_edit_distance_L5"][:heads][long_enough], whole[long_enough]):
        raise SystemExit("the implementations disagree; the benchmark is void")
    report(rates, "pairs/s", "ours: prefix_metrics, lengths 1-5", {"token_edit_distance, full answers": 0.5})


def report(rates: dict[str, float], unit: str, ours: str, targets: dict[str, float | None]) -> None:
    """Rates side by side, then ours over each peer (against a target where there is one)."""
    width = max(map(len, rates))
    for name, rate in rates.items():
        print(f"{name:<{width}}  {rate:>14,.0f} {unit}")
    print()
    for peer, target in targets.items():
        ratio = rates[ours] / rates[peer]
        verdict = "" if target is None else f"   (target >= {target}x: {'meets' if ratio >= target else 'MISSES'})"
        print(f"ours / {peer:<{width}}  {ratio:>8.2f}x{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--benchmark", choices=("all", "edit", "mcg", "brier", "prefix"), default="all")
    parser.add_argument("--pairs", type=int, default=1_000_000, help="pairs for ours and the bare loop")
    parser.add_argument("--samples", type=int, default=1_000_000, help="multiple-choice samples")
    parser.add_argument("--subsample", type=int, default=20_000, help="pairs or samples for the slow peers")
    args = parser.parse_args()
    parts = {
        "edit": lambda: bench_token_edit_distance(args.pairs, args.subsample),
        "mcg": lambda: bench_multiple_choice_grade(args.samples, args.subsample),
        "brier": lambda: bench_brier_scores(args.samples),
        "prefix": lambda: bench_prefix_metrics(args.pairs),
    }
    for k, (name, run) in enumerate(parts.items()):
        if args.benchmark in ("all", name):
            if k and args.benchmark == "all":
                print()
            run()


def bench_token_edit_distance(n_pairs: int, subsample: int) -> None:
    import Levenshtein
    import torchmetrics.functional.text as tm_text
    from rapidfuzz.distance import Levenshtein as rapidfuzz_levenshtein
    from rapidfuzz.process import cpdist

    from mirage_metrics import token_edit_distance

    predictions, references = arithmetic_pairs(n_pairs)
    sub_p, sub_r = predictions[:subsample], references[:subsample]
    print(
        f"{n_pairs:,} pairs, reference lengths 1-{max(map(len, references))} characters; "
        f"slow peers on the first {subsample:,} pairs, extrapolated as pairs/s; {os.cpu_count()} CPUs"
    )

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
    if not (
        np.array_equal(ours, floor)
        and np.array_equal(ours[:subsample], dp)
        and np.array_equal(ours[:subsample], np.asarray(tm))
    ):
        raise SystemExit("the implementations disagree; the benchmark is void")
    report(rates, "pairs/s", "ours: token_edit_distance", TARGETS)


if __name__ == "__main__":
    main()
