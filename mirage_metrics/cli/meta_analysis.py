"""``mirage meta-analysis SOURCES... --out DIR``: which metrics make abilities look emergent.

Reads the sources (BIG-bench results files, lm-eval output folders, tidy CSVs),
computes every curve's emergence score and writes to ``--out``:
``emergence_scores.csv``, ``by_metric.csv``, ``meta_analysis.json`` (the settings),
two PNG plots and the self-contained page ``meta_analysis.html``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# pandas and matplotlib load in run(), not for `mirage --help`.
from mirage_metrics.constants import DEFAULT_THRESHOLD, PARAMETER_KINDS


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "meta-analysis",
        help="emergence scores per metric over BIG-bench results, lm-eval outputs or a tidy CSV (the paper's Fig 5)",
        description=(
            "For every (source, family, task, subtask, shots, metric) curve with two or more model sizes, compute "
            "the emergence score against parameter count, and per metric the share of curves above a threshold. "
            "SOURCES: BIG-bench results (a scores_<family>_<model>.json file or any folder above such files, e.g. "
            "a BIG-bench checkout), lm-eval output folders (mirage sweep or lm_eval --output_path), or CSV files "
            "with columns family,model,parameters,task,metric,value (optional subtask,shots)."
        ),
    )
    parser.add_argument("sources", nargs="+", help="result files or folders (see above)")
    parser.add_argument("--out", required=True, help="output folder (created if needed)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"a curve counts as emergent-looking when |emergence score| exceeds this (default {DEFAULT_THRESHOLD:g})",
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
    from mirage_metrics.atomic_files import write_csv, write_text
    from mirage_metrics.html_report import render_page
    from mirage_metrics.meta import (
        BY_METRIC_FILE,
        DISTRIBUTION_PLOT,
        PAGE_FILE,
        SCORES_FILE,
        SETTINGS_FILE,
        SHARE_PLOT,
        emergence_scores,
        read_sources,
        report_section,
        summarize_by_metric,
    )
    from mirage_metrics.plots.meta import plot_score_distributions, plot_share_above_threshold

    try:
        frame = read_sources(args.sources, params=args.params, param_counts=args.param_counts, progress=True)
        scores = emergence_scores(frame, progress=True)
        by_metric = summarize_by_metric(scores, threshold=args.threshold)
    except ValueError as error:
        print(f"mirage meta-analysis: error: {error}", file=sys.stderr)
        return 2
    out = Path(args.out)
    write_csv(scores, out / SCORES_FILE)
    write_csv(by_metric, out / BY_METRIC_FILE)
    settings = {
        "sources": [str(s) for s in args.sources],
        "params": args.params,
        "param_counts": None if args.param_counts is None else str(args.param_counts),
        "threshold": args.threshold,
    }
    write_text(json.dumps(settings, indent=2) + "\n", out / SETTINGS_FILE)
    if not scores.empty:
        plot_score_distributions(scores, by_metric["metric"], args.threshold, out / DISTRIBUTION_PLOT)
        plot_share_above_threshold(by_metric, args.threshold, out / SHARE_PLOT)
    write_text(render_page("mirage meta-analysis", [report_section(out)]), out / PAGE_FILE)
    print(f"{len(scores)} curves over {by_metric.shape[0]} metrics; wrote {out / PAGE_FILE}")
    for metric, n_pairs, median, share in by_metric.itertuples(index=False):
        print(f"  {metric}: {share:.0%} of {n_pairs} curves above {args.threshold:g} (median |score| {median:.3g})")
    return 0
