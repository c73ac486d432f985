"""``mirage meta-analysis SOURCES... --out DIR``: which metrics make abilities look emergent.

Reads the sources (BIG-bench results files, lm-eval output folders, tidy CSVs),
computes every curve's emergence score and jump sharpness and writes to ``--out``:
``emergence_scores.csv``, ``by_metric.csv`` (over curves with ``--min-sizes`` or more
sizes), ``meta_analysis.json`` (the settings and warnings), two PNG plots and the
self-contained page ``meta_analysis.html``. A threshold that the curves cannot cross
with their numbers of sizes is warned about on stderr, in the JSON and on the page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# pandas and matplotlib load in run(), not for `mirage --help`.
from mirage_metrics.meta.defaults import DEFAULT_MIN_SIZES, DEFAULT_THRESHOLD, PARAMETER_KINDS


def _min_sizes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of model sizes of at least 2")
    return value


def _direction(text: str) -> tuple[str, str]:
    metric, _, direction = text.rpartition("=")
    if not metric or direction.strip().lower() not in ("higher", "lower"):
        raise argparse.ArgumentTypeError(f"{text!r} is not METRIC=higher or METRIC=lower")
    return metric, direction.strip().lower()


def _directions(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """``--direction`` flags as ``{metric: direction}``; a metric given twice is an error."""
    directions = {}
    for metric, direction in pairs:
        if directions.setdefault(metric, direction) != direction:
            raise ValueError(
                f"--direction gives metric {metric!r} twice ({directions[metric]}, {direction}); give it once"
            )
    return directions


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "meta-analysis",
        help="emergence scores per metric over BIG-bench results, lm-eval outputs or a tidy CSV (the paper's Fig 5)",
        description=(
            "For every (source, family, task, subtask, shots, metric) curve with two or more model sizes, compute "
            "the emergence score and the jump sharpness against parameter count (signed: positive is better with "
            "size), and per metric their signed medians and the share of curves above a threshold. "
            "SOURCES: BIG-bench results (a scores_<family>_<model>.json file or any folder above such files, e.g. "
            "a BIG-bench checkout), lm-eval output folders (mirage sweep or lm_eval --output_path), or CSV files "
            "with columns family,model,params,task,metric,value (optional subtask,shots,direction; direction is "
            "higher or lower, which way the metric is better). A metric's direction: --direction, else the CSV's "
            "direction column, else the mirage registry's; a metric with none is left unsigned, with a warning."
        ),
    )
    parser.add_argument("sources", nargs="+", help="result files or folders (see above)")
    parser.add_argument("--out", required=True, help="output folder (created if needed, replaced as a whole)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"a curve counts as emergent-looking when |emergence score| exceeds this (default {DEFAULT_THRESHOLD:g}; "
        "only curves with 4 or more sizes can exceed 2)",
    )
    parser.add_argument(
        "--min-sizes",
        type=_min_sizes,
        default=DEFAULT_MIN_SIZES,
        metavar="N",
        help=f"summarise and plot only curves with at least N model sizes (default {DEFAULT_MIN_SIZES}: with 2 sizes "
        "the emergence score is only the sign of the change and jump sharpness is undefined); "
        "emergence_scores.csv keeps every curve",
    )
    parser.add_argument(
        "--direction",
        type=_direction,
        action="append",
        default=[],
        metavar="METRIC=higher|lower",
        help="which way METRIC (as the sources name it) is better; repeatable; wins over a CSV's direction column "
        "and the registry",
    )
    parser.add_argument(
        "--params",
        choices=sorted(PARAMETER_KINDS),
        default="total",
        help="parameter count on the x-axis: total or non-embedding (default total; a CSV gives its own)",
    )
    parser.add_argument(
        "--param-counts",
        type=Path,
        metavar="FILE",
        help="for lm-eval folders: counts (of the --params kind) of models they do not record, "
        "as YAML 'model: count' or CSV with columns model,params",
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from mirage_metrics.meta.build import build_meta_analysis

    result = build_meta_analysis(
        args.sources,
        args.out,
        params=args.params,
        param_counts=args.param_counts,
        threshold=args.threshold,
        min_sizes=args.min_sizes,
        directions=_directions(args.direction),
        progress=True,
    )
    scores, kept, by_metric = result.scores, result.kept, result.by_metric
    print(
        f"{len(scores)} curves, {len(kept)} with {args.min_sizes}+ sizes summarised over {by_metric.shape[0]} metrics; "
        f"wrote {result.page}"
    )
    for row in by_metric.itertuples(index=False):
        better = "direction unknown" if row.direction == "unknown" else f"{row.direction} is better"
        print(
            f"  {row.metric} ({better}, {row.kind}): {row.share_above_threshold:.0%} of {row.n_pairs} "
            f"curves above {args.threshold:g}; median score {row.median_signed_score:+.3g}, "
            f"jump sharpness {row.median_jump_sharpness:+.2f}"
        )
    for note in result.notes:
        print(f"  {note}")
    for warning in result.warnings:
        print(f"mirage meta-analysis: warning: {warning}", file=sys.stderr)
    return 0
