"""Size sweeps of the two vision studies: train each size, score each test sample through the metrics core.

A sweep writes ``<out>/sizes/<model>.csv`` (that size's per-sample rows, see
:mod:`mirage_metrics.vision.samples`) and then ``<out>/sizes/<model>.json``
(its parameter count and how training went), each atomically: a size with both
files is finished and skipped on a rerun, so a killed sweep resumes where it
stopped and independent ``--shard i/n`` jobs share one ``--out``. Every run then
rebuilds ``<out>/samples.csv`` (the table ``mirage report`` reads) and
``<out>/summary.csv`` (n and mean per curve point) from all finished sizes.
``<out>/config.json`` pins the settings: resuming with different ones is refused.

Per-sample values come from :mod:`mirage_metrics.metrics` (``mean_squared_error``,
``reconstruction_c``, ``subset_accuracy``); intervals and emergence scores are the
report's.

>>> select_shard([1, 2, 3, 4, 5], "2/2")
[2, 4]
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import pandas as pd
import torch
from tqdm.auto import tqdm

from mirage_metrics.atomic_files import write_csv, write_text
from mirage_metrics.devices import resolve_device
from mirage_metrics.metrics import mean_squared_error, reconstruction_c, subset_accuracy
from mirage_metrics.sharding import parse_shard, shard_items
from mirage_metrics.vision import data as vision_data
from mirage_metrics.vision import defaults
from mirage_metrics.vision.autoencoder import ShallowAutoencoder, reconstruct, train_autoencoder
from mirage_metrics.vision.defaults import BOTTLENECKS as DEFAULT_BOTTLENECKS
from mirage_metrics.vision.defaults import THRESHOLDS as DEFAULT_THRESHOLDS
from mirage_metrics.vision.defaults import WIDTHS as DEFAULT_WIDTHS
from mirage_metrics.vision.omniglot import (
    SEQUENCE_LENGTH,
    SequenceClassifier,
    predict_correct,
    sample_sequences,
    train_sequence_classifier,
)
from mirage_metrics.vision.samples import SAMPLES_FILE, SUMMARY_FILE, sample_rows, summary_table, threshold_task
from mirage_metrics.vision.training import TrainingLog, count_parameters

__all__ = [
    "DEFAULT_BOTTLENECKS",
    "DEFAULT_THRESHOLDS",
    "DEFAULT_WIDTHS",
    "AutoencoderConfig",
    "OmniglotConfig",
    "select_shard",
    "run_autoencoder_study",
    "run_omniglot_study",
    "collect_results",
]

OMNIGLOT_TRAIN_DRAWINGS = 15  # of each character's 20; the other 5 are the test drawings
PathLike = Union[str, Path]


def _check_positive(config, names: Sequence[str]) -> None:
    for name in names:
        value = getattr(config, name)
        if value is not None and not value > 0:
            raise ValueError(f"{name}={value} must be positive")


def select_shard(sizes: Sequence[int], shard: Optional[str]) -> list[int]:
    """The sizes of shard ``"i/n"`` (see :mod:`mirage_metrics.sharding`); all sizes when ``shard`` is empty."""
    return shard_items(list(sizes), *parse_shard(shard)) if shard else list(sizes)


def _pin_config(out: Path, settings: dict) -> None:
    path = out / "config.json"
    if path.is_file():
        pinned = json.loads(path.read_text(encoding="utf-8"))
        if pinned != settings:
            changed = sorted(k for k in set(pinned) | set(settings) if pinned.get(k) != settings.get(k))
            raise ValueError(
                f"--out {out} holds a sweep made with other settings ({', '.join(changed)} differ: "
                f"{ {k: pinned.get(k) for k in changed} }); use a new --out or the same settings"
            )
        return
    write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n", path)


@dataclass
class SizeResult:
    """One trained and scored size: its per-sample rows plus how training went."""

    model: str
    params: int
    samples: pd.DataFrame
    training: TrainingLog


def _run_sweep(
    out: PathLike,
    study: str,
    settings: dict,
    sizes: Sequence[int],
    name: Callable[[int], str],
    run_size: Callable[[int], SizeResult],
    progress: bool,
) -> pd.DataFrame:
    out = Path(out)
    (out / "sizes").mkdir(parents=True, exist_ok=True)
    _pin_config(out, {"study": study, **settings})
    for size in tqdm(sizes, desc=f"{study} sizes", disable=not progress):
        record_path, samples_path = (out / "sizes" / f"{name(size)}{suffix}" for suffix in (".json", ".csv"))
        if record_path.is_file() and samples_path.is_file():
            continue
        result = run_size(size)
        write_csv(result.samples, samples_path)  # first: the record marks the size finished
        record = {
            "study": study,
            "model": result.model,
            "params": result.params,
            "training": {**asdict(result.training), "images_per_second": result.training.images_per_second},
        }
        write_text(json.dumps(record, indent=1) + "\n", record_path)
        if progress:
            tqdm.write(
                f"{study} {result.model}: {result.params:,} params, {result.training.images_per_second:,.0f} images/s"
            )
    return collect_results(out)


def collect_results(out: PathLike) -> pd.DataFrame:
    """Rebuild ``<out>/samples.csv`` and ``<out>/summary.csv`` from every finished size; return the samples,
    sorted by parameters."""
    out = Path(out)
    finished = [path for path in sorted((out / "sizes").glob("*.json")) if path.with_suffix(".csv").is_file()]
    params = [json.loads(path.read_text(encoding="utf-8"))["params"] for path in finished]
    parts = [
        pd.read_csv(path.with_suffix(".csv"), keep_default_na=False, na_values={"length": [""]})
        for _, path in sorted(zip(params, finished))
    ]
    samples = pd.concat(parts, ignore_index=True)
    write_csv(samples, out / SAMPLES_FILE)
    write_csv(summary_table(samples), out / SUMMARY_FILE)
    return samples


# --------------------------------------------------------------------------- CIFAR100 autoencoder


@dataclass
class AutoencoderConfig:
    """Everything that fixes the autoencoder sweep's numbers (pinned in config.json)."""

    data: str = "cifar100"  # or "synthetic"
    data_dir: Optional[str] = None
    download: bool = False
    train_images: Optional[int] = None  # None: all
    test_images: Optional[int] = None
    epochs: int = defaults.AUTOENCODER_EPOCHS
    batch_size: int = defaults.AUTOENCODER_BATCH_SIZE
    learning_rate: float = defaults.AUTOENCODER_LEARNING_RATE
    thresholds: tuple = DEFAULT_THRESHOLDS
    seed: int = 0

    def __post_init__(self):
        _check_positive(self, ["train_images", "test_images", "epochs", "batch_size", "learning_rate"])

    def settings(self) -> dict:
        settings = asdict(self)
        settings["thresholds"] = [float(c) for c in self.thresholds]
        del settings["download"]
        return settings


def _autoencoder_data(config: AutoencoderConfig) -> tuple[torch.Tensor, torch.Tensor]:
    if config.data == "synthetic":
        return vision_data.synthetic_cifar(config.train_images or 5000, config.test_images or 1000, seed=config.seed)
    if config.data != "cifar100":
        raise ValueError(f"data={config.data!r} is not known; use cifar100 or synthetic")
    if not config.data_dir:
        raise ValueError("CIFAR100 needs --data-dir (with --download to fetch it there), or use --data synthetic")
    train, test = vision_data.load_cifar100(config.data_dir, download=config.download)
    return train[: config.train_images], test[: config.test_images]


def run_autoencoder_study(
    out: PathLike,
    config: AutoencoderConfig,
    sizes: Sequence[int] = DEFAULT_BOTTLENECKS,
    *,
    device: str = "auto",
    progress: bool = True,
) -> pd.DataFrame:
    """Train and score one shallow autoencoder per bottleneck width in ``sizes``; returns samples.csv's table."""
    if not config.thresholds or any(not float(c) > 0 for c in config.thresholds):
        raise ValueError(f"thresholds={config.thresholds} must be a non-empty list of positive MSE thresholds c")
    study = "autoencoder"
    target = torch.device(resolve_device(device))
    train, test = (images.to(target) for images in _autoencoder_data(config))
    test_values = test.cpu().numpy()

    def run_size(hidden: int) -> SizeResult:
        torch.manual_seed(config.seed)
        model = ShallowAutoencoder(tuple(train.shape[1:]), hidden).to(target)
        log = train_autoencoder(
            model,
            train,
            epochs=config.epochs,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            seed=config.seed,
            progress=progress,
        )
        reconstruction = reconstruct(model, test).numpy()
        name, params = f"h{hidden}", count_parameters(model)
        rows = [sample_rows(study, name, params, study, "mse", mean_squared_error(test_values, reconstruction))]
        rows += [
            sample_rows(
                study,
                name,
                params,
                threshold_task(study, c),
                "reconstruction_c",
                reconstruction_c(test_values, reconstruction, c),
            )
            for c in config.thresholds
        ]
        return SizeResult(name, params, pd.concat(rows, ignore_index=True), log)

    return _run_sweep(out, study, config.settings(), sizes, lambda h: f"h{h}", run_size, progress)


# --------------------------------------------------------------------------- Omniglot transformer


@dataclass
class OmniglotConfig:
    """Everything that fixes the Omniglot sweep's numbers (pinned in config.json)."""

    data: str = "omniglot"  # or "synthetic"
    data_dir: Optional[str] = None
    download: bool = False
    image_size: int = defaults.IMAGE_SIZE
    test_sequences: int = defaults.TEST_SEQUENCES
    classes_per_sequence: int = defaults.CLASSES_PER_SEQUENCE
    epochs: int = defaults.OMNIGLOT_EPOCHS
    batch_size: int = defaults.OMNIGLOT_BATCH_SIZE
    learning_rate: float = defaults.OMNIGLOT_LEARNING_RATE
    seed: int = 0

    def __post_init__(self):
        _check_positive(
            self, ["image_size", "test_sequences", "classes_per_sequence", "epochs", "batch_size", "learning_rate"]
        )

    def settings(self) -> dict:
        settings = asdict(self)
        del settings["download"]
        return settings


def _omniglot_data(config: OmniglotConfig) -> vision_data.OmniglotData:
    if config.data == "synthetic":
        return vision_data.synthetic_omniglot(image_size=config.image_size, seed=config.seed)
    if config.data != "omniglot":
        raise ValueError(f"data={config.data!r} is not known; use omniglot or synthetic")
    if not config.data_dir:
        raise ValueError(
            "Omniglot needs --data-dir (a folder, torchvision's layout or a zip; with --download to "
            "fetch it there), or use --data synthetic"
        )
    return vision_data.load_omniglot(config.data_dir, image_size=config.image_size, download=config.download)


def run_omniglot_study(
    out: PathLike,
    config: OmniglotConfig,
    sizes: Sequence[int] = DEFAULT_WIDTHS,
    *,
    device: str = "auto",
    progress: bool = True,
) -> pd.DataFrame:
    """Train and score one sequence classifier per width in ``sizes``; returns samples.csv's table."""
    study = "omniglot"
    target = torch.device(resolve_device(device))
    dataset = _omniglot_data(config)
    train = dataset.images[:, :OMNIGLOT_TRAIN_DRAWINGS].to(target)
    test = dataset.images[:, OMNIGLOT_TRAIN_DRAWINGS:].to(target)
    test_images, test_labels = sample_sequences(
        test,
        int(config.test_sequences),
        torch.Generator().manual_seed(config.seed + 1),
        classes_per_sequence=config.classes_per_sequence,
    )

    def run_size(width: int) -> SizeResult:
        torch.manual_seed(config.seed)
        model = SequenceClassifier(dataset.num_classes, width, config.image_size).to(target)
        log = train_sequence_classifier(
            model,
            train,
            epochs=config.epochs,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            classes_per_sequence=config.classes_per_sequence,
            seed=config.seed,
            progress=progress,
        )
        correct = predict_correct(model, test_images, test_labels)
        name, params = f"width{width}", count_parameters(model)
        rows = []
        for length in range(1, SEQUENCE_LENGTH + 1):
            per_image = subset_accuracy(correct[:, :length].reshape(-1, 1))  # each of the first L images: 0 or 1
            rows.append(sample_rows(study, name, params, study, "image_accuracy", per_image, length=length))
            rows.append(
                sample_rows(
                    study, name, params, study, "subset_accuracy", subset_accuracy(correct, k=length), length=length
                )
            )
        return SizeResult(name, params, pd.concat(rows, ignore_index=True), log)

    return _run_sweep(out, study, config.settings(), sizes, lambda w: f"width{w}", run_size, progress)
