"""Plain-language verdicts: which metrics of a task look emergent, and does a continuous one rise smoothly.

A curve "looks emergent" when its emergence score is at least
:data:`EMERGENT_RATIO` times that of a straight line through the same number of
sizes (a line rising in equal steps over n sizes scores n − 1).

>>> looks_emergent(9.3, n_sizes=4), looks_emergent(2.8, n_sizes=4)
(True, False)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mirage_metrics.scaling import MirageFit

__all__ = ["EMERGENT_RATIO", "DISCONTINUOUS_METRICS", "looks_emergent", "is_discontinuous", "curve_label",
           "task_verdict"]

EMERGENT_RATIO = 2.0
#: Metrics that score a sample all-or-nothing; everything else counts as continuous.
DISCONTINUOUS_METRICS = frozenset({"exact_match", "exact_str_match", "multiple_choice_grade", "greedy_match"})


def looks_emergent(score: float, n_sizes: int) -> bool:
    """True when ``score`` ≥ EMERGENT_RATIO · (n_sizes − 1)."""
    return bool(score >= EMERGENT_RATIO * (n_sizes - 1))


def is_discontinuous(metric: str) -> bool:
    """Whether ``metric`` (possibly ``name,filter``) is all-or-nothing per sample.

    >>> is_discontinuous("exact_match,strict"), is_discontinuous("token_edit_distance")
    (True, False)
    """
    return metric.split(",")[0] in DISCONTINUOUS_METRICS


def curve_label(metric: str, length: float) -> str:
    """``exact_match`` or ``exact_match L=3``.

    >>> curve_label("exact_match", 3.0), curve_label("brier_score", float("nan"))
    ('exact_match L=3', 'brier_score')
    """
    return metric if pd.isna(length) else f"{metric} L={int(length)}"


def _listing(rows: pd.DataFrame) -> str:
    return ", ".join(f"{curve_label(r.metric, r.length)} ({r.emergence_score:.3g})" for r in rows.itertuples())


def _fit_sentence(fit: MirageFit) -> str:
    law = fit.law
    sentence = (f"Mirage fit on {fit.loss_task} over {len(fit.fit_models)} sizes: per-character loss "
                f"L_CE(N) = (N / {law.c:.3g})^{law.alpha:.3g}.")
    if law.alpha >= 0:
        sentence += " The loss does not fall with size (alpha ≥ 0), so the mirage model predicts no improvement."
    checks = fit.held_out.dropna(subset=["observed"])
    if checks.empty:
        return sentence
    errors = (checks["predicted"] - checks["observed"]).abs().groupby(checks["metric"]).mean()
    listed = "; ".join(f"{metric} {error:.3g}" for metric, error in errors.items())
    models = ", ".join(dict.fromkeys(checks["model"]))
    return f"{sentence} Held out {models}: mean absolute prediction error {listed}."


def task_verdict(emergence: pd.DataFrame, fit: MirageFit | None = None) -> str:
    """One paragraph for one (family, task) from its emergence rows (with ``n_sizes``) and its mirage fit.

    >>> rows = pd.DataFrame({"metric": ["exact_match", "token_edit_distance"], "length": [5.0, 5.0],
    ...     "emergence_score": [9.3, 2.8], "n_sizes": [4, 4]})
    >>> print(task_verdict(rows))
    Looks emergent (emergence score ≥ 6 over 4 sizes) under exact_match L=5 (9.3). Continuous metrics on the same outputs rise smoothly: token_edit_distance L=5 (2.8).
    """
    if emergence.empty:
        text = "Fewer than two model sizes: no emergence score."
    else:
        n_sizes = int(emergence["n_sizes"].max())
        emergent = emergence[[looks_emergent(s, n) for s, n in zip(emergence["emergence_score"], emergence["n_sizes"])]]
        continuous = emergence[~emergence["metric"].map(is_discontinuous)]
        smooth_continuous = continuous[~continuous.index.isin(emergent.index)]
        threshold = f"emergence score ≥ {EMERGENT_RATIO * (n_sizes - 1):.3g} over {n_sizes} sizes"
        if emergent.empty:
            text = f"No metric looks emergent ({threshold} for none)."
        else:
            text = f"Looks emergent ({threshold}) under {_listing(emergent)}."
        rising = smooth_continuous[smooth_continuous["emergence_score"] > 0]
        if not rising.empty:
            text += f" Continuous metrics on the same outputs rise smoothly: {_listing(rising)}."
        not_rising = smooth_continuous[smooth_continuous["emergence_score"] <= 0]
        if not not_rising.empty:
            text += f" Continuous metrics that do not improve with size: {_listing(not_rising)}."
        jumping_continuous = continuous[continuous.index.isin(emergent.index)]
        if not jumping_continuous.empty:
            text += (f" Continuous metrics jump too: {_listing(jumping_continuous)}, so the jump is not only "
                     "a property of the metric.")
        if np.isinf(emergence["emergence_score"]).any():
            text += " (An infinite score means the curve is flat except for one step.)"
    if fit is not None:
        text += " " + _fit_sentence(fit)
    return text
