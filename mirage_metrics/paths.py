"""Where the package's own files live, from a source checkout or an installed wheel.

``tasks/`` (lm-eval task configs) and ``vision/`` are top-level folders of the
source tree that ship inside the wheel as ``mirage_metrics.tasks`` and
``mirage_metrics.vision``; the ``evaluate`` modules live in
``mirage_metrics/evaluate_modules/<name>/<name>.py``.

>>> (tasks_path() / "__init__.py").is_file()
True
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from importlib import resources
from pathlib import Path, PureWindowsPath

__all__ = ["tasks_path", "evaluate_path", "evaluate_module_names", "check_path_name", "file_stem", "file_digest"]


def tasks_path() -> Path:
    """The folder of lm-eval task configs, for ``lm_eval --include_path``."""
    return Path(str(resources.files("mirage_metrics.tasks")))


def _evaluate_root() -> Path:
    """The folder of the bundled modules, found without importing the package (which imports ``evaluate``)."""
    spec = importlib.util.find_spec("mirage_metrics.evaluate_modules")
    return Path(list(spec.submodule_search_locations)[0])


def evaluate_module_names() -> list[str]:
    """Names of the bundled ``evaluate`` metric modules.

    >>> "token_edit" in evaluate_module_names()
    True
    """
    root = _evaluate_root()
    return sorted(p.name for p in root.iterdir() if (p / f"{p.name}.py").is_file())


def evaluate_path(name: str) -> str:
    """Local path of a bundled ``evaluate`` module, for ``evaluate.load(path)``.

    >>> Path(evaluate_path("brier")).name
    'brier'
    >>> evaluate_path("nope")
    Traceback (most recent call last):
    ...
    ValueError: name='nope' is not a mirage-metrics evaluate module; choose one of ...
    """
    names = evaluate_module_names()
    if name not in names:
        raise ValueError(f"name={name!r} is not a mirage-metrics evaluate module; choose one of {names}")
    return str(_evaluate_root() / name)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_path_name(name: str, what: str) -> str:
    """``name`` unchanged if it can be one folder or file name inside an output folder; else ValueError.

    Every name that becomes a path (family, model) goes through this one rule: no
    separators, no ``.``/``..`` or leading dot, not absolute (no drive), not empty,
    no control characters, no surrounding spaces. ``what`` names the field in the error.

    >>> check_path_name("pythia-70m", "model name")
    'pythia-70m'
    >>> check_path_name("../elsewhere", "family name")
    Traceback (most recent call last):
    ...
    ValueError: family name='../elsewhere' becomes a folder name: give a non-empty name with no slashes, ...
    """
    text = str(name)
    if (
        not text.strip()
        or text != text.strip()
        or "/" in text
        or "\\" in text
        or text.startswith(".")
        or PureWindowsPath(text).drive
        or _CONTROL.search(text)
    ):
        raise ValueError(
            f"{what}={text!r} becomes a folder name: give a non-empty name with no slashes, no leading dot, "
            "no control characters and no surrounding spaces"
        )
    return text


_FILE_SAFE = re.compile(r"[^a-z0-9_.-]")
_HASHED = re.compile(r"-[0-9a-f]{10}$")


def file_stem(name: str, max_length: int = 80) -> str:
    """A file-name stem for any ``name``, different for different names (also on case-insensitive disks).

    Lower-case letters, digits, ``_ . -`` are kept; anything else becomes ``_``, and
    whenever something was changed (or the name already ends like a hash) a hash
    of the original is appended, so ``fam x`` and ``fam_x`` get different stems.

    >>> file_stem("fam_x"), file_stem("fam x"), file_stem("Fam_x")
    ('fam_x', 'fam_x-a9a554d1f7', 'fam_x-069336e359')
    >>> file_stem("../../etc/passwd")
    '_._.._etc_passwd-3754d6cb3a'
    """
    text = str(name)
    stem = _FILE_SAFE.sub("_", text.lower())[:max_length]
    stem = re.sub(r"^\.", "_", stem)
    if stem == text and text and not _HASHED.search(text):
        return stem
    return f"{stem}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"


def file_digest(path, algorithm: str = "sha256") -> str:
    """The hex digest of a file's bytes, read in 1 MiB blocks (``algorithm``: a :mod:`hashlib` name, e.g. ``md5``,
    used to check a download, not for security).

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as handle:
    ...     _ = handle.write(b"abc"); handle.flush()
    ...     file_digest(handle.name)[:16], file_digest(handle.name, "md5")[:16]
    ('ba7816bf8f01cfea', '900150983cd24fb0')
    """
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
