"""Arithmetic problem generation: determinism, disjoint splits, prompt text, scale, input checks."""

from __future__ import annotations

import pytest

from mirage_metrics import arithmetic
from mirage_metrics.arithmetic import (
    ARITH_TASKS,
    format_example,
    format_prompt,
    generate_problems,
    problem_set_id,
    shot_pool,
    training_problems,
)


def pairs(problems):
    return {(p["a"], p["b"]) for p in problems}


def test_tasks_are_the_paper_pair_and_the_addition_ladder():
    assert {name: (t.operator, t.digits) for name, t in ARITH_TASKS.items()} == {
        "2dm": ("*", 2),
        "1da": ("+", 1),
        "2da": ("+", 2),
        "3da": ("+", 3),
        "4da": ("+", 4),
        "5da": ("+", 5),
    }


def test_same_seed_gives_the_same_problems_on_every_machine():
    # Pinned values: the raw PCG64 stream and the split hash are platform- and version-stable,
    # so a change here means every published problem set changed.
    first = generate_problems("2dm", num_problems=3, seed=1234)
    assert [(p["a"], p["b"], p["answer"]) for p in first] == [(13, 94, "1222"), (56, 36, "2016"), (44, 65, "2860")]
    assert problem_set_id(generate_problems("4da", 1000)) == problem_set_id(generate_problems("4da", 1000))
    assert generate_problems("4da", 50, seed=1) != generate_problems("4da", 50, seed=2)


def test_a_longer_set_extends_the_shorter_one_with_the_same_seed():
    short, long = generate_problems("3da", 100, seed=5), generate_problems("3da", 1000, seed=5)
    assert [p["question"] for p in long[:100]] == [p["question"] for p in short]


@pytest.mark.parametrize("task", list(ARITH_TASKS))
def test_test_train_and_shot_problems_never_overlap(task):
    test = pairs(generate_problems(task, 5000, seed=11))
    train = pairs(training_problems(task, 5000, seed=12))
    shots = pairs(shot_pool(task, 200, seed=13))
    assert test and train and len(shots) >= 2
    assert not test & train
    assert not test & shots
    assert not train & shots


@pytest.mark.parametrize("task", list(ARITH_TASKS))
def test_problems_are_correct_and_carry_what_analysis_needs(task):
    spec = ARITH_TASKS[task]
    for problem in generate_problems(task, 300, seed=3):
        assert 0 <= problem["a"] < 10**spec.digits and 0 <= problem["b"] < 10**spec.digits
        expected = problem["a"] * problem["b"] if spec.operator == "*" else problem["a"] + problem["b"]
        assert problem["answer"] == str(expected)
        assert problem["answer_length"] == len(problem["answer"])
        assert (problem["operator"], problem["digits"], problem["task"]) == (spec.operator, spec.digits, task)


def test_shot_pool_is_distinct_and_capped_by_the_split_size():
    pool = shot_pool("1da", 1000)
    assert len(pairs(pool)) == len(pool) < 20
    assert len(shot_pool("5da", 300)) == 300


def test_prompt_is_the_gpt3_format_with_single_spaces():
    shots = [{"a": 24, "b": 42, "operator": "*"}, {"a": 5, "b": 7, "operator": "*"}]
    prompt = format_prompt(shots, {"a": 13, "b": 94, "operator": "*"})
    assert prompt == ("Q: What is 24 times 42? A: 1008\n\nQ: What is 5 times 7? A: 35\n\nQ: What is 13 times 94? A:")
    assert "  " not in prompt
    training_text = format_example({"a": 13, "b": 94, "operator": "*"})
    assert training_text == prompt.split("\n\n")[-1] + arithmetic.TARGET_DELIMITER + "1222"


def test_hundred_thousand_problems_generate():
    problems = generate_problems("2dm", num_problems=100_000, seed=9)
    assert len(problems) == 100_000
    assert {p["answer_length"] for p in problems} == {1, 2, 3, 4}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: generate_problems("6da"), "task='6da' is not an arithmetic task"),
        (lambda: generate_problems("2dm", num_problems=0), "num_problems=0 must be a positive integer"),
        (lambda: generate_problems("2dm", num_problems="10"), "num_problems='10' must be a positive integer"),
        (lambda: generate_problems("2dm", seed=-1), "seed=-1 must be a non-negative integer"),
        (lambda: training_problems("2dm", 10, seed=1.5), "seed=1.5 must be a non-negative integer"),
        (lambda: shot_pool("2dm", num_shots=True), "num_shots=True must be a positive integer"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("?", r"\?")):
        call()
