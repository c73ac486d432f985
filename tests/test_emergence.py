"""Curves across sizes and the verdicts built on them, on synthetic per-sample data with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage_metrics.emergence import curve_table, curve_trend
from mirage_metrics.report.verdict import task_verdict
from mirage_metrics.summary import summarise_with_resamples

GPT3_SIZES = [3.5e8, 1.3e9, 6.7e9, 1.75e11]  # the paper's four API models
C, ALPHA = 2e9, -0.5
N = 2000


def tidy(per_model: dict, task: str, metric: str, sizes, length=np.nan) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "family": "fam",
                    "model": f"m{i}",
                    "params": size,
                    "task": task,
                    "metric": metric,
                    "length": length,
                    "sample_id": np.arange(len(values)),
                    "value": values,
                }
            )
            for i, (size, values) in enumerate(zip(sizes, per_model))
        ],
        ignore_index=True,
    )


def synthetic_family(per_char: list[float], seed: int = 0, sizes=GPT3_SIZES, length: int = 5) -> pd.DataFrame:
    """Per sample: a per-character probability around ``per_char`` (one per size), the exact match of a
    ``length``-character answer drawn as Bernoulli(p_i^length), and its edit distance, Binomial(length, 1 − p_i)."""
    rng = np.random.default_rng(seed)
    probs = [np.clip(p * rng.uniform(0.9, 1.1, N), 1e-6, 1.0) for p in per_char]
    exact = [(rng.random(N) < p**length).astype(float) for p in probs]
    distance = [rng.binomial(length, 1.0 - p).astype(float) for p in probs]
    return pd.concat(
        [
            tidy(probs, "arith_ll", "per_char_prob", sizes),
            tidy(exact, "arith_gen_t1", "exact_match", sizes),
            tidy(distance, "arith_gen_t1", "token_edit_distance", sizes),
        ],
        ignore_index=True,
    )


def verdict_of(table: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    summary, resamples = summarise_with_resamples(table, n_boot=300)
    curves = curve_table(summary, resamples)
    per_token = curves[curves["metric"] == "per_char_prob"]
    return curves, task_verdict(curves[curves["task"] == "arith_gen_t1"], per_token)


def test_the_papers_model_is_a_mirage():
    p = np.exp(-((np.asarray(GPT3_SIZES) / C) ** ALPHA))  # 0.092, 0.289, 0.579, 0.899
    curves, verdict = verdict_of(synthetic_family(p))
    trends = curves.set_index("metric")["trend"]
    assert trends["exact_match"] == "jumps"
    assert trends["per_char_prob"] == "smooth" and trends["token_edit_distance"] == "smooth"
    assert "the jump is what the metric makes of a steady improvement (the mirage)" in verdict


def test_a_real_jump_in_the_per_token_probability_is_called_real():
    curves, verdict = verdict_of(synthetic_family([0.2, 0.21, 0.22, 0.95]))
    assert curves.set_index("metric").loc["per_char_prob", "trend"] == "jumps"
    assert "The per-character probability jumps too: the models really changed" in verdict


def test_sharpness_and_emergence_intervals_contain_the_point_values():
    curves, _ = verdict_of(synthetic_family([0.1, 0.3, 0.6, 0.9]))
    assert (curves["sharpness_low"] <= curves["sharpness"]).all() and (
        curves["sharpness"] <= curves["sharpness_high"]
    ).all()
    assert (curves["emergence_low"] <= curves["emergence_score"]).all()
    assert (curves["emergence_score"] <= curves["emergence_high"]).all()
    assert (
        curves["direction"]
        == curves["metric"].map({"per_char_prob": "higher", "exact_match": "higher", "token_edit_distance": "lower"})
    ).all()


def test_few_problems_leave_the_jump_unclaimed():
    small = synthetic_family(np.exp(-((np.asarray(GPT3_SIZES) / C) ** ALPHA)))
    small = small[small["sample_id"] < 8]
    curves, verdict = verdict_of(small)
    assert curves.set_index("metric").loc["exact_match", "trend"] != "jumps"
    assert "No all-or-nothing metric jumps" in verdict


def test_two_sizes_are_not_judged():
    table = synthetic_family([0.1, 0.9], sizes=GPT3_SIZES[:2])
    curves, verdict = verdict_of(table)
    assert set(curves["trend"]) == {"too few sizes"}
    assert verdict.startswith("Only 2 sizes")


def test_edit_distance_at_one_character_is_not_continuous_evidence():
    table = synthetic_family([0.1, 0.3, 0.6, 0.9], length=1)
    table = pd.concat([table, table[table["metric"] == "exact_match"].assign(metric="greedy_match")])
    summary, resamples = summarise_with_resamples(table, n_boot=100)
    curves = curve_table(summary, resamples)
    assert curves.set_index("metric").loc["token_edit_distance", "values"] == "0/1"
    verdict = task_verdict(curves[curves["task"] == "arith_gen_t1"])
    assert "Continuous, same outputs" not in verdict  # at L = 1 edit distance is 1 − exact match


def test_unknown_metrics_keep_their_raw_values_or_lm_evals_direction():
    table = tidy([np.full(10, v) + np.arange(10) / 100 for v in (3.0, 2.0, 1.0)], "t", "mystery", GPT3_SIZES[:3])
    summary, resamples = summarise_with_resamples(table, n_boot=50)
    raw = curve_table(summary, resamples).iloc[0]
    assert (raw["direction"], raw["kind"]) == ("unknown", "unknown") and raw["emergence_score"] < 0
    flipped = curve_table(summary, resamples, higher_is_better={"mystery": False}).iloc[0]
    assert flipped["direction"] == "lower" and flipped["emergence_score"] == pytest.approx(-raw["emergence_score"])


@pytest.mark.parametrize(
    "low, high, changes, expected",
    [
        (0.5, 0.9, True, "jumps"),
        (-0.49, 0.49, True, "smooth"),
        (0.2, 0.7, True, "unclear"),
        (-0.9, -0.5, True, "falls sharply"),
        (0.8, 0.9, False, "no clear change"),
    ],
)
def test_one_threshold_rule(low, high, changes, expected):
    assert curve_trend(6, low, high, changes) == expected
