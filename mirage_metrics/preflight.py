"""Checks a sweep passes before any model starts: task names, lm-eval's arguments, model locations.

Without them a typo costs one lm-eval start-up per model (about 50 s on a CPU,
minutes per model on a cluster) and then fails every model the same way. Each
check raises a one-line ValueError that names what is wrong and what to pass.

>>> check_tasks("mirage_arith_2dm_gen,mirage_arith")
>>> check_tasks("mirage_arth_2dm_gen")
Traceback (most recent call last):
...
ValueError: tasks: 'mirage_arth_2dm_gen' is not an lm-eval task, group or tag (did you mean 'mirage_arith_2dm_gen' or ...
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import glob
import io
import logging
import re
from collections.abc import Iterable
from pathlib import Path

from mirage_metrics.paths import tasks_path

__all__ = ["BACKENDS", "check_tasks", "check_lm_eval_arguments", "check_model_location", "looks_like_folder"]

#: lm-eval model backends a sweep drives (`mirage sweep --backend`).
BACKENDS = ("hf", "vllm")

# lm-eval options a sweep sets itself, by argparse destination -> what to pass to `mirage sweep` instead.
SWEEP_OWNED = {
    "model": "--backend",
    "model_args": "--model-args",
    "tasks": "--tasks",
    "output_path": "--out (each model gets OUT/FAMILY/MODEL)",
    "include_path": "--include_path",
    "config": "mirage sweep's own options (it writes lm-eval's --config itself)",
    "device": "--device",
    "batch_size": "--batch-size",
    "limit": "--limit",
    "num_fewshot": "--num_fewshot",
    "metadata": "--metadata",
}
_GLOB = re.compile(r"[*?\[]")
# Lines that name an entry of lm-eval's task index; only used for "did you mean" suggestions.
_NAME_LINE = re.compile(rb"^(?:task|group|tag):[ \t]*['\"]?([\w.\-]+)", re.MULTILINE)


# --------------------------------------------------------------------------- task names


def check_tasks(tasks: str, include_path: str | Path | None = None) -> None:
    """Every comma-separated name in ``tasks`` is a task, group, tag, task file or folder lm-eval will find.

    lm-eval's full task index (14,000 YAML files) takes seconds to build, so it is
    built only when needed: names are looked up in the mirage task folder and
    ``include_path`` first; every other name is searched as text in lm-eval's task
    files (each indexed name is written in one), so a name found nowhere is
    reported at once, and only the rest go to the full index.
    """
    from lm_eval.tasks import TaskManager

    roots = [str(tasks_path())] + ([str(include_path)] if include_path else [])
    names = str(tasks).split(",")  # as lm-eval splits them: "a, b" is the task " b"
    unresolved = [name for name in names if not _is_file_or_folder_task(name, len(names))]
    if not unresolved:
        return
    with _quiet_lm_eval():
        ours = TaskManager(include_path=roots, include_defaults=False)
    unresolved = [name for name in unresolved if not ours.match_tasks([name])]
    if not unresolved:
        return
    lm_eval_texts = b"\0".join(_read_files(_lm_eval_tasks_folder().rglob("*.yaml")))
    absent = [
        name for name in unresolved
        if not name or (not _GLOB.search(name) and name.encode("utf-8", "surrogateescape") not in lm_eval_texts)
    ]  # fmt: skip
    if absent:
        scraped = {name.decode("utf-8", "replace") for name in _NAME_LINE.findall(lm_eval_texts)}
        raise _unknown_tasks(absent, ours.all_tasks + sorted(scraped))
    with _quiet_lm_eval():
        everything = TaskManager(include_path=roots)
    unknown = [name for name in unresolved if not everything.match_tasks([name])]
    if unknown:
        raise _unknown_tasks(unknown, everything.all_tasks)


def _lm_eval_tasks_folder() -> Path:
    import lm_eval.tasks

    return Path(lm_eval.tasks.__file__).parent


def _is_file_or_folder_task(name: str, count: int) -> bool:
    """A task given as a YAML file (or glob of them) that exists, or as the only name, a folder of them."""
    if name.endswith(".yaml"):
        if not glob.glob(name):
            raise ValueError(f"tasks: no task file matches {name!r}; pass an existing YAML file or a task name")
        return True
    return count == 1 and Path(name).is_dir()


def _read_files(files: Iterable[Path]) -> Iterable[bytes]:
    for file in files:
        with contextlib.suppress(OSError):
            yield file.read_bytes()


def _unknown_tasks(names: list[str], known: list[str]) -> ValueError:
    parts = []
    for name in names:
        close = difflib.get_close_matches(name.strip(), known, n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        parts.append(f"{name!r} is not an lm-eval task, group or tag{hint}")
    return ValueError(
        f"tasks: {'; '.join(parts)}; list the known names with `mirage eval ls tasks` "
        "(add --include_path for your own task folder)"
    )


@contextlib.contextmanager
def _quiet_lm_eval():
    """lm-eval's warnings (overridden tasks, --limit) belong to the real runs, not to these checks."""
    logger = logging.getLogger("lm_eval")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


# --------------------------------------------------------------------------- lm-eval's own arguments


class _Refused(Exception):
    """An argparse error, raised instead of argparse's exit."""


def _run_parser() -> argparse.ArgumentParser:
    """lm-eval's ``run`` parser (what ``python -m lm_eval ARGS`` parses), raising instead of exiting."""
    from lm_eval._cli.harness import HarnessCLI

    parser = HarnessCLI()._subparsers.choices["run"]

    def error(message: str):
        raise _Refused(message)

    parser.error = error
    return parser


def check_lm_eval_arguments(command: list[str], extra_args: list[str]) -> None:
    """lm-eval accepts ``command`` (the arguments after ``python -m lm_eval``), and ``extra_args`` (the user's
    pass-through part of it) neither misspell an option nor set one the sweep sets itself.

    Parsed by lm-eval's own parser and checked by its own configuration class, as the
    real run will be.
    """
    from lm_eval.config.evaluate_config import EvaluatorConfig

    parser = _run_parser()
    try:
        given, unknown = parser.parse_known_args(list(extra_args))
    except _Refused as error:
        raise ValueError(f"lm-eval arguments {' '.join(extra_args)!r}: {error}") from None
    if unknown:
        raise ValueError(_unknown_options(unknown, parser))
    owned = [dest for dest in SWEEP_OWNED if getattr(given, dest, None) is not None]
    if owned:
        dest = owned[0]
        raise ValueError(
            f"lm-eval argument for {dest!r} in {' '.join(extra_args)!r}: mirage sweep sets it for every model; "
            f"use {SWEEP_OWNED[dest]}"
        )
    try:
        namespace = parser.parse_args(list(command))
        with _quiet_lm_eval(), contextlib.redirect_stdout(io.StringIO()):
            EvaluatorConfig.from_cli(namespace)
    except (_Refused, ValueError, TypeError, FileNotFoundError) as error:
        raise ValueError(f"lm-eval refuses the arguments: {error}") from None


def _unknown_options(unknown: list[str], parser: argparse.ArgumentParser) -> str:
    options = [option for action in parser._actions for option in action.option_strings]
    parts = []
    for word in unknown:
        if word.startswith("-"):
            close = difflib.get_close_matches(word.split("=")[0].replace("-", "_").lstrip("_"),
                                              [o.lstrip("-") for o in options], n=1, cutoff=0.7)  # fmt: skip
            parts.append(f"{word!r} is not an lm-eval option" + (f" (did you mean '--{close[0]}'?)" if close else ""))
    if not parts:
        parts = [f"{' '.join(unknown)!r} follows no lm-eval option that takes it"]
    return f"lm-eval arguments: {'; '.join(parts)}; see `mirage eval --help` for lm-eval's options"


# --------------------------------------------------------------------------- model locations


def looks_like_folder(location: str, base: Path | None = None) -> bool:
    """Whether ``location`` is meant as a checkpoint folder rather than a Hub id (``name`` or ``owner/name``).

    A folder: absolute, ``~``, ``./`` or ``../`` paths, three or more parts, a
    backslash, an ``owner/name`` whose owner is a folder in ``base`` (default: the
    current folder), or anything the Hub does not allow as a repository id.

    >>> looks_like_folder("EleutherAI/pythia-70m"), looks_like_folder("gpt2"), looks_like_folder("/ckpt/m")
    (False, False, True)
    >>> looks_like_folder("checkpoints/run 1/final"), looks_like_folder("my model")
    (True, True)
    """
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    parts = location.split("/")
    if location.startswith(("/", "~", "./", "../")) or location in (".", "..") or "\\" in location or len(parts) > 2:
        return True
    if len(parts) == 2 and ((base or Path.cwd()) / parts[0]).is_dir():
        return True
    try:
        validate_repo_id(location)
    except HFValidationError:
        return True
    return False


def check_model_location(location: str, revision: str | None = None) -> None:
    """``location`` is a checkpoint folder with a ``config.json``, or a Hub id; with ``HF_HUB_OFFLINE=1``
    (compute nodes without internet) a Hub id must already be in the local Hugging Face cache."""
    from huggingface_hub import constants, try_to_load_from_cache

    folder = Path(location).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ValueError(
                f"path={location!r}: the folder has no config.json; pass a checkpoint folder saved with save_pretrained"
            )
        return
    if looks_like_folder(location):
        raise ValueError(f"path={location!r}: no such folder ({folder.absolute()}); pass an existing checkpoint folder")
    if constants.HF_HUB_OFFLINE and not isinstance(
        try_to_load_from_cache(location, "config.json", revision=revision), str
    ):
        download = f"hf download {location}" + (f" --revision {revision}" if revision else "")
        raise ValueError(
            f"path={location!r}: not in the Hugging Face cache ({constants.HF_HUB_CACHE}) and HF_HUB_OFFLINE is set; "
            f"download it first where the Hub is reachable (e.g. on the login node: {download})"
        )
