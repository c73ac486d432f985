"""Atomic output files: written to a temporary name beside the target, then renamed into place.

A crash (or SIGKILL) mid-write leaves the previous file or none, never a truncated one.

>>> import tempfile, pandas as pd
>>> folder = Path(tempfile.mkdtemp())
>>> write_csv(pd.DataFrame({"a": [1.5, None], "b": ["x", "y"]}), folder / "x.csv").read_text()
'a,b\\n1.5,x\\n,y\\n'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:  # pandas is only a type here: importing this module stays light
    import pandas as pd

__all__ = ["atomic_path", "write_csv", "write_text"]


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_csv(frame: pd.DataFrame, path) -> Path:
    """Write ``frame`` without its index (NaN as an empty cell) atomically; return the path."""
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False)
    return Path(path)


def write_text(text: str, path) -> Path:
    """Write UTF-8 ``text`` atomically; return the path."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)
