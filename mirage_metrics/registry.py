"""What each metric is: which way is better, all-or-nothing or graded, its range, and how to label it.

One table, read by the lm-eval task configs' tests, the report (signs of
emergence scores, which intervals, which curves count as continuous), the
verdicts, the vision studies and the meta-analysis. A metric name may carry a
length suffix (``exact_match_L3``) or an lm-eval filter (``exact_match,none``);
both are ignored when looking it up.

``kind`` is ``"discontinuous"`` (each sample scores all or nothing, or a
grade of the one chosen answer), ``"continuous"`` (partial credit, a
probability or a distance), ``"whole-answer probability"`` (the probability of
getting every character of the answer right: a product of per-character
probabilities, all or nothing in probability space, which jumps for the same
reason exact match does) or ``"unknown"``. A name not in the table is never
guessed: :func:`metric_info` gives it ``kind="unknown"`` and the direction the
caller passes (lm-eval's own ``higher_is_better`` from the results file), or
``higher_is_better=None`` when there is none.

>>> metric_info("token_edit_distance_L3").higher_is_better
False
>>> metric_info("exact_match,flexible-extract").kind
'discontinuous'
>>> info = metric_info("my_new_score", higher_is_better=True)
>>> info.kind, info.higher_is_better
('unknown', True)
>>> direction("brier_score"), direction("per_char_prob"), direction("mystery")
(-1.0, 1.0, nan)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = [
    "MetricInfo",
    "METRICS",
    "DISCONTINUOUS",
    "CONTINUOUS",
    "WHOLE_ANSWER",
    "UNKNOWN",
    "base_name",
    "metric_info",
    "direction",
    "is_discontinuous",
    "is_continuous",
    "label",
]

DISCONTINUOUS = "discontinuous"
CONTINUOUS = "continuous"
WHOLE_ANSWER = "whole-answer probability"
UNKNOWN = "unknown"
_INF = math.inf


@dataclass(frozen=True)
class MetricInfo:
    """One metric: ``higher_is_better`` (None when unknown), ``kind``, value range (``binary``: each sample scores
    0 or 1; ``range_per_sample``: each sample's value lies in the range too, not only the aggregate), by-length or
    not, plot label."""

    name: str
    higher_is_better: bool | None
    kind: str
    low: float = -_INF
    high: float = _INF
    by_length: bool = False
    label: str = ""
    binary: bool = False
    range_per_sample: bool = True

    @property
    def sign(self) -> float:
        """+1 when higher is better, −1 when lower is better, NaN when the direction is unknown."""
        if self.higher_is_better is None:
            return math.nan
        return 1.0 if self.higher_is_better else -1.0


def _entry(name, higher_is_better, kind, low=-_INF, high=_INF, by_length=False, text="", **flags):
    return name, MetricInfo(name, higher_is_better, kind, low, high, by_length, text or name.replace("_", " "), **flags)


#: Every metric the project computes or reads, by base name (no ``_L{L}``, no ``,filter``).
METRICS: dict[str, MetricInfo] = dict(
    [
        # mirage_arith and any generate_until task (mirage_metrics.lm_eval_metrics)
        _entry("exact_match", True, DISCONTINUOUS, 0, 1, by_length=True, text="exact match", binary=True),
        _entry("token_edit_distance", False, CONTINUOUS, 0, _INF, by_length=True, text="token edit distance"),
        _entry("target_log_prob", True, CONTINUOUS, -_INF, 0, text="log p(answer tokens)"),
        _entry("exact_answer_log_prob", True, CONTINUOUS, -_INF, 0, text="log p(answer, then stop)"),
        _entry("exact_answer_prob", True, CONTINUOUS, 0, 1, text="p(temperature-1 sample is the answer)"),
        _entry("per_char_prob", True, CONTINUOUS, 0, 1, text="per-character probability"),
        _entry("prefix_prob", True, CONTINUOUS, 0, 1, by_length=True, text="p(answer's first L characters)"),
        _entry("per_char_loss", False, CONTINUOUS, 0, _INF, text="per-character loss"),
        _entry(
            "greedy_match", True, DISCONTINUOUS, 0, 1, text="greedy decoding gives the answer's tokens", binary=True
        ),
        _entry(
            "greedy_exact_match",
            True,
            DISCONTINUOUS,
            0,
            1,
            text="greedy decoding gives the answer, then stops",
            binary=True,
        ),
        # BIG-bench tasks (mirage_metrics.bigbench) and BIG-bench's own score files
        _entry("exact_str_match", True, DISCONTINUOUS, 0, 1, text="exact string match", binary=True),
        _entry(
            "exact_str_match_stripped", True, DISCONTINUOUS, 0, 1, text="exact string match (stripped)", binary=True
        ),
        _entry(
            "exact_str_match_ignore_case", True, DISCONTINUOUS, 0, 1, text="exact string match (any case)", binary=True
        ),
        _entry(
            "case_insensitive_str_match", True, DISCONTINUOUS, 0, 1, text="exact string match (any case)", binary=True
        ),
        _entry(
            "numeric_match_with_0_1_relative_error", True, DISCONTINUOUS, 0, 1, text="numeric match (10%)", binary=True
        ),
        _entry("multiple_choice_grade", True, DISCONTINUOUS, 0, 1, text="multiple choice grade"),
        _entry("token_edit_distance_words", False, CONTINUOUS, 0, _INF, text="word edit distance"),
        _entry("brier_score", False, CONTINUOUS, 0, 2, text="Brier score"),
        _entry("bigbench_brier_score", False, CONTINUOUS, 0, 1, text="Brier score (BIG-bench, per option)"),
        _entry(
            "calibration_multiple_choice_brier_score",
            False,
            CONTINUOUS,
            0,
            1,
            text="Brier score (BIG-bench, per option)",
        ),
        _entry("expected_calibration_error", False, CONTINUOUS, 0, 1, text="expected calibration error"),
        _entry("p_correct", True, CONTINUOUS, 0, 1, text="probability of the correct choice"),
        _entry("log_p_correct", True, CONTINUOUS, -_INF, 0, text="log p(correct choice)"),
        _entry("log_likelihood", True, CONTINUOUS, -_INF, 0, text="log-likelihood"),
        _entry("bleu", True, CONTINUOUS, 0, 100, text="BLEU"),
        _entry("bleurt", True, CONTINUOUS, text="BLEURT"),
        _entry("rouge1", True, CONTINUOUS, 0, 100, text="ROUGE-1"),
        _entry("rouge2", True, CONTINUOUS, 0, 100, text="ROUGE-2"),
        _entry("rougeLsum", True, CONTINUOUS, 0, 100, text="ROUGE-Lsum"),
        _entry("sequence_f1", True, CONTINUOUS, 0, 100, text="sequence F1"),
        _entry("macro_f1", True, CONTINUOUS, 0, 1, text="macro F1"),
        # lm-eval's own metrics (a perplexity's per-sample values are log-likelihoods, aggregated into the range)
        _entry("acc", True, DISCONTINUOUS, 0, 1, text="accuracy", binary=True),
        _entry("acc_norm", True, DISCONTINUOUS, 0, 1, text="accuracy (length-normalised)", binary=True),
        _entry("acc_mutual_info", True, DISCONTINUOUS, 0, 1, text="accuracy (mutual information)", binary=True),
        _entry("perplexity", False, CONTINUOUS, 1, _INF, text="perplexity", range_per_sample=False),
        _entry("word_perplexity", False, CONTINUOUS, 1, _INF, text="word perplexity", range_per_sample=False),
        _entry("byte_perplexity", False, CONTINUOUS, 1, _INF, text="byte perplexity", range_per_sample=False),
        _entry("bits_per_byte", False, CONTINUOUS, 0, _INF, text="bits per byte", range_per_sample=False),
        # vision studies (mirage_metrics.vision)
        _entry(
            "subset_accuracy",
            True,
            DISCONTINUOUS,
            0,
            1,
            by_length=True,
            text="all of the first L images correct",
            binary=True,
        ),
        _entry("image_accuracy", True, CONTINUOUS, 0, 1, by_length=True, text="per-image accuracy over the first L"),
        _entry("reconstruction_c", True, DISCONTINUOUS, 0, 1, text="Reconstruction_c (fraction with MSE < c)"),
        _entry("mse", False, CONTINUOUS, 0, _INF, text="mean squared error"),
        _entry("mean_squared_error", False, CONTINUOUS, 0, _INF, text="mean squared error"),
    ]
)

_LENGTH_SUFFIX = re.compile(r"_L\d+$")


def base_name(metric: str) -> str:
    """``metric`` without an lm-eval filter (``,none``) and without a length suffix (``_L3``).

    >>> base_name("token_edit_distance_L3,none"), base_name("exact_match_flex")
    ('token_edit_distance', 'exact_match_flex')
    """
    return _LENGTH_SUFFIX.sub("", str(metric).split(",")[0])


def metric_info(metric: str, higher_is_better: bool | None = None) -> MetricInfo:
    """The registry's entry for ``metric``; for an unknown name, ``kind="unknown"`` with the given direction.

    ``higher_is_better`` is only a fallback (lm-eval's own flag from a results
    file): a known metric keeps the registry's direction, since lm-eval gives one
    flag to every key of a dict-returning hook.
    """
    name = base_name(metric)
    known = METRICS.get(name)
    if known is not None:
        return known
    fallback = None if higher_is_better is None else bool(higher_is_better)
    return MetricInfo(name, fallback, UNKNOWN, label=name.replace("_", " "))


def direction(metric: str, higher_is_better: bool | None = None) -> float:
    """+1 (higher is better), −1 (lower is better) or NaN (unknown): the sign that makes "better" positive."""
    return metric_info(metric, higher_is_better).sign


def is_discontinuous(metric: str) -> bool:
    """Whether ``metric`` scores each sample all or nothing (exact match, multiple-choice grade, …).

    >>> is_discontinuous("exact_str_match_ignore_case"), is_discontinuous("token_edit_distance_L1")
    (True, False)
    """
    return metric_info(metric).kind == DISCONTINUOUS


def is_continuous(metric: str) -> bool:
    """Whether ``metric`` gives partial credit (a distance, a probability, a loss); False for unknown names.

    >>> is_continuous("brier_score"), is_continuous("acc"), is_continuous("mystery")
    (True, False, False)
    """
    return metric_info(metric).kind == CONTINUOUS


def label(metric: str) -> str:
    """A plot label: the registry's text, with "(lower is better)" where smaller values are better.

    >>> label("token_edit_distance"), label("exact_match")
    ('token edit distance (lower is better)', 'exact match')
    """
    info = metric_info(metric)
    return f"{info.label} (lower is better)" if info.higher_is_better is False else info.label
