"""What each metric is: which way is better, all-or-nothing or graded, its range, and how to label it.

The questions asked of the one table of declarations (:data:`mirage_metrics.metric_spec.SPECS`), by the task
configs (:mod:`mirage_metrics.task_configs`), the report (signs of emergence scores, which intervals, which
curves count as continuous), the verdicts, the vision studies and the meta-analysis. Each metric the project
computes is declared beside its function (``@metric_spec`` in :mod:`mirage_metrics.metrics` and
:mod:`mirage_metrics.lm_eval_metrics`); metrics it only reads (BIG-bench's score files, lm-eval's own ``acc`` and
perplexities, the vision studies' files) have no function here and are declared below as data. A metric name may
carry a length suffix (``exact_match_L3``) or an lm-eval filter (``exact_match,none``); both are ignored when
looking it up.

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

import re

from mirage_metrics import lm_eval_metrics, metrics  # noqa: F401  (their declarations fill the table)
from mirage_metrics.metric_spec import (
    CONTINUOUS,
    DISCONTINUOUS,
    SPECS,
    UNKNOWN,
    WHOLE_ANSWER,
    MetricInfo,
    declare,
    produced_by,
)

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
    "produced_by",
    "mirage_columns",
]

_INF = float("inf")

#: Every metric the project computes or reads, by base name (no ``_L{L}``, no ``,filter``): the declarations
#: beside the functions (:mod:`mirage_metrics.metrics`, :mod:`mirage_metrics.lm_eval_metrics`), then these.
METRICS: dict[str, MetricInfo] = SPECS

# Metrics the project only reads (no function here computes them), so declared here as data.
_READ_ONLY = [
    # BIG-bench's score files
    ("case_insensitive_str_match", True, DISCONTINUOUS, 0, 1, "exact string match (any case)", {"binary": True}),
    ("numeric_match_with_0_1_relative_error", True, DISCONTINUOUS, 0, 1, "numeric match (10%)", {"binary": True}),
    ("calibration_multiple_choice_brier_score", False, CONTINUOUS, 0, 1, "Brier score (BIG-bench, per option)", {}),
    ("expected_calibration_error", False, CONTINUOUS, 0, 1, "expected calibration error", {}),
    ("log_likelihood", True, CONTINUOUS, -_INF, 0, "log-likelihood", {}),
    ("bleu", True, CONTINUOUS, 0, 100, "BLEU", {}),
    ("bleurt", True, CONTINUOUS, -_INF, _INF, "BLEURT", {}),
    ("rouge1", True, CONTINUOUS, 0, 100, "ROUGE-1", {}),
    ("rouge2", True, CONTINUOUS, 0, 100, "ROUGE-2", {}),
    ("rougeLsum", True, CONTINUOUS, 0, 100, "ROUGE-Lsum", {}),
    ("sequence_f1", True, CONTINUOUS, 0, 100, "sequence F1", {}),
    ("macro_f1", True, CONTINUOUS, 0, 1, "macro F1", {}),
    # lm-eval's own metrics (a perplexity's per-sample values are log-likelihoods, aggregated into the range)
    ("acc", True, DISCONTINUOUS, 0, 1, "accuracy", {"binary": True}),
    ("acc_norm", True, DISCONTINUOUS, 0, 1, "accuracy (length-normalised)", {"binary": True}),
    ("acc_mutual_info", True, DISCONTINUOUS, 0, 1, "accuracy (mutual information)", {"binary": True}),
    ("perplexity", False, CONTINUOUS, 1, _INF, "perplexity", {"range_per_sample": False}),
    ("word_perplexity", False, CONTINUOUS, 1, _INF, "word perplexity", {"range_per_sample": False}),
    ("byte_perplexity", False, CONTINUOUS, 1, _INF, "byte perplexity", {"range_per_sample": False}),
    ("bits_per_byte", False, CONTINUOUS, 0, _INF, "bits per byte", {"range_per_sample": False}),
    # the vision studies' prediction files (mirage_metrics.vision)
    ("image_accuracy", True, CONTINUOUS, 0, 1, "per-image accuracy over the first L", {"by_length": True}),
    ("mse", False, CONTINUOUS, 0, _INF, "mean squared error", {}),
]
for _name, _higher, _kind, _low, _high, _label, _details in _READ_ONLY:
    declare(_name, _higher, _kind, _low, _high, label=_label, **_details)


def mirage_columns() -> dict[str, str]:
    """The metrics the mirage fit predicts by length (the paper's Fig 3 panels), each with its column of
    :func:`mirage_metrics.mirage_fit.mirage_predictions`.

    >>> mirage_columns()
    {'exact_match': 'accuracy', 'token_edit_distance': 'token_edit_distance'}
    """
    return {name: info.mirage_column for name, info in METRICS.items() if info.mirage_column}


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
