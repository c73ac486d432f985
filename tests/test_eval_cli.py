"""`mirage eval`: lm-eval with the mirage tasks included; the user's --include_path wins; the worked example runs."""

from __future__ import annotations

import json
import math

import pytest

from conftest import MIRAGE, read_run, run_cli, run_to_results
from mirage_metrics.cli.eval import INTRO
from mirage_metrics.paths import tasks_path

EXAMPLE = tasks_path() / "examples" / "mirage_example_gsm8k.yaml"

# A local stand-in for gsm8k: generate_until, gold "<working> #### <number>", lm-eval's exact_match only.
LOCAL_QA_TASK = """\
task: local_qa
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_target: "{{{{answer}}}}"
generation_kwargs:
  until: ["Question:"]
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
"""

# A user's own task under a mirage name: zero-shot instead of two-shot.
USER_OVERRIDE = """\
include: {arith}/_gen.yaml
task: mirage_arith_2dm_gen
num_fewshot: 0
dataset_kwargs:
  arith_task: "2dm"
"""


@pytest.mark.slow
def test_mirage_eval_adds_the_tasks_lets_the_user_path_win_and_runs_the_worked_example(tmp_path):
    user_tasks = tmp_path / "user_tasks"
    user_tasks.mkdir()
    data = tmp_path / "qa.jsonl"
    data.write_text(
        "".join(
            json.dumps({"question": f"What is 6 times {n}?", "answer": f"6 * {n} = {6 * n} #### {6 * n}"}) + "\n"
            for n in (3, 7, 20)
        )
    )
    (user_tasks / "local_qa.yaml").write_text(LOCAL_QA_TASK.format(data=data))
    example = EXAMPLE.read_text()
    assert "  - task: gsm8k\n" in example
    (user_tasks / "example_on_local_qa.yaml").write_text(example.replace("  - task: gsm8k\n", "  - task: local_qa\n"))
    (user_tasks / "override.yaml").write_text(USER_OVERRIDE.format(arith=tasks_path() / "arith"))
    out = tmp_path / "out"
    run_to_results(
        [
            *MIRAGE,
            "eval",
            "--model",
            "dummy",
            "--include_path",
            str(user_tasks),
            "--tasks",
            "mirage_example_gsm8k,mirage_arith_2dm_gen,mirage_arith_4da_ll",
            "--limit",
            "3",
            "--log_samples",
            "--output_path",
            str(out),
        ],
        out,
        cwd=tmp_path,
    )
    results, samples = read_run(out)

    # The package's own tasks are there without any flag.
    assert results["n-shot"]["mirage_arith_4da_ll"] == 2
    # The user's task of the same name replaced the package's one.
    assert results["n-shot"]["mirage_arith_2dm_gen"] == 0
    assert all("\n\n" not in s["arguments"]["gen_args_0"]["arg_0"] for s in samples["mirage_arith_2dm_gen"])

    # The worked example: dummy answers "lol"; the gold after "#### " is "18", "42", "120".
    example_scores = results["results"]["local_qa"]
    assert example_scores["exact_match,none"] == 0.0
    assert example_scores["token_edit_distance,none"] == (3 + 3 + 3) / 3
    assert example_scores["token_edit_distance_L1,none"] == 1.0
    assert example_scores["exact_match_L3,none"] == 0.0  # only "120" is 3 characters long
    assert math.isnan(example_scores["exact_match_L4,none"])
    per_sample = [s["token_edit_distance_L3"] for s in samples["local_qa"]]
    assert sum(math.isnan(v) for v in per_sample) == 2 and 3.0 in per_sample


def test_mirage_eval_help_says_what_it_adds_then_shows_lm_evals_options():
    done = run_cli([*MIRAGE, "eval", "--help"])
    assert done.stdout.startswith(INTRO)
    lm_eval_help = done.stdout[len(INTRO) :]
    assert "usage: lm-eval run" in lm_eval_help and "--model_args" in lm_eval_help
