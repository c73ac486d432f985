"""Image data for the vision studies: CIFAR100, Omniglot, and synthetic stand-ins of the same shapes.

Every loader returns float32 torch tensors in [0, 1], whole data sets in one tensor
(the studies move them to the device once). Real data comes from a folder already
on disk (``data_dir``) or from torchvision's downloaders (``download=True``; only
then is torchvision imported). Without either, a :class:`DataNotFoundError` names
the URL and the folder layout to create.

Synthetic data (``synthetic_cifar``, ``synthetic_omniglot``) is for smoke tests and
throughput measurements only, never a result: it is random but structured (low-rank
images; noisy class prototypes) so that bigger models do measurably better.

>>> train, test = synthetic_cifar(num_train=8, num_test=4, seed=0)
>>> tuple(train.shape), tuple(test.shape), float(train.min()) >= 0.0, float(train.max()) <= 1.0
((8, 3, 32, 32), (4, 3, 32, 32), True, True)
>>> data = synthetic_omniglot(num_classes=3, images_per_class=4, image_size=14, seed=0)
>>> tuple(data.images.shape), data.labels.tolist()
((3, 4, 1, 14, 14), [0, 1, 2])
"""

from __future__ import annotations

import io
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from mirage_metrics.paths import file_digest
from mirage_metrics.vision import defaults

__all__ = [
    "CIFAR100_URL",
    "OMNIGLOT_URL",
    "DataNotFoundError",
    "OmniglotData",
    "load_cifar100",
    "load_omniglot",
    "synthetic_cifar",
    "synthetic_omniglot",
]

CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
OMNIGLOT_URL = "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/images_background.zip"
CIFAR_SHAPE = (3, 32, 32)
# MD5s of the official archive's python pickles (as torchvision's CIFAR100 checks them).
CIFAR100_MD5 = {"train": "16019d7e3df5f24257cddd939b257f8d", "test": "f0ef6b0ae62326f3e7ffdfab6717acfc"}
OMNIGLOT_IMAGES_PER_CHARACTER = 20
SYNTHETIC_OMNIGLOT_CLASSES = 100

PathLike = Union[str, Path]


class DataNotFoundError(FileNotFoundError, ValueError):
    """The data set is neither on disk nor downloadable; the message says where to get it (a ValueError too, so
    the command line prints it as one line and exits 2)."""


def _import_torchvision():
    try:
        import torchvision
    except Exception as error:  # ImportError, or a torchvision built for another torch
        raise RuntimeError(f"downloading needs torchvision (pip install 'mirage-metrics[vision]'): {error}") from None
    return torchvision


# --------------------------------------------------------------------------- CIFAR100


def _cifar_missing(root: Path, reason: str) -> DataNotFoundError:
    return DataNotFoundError(
        f"CIFAR100 not found in {root} ({reason}). Download {CIFAR100_URL} and extract it so that "
        f"{root}/cifar-100-python/train and {root}/cifar-100-python/test exist (torchvision's layout), "
        "or pass --download on a machine with network access, or use --data synthetic for a smoke run."
    )


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles a CIFAR batch and nothing else: the only globals it resolves rebuild numpy arrays.

    Any other global (``os.system``, ``builtins.eval``, a class with side effects)
    is refused before it is looked up, so a planted pickle cannot run code.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): np.zeros(0).__reduce__()[0],  # numpy's array rebuilder
        ("numpy._core.multiarray", "_reconstruct"): np.zeros(0).__reduce__()[0],
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refused global {module}.{name}: a CIFAR batch holds only numpy arrays")
        return self._ALLOWED[module, name]


def _read_cifar_batch(path: Path, expected_md5: str | None) -> torch.Tensor:
    """Images of one CIFAR batch pickle; its MD5 is checked first unless ``expected_md5`` is None."""
    actual = None if expected_md5 is None else file_digest(path, "md5")
    if actual != expected_md5:
        raise ValueError(
            f"{path}: MD5 {actual} is not the official {expected_md5}; the file is damaged or not "
            f"CIFAR100's: delete {path.parent} and extract {CIFAR100_URL} again (or pass --download)"
        )
    try:
        with open(path, "rb") as handle:
            batch = _CifarUnpickler(handle, encoding="bytes").load()
        pixels = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, *CIFAR_SHAPE)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"{path}: not a CIFAR100 python batch ({type(error).__name__}: {error})") from None
    return torch.from_numpy(pixels).float().div_(255.0)


def load_cifar100(
    data_dir: PathLike, *, download: bool = False, verify_md5: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR100 train (50,000) and test (10,000) images, shape (N, 3, 32, 32), values in [0, 1].

    Reads torchvision's layout ``<data_dir>/cifar-100-python/{train,test}`` (the
    python pickles of the official archive); ``download=True`` fetches it there
    with torchvision first. The pickles are read with an unpickler that only
    rebuilds numpy arrays (a planted file cannot run code), after their MD5s are
    checked against the official ones; ``verify_md5=False`` skips that check, for
    synthetic files of the same format in tests only.
    """
    root = Path(data_dir)
    folder = root / "cifar-100-python"
    if download and not folder.is_dir():
        try:
            _import_torchvision().datasets.CIFAR100(str(root), train=True, download=True)
        except Exception as error:  # no torchvision, no network, disk full, ...
            raise _cifar_missing(root, f"download failed: {error}") from None
    if not folder.is_dir():
        raise _cifar_missing(root, "no cifar-100-python folder")
    for split in ("train", "test"):
        if not (folder / split).is_file():
            raise _cifar_missing(root, f"{folder / split} is missing")
    expected = CIFAR100_MD5 if verify_md5 else {}
    return tuple(_read_cifar_batch(folder / split, expected.get(split)) for split in ("train", "test"))


def synthetic_cifar(num_train: int = 5000, num_test: int = 1000, *, rank: int = 48, seed: int = 0):
    """Random CIFAR-shaped images of rank ``rank`` plus a little noise (smoke and throughput mode only).

    An autoencoder with a bottleneck narrower than ``rank`` cannot reconstruct them
    exactly, so the MSE still falls with the bottleneck width.
    """
    for name, value in (("num_train", num_train), ("num_test", num_test), ("rank", rank)):
        if int(value) < 1:
            raise ValueError(f"{name}={value} must be a positive integer")
    generator = torch.Generator().manual_seed(int(seed))
    dim = int(np.prod(CIFAR_SHAPE))
    basis = torch.randn(rank, dim, generator=generator) / rank**0.5
    total = int(num_train) + int(num_test)
    codes = torch.randn(total, rank, generator=generator) * torch.linspace(1.0, 0.1, rank)
    noise = 0.02 * torch.randn(total, dim, generator=generator)
    images = torch.sigmoid(codes @ basis + noise).reshape(total, *CIFAR_SHAPE)
    return images[:num_train].contiguous(), images[num_train:].contiguous()


# --------------------------------------------------------------------------- Omniglot


@dataclass
class OmniglotData:
    """Omniglot images grouped by character: ``images`` has shape (characters, per character, 1, S, S).

    ``labels[i]`` is the class index of character i and ``names[i]`` its
    ``alphabet/character`` name. Strokes are 1.0, background 0.0.
    """

    images: torch.Tensor
    labels: torch.Tensor
    names: list[str]

    @property
    def num_classes(self) -> int:
        return int(self.images.shape[0])


def _omniglot_missing(path: Path, reason: str) -> DataNotFoundError:
    return DataNotFoundError(
        f"Omniglot not found at {path} ({reason}). Pass --data-dir as a folder of alphabet/character/*.png "
        "(e.g. the extracted images_background or images_background_small1), torchvision's layout "
        "(<dir>/omniglot-py/images_background/alphabet/character/*.png), or one of those zip files; "
        f"download {OMNIGLOT_URL}, or pass --download on a machine with network access."
    )


def _character_folders(root: Path) -> list[Path]:
    """``alphabet/character`` folders holding PNGs, under ``root`` or torchvision's ``omniglot-py/images_background``."""
    candidates = [root, root / "omniglot-py" / "images_background"] + sorted(p for p in root.glob("*") if p.is_dir())
    for base in candidates:
        folders = sorted(c for c in base.glob("*/*") if c.is_dir() and any(c.glob("*.png")))
        if folders:
            return folders
    return []


def _pngs_from_folder(root: Path) -> dict[str, list[bytes]]:
    return {
        f"{c.parent.name}/{c.name}": [p.read_bytes() for p in sorted(c.glob("*.png"))] for c in _character_folders(root)
    }


def _pngs_from_zip(path: Path) -> dict[str, list[bytes]]:
    groups: dict[str, list[bytes]] = {}
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            parts = name.split("/")
            if name.endswith(".png") and len(parts) >= 3:
                groups.setdefault("/".join(parts[-3:-1]), []).append(archive.read(name))
    return groups


def _decode(png: bytes, source: str) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(png)) as image:
            return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    except Exception as error:
        raise ValueError(f"{source}: not a readable PNG image ({error})") from None


def load_omniglot(
    data_dir: PathLike,
    *,
    image_size: int = defaults.IMAGE_SIZE,
    download: bool = False,
    images_per_class: int = OMNIGLOT_IMAGES_PER_CHARACTER,
) -> OmniglotData:
    """Omniglot characters from a folder, torchvision's layout or a zip, resized to ``image_size``.

    Characters with fewer than ``images_per_class`` drawings are skipped (every
    Omniglot character has 20). ``download=True`` fetches the background set with
    torchvision into ``data_dir`` when nothing is found there.
    """
    if int(image_size) < 4:
        raise ValueError(f"image_size={image_size} must be at least 4 pixels")
    path = Path(data_dir)
    if path.is_file() and path.suffix == ".zip":
        groups = _pngs_from_zip(path)
    elif path.is_dir():
        groups = _pngs_from_folder(path)
    else:
        groups = {}
    if not groups and download:
        try:
            _import_torchvision().datasets.Omniglot(str(path), background=True, download=True)
        except Exception as error:
            raise _omniglot_missing(path, f"download failed: {error}") from None
        groups = _pngs_from_folder(path)
    if not groups:
        raise _omniglot_missing(path, "no alphabet/character/*.png found")
    complete = {name: pngs[:images_per_class] for name, pngs in groups.items() if len(pngs) >= images_per_class}
    if len(complete) < 2:
        raise _omniglot_missing(path, f"fewer than 2 characters with {images_per_class} images each")
    names = sorted(complete)
    pixels = np.stack([np.stack([_decode(png, f"{path}: {name}") for png in complete[name]]) for name in names])
    strokes = 1.0 - torch.from_numpy(pixels)  # Omniglot draws black strokes on white
    flat = strokes.reshape(-1, 1, *strokes.shape[-2:])
    resized = F.interpolate(flat, size=(image_size, image_size), mode="area")
    images = resized.reshape(len(names), images_per_class, 1, image_size, image_size).contiguous()
    return OmniglotData(images=images, labels=torch.arange(len(names)), names=names)


def synthetic_omniglot(
    num_classes: int = SYNTHETIC_OMNIGLOT_CLASSES,
    images_per_class: int = OMNIGLOT_IMAGES_PER_CHARACTER,
    *,
    image_size: int = defaults.IMAGE_SIZE,
    seed: int = 0,
) -> OmniglotData:
    """Omniglot-shaped noisy class prototypes (smoke and throughput mode only)."""
    for name, value in (
        ("num_classes", num_classes),
        ("images_per_class", images_per_class),
        ("image_size", image_size),
    ):
        if int(value) < 2:
            raise ValueError(f"{name}={value} must be an integer of at least 2")
    generator = torch.Generator().manual_seed(int(seed))
    prototypes = (torch.rand(num_classes, 1, 1, image_size, image_size, generator=generator) < 0.2).float()
    flips = torch.rand(num_classes, images_per_class, 1, image_size, image_size, generator=generator) < 0.1
    images = torch.where(flips, 1.0 - prototypes, prototypes)
    return OmniglotData(
        images=images.contiguous(),
        labels=torch.arange(num_classes),
        names=[f"synthetic/class{i:03d}" for i in range(num_classes)],
    )
