"""Dataset and scoring functions that the ``mirage_arith`` YAML configs name with ``!function``.

lm-eval passes ``--metadata`` (and ``metadata`` from the YAML) to :func:`build_dataset`
as keyword arguments, so ``--metadata '{"num_problems": 100000, "seed": 7}'``
changes the problem set without editing YAML. Scoring calls the metrics core
through :mod:`mirage_metrics.lm_eval_metrics`.

>>> splits = build_dataset(arith_task="2dm", num_problems=3, seed=1)
>>> splits["test"].num_rows, splits["test"][0]["problem_set_size"]
(3, 3)
>>> build_ll_dataset(arith_task="2dm", num_problems=1, seed=1234)["test"][0]["answer_choices"]
['1222', '1222\\n']
>>> scores = process_loglikelihood({"answer": "12"}, [(-0.5, True), (-0.75, False)])
>>> scores["greedy_match"], scores["greedy_exact_match"], scores["exact_answer_log_prob"]
(1.0, 0.0, -0.75)
"""

from __future__ import annotations

import functools
import logging

import datasets

from mirage_metrics import arithmetic
from mirage_metrics.lm_eval_metrics import score_generation, score_loglikelihood
from mirage_metrics.preflight import check_metadata_value

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
    ``num_problems`` and ``seed`` are checked as ``mirage sweep`` checks them (at most ``MAX_NUM_PROBLEMS``).
    """
    check_metadata_value("num_problems", num_problems)
    check_metadata_value("seed", seed)
    test = _split(arithmetic.generate_problems(arith_task, num_problems, seed), seed)
    log.info(
        "mirage_arith %s: %d problems, seed %d, problem_set_id %s",
        arith_task,
        num_problems,
        seed,
        test[0]["problem_set_id"],
    )
    return {"test": test, "shots": _split(arithmetic.shot_pool(arith_task, seed=seed), seed)}


@functools.lru_cache(maxsize=None)
def _stop_texts(tokenizer_name: str | None, revision: str | None, trust_remote_code: bool) -> tuple[str, ...]:
    """The stops of the named Hugging Face tokenizer (``stop_texts``), or the tokenizer-free ``("\\n",)``."""
    if tokenizer_name is None:
        return tuple(arithmetic.stop_texts())
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(
            tokenizer_name, revision=revision, trust_remote_code=trust_remote_code
        )
    except (OSError, ValueError) as error:
        log.warning(
            "mirage_arith: no tokenizer %r (%s); exact_answer_prob counts only the stop '\\n'", tokenizer_name, error
        )
        return tuple(arithmetic.stop_texts())
    stops = tuple(arithmetic.stop_texts(tokenizer))
    log.info("mirage_arith: stops after an answer for tokenizer %r: %r", tokenizer_name, stops)
    return stops


def build_ll_dataset(
    arith_task: str,
    num_problems: int = arithmetic.DEFAULT_NUM_PROBLEMS,
    seed: int = arithmetic.DEFAULT_SEED,
    **other_metadata,
) -> dict[str, datasets.Dataset]:
    """:func:`build_dataset` with ``answer_choices`` per problem: the answer, then the answer followed by each stop.

    The stops come from the tokenizer that lm-eval's model arguments name (``tokenizer``, else ``pretrained``,
    which lm-eval passes along as metadata); without one, the stop is ``"\\n"`` alone.
    """
    name = other_metadata.get("tokenizer") or other_metadata.get("pretrained")
    revision = other_metadata.get("revision")
    stops = _stop_texts(
        name if isinstance(name, str) else None,
        revision if isinstance(revision, str) else None,
        other_metadata.get("trust_remote_code") is True,
    )
    splits = build_dataset(arith_task, num_problems, seed)
    return {
        split: dataset.map(lambda doc: {"answer_choices": [doc["answer"]] + [doc["answer"] + s for s in stops]})
        for split, dataset in splits.items()
    }


def process_generation(doc: dict, results: list[str]) -> dict[str, float]:
    """Per-sample metrics of a generation: ``exact_match``, ``token_edit_distance`` and both for L = 1..5."""
    return score_generation(results[0], doc["answer"])


def process_loglikelihood(doc: dict, results: list[tuple[float, bool]]) -> dict[str, float]:
    """Per-sample metrics from the ``(loglikelihood, is_greedy)`` of each of ``answer_choices``: ``target_log_prob``,
    ``per_char_prob`` and ``greedy_match`` of the answer, ``exact_answer_prob``, ``exact_answer_log_prob`` and
    ``greedy_exact_match`` of the answer followed by a stop (lm-eval scores each choice after the " " delimiter)."""
    (loglikelihood, is_greedy), *stops = results
    return score_loglikelihood(loglikelihood, is_greedy, arithmetic.TARGET_DELIMITER + doc["answer"], stops=stops)
