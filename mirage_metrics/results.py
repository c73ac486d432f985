"""Read lm-eval output folders (``mirage sweep`` or plain ``lm_eval --output_path ... --log_samples``) into tidy tables.

lm-eval writes, per model folder, ``results_<date>.json`` (aggregates and the run's
config) and one ``samples_<task>_<date>.jsonl`` per task (one JSON object per
sample, with a ``metrics`` list naming the per-sample metric keys).

:func:`read_results` gives one row per (model, task, metric, L, sample) with columns
``family, model, params, task, metric, length, sample_id, value``: the metric
``exact_match_L3`` becomes metric ``exact_match`` with length 3 (NaN where a metric
is not by length); a filter other than lm-eval's default ``none`` is kept as
``metric,filter``.

Nothing is dropped, doubled or taken on trust silently. A per-sample value of NaN is
left out of the table: silently for a by-length metric (``exact_match_L5`` of a 4-digit
answer: not applicable), with a :class:`ResultsWarning` counting them for any other
metric. A :class:`ResultsWarning` also names a metric that is a string or listed
without a value on every sample (left out: no n, no interval), and a samples file with
no results file of its date beside it. Everything else is a ValueError naming the file
(and line, or field): a results file that is not an object, or whose ``results``,
``config``, ``n-samples``, ``higher_is_better`` or ``group_subtasks`` is not a mapping;
an evaluated task without its samples file (run without ``--log_samples``); a line that
is not a sample (an object with an integer ``doc_id``, a ``metrics`` list of names and a
string ``filter``); a document logged twice in a filter; a filter holding another number
of documents than ``n-samples`` reports or than another filter holds, or other documents
(a file cut at a line boundary); a metric listed twice in one sample or missing from
some samples' ``metrics``; a per-sample metric that is ``null``, a string or missing on
some line; a value that is infinite, or outside the range
:mod:`mirage_metrics.registry` gives its metric (a probability in [0, 1], a
log-probability at most 0, a distance at least 0, each sample 0 or 1 for an
all-or-nothing metric). ``true``/``false`` are read as 1/0. A metric that is never a
number otherwise (``null``, a list: lm-eval's ``bypass``, BIG-bench's Brier items) is
aggregate-only and read by :func:`read_aggregates`, which gives lm-eval's own aggregates
(``family, model, params, task, metric, length, value``), including aggregate-only
metrics. :func:`read_lm_eval` gives both tables and :func:`read_directions`' flags from
one reading of the results files, and the count of empty outputs of each generation
task (:data:`OUTPUT_COLUMNS`): a model whose outputs are nearly all empty or whitespace
(at least :data:`EMPTY_SHARE` of them: an instruct model that emits its end token first)
scores 0 on every metric of the text, so a :class:`ResultsWarning` says so.

Who a model is: a ``model.json`` beside the files (written by ``mirage sweep``) names
its family, model and parameter count. For a plain lm-eval folder the family is the
name of the source folder given (its shortest ending that tells it from the other
sources: ``exp1/runs`` and ``exp2/runs`` are two families), and the model is identified
by its full name: lm-eval's ``model_name`` (else the ``pretrained=`` value of
``model_args``), with ``@<revision>`` when ``model_args`` names a revision. It is shown
by the shortest ending of that name (in ``/``-separated parts) that no other plain model
of the family ends in: ``EleutherAI/pythia-70m`` -> ``pythia-70m``; ``/ckpts/a/final``
and ``/ckpts/b/final`` -> ``a/final`` and ``b/final``. Two folders that would give one
family one model name (one model evaluated into two folders, two ``model.json`` with one
name) are a ValueError naming both, never merged. The parameter count is lm-eval's
``model_num_parameters`` or the built-in families' count; ``params`` (a mapping or a
CSV/YAML file keyed by the shown or the full name, see :func:`load_params`) overrides
it. When one folder holds several runs of a task of one model, the latest run is read.
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
import warnings
from array import array
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from itertools import chain
from multiprocessing import get_context
from operator import itemgetter
from pathlib import Path
from typing import Iterable, Iterator, Mapping, NamedTuple, Union

import numpy as np
import orjson
import pandas as pd
import yaml

from mirage_metrics.devices import usable_cpus
from mirage_metrics.families import MAX_PARAMS, builtin_families, check_param_count, revision_step
from mirage_metrics.x_axes import X_LABELS

__all__ = [
    "read_lm_eval",
    "LmEvalOutputs",
    "read_results",
    "read_aggregates",
    "lm_eval_metric_name",
    "read_directions",
    "read_scores",
    "load_params",
    "ResultsWarning",
    "results_warnings",
    "MODEL_FILE",
    "Run",
    "load_json",
    "load_results_file",
    "read_samples_file",
    "OUTPUT_COLUMNS",
    "EMPTY_SHARE",
    "mostly_empty",
    "empty_outputs_note",
]

MODEL_FILE = "model.json"
RESULTS_COLUMNS = ["family", "model", "params", "task", "metric", "length", "sample_id", "value"]
AGGREGATE_COLUMNS = ["family", "model", "params", "task", "metric", "length", "value"]
# Per (model, generation task): the samples whose model wrote text, and how many of those texts are empty.
OUTPUT_COLUMNS = ["family", "model", "task", "outputs", "empty"]
EMPTY_SHARE = 0.9  # from this share of empty outputs on, a task's scores say more about the prompt than the model
_RESULTS_FILE = re.compile(r"^results_(?P<date>\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(?:\.\d+)?)\.json$")
_BY_LENGTH = re.compile(r"^(?P<metric>.+)_L(?P<length>\d+)$")
_NOT_METRICS = {"alias", "name", "sample_len", " ", "samples"}
# Fields of a results file that are mappings when present (checked once, read with .get after).
_MAPPING_FIELDS = ("config", "n-samples", "higher_is_better", "group_subtasks")
_SAMPLES_FILE = re.compile(r"^samples_(?P<task>.+)_(?P<date>\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(?:\.\d+)?)\.jsonl$")
# Below this many bytes of samples files, starting reader processes costs more than it saves.
_PARALLEL_MIN_BYTES = 64 << 20

Sources = Union[str, Path, Iterable[Union[str, Path]]]
Params = Union[None, str, Path, Mapping[str, int]]


class ResultsWarning(UserWarning):
    """Values or files lm-eval wrote that the tables leave out, and why (e.g. NaN per-sample values, counted)."""


@contextmanager
def results_warnings() -> Iterator[list[str]]:
    """Collect the messages of the :class:`ResultsWarning` raised inside (every one, repeats too) into the list
    it yields; other warnings pass on as usual.

    >>> with results_warnings() as notes:
    ...     warnings.warn("3 NaN", ResultsWarning)
    >>> notes
    ['3 NaN']
    """
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResultsWarning)
        yield notes
    for warning in caught:
        if issubclass(warning.category, ResultsWarning):
            notes.append(str(warning.message))
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


def mostly_empty(outputs: pd.DataFrame) -> pd.DataFrame:
    """The rows of an :data:`OUTPUT_COLUMNS` table where at least :data:`EMPTY_SHARE` of the outputs are empty.

    >>> outputs = pd.DataFrame({"family": "f", "model": ["a", "b"], "task": "t", "outputs": [20, 20], "empty": [20, 3]})
    >>> mostly_empty(outputs)["model"].tolist()
    ['a']
    """
    return outputs[outputs["empty"] >= EMPTY_SHARE * outputs["outputs"]]


def empty_outputs_note(empty: int, outputs: int) -> str:
    """What a mostly empty generation task means, and what to try.

    >>> empty_outputs_note(20, 20)
    '20 of 20 outputs are empty (the model stopped at once: an instruct model emitting its end token first? try a chat template or few-shot)'
    """
    return (
        f"{empty} of {outputs} outputs are empty (the model stopped at once: an instruct model emitting its end "
        "token first? try a chat template or few-shot)"
    )


def _output_is_empty(record: dict) -> bool | None:
    """Whether the text the model wrote for a generation sample is empty or whitespace in every repeat (lm-eval's
    raw ``resps``, else ``filtered_resps``); None for a sample of another kind (log-likelihoods) or without them.

    >>> _output_is_empty({"resps": [[" \\n"]]}), _output_is_empty({"resps": [[" 42"]]})
    (True, False)
    >>> _output_is_empty({"resps": [[[-1.5, False]]]}) is None, _output_is_empty({"filtered_resps": [""]})
    (True, True)
    """
    responses = record.get("resps")
    if responses is None:
        responses = [record.get("filtered_resps")]
    if type(responses) is not list or not responses:
        return None
    first = responses[0]
    if type(first) is not list or not first or type(first[0]) is not str:
        return None
    if len(responses) == 1 and len(first) == 1:  # one request, one repeat: almost every sample
        return not first[0] or first[0].isspace()
    return all(type(text) is not str or not text or text.isspace() for request in responses for text in request)


@dataclass(frozen=True)
class Run:
    """One ``results_<date>.json`` of one model folder, read by :func:`load_results_file`: what lm-eval reported,
    and where its samples files are (``mirage sweep`` checks a finished run with the same rules)."""

    family: str
    model: str
    params: int
    folder: Path
    date: str
    results: dict

    def samples_file(self, task: str) -> Path:
        return self.folder / f"samples_{task}_{self.date}.jsonl"

    @property
    def results_file(self) -> Path:
        return self.folder / f"results_{self.date}.json"

    def is_group(self, task: str) -> bool:
        """Whether ``task`` is a group of tasks (lm-eval writes its aggregates, but no samples)."""
        return bool((self.results.get("group_subtasks") or {}).get(task))

    def expected_samples(self, task: str) -> int | None:
        """The number of documents lm-eval evaluated for ``task``, if it says: ``n-samples``, else (lm-eval
        versions without it) the task's ``sample_len``."""
        entry = (self.results.get("n-samples") or {}).get(task)
        if entry is not None:
            count = entry.get("effective") if isinstance(entry, dict) else _MISSING
            field, shown = f"n-samples of task {task!r}", entry
            expected = '{"effective": <count of documents>}'
        else:
            count = shown = self.results["results"][task].get("sample_len")
            field, expected = f"sample_len of task {task!r}", "a count of documents"
        if count is not None and (type(count) is not int or count < 0):
            raise ValueError(
                f"{self.results_file}: {field} is {_value_text(shown)}, not {expected}; the file is damaged, "
                "rerun this model"
            )
        return count

    def filters(self, task: str) -> set[str]:
        """The filters of ``task`` whose metrics the results file reports (``exact_match,none`` -> ``none``)."""
        return {key.partition(",")[2] for key in self.results["results"][task] if "," in key}


def load_params(path: str | Path) -> dict[str, int]:
    """Parameter counts by model from a YAML mapping (``model: params``) or a CSV with columns ``model,params``.

    Keys may be the model name as it appears in the tables (``pythia-70m``) or the
    full lm-eval model name (a Hub id or checkpoint path).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"params file {path} does not exist; pass a CSV (model,params) or YAML (model: params) file")
    if path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"model", "params"} <= set(reader.fieldnames):
                raise ValueError(f"{path}, line 1: the CSV header must name the columns 'model' and 'params'")
            entries = [(f"{path}, line {reader.line_num}", row["model"], row["params"]) for row in reader]
    else:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise ValueError(f"params file {path} is not valid YAML: {error}") from None
        if not isinstance(document, dict):
            raise ValueError(f"{path}: expected a mapping 'model: params'")
        entries = [(f"{path}, model {model!r}", model, value) for model, value in document.items()]
    counts = {}
    for where, model, value in entries:
        try:
            count = int(str(value).replace("_", "").replace(",", ""))
        except ValueError:
            count = 0
        if count <= 0:
            raise ValueError(f"{where}: params={value!r} must be a positive integer")
        try:
            counts[str(model)] = check_param_count(count, "params")
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
    return counts


def _parameter_count(value, where: str) -> int:
    """``value`` as a parameter count (a positive integer; ``1e9`` as JSON writes it is fine), else ValueError.

    >>> _parameter_count(7e8, "x")
    700000000
    >>> _parameter_count(-5, "model.json")
    Traceback (most recent call last):
    ...
    ValueError: model.json: params=-5 must be a positive integer (the model's parameter count)
    """
    if type(value) not in (int, float) or not 0 < value < float("inf") or value != int(value):
        raise ValueError(f"{where}: params={value!r} must be a positive integer (the model's parameter count)")
    try:
        return check_param_count(int(value), "params")
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def _params_mapping(params: Params) -> dict[str, int]:
    if params is None:
        return {}
    if isinstance(params, (str, Path)):
        return load_params(params)
    return {str(model): _parameter_count(count, f"params of model {model!r}") for model, count in params.items()}


def _builtin_counts(field: str = "params") -> dict[str, int]:
    """The built-in families' (Pythia, GPT-2) ``params`` or ``non_embedding_params`` by Hub id."""
    return {m.path: getattr(m, field) for family in builtin_families().values() for m in family.models}


def _plain_paths(folders: list[Path]) -> str:
    """Folders as a user typed them, for messages: ``runs/a, runs/b`` rather than ``[PosixPath('runs/a'), ...]``.

    >>> _plain_paths([Path("runs/a"), Path("runs/b")])
    'runs/a, runs/b'
    """
    return ", ".join(str(folder) for folder in folders)


def _source_folders(sources: Sources) -> list[Path]:
    if isinstance(sources, (str, Path)):
        sources = [sources]
    folders = [Path(source) for source in sources]
    if not folders:
        raise ValueError("sources is empty; pass at least one folder of lm-eval outputs")
    for folder in folders:
        if not folder.is_dir():
            raise ValueError(f"source {folder} is not a folder; pass folders written by mirage sweep or lm_eval")
    return folders


def load_json(path: Path) -> dict:
    """The JSON object in ``path``; ValueError naming the file (and line) when it is not one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path}, line {error.lineno}: malformed JSON ({error.msg}); the file is truncated or corrupt"
        ) from None
    if not isinstance(document, dict):
        raise ValueError(f"{path}: holds a JSON {type(document).__name__}, not an object; the file is damaged")
    return document


def load_results_file(path: Path) -> dict:
    """The lm-eval results file ``path``, checked: ``results`` maps every task to its metrics and the other fields
    read are mappings; ValueError naming the file otherwise."""
    document = load_json(path)
    results = document.get("results")
    if not isinstance(results, dict) or not all(isinstance(metrics, dict) for metrics in results.values()):
        raise ValueError(
            f"{path}: 'results' is not a mapping of tasks to their metrics; the file is not lm-eval's "
            "results file or is damaged, rerun this model"
        )
    for field in _MAPPING_FIELDS:
        _mapping(document, field, path)
    return document


def _mapping(document: dict, key: str, where: Path) -> dict:
    """``document[key]`` when it is a mapping, ``{}`` when absent; ValueError naming ``where`` and the field else."""
    value = document.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(
            f"{where}: field {key!r} is a JSON {type(value).__name__}, not an object; the file is damaged, "
            "rerun this model"
        )
    return value


# The keys of lm-eval's --model_args that name the model, in lm-eval's order (EvaluationTracker's model_name).
_MODEL_NAME_ARGS = ("peft", "delta", "pretrained", "model", "path", "engine")


def _full_name(results: dict, results_file: Path) -> tuple[str, str]:
    """The model's full name and its path: lm-eval's ``model_name``, else the ``pretrained=`` (or ``peft=``, ...)
    value of its ``model_args``, else the folder's name (lm-eval names the folder after the model); the full name
    adds ``@<revision>`` when ``model_args`` names a revision (a checkpoint of a Hub model).

    >>> _full_name({"config": {"model_args": "pretrained=EleutherAI/pythia-70m,revision=step1000"}}, Path("x/y"))
    ('EleutherAI/pythia-70m@step1000', 'EleutherAI/pythia-70m')
    """
    args = (results.get("config") or {}).get("model_args")
    if isinstance(args, str):
        args = dict(item.partition("=")[::2] for item in args.split(","))
    args = args if isinstance(args, dict) else {}
    names = [results.get("model_name")] + [args.get(key) for key in _MODEL_NAME_ARGS]
    path = next((name for name in names if isinstance(name, str) and _name_parts(name)), results_file.parent.name)
    revision = args.get("revision")
    return (f"{path}@{revision}" if isinstance(revision, str) and revision else path), path


def _name_parts(name: str) -> tuple[str, ...]:
    """The non-empty ``/``-separated parts of a model name: ``/ckpts/a/final/`` -> ``('ckpts', 'a', 'final')``."""
    return tuple(part for part in name.split("/") if part)


def _short_names(full_names: Iterable[str]) -> dict[str, str]:
    """Each full name's shortest ending (in ``/``-separated parts) that no other name ends in.

    >>> _short_names(["/ckpts/a/final", "/ckpts/b/final", "EleutherAI/pythia-70m", "final"])
    {'/ckpts/a/final': 'a/final', '/ckpts/b/final': 'b/final', 'EleutherAI/pythia-70m': 'pythia-70m', 'final': 'final'}
    """
    parts = {name: _name_parts(name) for name in full_names}
    short = {}
    for name, mine in parts.items():
        for size in range(1, len(mine) + 1):
            if all(theirs[-size:] != mine[-size:] for theirs in parts.values() if theirs != mine):
                break
        short[name] = "/".join(mine[-size:])
    return short


@dataclass
class _Found:
    """One results file, before its model's shown name and parameter count are settled."""

    results_file: Path
    results: dict
    family: str
    model: str | None  # model.json's name; None for a plain lm-eval folder (named from full_name)
    full_name: str
    path: str  # the full name without a revision: a Hub id or a checkpoint path
    count: object  # the parameter count the folder states (None: it does not)
    where: str  # what states it, for messages
    info: dict  # model.json ({} for a plain lm-eval folder, whose revision is the one field known)


def _found(results_file: Path, family: str) -> _Found:
    """Family, name and stated parameter count of the model of one results file (see the module's docstring);
    ``family``: the family of a plain lm-eval folder (without ``model.json``)."""
    results = load_results_file(results_file)
    folder = results_file.parent
    model_file = folder / MODEL_FILE
    if model_file.is_file():
        info = load_json(model_file)
        family, model, full_name, count = info.get("family"), info.get("model"), info.get("path"), info.get("params")
        if not (isinstance(family, str) and isinstance(model, str) and family and model):
            raise ValueError(f"{model_file}: needs the strings 'family' and 'model' (mirage sweep writes them)")
        full_name = str(full_name or model)
        return _Found(results_file, results, family, model, full_name, full_name, count, str(model_file), info)
    count = (results.get("config") or {}).get("model_num_parameters")
    count = None if count == 0 and type(count) is int else count  # lm-eval's 0: it could not count
    where = f"{folder}: model_num_parameters of lm-eval's results file"
    full_name, path = _full_name(results, results_file)
    info = {"revision": full_name[len(path) + 1 :]} if full_name != path else {}
    return _Found(results_file, results, family, None, full_name, path, count, where, info)


def _named(found: list[_Found]) -> list[tuple[_Found, str]]:
    """Each results file with its model's shown name: model.json's, or for a plain lm-eval folder the shortest
    ending of its full name that tells it from the family's other plain models. ValueError when two folders would
    give one family one model name (they would be merged)."""
    plain: dict[str, set[str]] = {}
    for item in found:
        if item.model is None:
            plain.setdefault(item.family, set()).add(item.full_name)
    short = {family: _short_names(names) for family, names in plain.items()}
    named, folders = [], {}
    for item in found:
        model = item.model if item.model is not None else short[item.family][item.full_name]
        folder = item.results_file.parent
        other = folders.setdefault((item.family, model), (folder, item.full_name))
        if other[0] != folder or _name_parts(other[1]) != _name_parts(item.full_name):
            first, second = sorted([(str(other[0]), other[1]), (str(folder), item.full_name)])
            names = f"model {first[1]!r} in both" if first[1] == second[1] else f"{first[1]!r} and {second[1]!r}"
            raise ValueError(
                f"model {model!r} of family {item.family!r} comes from two folders, {first[0]} and {second[0]} "
                f"({names}), which would be merged; keep one, or read them as separate sources (a plain lm-eval "
                "folder's family is the name of its source folder)"
            )
        named.append((item, model))
    return named


def _parameters(item: _Found, model: str, params: dict, builtin: dict) -> int:
    """The parameter count of ``model``: from ``params`` (by shown or full name), the folder, or the built-in
    families; ValueError when none knows it."""
    for key in (model, item.full_name):
        if key in params:
            return params[key]
    count, where = item.count, item.where
    if count is None:
        count, where = builtin.get(item.path), f"{item.results_file.parent}: the built-in count"
    if count is None:
        raise ValueError(
            f"{item.results_file.parent}: the parameter count of model {model!r} is unknown; pass params "
            f"(--param-counts FILE with a line '{model}: <count>')"
        )
    return _parameter_count(count, where)


def _x_value(item: _Found, model: str, x: str, params: dict, builtin: dict) -> int | None:
    """The x of ``model`` (see :data:`~mirage_metrics.x_axes.X_LABELS`): counts from ``params`` (by shown or full
    name), the folder or the built-in families; a step also from a revision ``step<N>`` (Pythia's checkpoints);
    None when none knows it."""
    if x == "params":
        return _parameters(item, model, params, builtin)
    if x == "non_embedding_params":
        value = next((params[key] for key in (model, item.full_name) if key in params), None)
        value = value if value is not None else item.info.get(x) or builtin.get(item.path)
    else:
        value = item.info.get(x)
        if value is None and x == "step":
            revision = item.info.get("revision")
            value = revision_step(revision if isinstance(revision, str) else None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_PARAMS:
        raise ValueError(
            f"{item.where}: {x}={value!r} of model {model!r} cannot be on the log x-axis; it must be a positive "
            f"integer (leave a {x} 0 checkpoint out of the report)"
        )
    return value


def _check_x(x: str) -> str:
    if x not in X_LABELS:
        raise ValueError(f"x={x!r} is not a choice; choose one of {', '.join(X_LABELS)}")
    return x


def _runs(sources: Sources, params: Params, x: str = "params") -> list[tuple[str, Run]]:
    """The latest run of every (family, model, task), found anywhere below the sources; its ``params`` is the
    model's ``x`` (see :data:`~mirage_metrics.x_axes.X_LABELS`; ValueError naming every model without one).

    Folders whose name starts with a dot (``mirage sweep``'s unfinished work) are skipped; a folder reached
    from two sources is read once.
    """
    params_by_model = _params_mapping(params)
    builtin = _builtin_counts("params" if _check_x(x) == "params" else "non_embedding_params")
    folders = _source_folders(sources)
    found, seen = [], set()
    families = _short_names(str(source.resolve()) for source in folders)  # of plain lm-eval folders
    for source in folders:
        for results_file in sorted(source.rglob("results_*.json")):
            relative = results_file.relative_to(source).parts
            if not _RESULTS_FILE.match(results_file.name) or any(part.startswith(".") for part in relative):
                continue
            if results_file.resolve() not in seen:
                seen.add(results_file.resolve())
                found.append(_found(results_file, families[str(source.resolve())]))
    latest: dict[tuple[str, str, str], Run] = {}
    unknown = []
    for item, model in _named(found):
        count = _x_value(item, model, x, params_by_model, builtin)
        if count is None:
            unknown.append(f"{item.family}/{model}")
            continue
        date = _RESULTS_FILE.match(item.results_file.name)["date"]
        run = Run(item.family, model, count, item.results_file.parent, date, item.results)
        for task in item.results["results"]:
            key = (item.family, model, task)
            if key not in latest or latest[key].date < run.date:
                latest[key] = run
    if unknown:
        where = {
            "non_embedding_params": "non_embedding_params in their family file (model.json) or a count file "
            "(--param-counts FILE)",
            "step": "a step in their family file (model.json) or a revision step<N>",
            "tokens": "tokens in their family file (model.json)",
        }[x]
        raise ValueError(
            f"no {X_LABELS[x].lower()} for model(s) {', '.join(sorted(set(unknown)))}; give them {where}, "
            "or leave them out of the sources"
        )
    if not latest:
        raise ValueError(
            f"no lm-eval results (results_<date>.json) found under {_plain_paths(folders)}; "
            "pass folders written by mirage sweep or lm_eval --output_path"
        )
    return [(task, run) for (_, _, task), run in latest.items()]


def _split_metric(name: str, filter_name: str) -> tuple[str, float]:
    """``exact_match_L3`` -> (``exact_match``, 3.0); other names keep NaN as length.

    >>> _split_metric("exact_match_L3", "none"), _split_metric("brier_score", "strict")
    (('exact_match', 3.0), ('brier_score,strict', nan))
    """
    match = _BY_LENGTH.match(name)
    metric, length = (match["metric"], float(match["length"])) if match else (name, float("nan"))
    return (metric if filter_name == "none" else f"{metric},{filter_name}"), length


Columns = dict[str, tuple[np.ndarray, np.ndarray]]  # per metric name: sample ids, values
_MISSING = object()  # a metric a sample lists without a value


def _value_text(value) -> str:
    """A per-sample value as it reads in the JSON file, shortened.

    >>> _value_text(None), _value_text("n/a"), _value_text(list(range(30)))
    ('null', '"n/a"', '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, ...')
    """
    text = json.dumps(value)
    return text if len(text) <= 50 else text[:46] + " ..."


def read_samples_file(
    path: Path, expected: int | None, filters: Iterable[str] = ()
) -> tuple[dict[str, Columns], list[str], tuple[int, int]]:
    """Per filter and metric name, the sample ids and finite per-sample values of one samples file, the
    warnings to show (NaN values of metrics that are not by length, counted), and (outputs, empty): how many
    documents have a generated text and how many of those texts are empty or whitespace (:func:`_output_is_empty`).

    ``expected``: the number of documents the results file reports (every filter must hold each once);
    ``filters``: the filters it reports metrics of (each must have samples). ValueError names the file and
    line of anything else that would drop or double a value (see the module's docstring).

    Lines are parsed with orjson, which refuses ``NaN``: each is read as :data:`_NAN_MARK`, a number no other text
    gives, and taken for NaN where the line's marks are all metric values. The values of consecutive lines are
    gathered by :class:`_Batch`. A line orjson reads otherwise than the standard library (``Infinity``, a lone
    surrogate, a ``NaN`` elsewhere), or that is not a plain sample, is read by :func:`_read_line`, so the table
    and every error are those of the standard library's parser.
    """
    by_filter: dict[str, tuple[dict, dict, set]] = {}  # filter -> (metric columns, first non-number, doc ids)
    outputs: dict[int, bool] = {}  # doc id -> whether its generated text is empty (the same in every filter)
    batch = _Batch(path, by_filter)
    loads, refused, mark, limit = orjson.loads, orjson.JSONDecodeError, _NAN_MARK_TEXT, _BATCH_LINES
    # The batch's key and lists, as locals: the loop below runs once per line
    batch_filter, batch_names, getter = None, None, batch.getter
    rows, marked_rows, add_line, add_doc_id, add_row = batch.rows, batch.marked, *batch.appenders()
    line_number = 0
    with open(path, "rb") as handle:
        for chunk in _chunks(handle):
            # re's sub is several times faster than bytes.replace here; with the mark's text in the chunk, NaN is
            # left as it is (orjson refuses those lines: the standard library reads them)
            replaced = chunk if mark in chunk else _NAN_TEXT.sub(mark, chunk)
            marked = replaced is not chunk
            lines = replaced.split(b"\n")
            del lines[-1]  # the empty text after the chunk's last newline
            for line in lines:
                line_number += 1
                try:
                    record = loads(line)
                    doc_id, names, filter_name = record["doc_id"], record["metrics"], record.get("filter", "none")
                except (refused, KeyError, TypeError, AttributeError):
                    doc_id = None
                if type(doc_id) is int and (empty := _output_is_empty(record)) is not None:
                    outputs[doc_id] = empty
                if type(doc_id) is not int or type(names) is not list or type(filter_name) is not str:
                    values = None
                elif filter_name == batch_filter and names == batch_names and len(rows) < limit:
                    try:
                        values = getter(record)
                    except KeyError:  # a metric listed without a value
                        values = None
                else:
                    values = batch.start(filter_name, names, record)
                    batch_filter, batch_names, getter = filter_name, names, batch.getter
                nans = line.count(mark) if marked else 0
                if nans and values is not None and not _nans_are_values(values, nans, doc_id):
                    values = None
                if values is None:
                    batch.flush()
                    _read_line(path, line_number, line.replace(mark, b"NaN") if nans else line, by_filter, outputs)
                    continue
                state = by_filter.get(filter_name)
                if state is None:
                    state = by_filter[filter_name] = ({}, {}, set())
                doc_ids = state[2]
                if doc_id in doc_ids:
                    batch.flush()
                    raise ValueError(_logged_twice(path, line_number, doc_id, filter_name))
                doc_ids.add(doc_id)
                if not rows:
                    batch.first_line = line_number
                if nans:
                    marked_rows.append(len(rows))
                add_line(line)
                add_doc_id(doc_id)
                add_row(values)
    batch.flush()
    return *_checked(path, expected, set(filters), by_filter), (len(outputs), sum(outputs.values()))


# Samples files are read in pieces of whole lines of about this size.
_CHUNK_BYTES = 1 << 20
# The text put for NaN (which orjson refuses) before orjson parses a line: orjson reads no other text as this
# integer, and no occurrence of the text can overlap another (so each one in a line is a NaN put there).
_NAN_TEXT = re.compile(rb"NaN")
_NAN_MARK = 2**64 - 1
_NAN_MARK_TEXT = str(_NAN_MARK).encode()
_MARK_AS_FLOAT = float(_NAN_MARK)  # the mark in a float64 column (2.0 ** 64)
# Lines of one batch: enough to make the per-batch work small, few enough to keep their text in memory.
_BATCH_LINES = 4096


def _chunks(handle) -> Iterator[bytes]:
    """The rest of a file opened in binary mode, in pieces of whole lines, each ending with a newline."""
    while chunk := handle.read(_CHUNK_BYTES):
        if not chunk.endswith(b"\n"):
            chunk += handle.readline()
        yield chunk if chunk.endswith(b"\n") else chunk + b"\n"


def _nans_are_values(values: tuple, nans: int, doc_id: int) -> bool:
    """Whether each of the ``nans`` NaN marks of a line is one of its metric ``values`` (not one inside a string,
    or elsewhere in the line), and no value is the mark as a float (so :meth:`_Batch.flush` can tell them)."""
    return doc_id != _NAN_MARK and values.count(_NAN_MARK) == nans and _MARK_AS_FLOAT not in values


def _no_values(sample: dict) -> None:
    """The getter of a batch whose names are not distinct strings: its lines are read by :func:`_read_line`."""
    return None


class _Batch:
    """Consecutive lines of one filter of a samples file listing the same metric names (distinct strings): their
    values, added to the filter's columns at once by :meth:`flush`. :func:`read_samples_file` adds to its lists."""

    def __init__(self, path: Path, by_filter: dict[str, tuple[dict, dict, set]]) -> None:
        self.path, self.by_filter = path, by_filter
        self.filter_name: str | None = None
        self.names: list = []
        self.getter = _no_values  # a line's values in the order of names (None for names not distinct strings)
        self.first_line = 0
        self.lines: list[bytes] = []
        self.doc_ids: list[int] = []
        self.rows: list[tuple] = []
        self.marked: list[int] = []  # the rows that hold NaN marks

    def appenders(self) -> tuple:
        return self.lines.append, self.doc_ids.append, self.rows.append

    def start(self, filter_name: str, names: list, record: dict) -> tuple | None:
        """Flush, start a batch of lines of ``filter_name`` listing ``names``, and give the values of ``record``
        in their order (None when the names are not distinct strings or a value is missing)."""
        self.flush()
        self.filter_name, self.names = filter_name, names
        if not (all(type(name) is str for name in names) and len(set(names)) == len(names)):
            self.getter = _no_values
        elif len(names) == 1:
            self.getter = lambda sample, name=names[0]: (sample[name],)
        else:
            self.getter = itemgetter(*names) if names else lambda sample: ()
        try:
            return self.getter(record)
        except KeyError:
            return None

    def flush(self) -> None:
        """Add the batch's values to its filter's columns, the NaN marks as NaN; its lines one by one
        (:func:`_add_values`, parsed by the standard library) when a value is not a number or does not fit."""
        if not self.lines:
            return
        columns, odd, _ = self.by_filter[self.filter_name]
        try:
            ids = array("q", self.doc_ids)
            values = array("d", chain.from_iterable(self.rows))
        except (TypeError, OverflowError):
            marked = set(self.marked)
            for index, line in enumerate(self.lines):
                record = json.loads(line.replace(_NAN_MARK_TEXT, b"NaN") if index in marked else line)
                line_number = self.first_line + index
                _add_values(self.path, line_number, record, record["doc_id"], record["metrics"], columns, odd)
        else:
            matrix = np.frombuffer(values, dtype=np.float64).reshape(len(self.rows), len(self.names))
            if self.marked:
                rows = matrix[self.marked]
                rows[rows == _MARK_AS_FLOAT] = np.nan
                matrix[self.marked] = rows
            for index, name in enumerate(self.names):
                column = columns.get(name)
                if column is None:
                    column = columns[name] = (array("q"), array("d"))
                column[0].extend(ids)
                column[1].frombytes(matrix[:, index].tobytes())
        for items in (self.lines, self.doc_ids, self.rows, self.marked):
            items.clear()  # in place: read_samples_file holds them


def _read_line(
    path: Path, line_number: int, line: bytes, by_filter: dict[str, tuple[dict, dict, set]], outputs: dict[int, bool]
) -> None:
    """Add one line of a samples file, parsed by the standard library, to ``by_filter`` and whether its output is
    empty to ``outputs`` (see :func:`read_samples_file`); ValueError naming the line when it is not a sample or logs
    a document twice."""
    try:
        record = json.loads(line)
        doc_id = record["doc_id"]
        names = record["metrics"]
        filter_name = record.get("filter", "none")
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path}, line {line_number}: malformed JSON ({error.msg}); the file is truncated or "
            "corrupt, rerun this model"
        ) from None
    except (KeyError, TypeError, AttributeError):
        doc_id = names = filter_name = None
    if type(doc_id) is not int or type(names) is not list or type(filter_name) is not str:
        raise ValueError(
            f"{path}, line {line_number}: not an lm-eval sample (needs an integer 'doc_id', a 'metrics' "
            "list and a string 'filter')"
        )
    state = by_filter.get(filter_name)
    if state is None:
        state = by_filter[filter_name] = ({}, {}, set())
    columns, odd, doc_ids = state
    if doc_id in doc_ids:
        raise ValueError(_logged_twice(path, line_number, doc_id, filter_name))
    doc_ids.add(doc_id)
    if (empty := _output_is_empty(record)) is not None:
        outputs[doc_id] = empty
    _add_values(path, line_number, record, doc_id, names, columns, odd)


def _add_values(path: Path, line_number: int, record: dict, doc_id: int, names: list, columns: dict, odd: dict) -> None:
    """Add the number of each metric ``names`` lists in ``record`` to its column, and the first value that is not a
    number (or missing) to ``odd``; ValueError for a name that is not a string or a number beyond the table's."""
    try:
        for name in names:
            value = record.get(name, _MISSING)
            if type(value) in (float, int, bool):
                column = columns.get(name)
                if column is None:
                    column = columns[name] = (array("q"), array("d"))
                column[0].append(doc_id)
                column[1].append(value)
            elif name not in odd:
                odd[name] = (line_number, value)
    except TypeError:  # a name that is a list or an object
        raise ValueError(_not_a_name(path, line_number, names)) from None
    except OverflowError:  # an integer beyond 64 bits
        raise ValueError(_too_large(path, line_number, record)) from None


def _logged_twice(path: Path, line_number: int, doc_id: int, filter_name: str) -> str:
    """The error for a document logged a second time in one filter."""
    return (
        f"{path}, line {line_number}: doc_id {doc_id} of filter {filter_name!r} is logged a second "
        "time; one line per document and filter is expected, rerun this model"
    )


def _too_large(path: Path, line_number: int, record: dict) -> str:
    """The error for a sample holding an integer that the table's int64 ids or float64 values cannot hold."""
    field = "doc_id" if not -(2**63) <= record["doc_id"] < 2**63 else None
    for name in record["metrics"] if field is None else ():
        if type(record.get(name)) is int and abs(record[name]) > sys.float_info.max:
            field = name
            break
    return (
        f"{path}, line {line_number}: {field!r} is {_value_text(record[field])}, too large for the table's numbers; "
        "the file is damaged, rerun this model"
    )


def _not_a_name(path: Path, line_number: int, names: list) -> str:
    """The error for a ``metrics`` list holding something other than a metric name."""
    name = next(name for name in names if not isinstance(name, str))
    return (
        f"{path}, line {line_number}: the 'metrics' list holds {_value_text(name)}, not a metric name; the file "
        "is damaged, rerun this model"
    )


def _checked(
    path: Path, expected: int | None, filters: set[str], by_filter: dict[str, tuple[dict, dict, set]]
) -> tuple[dict[str, Columns], list[str]]:
    """The columns of :func:`read_samples_file` without NaN values, after checking that nothing was lost, doubled or
    out of its metric's range (vectorised; the file is read again only to name the line of an error)."""
    missing = sorted(filters - set(by_filter))
    if missing:
        raise ValueError(
            f"{path}: no samples of filter {missing[0]!r}, which its results file reports; the file is "
            "truncated, rerun this model"
        )
    _check_documents(path, expected, {name: state[2] for name, state in by_filter.items()})
    read, notes = {}, []
    for filter_name, (columns, odd, doc_ids) in by_filter.items():
        for name, (line_number, value) in odd.items():
            where = f"{path}, line {line_number}: metric {name!r} (filter {filter_name!r})"
            if not isinstance(name, str):
                raise ValueError(_not_a_name(path, line_number, [name]))
            if name in columns:  # a number on other lines: a per-sample metric
                shown = "missing" if value is _MISSING else _value_text(value)
                raise ValueError(
                    f"{where} is {shown}, not a number, where other samples hold numbers; the file is damaged, "
                    "rerun this model"
                )
            if value is _MISSING or isinstance(value, str):  # never a number: lm-eval's aggregate alone is shown
                shown = "missing (listed without a value)" if value is _MISSING else f"{_value_text(value)}, a string,"
                notes.append(
                    f"{where} is {shown} and no sample holds a number; it is left out of the per-sample table "
                    "(no n, no interval; the results file's aggregate is shown where it is a number)"
                )
        read[filter_name], wrong = {}, {}
        for name, (ids, values) in columns.items():
            ids, values = np.frombuffer(ids, dtype=np.int64), np.frombuffer(values, dtype=np.float64)
            if len(ids) != len(doc_ids) or not _distinct(ids):
                _listing_error(path, filter_name, name)
            present = ~np.isnan(values)
            if not present.all():
                ids, values = ids[present], values[present]
                if not _BY_LENGTH.match(name):  # by length, NaN means "not applicable": no warning
                    notes.append(
                        f"{path}: metric {name!r} (filter {filter_name!r}) is NaN on "
                        f"{len(present) - len(values)} of {len(present)} samples; they are left out"
                    )
            outside = _outside(name, values)
            if outside.any():
                wrong[name] = set(ids[outside].tolist())
            read[filter_name][name] = (ids, values)
        if wrong:
            _value_error(path, filter_name, wrong)
    return read, notes


def _check_documents(path: Path, expected: int | None, doc_ids: dict[str, set]) -> None:
    """Every filter holds the documents the results file reports (``n-samples``), and all filters the same ones
    (which catches a file cut at a line boundary where the results file gives no count)."""
    for filter_name, ids in doc_ids.items():
        if expected is not None and len(ids) != expected:
            raise ValueError(
                f"{path}: filter {filter_name!r} holds {len(ids)} samples but its results file reports "
                f"{expected}; the file is truncated, rerun this model"
            )
    if not doc_ids:
        if expected:
            raise ValueError(
                f"{path}: holds no samples but its results file reports {expected}; the file is truncated, rerun "
                "this model"
            )
        return
    first = "none" if "none" in doc_ids else next(iter(doc_ids))
    for filter_name, ids in doc_ids.items():
        if len(ids) != len(doc_ids[first]):
            raise ValueError(
                f"{path}: filter {filter_name!r} holds {len(ids)} samples but filter {first!r} "
                f"{len(doc_ids[first])}; the file is truncated, rerun this model"
            )
        if ids != doc_ids[first]:
            raise ValueError(
                f"{path}: filter {filter_name!r} holds other documents than filter {first!r}; the file is "
                "damaged or mixes two runs, rerun this model"
            )


def _distinct(ids: np.ndarray) -> bool:
    """Whether no id repeats (lm-eval logs documents in order, so the sort is rarely needed)."""
    return bool((np.diff(ids) > 0).all()) or len(np.unique(ids)) == len(ids)


def _outside(name: str, values: np.ndarray) -> np.ndarray:
    """Which values are infinite or outside the range :mod:`mirage_metrics.registry` gives metric ``name``."""
    from mirage_metrics.registry import metric_info

    info = metric_info(name)
    outside = ~np.isfinite(values)
    if info.range_per_sample:
        outside |= (values < info.low) | (values > info.high)
    if info.binary:
        outside |= (values != 0) & (values != 1)
    return outside


def _samples_of(path: Path, filter_name: str) -> Iterator[tuple[int, dict]]:
    """(line number, sample) of every line of ``filter_name`` in a samples file already read without error."""
    with open(path, "rb") as handle:
        for line_number, line in enumerate(handle, 1):
            record = json.loads(line)
            if record.get("filter", "none") == filter_name:
                yield line_number, record


def _listing_error(path: Path, filter_name: str, name: str) -> None:
    """ValueError naming the first line of ``filter_name`` that lists ``name`` twice or not at all."""
    for line_number, record in _samples_of(path, filter_name):
        listed = record["metrics"].count(name)
        if listed != 1:
            where = f"{path}, line {line_number}: metric {name!r}"
            if listed:
                raise ValueError(
                    f"{where} is listed twice in the sample's 'metrics' (filter {filter_name!r}), which would count "
                    "it twice; the file is damaged, rerun this model"
                )
            raise ValueError(
                f"{where} (filter {filter_name!r}) is not listed in the sample's 'metrics', where other samples "
                "list it; the file is damaged, rerun this model"
            )


def _value_error(path: Path, filter_name: str, wrong: dict[str, set[int]]) -> None:
    """ValueError naming the first line of ``filter_name`` with a value :func:`_outside` found (``wrong``: by metric
    name, the documents that have one)."""
    for line_number, record in _samples_of(path, filter_name):
        for name in record["metrics"]:
            if record["doc_id"] in wrong.get(name, ()):
                raise ValueError(
                    f"{path}, line {line_number}: metric {name!r} (filter {filter_name!r}) is "
                    f"{_value_text(record[name])}, {_why_impossible(name, record[name])}; the file is damaged or the "
                    "metric is computed wrongly, fix it and rerun this model"
                )


def _why_impossible(name: str, value: float) -> str:
    """Why ``value`` cannot be a per-sample value of ``name`` (see :func:`_outside`).

    >>> _why_impossible("target_log_prob", 7.5), _why_impossible("exact_match_L2", 0.5)
    ('outside the range of target_log_prob (at most 0)', 'but exact_match scores each sample 0 or 1')
    >>> _why_impossible("mystery", float("-inf"))
    'not a finite number (a mean over it would be infinite)'
    """
    from mirage_metrics.registry import metric_info

    info = metric_info(name)
    if not math.isfinite(value):  # not np.isfinite: an integer beyond 64 bits is no numpy number
        return "not a finite number (a mean over it would be infinite)"
    if info.binary and info.low <= value <= info.high:
        return f"but {info.name} scores each sample 0 or 1"
    if info.low == -np.inf:
        return f"outside the range of {info.name} (at most {info.high:g})"
    if info.high == np.inf:
        return f"outside the range of {info.name} (at least {info.low:g})"
    return f"outside the range of {info.name} ({info.low:g} to {info.high:g})"


class _Categories:
    """Codes of a categorical column, assigned in order of first appearance."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def code(self, value: str) -> int:
        return self.codes.setdefault(value, len(self.codes))

    def column(self, codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=list(self.codes))


def _worker_count(workers: int | str, paths: list[Path]) -> int:
    """Processes to read ``paths`` with: ``workers``, or for ``"auto"`` one per CPU for inputs worth the start-up."""
    if workers == "auto":
        if sum(path.stat().st_size for path in paths) < _PARALLEL_MIN_BYTES:
            return 1
        return max(1, min(usable_cpus(), len(paths)))
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers={workers!r} must be a positive number of processes or 'auto', e.g. 1 or 4")
    return min(workers, max(1, len(paths)))


def _append_file(
    pieces: dict[str, list],
    categories: dict[str, _Categories],
    run: Run,
    task: str,
    by_filter: dict[str, Columns],
) -> None:
    """Add the columns of one samples file (from :func:`read_samples_file`) to ``pieces``, one piece per metric: its
    sample ids and values, and the one value (category code, number) of each other column for all its rows."""
    for filter_name, by_name in by_filter.items():
        for name, (ids, values) in by_name.items():
            metric, length = _split_metric(name, filter_name)
            for column, value in (("family", run.family), ("model", run.model), ("task", task), ("metric", metric)):
                pieces[column].append(categories[column].code(value))
            pieces["params"].append(run.params)
            pieces["length"].append(length)
            pieces["sample_id"].append(ids)
            pieces["value"].append(values)


class LmEvalOutputs(NamedTuple):
    """What :func:`read_lm_eval` reads: the tables of :func:`read_results` and :func:`read_aggregates`, the
    flags of :func:`read_directions`, and the count of (empty) outputs of each generation task
    (:data:`OUTPUT_COLUMNS`)."""

    table: pd.DataFrame
    aggregates: pd.DataFrame
    directions: dict[str, bool]
    outputs: pd.DataFrame


def read_lm_eval(
    sources: Sources, params: Params = None, *, x: str = "params", workers: int | str = 1, progress: bool = False
) -> LmEvalOutputs:
    """:func:`read_results`, :func:`read_aggregates` and :func:`read_directions` of ``sources`` at once, each
    results file parsed once (arguments, errors and warnings as :func:`read_results`'s)."""
    runs = _runs(sources, params, x)
    table, outputs = _table(sources, runs, workers, progress)
    return LmEvalOutputs(table, _aggregates(runs), _directions(runs), outputs)


def read_results(
    sources: Sources, params: Params = None, *, x: str = "params", workers: int | str = 1, progress: bool = False
) -> pd.DataFrame:
    """One row per (model, task, metric, L, sample): ``family, model, params, task, metric, length, sample_id, value``.

    ``sources``: folders written by ``mirage sweep`` or ``lm_eval --output_path ... --log_samples``.
    ``params``: parameter counts by model (mapping or CSV/YAML file) for models lm-eval did not count.
    ``x``: what the ``params`` column holds (a key of :data:`~mirage_metrics.x_axes.X_LABELS`): the total parameter
    count, the non-embedding one (``params`` then gives counts of that kind; else ``model.json`` or the built-in families),
    or the checkpoint's training ``step`` or ``tokens`` (``model.json``; a step also from a revision ``step<N>``).
    ``workers``: processes parsing samples files side by side (1: in this process); ``"auto"`` starts one per
    CPU core when the files hold more than 64 MiB. The table is the same for any number. New processes import
    the calling script again (``spawn``), so call it with ``workers`` above 1 under ``if __name__ == "__main__":``.
    String columns are categorical, to stay small at millions of rows. Raises ValueError, naming the file and
    line, where lm-eval's files would lose, double or hold an impossible value; warns (:class:`ResultsWarning`)
    about what it leaves out and why (see the module's docstring).
    """
    return _table(sources, _runs(sources, params, x), workers, progress)[0]


def _table(
    sources: Sources, runs: list[tuple[str, Run]], workers: int | str, progress: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table of :func:`read_results` from the samples files of ``runs``, and the counts of generated outputs
    (:data:`OUTPUT_COLUMNS`); warnings name the public reader's caller."""
    from tqdm.auto import tqdm

    categories = {name: _Categories() for name in ("family", "model", "task", "metric")}
    pieces: dict[str, list] = {name: [] for name in RESULTS_COLUMNS}
    for note in _unread_samples(sorted({run.folder for _, run in runs})):
        warnings.warn(note, ResultsWarning, stacklevel=3)
    jobs = [(task, run) for task, run in runs if not run.is_group(task)]
    paths = [run.samples_file(task) for task, run in jobs]
    for (task, run), path in zip(jobs, paths):
        if not path.is_file():
            raise ValueError(
                f"{run.results_file}: task {task!r} has no samples file {path.name}; rerun it with "
                "lm_eval --log_samples (mirage sweep always logs them)"
            )
    expected = [run.expected_samples(task) for task, run in jobs]
    filters = [run.filters(task) for task, run in jobs]
    workers = _worker_count(workers, paths)
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn")) if workers > 1 else None
    generated = []  # rows of OUTPUT_COLUMNS
    with pool or nullcontext():
        # A generator, not map: a stray StopIteration must be an error, not the silent end of the files
        samples = (
            pool.map(read_samples_file, paths, expected, filters)
            if pool
            else (read_samples_file(*job) for job in zip(paths, expected, filters))
        )
        for (task, run), path, (by_filter, notes, (outputs, empty)) in tqdm(
            zip(jobs, paths, samples), total=len(jobs), desc="reading samples", unit="file", disable=not progress
        ):
            _append_file(pieces, categories, run, task, by_filter)
            if outputs:
                generated.append((run.family, run.model, task, outputs, empty))
                if empty >= EMPTY_SHARE * outputs:
                    notes = [*notes, f"{path}: {empty_outputs_note(empty, outputs)}"]
            for note in notes:
                warnings.warn(note, ResultsWarning, stacklevel=3)
    if not pieces["value"]:
        raise ValueError(
            f"no per-sample results (samples_<task>_<date>.jsonl) found under "
            f"{_plain_paths(_source_folders(sources))}; "
            "run lm_eval with --log_samples (mirage sweep always does)"
        )
    outputs = pd.DataFrame(generated, columns=OUTPUT_COLUMNS).astype({"outputs": "int64", "empty": "int64"})
    counts = [len(values) for values in pieces["value"]]
    data = {}
    for column in RESULTS_COLUMNS:
        if column in ("sample_id", "value"):
            data[column] = np.concatenate(pieces[column])
        else:  # one value per piece, repeated over its rows
            dtype = np.int32 if column in categories else np.int64 if column == "params" else np.float64
            data[column] = np.repeat(np.array(pieces[column], dtype=dtype), counts)
            if column in categories:
                data[column] = categories[column].column(data[column])
        pieces[column].clear()
    # copy=False: the arrays are the table's own; by default pandas copies them into one block per dtype
    return pd.DataFrame(data, columns=RESULTS_COLUMNS, copy=False), outputs


def _unread_samples(folders: list[Path]) -> list[str]:
    """Warnings naming the samples files in ``folders`` that belong to no results file (a run that did not finish
    writing, or a file renamed): they are left out. A samples file of an earlier run of the same task is not named
    (the latest run is read)."""
    notes = []
    for folder in folders:
        dates = {match["date"] for match in map(_RESULTS_FILE.match, (p.name for p in folder.iterdir())) if match}
        for path in sorted(folder.glob("samples_*.jsonl")):
            match = _SAMPLES_FILE.match(path.name)
            if not match or match["date"] not in dates:
                notes.append(
                    f"{path}: no results file of its run (results_<date>.json with the date of its name) is beside "
                    "it; it is left out (an unfinished lm_eval run?)"
                )
    return notes


def read_aggregates(sources: Sources, params: Params = None, x: str = "params") -> pd.DataFrame:
    """lm-eval's aggregate metrics: ``family, model, params, task, metric, length, value`` (one row each).

    Metric keys are split as :func:`read_results` splits them: ``name,filter`` becomes ``name`` (filter ``none``)
    or ``name,filter``, and a by-length name ``exact_match_L3`` becomes metric ``exact_match``, length 3 (NaN
    elsewhere); :func:`lm_eval_metric_name` joins them back. Standard errors and non-numeric entries are left out.
    """
    return _aggregates(_runs(sources, params, x))


def _aggregates(runs: list[tuple[str, Run]]) -> pd.DataFrame:
    """The table of :func:`read_aggregates` from the results files of ``runs``."""
    rows = []
    for task, run in runs:
        for key, value in run.results["results"][task].items():
            name, _, filter_name = key.partition(",")
            if key in _NOT_METRICS or name.endswith("_stderr") or type(value) not in (float, int):
                continue
            metric, length = _split_metric(name, filter_name or "none")
            rows.append((run.family, run.model, run.params, task, metric, length, float(value)))
    frame = pd.DataFrame(rows, columns=AGGREGATE_COLUMNS)
    return frame.astype({"params": "int64", "length": "float64", "value": "float64"})


def lm_eval_metric_name(metric: str, length: float) -> str:
    """The name lm-eval's files give a (metric, length) pair of :func:`read_results`: the length before the filter.

    >>> lm_eval_metric_name("exact_match", 3.0), lm_eval_metric_name("exact_match,flexible-extract", 3.0)
    ('exact_match_L3', 'exact_match_L3,flexible-extract')
    >>> lm_eval_metric_name("brier_score", float("nan"))
    'brier_score'
    """
    if pd.isna(length):
        return metric
    base, comma, filter_name = str(metric).partition(",")
    return f"{base}_L{int(length)}{comma}{filter_name}"


def read_directions(sources: Sources, params: Params = None, x: str = "params") -> dict[str, bool]:
    """lm-eval's own ``higher_is_better`` flag of every metric in the results files, by base metric name.

    The report uses it only for metrics :mod:`mirage_metrics.registry` does not
    know. A name flagged both ways (by different tasks) is left out: unknown.
    """
    return _directions(_runs(sources, params, x))


def read_scores(sources: Sources, params: Params = None, x: str = "params") -> tuple[pd.DataFrame, dict[str, bool]]:
    """:func:`read_aggregates` and :func:`read_directions` of ``sources`` from one reading of the results files
    (no samples files): what the meta-analysis needs of an lm-eval folder."""
    runs = _runs(sources, params, x)
    return _aggregates(runs), _directions(runs)


def _directions(runs: list[tuple[str, Run]]) -> dict[str, bool]:
    """The flags of :func:`read_directions` from the results files of ``runs``."""
    from mirage_metrics.registry import base_name

    flags: dict[str, set] = {}
    for task, run in runs:
        task_flags = (run.results.get("higher_is_better") or {}).get(task, {})
        for name, flag in task_flags.items() if isinstance(task_flags, dict) else ():
            if isinstance(flag, bool):
                flags.setdefault(base_name(name), set()).add(flag)
    return {name: values.pop() for name, values in flags.items() if len(values) == 1}
