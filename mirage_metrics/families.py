"""Model families: sets of checkpoints of one architecture at several sizes.

Built in: Pythia (14m ... 12b, standard and ``-deduped``) and GPT-2 (small ... xl),
with Hub ids and exact total / non-embedding parameter counts. User families come
from a YAML file (see :func:`load_family_file`); local checkpoint folders are
first-class, and a missing parameter count is read from the checkpoint without
loading its weights.

>>> family = get_family("pythia")
>>> [(m.name, m.path, m.params) for m in family.select(["70m", "160m"])]
[('pythia-70m', 'EleutherAI/pythia-70m', 70426624), ('pythia-160m', 'EleutherAI/pythia-160m', 162322944)]
>>> get_family("gpt2").models[-1].non_embedding_params
1475561600
"""

from __future__ import annotations

import ast
import difflib
import numbers
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from mirage_metrics.checkpoint_params import count_parameters
from mirage_metrics.paths import check_path_name
from mirage_metrics.preflight import looks_like_folder

__all__ = [
    "Model",
    "Family",
    "builtin_families",
    "get_family",
    "load_family_file",
    "check_model_arg",
    "check_param_count",
    "check_training_count",
    "revision_step",
    "MAX_PARAMS",
]

# Characters lm-eval's ``--model_args key=value,...`` parsers give meaning to: the
# separator, quotes and brackets (0.4.13 splits outside quotes and brackets and
# reads ``{`` as JSON); control characters and surrounding spaces are changed too.
_MODEL_ARG_SYNTAX = set(",'\"[](){}") | {chr(code) for code in range(32)} | {chr(127)}


def _read_as_non_string(value: str) -> bool:
    """Whether lm-eval would turn ``value`` into something else than this string (a bool, None, number, literal)."""
    if value.lower() in ("true", "false", "none") or value.isnumeric():
        return True
    try:
        float(value)
        return True
    except ValueError:
        pass
    try:
        ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def check_model_arg(value: object, field: str) -> str:
    """``value`` if lm-eval's ``--model_args`` reads it back as exactly this string; else a ValueError.

    A checkpoint path or revision is one value of lm-eval's ``key=value,...`` list, so
    a comma would start a new argument (``/ckpt,trust_remote_code=True``) and quotes
    or brackets change the parse: such values are refused, never passed on.

    >>> check_model_arg("EleutherAI/pythia-70m", "path")
    'EleutherAI/pythia-70m'
    >>> check_model_arg("/ckpt,trust_remote_code=True", "path")
    Traceback (most recent call last):
    ...
    ValueError: path='/ckpt,trust_remote_code=True' cannot be passed in lm-eval's --model_args: it holds ','; ...
    """
    if not isinstance(value, str):
        raise ValueError(f"{field}={value!r} must be a string (quote it in YAML)")
    unsafe = sorted(set(value) & _MODEL_ARG_SYNTAX)
    if unsafe or not value.strip() or value != value.strip() or _read_as_non_string(value):
        reason = f"it holds {' '.join(map(repr, unsafe))}" if unsafe else "lm-eval would not read it back as this text"
        raise ValueError(
            f"{field}={value!r} cannot be passed in lm-eval's --model_args: {reason}; use a path or revision "
            "without commas, quotes, brackets, control characters or surrounding spaces (e.g. link the folder "
            "under a plain name)"
        )
    return value


#: Parameter counts above this are refused as typos: a thousand times the largest published models.
MAX_PARAMS = 10**15


def check_param_count(value: object, field: str) -> int:
    """``value`` if it is a model's parameter count: a positive integer (not a bool, float or text) up to 10^15.

    >>> check_param_count(70_426_624, "params")
    70426624
    >>> check_param_count("lots", "non_embedding_params")
    Traceback (most recent call last):
    ...
    ValueError: non_embedding_params='lots' must be a positive integer (the model's parameter count, e.g. 70426624)
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{field}={value!r} must be a positive integer (the model's parameter count, e.g. 70426624)")
    if value > MAX_PARAMS:
        raise ValueError(
            f"{field}={value} is above 10^15, a thousand times the largest published models; give the model's "
            "parameter count"
        )
    return int(value)


def check_training_count(value: object, field: str) -> int:
    """``value`` if it is a training step or a count of training tokens: a non-negative integer (not a bool, float or
    text).

    >>> check_training_count(1000, "step")
    1000
    >>> check_training_count(2.5, "tokens")
    Traceback (most recent call last):
    ...
    ValueError: tokens=2.5 must be a non-negative integer (how far the checkpoint was trained, e.g. 143000)
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(
            f"{field}={value!r} must be a non-negative integer (how far the checkpoint was trained, e.g. 143000)"
        )
    return int(value)


_STEP_REVISION = re.compile(r"step(\d+)")


def revision_step(revision: str | None) -> int | None:
    """The training step a Hub revision names in Pythia's convention (``step1000``: after 1,000 steps), else None.

    >>> revision_step("step143000"), revision_step("main"), revision_step(None)
    (143000, None, None)
    """
    match = _STEP_REVISION.fullmatch(revision or "")
    return int(match[1]) if match else None


@dataclass(frozen=True)
class Model:
    """One checkpoint: ``path`` is a local folder or a Hub id; ``size`` is what ``--sizes`` matches.

    ``name`` becomes its output folder, ``path`` and ``revision`` go into lm-eval's
    ``--model_args``: all three are checked here. ``step`` and ``tokens``: how far the
    checkpoint was trained (optimiser steps, training tokens), the x of ``mirage report
    --x step|tokens``.

    >>> Model("m", "/ckpt/m", "m", revision="main").revision
    'main'
    >>> Model("../m", "/ckpt/m", "m")
    Traceback (most recent call last):
    ...
    ValueError: model name='../m' becomes a folder name: give a non-empty name with no slashes, ...
    """

    name: str
    path: str
    size: str
    params: int | None = None
    non_embedding_params: int | None = None
    revision: str | None = None
    step: int | None = None
    tokens: int | None = None

    def __post_init__(self) -> None:
        check_path_name(self.name, "model name")
        check_model_arg(self.path, "path")
        if self.revision is not None:
            check_model_arg(self.revision, "revision")
        for field in ("params", "non_embedding_params"):
            if getattr(self, field) is not None:
                check_param_count(getattr(self, field), field)
        for field in ("step", "tokens"):
            if getattr(self, field) is not None:
                check_training_count(getattr(self, field), field)
        if (
            self.params is not None
            and self.non_embedding_params is not None
            and self.non_embedding_params > self.params
        ):
            raise ValueError(
                f"non_embedding_params={self.non_embedding_params} is more than params={self.params}; "
                "the non-embedding count is a part of the total"
            )


@dataclass(frozen=True)
class Family:
    """A named, non-empty sequence of models; ``name`` becomes the family's output folder."""

    name: str
    models: tuple[Model, ...]

    def __post_init__(self) -> None:
        check_path_name(self.name, "family name")
        if not self.models:
            raise ValueError(f"family {self.name!r} has no models; list at least one")
        folders: dict[str, str] = {}  # folder name as case-insensitive disks compare it -> model name
        for model in self.models:
            folder = unicodedata.normalize("NFC", model.name).casefold()
            if folder in folders:
                raise ValueError(
                    f"family {self.name!r}: models {folders[folder]!r} and {model.name!r} would share one folder "
                    "(duplicate names, or names that differ only in case or Unicode normalization); rename one"
                )
            folders[folder] = model.name

    def select(self, sizes: list[str] | None = None) -> list[Model]:
        """The models whose ``size`` (or name) is in ``sizes``, in the family's order; all when None.

        >>> get_family("gpt2").select(["xl", "small"])[0].name
        'gpt2'
        >>> get_family("gpt2").select(["huge"])
        Traceback (most recent call last):
        ...
        ValueError: sizes: 'huge' is not in family 'gpt2'; choose from small, medium, large, xl
        """
        if not sizes:
            return list(self.models)
        known = {m.size for m in self.models} | {m.name for m in self.models}
        unknown = [size for size in sizes if size not in known]
        if unknown:
            choices = ", ".join(m.size for m in self.models)
            raise ValueError(
                f"sizes: {', '.join(map(repr, unknown))} is not in family {self.name!r}; choose from {choices}"
            )
        wanted = set(sizes)
        return [m for m in self.models if m.size in wanted or m.name in wanted]


# size label -> (total, non-embedding) parameters, from docs/design.md.
PYTHIA_PARAMS = {
    "14m": (14_067_712, 1_189_888),
    "31m": (30_494_720, 4_739_072),
    "70m": (70_426_624, 18_915_328),
    "160m": (162_322_944, 85_056_000),
    "410m": (405_334_016, 302_311_424),
    "1b": (1_011_781_632, 805_736_448),
    "1.4b": (1_414_647_808, 1_208_602_624),
    "2.8b": (2_775_208_960, 2_517_652_480),
    "6.9b": (6_857_302_016, 6_444_163_072),
    "12b": (11_846_072_320, 11_327_027_200),
}
# size label -> (Hub id, total, non-embedding).
GPT2_MODELS = {
    "small": ("openai-community/gpt2", 124_439_808, 85_056_000),
    "medium": ("openai-community/gpt2-medium", 354_823_168, 302_311_424),
    "large": ("openai-community/gpt2-large", 774_030_080, 708_390_400),
    "xl": ("openai-community/gpt2-xl", 1_557_611_200, 1_475_561_600),
}


def _pythia(suffix: str) -> Family:
    models = tuple(
        Model(
            name=f"pythia-{size}{suffix}",
            path=f"EleutherAI/pythia-{size}{suffix}",
            size=size,
            params=total,
            non_embedding_params=non_embedding,
        )
        for size, (total, non_embedding) in PYTHIA_PARAMS.items()
    )
    return Family(f"pythia{suffix}", models)


def builtin_families() -> dict[str, Family]:
    """The built-in families by name: ``pythia``, ``pythia-deduped``, ``gpt2``.

    >>> sorted(builtin_families())
    ['gpt2', 'pythia', 'pythia-deduped']
    """
    gpt2 = Family(
        "gpt2",
        tuple(
            Model(name=hub_id.split("/")[-1], path=hub_id, size=size, params=total, non_embedding_params=non_emb)
            for size, (hub_id, total, non_emb) in GPT2_MODELS.items()
        ),
    )
    return {"pythia": _pythia(""), "pythia-deduped": _pythia("-deduped"), "gpt2": gpt2}


def get_family(name: str) -> Family:
    """A built-in family by name."""
    families = builtin_families()
    if name not in families:
        raise ValueError(
            f"family={name!r} is not built in; choose one of {sorted(families)} or pass --family-file FILE"
        )
    return families[name]


FAMILY_KEYS = ("name", "models")
MODEL_KEYS = ("name", "path", "params", "non_embedding_params", "revision", "step", "tokens")


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error (naming its line)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor`: its keys may be overridden here
                continue
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise ValueError(f"line {key_node.start_mark.line + 1}: key {key!r} is given twice; keep one")
            seen.add(key if isinstance(key, str) else id(key_node))
        return super().construct_mapping(node, deep)


def _check_keys(mapping: dict, allowed: tuple[str, ...], what: str) -> None:
    """Every key of ``mapping`` is one of ``allowed``; an unknown one is named with the closest known key."""
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the keys of {what} are {', '.join(allowed)}"
            raise ValueError(f"unknown key {key!r}; {hint}")


def _require(mapping: dict, key: str, field: str | None = None) -> str:
    """The string at ``key`` of ``mapping`` (``field`` names it in errors)."""
    if key not in mapping or mapping[key] in (None, ""):
        raise ValueError(f"missing required key {key!r}")
    if not isinstance(mapping[key], str):
        raise ValueError(f"{field or key}={mapping[key]!r} must be a string (quote it in YAML)")
    return mapping[key]


def load_family_file(path: str | Path) -> Family:
    """A user family from YAML: ``name`` and ``models`` (each ``name``, ``path``, optional ``params``,
    ``non_embedding_params``, ``revision``, ``step``, ``tokens``).

    Every field is checked, and an error names the file and the entry (``models[i]``):
    unknown keys (with the closest known one), keys given twice, names and paths that
    are not strings, counts that are not positive integers (bools, floats and text are
    refused; non-embedding at most the total), steps and token counts that are not
    non-negative integers, and two models of the same name. A ``revision`` in Pythia's
    ``step<N>`` form gives ``step`` N when the entry has none.
    Relative checkpoint paths are resolved against the YAML file's folder; a ``path``
    that is not an existing folder is taken as a Hub id, unless it looks like a folder
    (:func:`~mirage_metrics.preflight.looks_like_folder`): then it is reported missing.
    A missing ``params`` is counted from the checkpoint (:func:`~mirage_metrics.checkpoint_params.count_parameters`).
    """
    path = Path(path)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (a safe loader)
    except FileNotFoundError:
        raise ValueError(f"family file {path} does not exist; pass the path of a YAML family file") from None
    except OSError as error:
        raise ValueError(f"family file {path} cannot be read ({error.strerror}); pass a YAML family file") from None
    except UnicodeDecodeError:
        raise ValueError(f"family file {path} is not UTF-8 text; save it as UTF-8 YAML") from None
    except yaml.YAMLError as error:
        raise ValueError(f"family file {path} is not valid YAML: {' '.join(str(error).split())}") from None
    except ValueError as error:
        raise ValueError(f"{path}, {error}") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a mapping with keys 'name' and 'models'")
    try:
        _check_keys(document, FAMILY_KEYS, "a family file")
        family_name = check_path_name(_require(document, "name", "family name"), "family name")
        if "models" not in document or document["models"] is None:
            raise ValueError("missing required key 'models'")
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    entries = document["models"]
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: 'models' must be a non-empty list of {{name, path}} mappings")
    models, first_index = [], {}
    for index, entry in enumerate(entries):
        where = f"{path}: models[{index}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be a mapping with keys 'name' and 'path'")
        try:
            models.append(_family_file_model(entry, path.parent))
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        name = models[-1].name
        if name in first_index:
            raise ValueError(
                f"{path}: models[{first_index[name]}] and models[{index}] are both named {name!r}; "
                "give each model its own name"
            )
        first_index[name] = index
    try:
        return Family(family_name, tuple(models))  # names alike but for case or Unicode form
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def _family_file_model(entry: dict, folder: Path) -> Model:
    """One ``models`` entry of a family file; relative paths are taken from ``folder``."""
    _check_keys(entry, MODEL_KEYS, "a model")
    name = check_path_name(_require(entry, "name"), "name")
    location = check_model_arg(_require(entry, "path"), "path")
    revision = entry.get("revision")
    if revision is not None:
        check_model_arg(revision, "revision")
    counts = {field: entry.get(field) for field in ("params", "non_embedding_params")}
    for field, count in counts.items():
        if count is not None:
            check_param_count(count, field)
    training = {field: entry.get(field) for field in ("step", "tokens")}
    for field, count in training.items():
        if count is not None:
            check_training_count(count, field)
    if training["step"] is None:
        training["step"] = revision_step(revision)
    local = (folder / location).expanduser()
    if local.is_dir():
        location = str(local.resolve())
    elif looks_like_folder(location, folder):
        raise ValueError(
            f"path={location!r}: no such folder ({local.absolute()}; relative paths are read from the family "
            "file's folder); pass an existing checkpoint folder, or a Hub id such as EleutherAI/pythia-70m"
        )
    params = counts["params"]
    if params is None:
        params = count_parameters(location, revision=revision)
    return Model(name, location, name, params, counts["non_embedding_params"], revision, **training)
