"""BIG-bench gen tasks fit models with a short context: max_gen_toks follows the task's longest target."""

from __future__ import annotations

import json

import pytest

from conftest import LM_EVAL, REPO_ROOT, run_cli
from mirage_metrics.bigbench import discover_tasks, lm_eval_task_name
from mirage_metrics.bigbench.task_yamls import GENERATION_BUDGETS, GENERATION_MARGIN, generation_budget

BUNDLED = REPO_ROOT / "tasks" / "bigbench"


def test_every_gen_task_gets_the_smallest_budget_that_holds_its_targets(bigbench_dir):
    tasks, _ = discover_tasks(bigbench_dir)
    for task in (t for t in tasks if "gen" in t.forms):
        budget = generation_budget(task)
        longest = max(len(x.encode()) for e in task.examples if "target" in e for x in task.targets(e))
        smaller = [b for b in GENERATION_BUDGETS if b < budget]
        assert budget >= longest + GENERATION_MARGIN or budget == GENERATION_BUDGETS[-1], task.full_name
        assert not smaller or smaller[-1] < longest + GENERATION_MARGIN, task.full_name
        template = BUNDLED / (BUNDLED / f"{lm_eval_task_name(task, 'gen')}.yaml").read_text().split()[1]
        text = template.read_text()
        assert f"max_gen_toks: {budget}\n" in text and "  until: []\n" in text, template.name


@pytest.mark.slow
def test_a_gen_task_runs_on_a_model_with_a_64_token_context(tmp_path, tiny_gpt2, bigbench_dir):
    task = "mirage_bb_arithmetic_1_digit_addition_gen"
    out = tmp_path / "out"
    # with max_gen_toks 128 lm-eval asserts 128 < 64
    run_cli(
        [
            *LM_EVAL,
            "--model",
            "hf",
            "--model_args",
            f"pretrained={tiny_gpt2},max_length=64",
            "--device",
            "cpu",
            "--tasks",
            task,
            "--include_path",
            BUNDLED,
            "--limit",
            "2",
            "--metadata",
            json.dumps({"bigbench_dir": str(bigbench_dir)}),
            "--output_path",
            out,
            "--log_samples",
        ]
    )
    (samples_file,) = out.glob(f"*/samples_{task}_*.jsonl")
    gen_kwargs = json.loads(samples_file.read_text().splitlines()[0])["arguments"]["gen_args_0"]["arg_1"]
    assert gen_kwargs["max_gen_toks"] == 16 and gen_kwargs["until"] == []
