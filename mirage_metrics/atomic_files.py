"""Atomic output files: written to a temporary name beside the target, then renamed into place.

A crash (or SIGKILL) mid-write leaves the previous file or none, never a truncated one.
Files and folders get the permissions the user's umask gives (as ``open`` and
``mkdir`` would), so a report can be shared as a plain folder. CSV numbers are
written with 10 significant digits (``0.3999999999999936`` as ``0.4``); integer
columns (parameter counts) stay integers.

>>> import tempfile, pandas as pd
>>> folder = Path(tempfile.mkdtemp())
>>> write_csv(pd.DataFrame({"a": [0.1 + 0.2, None], "b": ["x", "y"], "params": [11_846_072_320, 7]}),
...           folder / "x.csv").read_text()
'a,b,params\\n0.3,x,11846072320\\n,y,7\\n'
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:  # pandas is only a type here: importing this module stays light
    import pandas as pd

__all__ = ["CSV_FLOAT_FORMAT", "atomic_path", "new_beside", "write_csv", "write_text"]

#: How CSV files write floats: 10 significant digits, enough for every number the project measures.
CSV_FLOAT_FORMAT = "%.10g"


def new_beside(path, kind: str, *, folder: bool = False) -> Path:
    """Create a new, empty file (or ``folder``) ``.<name>.<kind>-<random>`` beside ``path`` and return its path.

    Created with the permissions the umask gives (unlike :func:`tempfile.mkstemp`'s owner-only 0600).
    """
    path = Path(path)
    while True:
        candidate = path.with_name(f".{path.name}.{kind}-{secrets.token_hex(6)}")
        try:
            if folder:
                candidate.mkdir()
            else:
                os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return candidate
        except FileExistsError:
            continue  # 48 random bits met another file: draw again


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = new_beside(path, "tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_csv(frame: pd.DataFrame, path) -> Path:
    """Write ``frame`` without its index (NaN as an empty cell, floats as :data:`CSV_FLOAT_FORMAT`) atomically;
    return the path."""
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False, float_format=CSV_FLOAT_FORMAT)
    return Path(path)


def write_text(text: str, path) -> Path:
    """Write UTF-8 ``text`` atomically; return the path."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)
