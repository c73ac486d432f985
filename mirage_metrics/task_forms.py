"""Task forms: the suffix of an lm-eval task name says how its outputs were produced, and which metrics it gives.

One problem set runs as up to four tasks, ``<stem><form>``: :data:`GEN` (greedy
generation), :data:`SAMPLED` (generation sampled at temperature 1), :data:`LIKELIHOOD`
(log-likelihoods of the gold answer) and :data:`MULTIPLE_CHOICE`. The producers
(:data:`ARITH_GEN` ...) name the ``process_results`` hooks of the bundled task
families; a metric's declaration (:func:`mirage_metrics.metric_spec.metric_spec`)
lists the producers that give it.

>>> task_stem("mirage_arith_2dm_gen_t1"), task_stem("mirage_arith_2dm_ll"), task_stem("custom")
('mirage_arith_2dm', 'mirage_arith_2dm', 'custom')
>>> form_of("mirage_bb_logical_args_mc"), form_of("custom")
('_mc', '')
"""

from __future__ import annotations

__all__ = [
    "GEN",
    "SAMPLED",
    "LIKELIHOOD",
    "MULTIPLE_CHOICE",
    "FORMS",
    "ARITH",
    "BIGBENCH",
    "ARITH_GEN",
    "ARITH_LL",
    "BIGBENCH_GEN",
    "BIGBENCH_LL",
    "BIGBENCH_MC",
    "PRODUCERS",
    "form_of",
    "task_stem",
]

GEN = "_gen"
#: The form whose outputs the mirage predictions describe: temperature-1 samples, where accuracy ≈ p^L.
SAMPLED = "_gen_t1"
LIKELIHOOD = "_ll"
MULTIPLE_CHOICE = "_mc"
#: Every form, longest suffix first (``_gen_t1`` before ``_gen``).
FORMS = (SAMPLED, GEN, LIKELIHOOD, MULTIPLE_CHOICE)

ARITH = "mirage_arith"
BIGBENCH = "mirage_bb"
#: ``mirage_arith_*_gen`` and ``mirage_arith_*_gen_t1`` (one hook, one ``metric_list``: ``_gen_t1`` includes ``_gen``).
ARITH_GEN = ARITH + GEN
ARITH_LL = ARITH + LIKELIHOOD
BIGBENCH_GEN = BIGBENCH + GEN
BIGBENCH_LL = BIGBENCH + LIKELIHOOD
BIGBENCH_MC = BIGBENCH + MULTIPLE_CHOICE
PRODUCERS = (ARITH_GEN, ARITH_LL, BIGBENCH_GEN, BIGBENCH_LL, BIGBENCH_MC)


def form_of(task: str) -> str:
    """The form suffix ``task`` ends with, or ``""``."""
    return next((form for form in FORMS if str(task).endswith(form)), "")


def task_stem(task: str) -> str:
    """The task without its form suffix, grouping the forms of one problem set."""
    task = str(task)
    return task[: len(task) - len(form_of(task))]
