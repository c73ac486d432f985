"""Atomic output files: written to a temporary name beside the target, then renamed into place.

A crash (or SIGKILL) mid-write leaves the previous file or none, never a truncated one.
:class:`OutputFolder` does the same for a command's whole ``--out`` folder, and refuses
(one-line ValueError) folders it must not replace.
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
import errno
import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

if TYPE_CHECKING:  # pandas is only a type here: importing this module stays light
    import pandas as pd

__all__ = [
    "CSV_FLOAT_FORMAT",
    "MANIFEST_FILE",
    "OutputFolder",
    "atomic_path",
    "new_beside",
    "output_path",
    "write_csv",
    "write_text",
]

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


#: The file in a folder written by :class:`OutputFolder` that names the command and lists the files it wrote.
MANIFEST_FILE = ".mirage-output.json"
_NEW, _OLD = "new", "old"  # kinds of the folders beside an output folder: one being written, one being replaced
#: What to do about the errors writing an output folder meets most.
_REMEDIES = {
    errno.ENOSPC: "free some space",
    errno.EDQUOT: "free some space",
    errno.EFBIG: "raise the file-size limit (ulimit -f)",
    errno.ENAMETOOLONG: "pass a shorter name",
    errno.EACCES: "pass a folder you can write to",
    errno.EPERM: "pass a folder you can write to",
    errno.EROFS: "pass a folder you can write to",
}
_BESIDE = re.compile(rf"\.(?P<name>.+)\.(?P<kind>{_NEW}|{_OLD})-(?P<pid>\d+)-[0-9a-f]{{12}}")


def output_path(out, command: str, *, inputs: Iterable = (), flag: str = "--out", replaced: bool = True) -> Path:
    """The real folder (symlinks followed) that ``command`` writes for ``flag`` ``out``; ValueError naming the flag
    when it is a file, a dangling symlink (or below one), or is or holds one of ``inputs`` (paths, None skipped),
    and when it is ``replaced`` as a whole, the current folder or one above it."""
    given = Path(out)
    named = f"{flag} {given}"
    for path in (given, *given.parents):
        if path.is_symlink() and not path.exists():
            raise ValueError(
                f"{named}: {path} is a symlink to {os.readlink(path)}, which does not exist; "
                f"create that folder or pass another {flag}"
            )
    real = Path(os.path.realpath(given))
    existing = next(path for path in (real, *real.parents) if path.exists())
    if not existing.is_dir():
        raise ValueError(f"{named}{'' if existing == real else f': {existing}'} is a file; pass a folder")
    here = Path.cwd().resolve()
    if replaced and (real == here or real in here.parents):
        raise ValueError(
            f"{named} is the current folder or one above it, which {command} would replace as a whole; "
            f"pass a new folder inside it, e.g. {flag} {command.split()[-1]}"
        )
    for source in inputs:
        if source is not None:
            source_real = Path(os.path.realpath(source))
            if source_real == real or real in source_real.parents:
                raise ValueError(f"{named} is or holds the input {source}, which it would replace; pass another folder")
    return real


class OutputFolder:
    """A command's output folder (``--out``), replaced as a whole by each run.

    Checked when made, before anything is read or written (ValueError naming the flag): it may not be a file, a
    dangling symlink, the current folder (or above it), or be or hold one of ``inputs``; an existing folder may
    hold only the files its :data:`MANIFEST_FILE` lists as written by the same ``command`` (regular files, no
    subfolders), else it is refused and left as it is. A symlink to a folder is followed: the folder it points to
    is replaced and the link kept. :meth:`writing` yields a new folder beside it and swaps it in by renaming, so a
    run stopped at any moment leaves the previous contents or the new ones, never a mix, and nothing behind.
    """

    def __init__(self, out, command: str, *, inputs: Iterable = (), flag: str = "--out"):
        self.given, self.command, self.flag = Path(out), command, flag
        self.path = output_path(out, command, inputs=inputs, flag=flag)
        self.check()

    def _manifest(self) -> tuple[str | None, set[str]]:
        """The command that wrote the folder and the plain file names it lists, from its manifest (None, {} if
        there is no readable one)."""
        manifest = self.path / MANIFEST_FILE
        if not _plain_file(manifest):
            return None, set()
        try:
            content = json.loads(manifest.read_text(encoding="utf-8"))
            command, files = str(content["command"]), list(content["files"])
        except (ValueError, KeyError, TypeError):
            return None, set()
        plain = {name for name in files if isinstance(name, str) and name not in ("", ".", "..") and "/" not in name}
        return command, plain | {MANIFEST_FILE}

    def check(self) -> None:
        """Refuse (ValueError) a folder holding anything its manifest does not list as this command's file."""
        if not self.path.is_dir():
            return
        command, written = self._manifest()
        if command is not None and command != self.command:
            raise ValueError(
                f"{self.flag} {self.given} holds the output of {command}, which {self.command} would replace; "
                "pass a new or empty folder"
            )
        foreign = sorted(
            entry.name for entry in self.path.iterdir() if entry.name not in written or not _plain_file(entry)
        )
        if foreign:
            raise ValueError(
                f"{self.flag} {self.given} holds files that {self.command} did not write there "
                f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}), which replacing it would delete; "
                "pass a new or empty folder"
            )

    @contextlib.contextmanager
    def writing(self) -> Iterator[Path]:
        """Yield a new empty folder to write into; on success it replaces the output folder.

        An OSError met writing (disk full, file too large, permissions) becomes a ValueError naming the flag; the
        output folder is then as it was. One met elsewhere (an input that cannot be read) passes unchanged.
        """
        created = _make_parents(self.path.parent, self)
        work = None
        try:
            self._remove_stale()
            work = new_beside(self.path, f"{_NEW}-{os.getpid()}", folder=True)
            try:
                yield work
            except OSError as error:
                if error.filename is not None and work not in Path(error.filename).parents:
                    raise _Passed(error) from None
                raise
            files = sorted(entry.name for entry in work.iterdir())
            write_text(json.dumps({"command": self.command, "files": files}) + "\n", work / MANIFEST_FILE)
            self._swap_in(work)
        except _Passed as passed:
            _remove_folders(created)
            raise passed.error from None
        except OSError as error:
            _remove_folders(created)
            raise ValueError(
                f"{self.flag} {self.given}: could not write there ({error.strerror or error}); it was left as it "
                f"was: {_REMEDIES.get(error.errno, 'fix that')} and rerun"
            ) from None
        except BaseException:
            _remove_folders(created)
            raise
        finally:
            if work is not None:
                shutil.rmtree(work, ignore_errors=True)

    def _swap_in(self, work: Path) -> None:
        """Put the finished folder ``work`` in place (renames; the old contents are then removed)."""
        self.check()  # again: the user may have put files there meanwhile
        out = self.path
        if not out.exists():
            os.rename(work, out)
            return
        old = out.with_name(f".{out.name}.{_OLD}-{os.getpid()}-{work.name.rpartition('-')[2]}")
        os.rename(out, old)
        try:
            os.rename(work, out)
        except OSError:
            if not out.exists():
                os.rename(old, out)
                raise
            shutil.rmtree(old, ignore_errors=True)  # another run took the folder meanwhile: it is the newer one
            raise ValueError(f"{self.flag} {self.given} was replaced by another run while this one ran") from None
        shutil.rmtree(old, ignore_errors=True)

    def _remove_stale(self) -> None:
        """Clean up after runs killed before they finished (their process is gone): remove their new folders, and
        put back an old one when the output folder is missing (killed between the two renames)."""
        out = self.path
        for entry in out.parent.iterdir():
            match = _BESIDE.fullmatch(entry.name)
            if not match or match["name"] != out.name or _alive(int(match["pid"])) or not _plain_folder(entry):
                continue
            if match["kind"] == _OLD and not out.exists():
                os.rename(entry, out)
            else:
                shutil.rmtree(entry, ignore_errors=True)


class _Passed(Exception):
    """Carries an OSError of the caller's own (not of writing) past :meth:`OutputFolder.writing`'s handler."""

    def __init__(self, error: OSError):
        super().__init__(error)
        self.error = error


def _plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _plain_folder(path: Path) -> bool:
    """A real folder holding only regular files: what a killed run leaves beside an output folder."""
    return path.is_dir() and not path.is_symlink() and all(_plain_file(entry) for entry in path.iterdir())


def _make_parents(folder: Path, target: OutputFolder) -> list[Path]:
    """Create ``folder`` and its missing parents; return those created, deepest first."""
    missing = [path for path in (folder, *folder.parents) if not path.exists()]
    try:
        for path in reversed(missing):
            path.mkdir()
    except OSError as error:
        _remove_folders(missing)
        raise ValueError(
            f"{target.flag} {target.given}: could not create {error.filename or folder} ({error.strerror}); "
            "pass a folder you can write to"
        ) from None
    return missing


def _remove_folders(folders: list[Path]) -> None:
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
