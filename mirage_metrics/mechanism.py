"""The mechanism per model: temperature-1 exact match of the first L characters is the product of per-character
probabilities, so its mean over problems should equal the mean ``prefix_prob_L`` of the same problems.

Pairs, in a summary frame (:func:`mirage_metrics.summary.summarise`), each ``<stem>_ll`` task's ``prefix_prob`` at
length L (the probability that the model continues the prompt with a space and the answer's first L characters)
with the ``<stem>_gen_t1`` task's ``exact_match`` at the same L (the unfiltered metric: temperature-1 outputs whose
first L characters, after stripping leading whitespace, are the answer's). The two events differ only in the
whitespace before the answer: the generated one also counts outputs that begin with no space or with other
whitespace, so it can only be the larger.
"""

from __future__ import annotations

import pandas as pd

from mirage_metrics.task_forms import LIKELIHOOD as LIKELIHOOD_FORM
from mirage_metrics.task_forms import SAMPLED as SAMPLED_FORM
from mirage_metrics.task_forms import task_stem

__all__ = ["MECHANISM_COLUMNS", "LIKELIHOOD_FORM", "mechanism_table", "mechanism_sentence"]

MECHANISM_COLUMNS = [
    "family",
    "model",
    "params",
    "task",
    "L",
    "predicted",
    "observed",
    "ci_low",
    "ci_high",
    "n",
    "n_predicted",
    "inside",
    "difference",
]


def mechanism_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per (family, model, ``_gen_t1`` task, L) whose ``_ll`` task of the same stem has ``prefix_prob`` at L.

    ``predicted``: mean ``prefix_prob_L`` (n_predicted problems); ``observed``, ``ci_low``, ``ci_high``, ``n``: the
    ``_gen_t1`` task's ``exact_match_L`` mean and 95% interval; ``inside``: ci_low ≤ predicted ≤ ci_high;
    ``difference``: predicted − observed. ``n`` and ``n_predicted`` are equal when both tasks scored the same problems.

    >>> summary = pd.DataFrame({"family": "f", "model": "a", "params": 1.0, "task": ["t_ll", "t_gen_t1"],
    ...     "metric": ["prefix_prob", "exact_match"], "length": 1.0, "n": 10, "mean": [0.52, 0.5],
    ...     "ci_low": [0.5, 0.19], "ci_high": [0.54, 0.81]})
    >>> mechanism_table(summary)[["task", "L", "predicted", "observed", "inside", "difference"]].round(3).to_dict("records")
    [{'task': 't_gen_t1', 'L': 1, 'predicted': 0.52, 'observed': 0.5, 'inside': True, 'difference': 0.02}]
    """
    by_length = summary[summary["length"].notna() & summary["n"].fillna(0).gt(0)]
    tasks = by_length["task"].astype(str)
    predicted = by_length[(by_length["metric"] == "prefix_prob") & tasks.str.endswith(LIKELIHOOD_FORM)]
    observed = by_length[(by_length["metric"] == "exact_match") & tasks.str.endswith(SAMPLED_FORM)]
    keys = ["family", "model", "stem", "L"]
    predicted = pd.DataFrame(
        {
            "family": predicted["family"],
            "model": predicted["model"],
            "stem": predicted["task"].map(task_stem),
            "L": predicted["length"].astype(int),
            "predicted": predicted["mean"].astype(float),
            "n_predicted": predicted["n"].astype(int),
        }
    )
    observed = pd.DataFrame(
        {
            "family": observed["family"],
            "model": observed["model"],
            "params": observed["params"].astype(float),
            "task": observed["task"],
            "stem": observed["task"].map(task_stem),
            "L": observed["length"].astype(int),
            "observed": observed["mean"].astype(float),
            "ci_low": observed["ci_low"].astype(float),
            "ci_high": observed["ci_high"].astype(float),
            "n": observed["n"].astype(int),
        }
    )
    rows = observed.merge(predicted, on=keys, how="inner")
    rows["inside"] = ((rows["ci_low"] <= rows["predicted"]) & (rows["predicted"] <= rows["ci_high"])).astype(bool)
    rows["difference"] = rows["predicted"] - rows["observed"]
    rows = rows.sort_values(["family", "task", "L", "params", "model"], ignore_index=True)
    return rows[MECHANISM_COLUMNS]


def mechanism_sentence(rows: pd.DataFrame, *, tolerance: float = 0.05) -> str:
    """One sentence on one task's rows of :func:`mechanism_table`: cells inside the interval, cells within
    ``tolerance``, the largest difference and whether both tasks scored the same problems.

    >>> rows = pd.DataFrame({"task": "t_gen_t1", "model": ["a", "b"], "L": [1, 2], "inside": [True, False],
    ...     "difference": [0.01, -0.06], "n": [10, 8], "n_predicted": [10, 8]})
    >>> mechanism_sentence(rows)
    'On t_gen_t1: in 1 of 2 (model, L) cells the predicted value lies inside the observed 95% interval and in 1 within 0.05; largest difference −0.060 at b, L = 2 (both tasks scored the same problems in every cell).'
    """
    if rows.empty:
        return ""
    largest = rows.loc[rows["difference"].abs().idxmax()]
    same = bool((rows["n"] == rows["n_predicted"]).all())
    within = int((rows["difference"].abs() <= tolerance).sum())
    difference = f"{largest['difference']:+.3f}".replace("-", "−")
    return (
        f"On {rows['task'].iloc[0]}: in {int(rows['inside'].sum())} of {len(rows)} (model, L) cells the predicted "
        f"value lies inside the observed 95% interval and in {within} within {tolerance:g}; largest difference "
        f"{difference} at {largest['model']}, L = {int(largest['L'])} ("
        + (
            "both tasks scored the same problems in every cell)."
            if same
            else "the tasks scored different numbers of problems in some cells)."
        )
    )
