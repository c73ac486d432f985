"""The mirage_arith tasks through the real CLIs: `lm_eval` on the dummy model, `mirage eval` on a tiny GPT-2."""

from __future__ import annotations

import json
import math

import pytest

from conftest import LM_EVAL, MIRAGE, read_run, run_to_results
from mirage_metrics.arithmetic import (
    ARITH_TASKS,
    format_example,
    format_prompt,
    generate_problems,
    problem_set_id,
    shot_pool,
)
from mirage_metrics.paths import tasks_path

FORMS = ("gen", "gen_t1", "ll")
GEN_METRICS = ["exact_match", "token_edit_distance"] + [
    f"{name}_L{length}" for length in range(1, 6) for name in ("exact_match", "token_edit_distance")
]
LL_METRICS = [
    "target_log_prob",
    "per_char_prob",
    "greedy_match",
    "exact_answer_prob",
    "exact_answer_log_prob",
    "greedy_exact_match",
] + [f"prefix_prob_L{length}" for length in range(1, 7)]


def metric_names(form: str) -> list[str]:
    return LL_METRICS if form == "ll" else GEN_METRICS


def check_value(metric: str, value: float) -> None:
    if metric.startswith(("exact_match", "prefix_prob")) or metric in (
        "greedy_match",
        "greedy_exact_match",
        "exact_answer_prob",
    ):
        assert math.isnan(value) or 0.0 <= value <= 1.0, (metric, value)
    elif metric.startswith("token_edit_distance"):
        assert math.isnan(value) or value >= 0.0, (metric, value)
    elif metric in ("target_log_prob", "exact_answer_log_prob"):
        assert value <= 0.0, value
    elif metric == "per_char_prob":
        assert 0.0 < value <= 1.0, value


def check_tasks(results: dict, samples: dict, arith_tasks, num_problems: int, seed: int) -> None:
    """Every metric of every task in range, the problem set as asked, per-sample fields and prompts as rendered."""
    for task in arith_tasks:
        pool = {format_example(shot) for shot in shot_pool(task, seed=seed)}
        expected_id = problem_set_id(generate_problems(task, num_problems, seed))
        for form in FORMS:
            name = f"mirage_arith_{task}_{form}"
            aggregates = results["results"][name]
            for filter_name in ("none",) if form == "ll" else ("none", "flexible-extract"):
                for metric in metric_names(form):
                    check_value(metric, aggregates[f"{metric},{filter_name}"])
            assert not math.isnan(aggregates[f"{metric_names(form)[0]},none"])
            assert results["configs"][name]["metadata"]["num_problems"] == num_problems
            assert results["configs"][name]["metadata"]["seed"] == seed
            assert results["n-samples"][name]["original"] == num_problems
            for sample in samples[name]:
                doc = sample["doc"]
                assert {"a", "b", "operator", "answer", "answer_length"} <= doc.keys()
                assert (doc["problem_set_id"], doc["problem_set_size"], doc["problem_set_seed"]) == (
                    expected_id,
                    num_problems,
                    seed,
                )
                for metric in metric_names(form):
                    check_value(metric, sample[metric])
                context = sample["arguments"]["gen_args_0"]["arg_0"]
                *shots, question = context.split("\n\n")
                assert len(shots) == 2 and set(shots) <= pool
                assert context == format_prompt(
                    [{"a": int(s.split()[3]), "b": int(s.split()[5][:-1]), "operator": doc["operator"]} for s in shots],
                    doc,
                )
                assert "  " not in context
                if form == "ll":
                    assert sample["arguments"]["gen_args_0"]["arg_1"] == " " + doc["answer"]
                else:
                    generation = sample["arguments"]["gen_args_0"]["arg_1"]
                    assert generation["do_sample"] is (form == "gen_t1")
                    assert generation["temperature"] == (1.0 if form == "gen_t1" else 0.0)


@pytest.mark.slow
def test_lm_eval_runs_every_task_on_the_dummy_model_with_metadata(tmp_path):
    out = tmp_path / "out"
    run_to_results(
        [
            *LM_EVAL,
            "--model",
            "dummy",
            "--tasks",
            "mirage_arith",
            "--include_path",
            str(tasks_path()),
            "--limit",
            "2",
            "--log_samples",
            "--output_path",
            str(out),
            "--metadata",
            json.dumps({"num_problems": 40, "seed": 7}),
        ],
        out,
        cwd=tmp_path,
    )
    results, samples = read_run(out)
    assert {f"mirage_arith_{t}_{f}" for t in ARITH_TASKS for f in FORMS} <= results["results"].keys()
    assert {"mirage_arith", "mirage_arith_gen", "mirage_arith_gen_t1", "mirage_arith_ll"} <= results["results"].keys()
    check_tasks(results, samples, ARITH_TASKS, num_problems=40, seed=7)


@pytest.mark.slow
def test_mirage_eval_runs_the_paper_tasks_on_a_tiny_gpt2(tmp_path, tiny_gpt2):
    out = tmp_path / "out"
    run_to_results(
        [
            *MIRAGE,
            "eval",
            "--model",
            "hf",
            "--model_args",
            f"pretrained={tiny_gpt2}",
            "--device",
            "cpu",
            "--tasks",
            "mirage_arith_paper",
            "--limit",
            "2",
            "--log_samples",
            "--output_path",
            str(out),
        ],
        out,
        cwd=tmp_path,
    )
    results, samples = read_run(out)
    check_tasks(results, samples, ["2dm", "4da"], num_problems=1000, seed=1234)
    readme = (tasks_path() / "arith" / "README.md").read_text()
    first_prompt = next(s for s in samples["mirage_arith_2dm_gen"] if s["doc_id"] == 0)["arguments"]["gen_args_0"]
    assert "```text\n" + first_prompt["arg_0"] + "\n```" in readme
    for sample in samples["mirage_arith_2dm_ll"]:
        log_prob, is_greedy = sample["resps"][0][0]
        assert sample["target_log_prob"] == pytest.approx(float(log_prob))
        # per character of the scored continuation, its leading space included
        assert sample["per_char_prob"] == pytest.approx(math.exp(float(log_prob) / len(" " + sample["doc"]["answer"])))
        assert sample["greedy_match"] == float(is_greedy in (True, "True"))
        answer_then_stop = sample["resps"][1 : len(sample["resps"]) - len(sample["doc"]["prefix_lengths"])]
        stops = [(float(ll), greedy in (True, "True")) for ((ll, greedy),) in answer_then_stop]
        assert [sample["doc"]["answer"] + stop for stop in ("\n", "<|endoftext|>")] == sample["doc"]["answer_choices"][
            1 : 1 + len(stops)
        ]
        assert sample["exact_answer_prob"] == pytest.approx(sum(math.exp(ll) for ll, _ in stops))
        assert sample["greedy_exact_match"] == float(any(greedy for _, greedy in stops))
