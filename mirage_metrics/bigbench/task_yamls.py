"""Write lm-eval task configs (``mirage_bb_<task>[_<subtask>]_<form>``) for BIG-bench JSON tasks.

The committed ``tasks/bigbench/`` folder is this module's output for the
BIG-bench subset the tests read (``$MIRAGE_DATA/bigbench``, see the README's
Tests); ``mirage bigbench-tasks`` runs it on any other BIG-bench checkout.
Per task and form it writes a small YAML
that includes a shared base template (``_<form>_template_yaml``); it also writes
a group listing every task, the ``mirage_bigbench_paper`` group when the four
tasks of the paper's Fig 6 are present, and a README with a rendered prompt per
task. The templates and ``utils.py`` are copied from the bundled folder.

A ``gen`` task generates at most :func:`generation_budget` tokens, enough for its
longest target, so that it also runs on models with a short context (lm-eval's
``hf`` model asserts that ``max_gen_toks`` is below the model's length): it
includes ``_gen_<budget>_template_yaml``, the base template with that
``max_gen_toks``, or the base template itself (128).

Task files are data and stay data: task and subtask names must be plain names
(:func:`~mirage_metrics.bigbench.reader.check_task_name`), every YAML file is
written by ``yaml.safe_dump`` (so a value can never add a key or a tag), and no
value from a task file goes into a field that lm-eval renders as Jinja (prompts
and prefixes reach lm-eval as document fields, read as they are).

>>> task = JsonTask(name="demo", examples=[{"input": "x", "target": "y"}] * 1, few_shot_example_separator="\\n\\n")
>>> print(task_yaml(task, "gen"), end="")
include: _gen_16_template_yaml
task: mirage_bb_demo_gen
dataset_kwargs:
  bigbench_task: demo
  form: gen
fewshot_delimiter: "\\n\\n"
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml

from mirage_metrics.atomic_files import write_text
from mirage_metrics.bigbench.reader import JsonTask, check_task_name, discover_tasks, lm_eval_task_name
from mirage_metrics.paths import tasks_path

__all__ = [
    "PAPER_TASKS",
    "DEFAULT_GROUP",
    "SHARED_FILES",
    "GENERATION_MARGIN",
    "GENERATION_BUDGETS",
    "generation_budget",
    "task_yaml",
    "group_yaml",
    "readme_text",
    "write_task_configs",
]

PAPER_TASKS = ("irony_identification", "logical_args", "sports_understanding", "swahili_english_proverbs")
DEFAULT_GROUP = "mirage_bigbench"
PAPER_GROUP = "mirage_bigbench_paper"
#: Tokens a gen task may generate beyond its longest target (the space before it, a stop string).
GENERATION_MARGIN = 8
#: The ``max_gen_toks`` a gen task can get; the largest is the base template's own.
GENERATION_BUDGETS = (16, 32, 64, 128)
SHARED_FILES = (
    "utils.py",
    "_mc_template_yaml",
    "_gen_template_yaml",
    "_ll_template_yaml",
    *(f"_gen_{budget}_template_yaml" for budget in GENERATION_BUDGETS[:-1]),
)


class _DataDumper(yaml.SafeDumper):
    """``yaml.safe_dump`` writing strings with unprintable characters (newlines, tabs) double-quoted, escaped,
    and list items indented under their key."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, text: str):
    style = None if text.isprintable() else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_DataDumper.add_representer(str, _represent_str)


def _dump_yaml(document: dict) -> str:
    """``document`` as YAML through the safe serialiser: keys in order, one line per scalar."""
    return yaml.dump(document, Dumper=_DataDumper, sort_keys=False, allow_unicode=True, width=10**6)


def _code(text: str) -> str:
    """``text`` as a Markdown code span (JSON-quoted, so one line) that no backtick in it can close.

    >>> _code("a`b")
    '``"a`b"``'
    """
    quoted = json.dumps(text, ensure_ascii=False)
    ticks = "`" * (1 + max((len(run) for run in re.findall("`+", quoted)), default=0))
    return f"{ticks}{quoted}{ticks}"


def _fence(text: str) -> list[str]:
    """``text`` as a fenced Markdown code block, its fence longer than any backtick run inside."""
    ticks = "`" * max(4, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return [f"{ticks}text", text, ticks]


def generation_budget(task: JsonTask) -> int:
    """``max_gen_toks`` of a gen task: the first of GENERATION_BUDGETS that holds its longest target and a margin.

    The target is counted in UTF-8 bytes: a token of a byte-level or byte-fallback
    tokenizer covers at least one byte, so it fits whatever the tokenizer. Targets
    longer than the largest budget are cut there, as before for every task.

    >>> generation_budget(JsonTask(name="t", examples=[{"input": "x", "target": ["é", "twelve bytes"]}]))
    32
    """
    longest = max(len(target.encode("utf-8")) for e in task.examples if "target" in e for target in task.targets(e))
    return next((b for b in GENERATION_BUDGETS if b >= longest + GENERATION_MARGIN), GENERATION_BUDGETS[-1])


def _template(task: JsonTask, form: str) -> str:
    budget = generation_budget(task) if form == "gen" else GENERATION_BUDGETS[-1]
    return f"_{form}_template_yaml" if budget == GENERATION_BUDGETS[-1] else f"_gen_{budget}_template_yaml"


def task_yaml(task: JsonTask, form: str) -> str:
    """The YAML of one task and form: the base template plus what differs per task."""
    check_task_name(task.name, "task")
    dataset_kwargs = {"bigbench_task": task.name}
    if task.subtask is not None:
        dataset_kwargs["bigbench_subtask"] = check_task_name(task.subtask, "subtask")
    dataset_kwargs["form"] = form
    document = {
        "include": _template(task, form),
        "task": lm_eval_task_name(task, form),
        "dataset_kwargs": dataset_kwargs,
        "fewshot_delimiter": task.few_shot_example_separator,
    }
    return _dump_yaml(document)


def group_yaml(name: str, task_names: list[str]) -> str:
    """A group YAML listing ``task_names``."""
    return _dump_yaml({"group": check_task_name(name, "group"), "task": list(task_names), "metadata": {"version": 1.0}})


_README_HEAD = """# BIG-bench tasks (`mirage_bb_*`)

Generated by `mirage bigbench-tasks`; do not edit by hand (a test checks this folder is up to date).

BIG-bench JSON tasks as lm-evaluation-harness tasks, each scored by discontinuous *and* continuous metrics, as in
Schaeffer, Miranda & Koyejo (2023), Fig 6. Names are `mirage_bb_<task>[_<subtask>]_<form>`:

| form | lm-eval output type | per-sample metrics | aggregate |
|---|---|---|---|
| `mc` (tasks with `target_scores`) | `multiple_choice` | `multiple_choice_grade` (BIG-bench's, ties broken as BIG-bench does, following the task's `absolute_normalization`), `brier_score` (BIG-bench's per-sample sum, below), `p_correct` (softmax mass on the best-scored choice(s)), `log_p_correct` (unnormalised) | their means, and `bigbench_brier_score` (BIG-bench's `calibration_multiple_choice_brier_score`) |
| `gen` (tasks with `target`) | `generate_until`, greedy, `until: []` | `exact_str_match` (BIG-bench's rule), `exact_str_match_stripped`, `exact_str_match_ignore_case`, `token_edit_distance` (characters), `token_edit_distance_words` (whitespace tokens), each against the closest target | means |
| `ll` (tasks with `target`) | `loglikelihood` of the first target | `target_log_prob`, `per_char_prob` (exp of log p per character of the scored continuation: the prompt's trailing space and the target), `greedy_match` | means |

Groups: `{group}` (every task below){paper}. Tags: `mirage_bigbench_mc`, `mirage_bigbench_gen`, `mirage_bigbench_ll`.

## Data

The configs hold no data; each run reads the BIG-bench JSON files, first match wins:

1. lm-eval `--metadata '{{"bigbench_dir": "/path/to/BIG-bench/bigbench/benchmark_tasks"}}'`;
2. the `MIRAGE_BIGBENCH_DIR` environment variable (same folder);
3. the Hub copy [`tasksource/bigbench`](https://huggingface.co/datasets/tasksource/bigbench) through `datasets`
   (whole tasks only, no subtasks; its `inputs` are BIG-bench's already-rendered zero-shot prompts, so they are used
   as they are).

If none works the error names both ways of giving a local folder.

```bash
lm_eval --model hf --model_args pretrained=EleutherAI/pythia-70m \\
  --include_path "$(mirage tasks-path)" --tasks mirage_bigbench_paper \\
  --metadata '{{"bigbench_dir": "/path/to/BIG-bench/bigbench/benchmark_tasks"}}' \\
  --output_path out --log_samples
```

## Prompts

As BIG-bench's `json_task.py`: `task_prefix` once, then each example as `example_input_prefix` + input
(+ `choice_prefix` + each choice, when `append_choices_to_input`) + `example_output_prefix`, and a solved shot is that
plus the answer; shots are joined by `few_shot_example_separator` (lm-eval's `fewshot_delimiter`; the answer follows
the prompt with no delimiter). Defaults: `"\\nQ: "`, `"\\n  choice: "`, `"\\nA: "`, choices appended, separator
`"\\n"`. Differences from BIG-bench, on purpose: appended choices are permuted with a
seed from the example's input (BIG-bench uses one random stream, so the order depended on evaluation order); shots
come from a fixed pool of min(5, n/4) examples per task (at least one), never evaluated, so `--num_fewshot` is at most
the pool size (0-shot is the default); duplicate examples are dropped, as BIG-bench does. Non-standard keys
(e.g. `input_prefix` in logical_args) are not read. Programmatic tasks (`task.py`) are not
supported.

## Scoring

As BIG-bench's code computes it (bigbench 1.0.0):

- **Brier.** Target scores s become t = s / Σs (all zeros when Σs = 0) and each option scores
  t·(p − 1)² + (1 − t)·p², p the softmax of the choices' log-likelihoods. `brier_score` is a sample's sum over its
  options (for one correct choice the classic Σ(p − y)², range [0, 2]); `bigbench_brier_score` is the sum over all
  samples and options divided by the number of options. Several correct options (scores `[1, 1, 0]`) share t.
- **`multiple_choice_grade`** is the target score of the most likely choice; ties are broken by BIG-bench's hash of
  the normalised log-probabilities, or of the raw ones for tasks with `absolute_normalization: true`.
- **Generations.** lm-eval generates greedily with no stop sequence (`until: []`; `max_gen_toks` per task: the
  first of 16, 32, 64, 128 that holds the longest target's UTF-8 bytes + 8, so short-context models fit; on a model
  whose context is shorter still, lower it with `--gen_kwargs max_gen_toks=N`), because lm-eval cuts at a stop sequence even when it is the first
  generated character, while BIG-bench ignores a `stop_string` found at position 0. The output is then post-processed
  as BIG-bench does: cut after the first `stop_string` (kept) unless it is at position 0, then the first match of
  `output_regex` (default `[^\\.\\?\\!\\;\\n]+`, so a leading newline is skipped), nothing stripped. This
  post-processing is the task's lm-eval filter (named `none`, lm-eval's default), so with `--log_samples` each
  sample holds the raw generation (`resps`) and the text scored (`filtered_resps`).
  `exact_str_match` is BIG-bench's rule: that output equals a target exactly (`" Paris"` does not match `"Paris"`).
  `exact_str_match_stripped` is a lenient variant (output and targets stripped; not BIG-bench's);
  `exact_str_match_ignore_case` strips and lower-cases both (BIG-bench's `case_insensitive_str_match`). The edit
  distances compare the exact output, so a distance of 0 is an exact match.
- **Same tokens in every form.** lm-eval's loglikelihood requests (`mc`, `ll`) move a prompt's trailing whitespace
  into the scored continuation (context `...\\nA:`, continuation `" answer"`). The `gen` prompt ends there too, its
  shots read `...\\nA: answer`, and that whitespace (one space for the default `"\\nA: "`) is removed from the start
  of the generation, when it begins with it, before the post-processing. The prompts below are BIG-bench's; the
  `gen` form sends them without their trailing whitespace.

## Other BIG-bench JSON tasks

```bash
mirage bigbench-tasks --bigbench-dir /path/to/BIG-bench/bigbench/benchmark_tasks \\
  --tasks my_task other_task --group my_bigbench --out my_tasks/
lm_eval --include_path my_tasks/ --tasks my_bigbench --metadata '{{"bigbench_dir": "..."}}' ...
```

Use a group name other than `{group}` so the bundled group is not redefined.

## Tasks

Each prompt below is the zero-shot prompt of the first evaluated example, exactly as the model sees it (it may begin
with a newline); for `mc` the scored continuations follow.
"""


def _prompt_section(task: JsonTask) -> str:
    form = task.forms[0]
    shots, evaluated = task.split(form)
    example = evaluated[0]
    names = ", ".join(f"`{lm_eval_task_name(task, f)}`" for f in task.forms)
    lines = [
        f"### {task.full_name}",
        "",
        f"Tasks: {names}. Examples: {len(shots)} shots, {len(evaluated)} evaluated.",
        "",
        *_fence(task.render_prompt(example)),
        "",
    ]
    if form == "mc":
        lines += ["Choices scored: " + ", ".join(_code(c) for c in task.choices(example)), ""]
    else:
        lines += [f"Target: {_code(task.targets(example)[0])}", ""]
    return "\n".join(lines)


def readme_text(tasks: list[JsonTask], group: str = DEFAULT_GROUP) -> str:
    """The family README: usage, prompt conventions and one rendered prompt per task."""
    has_paper = group == DEFAULT_GROUP and {t.name for t in tasks if "mc" in t.forms}.issuperset(PAPER_TASKS)
    paper = f", `{PAPER_GROUP}` (the four Fig 6 tasks, mc form)" if has_paper else ""
    head = _README_HEAD.format(group=group, paper=paper)
    return head + "\n" + "\n".join(_prompt_section(t) for t in tasks)


def write_task_configs(
    bigbench_dir, out_dir, names: list[str] | None = None, group: str = DEFAULT_GROUP, log=print
) -> list[Path]:
    """Write the configs of every JSON task (or of ``names``) under ``bigbench_dir`` into ``out_dir``.

    Returns the written paths. Programmatic tasks are skipped with a message to ``log``.
    """
    check_task_name(group, "--group")
    tasks, skipped = discover_tasks(bigbench_dir, names)
    for message in skipped:
        log(message)
    if not tasks:
        raise ValueError(f"no BIG-bench JSON tasks with examples found in {bigbench_dir}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    bundled = tasks_path() / "bigbench"
    written = []
    if out_dir.resolve() != bundled.resolve():
        for name in SHARED_FILES:
            shutil.copyfile(bundled / name, out_dir / name)
            written.append(out_dir / name)
    all_names = []
    for task in tasks:
        for form in task.forms:
            name = lm_eval_task_name(task, form)
            path = out_dir / f"{name}.yaml"
            write_text(task_yaml(task, form), path)
            written.append(path)
            all_names.append(name)
    groups = {group: all_names}
    paper = [f"mirage_bb_{t}_mc" for t in PAPER_TASKS]
    if group == DEFAULT_GROUP and set(paper) <= set(all_names):
        groups[PAPER_GROUP] = paper
    for name, members in groups.items():
        write_text(group_yaml(name, members), out_dir / f"{name}.yaml")
        written.append(out_dir / f"{name}.yaml")
    write_text(readme_text(tasks, group), out_dir / "README.md")
    written.append(out_dir / "README.md")
    return written
