"""Small BIG-bench-format tasks written for the tests, so that a clone with no BIG-bench data beside it still
covers every behaviour the mirage_bb_* tasks implement: graded ``target_scores``, several correct answers,
``absolute_normalization``, a stop string (also at position 0), ``output_regex``, the prompt prefixes and
separator, subtasks, a programmatic task that is skipped, and a shot pool that is never evaluated."""

from __future__ import annotations

import json
from pathlib import Path

WORDS = ["cat", "dog", "owl", "fox", "bee", "elk", "yak", "ant"]
NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven"]

GRADED_CHOICES = {
    "task_prefix": "Pick the best answer.\n",
    "example_input_prefix": "\nQuestion: ",
    "example_output_prefix": "\nAnswer: ",
    "choice_prefix": "\n - ",
    "few_shot_example_separator": "\n\n",
    "examples": [
        # graded scores on the even examples, two correct answers (and one wrong) on the odd ones
        {"input": f"Which sound does a {w} make?", "target_scores": {f"{w} sound": 1.0, "a noise": 0.5, "none": 0.0}}
        if i % 2 == 0
        else {"input": f"Is a {w} an animal?", "target_scores": {"yes": 1, "sure": 1, "no": 0}}
        for i, w in enumerate(WORDS)
    ],
}
ABSOLUTE_CHOICES = {
    "absolute_normalization": True,
    "append_choices_to_input": False,
    "examples": [{"input": f"{w} is", "target_scores": {"short": 1, "a long answer": 0}} for w in WORDS[:4]],
}
STOP_AT_NEWLINE = {
    "stop_string": "\n",
    "examples": [{"input": f"Spell {i} in letters.", "target": [NUMBERS[i], str(i)]} for i in range(4)],
}
REGEX_NUMBERS = {
    "output_regex": r"[-+]?\d+",
    "examples": [
        {"input": f"{i} + {i} =", "target": str(2 * i), "target_scores": {str(2 * i): 1, str(2 * i + 1): 0}}
        for i in range(8)
    ],
}
SUBTASKS = {
    "first": {"examples": [{"input": f"Say {w}.", "target": w} for w in WORDS[:4]]},
    "second": {"examples": [{"input": f"Odd one: {w}?", "target_scores": {w: 1, "stone": 0}} for w in WORDS[:4]]},
}

#: lm-eval task names of the fixture folder, with the BIG-bench task they come from.
TASK_NAMES = {
    "mirage_bb_absolute_choices_mc": "absolute_choices",
    "mirage_bb_graded_choices_mc": "graded_choices",
    "mirage_bb_regex_numbers_mc": "regex_numbers",
    "mirage_bb_regex_numbers_gen": "regex_numbers",
    "mirage_bb_regex_numbers_ll": "regex_numbers",
    "mirage_bb_stop_at_newline_gen": "stop_at_newline",
    "mirage_bb_stop_at_newline_ll": "stop_at_newline",
    "mirage_bb_with_subtasks_first_gen": "with_subtasks/first",
    "mirage_bb_with_subtasks_first_ll": "with_subtasks/first",
    "mirage_bb_with_subtasks_second_mc": "with_subtasks/second",
}


def _write(folder: Path, data: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "task.json").write_text(json.dumps({"name": folder.name, "description": "a fixture", **data}, indent=1))


def write_fixture_tasks(root: Path) -> Path:
    """Write the fixture tasks as BIG-bench lays them out; returns the ``benchmark_tasks`` folder."""
    tasks = Path(root) / "benchmark_tasks"
    _write(tasks / "graded_choices", GRADED_CHOICES)
    _write(tasks / "absolute_choices", ABSOLUTE_CHOICES)
    _write(tasks / "stop_at_newline", STOP_AT_NEWLINE)
    _write(tasks / "regex_numbers", REGEX_NUMBERS)
    (tasks / "with_subtasks").mkdir()
    (tasks / "with_subtasks" / "task.json").write_text(json.dumps({"name": "with_subtasks", "description": "x"}))
    for name, data in SUBTASKS.items():
        _write(tasks / "with_subtasks" / name, data)
    (tasks / "programmatic").mkdir()
    (tasks / "programmatic" / "task.py").write_text("# a programmatic task: skipped\n")
    return tasks
