"""Every BIG-bench behaviour of the mirage_bb_* tasks on small fixture tasks (bigbench_fixture_tasks.py), so it is
tested without real BIG-bench data: through the reader, the hooks, lm-eval's own prompt building and a real run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from bigbench_fixture_tasks import TASK_NAMES

from conftest import LM_EVAL, bigbench_gen_scoring, run_cli
from mirage_metrics.bigbench import discover_tasks, load_task, postprocess_output
from mirage_metrics.bigbench.lm_eval_hooks import process_results_mc, task_docs
from mirage_metrics.bigbench.task_yamls import write_task_configs
from mirage_metrics.metrics import multiple_choice_grade


def _task(root: Path, name: str):
    task, _, subtask = name.partition("/")
    return load_task(task, subtask or None, bigbench_dir=root)


@pytest.fixture(scope="module")
def fixture_configs(fixture_bigbench_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fixture_configs")
    write_task_configs(fixture_bigbench_dir, out, group="fixture_bigbench", log=lambda message: None)
    return out


def test_tasks_subtasks_and_forms_are_found_and_programmatic_tasks_skipped(fixture_bigbench_dir):
    tasks, skipped = discover_tasks(fixture_bigbench_dir)
    forms = {t.full_name: t.forms for t in tasks}
    assert forms == {
        "absolute_choices": ("mc",),
        "graded_choices": ("mc",),
        "regex_numbers": ("mc", "gen", "ll"),
        "stop_at_newline": ("gen", "ll"),
        "with_subtasks_first": ("gen", "ll"),
        "with_subtasks_second": ("mc",),
    }
    assert {(t.name, t.subtask) for t in tasks if t.name == "with_subtasks"} == {
        ("with_subtasks", "first"),
        ("with_subtasks", "second"),
    }
    assert skipped == ["programmatic: programmatic task (task.py), not supported; skipped"]


def test_prefixes_choices_and_separator_render_as_bigbench(fixture_bigbench_dir):
    task = _task(fixture_bigbench_dir, "graded_choices")
    shot, example = task.examples[1], task.examples[0]
    prompt = task.render_prompt(example, shots=[shot])
    shot_choices = task.render_input(shot).split("\n - ")[1:]
    assert sorted(shot_choices[:-1] + [shot_choices[-1].removesuffix("\nAnswer: ")]) == ["no", "sure", "yes"]
    assert prompt.startswith("Pick the best answer.\n\nQuestion: Is a dog an animal?\n - ")
    assert "\nAnswer: yes\n\n\nQuestion: Which sound does a cat make?\n - " in prompt  # first best answer, then "\n\n"
    assert prompt.endswith("\nAnswer: ") and prompt.count("Pick the best answer.") == 1
    plain = _task(fixture_bigbench_dir, "absolute_choices")  # append_choices_to_input: false; BIG-bench defaults
    assert plain.render_prompt(plain.examples[0]) == "\nQ: cat is\nA: "


def test_graded_and_several_correct_target_scores(fixture_bigbench_dir):
    docs = task_docs(_task(fixture_bigbench_dir, "graded_choices"), "mc")
    graded = next(d for d in docs["test"] if "none" in d["choices"])
    several = next(d for d in docs["test"] if "sure" in d["choices"])
    assert sorted(graded["target_scores"]) == [0.0, 0.5, 1.0] and sorted(several["target_scores"]) == [0, 1, 1]
    half = graded["choices"].index("a noise")
    lls = [(-0.1 if i == half else -3.0, i == half) for i in range(3)]
    out = process_results_mc(graded, lls)
    assert out["multiple_choice_grade"] == 0.5  # the score of the chosen option, not 0 or 1
    probs = np.exp([ll for ll, _ in lls]) / np.exp([ll for ll, _ in lls]).sum()
    targets = np.array(graded["target_scores"]) / sum(graded["target_scores"])
    assert out["brier_score"] == pytest.approx(float((targets * (probs - 1) ** 2 + (1 - targets) * probs**2).sum()))
    correct = [i for i, s in enumerate(several["target_scores"]) if s == 1]
    lls = [(-0.5, False), (-1.0, False), (-2.0, False)]
    probs = np.exp([ll for ll, _ in lls]) / np.exp([ll for ll, _ in lls]).sum()
    out = process_results_mc(several, lls)
    assert out["p_correct"] == pytest.approx(probs[correct].sum())  # mass on every correct answer
    assert out["multiple_choice_grade"] == several["target_scores"][0]


def test_absolute_normalization_decides_ties_as_bigbench(fixture_bigbench_dir):
    absolute = task_docs(_task(fixture_bigbench_dir, "absolute_choices"), "mc")["test"]
    relative = task_docs(_task(fixture_bigbench_dir, "graded_choices"), "mc")["test"]
    assert {d["absolute_normalization"] for d in absolute} == {True} and {
        d["absolute_normalization"] for d in relative
    } == {False}
    scores, tied = absolute[0]["target_scores"], [(-2.0, False), (-2.0, False)]
    for flag in (True, False):
        doc = {**absolute[0], "absolute_normalization": flag}
        expected = multiple_choice_grade([[-2.0, -2.0]], [scores], absolute_normalization=flag)[0]
        assert process_results_mc(doc, tied)["multiple_choice_grade"] == expected


def test_stop_string_output_regex_and_several_targets(fixture_bigbench_dir):
    stop = task_docs(_task(fixture_bigbench_dir, "stop_at_newline"), "gen")["test"][0]
    assert stop["stop_string"] == "\n" and stop["output_regex"] == "" and len(stop["targets"]) == 2
    word, digit = stop["targets"]
    assert postprocess_output("\nx\ny", stop_string="\n") == "\nx\ny"  # a stop string at position 0 cuts nothing
    text, at_zero = bigbench_gen_scoring(stop, f" \n{word}\nmore")
    assert text == f"\n{word}\nmore"  # the moved space, then the stop string first
    assert at_zero["exact_str_match"] == 0.0 and at_zero["token_edit_distance"] == len("\n\nmore")
    text, cut = bigbench_gen_scoring(stop, f" {digit}\nmore")
    assert text == f"{digit}\n"  # cut after the stop string, which is kept
    assert cut["exact_str_match"] == 0.0 and cut["exact_str_match_stripped"] == 1.0 and cut["token_edit_distance"] == 1
    assert bigbench_gen_scoring(stop, f" {word}")[1]["exact_str_match"] == 1.0  # any target counts
    numbers = task_docs(_task(fixture_bigbench_dir, "regex_numbers"), "gen")["test"][0]
    assert numbers["output_regex"] == r"[-+]?\d+"
    target = numbers["targets"][0]
    assert bigbench_gen_scoring(numbers, f" = {target} apples") == (target, bigbench_gen_scoring(numbers, target)[1])
    assert bigbench_gen_scoring(numbers, f" = {target} apples")[1]["exact_str_match"] == 1.0
    assert bigbench_gen_scoring(numbers, " no number") == ("", bigbench_gen_scoring(numbers, "")[1])
    assert bigbench_gen_scoring(numbers, " no number")[1]["token_edit_distance"] == len(target)


@pytest.mark.parametrize("name", sorted(set(TASK_NAMES.values())))
def test_shot_pool_is_never_evaluated(fixture_bigbench_dir, name):
    task = _task(fixture_bigbench_dir, name)
    for form in task.forms:
        shots, evaluated = task.split(form)
        key = "target_scores" if form == "mc" else "target"
        assert shots and evaluated and len(shots) + len(evaluated) == sum(key in e for e in task.examples)
        assert not {json.dumps(s) for s in shots} & {json.dumps(e) for e in evaluated}
        docs = task_docs(task, form)
        assert [d["input"] for d in docs["test"]] == [e["input"] for e in evaluated]


def test_lm_eval_builds_bigbench_prompts_from_the_pool(fixture_bigbench_dir, fixture_configs):
    """lm-eval's own task machinery, zero- and one-shot: the context is BIG-bench's prompt of an evaluated example,
    with its one shot from the pool."""
    from lm_eval.tasks import TaskManager, get_task_dict

    manager = TaskManager(
        include_path=str(fixture_configs), include_defaults=False, metadata={"bigbench_dir": str(fixture_bigbench_dir)}
    )
    built = get_task_dict(list(TASK_NAMES), manager)
    for name, lm_task in built.items():
        task, form = _task(fixture_bigbench_dir, TASK_NAMES[name]), name.rsplit("_", 1)[1]
        shots, evaluated = task.split(form)
        for num_fewshot in (0, 1):
            lm_task.set_config(key="num_fewshot", value=num_fewshot)
            lm_task.build_all_requests(rank=0, world_size=1)
            assert {i.doc_id for i in lm_task.instances} == set(range(len(evaluated))), name
            for instance in lm_task.instances:
                example = evaluated[instance.doc_id]
                prompts = {task.render_prompt(example, shots=[s] if num_fewshot else []) for s in shots}
                sent = {p.rstrip() for p in prompts} if form == "gen" else prompts
                assert instance.arguments[0] in sent, (name, num_fewshot)


@pytest.mark.slow
def test_fixture_tasks_run_through_lm_eval(fixture_bigbench_dir, fixture_configs, tmp_path):
    """lm_eval on its dummy model, 1-shot: every metric, and BIG-bench's grade and Brier recomputed from the
    logged log-likelihoods."""
    out = tmp_path / "out"
    metadata = json.dumps({"bigbench_dir": str(fixture_bigbench_dir)})
    command = [*LM_EVAL, "--model", "dummy", "--tasks", "fixture_bigbench", "--include_path", fixture_configs]
    run_cli([*command, "--num_fewshot", "1", "--metadata", metadata, "--output_path", out, "--log_samples"])
    (results_file,) = out.glob("*/results_*.json")
    results = json.loads(results_file.read_text())["results"]
    assert set(TASK_NAMES) <= set(results)
    for name in (n for n in TASK_NAMES if n.endswith("_mc")):
        (samples_file,) = out.glob(f"*/samples_{name}_*.jsonl")
        samples = [json.loads(line) for line in samples_file.read_text().splitlines()]
        total, options, grades = 0.0, 0, []
        for sample in samples:
            lls = [float(ll) for ll, _ in sample["filtered_resps"]]
            scores = sample["doc"]["target_scores"]
            flag = sample["doc"]["absolute_normalization"]
            grades.append(multiple_choice_grade([lls], [scores], absolute_normalization=flag)[0])
            probs = np.exp(np.array(lls) - max(lls)) / np.exp(np.array(lls) - max(lls)).sum()
            targets = np.array(scores) / sum(scores)
            total += float((targets * (probs - 1) ** 2 + (1 - targets) * probs**2).sum())
            options += len(lls)
        assert results[name]["multiple_choice_grade,none"] == pytest.approx(np.mean(grades)), name
        assert results[name]["bigbench_brier_score,none"] == pytest.approx(total / options), name
    for name in (n for n in TASK_NAMES if n.endswith("_gen")):
        assert 0 <= results[name]["exact_str_match,none"] <= 1 and results[name]["token_edit_distance,none"] >= 0
    for name in (n for n in TASK_NAMES if n.endswith("_ll")):
        assert results[name]["target_log_prob,none"] <= 0 and 0 <= results[name]["per_char_prob,none"] <= 1
