"""``mirage simulate``: the paper's mathematical model (Fig 2) as a table, CSV and plots."""

from __future__ import annotations

import argparse
from pathlib import Path

from mirage_metrics.simulate import DEFAULT_ALPHA, DEFAULT_C, DEFAULT_LENGTHS, DEFAULT_SIZES


def parse_sizes(text: str) -> list[float]:
    """``"3.5e8,1.3e9"`` → parameter counts.

    >>> parse_sizes("3.5e8, 1.3e9")
    [350000000.0, 1300000000.0]
    """
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes {text!r}: use comma-separated numbers, e.g. 3.5e8,1.3e9") from None


def parse_lengths(text: str) -> list[int]:
    """``"1..5"`` or ``"1,3,5"`` → target lengths.

    >>> parse_lengths("1..3"), parse_lengths("2,4")
    ([1, 2, 3], [2, 4])
    """
    try:
        if ".." in text:
            first, last = text.split("..")
            lengths = list(range(int(first), int(last) + 1))
        else:
            lengths = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        lengths = []
    if not lengths or min(lengths) < 1:
        raise argparse.ArgumentTypeError(f"--lengths {text!r}: use a range such as 1..5 or a list such as 1,3,5")
    return lengths


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="the paper's model: power-law loss → smooth p, sharp accuracy p^L, smooth edit distance (Fig 2)",
        description=(
            "Per-token loss L_CE(N) = (N/c)^alpha, p = exp(-L_CE); for targets of L tokens, accuracy p^L, "
            "token edit distance L(1-p), two-choice Brier (1-p^L)^2. Writes simulate.csv and PNG plots."
        ),
    )
    parser.add_argument("--c", type=float, default=DEFAULT_C, help="power-law scale c (default %(default)g)")
    parser.add_argument(
        "--alpha", type=float, default=DEFAULT_ALPHA, help="power-law exponent, negative (default %(default)g)"
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated parameter counts (default: GPT-3 API sizes "
        f"{','.join(f'{size:g}' for size in DEFAULT_SIZES)})",
    )
    parser.add_argument(
        "--lengths",
        type=parse_lengths,
        default=list(DEFAULT_LENGTHS),
        help="target lengths L, a range 1..5 or a list 1,3,5 (default 1..5)",
    )
    parser.add_argument(
        "--sample-problems",
        type=int,
        default=None,
        metavar="N",
        help="also sample N problems per size (Monte Carlo) to show the 1/N resolution limit",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample-problems (default %(default)s)")
    parser.add_argument(
        "--out", type=Path, required=True, help="output folder (simulate.csv, *.png), replaced as a whole"
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from mirage_metrics.atomic_files import OutputFolder, write_csv
    from mirage_metrics.plots.simulate import plot_sampled, plot_simulation
    from mirage_metrics.simulate import sample_problems, simulate

    target = OutputFolder(args.out, "mirage simulate")
    table = simulate(args.c, args.alpha, args.sizes, args.lengths)
    if args.sample_problems is not None:
        table = sample_problems(table, args.sample_problems, seed=args.seed)
    with target.writing() as work:
        write_csv(table, work / "simulate.csv")
        plot_simulation(table, work / "simulate.png")
        if args.sample_problems is not None:
            plot_sampled(table, work / "simulate_sampled.png")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"\nWrote {args.out / 'simulate.csv'} and plots to {args.out}/")
    return 0
