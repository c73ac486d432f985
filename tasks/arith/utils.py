"""Dataset and scoring functions that the ``mirage_arith`` YAML configs name with ``!function``.

lm-eval passes ``--metadata`` (and ``metadata`` from the YAML) to :func:`build_dataset`
as keyword arguments, so ``--metadata '{"num_problems": 100000, "seed": 7}'``
changes the problem set without editing YAML. Scoring calls the metrics core
through :mod:`mirage_metrics.lm_eval_metrics`.

>>> splits = build_dataset(arith_task="2dm", num_problems=3, seed=1)
>>> splits["test"].num_rows, splits["test"][0]["problem_set_size"]
(3, 3)
>>> process_loglikelihood({"answer": "12"}, [(-0.5, False)])["greedy_match"]
0.0
"""

from __future__ import annotations

import logging

import datasets

from mirage_metrics import arithmetic
from mirage_metrics.lm_eval_metrics import score_generation, score_loglikelihood

log = logging.getLogger("lm_eval.mirage_arith")  # lm-eval shows its own loggers at INFO


def _split(problems: list[dict], seed: int) -> datasets.Dataset:
    identity = {
        "problem_set_seed": seed,
        "problem_set_size": len(problems),
        "problem_set_id": arithmetic.problem_set_id(problems),
    }
    return datasets.Dataset.from_list([{**problem, **identity} for problem in problems])


def build_dataset(
    arith_task: str,
    num_problems: int = arithmetic.DEFAULT_NUM_PROBLEMS,
    seed: int = arithmetic.DEFAULT_SEED,
    **other_metadata,
) -> dict[str, datasets.Dataset]:
    """The ``test`` problems and the disjoint few-shot ``shots`` pool of ``arith_task``.

    ``other_metadata`` receives what else lm-eval passes along (``version``, model arguments) and is unused.
    """
    test = _split(arithmetic.generate_problems(arith_task, num_problems, seed), seed)
    log.info(
        "mirage_arith %s: %d problems, seed %d, problem_set_id %s",
        arith_task, num_problems, seed, test[0]["problem_set_id"],
    )
    return {"test": test, "shots": _split(arithmetic.shot_pool(arith_task, seed=seed), seed)}


def process_generation(doc: dict, results: list[str]) -> dict[str, float]:
    """Per-sample metrics of a generation: ``exact_match``, ``token_edit_distance`` and both for L = 1..5."""
    return score_generation(results[0], doc["answer"])


def process_loglikelihood(doc: dict, results: list[tuple[float, bool]]) -> dict[str, float]:
    """Per-sample metrics of the gold answer's log-likelihood: ``target_log_prob``, ``per_char_prob``, ``greedy_match``."""
    loglikelihood, is_greedy = results[0]
    return score_loglikelihood(loglikelihood, is_greedy, doc["answer"])
