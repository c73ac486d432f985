"""BIG-bench JSON tasks: find them, read them, and render prompts exactly as BIG-bench does.

A BIG-bench JSON task is ``benchmark_tasks/<task>/task.json``, or one
``task.json`` per subtask in ``benchmark_tasks/<task>/<subtask>/``. Prompts
follow BIG-bench's ``json_task.py``: each example renders as
``example_input_prefix + input [+ choice_prefix + choice ...] + example_output_prefix``
(defaults ``"\\nQ: "``, ``"\\n  choice: "``, ``"\\nA: "``; choices are appended
when ``append_choices_to_input`` is true, the default); solved shots are that
text plus the answer, joined by ``few_shot_example_separator`` (default
``"\\n"``); ``task_prefix`` comes once, first. Two deliberate differences: the
appended choices are permuted by a seed taken from the example's input (BIG-bench
draws one shared random stream, which depends on evaluation order), and shots
come from a fixed pool of the task's examples that is never evaluated (BIG-bench
draws shots from all the other examples).

Where the data comes from, first match wins: the ``bigbench_dir`` argument
(lm-eval ``--metadata '{"bigbench_dir": ...}'``), the ``MIRAGE_BIGBENCH_DIR``
environment variable, else the Hub copy ``tasksource/bigbench`` through
``datasets``. Programmatic tasks (``task.py``) are not supported.

>>> task = JsonTask(name="demo", examples=[{"input": "1 + 1 =", "target_scores": {"2": 1, "3": 0}}],
...                 append_choices_to_input=False)
>>> task.render_input(task.examples[0])
'\\nQ: 1 + 1 =\\nA: '
>>> task.render_prompt(task.examples[0], shots=[{"input": "2 + 2 =", "target": "4"}])
'\\nQ: 2 + 2 =\\nA: 4\\n\\nQ: 1 + 1 =\\nA: '
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "BIGBENCH_DIR_ENV",
    "HUB_DATASET",
    "FORMS",
    "SHOT_POOL_SIZE",
    "BigBenchDataNotFound",
    "JsonTask",
    "find_benchmark_tasks",
    "resolve_bigbench_dir",
    "discover_tasks",
    "load_task",
    "read_json_task",
    "lm_eval_task_name",
    "check_task_name",
    "postprocess_output",
]

BIGBENCH_DIR_ENV = "MIRAGE_BIGBENCH_DIR"
HUB_DATASET = "tasksource/bigbench"
FORMS = ("mc", "gen", "ll")
SHOT_POOL_SIZE = 5
DEFAULT_OUTPUT_REGEX = r"[^\.\?\!\;\n]+"  # BIG-bench's default when a task sets neither regex nor stop string
_SHOT_POOL_SEED = 42
#: What a task, subtask or group name may be: it becomes part of file names, lm-eval task names and YAML values.
TASK_NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_PROMPT_FIELDS = (
    "task_prefix",
    "example_input_prefix",
    "example_output_prefix",
    "choice_prefix",
    "few_shot_example_separator",
)


class BigBenchDataNotFound(FileNotFoundError):
    """No BIG-bench data: neither a local folder nor the Hub copy could be read."""


def postprocess_output(text: str, stop_string: str | None = None, output_regex: str | None = None) -> str:
    """BIG-bench's output post-processing (``model_utils.postprocess_output``), exactly: nothing is stripped.

    Cut after the first ``stop_string`` (kept, as BIG-bench does), unless that
    first occurrence is at position 0, where BIG-bench cuts nothing; then keep the
    first match of ``output_regex`` (empty string when nothing matches).

    >>> postprocess_output(" 42 is the answer", output_regex=r"[-+]?\\d+")
    '42'
    >>> postprocess_output(" Paris. Then London", output_regex=DEFAULT_OUTPUT_REGEX)
    ' Paris'
    >>> postprocess_output("a b\\nc d", stop_string="\\n")
    'a b\\n'
    >>> postprocess_output("\\na b\\nc d", stop_string="\\n")
    '\\na b\\nc d'
    """
    if text is None:
        raise ValueError("text is None; pass the model's generated string")
    if stop_string:
        index = text.find(stop_string)
        if index > 0:
            text = text[: index + len(stop_string)]
    if output_regex:
        text = next(iter(re.findall(output_regex, text)), "")
    return text


@dataclass(frozen=True)
class JsonTask:
    """One BIG-bench JSON task (or subtask) with its prompt-format fields."""

    name: str
    examples: list = field(default_factory=list)
    subtask: str | None = None
    task_prefix: str = ""
    example_input_prefix: str = "\nQ: "
    example_output_prefix: str = "\nA: "
    choice_prefix: str = "\n  choice: "
    append_choices_to_input: bool = True
    few_shot_example_separator: str = "\n"
    output_regex: str | None = None
    stop_string: str | None = None
    absolute_normalization: bool = False
    source: str = ""

    @property
    def full_name(self) -> str:
        """``task`` or ``task_subtask``."""
        return self.name if self.subtask is None else f"{self.name}_{self.subtask}"

    @property
    def forms(self) -> tuple[str, ...]:
        """The mirage forms this task supports: ``mc`` (target_scores), ``gen`` and ``ll`` (target)."""
        has_scores = any("target_scores" in e for e in self.examples)
        has_target = any("target" in e for e in self.examples)
        return tuple(f for f, ok in zip(FORMS, (has_scores, has_target, has_target)) if ok)

    @property
    def effective_output_regex(self) -> str | None:
        """The regex BIG-bench applies to generations (its default when none is set)."""
        if self.output_regex is None and self.stop_string is None:
            return DEFAULT_OUTPUT_REGEX
        return self.output_regex

    def choices(self, example: dict) -> list[str]:
        """The answer options of a multiple-choice example, in the file's order."""
        return list(example["target_scores"])

    def targets(self, example: dict) -> list[str]:
        """The accepted answers of a generative example (``target`` as a list)."""
        target = example["target"]
        return list(target) if isinstance(target, list) else [target]

    def answer(self, example: dict) -> str:
        """The answer written after a shot: the first best-scored choice, else the first target."""
        if "target_scores" in example:
            scores = example["target_scores"]
            best = max(scores.values())
            return next(choice for choice, score in scores.items() if score == best)
        return self.targets(example)[0]

    def render_input(self, example: dict) -> str:
        """The example as the model sees it, ending right before the answer."""
        text = self.example_input_prefix + example["input"]
        if "target_scores" in example and self.append_choices_to_input:
            seed = int(hashlib.sha256(example["input"].encode("utf-8")).hexdigest(), 16) % 2**32
            permuted = np.random.RandomState(seed).permutation(sorted(example["target_scores"]))
            text += self.choice_prefix + self.choice_prefix.join(permuted)
        return text + self.example_output_prefix

    def render_shot(self, example: dict) -> str:
        """A solved example: the rendered input followed by its answer."""
        return self.render_input(example) + self.answer(example)

    def render_prompt(self, example: dict, shots: list | tuple = ()) -> str:
        """The full prompt: task prefix, solved shots, then the example (what lm-eval renders)."""
        parts = [self.render_shot(shot) for shot in shots] + [self.render_input(example)]
        return self.task_prefix + self.few_shot_example_separator.join(parts)

    def split(self, form: str) -> tuple[list[dict], list[dict]]:
        """``(shot_pool, evaluated)`` examples of one form, disjoint and deterministic.

        The shot pool is ``min(SHOT_POOL_SIZE, n // 4)`` examples (at least one)
        picked by a fixed seed; the rest, in file order, are evaluated.
        """
        if form not in FORMS:
            raise ValueError(f"form={form!r} is not known; use one of {FORMS}")
        key = "target_scores" if form == "mc" else "target"
        eligible = [e for e in self.examples if key in e]
        if len(eligible) < 2:
            raise ValueError(
                f"BIG-bench task {self.full_name!r} has {len(eligible)} examples with {key!r}; "
                f"form {form!r} needs at least 2 (one shot, one evaluated)"
            )
        pool_size = max(1, min(SHOT_POOL_SIZE, len(eligible) // 4))
        pool = set(np.random.RandomState(_SHOT_POOL_SEED).permutation(len(eligible))[:pool_size].tolist())
        shots = [e for i, e in enumerate(eligible) if i in pool]
        evaluated = [e for i, e in enumerate(eligible) if i not in pool]
        return shots, evaluated


def check_task_name(name: str, what: str) -> str:
    """``name`` if it is a plain name (letters, digits, ``_``, ``.``, ``-``; not starting with ``.`` or ``-``).

    BIG-bench task files are data: a folder name must never add YAML keys, Jinja or a path to what is generated.

    >>> check_task_name("logical_deduction", "task folder")
    'logical_deduction'
    >>> check_task_name("x\\ndoc_to_text: y", "task folder")
    Traceback (most recent call last):
    ValueError: task folder 'x\\ndoc_to_text: y' is not a plain name: use letters, digits, '_', '.' and '-' only
    """
    if not isinstance(name, str) or not TASK_NAME_PATTERN.fullmatch(name):
        raise ValueError(f"{what} {name!r} is not a plain name: use letters, digits, '_', '.' and '-' only")
    return name


def lm_eval_task_name(task: JsonTask, form: str) -> str:
    """``mirage_bb_<task>[_<subtask>]_<form>``.

    >>> lm_eval_task_name(JsonTask(name="arithmetic", subtask="2_digit_addition"), "gen")
    'mirage_bb_arithmetic_2_digit_addition_gen'
    """
    if form not in FORMS:
        raise ValueError(f"form={form!r} is not known; use one of {FORMS}")
    return f"mirage_bb_{task.full_name}_{form}"


def find_benchmark_tasks(folder: str | os.PathLike) -> Path | None:
    """The ``benchmark_tasks`` folder (with ``<task>/task.json``) that ``folder`` is or holds, else None.

    ``folder`` may be ``benchmark_tasks`` itself, a folder holding it, or a BIG-bench
    checkout (``<checkout>/bigbench/benchmark_tasks``).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as checkout:
    ...     tasks = Path(checkout, "bigbench", "benchmark_tasks")
    ...     (tasks / "arithmetic").mkdir(parents=True)
    ...     _ = (tasks / "arithmetic" / "task.json").write_text("{}")
    ...     find_benchmark_tasks(checkout) == tasks, find_benchmark_tasks(tasks / "arithmetic")
    (True, None)
    """
    root = Path(folder).expanduser()
    for candidate in (root, root / "benchmark_tasks", root / "bigbench" / "benchmark_tasks"):
        if candidate.is_dir() and any(candidate.glob("*/task.json")):
            return candidate
    return None


def resolve_bigbench_dir(bigbench_dir: str | os.PathLike | None = None) -> Path | None:
    """The ``benchmark_tasks`` folder from the argument or ``$MIRAGE_BIGBENCH_DIR``; None if neither is set.

    Accepts the ``benchmark_tasks`` folder itself, a folder holding it, or a
    BIG-bench checkout (``<checkout>/bigbench/benchmark_tasks``).
    """
    given = bigbench_dir or os.environ.get(BIGBENCH_DIR_ENV) or None
    if given is None:
        return None
    found = find_benchmark_tasks(given)
    if found is not None:
        return found
    origin = "bigbench_dir" if bigbench_dir else BIGBENCH_DIR_ENV
    raise BigBenchDataNotFound(
        f"{origin}={str(given)!r} holds no BIG-bench JSON tasks; point it at a BIG-bench checkout's "
        "bigbench/benchmark_tasks folder (the one with <task>/task.json)"
    )


def read_json_task(path: str | os.PathLike, name: str, subtask: str | None = None) -> JsonTask:
    """A :class:`JsonTask` from one ``task.json`` file; malformed files raise ValueError naming file and line."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("examples", []), list):
        raise ValueError(f"{path}: a BIG-bench task.json is an object with an 'examples' list")
    examples = []
    seen = set()
    for i, example in enumerate(data.get("examples", [])):
        if not isinstance(example, dict) or not isinstance(example.get("input"), str):
            raise ValueError(f"{path}: examples[{i}] needs a string 'input'")
        if "target" not in example and "target_scores" not in example:
            raise ValueError(f"{path}: examples[{i}] has neither 'target' nor 'target_scores'")
        if "target" in example and not _is_target(example["target"]):
            raise ValueError(f"{path}: examples[{i}] 'target' must be a string or a non-empty list of strings")
        if "target_scores" in example and not _is_target_scores(example["target_scores"]):
            raise ValueError(f"{path}: examples[{i}] 'target_scores' must map each choice to a number")
        key = json.dumps(example, sort_keys=True)
        if key not in seen:  # BIG-bench drops duplicate examples too
            seen.add(key)
            examples.append(example)
    fields = {key: _field(path, data, key, str) for key in (*_PROMPT_FIELDS, "output_regex", "stop_string")}
    if fields["output_regex"] is not None:
        try:
            re.compile(fields["output_regex"])
        except re.error as error:
            raise ValueError(f"{path}: 'output_regex' is not a valid regular expression ({error})") from None
    return JsonTask(
        name=name,
        subtask=subtask,
        examples=examples,
        append_choices_to_input=_field(path, data, "append_choices_to_input", bool, True),
        absolute_normalization=_field(path, data, "absolute_normalization", bool, False),
        source=str(path),
        **{key: value for key, value in fields.items() if value is not None},
    )


def _field(path: Path, data: dict, key: str, kind: type, default=None):
    """``data[key]`` if it is a ``kind`` (null or absent: ``default``); else a ValueError naming file and key."""
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise ValueError(f"{path}: {key!r} must be a {kind.__name__}, not {type(value).__name__}")
    return value


def _is_target(target) -> bool:
    if isinstance(target, list):
        return bool(target) and all(isinstance(t, str) for t in target)
    return isinstance(target, str)


def _is_target_scores(scores) -> bool:
    if not isinstance(scores, dict) or not scores:
        return False
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in scores.values())


def discover_tasks(bigbench_dir: str | os.PathLike, names: list[str] | None = None):
    """``(tasks, skipped)``: every JSON task and subtask under the folder, and why others were skipped.

    ``tasks`` lists :class:`JsonTask` in name order (a task with subtask folders
    yields its subtasks); ``skipped`` holds one message per programmatic or
    unknown task.
    """
    root = resolve_bigbench_dir(bigbench_dir)
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    if names:
        known = {p.name for p in folders}
        missing = [n for n in names if n not in known]
        if missing:
            raise ValueError(f"tasks {missing} are not in {root}; choose from {sorted(known)}")
        folders = [p for p in folders if p.name in names]
    tasks, skipped = [], []
    for folder in folders:
        subtask_files = sorted(folder.glob("*/task.json"))
        if subtask_files or (folder / "task.json").is_file():
            check_task_name(folder.name, f"{root}: task folder")
        if subtask_files:
            for file in subtask_files:
                check_task_name(file.parent.name, f"{folder}: subtask folder")
                tasks.append(read_json_task(file, folder.name, file.parent.name))
        elif (folder / "task.json").is_file():
            tasks.append(read_json_task(folder / "task.json", folder.name))
        elif (folder / "task.py").is_file():
            skipped.append(f"{_shown(folder.name)}: programmatic task (task.py), not supported; skipped")
        else:
            skipped.append(f"{_shown(folder.name)}: no task.json; skipped")
    return [t for t in tasks if t.examples], skipped


def _shown(name: str) -> str:
    """A folder name for a one-line message: as it is when plain, else quoted with its escapes."""
    return name if TASK_NAME_PATTERN.fullmatch(name) else repr(name)


def _task_from_hub(name: str, subtask: str | None) -> JsonTask:
    """The Hub copy, whose ``inputs`` are already rendered zero-shot prompts (so no prefixes are added)."""
    if subtask is not None:
        raise BigBenchDataNotFound(
            f"the Hub copy {HUB_DATASET} has no separate subtasks, so {name}/{subtask} needs local data"
        )
    import datasets

    splits = datasets.load_dataset(HUB_DATASET, name)
    examples = []
    for split in sorted(splits):
        for row in splits[split]:
            example = {"input": row["inputs"], "target": list(row["targets"])}
            if row["multiple_choice_targets"]:
                example["target_scores"] = dict(zip(row["multiple_choice_targets"], row["multiple_choice_scores"]))
            examples.append(example)
    return JsonTask(
        name=name,
        examples=examples,
        example_input_prefix="",
        example_output_prefix="",
        append_choices_to_input=False,
        source=f"hf://datasets/{HUB_DATASET}/{name}",
    )


def load_task(name: str, subtask: str | None = None, bigbench_dir: str | os.PathLike | None = None) -> JsonTask:
    """One BIG-bench JSON task: from the local folder when one is set, else from the Hub copy."""
    check_task_name(name, "bigbench_task")
    if subtask is not None:
        check_task_name(subtask, "bigbench_subtask")
    root = resolve_bigbench_dir(bigbench_dir)
    if root is not None:
        path = root / name / subtask / "task.json" if subtask else root / name / "task.json"
        if not path.is_file():
            raise BigBenchDataNotFound(f"{path} does not exist; check the task and subtask names")
        return read_json_task(path, name, subtask)
    try:
        return _task_from_hub(name, subtask)
    except Exception as error:  # offline, unknown config, missing subtask: one message naming both ways
        raise BigBenchDataNotFound(
            f"BIG-bench task {name!r}{f'/{subtask}' if subtask else ''}: no local data was given and the Hub "
            f"copy {HUB_DATASET} could not be read ({type(error).__name__}: {error}). Either set "
            f"{BIGBENCH_DIR_ENV}=/path/to/BIG-bench/bigbench/benchmark_tasks, or pass lm_eval "
            '--metadata \'{"bigbench_dir": "/path/to/benchmark_tasks"}\'.'
        ) from error
