"""The verdict's wording on curve tables written here: which curves count as evidence, and what is said of each."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mirage_metrics import registry
from mirage_metrics.emergence import curve_table
from mirage_metrics.registry import CONTINUOUS, DISCONTINUOUS, WHOLE_ANSWER
from mirage_metrics.report.verdict import task_answer, task_verdict
from mirage_metrics.summary import summarise_with_resamples


def curve(metric: str, kind: str, trend: str, sharpness: float, task: str = "t_ll", values: str = "graded") -> dict:
    return {
        "family": "fam",
        "task": task,
        "metric": metric,
        "length": np.nan,
        "n_sizes": 6,
        "kind": kind,
        "values": values,
        "trend": trend,
        "sharpness": sharpness,
        "sharpness_low": sharpness - 0.1,
        "sharpness_high": sharpness + 0.05,
        "emergence_score": 9.0,
        "emergence_low": 6.0,
        "emergence_high": 12.0,
        "largest_step_from": "m4",
        "largest_step_to": "m5",
    }


def ll_task(whole_answer_trend: str = "jumps", per_char_trend: str = "smooth") -> pd.DataFrame:
    """An ``_ll`` task like the demo's: greedy match jumps, the whole-answer probability as given, the log
    probabilities smooth, and the per-character probability as given."""
    return pd.DataFrame(
        [
            curve("greedy_match", DISCONTINUOUS, "jumps", 0.8, values="0/1"),
            curve(
                "exact_answer_prob", WHOLE_ANSWER, whole_answer_trend, 0.87 if whole_answer_trend == "jumps" else 0.2
            ),
            curve("target_log_prob", CONTINUOUS, "smooth", 0.14),
            curve("per_char_prob", CONTINUOUS, per_char_trend, 0.27 if per_char_trend == "smooth" else 0.9),
        ]
    )


def test_a_jumping_whole_answer_probability_is_named_and_explained_not_counted_as_continuous():
    curves = ll_task()
    per_token = curves[curves["metric"] == "per_char_prob"]
    verdict = task_verdict(curves, per_token)
    assert "Continuous, same outputs: target_log_prob smooth" in verdict
    assert "exact_answer_prob" not in verdict.split("Continuous, same outputs:")[1]
    assert "Whole-answer probability (all or nothing in probability space): exact_answer_prob jumps" in verdict
    assert "a product of per-character probabilities" in verdict and "jumps like exact match" in verdict
    assert verdict.endswith("the jump is what the metric makes of a steady improvement (the mirage).")
    assert task_answer(curves, per_token) == "the mirage"


def test_a_smooth_whole_answer_probability_needs_no_explanation():
    curves = ll_task("smooth")
    verdict = task_verdict(curves, curves[curves["metric"] == "per_char_prob"])
    assert "exact_answer_prob smooth" in verdict and "a product of per-character probabilities" not in verdict


def test_a_whole_answer_jump_is_no_evidence_that_the_models_changed():
    """Without a per-character curve, the conclusion rests on the graded metrics alone: the jumping whole-answer
    probability would otherwise read as 'the continuous metrics jump too'."""
    curves = ll_task()
    curves = curves[curves["metric"] != "per_char_prob"]
    verdict = task_verdict(curves)
    assert "The continuous metrics rise smoothly while the all-or-nothing metric jumps" in verdict
    assert task_answer(curves) == "the mirage"


def test_a_whole_answer_jump_alone_is_judged_like_an_all_or_nothing_one():
    curves = ll_task()
    curves = curves[curves["metric"] != "greedy_match"]
    verdict = task_verdict(curves, curves[curves["metric"] == "per_char_prob"])
    assert "the mirage" in verdict and "No all-or-nothing metric" not in verdict


def test_a_real_jump_is_answered_so():
    curves = ll_task(per_char_trend="jumps")
    assert task_answer(curves, curves[curves["metric"] == "per_char_prob"]) == "a real jump"


def test_the_registrys_whole_answer_kind_reaches_the_verdict(monkeypatch):
    """Curves built from per-sample data: a metric the registry marks as a whole-answer probability is listed as
    one (``exact_answer_prob`` once the registry marks it; here marked for the test)."""
    marked = registry.METRICS["exact_answer_prob"].__class__(
        **{**registry.METRICS["exact_answer_prob"].__dict__, "kind": WHOLE_ANSWER}
    )
    monkeypatch.setitem(registry.METRICS, "exact_answer_prob", marked)
    rng = np.random.default_rng(0)
    sizes = [1e6, 1e7, 1e8, 1e9, 1e10]
    per_char = np.array([0.5, 0.6, 0.7, 0.8, 0.9])
    rows = []
    for size, p in zip(sizes, per_char):
        probs = np.clip(p * rng.uniform(0.95, 1.05, 400), 0, 1)
        for metric, values in (("per_char_prob", probs), ("exact_answer_prob", probs**12)):
            rows.append(
                pd.DataFrame(
                    {
                        "family": "fam",
                        "model": f"m{size:g}",
                        "params": size,
                        "task": "t_ll",
                        "metric": metric,
                        "length": np.nan,
                        "sample_id": np.arange(len(values)),
                        "value": values,
                    }
                )
            )
    summary, resamples = summarise_with_resamples(pd.concat(rows, ignore_index=True), n_boot=100)
    curves = curve_table(summary, resamples)
    assert curves.set_index("metric").loc["exact_answer_prob", "kind"] == WHOLE_ANSWER
    verdict = task_verdict(curves, curves[curves["metric"] == "per_char_prob"])
    assert "Whole-answer probability (all or nothing in probability space): exact_answer_prob" in verdict
    assert "Continuous, same outputs" not in verdict
