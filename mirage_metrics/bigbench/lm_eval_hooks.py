"""lm-eval hooks of the ``mirage_bb_*`` tasks: documents, per-sample metrics, the BIG-bench Brier aggregate.

``tasks/bigbench/utils.py`` re-exports these for the YAML configs. Every metric
value comes from :mod:`mirage_metrics.metrics`; this module only reshapes
lm-eval's results for it.

All three forms condition the model on the same tokens. lm-eval's loglikelihood
requests (``mc``, ``ll``) move the prompt's trailing whitespace (the space of
``"\\nA: "``) into the scored continuation; a ``gen`` prompt therefore ends
before that whitespace too (``"\\nA:"``), its shots read ``"\\nA: answer"``, and
the generation loses that whitespace (``answer_prefix``) from its start, when it
begins with it, before BIG-bench's post-processing. The ``gen`` tasks do both in an
lm-eval filter (:class:`BigbenchOutputFilter`), so each logged sample holds the raw
generation (``resps``) and the text scored (``filtered_resps``).

>>> doc = {"target_scores": [1.0, 0.0], "absolute_normalization": False}
>>> out = process_results_mc(doc, [(-0.1, True), (-2.0, False)])
>>> out["multiple_choice_grade"], round(out["p_correct"], 3), out["log_p_correct"]
(1.0, 0.87, -0.1)
>>> round(aggregate_bigbench_brier([out["bigbench_brier_score"]]), 4) == round(out["brier_score"] / 2, 4)
True
"""

from __future__ import annotations

import datasets
import numpy as np
from lm_eval.api.filter import Filter

from mirage_metrics.bigbench.reader import JsonTask, load_task, postprocess_output
from mirage_metrics.lm_eval_metrics import score_loglikelihood, scored_continuation
from mirage_metrics.metrics import (
    bigbench_brier_score,
    brier_score,
    choice_probs,
    correct_choice_log_prob,
    exact_match,
    multiple_choice_grade,
    token_edit_distance,
)

__all__ = [
    "load_docs",
    "task_docs",
    "process_results_mc",
    "bigbench_output",
    "BigbenchOutputFilter",
    "process_results_gen",
    "process_results_ll",
    "aggregate_bigbench_brier",
]


def _doc(task: JsonTask, form: str, example: dict, index: int) -> dict:
    doc = {
        "id": index,
        "input": example["input"],
        "prompt": task.render_input(example),
        "task_prefix": task.task_prefix,
        "answer": task.answer(example),
    }
    if form == "mc":
        choices = task.choices(example)
        doc["choices"] = choices
        doc["target_scores"] = [float(example["target_scores"][c]) for c in choices]
        doc["answer_index"] = choices.index(doc["answer"])
        doc["absolute_normalization"] = task.absolute_normalization
    else:
        doc["targets"] = task.targets(example)
        doc["answer"] = doc["targets"][0]
        doc["stop_string"] = task.stop_string or ""
        doc["output_regex"] = task.effective_output_regex or ""
    if form == "gen":  # end where lm-eval's loglikelihood contexts end (it moves trailing whitespace out)
        context = doc["prompt"].rstrip()
        doc["answer_prefix"] = doc["prompt"][len(context) :]
        doc["prompt"] = context
        doc["shot_answer"] = doc["answer_prefix"] + doc["answer"]
    return doc


def task_docs(task: JsonTask, form: str) -> dict[str, list[dict]]:
    """``{"train": shot docs, "test": evaluated docs}`` of one form, ready for lm-eval.

    >>> task = JsonTask(name="t", examples=[{"input": f"{i}?", "target": str(i)} for i in range(4)])
    >>> docs = task_docs(task, "gen")
    >>> len(docs["train"]), len(docs["test"]), docs["test"][0]["prompt"], docs["test"][0]["shot_answer"]
    (1, 3, '\\nQ: 0?\\nA:', ' 0')
    >>> task_docs(task, "ll")["test"][0]["prompt"]
    '\\nQ: 0?\\nA: '
    """
    shots, evaluated = task.split(form)
    index = {id(e): i for i, e in enumerate(task.examples)}
    return {
        "train": [_doc(task, form, e, index[id(e)]) for e in shots],
        "test": [_doc(task, form, e, index[id(e)]) for e in evaluated],
    }


def load_docs(
    bigbench_task: str, form: str, bigbench_subtask: str | None = None, bigbench_dir: str | None = None, **_metadata
) -> datasets.DatasetDict:
    """lm-eval ``custom_dataset``: called with the task's ``dataset_kwargs`` and ``--metadata``."""
    task = load_task(bigbench_task, bigbench_subtask, bigbench_dir)
    return datasets.DatasetDict(
        {split: datasets.Dataset.from_list(docs) for split, docs in task_docs(task, form).items()}
    )


def process_results_mc(doc: dict, results) -> dict:
    """Per-sample metrics of a multiple-choice doc from lm-eval's ``[(loglikelihood, is_greedy), ...]``.

    ``multiple_choice_grade`` breaks ties as BIG-bench does for the task's
    ``absolute_normalization`` flag; ``brier_score`` is BIG-bench's per-sample sum
    (see :func:`mirage_metrics.metrics.brier_score`).
    """
    lls = [float(ll) for ll, _ in results]
    scores = [float(s) for s in doc["target_scores"]]
    absolute = bool(doc["absolute_normalization"])
    return {
        "multiple_choice_grade": float(multiple_choice_grade([lls], [scores], absolute_normalization=absolute)[0]),
        "brier_score": float(brier_score(choice_probs([lls]), [scores])[0]),
        "p_correct": float(np.exp(correct_choice_log_prob([lls], [scores])[0])),
        "log_p_correct": float(correct_choice_log_prob([lls], [scores], normalise=False)[0]),
        "bigbench_brier_score": (lls, scores),
    }


def aggregate_bigbench_brier(items) -> float:
    """BIG-bench's Brier score over the ``(loglikelihoods, target_scores)`` pairs of all samples."""
    loglikelihoods, scores = zip(*items)
    return bigbench_brier_score(list(loglikelihoods), list(scores))


def bigbench_output(doc: dict, generation: str) -> str:
    """The generation as BIG-bench scores it: less the prompt's moved whitespace, then BIG-bench's post-processing.

    >>> doc = {"answer_prefix": " ", "stop_string": "", "output_regex": "[^\\\\.\\\\n]+"}
    >>> bigbench_output(doc, " Paris. More"), bigbench_output(doc, "  Paris"), bigbench_output(doc, "\\nParis\\nQ:")
    ('Paris', ' Paris', 'Paris')
    """
    prefix = doc["answer_prefix"]
    if prefix and generation.startswith(prefix):
        generation = generation[len(prefix) :]
    return postprocess_output(generation, doc["stop_string"] or None, doc["output_regex"] or None)


class BigbenchOutputFilter(Filter):
    """The lm-eval filter of the ``gen`` tasks: every generation of a doc as BIG-bench scores it (:func:`bigbench_output`).

    >>> doc = {"answer_prefix": " ", "stop_string": "", "output_regex": "[^\\\\.\\\\n]+"}
    >>> BigbenchOutputFilter().apply([[" 72 + 42 = 114. Q: 3 + 4?"]], [doc])
    [['72 + 42 = 114']]
    """

    def apply(self, resps, docs):
        return [
            [bigbench_output(doc, generation) for generation in generations] for generations, doc in zip(resps, docs)
        ]


def process_results_gen(doc: dict, results) -> dict:
    """Per-sample metrics of a post-processed generation against the closest of the doc's targets.

    ``results`` is ``[output]``: the generation after :class:`BigbenchOutputFilter`
    (lm-eval's ``filtered_resps``). ``exact_str_match`` is BIG-bench's rule: that
    output equals a target exactly, whitespace included.
    ``exact_str_match_stripped`` strips output and targets first (a lenient
    variant, not BIG-bench's), and ``exact_str_match_ignore_case`` also
    lower-cases them (BIG-bench's ``case_insensitive_str_match`` rule). Both edit
    distances compare the exact output, so a distance of 0 is an exact match.

    >>> doc = {"targets": ["Paris", "paris france"]}
    >>> process_results_gen(doc, ["Pariss"])
    {'exact_str_match': 0.0, 'exact_str_match_stripped': 0.0, 'exact_str_match_ignore_case': 0.0, 'token_edit_distance': 1.0, 'token_edit_distance_words': 1.0}
    >>> out = process_results_gen(doc, [" PARIS"])
    >>> out["exact_str_match"], out["exact_str_match_stripped"], out["exact_str_match_ignore_case"]
    (0.0, 0.0, 1.0)
    """
    (output,) = results
    targets = list(doc["targets"])
    outputs = [output] * len(targets)
    return {
        "exact_str_match": float(exact_match(outputs, targets, strip=False).max()),
        "exact_str_match_stripped": float(exact_match(outputs, targets).max()),
        "exact_str_match_ignore_case": float(exact_match(outputs, targets, ignore_case=True).max()),
        "token_edit_distance": float(token_edit_distance(outputs, targets, strip=False).min()),
        "token_edit_distance_words": float(
            token_edit_distance(outputs, targets, tokenizer="whitespace", strip=False).min()
        ),
    }


def process_results_ll(doc: dict, results) -> dict:
    """log p(first target | prompt), its per-character probability, and whether greedy decoding gives it.

    The same scorer as the arithmetic tasks (:func:`mirage_metrics.lm_eval_metrics.score_loglikelihood`), over
    the continuation lm-eval really scores: the prompt's trailing space and the answer, so per character
    of ``" ab"`` (3).

    >>> out = process_results_ll({"prompt": "\\nQ: x\\nA: ", "answer": "ab"}, [(np.log(0.125), False)])
    >>> round(out["target_log_prob"], 4), round(out["per_char_prob"], 4), out["greedy_match"]
    (-2.0794, 0.5, 0.0)
    """
    loglikelihood, is_greedy = results[0]
    return score_loglikelihood(loglikelihood, is_greedy, scored_continuation(doc["prompt"], doc["answer"]))
