"""Dataset and scoring functions that the ``mirage_arith`` YAML configs name with ``!function``.

lm-eval passes ``--metadata`` (and ``metadata`` from the YAML) to :func:`build_dataset`
as keyword arguments, so ``--metadata '{"num_problems": 100000, "seed": 7}'``
changes the problem set without editing YAML. Scoring calls the metrics core
through :mod:`mirage_metrics.lm_eval_metrics`.

>>> splits = build_dataset(arith_task="2dm", num_problems=3, seed=1)
>>> splits["test"].num_rows, splits["test"][0]["problem_set_size"]
(3, 3)
>>> build_ll_dataset(arith_task="2dm", num_problems=1, seed=1234)["test"][0]["answer_choices"]
['1222', '1222\\n', '1', '12', '122']
>>> doc = {"answer": "12", "prefix_lengths": [1]}
>>> scores = process_loglikelihood(doc, [(-0.5, True), (-0.75, False), (-0.25, True)])
>>> scores["greedy_match"], scores["greedy_exact_match"], scores["exact_answer_log_prob"]
(1.0, 0.0, -0.75)
>>> [round(scores[f"prefix_prob_L{L}"], 3) for L in (1, 2, 3)]
[0.779, 0.607, nan]
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
def _tokenizer(tokenizer_name: str | None, revision: str | None, trust_remote_code: bool):
    """The named Hugging Face tokenizer, or None (no name, or it cannot be loaded: a warning says what that means)."""
    if tokenizer_name is None:
        return None
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(tokenizer_name, revision=revision, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as error:
        log.warning(
            "mirage_arith: no tokenizer %r (%s); exact_answer_prob counts only the stop '\\n', and prefix_prob_L "
            "scores every character prefix of the answer",
            tokenizer_name,
            error,
        )
        return None


@functools.lru_cache(maxsize=None)
def _stop_texts(tokenizer) -> tuple[str, ...]:
    """The stops of ``tokenizer`` (``stop_texts``), or the tokenizer-free ``("\\n",)``."""
    stops = tuple(arithmetic.stop_texts(tokenizer))
    if tokenizer is not None:
        log.info("mirage_arith: stops after an answer for tokenizer %r: %r", tokenizer.name_or_path, stops)
    return stops


def build_ll_dataset(
    arith_task: str,
    num_problems: int = arithmetic.DEFAULT_NUM_PROBLEMS,
    seed: int = arithmetic.DEFAULT_SEED,
    **other_metadata,
) -> dict[str, datasets.Dataset]:
    """:func:`build_dataset` with ``answer_choices`` per problem: the answer, then the answer followed by each stop,
    then the answer's proper prefixes that end where its tokens end, whose lengths ``prefix_lengths`` lists.

    The stops and token ends come from the tokenizer that lm-eval's model arguments name (``tokenizer``, else
    ``pretrained``, which lm-eval passes along as metadata); without one, the stop is ``"\\n"`` alone and every
    prefix is scored.
    """
    name = other_metadata.get("tokenizer") or other_metadata.get("pretrained")
    revision = other_metadata.get("revision")
    tokenizer = _tokenizer(
        name if isinstance(name, str) else None,
        revision if isinstance(revision, str) else None,
        other_metadata.get("trust_remote_code") is True,
    )
    stops = _stop_texts(tokenizer)
    token_ends = functools.lru_cache(maxsize=None)(lambda answer: arithmetic.answer_token_ends(answer, tokenizer))

    def choices(doc: dict) -> dict:
        answer = doc["answer"]
        prefix_lengths = token_ends(answer)[:-1]
        return {
            "answer_choices": [answer] + [answer + stop for stop in stops] + [answer[:n] for n in prefix_lengths],
            "prefix_lengths": prefix_lengths,
        }

    new_columns = {
        "answer_choices": datasets.Sequence(datasets.Value("string")),
        "prefix_lengths": datasets.Sequence(datasets.Value("int64")),  # typed: it may be empty in every row
    }
    return {
        split: dataset.map(choices, features=datasets.Features({**dataset.features, **new_columns}))
        for split, dataset in build_dataset(arith_task, num_problems, seed).items()
    }


def process_generation(doc: dict, results: list[str]) -> dict[str, float]:
    """Per-sample metrics of a generation: ``exact_match``, ``token_edit_distance`` and both for L = 1..5."""
    return score_generation(results[0], doc["answer"])


def process_loglikelihood(doc: dict, results: list[tuple[float, bool]]) -> dict[str, float]:
    """Per-sample metrics from the ``(loglikelihood, is_greedy)`` of each of ``answer_choices``: ``target_log_prob``,
    ``per_char_prob`` and ``greedy_match`` of the answer, ``exact_answer_prob``, ``exact_answer_log_prob`` and
    ``greedy_exact_match`` of the answer followed by a stop, and ``prefix_prob_L{L}`` of its first L characters for
    L = 1 .. MAX_ANSWER_LENGTH, NaN beyond the answer (lm-eval scores each choice after the " " delimiter)."""
    prefix_lengths = doc["prefix_lengths"]
    (loglikelihood, is_greedy), *rest = results
    stops, prefixes = rest[: len(rest) - len(prefix_lengths)], rest[len(rest) - len(prefix_lengths) :]
    return score_loglikelihood(
        loglikelihood,
        is_greedy,
        arithmetic.TARGET_DELIMITER + doc["answer"],
        stops=stops,
        prefixes={n: prefix_loglikelihood for n, (prefix_loglikelihood, _) in zip(prefix_lengths, prefixes)},
        lengths=range(1, arithmetic.MAX_ANSWER_LENGTH + 1),
    )
