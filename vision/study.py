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
import math
import numbers
import os
from dataclasses import asdict, dataclass, replace
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
from mirage_metrics.vision.autoencoder import ShallowAutoencoder, autoencoder_parameters, reconstruct, train_autoencoder
from mirage_metrics.vision.defaults import BOTTLENECKS as DEFAULT_BOTTLENECKS
from mirage_metrics.vision.defaults import THRESHOLDS as DEFAULT_THRESHOLDS
from mirage_metrics.vision.defaults import WIDTHS as DEFAULT_WIDTHS
from mirage_metrics.vision.omniglot import (
    SEQUENCE_LENGTH,
    SequenceClassifier,
    classifier_parameters,
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


#: Epochs above this are refused as typos: 500 times the autoencoder's default and 200 times Omniglot's.
MAX_EPOCHS = 10_000
#: Seeds run from 0 to this (numpy's and torch's generators both take them).
MAX_SEED = 2**32 - 1


def _check_count(config, name: str, minimum: int = 1, maximum: int | None = None) -> None:
    """``config.name`` is None or an integer (not a bool or float) from ``minimum`` to ``maximum``."""
    value = getattr(config, name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"{name}={value!r} must be " + ("a positive integer" if minimum == 1 else f"at least {minimum}")
        )
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}={value} must be at most {maximum:,}")


def _check_settings(config, counts: Sequence[str]) -> None:
    """The counts of a study's config, its epochs, seed and learning rate, each in its range (a ValueError names it)."""
    for name in counts:
        _check_count(config, name)
    _check_count(config, "epochs", maximum=MAX_EPOCHS)
    if (
        isinstance(config.seed, bool)
        or not isinstance(config.seed, numbers.Integral)
        or not 0 <= config.seed <= MAX_SEED
    ):
        raise ValueError(f"seed={config.seed!r} must be an integer from 0 to {MAX_SEED}")
    rate = config.learning_rate
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 < rate < math.inf:
        raise ValueError(f"learning_rate={rate!r} must be a positive finite number")


def _readable_bytes(count: float) -> str:
    """``count`` bytes in decimal units, 3 significant digits.

    >>> _readable_bytes(1.22e14), _readable_bytes(512)
    ('122 TB', '512 B')
    """
    for unit in ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB"):
        if count < 1000 or unit == "ZB":
            return f"{count:.3g} {unit}"
        count /= 1000


def _device_memory(device: str) -> int:
    """Bytes of memory of ``device``: a CUDA device's own, else the machine's RAM."""
    target = torch.device(device)
    if target.type == "cuda":
        return torch.cuda.get_device_properties(target.index or 0).total_memory
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


#: What a run's memory estimate counts (each part a lower bound of what training allocates).
_MEMORY_PARTS = "16 bytes per parameter for weights, gradients and Adam's two moments, the images, one batch"


def _check_memory(study: str, config, sizes: Sequence[int], device: str, need, params, settings: Sequence[str]):
    """Refuse, before anything is allocated, a sweep that needs more memory than ``device`` has.

    ``need(config, size)`` is the bytes a size needs at least, ``params(size)`` its parameter count.
    A run too big at its smallest size is blamed on the one of ``settings`` whose default shrinks it most.
    """
    limit = _device_memory(device)

    def refuse(setting: str, value, what: str, needed: float) -> ValueError:
        return ValueError(
            f"{setting}={value}: {what} needs at least {_readable_bytes(needed)} of memory ({_MEMORY_PARTS}); "
            f"the {device} has {_readable_bytes(limit)}: choose {'smaller sizes' if setting == 'sizes' else 'a smaller value'}"
        )

    smallest = min(sizes)
    if need(config, smallest) > limit:
        defaults = type(config)()
        setting = min(settings, key=lambda name: need(replace(config, **{name: getattr(defaults, name)}), smallest))
        value = getattr(config, setting)
        raise refuse(
            setting, value, f"the {study} run with {setting.replace('_', ' ')} {value}", need(config, smallest)
        )
    for size in sizes:
        if need(config, size) > limit:
            what = f"the {study} of width {size} has {params(size):,} parameters and"
            raise refuse("sizes", size, what, need(config, size))


def select_shard(sizes: Sequence[int], shard: Optional[str]) -> list[int]:
    """The sizes of shard ``"i/n"`` (see :mod:`mirage_metrics.sharding`); all sizes when ``shard`` is empty."""
    chosen = shard_items(list(sizes), *parse_shard(shard)) if shard else list(sizes)
    if sizes and not chosen:
        raise ValueError(
            f"shard={shard}: leaves this job none of the {len(sizes)} sizes; use at most {len(sizes)} jobs"
        )
    return chosen


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
        _check_settings(self, ["train_images", "test_images", "batch_size"])
        if not self.thresholds or any(
            isinstance(c, bool) or not isinstance(c, numbers.Real) or not 0 < c < math.inf for c in self.thresholds
        ):
            raise ValueError(
                f"thresholds={self.thresholds} must be a non-empty list of positive finite MSE thresholds c"
            )

    def settings(self) -> dict:
        settings = asdict(self)
        settings["thresholds"] = [float(c) for c in self.thresholds]
        del settings["download"]
        return settings


def _checked_sizes(sizes: Sequence[int], minimum: int, study: str) -> list[int]:
    """``sizes`` as a non-empty list of integers of at least ``minimum``, all checked before any is trained."""
    sizes = list(sizes)
    if not sizes:
        raise ValueError("sizes is empty; pass at least one model size")
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < minimum:
            raise ValueError(
                f"sizes={size!r}: the {study}'s width must be {'at least ' + str(minimum) if minimum > 1 else 'a positive integer'}"
            )
    return [int(size) for size in sizes]


_AUTOENCODER_DATA_SETTINGS = ("train_images", "test_images", "batch_size")


def _image_counts(config: AutoencoderConfig) -> tuple[int, int]:
    """Training and test images the autoencoder sweep holds on its device."""
    if config.data == "synthetic":
        return config.train_images or 5000, config.test_images or 1000
    return min(config.train_images or 50_000, 50_000), min(config.test_images or 10_000, 10_000)


def _autoencoder_bytes(config: AutoencoderConfig, hidden: int) -> int:
    """Bytes the autoencoder of width ``hidden`` needs at least: its parameters, the images, one batch."""
    dim = math.prod(vision_data.CIFAR_SHAPE)
    train_images, test_images = _image_counts(config)
    batch = min(config.batch_size, train_images)
    return 16 * autoencoder_parameters(hidden) + 4 * dim * (train_images + test_images) + 8 * batch * (2 * dim + hidden)


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
    """Train and score one shallow autoencoder per bottleneck width in ``sizes``; returns samples.csv's table.

    Every size is checked first, and a sweep that would need more memory than the device has is refused
    before anything is allocated."""
    study = "autoencoder"
    sizes = _checked_sizes(sizes, 1, study)
    device = resolve_device(device)
    _check_memory(study, config, sizes, device, _autoencoder_bytes, autoencoder_parameters, _AUTOENCODER_DATA_SETTINGS)
    target = torch.device(device)
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
        _check_settings(self, ["test_sequences", "classes_per_sequence", "batch_size"])
        _check_count(self, "image_size", minimum=4)

    def settings(self) -> dict:
        settings = asdict(self)
        del settings["download"]
        return settings


_OMNIGLOT_DATA_SETTINGS = ("image_size", "test_sequences", "batch_size")


def _fewest_classes(config: OmniglotConfig) -> int:
    """Characters the sweep will have at least, before its data is read (real Omniglot data: 2 or more)."""
    return vision_data.SYNTHETIC_OMNIGLOT_CLASSES if config.data == "synthetic" else 2


def _omniglot_bytes(config: OmniglotConfig, width: int) -> int:
    """Bytes the Omniglot transformer of ``width`` needs at least: its parameters, the images, one batch."""
    classes = _fewest_classes(config)
    image = 4 * config.image_size**2
    sequence = SEQUENCE_LENGTH * image + 12 * classes  # its images, and the draw of its characters
    channels = max(4, width // 2)
    first_conv = SEQUENCE_LENGTH * channels * 4 * ((config.image_size + 1) // 2) ** 2  # activations of one sequence
    return (
        16 * classifier_parameters(classes, width)
        + classes * vision_data.OMNIGLOT_IMAGES_PER_CHARACTER * image
        + config.test_sequences * sequence
        + config.batch_size * (sequence + 2 * first_conv)
    )


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
    """Train and score one sequence classifier per width in ``sizes``; returns samples.csv's table.

    Every size is checked first, and a sweep that would need more memory than the device has is refused
    before anything is allocated."""
    study = "omniglot"
    sizes = _checked_sizes(sizes, 4, "Omniglot transformer")
    device = resolve_device(device)

    def params(width: int) -> int:
        return classifier_parameters(_fewest_classes(config), width)

    _check_memory("Omniglot transformer", config, sizes, device, _omniglot_bytes, params, _OMNIGLOT_DATA_SETTINGS)
    target = torch.device(device)
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
