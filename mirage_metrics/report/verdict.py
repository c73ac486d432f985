"""Plain-language verdicts: does an all-or-nothing metric jump, and is the jump the metric's or the models'?

The question is the paper's: when exact match (or multiple-choice grade) jumps
across sizes, does a continuous per-token quantity of the same models, the
per-character probability of the answer, jump too (the models really changed)
or rise smoothly (the jump is what an all-or-nothing metric makes of a smooth
improvement)? Each curve's ``trend`` comes from
:func:`mirage_metrics.emergence.curve_trend`, one rule for the whole page: a
curve jumps only when its whole sharpness interval says so.

Which curves count: the all-or-nothing metrics on the full answer (length not
set), not the best of their by-length variants; as continuous evidence, metrics
the registry calls continuous whose per-sample values are not all 0 or 1 (token
edit distance at L = 1 is exactly 1 − exact match there). A whole-answer
probability (the registry's third kind: the probability of getting every
character right, a product of per-character probabilities) is no continuous
evidence: it is all or nothing in probability space and jumps for the reason
exact match does, so it is judged with the all-or-nothing metrics and, when it
jumps, the verdict says why.

>>> curves = pd.DataFrame({"metric": ["exact_match", "token_edit_distance"], "length": [np.nan, np.nan],
...     "n_sizes": [8, 8], "kind": ["discontinuous", "continuous"], "values": ["0/1", "graded"],
...     "trend": ["jumps", "smooth"], "sharpness": [0.8, 0.2], "sharpness_low": [0.6, 0.1],
...     "sharpness_high": [0.9, 0.3], "emergence_score": [9.0, 3.0], "emergence_low": [6.0, 2.5],
...     "emergence_high": [20.0, 4.0], "largest_step_from": ["m4", "m1"], "largest_step_to": ["m5", "m2"]})
>>> print(task_verdict(curves))
All-or-nothing: exact_match jumps (sharpness 0.8 [0.6, 0.9], m4 → m5). Continuous, same outputs: token_edit_distance smooth (sharpness 0.2 [0.1, 0.3]). The continuous metrics rise smoothly while the all-or-nothing metric jumps: the jump is what the metric makes of a steady improvement (the mirage).
>>> task_answer(curves)
'the mirage'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mirage_metrics.emergence import SHARP
from mirage_metrics.mirage_fit import INTERVAL_CONFIDENCE, MirageFit
from mirage_metrics.registry import CONTINUOUS, DISCONTINUOUS, WHOLE_ANSWER

__all__ = [
    "curve_label",
    "discontinuous_curves",
    "whole_answer_curves",
    "continuous_curves",
    "interval_sentence",
    "prediction_sentence",
    "task_verdict",
    "task_answer",
    "answer_numbers",
]

# Why a whole-answer probability that jumps is no evidence about the models (said once, where one jumps).
WHOLE_ANSWER_JUMPS = (
    "It is itself a product of per-character probabilities (every character of the answer right), so it is all or "
    "nothing in probability space and jumps like exact match; it says nothing on its own about whether the models "
    "changed suddenly."
)


def curve_label(metric: str, length: float) -> str:
    """``exact_match`` or ``exact_match L=3``.

    >>> curve_label("exact_match", 3.0), curve_label("brier_score", float("nan"))
    ('exact_match L=3', 'brier_score')
    """
    return metric if pd.isna(length) else f"{metric} L={int(length)}"


def discontinuous_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """Full-answer curves of all-or-nothing metrics (registry kind, or every per-sample value 0 or 1)."""
    full = curves[curves["length"].isna()]
    return full[(full["kind"] == DISCONTINUOUS) | ((full["values"] == "0/1") & (full["kind"] != WHOLE_ANSWER))]


def whole_answer_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """Full-answer curves of whole-answer probabilities (``exact_answer_prob``: all or nothing in probability space)."""
    full = curves[curves["length"].isna()]
    return full[full["kind"] == WHOLE_ANSWER]


def continuous_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """Full-answer curves of continuous metrics whose per-sample values are not all 0 or 1."""
    full = curves[curves["length"].isna()]
    return full[(full["kind"] == CONTINUOUS) & (full["values"] != "0/1")]


def _describe(row) -> str:
    text = f"{curve_label(row.metric, row.length)} {row.trend}"
    if row.trend in ("too few sizes", "no clear change") or pd.isna(row.sharpness):
        return text
    interval = (
        "" if row.sharpness_low == row.sharpness_high else f" [{row.sharpness_low:.2g}, {row.sharpness_high:.2g}]"
    )
    where = f", {row.largest_step_from} → {row.largest_step_to}" if row.trend in ("jumps", "unclear") else ""
    return f"{text} (sharpness {row.sharpness:.2g}{interval}{where})"


def _listing(rows: pd.DataFrame) -> str:
    return "; ".join(_describe(row) for row in rows.itertuples())


def _conclusion(evidence: pd.DataFrame, what: str, plural: bool) -> tuple[str, str]:
    """The short answer and the sentence, when an all-or-nothing metric jumps and ``evidence`` is the graded view."""
    jumps, rises = ("jump", "rise") if plural else ("jumps", "rises")
    if (evidence["trend"] == "jumps").any():
        return "a real jump", (
            f"The {what} {jumps} too: the models really changed, so the jump is not only a property of the metric."
        )
    if (evidence["trend"] == "smooth").all():
        return "the mirage", (
            f"The {what} {rises} smoothly while the all-or-nothing metric jumps: the jump is what the metric "
            "makes of a steady improvement (the mirage)."
        )
    return "cannot tell", (
        f"Whether the {what} {jumps} too cannot be told at this resolution (the sharpness interval is wide)."
    )


def interval_sentence(rows: pd.DataFrame) -> str:
    """How the per-L laws did on held-out rows of :attr:`MirageFit.held_out` that carry a prediction interval:
    cells inside (to float precision), each cell outside and by how much, and the largest |observed − predicted|.

    >>> rows = pd.DataFrame({"model": ["a", "b", "b"], "length": [1, 1, 2], "n_fit_models": 4,
    ...     "predicted": [0.5, 0.6, 0.3], "predicted_low": [0.4, 0.5, 0.1], "predicted_high": [0.6, 0.7, 0.5],
    ...     "observed": [0.55, 0.39, 0.35]})
    >>> interval_sentence(rows)
    "Exact match of the first L characters, one law per L fitted on 4 sizes: the law's 95% interval held the observed value in 2 of 3 held-out cells (outside: b, L = 1, by 0.11); largest miss 0.21 at b, L = 1 (|observed − predicted|)."
    """
    if rows.empty:
        return ""
    below = (rows["predicted_low"] - rows["observed"]).clip(lower=0)
    above = (rows["observed"] - rows["predicted_high"]).clip(lower=0)
    outside = (below + above)[(below + above) > 1e-9]  # a count on a bound is inside; 1e-9: float rounding
    sizes = sorted({int(n) for n in rows["n_fit_models"]})
    fitted = f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]}–{sizes[-1]}"
    error = (rows["observed"] - rows["predicted"]).abs()
    largest = rows.loc[error.idxmax()]
    missed = "; ".join(
        f"{rows.at[i, 'model']}, L = {int(rows.at[i, 'length'])}, by {distance:.2g}" for i, distance in outside.items()
    )
    return (
        f"Exact match of the first L characters, one law per L fitted on {fitted} sizes: the law's "
        f"{INTERVAL_CONFIDENCE:.0%} interval held the observed value in {len(rows) - len(outside)} of {len(rows)} "
        f"held-out cells{f' (outside: {missed})' if missed else ''}; largest miss {error.max():.2g} at "
        f"{largest['model']}, L = {int(largest['length'])} (|observed − predicted|)."
    )


def _fit_sentence(fit: MirageFit) -> str:
    if fit.law is None:
        return f"No mirage fit: {fit.refusal}."
    law = fit.law
    sentence = (
        f"Mirage fit on {fit.loss_task} over {len(fit.fit_models)} sizes: per-character loss "
        f"L_CE(N) = (N / {law.c:.3g})^{law.alpha:.3g}."
    )
    if fit.problem:
        sentence += f" Warning: {fit.problem}; its predictions are not shown."
    checks = fit.held_out.dropna(subset=["observed", "predicted"])
    if checks.empty:
        return sentence
    with_interval = checks["predicted_low"].notna() & checks["predicted_high"].notna()
    others = checks[~with_interval]
    models = ", ".join(dict.fromkeys(checks["model"]))
    parts = [sentence, f"Held out {models}.", interval_sentence(checks[with_interval])]
    if not others.empty:
        errors = (others["predicted"] - others["observed"]).abs().groupby(others["metric"]).mean()
        listed = "; ".join(f"{metric} {error:.3g}" for metric, error in errors.items())
        parts.append(f"Mean absolute prediction error of the per-character law (no interval): {listed}.")
    return " ".join(filter(None, parts))


def prediction_sentence(observed: pd.DataFrame, predicted: pd.DataFrame) -> str:
    """How well the same models' probability of the exact answer predicts their temperature-1 exact match.

    ``observed``: summary rows (model, mean, ci_low, ci_high) of exact match on a ``_gen_t1`` task;
    ``predicted``: summary rows (model, mean) of ``exact_answer_prob`` on its ``_ll`` task. The mean of
    that probability is what temperature-1 exact match estimates, so the two should agree within sampling error.

    >>> observed = pd.DataFrame({"model": ["a", "b"], "mean": [0.0, 0.5], "ci_low": [0.0, 0.4], "ci_high": [0.04, 0.6]})
    >>> predicted = pd.DataFrame({"model": ["a", "b"], "mean": [0.01, 0.45], "task": "t_ll"})
    >>> print(prediction_sentence(observed, predicted))
    Temperature-1 exact match against the probability of the exact answer (exact_answer_prob of t_ll), which it estimates: inside the exact match's 95% interval at 2 of 2 sizes (largest gap 0.05).
    """
    pairs = observed.merge(predicted[["model", "mean"]], on="model", suffixes=("", "_predicted"))
    if pairs.empty:
        return ""
    inside = ((pairs["mean_predicted"] >= pairs["ci_low"]) & (pairs["mean_predicted"] <= pairs["ci_high"])).sum()
    gap = float((pairs["mean_predicted"] - pairs["mean"]).abs().max())
    task = predicted["task"].iloc[0] if "task" in predicted else "the _ll task"
    return (
        f"Temperature-1 exact match against the probability of the exact answer (exact_answer_prob of {task}), "
        f"which it estimates: inside the exact match's 95% interval at {inside} of {len(pairs)} sizes "
        f"(largest gap {gap:.2g})."
    )


def _curves_judged(curves: pd.DataFrame, per_token: pd.DataFrame | None) -> tuple:
    """The all-or-nothing, whole-answer and continuous curves of a task, and whether a per-character curve is given
    (the continuous curves then leave it out: it is listed once, as the per-character probability)."""
    has_per_token = per_token is not None and not per_token.empty
    continuous = continuous_curves(curves)
    if has_per_token:
        continuous = continuous[
            ~((continuous["task"] == per_token["task"].iloc[0]) & (continuous["metric"] == per_token["metric"].iloc[0]))
        ]
    return discontinuous_curves(curves), whole_answer_curves(curves), continuous, has_per_token


def answer_numbers(curves: pd.DataFrame, per_token: pd.DataFrame | None = None) -> tuple[str, str]:
    """The numbers behind :func:`task_answer`: the all-or-nothing curves on the full answer (whole-answer
    probabilities too), and the graded curves they are compared with (the per-character probability when given,
    else the continuous metrics on the same outputs); empty strings where there are none or no curve is judged.

    >>> curves = pd.DataFrame({"task": "t", "metric": ["exact_match", "per_char_prob"], "length": np.nan,
    ...     "n_sizes": 4, "kind": ["discontinuous", "continuous"], "values": ["0/1", "graded"],
    ...     "trend": ["jumps", "smooth"], "sharpness": [0.8, 0.2], "sharpness_low": [0.6, 0.1],
    ...     "sharpness_high": [0.9, 0.3], "largest_step_from": "m2", "largest_step_to": "m3"})
    >>> answer_numbers(curves)
    ('exact_match jumps (sharpness 0.8 [0.6, 0.9], m2 → m3)', 'per_char_prob smooth (sharpness 0.2 [0.1, 0.3])')
    """
    if curves.empty or int(curves["n_sizes"].max()) < 3:
        return "", ""
    discontinuous, whole, continuous, has_per_token = _curves_judged(curves, per_token)
    judged = "; ".join(filter(None, [_listing(discontinuous), _listing(whole)]))
    return judged, _listing(per_token if has_per_token else continuous)


def _judgement(curves: pd.DataFrame, per_token: pd.DataFrame | None) -> tuple[str, list[str]]:
    """The short answer of :func:`task_answer` and the sentences of :func:`task_verdict`."""
    if curves.empty:
        return "not judged", ["Fewer than two model sizes: nothing to compare across sizes."]
    if int(curves["n_sizes"].max()) < 3:
        return "not judged", [
            f"Only {int(curves['n_sizes'].max())} sizes: one step cannot be told apart from a steady rise, so "
            "no curve is judged (the scores are in the table)."
        ]
    discontinuous, whole, continuous, has_per_token = _curves_judged(curves, per_token)
    parts = []
    if not discontinuous.empty:
        parts.append(f"All-or-nothing: {_listing(discontinuous)}.")
    if not whole.empty:
        parts.append(f"Whole-answer probability (all or nothing in probability space): {_listing(whole)}.")
        if (whole["trend"] == "jumps").any():
            parts.append(WHOLE_ANSWER_JUMPS)
    if not continuous.empty:
        parts.append(f"Continuous, same outputs: {_listing(continuous)}.")
    if has_per_token:
        parts.append(f"Per-character probability ({per_token['task'].iloc[0]}): {_listing(per_token)}.")
    jumps = (discontinuous["trend"] == "jumps").any() or (whole["trend"] == "jumps").any()
    if discontinuous.empty and whole.empty:
        answer, conclusion = "nothing to judge", "No all-or-nothing metric on the full answer to judge."
    elif not jumps:
        answer = "no jump"
        conclusion = f"No all-or-nothing metric jumps (a jump needs its whole sharpness interval ≥ {SHARP:g})."
    elif has_per_token:
        answer, conclusion = _conclusion(per_token, "per-character probability", plural=False)
    elif not continuous.empty:
        answer, conclusion = _conclusion(continuous, "continuous metrics", plural=True)
    else:
        answer, conclusion = "nothing to compare", "No continuous metric of the same models to compare the jump with."
    parts.append(conclusion)
    if np.isinf(curves["emergence_score"]).any():
        parts.append("(An infinite emergence score means the curve is flat except for one step.)")
    return answer, parts


def task_answer(curves: pd.DataFrame, per_token: pd.DataFrame | None = None) -> str:
    """The verdict of :func:`task_verdict` in a few words: ``the mirage``, ``a real jump``, ``no jump``,
    ``cannot tell``, ``not judged`` (fewer than 3 sizes), ``nothing to judge`` or ``nothing to compare``."""
    return _judgement(curves, per_token)[0]


def task_verdict(curves: pd.DataFrame, per_token: pd.DataFrame | None = None, fit: MirageFit | None = None) -> str:
    """One paragraph for one (family, task) from its :func:`~mirage_metrics.emergence.curve_table` rows.

    ``per_token``: the curve of the same models' per-character probability on the
    task's problems (its ``_ll`` task), compared with a jumping all-or-nothing
    metric; without it the continuous metrics on the same outputs are.
    """
    text = " ".join(_judgement(curves, per_token)[1])
    if fit is not None:
        text += " " + _fit_sentence(fit)
    return text
