"""Checks a sweep (and ``mirage eval``) passes before any model starts: task names, lm-eval's arguments and the
settings lm-eval would take and fail on later (``--limit``, ``--batch_size``, ``--num_fewshot``, ``--device``, the
backend's package, ``--metadata`` keys and values), and model locations (all Hub models missing at once).

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
import functools
import glob
import importlib.util
import io
import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from mirage_metrics.paths import tasks_path

__all__ = [
    "BACKENDS",
    "MAX_NUM_PROBLEMS",
    "MIRAGE_METADATA",
    "check_tasks",
    "check_lm_eval_arguments",
    "check_run_arguments",
    "check_settings",
    "check_metadata_value",
    "check_model_locations",
    "hub_answers",
    "looks_like_folder",
]

log = logging.getLogger(__name__)

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


# lm-eval options whose text is kept as given when parsed here, so that check_settings can say what is wrong with it.
_RAW_OPTIONS = ("limit", "num_fewshot", "max_batch_size")


def _run_parser() -> argparse.ArgumentParser:
    """lm-eval's ``run`` parser (what ``python -m lm_eval ARGS`` parses), raising instead of exiting, with the
    values of ``_RAW_OPTIONS`` left as text."""
    from lm_eval._cli.harness import HarnessCLI

    parser = HarnessCLI()._subparsers.choices["run"]

    def error(message: str):
        raise _Refused(message)

    parser.error = error
    for action in parser._actions:
        if action.dest in _RAW_OPTIONS:
            action.type = None
    return parser


def check_lm_eval_arguments(command: list[str], extra_args: list[str]) -> None:
    """lm-eval accepts ``command`` (the arguments after ``python -m lm_eval``) with settings it can run
    (:func:`check_settings`), and ``extra_args`` (the user's pass-through part of it) neither misspell an option
    nor set one the sweep sets itself.

    Parsed by lm-eval's own parser and checked by its own configuration class, as the
    real run will be.
    """
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
    _check_parsed(parser, command, SWEEP_FLAGS)


def check_run_arguments(arguments: list[str]) -> None:
    """``mirage eval``'s arguments for ``lm_eval run``: accepted by lm-eval, settings it can run
    (:func:`check_settings`) and a model that can be found (:func:`check_model_locations`)."""
    namespace = _check_parsed(_run_parser(), arguments, {})
    model_args = namespace.model_args if isinstance(namespace.model_args, dict) else {}
    location = model_args.get("pretrained")
    backend = namespace.model or (None if namespace.config else "hf")  # lm-eval's default model type
    if backend in _LOCAL_MODEL_BACKENDS and isinstance(location, str):
        revision = model_args.get("revision")
        check_model_locations({"--model_args pretrained": (location, revision if isinstance(revision, str) else None)})


def _check_parsed(parser: argparse.ArgumentParser, arguments: list[str], flags: Mapping[str, str]):
    """``arguments`` parsed by ``parser``, their settings checked, then lm-eval's configuration check; the namespace."""
    from lm_eval.config.evaluate_config import EvaluatorConfig

    try:
        namespace = parser.parse_args(list(arguments))
    except _Refused as error:
        raise ValueError(f"lm-eval refuses the arguments: {error}") from None
    check_settings(namespace, flags)
    try:
        with _quiet_lm_eval(), contextlib.redirect_stdout(io.StringIO()):
            EvaluatorConfig.from_cli(argparse.Namespace(**vars(namespace)))
    except (ValueError, TypeError, FileNotFoundError) as error:
        raise ValueError(f"lm-eval refuses the arguments: {error}") from None
    return namespace


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


# --------------------------------------------------------------------------- run settings

#: ``mirage sweep``'s flag for an lm-eval setting where its name differs from lm-eval's ``--<dest>``.
SWEEP_FLAGS = {"model": "--backend", "batch_size": "--batch-size"}
#: lm-eval backends whose ``pretrained`` model argument is a checkpoint folder or Hub id.
_LOCAL_MODEL_BACKENDS = ("hf", "hf-auto", "huggingface", "vllm")
#: Packages an lm-eval backend needs beyond lm-eval's own (it imports them only when the model loads).
_BACKEND_PACKAGES = {"vllm": "vllm", "vllm-vlm": "vllm", "sglang": "sglang", "mamba_ssm": "mamba_ssm"}

#: Peak memory per problem while a mirage_arith task builds its problem set (measured on 4-digit addition).
BYTES_PER_PROBLEM = 1500
#: The most problems a mirage_arith task builds (about 1.5 GB); exact match is then known to about +-0.001.
MAX_NUM_PROBLEMS = 1_000_000


def _whole(value, low: int, high: int | None = None) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        return f"must be a whole number from {low:,}" + (f" to {high:,}" if high is not None else " up")
    return None


def _num_problems(value) -> str | None:
    if not isinstance(value, bool) and isinstance(value, int) and value > MAX_NUM_PROBLEMS:
        return (
            f"would need about {_size(value * BYTES_PER_PROBLEM)} of memory (about {BYTES_PER_PROBLEM / 1000:.1f} KB "
            f"per problem); pass at most {MAX_NUM_PROBLEMS:,} (about {_size(MAX_NUM_PROBLEMS * BYTES_PER_PROBLEM)})"
        )
    return _whole(value, 1, MAX_NUM_PROBLEMS)


def _size(nbytes: float) -> str:
    """``1.5 GB``, ``150 GB``, ``1.5 TB``."""
    for unit in ("KB", "MB", "GB", "TB"):
        nbytes /= 1000
        if nbytes < 1000 or unit == "TB":
            return f"{nbytes:.3g} {unit}"


def _text(value) -> str | None:
    return None if isinstance(value, str) and value else "must be a non-empty text"


def _flag_value(value) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _folder(value) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be the path of a folder"
    return None if Path(value).expanduser().is_dir() else "is not a folder; pass BIG-bench's benchmark_tasks folder"


_ARITH, _BIGBENCH = ("mirage_arith",), ("mirage_bb_", "mirage_bigbench")

#: The ``--metadata`` keys the mirage tasks read: key -> (the task-name prefixes that read it, its check).
#: ``tokenizer``, ``pretrained``, ``revision`` and ``trust_remote_code`` usually come from lm-eval's model arguments.
MIRAGE_METADATA: dict[str, tuple[tuple[str, ...], Callable[[object], str | None]]] = {
    "num_problems": (_ARITH, _num_problems),
    "seed": (_ARITH, lambda value: _whole(value, 0)),
    "tokenizer": (_ARITH, _text),
    "pretrained": (_ARITH, _text),
    "revision": (_ARITH, _text),
    "trust_remote_code": (_ARITH, _flag_value),
    "bigbench_dir": (_BIGBENCH, _folder),
}
#: Every mirage task name starts with one of these.
MIRAGE_TASK_PREFIXES = ("mirage_arith", "mirage_bb_", "mirage_bigbench", "mirage_example_")
#: Metadata keys lm-eval itself reads (every task's ``version``).
LM_EVAL_METADATA = ("version",)


def check_metadata_value(key: str, value) -> None:
    """``value`` is usable as the mirage metadata ``key`` (a key in :data:`MIRAGE_METADATA`).

    >>> check_metadata_value("num_problems", 10**8)
    Traceback (most recent call last):
    ...
    ValueError: --metadata {"num_problems": 100000000} would need about 150 GB of memory (about 1.5 KB per ...
    """
    problem = MIRAGE_METADATA[key][1](value)
    if problem:
        raise ValueError(f"--metadata {json.dumps({key: value}, default=repr)} {problem}")


def check_metadata(metadata: Mapping, tasks: Iterable[str]) -> None:
    """The ``--metadata`` keys are read by one of the ``tasks`` (names) and have usable values.

    A key no requested task reads is an error when every task is a mirage task (with a
    "did you mean"), and a warning otherwise (other tasks may read other keys).
    """
    names = [name.strip() for name in tasks if name.strip()]
    ours = [name for name in names if name.startswith(MIRAGE_TASK_PREFIXES)]
    readable = [key for key, (prefixes, _) in MIRAGE_METADATA.items() if any(n.startswith(prefixes) for n in ours)]
    for key, value in metadata.items():
        if key in readable:
            check_metadata_value(key, value)
        elif key not in LM_EVAL_METADATA:
            if key in MIRAGE_METADATA:
                hint = f" (only {' and '.join(p + '*' for p in MIRAGE_METADATA[key][0])} tasks read it)"
            else:
                close = difflib.get_close_matches(str(key), readable or list(MIRAGE_METADATA), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
            message = (
                f"--metadata key {key!r} is read by none of the mirage tasks {', '.join(ours) or 'requested'}{hint}; "
                f"they read {', '.join(readable) or 'no metadata keys'}"
            )
            if len(ours) == len(names):
                raise ValueError(message)
            log.warning("warning: %s (other tasks may read it)", message)


def _limit(text: str) -> str | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if math.isfinite(value) and (0 < value < 1 or (value >= 1 and value.is_integer())):
        return None
    return "must be a fraction of each task's samples between 0 and 1 (e.g. 0.1) or a whole number from 1 up"


def _batch_size(text: str) -> str | None:
    if re.fullmatch(r"auto(:[1-9]\d*)?|[1-9]\d*", str(text).strip()):
        return None
    return "must be a whole number from 1 up, auto, or auto:N (re-tune the batch size N times)"


def _whole_text(low: int) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        return _whole(int(text) if re.fullmatch(r"[+-]?\d+", str(text).strip()) else None, low)

    return check


# lm-eval settings checked by check_settings: argparse destination -> (check of the given text, its value for lm-eval)
_SETTINGS: dict[str, tuple[Callable[[str], str | None], Callable[[str], object]]] = {
    "limit": (_limit, float),
    "batch_size": (_batch_size, str),
    "max_batch_size": (_whole_text(1), int),
    "num_fewshot": (_whole_text(0), int),
}


def check_settings(namespace: argparse.Namespace, flags: Mapping[str, str]) -> None:
    """Settings in lm-eval's parsed ``run`` arguments that lm-eval would take and then misuse or fail on only
    once a model loads: ``--limit``, ``--batch_size``, ``--max_batch_size``, ``--num_fewshot`` (given as text;
    converted here for lm-eval), ``--device`` (usable here), ``--model`` (its package installed) and
    ``--metadata``. ``flags`` names the flag of a destination where it is not lm-eval's ``--<dest>``.
    """

    def flag(dest: str) -> str:
        return flags.get(dest, f"--{dest}")

    for dest, (check, convert) in _SETTINGS.items():
        text = getattr(namespace, dest, None)
        if text is None:
            continue
        problem = check(str(text))
        if problem:
            raise ValueError(f"{flag(dest)} {text}: {problem}")
        setattr(namespace, dest, convert(str(text).strip()))
    if getattr(namespace, "device", None):
        from mirage_metrics.devices import resolve_device

        try:
            resolve_device(namespace.device)
        except ValueError as error:
            reason = str(error).removeprefix(f"device={namespace.device!r}")
            raise ValueError(f"{flag('device')} {namespace.device}{reason}") from None
    if namespace.model:  # else lm-eval's default (hf) or its --config file's
        _check_backend(namespace.model, flag("model"))
    if namespace.metadata:
        tasks = namespace.tasks or []
        check_metadata(namespace.metadata, tasks.split(",") if isinstance(tasks, str) else tasks)


def _check_backend(backend: str, flag: str) -> None:
    """``backend`` is an lm-eval model type whose packages are installed."""
    from lm_eval.models import MODEL_MAPPING

    if backend not in MODEL_MAPPING:
        close = difflib.get_close_matches(backend, list(MODEL_MAPPING), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{flag} {backend}: not an lm-eval model type{hint}; see lm-eval's --model")
    package = _BACKEND_PACKAGES.get(backend)
    if package and importlib.util.find_spec(package) is None:
        raise ValueError(
            f"{flag} {backend}: the package {package!r} is not installed here; install it (pip install {package}) "
            f"or use {flag} hf"
        )


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


#: Seconds to wait for the Hub's answer before calling it unreachable.
HUB_TIMEOUT = 5


def check_model_locations(models: Mapping[str, tuple[str, str | None]]) -> None:
    """Every model (label -> ``(location, revision)``) is a checkpoint folder with a ``config.json``, or a Hub id that
    lm-eval can load: in the local Hugging Face cache, or else the Hub (``HF_ENDPOINT``) answers and
    ``HF_HUB_OFFLINE`` is not set. One ValueError names every model that fails, the Hub's only once."""
    from huggingface_hub import constants, try_to_load_from_cache

    problems, uncached = [], []
    for label, (location, revision) in models.items():
        try:
            if not _is_checkpoint_folder(location):
                cached = try_to_load_from_cache(location, "config.json", revision=revision)
                if not isinstance(cached, str):
                    uncached.append((label, location, revision))
        except ValueError as error:
            problems.append(f"{label}: {error}")
    if uncached:
        if constants.HF_HUB_OFFLINE:
            reason = "HF_HUB_OFFLINE is set"
        elif not hub_answers():
            reason = f"the Hub ({constants.ENDPOINT}) does not answer within {HUB_TIMEOUT} s"
        else:
            reason = None
        if reason:
            names = ", ".join(f"{label} ({location})" for label, location, _ in uncached)
            downloads = "; ".join(
                f"hf download {location}" + (f" --revision {revision}" if revision else "")
                for _, location, revision in uncached
            )
            problems.append(
                f"not in the Hugging Face cache ({constants.HF_HUB_CACHE}) and {reason}: {names}; "
                f"download them first where the Hub is reachable (e.g. on the login node: {downloads})"
            )
    if problems:
        raise ValueError("; ".join(problems))


def _is_checkpoint_folder(location: str) -> bool:
    """True for a checkpoint folder, False for a Hub id; ValueError for a missing folder or one without config.json."""
    folder = Path(location).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ValueError(
                f"path={location!r}: the folder has no config.json; pass a checkpoint folder saved with save_pretrained"
            )
        return True
    if looks_like_folder(location):
        raise ValueError(f"path={location!r}: no such folder ({folder.absolute()}); pass an existing checkpoint folder")
    return False


def hub_answers() -> bool:
    """Whether the Hugging Face Hub (``HF_ENDPOINT``) answers an HTTP request (any status) within HUB_TIMEOUT
    seconds, through the proxies of the environment (``HTTPS_PROXY``) as downloads would; asked once per endpoint."""
    from huggingface_hub import constants

    return _answers(constants.ENDPOINT)


@functools.lru_cache(maxsize=None)
def _answers(endpoint: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(urllib.request.Request(endpoint, method="HEAD"), timeout=HUB_TIMEOUT).close()
    except urllib.error.HTTPError:
        return True  # an answer, if not a welcome one
    except (OSError, ValueError):
        return False  # refused, timed out, no route or name; ValueError: not a URL
    return True
