"""``mirage vision autoencoder|omniglot``: the paper's vision studies as resumable size sweeps.

Writes ``<out>/samples.csv`` (per-sample rows in the schema of lm-eval results:
family, model, params, task, metric, length, sample_id, value), a short
``<out>/summary.csv`` (n and mean per model and curve) and ``<out>/sizes/<model>.*``
per finished size; ``mirage report <out>`` makes the intervals, scores and plots.
Errors are ValueErrors, which ``mirage`` prints as one line naming the flag.
"""

from __future__ import annotations

import argparse
import math

# torch and pandas load in the functions that run a study, not for `mirage --help`.
from mirage_metrics.vision import defaults


def _positive_ints(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated integers, e.g. 8,32,128") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must list positive integers, e.g. 8,32,128")
    return values


def _thresholds(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated numbers, e.g. 0.003,0.004") from None
    if not values or not all(0 < value < math.inf for value in values):
        raise argparse.ArgumentTypeError(f"{text!r} must list positive finite thresholds, e.g. 0.003,0.004")
    return values


def _common_options(
    parser: argparse.ArgumentParser,
    knob: str,
    default_sizes,
    data_names: list[str],
    batch_size: int,
    learning_rate: float,
) -> None:
    parser.add_argument("--out", required=True, help="output folder (resumable: finished sizes are skipped)")
    parser.add_argument(
        "--sizes",
        type=_positive_ints,
        default=list(default_sizes),
        help=f"comma-separated {knob} (default {','.join(map(str, default_sizes))})",
    )
    parser.add_argument(
        "--data",
        choices=data_names,
        default=data_names[0],
        help="real data, or 'synthetic': random tensors of the same shape (smoke/throughput, not a result)",
    )
    parser.add_argument("--data-dir", help="folder holding the data (see --help of each study for the layout)")
    parser.add_argument("--download", action="store_true", help="fetch the data into --data-dir with torchvision")
    parser.add_argument("--device", default="auto", help="torch device: auto (CUDA if available), cpu, cuda, cuda:1")
    parser.add_argument(
        "--shard", help="i/n (1 <= i <= n): run only every n-th size starting at the i-th, for n parallel jobs"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of data, initialisation and shuffling (default %(default)s)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=batch_size, help="training minibatch size (default %(default)s)"
    )
    parser.add_argument(
        "--learning-rate", type=float, default=learning_rate, help="Adam learning rate (default %(default)g)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "vision",
        help="the paper's vision studies (CIFAR100 autoencoder, Omniglot transformer) as size sweeps",
        description="Train one model per size, score every test sample with a continuous and a discontinuous "
        "metric, write samples.csv. `mirage report OUT` makes the intervals, scores and plots.",
    )
    studies = parser.add_subparsers(dest="study", metavar="STUDY", required=True)

    autoencoder = studies.add_parser(
        "autoencoder",
        help="CIFAR100 shallow autoencoder (paper Fig 7): MSE vs Reconstruction_c",
        description="--data-dir holds torchvision's layout: DIR/cifar-100-python/{train,test} "
        "(extract https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz there, or pass --download).",
    )
    _common_options(
        autoencoder,
        "bottleneck widths h",
        defaults.BOTTLENECKS,
        ["cifar100", "synthetic"],
        defaults.AUTOENCODER_BATCH_SIZE,
        defaults.AUTOENCODER_LEARNING_RATE,
    )
    autoencoder.add_argument(
        "--epochs", type=int, default=defaults.AUTOENCODER_EPOCHS, help="training epochs per size (default %(default)s)"
    )
    autoencoder.add_argument(
        "--thresholds",
        type=_thresholds,
        default=list(defaults.THRESHOLDS),
        help="comma-separated MSE thresholds c of Reconstruction_c (default "
        f"{','.join(map(str, defaults.THRESHOLDS))})",
    )
    autoencoder.add_argument("--train-images", type=int, help="use only the first N training images")
    autoencoder.add_argument("--test-images", type=int, help="use only the first N test images")
    autoencoder.set_defaults(func=run)

    omniglot = studies.add_parser(
        "omniglot",
        help="Omniglot autoregressive transformer (paper Fig 8): per-image vs all-L-correct accuracy",
        description="--data-dir is a folder of alphabet/character/*.png (e.g. extracted images_background or "
        "images_background_small1), torchvision's layout (DIR/omniglot-py/images_background/...) or "
        "one of those zip files.",
    )
    _common_options(
        omniglot,
        "transformer widths",
        defaults.WIDTHS,
        ["omniglot", "synthetic"],
        defaults.OMNIGLOT_BATCH_SIZE,
        defaults.OMNIGLOT_LEARNING_RATE,
    )
    omniglot.add_argument(
        "--epochs", type=int, default=defaults.OMNIGLOT_EPOCHS, help="training epochs per size (default %(default)s)"
    )
    omniglot.add_argument(
        "--image-size",
        type=int,
        default=defaults.IMAGE_SIZE,
        help="images are resized to this square (default %(default)s)",
    )
    omniglot.add_argument(
        "--test-sequences",
        type=int,
        default=defaults.TEST_SEQUENCES,
        help="test sequences of 5 images (default %(default)s)",
    )
    omniglot.add_argument(
        "--classes-per-sequence",
        type=int,
        default=defaults.CLASSES_PER_SEQUENCE,
        help="distinct characters per sequence (burstiness, default %(default)s)",
    )
    omniglot.set_defaults(func=run)


def _autoencoder_sweep(args):
    from mirage_metrics.vision.study import AutoencoderConfig, run_autoencoder_study, select_shard

    config = AutoencoderConfig(
        data=args.data,
        data_dir=args.data_dir,
        download=args.download,
        train_images=args.train_images,
        test_images=args.test_images,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        thresholds=tuple(args.thresholds),
        seed=args.seed,
    )
    sizes = select_shard(args.sizes, args.shard)
    return run_autoencoder_study(args.out, config, sizes, device=args.device, progress=not args.no_progress)


def _omniglot_sweep(args):
    from mirage_metrics.vision.study import OmniglotConfig, run_omniglot_study, select_shard

    config = OmniglotConfig(
        data=args.data,
        data_dir=args.data_dir,
        download=args.download,
        image_size=args.image_size,
        test_sequences=args.test_sequences,
        classes_per_sequence=args.classes_per_sequence,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
    )
    sizes = select_shard(args.sizes, args.shard)
    return run_omniglot_study(args.out, config, sizes, device=args.device, progress=not args.no_progress)


def _check_out(args) -> None:
    """Refuse an ``--out`` that holds anything but an earlier sweep's files: resuming there would overwrite them."""
    import re

    from mirage_metrics.atomic_files import output_path
    from mirage_metrics.vision.samples import SAMPLES_FILE, SUMMARY_FILE

    own = {"config.json", "sizes", SAMPLES_FILE, SUMMARY_FILE}
    temporary = re.compile(rf"\.({'|'.join(map(re.escape, own))})\.tmp-[0-9a-f]{{12}}")  # left by a killed run
    out = output_path(args.out, "mirage vision", inputs=[args.data_dir], replaced=False)
    foreign = sorted(
        entry.name
        for entry in (out.iterdir() if out.is_dir() else ())
        if entry.name not in own and not temporary.fullmatch(entry.name)
    )
    if foreign:
        raise ValueError(
            f"--out {args.out} holds files that mirage vision did not write there ({', '.join(foreign[:3])}"
            f"{', ...' if len(foreign) > 3 else ''}); pass a new or empty folder, or an earlier sweep's to resume it"
        )


def run(args) -> int:
    _check_out(args)
    sweep = _autoencoder_sweep if args.study == "autoencoder" else _omniglot_sweep
    samples = sweep(args)
    print(
        f"{samples['model'].nunique()} sizes in {args.out}/samples.csv; for intervals, emergence scores and "
        f"plots: mirage report {args.out} --out REPORT_FOLDER"
    )
    return 0
