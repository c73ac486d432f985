"""lm-evaluation-harness adapters: per-sample mirage metrics for any lm-eval task, computed by the core.

Two ways in:

* **Metric hooks** for a ``generate_until`` task without ``process_results``. In its
  ``metric_list``::

      - metric: !function mirage_metrics.lm_eval_metrics.token_edit_distance
        aggregation: mean
        higher_is_better: false
      - metric: !function mirage_metrics.lm_eval_metrics.prefix_metrics
        aggregation: !function mirage_metrics.lm_eval_metrics.nanmean
        higher_is_better: true

  lm-eval calls each hook once per sample as ``fn(references=[gold],
  predictions=[output], **options)``, where ``options`` are the entry's other
  keys (e.g. ``tokenizer: whitespace`` or ``lengths: [1, 2, 3]``); the metric is
  named after the function, and a hook returning a dict gives one metric per key.
  lm-eval records the entry's single ``higher_is_better`` for every key of such a
  dict (``prefix_metrics`` gives ``exact_match_L*``, higher is better, and
  ``token_edit_distance_L*``, lower is better); ``mirage report`` takes each
  metric's direction from :mod:`mirage_metrics.registry` and uses lm-eval's flag
  only for names the registry does not know.

* **Scorers** for a task's ``process_results``: :func:`score_generation` and
  :func:`score_loglikelihood` return the whole per-sample dict.

Predictions and references are stripped of surrounding whitespace (lm-eval
generations usually start with the space after ``A:``); the hooks also take
lm-eval's ``exact_match`` options ``regexes_to_ignore``, ``ignore_case`` and
``ignore_punctuation``, applied to both sides first.

>>> token_edit_distance(references=["1008"], predictions=[" 1018"])
1
>>> prefix_metrics(references=["1008"], predictions=["1018"], lengths=[2])
{'exact_match_L2': 1.0, 'token_edit_distance_L2': 0.0}
"""

from __future__ import annotations

import re
import string

import numpy as np

from mirage_metrics import metrics
from mirage_metrics.metric_spec import DISCONTINUOUS, WHOLE_ANSWER, metric_spec, produced_by
from mirage_metrics.task_forms import ARITH_GEN, ARITH_LL, BIGBENCH_LL
from mirage_metrics.validation import check_strings, check_whole_numbers

__all__ = [
    "PREFIX_LENGTHS",
    "exact_match",
    "token_edit_distance",
    "prefix_metrics",
    "score_generation",
    "scored_continuation",
    "score_loglikelihood",
    "nanmean",
]

PREFIX_LENGTHS = (1, 2, 3, 4, 5)


def _prepared(references, predictions, regexes_to_ignore=(), ignore_case=False, ignore_punctuation=False):
    """Stripped texts, normalised as lm-eval's ``exact_match`` options do (regexes, then case, then punctuation)."""
    texts = [check_strings(references, "references"), check_strings(predictions, "predictions")]
    for pattern in regexes_to_ignore:
        texts = [[re.sub(pattern, "", text) for text in side] for side in texts]
    if ignore_case:
        texts = [[text.lower() for text in side] for side in texts]
    if ignore_punctuation:
        table = str.maketrans("", "", string.punctuation)
        texts = [[text.translate(table) for text in side] for side in texts]
    return [[text.strip() for text in side] for side in texts]


def exact_match(references, predictions, **normalisation) -> float:
    """lm-eval metric hook: 1.0 when the normalised output equals the normalised reference.

    ``normalisation``: lm-eval's ``regexes_to_ignore``, ``ignore_case``, ``ignore_punctuation``.

    >>> exact_match(references=["Paris."], predictions=[" paris\\n"], ignore_case=True, ignore_punctuation=True)
    1.0
    """
    references, predictions = _prepared(references, predictions, **normalisation)
    return float(metrics.exact_match(predictions, references)[0])


def token_edit_distance(references, predictions, tokenizer: str = "char", **normalisation) -> int:
    """lm-eval metric hook: Levenshtein distance between output and reference tokens (characters by default).

    >>> token_edit_distance(references=["the cat sat"], predictions=["the dog sat"], tokenizer="whitespace")
    1
    >>> token_edit_distance(references=["2 + 3 = 5 #### 5"], predictions=["5"], regexes_to_ignore=["(?s).*#### "])
    0
    """
    references, predictions = _prepared(references, predictions, **normalisation)
    return int(metrics.token_edit_distance(predictions, references, tokenizer=tokenizer)[0])


def prefix_metrics(references, predictions, lengths=PREFIX_LENGTHS, **normalisation) -> dict[str, float]:
    """lm-eval metric hook: ``exact_match_L{L}`` and ``token_edit_distance_L{L}`` on the first L characters.

    NaN where the reference is shorter than L: aggregate with :func:`nanmean`.

    >>> prefix_metrics(references=["7"], predictions=["7"], lengths=[1, 2])["exact_match_L2"]
    nan
    """
    references, predictions = _prepared(references, predictions, **normalisation)
    return {name: float(values[0]) for name, values in metrics.prefix_metrics(predictions, references, lengths).items()}


def score_generation(prediction: str, reference: str, lengths=PREFIX_LENGTHS) -> dict[str, float]:
    """Every metric declared for :data:`~mirage_metrics.task_forms.ARITH_GEN` on one generation, and each by-length
    one on the first L characters for L in ``lengths``: exact match, edit distance and any metric added with
    ``@metric_spec(..., produced_by=(ARITH_GEN,))``, called as ``function([prediction], [reference])`` on the
    stripped texts.

    The by-length values of ``exact_match`` and ``token_edit_distance`` come from
    :func:`mirage_metrics.metrics.prefix_metrics`; another by-length metric is the function on the first L
    characters, NaN where the reference is shorter than L.

    >>> scores = score_generation(" 1018", "1008")
    >>> scores["exact_match"], scores["token_edit_distance"], scores["exact_match_L2"], scores["exact_match_L3"]
    (0.0, 1, 1.0, 0.0)
    """
    (reference,), (prediction,) = _prepared([reference], [prediction])
    specs = produced_by(ARITH_GEN)
    scores = {
        info.name: np.asarray(info.function([prediction], [reference]))[0].item() for info in specs if info.overall
    }
    by_length = [info for info in specs if info.by_length]
    prefixes = metrics.prefix_metrics([prediction], [reference], lengths)
    for L in lengths:
        for info in by_length:
            name = f"{info.name}_L{L}"
            if name in prefixes:
                scores[name] = float(prefixes[name][0])
            else:
                cut = [prediction[:L]], [reference[:L]]
                scores[name] = float("nan") if len(reference) < L else float(np.asarray(info.function(*cut))[0])
    return scores


def scored_continuation(context: str, target: str) -> str:
    """The text lm-eval scores for ``target`` after ``context``: the context's trailing whitespace moves into
    the continuation (lm-eval's ``_encode_pair``), so ``"A: "`` then ``"12"`` is scored as ``" 12"``.

    >>> scored_continuation("Q: 3 + 9?\\nA: ", "12"), scored_continuation("Q: 3 + 9? A:", " 12")
    (' 12', ' 12')
    """
    spaces = len(context) - len(context.rstrip())
    return context[len(context) - spaces :] + target


@metric_spec(
    "prefix_prob",
    True,
    WHOLE_ANSWER,
    0,
    1,
    by_length=True,
    label="p(answer's first L characters)",
    produced_by=(ARITH_LL,),
    overall=False,
)
@metric_spec(
    "greedy_exact_match",
    True,
    DISCONTINUOUS,
    0,
    1,
    label="greedy decoding gives the answer, then stops",
    binary=True,
    produced_by=(ARITH_LL,),
)
@metric_spec(
    "exact_answer_prob",
    True,
    WHOLE_ANSWER,
    0,
    1,
    label="p(temperature-1 sample is the answer)",
    produced_by=(ARITH_LL,),
)
@metric_spec(
    "greedy_match",
    True,
    DISCONTINUOUS,
    0,
    1,
    label="greedy decoding gives the answer's tokens",
    binary=True,
    produced_by=(ARITH_LL, BIGBENCH_LL),
)
def score_loglikelihood(
    loglikelihood: float, is_greedy: bool, continuation: str, stops=(), prefixes=None, lengths=None
) -> dict[str, float]:
    """The likelihood metrics of one sample from lm-eval's ``(loglikelihood, is_greedy)`` of ``continuation``.

    ``continuation`` is the text exactly as scored, e.g. ``" 12"``: lm-eval moves a
    context's trailing space into the continuation, so the space before an answer is
    always scored with it. ``target_log_prob`` is log p(continuation), ``per_char_prob``
    is exp(target_log_prob / characters of the continuation, the space included: 3
    for ``" 12"``), the per-token probability for a character-level tokenizer, and
    ``greedy_match`` is 1.0 when greedy decoding begins with the continuation's tokens.

    ``stops``: ``(loglikelihood, is_greedy)`` of the continuation followed by each stop
    (e.g. ``" 12\\n"``), stops that are disjoint events (see
    :func:`mirage_metrics.arithmetic.stop_texts`). They add
    ``exact_answer_prob``, the probability that sampling at temperature 1 writes
    exactly the continuation and stops, and its log ``exact_answer_log_prob``
    (:func:`mirage_metrics.metrics.exact_answer_log_prob`), and
    ``greedy_exact_match``, 1.0 when greedy decoding writes exactly the
    continuation and stops.

    ``prefixes``: ``{n: loglikelihood}`` of the continuation cut after the first n
    characters of its answer (the continuation without its leading whitespace),
    for the n < len(answer) where the scored tokens end (every n for a
    character-level tokenizer; see :func:`mirage_metrics.arithmetic.answer_token_ends`).
    They add ``prefix_prob_L{L}`` for each L in ``lengths`` (default 1 ..
    len(answer)): exp of the log-likelihood of the shortest scored cut holding
    the first L characters, the whole continuation (``loglikelihood``) for
    L = len(answer), and NaN where L > len(answer), as ``exact_match_L{L}``.

    >>> score_loglikelihood(-2.0794415416798357, True, " 12")
    {'target_log_prob': -2.0794415416798357, 'per_char_prob': 0.5, 'greedy_match': 1.0}
    >>> scores = score_loglikelihood(-0.5, True, " 12", stops=[(-2.0, False), (-1.0, True)])
    >>> round(scores["exact_answer_prob"], 4), scores["greedy_exact_match"]
    (0.5032, 1.0)
    >>> scores = score_loglikelihood(np.log(0.25), True, " 123", prefixes={1: np.log(0.5)}, lengths=[1, 2, 3, 4])
    >>> [round(scores[f"prefix_prob_L{L}"], 4) for L in (1, 2, 3, 4)]
    [0.5, 0.25, 0.25, nan]
    """
    characters = len(check_strings([continuation], "continuation")[0])
    if characters == 0:
        raise ValueError("continuation is empty; pass the scored text, e.g. ' ' + answer")
    scores = {
        "target_log_prob": float(metrics.target_log_prob([loglikelihood])[0]),
        "per_char_prob": float(metrics.per_token_prob([loglikelihood], [characters])[0]),
        "greedy_match": float(bool(is_greedy)),
    }
    if len(stops):
        stop_log_probs = [float(stop_loglikelihood) for stop_loglikelihood, _ in stops]
        exact_log_prob = float(metrics.exact_answer_log_prob([stop_log_probs])[0])
        scores["exact_answer_log_prob"] = exact_log_prob
        scores["exact_answer_prob"] = float(np.exp(exact_log_prob))
        scores["greedy_exact_match"] = float(any(bool(stop_is_greedy) for _, stop_is_greedy in stops))
    if prefixes is not None:
        scores.update(_prefix_probs(loglikelihood, continuation.lstrip(), prefixes, lengths))
    return scores


def _prefix_probs(loglikelihood: float, answer: str, prefixes, lengths) -> dict[str, float]:
    """``prefix_prob_L{L}`` of :func:`score_loglikelihood`."""
    cuts = dict(prefixes)
    if not all(isinstance(n, int | np.integer) and 0 < n < len(answer) for n in cuts):
        raise ValueError(f"prefixes must be keyed by answer lengths 1 .. {len(answer) - 1}, got {sorted(cuts)}")
    log_probs = dict(zip([*cuts, len(answer)], metrics.target_log_prob([*cuts.values(), loglikelihood]).tolist()))
    lengths = range(1, len(answer) + 1) if lengths is None else check_whole_numbers(lengths, "lengths").tolist()
    return {
        f"prefix_prob_L{L}": float(np.exp(log_probs[min(n for n in log_probs if n >= L)]))
        if L <= len(answer)
        else float("nan")
        for L in lengths
    }


def nanmean(values) -> float:
    """lm-eval aggregation: the mean of the non-NaN values (NaN when there are none).

    Unlike lm-eval's registered ``nanmean``, lm-eval does not bootstrap this one
    (100,000 resamples per metric, minutes per task); confidence intervals come
    from the per-sample values (``mirage report``).

    >>> nanmean([1.0, float("nan"), 0.0]), nanmean([float("nan")])
    (0.5, nan)
    """
    array = np.asarray(values, dtype=float)
    finite = array[~np.isnan(array)]
    return float(finite.mean()) if finite.size else float("nan")
