"""Readers for ``mirage meta-analysis``: result collections → one tidy frame of scores per model.

Three kinds of source, told apart by :func:`read_sources`:

- BIG-bench results files, ``benchmark_tasks/<task>/results/scores_<family>_<model>.json``
  (a single file, a task's ``results`` folder, or any folder above them, e.g. a checkout);
- a tidy CSV with columns ``family, model, params, task, metric, value``
  (optional ``subtask``, ``shots`` and ``direction``: ``higher`` or ``lower``, which way
  the metric is better);
- lm-eval output folders (``mirage sweep`` or plain ``lm_eval --output_path``), read
  with :func:`mirage_metrics.results.read_scores` (aggregates and lm-eval's direction flags).

Every reader returns the columns of :data:`SCORE_COLUMNS`: one row per
(model, task, subtask, shots, metric) with the model's parameter count, and the
metric's ``direction`` as the source declares it (``""`` where it does not).

>>> import json, pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "toy_task" / "results"
>>> folder.mkdir(parents=True)
>>> record = {"model": {"model_family": "BIG-G T=0", "model_name": "2m", "total_params": 2e6,
...                     "non_embedding_params": 1e6},
...           "scores": [{"subtask_description": "toy_task", "number_of_shots": 0,
...                       "score_dict": {"exact_str_match": 0.25}}]}
>>> _ = (folder / "scores_BIG-G_2m.json").write_text(json.dumps(record))
>>> frame = read_bigbench_file(folder / "scores_BIG-G_2m.json", params="non-embedding")
>>> frame[["family", "model", "params", "task", "subtask", "shots", "metric", "value", "direction"]].values.tolist()
[['BIG-G T=0', '2m', 1000000.0, 'toy_task', '', 0, 'exact_str_match', 0.25, '']]
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Iterable, Union

import pandas as pd
from tqdm.auto import tqdm

from mirage_metrics.families import MAX_PARAMS
from mirage_metrics.meta.defaults import PARAMETER_KINDS

__all__ = [
    "SCORE_COLUMNS",
    "DIRECTIONS",
    "PARAMETER_KINDS",
    "read_bigbench_file",
    "read_bigbench_folder",
    "read_tidy_csv",
    "read_lm_eval_folder",
    "read_sources",
]

SCORE_COLUMNS = ["source", "family", "model", "params", "task", "subtask", "shots", "metric", "value", "direction"]
#: How a tidy CSV's ``direction`` column and ``--direction`` say which way a metric is better (any case).
DIRECTIONS = ("higher", "lower")

CSV_REQUIRED = ["family", "model", "params", "task", "metric", "value"]

PathLike = Union[str, Path]


def _check_params(params: str) -> str:
    if params not in PARAMETER_KINDS:
        raise ValueError(f"params={params!r} is not known; use one of {sorted(PARAMETER_KINDS)}")
    return PARAMETER_KINDS[params]


def _load_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason}); is it a BIG-bench results JSON file?") from None


def _number(value: object, where: str) -> float:
    """A float from a JSON number (NaN allowed: BIG-bench writes NaN for undefined scores)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where} is {value!r}; it must be a number")
    return float(value)


def _bigbench_model(record: dict, path: Path, params_key: str) -> tuple[str, str, float]:
    model = record.get("model")
    if not isinstance(model, dict):
        raise ValueError(
            f"{path}: no 'model' object; a BIG-bench results file has 'model' "
            "(model_family, model_name, total_params, non_embedding_params, …) and 'scores'"
        )
    for key in ("model_family", "model_name", params_key):
        if key not in model:
            raise ValueError(f"{path}: 'model' has no {key!r}; BIG-bench results files record it for every model")
    parameters = _number(model[params_key], f"{path}: model.{params_key}")
    if not 0 < parameters <= MAX_PARAMS:
        raise ValueError(
            f"{path}: model.{params_key} is {model[params_key]!r}; it must be a positive parameter count up to 10^15"
        )
    return str(model["model_family"]), str(model["model_name"]), parameters


def _task_and_subtask(description: str, folder_task: str | None) -> tuple[str, str]:
    """BIG-bench names subtasks ``task:subtask``; an entry named after the task itself is the task level."""
    if folder_task is None:
        folder_task = description.split(":", 1)[0]
    if description == folder_task:
        return folder_task, ""
    prefix = f"{folder_task}:"
    return folder_task, description[len(prefix) :] if description.startswith(prefix) else description


def read_bigbench_file(path: PathLike, params: str = "total", source: str | None = None) -> pd.DataFrame:
    """Scores of one ``scores_<family>_<model>.json``: one row per (subtask, shots, metric).

    The task is the folder above ``results/`` (else the part of the subtask
    description before ``:``); each ``scores`` entry keeps its subtask and number of
    shots as BIG-bench reports them, including the task-level entries that aggregate
    subtasks (subtask ``""``). ``params`` picks ``total`` or ``non-embedding``.
    """
    path = Path(path)
    params_key = _check_params(params)
    record = _load_json(path)
    if not isinstance(record, dict):
        raise ValueError(f"{path}: the top level must be a JSON object with 'model' and 'scores'")
    family, model, parameters = _bigbench_model(record, path, params_key)
    entries = record.get("scores")
    if not isinstance(entries, list):
        raise ValueError(f"{path}: no 'scores' list; a BIG-bench results file lists its score entries there")
    folder_task = path.parent.parent.name if path.parent.name == "results" else None
    rows, seen = [], set()
    for i, entry in enumerate(entries):
        where = f"{path}: scores[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} is not an object with subtask_description, number_of_shots and score_dict")
        for key in ("subtask_description", "number_of_shots", "score_dict"):
            if key not in entry:
                raise ValueError(f"{where} has no {key!r}; every BIG-bench score entry records it")
        task, subtask = _task_and_subtask(str(entry["subtask_description"]), folder_task)
        shots = entry["number_of_shots"]
        if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int)):
            raise ValueError(f"{where}.number_of_shots is {shots!r}; it must be a whole number (or null)")
        if not isinstance(entry["score_dict"], dict):
            raise ValueError(f"{where}.score_dict must map metric names to numbers")
        for metric, value in entry["score_dict"].items():
            key = (task, subtask, shots, metric)
            if key in seen:
                raise ValueError(
                    f"{where} repeats metric {metric!r} for subtask {subtask or task!r} at {shots} shots; "
                    "each (subtask, shots, metric) may appear once per file"
                )
            seen.add(key)
            value = _number(value, f"{where}.score_dict[{metric!r}]")
            rows.append((source or str(path), family, model, parameters, task, subtask, shots, metric, value, ""))
    return pd.DataFrame(rows, columns=SCORE_COLUMNS).astype({"shots": "Int64"})


def _bigbench_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("scores_*.json") if p.is_file())


def read_bigbench_folder(folder: PathLike, params: str = "total", progress: bool = False) -> pd.DataFrame:
    """Every ``scores_*.json`` below ``folder`` (a checkout, ``benchmark_tasks`` or one task)."""
    folder = Path(folder)
    files = _bigbench_files(folder)
    if not files:
        raise ValueError(f"{folder} holds no BIG-bench results files (benchmark_tasks/<task>/results/scores_*.json)")
    files = tqdm(files, desc=f"reading {folder.name or folder}", unit="file", disable=not progress)
    return pd.concat([read_bigbench_file(f, params, source=str(folder)) for f in files], ignore_index=True)


def _numeric_column(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    text = frame[column].str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    bad = numbers.isna() & text.ne("") & ~text.str.lower().isin(["nan", "na"])
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise ValueError(
            f"{path}, line {row + 2}: column {column!r} is {frame[column].iloc[row]!r}; it must be a number"
        )
    return numbers


def _directions(frame: pd.DataFrame, path: Path) -> pd.Series:
    """The ``direction`` column, lower-cased: ``higher``, ``lower`` or ``""`` (blank); one value per metric."""
    if "direction" not in frame.columns:
        return pd.Series("", frame.index)
    directions = frame["direction"].str.strip().str.lower()
    bad = ~directions.isin(["", *DIRECTIONS])
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise ValueError(
            f"{path}, line {row + 2}: direction is {frame['direction'].iloc[row]!r}; write higher or lower "
            "(which way the metric is better), or leave it blank"
        )
    first = {}
    for row, (metric, direction) in enumerate(zip(frame["metric"], directions)):
        if direction and first.setdefault(metric, (direction, row))[0] != direction:
            declared, line = first[metric][0], first[metric][1] + 2
            raise ValueError(
                f"{path}, line {row + 2}: metric {metric!r} is declared {direction} here, {declared} on line {line}; "
                "give one direction per metric"
            )
    return directions


def read_tidy_csv(path: PathLike) -> pd.DataFrame:
    """A CSV with ``family, model, params, task, metric, value`` (optional ``subtask``, ``shots``, ``direction``).

    Blank values are missing scores; params (parameter counts) must be positive
    numbers. ``direction`` (``higher`` or ``lower``, any case) says which way a metric
    is better; a metric needs it on one row at least, blanks declare nothing, and two
    different values for one metric are an error.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a readable CSV file ({error})") from None
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"{path} is empty; write a header row {','.join(CSV_REQUIRED)} and one row per score"
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in CSV_REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {missing}; a tidy CSV has {CSV_REQUIRED} (optional: subtask, shots, direction)"
        )
    if frame.empty:
        raise ValueError(f"{path} has a header but no rows; write one row per (model, task, metric) score")
    params = _numeric_column(frame, "params", path)
    bad = ~((params > 0) & (params <= MAX_PARAMS))
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise ValueError(
            f"{path}, line {row + 2}: params is {frame['params'].iloc[row]!r}; it must be a positive parameter count "
            "up to 10^15"
        )
    shots = _numeric_column(frame, "shots", path) if "shots" in frame.columns else pd.Series(math.nan, frame.index)
    fractional = shots.notna() & (shots != shots.round())
    if fractional.any():
        row = int(fractional.to_numpy().nonzero()[0][0])
        raise ValueError(f"{path}, line {row + 2}: shots is {frame['shots'].iloc[row]!r}; it must be a whole number")
    return pd.DataFrame(
        {
            "source": str(path),
            "family": frame["family"],
            "model": frame["model"],
            "params": params.astype(float),
            "task": frame["task"],
            "subtask": frame["subtask"] if "subtask" in frame.columns else "",
            "shots": shots.astype("Int64"),
            "metric": frame["metric"],
            "value": _numeric_column(frame, "value", path).astype(float),
            "direction": _directions(frame, path),
        },
        columns=SCORE_COLUMNS,
    )


def read_lm_eval_folder(folder: PathLike, params: str = "total", param_counts: PathLike | None = None) -> pd.DataFrame:
    """Aggregate scores of an lm-eval output folder (``mirage sweep`` or plain ``lm_eval``).

    Read with :func:`mirage_metrics.results.read_scores` (families, models and
    parameter counts of the ``params`` kind as it finds them: non-embedding counts come
    from ``non_embedding_params`` in ``mirage sweep``'s ``model.json`` and from the
    built-in families, Pythia and GPT-2). ``param_counts`` (YAML ``model: count`` or CSV
    ``model,params``, see :func:`mirage_metrics.results.load_params`) gives counts of
    the kind ``params`` names for models these do not cover. A metric the registry does not know gets lm-eval's
    own ``higher_is_better`` flag from the results files as its ``direction`` (as ``mirage report`` uses it).
    """
    from mirage_metrics.registry import UNKNOWN, base_name, metric_info
    from mirage_metrics.results import lm_eval_metric_name, load_params, read_scores

    folder = Path(folder)
    _check_params(params)
    given = load_params(param_counts) if param_counts is not None else None
    x = "non_embedding_params" if params == "non-embedding" else "params"
    aggregates, flags = read_scores([folder], params=given, x=x)
    metrics = [lm_eval_metric_name(m, n) for m, n in zip(aggregates["metric"], aggregates["length"])]
    unknown = {m for m in metrics if metric_info(m).kind == UNKNOWN and base_name(m) in flags}
    return pd.DataFrame(
        {
            "source": str(folder),
            "family": aggregates["family"],
            "model": aggregates["model"],
            "params": aggregates["params"].astype(float),
            "task": aggregates["task"],
            "subtask": "",
            "shots": pd.array([pd.NA] * len(aggregates), dtype="Int64"),
            "metric": metrics,
            "value": aggregates["value"].astype(float),
            "direction": [
                (DIRECTIONS[0] if flags[base_name(m)] else DIRECTIONS[1]) if m in unknown else "" for m in metrics
            ],
        },
        columns=SCORE_COLUMNS,
    )


def _read_source(path: Path, params: str, param_counts: PathLike | None, progress: bool) -> pd.DataFrame:
    if not path.exists():
        raise ValueError(f"source {path} does not exist; pass BIG-bench results, an lm-eval output folder or a CSV")
    if path.is_file():
        if path.suffix.lower() == ".csv":
            return read_tidy_csv(path)
        if path.suffix.lower() == ".json":
            return read_bigbench_file(path, params)
        raise ValueError(
            f"source {path} is neither a .csv (tidy scores) nor a .json (BIG-bench scores_<family>_<model>.json)"
        )
    if _bigbench_files(path):
        return read_bigbench_folder(path, params, progress)
    return read_lm_eval_folder(path, params, param_counts)


def read_sources(
    sources: Iterable[PathLike], params: str = "total", param_counts: PathLike | None = None, progress: bool = False
) -> pd.DataFrame:
    """All sources in one frame with :data:`SCORE_COLUMNS`.

    A ``.csv`` file is a tidy CSV, a ``.json`` file a BIG-bench results file, a
    folder holding ``scores_*.json`` files (at any depth) BIG-bench results, and
    any other folder lm-eval output (``param_counts``: see :func:`read_lm_eval_folder`).
    """
    if isinstance(sources, (str, Path)):
        sources = [sources]
    sources = [Path(s) for s in sources]
    if not sources:
        raise ValueError("sources is empty; pass at least one results file or folder")
    _check_params(params)
    frame = pd.concat([_read_source(path, params, param_counts, progress) for path in sources], ignore_index=True)
    if frame.empty:
        raise ValueError(f"sources {[str(s) for s in sources]} hold no scores")
    return frame
