"""The one declaration of each metric: :func:`metric_spec` on the function that computes it.

As lm-eval's ``@register_metric``: the decorator records a :class:`MetricInfo`
(direction, kind, range, label, by length or not, which task forms produce it) in
:data:`SPECS` and returns the function unchanged. Everything else reads that
table: :mod:`mirage_metrics.registry` (the report's signs, kinds and labels), the
``mirage_arith`` generation hook (:func:`mirage_metrics.lm_eval_metrics.score_generation`
computes every metric declared for :data:`~mirage_metrics.task_forms.ARITH_GEN`), and
the task configs' ``metric_list`` (:mod:`mirage_metrics.task_configs` writes them).

A function may carry several declarations when it computes several metrics
(``correct_choice_log_prob`` gives ``p_correct`` and ``log_p_correct``); stacked
decorators apply from the function outwards, so the one nearest the ``def`` is
declared first (the order of the task configs' ``metric_list``).

>>> @metric_spec(name="doc_example_score", higher_is_better=True, kind=CONTINUOUS, low=0, high=1)
... def doc_example_score(predictions, references):
...     return [0.5] * len(predictions)
>>> SPECS["doc_example_score"].label, SPECS["doc_example_score"].function is doc_example_score
('doc example score', True)
>>> del SPECS["doc_example_score"]
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Callable

__all__ = [
    "DISCONTINUOUS",
    "CONTINUOUS",
    "WHOLE_ANSWER",
    "UNKNOWN",
    "KINDS",
    "MetricInfo",
    "SPECS",
    "metric_spec",
    "declare",
    "produced_by",
]

DISCONTINUOUS = "discontinuous"
CONTINUOUS = "continuous"
WHOLE_ANSWER = "whole-answer probability"
UNKNOWN = "unknown"
#: The kinds a declaration may give (``UNKNOWN`` is only for names nobody declared).
KINDS = (DISCONTINUOUS, CONTINUOUS, WHOLE_ANSWER)
_INF = math.inf
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class MetricInfo:
    """One metric: ``higher_is_better`` (None when unknown), ``kind``, value range (``binary``: each sample scores
    0 or 1; ``range_per_sample``: each sample's value lies in the range too, not only the aggregate), by-length or
    not (``<name>_L{L}`` variants), plot label; ``produced_by``: the task producers
    (:data:`mirage_metrics.task_forms.PRODUCERS`) that give it, empty for a library-only or read-only metric;
    ``aggregation``: lm-eval's aggregation in the task configs (``""``: the mean, NaN-skipping by length);
    ``overall``: False for a by-length metric with no value on the whole answer (``prefix_prob``);
    ``mirage_column``: the column of :func:`mirage_metrics.mirage_fit.mirage_predictions` that predicts it from
    the per-character loss (the paper's Fig 3 panels), ``""`` for none; ``function``: what computes it (None for
    metrics the project only reads)."""

    name: str
    higher_is_better: bool | None
    kind: str
    low: float = -_INF
    high: float = _INF
    by_length: bool = False
    label: str = ""
    binary: bool = False
    range_per_sample: bool = True
    produced_by: tuple[str, ...] = ()
    aggregation: str = ""
    mirage_column: str = ""
    overall: bool = True
    function: Callable | None = field(default=None, compare=False, repr=False)

    @property
    def sign(self) -> float:
        """+1 when higher is better, −1 when lower is better, NaN when the direction is unknown."""
        if self.higher_is_better is None:
            return math.nan
        return 1.0 if self.higher_is_better else -1.0


#: Every declared metric by base name (no ``_L{L}``, no ``,filter``), in declaration order.
SPECS: dict[str, MetricInfo] = {}


def declare(
    name: str,
    higher_is_better: bool,
    kind: str,
    low: float = -_INF,
    high: float = _INF,
    *,
    by_length: bool = False,
    label: str = "",
    binary: bool = False,
    range_per_sample: bool = True,
    produced_by: tuple[str, ...] = (),
    aggregation: str = "",
    mirage_column: str = "",
    overall: bool = True,
    function: Callable | None = None,
) -> MetricInfo:
    """Record one metric in :data:`SPECS` (its label defaults to the name with spaces) and return it.

    A name is declared once; a ValueError says where it already is.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or re.search(r"_L\d+$", name):
        raise ValueError(f"name={name!r} must be a plain metric name (letters, digits, _; no _L<n> suffix)")
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r} for metric {name!r}; use one of {list(KINDS)}")
    if not (overall or by_length):
        raise ValueError(f"metric {name!r} has neither an overall value nor by_length=True; give it one")
    if higher_is_better not in (True, False):
        raise ValueError(f"higher_is_better={higher_is_better!r} for metric {name!r}; use True or False")
    if name in SPECS:
        where = SPECS[name].function
        raise ValueError(f"metric {name!r} is already declared" + (f" on {where.__qualname__}" if where else ""))
    info = MetricInfo(
        name,
        higher_is_better,
        kind,
        low,
        high,
        by_length,
        label or name.replace("_", " "),
        binary,
        range_per_sample,
        tuple(produced_by),
        aggregation,
        mirage_column,
        overall,
        function,
    )
    SPECS[name] = info
    return info


def metric_spec(name: str, higher_is_better: bool, kind: str, low: float = -_INF, high: float = _INF, **details):
    """Decorator: declare the metric ``name`` computed by the decorated function (see :func:`declare` for
    ``details``). A function in :data:`~mirage_metrics.task_forms.ARITH_GEN`'s ``produced_by`` is called as
    ``function([prediction], [reference])`` on each generation and must return one value per sample."""

    def register(function: Callable) -> Callable:
        declare(name, higher_is_better, kind, low, high, function=function, **details)
        return function

    return register


def produced_by(producer: str) -> list[MetricInfo]:
    """The metrics ``producer`` gives, in declaration order.

    >>> [info.name for info in produced_by("nobody")]
    []
    """
    return [info for info in SPECS.values() if producer in info.produced_by]
