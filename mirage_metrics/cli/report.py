"""``mirage report``: CSVs, plots and a self-contained report.html from sweep, lm-eval, vision or meta-analysis folders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mirage_metrics.meta.defaults import PARAMETER_KINDS
from mirage_metrics.x_axes import X_CHOICES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="analyse results across model sizes: metrics.csv, emergence.csv, fit.csv, plots, report.html",
        description=(
            "Each SOURCE is a folder from `mirage sweep`, a plain `lm_eval --output_path ... --log_samples` run, "
            "a vision study (samples.csv, from `mirage vision`) or `mirage meta-analysis` (by_metric.csv). "
            "lm-eval sources get per-model means with bootstrap 95%% CIs, emergence scores across sizes and the "
            "mirage fit L_CE(N) = (N/c)^alpha from the *_ll tasks."
        ),
    )
    parser.add_argument("sources", nargs="+", type=Path, metavar="SOURCE", help="result folders")
    parser.add_argument(
        "--out", type=Path, required=True, help="output folder for the CSVs, PNGs and report.html, replaced as a whole"
    )
    parser.add_argument(
        "--holdout-largest",
        type=int,
        default=0,
        metavar="K",
        help="fit the mirage model on all but the K largest models and report its prediction "
        "error on them (default 0: fit on all)",
    )
    parser.add_argument(
        "--x",
        choices=X_CHOICES,
        default="params",
        help="the x of every curve, score and figure: the parameter count (default), or how far each checkpoint "
        "was trained, its training step or tokens (step and tokens of the family file; a revision step<N>, "
        "Pythia's checkpoints, gives the step); the mirage fit, a law in parameters, is made only against params",
    )
    parser.add_argument(
        "--params",
        type=_parameter_kind,
        default="total",
        metavar="{" + ",".join(sorted(PARAMETER_KINDS)) + "}",
        help="which parameter count is the x of --x params: total or non-embedding (default total; non-embedding "
        "counts come from the family file, the built-in families or --param-counts)",
    )
    parser.add_argument(
        "--param-counts",
        type=Path,
        default=None,
        metavar="FILE",
        help="counts (of the --params kind) of models lm-eval did not count: YAML 'model: count' or CSV with "
        "columns model,params",
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="N",
        help="bootstrap resamples per confidence interval (default 1000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument(
        "--workers",
        type=_workers,
        default="auto",
        metavar="N",
        help="processes parsing lm-eval samples files side by side (default auto: one per CPU "
        "core when they hold more than 64 MiB, else 1); the results are the same for any N",
    )
    parser.set_defaults(func=run)


def _parameter_kind(text: str) -> str:
    if text in PARAMETER_KINDS:
        return text
    hint = "; a file of parameter counts goes to --param-counts FILE" if text not in X_CHOICES else ""
    raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(sorted(PARAMETER_KINDS))}{hint}")


def _workers(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes or 'auto'") from None


def run(args) -> int:
    from mirage_metrics.report import build_report
    from mirage_metrics.results import results_warnings

    with results_warnings() as notes:  # a ValueError goes to mirage_metrics.cli.main, which names the flag
        page = build_report(
            args.sources,
            args.out,
            holdout_largest=args.holdout_largest,
            x=args.x,
            params=args.params,
            param_counts=args.param_counts,
            n_boot=args.bootstrap,
            seed=args.seed,
            workers=args.workers,
            progress=True,
        )
    for note in notes:
        print(f"mirage report: warning: {note}", file=sys.stderr)
    print(f"Wrote {page} (and the CSVs and plots beside it)")
    return 0
