"""Throughput of the two vision sweeps: training images/s per size and wall time per sweep.

One prepared run for a CUDA machine without network: the autoencoder sweep on synthetic
CIFAR-shaped data (50,000 train / 10,000 test images by default) and the Omniglot sweep
on the real subset (--omniglot, default $MIRAGE_DATA/omniglot/images_background_small1.zip,
the data folder the tests use; see the README's Tests), both at their default sizes. The same
script measures the CPU at a small scale:

    python benchmarks/vision_gpu.py --omniglot images_background_small1.zip                       # CUDA, full sizes
    python benchmarks/vision_gpu.py --omniglot images_background_small1.zip --device cpu --small  # CPU, 3 sizes each

Numbers are printed (a table per study, then the sweep times) and kept in --out.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from mirage_metrics.vision.study import (
    DEFAULT_BOTTLENECKS,
    DEFAULT_WIDTHS,
    AutoencoderConfig,
    OmniglotConfig,
    run_autoencoder_study,
    run_omniglot_study,
)

DATA_ENV = "MIRAGE_DATA"
OMNIGLOT_SUBSET = Path("omniglot", "images_background_small1.zip")


def size_table(out: Path) -> list[dict]:
    records = [json.loads(p.read_text()) for p in (out / "sizes").glob("*.json")]
    return sorted(
        ({"model": r["model"], "params": r["params"], **r["training"]} for r in records), key=lambda row: row["params"]
    )


def print_table(study: str, rows: list[dict], seconds: float) -> None:
    print(f"\n{study}: sweep of {len(rows)} sizes in {seconds:.1f} s")
    print(f"{'model':>10} {'params':>10} {'train s':>9} {'images':>10} {'images/s':>10} {'final loss':>10}")
    for row in rows:
        print(
            f"{row['model']:>10} {row['params']:>10,} {row['seconds']:>9.2f} {row['images']:>10,} "
            f"{row['images_per_second']:>10,.0f} {row['final_loss']:>10.4f}"
        )
    images = sum(row["images"] for row in rows)
    train_seconds = sum(row["seconds"] for row in rows)
    print(f"{'all':>10} {'':>10} {train_seconds:>9.2f} {images:>10,} {images / train_seconds:>10,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--small", action="store_true", help="3 sizes per study and little data (for a CPU)")
    parser.add_argument(
        "--omniglot", type=Path, help=f"Omniglot folder or zip (default ${DATA_ENV}/{OMNIGLOT_SUBSET.as_posix()})"
    )
    parser.add_argument("--out", type=Path, help="folder for the sweeps' outputs (default: a new temporary folder)")
    args = parser.parse_args()
    if args.omniglot is None:
        if not os.environ.get(DATA_ENV):
            parser.error(
                f"pass --omniglot PATH (folder or zip) or set {DATA_ENV} to the folder holding {OMNIGLOT_SUBSET}"
            )
        args.omniglot = Path(os.environ[DATA_ENV]) / OMNIGLOT_SUBSET
    out = args.out or Path(tempfile.mkdtemp(prefix="vision-bench-"))
    if args.small:
        ae_sizes, widths = (2, 64, 800), (16, 64, 256)
        ae = AutoencoderConfig(data="synthetic", train_images=2000, test_images=1000, epochs=2)
        om = OmniglotConfig(data_dir=str(args.omniglot), epochs=2, test_sequences=1000)
    else:
        ae_sizes, widths = DEFAULT_BOTTLENECKS, DEFAULT_WIDTHS
        ae = AutoencoderConfig(data="synthetic", train_images=50000, test_images=10000, epochs=5)
        om = OmniglotConfig(data_dir=str(args.omniglot), epochs=20, test_sequences=2000)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(f"device: {name}; torch {torch.__version__}; outputs in {out}")

    for study, run, config, sizes in (
        ("autoencoder", run_autoencoder_study, ae, ae_sizes),
        ("omniglot", run_omniglot_study, om, widths),
    ):
        start = time.perf_counter()
        run(out / study, config, sizes, device=args.device, progress=False)
        print_table(study, size_table(out / study), time.perf_counter() - start)


if __name__ == "__main__":
    main()
