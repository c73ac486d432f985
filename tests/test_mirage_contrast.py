"""The contrast machinery on the paper's model with known parameters (synthetic per-sample data, no training).

Per-digit probability p rises evenly, or per-sample loss follows (N / c)^α: exact match of
the full answer should come out sharper than token edit distance and per-character probability
on the same outputs (BIG-bench's emergence score, as the report computes it), and the mirage fit
on the smaller half should predict the larger half's temperature-1 exact match for every L.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mirage_metrics.emergence import curve_table
from mirage_metrics.mirage_fit import fit_mirage
from mirage_metrics.summary import summarise, with_per_char_loss

LENGTHS = (1, 2, 3, 4, 5)
SIZES = np.logspace(6, 8, 8)  # eight sizes over two orders of magnitude


def tidy(rows) -> pd.DataFrame:
    """The per-sample table of mirage_metrics.results.read_results from (params, task, metric, length, values)."""
    frames = [
        pd.DataFrame(
            {
                "family": "fam",
                "model": f"m{params:.0f}",
                "params": float(params),
                "task": task,
                "metric": metric,
                "length": length,
                "sample_id": np.arange(len(values)),
                "value": np.asarray(values, dtype=float),
            }
        )
        for params, task, metric, length, values in rows
    ]
    return pd.concat(frames, ignore_index=True)


def digit_outputs(p_per_size, n: int, length: int, seed: int = 0) -> pd.DataFrame:
    """Answers of ``length`` digits, each digit right with probability p: exact match, token edit distance
    (wrong digits) and per-character probability of the same samples."""
    rng = np.random.default_rng(seed)
    rows = []
    for params, p in zip(SIZES, p_per_size):
        right = rng.random((n, length)) < p
        rows += [
            (params, "t_gen", "exact_match", np.nan, right.all(axis=1)),
            (params, "t_gen", "token_edit_distance", np.nan, (~right).sum(axis=1)),
            (params, "t_ll", "per_char_prob", np.nan, np.full(n, p)),
        ]
    return tidy(rows)


def emergence_scores(table: pd.DataFrame) -> dict[str, float]:
    curves = curve_table(summarise(table, n_boot=10))
    return {row.metric: abs(row.emergence_score) for row in curves.itertuples()}


def test_exact_match_is_sharper_than_the_continuous_metrics_of_the_same_outputs():
    p = np.linspace(0.1, 0.95, len(SIZES))  # per-digit accuracy rising evenly
    # The expected curves: per-char prob rises in 7 equal steps (score 7); p^5 waits, then jumps (score 16.3).
    scores = emergence_scores(digit_outputs(p, n=20_000, length=5))
    assert scores["per_char_prob"] == pytest.approx(7.0)
    assert scores["token_edit_distance"] == pytest.approx(7.0, rel=0.05)
    assert scores["exact_match"] == pytest.approx(16.34, rel=0.1)
    assert scores["exact_match"] >= 2 * max(scores["per_char_prob"], scores["token_edit_distance"])
    # One digit: exact match is per-digit accuracy, no contrast at all.
    one_digit = emergence_scores(digit_outputs(p, n=20_000, length=1))
    assert one_digit["exact_match"] == pytest.approx(one_digit["per_char_prob"], rel=0.05)


def power_law_outputs(spread: float, n: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Per-sample losses (N / c)^α · z (z lognormal with mean 1 and log-sd ``spread``; 0: every sample alike), the
    per-char probability exp(−loss) of each sample (the _ll task) and temperature-1 exact match of its first L
    characters, right with probability exp(−L·loss) (the _gen_t1 task)."""
    c, alpha = 2.83e6, -0.8  # loss 2.3 (p = 0.10) at 1e6 parameters to 0.058 (p = 0.94) at 1e8
    rng = np.random.default_rng(seed)
    z = np.exp(spread * rng.standard_normal(n) - spread**2 / 2)
    rows = []
    for params in SIZES:
        loss = (params / c) ** alpha * z
        rows.append((params, "t_ll", "per_char_prob", np.nan, np.exp(-loss)))
        rows += [
            (params, "t_gen_t1", "exact_match", float(length), rng.random(n) < np.exp(-length * loss))
            for length in LENGTHS
        ]
    return with_per_char_loss(tidy(rows))


def held_out_exact_match(spread: float) -> pd.DataFrame:
    summary = summarise(power_law_outputs(spread), n_boot=10)
    (fit,) = fit_mirage(summary, holdout_largest=4)
    assert len(fit.fit_models) == 4
    checks = fit.held_out[fit.held_out["metric"] == "exact_match"]
    assert sorted(checks["length"].unique()) == list(LENGTHS) and checks["model"].nunique() == 4
    return fit, checks


def test_mirage_fit_predicts_held_out_exact_match_when_every_sample_is_alike():
    fit, checks = held_out_exact_match(spread=0.0)
    assert fit.law.alpha == pytest.approx(-0.8, rel=1e-6) and fit.shape == float("inf")
    sd = np.sqrt(checks["predicted"] * (1 - checks["predicted"]) / 4000)
    assert (abs(checks["predicted"] - checks["observed"]) <= 4 * sd + 1e-9).all()


def test_mirage_fit_predicts_the_mean_of_p_to_the_l_across_spread_samples():
    # Samples that differ in loss: the mean of p_i^L is well above p^L of the mean loss (Jensen's gap); the fit
    # models the spread of per-sample losses and stays within 0.05 for every held-out size and length.
    fit, checks = held_out_exact_match(spread=0.6)
    assert np.isfinite(fit.shape)
    assert (abs(checks["predicted"] - checks["observed"]) < 0.05).all()
    law_loss = fit.law.loss(checks["params"].to_numpy(float))
    plain = np.exp(-law_loss) ** checks["length"].to_numpy(float)  # p^L of the mean loss
    assert (abs(plain - checks["observed"]) > 0.05).any()
