"""The CIFAR100 reader never runs code from a pickle: planted files are refused, CIFAR-shaped ones load."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from mirage_metrics.vision.data import CIFAR100_MD5, load_cifar100


def _batch_bytes(count: int, seed: int, numpy_module: str = "numpy._core.multiarray") -> bytes:
    """A CIFAR-format batch pickle (dict of bytes keys, uint8 ``data`` of shape (count, 3072)).

    ``numpy_module`` names the array rebuilder's module as the file says it; the
    official files, written by Python 2 with numpy 1, say ``numpy.core.multiarray``.
    """
    pixels = np.random.default_rng(seed).integers(0, 256, size=(count, 3072), dtype=np.uint8)
    batch = {b"data": pixels, b"fine_labels": list(range(count)), b"batch_label": b"synthetic"}
    raw = pickle.dumps(batch, protocol=3)
    current = pixels.__reduce__()[0].__module__
    return raw.replace(f"c{current}\n".encode(), f"c{numpy_module}\n".encode())


def _cifar_folder(root: Path, train: bytes, test: bytes) -> Path:
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    (folder / "train").write_bytes(train)
    (folder / "test").write_bytes(test)
    return root


class _RunsCode:
    def __reduce__(self):
        return (exec, ("open(__import__('os').environ['MARKER'], 'w').write('ran')",))


@pytest.mark.parametrize("numpy_module", ["numpy.core.multiarray", "numpy._core.multiarray"])
def test_a_cifar_shaped_file_loads_with_the_md5_check_skipped(tmp_path, numpy_module):
    root = _cifar_folder(tmp_path, _batch_bytes(5, 0, numpy_module), _batch_bytes(3, 1, numpy_module))
    train, test = load_cifar100(root, verify_md5=False)
    assert tuple(train.shape) == (5, 3, 32, 32) and tuple(test.shape) == (3, 3, 32, 32)
    expected = np.random.default_rng(0).integers(0, 256, size=(5, 3072), dtype=np.uint8).reshape(5, 3, 32, 32)
    assert torch.equal(train, torch.from_numpy(expected).float() / 255.0)


def test_a_planted_pickle_is_refused_without_running_code(tmp_path, monkeypatch):
    marker = tmp_path / "marker"
    monkeypatch.setenv("MARKER", str(marker))
    planted = pickle.dumps({b"data": _RunsCode()}, protocol=3)
    pickle.loads(pickle.dumps(_RunsCode()))  # the payload does run under plain pickle ...
    assert marker.read_text() == "ran"
    marker.unlink()
    root = _cifar_folder(tmp_path / "data", planted, _batch_bytes(2, 1))
    with pytest.raises(
        ValueError, match=r"cifar-100-python/train: not a CIFAR100 python batch .*refused global builtins.exec"
    ):
        load_cifar100(root, verify_md5=False)  # ... and not here, even without the MD5 check
    assert not marker.exists()


def test_files_that_are_not_the_official_ones_are_refused_by_md5_first(tmp_path):
    root = _cifar_folder(tmp_path, _batch_bytes(2, 0), _batch_bytes(2, 1))
    with pytest.raises(ValueError, match=f"train: MD5 [0-9a-f]{{32}} is not the official {CIFAR100_MD5['train']}"):
        load_cifar100(root)


@pytest.mark.parametrize(
    "content, problem",
    [(b"", "EOFError"), (pickle.dumps([1, 2], protocol=2), "TypeError"), (pickle.dumps({b"x": 1}, protocol=3), "KeyError"),
     (_batch_bytes(2, 0)[:100], "")],
)  # fmt: skip
def test_damaged_files_name_the_file(tmp_path, content, problem):
    root = _cifar_folder(tmp_path, content, _batch_bytes(2, 1))
    with pytest.raises(ValueError, match=f"train: not a CIFAR100 python batch \\({problem}"):
        load_cifar100(root, verify_md5=False)
