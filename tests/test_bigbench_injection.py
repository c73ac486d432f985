"""BIG-bench task files are data: hostile folder names are refused, hostile values never become YAML keys, tags or
Jinja that lm-eval runs, and the generated README keeps them inside code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import MIRAGE, run_cli
from mirage_metrics.bigbench import load_task, read_json_task
from mirage_metrics.bigbench.task_yamls import write_task_configs


def _jinja_marker(marker: Path) -> str:
    """A Jinja expression that creates ``marker`` when rendered by lm-eval's (unsandboxed) environment."""
    return "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}"


def _write_task(folder: Path, data: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    examples = [
        {"input": f"{i} + 1 =", "target": str(i + 1), "target_scores": {str(i + 1): 1, "0": 0}} for i in range(8)
    ]
    (folder / "task.json").write_text(json.dumps({"examples": examples, **(data or {})}))
    return folder


HOSTILE_NAMES = [
    "x\ndoc_to_text: \"{{ cycler.__init__.__globals__.os.system('touch PWNED') }}\"\nmetadata:\n  zz: y",
    "{{ 7 * 7 }}",
    "!function utils.load_docs",
    "a b",
    "x: y",
    "quote'd",
    'dq"x',
    ".hidden",
    "-dash",
    "tab\tname",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_task_folder_name_that_is_not_plain_is_refused_naming_it(tmp_path, name):
    root = tmp_path / "benchmark_tasks"
    _write_task(root / "fine_task")
    _write_task(root / name)
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="is not a plain name") as error:
        write_task_configs(root, out)
    assert repr(name) in str(error.value) and "\n" not in str(error.value)
    assert not out.exists()
    done = run_cli([*MIRAGE, "bigbench-tasks", "--bigbench-dir", root, "--out", out], check=False)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1 and repr(name) in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


@pytest.mark.parametrize("name", HOSTILE_NAMES[:3])
def test_a_subtask_folder_name_that_is_not_plain_is_refused(tmp_path, name):
    root = tmp_path / "benchmark_tasks"
    _write_task(root / "fine_task")
    _write_task(root / "parent" / "good_subtask")
    _write_task(root / "parent" / name)
    with pytest.raises(ValueError, match="subtask folder .* is not a plain name"):
        write_task_configs(root, tmp_path / "out")


@pytest.mark.parametrize("group", ["a\nb: c", "{{ x }}", "!!python/object:os.system", ""])
def test_a_group_name_that_is_not_plain_is_refused(tmp_path, group):
    root = tmp_path / "benchmark_tasks"
    _write_task(root / "fine_task")
    with pytest.raises(ValueError, match="--group .* is not a plain name"):
        write_task_configs(root, tmp_path / "out", group=group)


def test_runtime_task_names_cannot_leave_the_data_folder(tmp_path):
    root = tmp_path / "benchmark_tasks"
    _write_task(root / "fine_task")
    _write_task(tmp_path / "outside")
    with pytest.raises(ValueError, match="bigbench_task '../outside' is not a plain name"):
        load_task("../outside", bigbench_dir=root)
    with pytest.raises(ValueError, match="bigbench_subtask '../../outside' is not a plain name"):
        load_task("fine_task", "../../outside", bigbench_dir=root)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"task_prefix": ["not", "text"]}, "'task_prefix' must be a str, not list"),
        ({"few_shot_example_separator": {"!function": "x"}}, "'few_shot_example_separator' must be a str, not dict"),
        ({"append_choices_to_input": "false"}, "'append_choices_to_input' must be a bool, not str"),
        ({"absolute_normalization": 1}, "'absolute_normalization' must be a bool, not int"),
        ({"output_regex": "(unclosed"}, "'output_regex' is not a valid regular expression"),
        ({"stop_string": 3}, "'stop_string' must be a str, not int"),
        ({"examples": [{"input": "a", "target": {"x": 1}}]}, r"examples\[0\] 'target' must be a string"),
        ({"examples": [{"input": "a", "target_scores": {"x": "1"}}]}, r"examples\[0\] 'target_scores' must map"),
    ],
)
def test_task_file_values_of_the_wrong_kind_are_named(tmp_path, data, message):
    path = _write_task(tmp_path / "task", data) / "task.json"
    with pytest.raises(ValueError, match=f"{re.escape(str(path))}: {message}"):
        read_json_task(path, "task")


def _hostile_values(markers: Path) -> dict:
    """Every string a task file can hold, each carrying Jinja, YAML syntax and tags, or Markdown fences."""
    jinja = _jinja_marker(markers / "jinja")
    statement = "{% set _ = cycler.__init__.__globals__.os.system('touch " + str(markers / "statement") + "') %}"
    yaml_keys = "\ndoc_to_text: '" + _jinja_marker(markers / "yaml") + "'\nmetadata:\n  zz: y\n"
    fence = "\n`````\n# injected heading\n<script>alert(1)</script>\n"
    examples = [
        {
            "input": f"{i} {jinja} !!python/object/apply:os.system ['true'] {fence}",
            "target": [f"{jinja} `{i}`", f"{i} {{{{ 7 * 7 }}}}", "!function utils.load_docs"],
            "target_scores": {f"{jinja} `{i}`": 1, f"{statement}\n{fence}": 0.5, "\"'\\": 0},
        }
        for i in range(8)
    ]
    return {
        "name": "described_only " + jinja,
        "description": "described_only" + yaml_keys + jinja,
        "keywords": ["described_only", "!function x"],
        "task_prefix": jinja + "\n",
        "example_input_prefix": "\n" + statement + "Q: ",
        "example_output_prefix": yaml_keys + "A: ",
        "choice_prefix": "\n  !function utils.process_results_mc ",
        "few_shot_example_separator": "\n!!python/object/apply:os.system ['touch "
        + str(markers / "tag")
        + "']\n"
        + yaml_keys,
        "stop_string": jinja,
        "output_regex": r"\{\{[^}]*",
        "examples": examples,
    }


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Configs generated from a task whose every value is hostile, and the folder its markers would appear in."""
    base = tmp_path_factory.mktemp("hostile")
    markers = base / "markers"
    markers.mkdir()
    root = base / "benchmark_tasks"
    data = _hostile_values(markers)
    _write_task(root / "hostile_task", data)
    _write_task(root / "with_subtasks" / "hostile_subtask", data)  # BIG-bench's layout: subtasks beside a task.json
    (root / "with_subtasks" / "task.json").write_text(json.dumps({"name": data["name"]}))
    out = base / "out"
    write_task_configs(root, out, group="hostile_group")
    return root, out, markers, data


def test_generated_yaml_has_exactly_the_intended_keys_and_values(hostile):
    root, out, _, data = hostile
    for path in out.glob("mirage_bb_*.yaml"):
        document = yaml.safe_load(path.read_text())  # no tags at all: safe_load would refuse one
        assert set(document) == {"include", "task", "dataset_kwargs", "fewshot_delimiter"}, path.name
        assert document["fewshot_delimiter"] == data["few_shot_example_separator"]
        form = document["task"].rsplit("_", 1)[1]
        assert document["dataset_kwargs"]["form"] == form
        assert set(document["dataset_kwargs"]) <= {"bigbench_task", "bigbench_subtask", "form"}
    group = yaml.safe_load((out / "hostile_group.yaml").read_text())
    assert group == {
        "group": "hostile_group",
        "task": [
            "mirage_bb_hostile_task_mc",
            "mirage_bb_hostile_task_gen",
            "mirage_bb_hostile_task_ll",
            "mirage_bb_with_subtasks_hostile_subtask_mc",
            "mirage_bb_with_subtasks_hostile_subtask_gen",
            "mirage_bb_with_subtasks_hostile_subtask_ll",
        ],
        "metadata": {"version": 1.0},
    }
    for path in out.iterdir():  # how the task file describes itself never reaches a generated file
        assert "described_only" not in path.read_text(), path.name


def _fenced_lines(markdown: str) -> set[int]:
    """Indices of the lines inside fenced code blocks (CommonMark: a fence closes on a run at least as long)."""
    inside, fence = set(), None
    for index, line in enumerate(markdown.splitlines()):
        run = re.match(r"`{3,}", line)
        if fence is None and run:
            fence = run.group()
        elif fence is not None and run and line.strip() == "`" * len(line.strip()) and len(line.strip()) >= len(fence):
            fence = None
        elif fence is not None:
            inside.add(index)
    return inside


def test_generated_readme_keeps_task_values_inside_code(hostile):
    _, out, _, _ = hostile
    readme = (out / "README.md").read_text()
    lines = readme.splitlines()
    inside = _fenced_lines(readme)
    answers = [index for index, line in enumerate(lines) if line.startswith(("Choices scored: ", "Target: "))]
    assert len(answers) == 2  # one prompt section per task
    for index in answers:  # each choice or target is one JSON-quoted code span
        assert re.fullmatch(r"(?:(`+)\".*?\"\1(?:, )?)+", lines[index].split(": ", 1)[1]), lines[index]
    for index, line in enumerate(lines):
        if index not in answers and ("injected heading" in line or "<script>" in line or "zz: y" in line):
            assert index in inside, (index, line)


def test_lm_eval_reads_hostile_values_as_text_and_runs_nothing(hostile):
    from lm_eval.tasks import TaskManager, get_task_dict

    root, out, markers, data = hostile
    task = read_json_task(root / "hostile_task" / "task.json", "hostile_task")
    manager = TaskManager(include_path=str(out), include_defaults=False, metadata={"bigbench_dir": str(root)})
    names = [f"mirage_bb_hostile_task_{form}" for form in ("mc", "gen", "ll")]
    tasks = get_task_dict([*names, "hostile_group"], manager)
    built = {name: t for name, t in _leaves(tasks).items() if name in names}
    assert set(built) == set(names)
    for name, lm_task in built.items():
        assert lm_task.config.description == "task_prefix" and lm_task.config.doc_to_text == "prompt"
        assert "zz" not in (lm_task.config.metadata or {})
        form = name.rsplit("_", 1)[1]
        shots, evaluated = task.split(form)
        for num_fewshot in (0, 1):
            lm_task.set_config(key="num_fewshot", value=num_fewshot)
            lm_task.build_all_requests(limit=2, rank=0, world_size=1)
            for instance in lm_task.instances:
                context = instance.arguments[0]
                example = evaluated[instance.doc_id]
                expected = {task.render_prompt(example, shots=[shot] if num_fewshot else []) for shot in shots}
                if form == "gen":
                    expected = {prompt.rstrip() for prompt in expected}
                assert context in expected, (name, num_fewshot)
                assert _jinja_marker(markers / "jinja") in context  # the braces reach the model as text
    assert list(markers.iterdir()) == []


def _leaves(task_dict) -> dict:
    leaves = {}
    for key, value in task_dict.items():
        if isinstance(value, dict):
            leaves.update(_leaves(value))
        else:
            leaves[getattr(key, "group_name", key) if not isinstance(key, str) else key] = value
    return leaves


@pytest.mark.parametrize("name", ["null", "true", "no", "1_000", "0x1f", "1e3", "2024-01-01", "on"])
def test_plain_names_that_look_like_other_yaml_types_stay_strings(tmp_path, name):
    root = tmp_path / "benchmark_tasks"
    _write_task(root / name / "sub.1")
    (root / name / "task.json").write_text("{}")
    write_task_configs(root, tmp_path / "out")
    for path in (tmp_path / "out").glob("mirage_bb_*.yaml"):
        kwargs = yaml.safe_load(path.read_text())["dataset_kwargs"]
        assert kwargs["bigbench_task"] == name and kwargs["bigbench_subtask"] == "sub.1", path.name
