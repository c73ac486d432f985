"""Across-size analysis: bootstrap CIs (bootstrap.py), per-model summaries (summary.py), emergence scores and the mirage
fit (mirage_fit.py) recover known values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirage_metrics.bootstrap import binomial_ci, bootstrap_mean_ci
from mirage_metrics.emergence import curve_table
from mirage_metrics.mirage_fit import (
    PowerLaw,
    fit_mirage,
    fit_power_law,
    fit_table,
    mirage_curves,
    mirage_predictions,
)
from mirage_metrics.summary import SUMMARY_COLUMNS, summarise, with_per_char_loss

SIZES = [1e8, 1e9, 1e10, 1e11]
C, ALPHA = 2e9, -0.5


def tidy(rows: list[tuple]) -> pd.DataFrame:
    """A tidy table from (model, params, task, metric, length, values) tuples; family 'fam'."""
    frames = [
        pd.DataFrame(
            {
                "family": "fam",
                "model": model,
                "params": params,
                "task": task,
                "metric": metric,
                "length": length,
                "sample_id": np.arange(len(values)),
                "value": np.asarray(values, float),
            }
        )
        for model, params, task, metric, length, values in rows
    ]
    return pd.concat(frames, ignore_index=True)


def test_bootstrap_ci_matches_the_normal_approximation_for_binary_values():
    values = np.r_[np.ones(300), np.zeros(700)]
    n, mean, low, high = bootstrap_mean_ci(values, n_boot=4000, seed=3)
    half_width = 1.96 * np.sqrt(0.3 * 0.7 / 1000)
    assert (n, mean) == (1000, 0.3)
    assert low == pytest.approx(0.3 - half_width, abs=0.004)
    assert high == pytest.approx(0.3 + half_width, abs=0.004)


def test_bootstrap_ci_for_continuous_values_uses_index_resampling_in_chunks():
    values = np.random.default_rng(0).normal(5.0, 2.0, size=5000)
    n, mean, low, high = bootstrap_mean_ci(values, n_boot=2000, seed=1)
    standard_error = values.std() / np.sqrt(len(values))
    assert n == 5000 and mean == pytest.approx(values.mean())
    assert (high - low) / 2 == pytest.approx(1.96 * standard_error, rel=0.08)


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(0).normal(5.0, 1.0, size=400),  # many distinct values: index resampling
        np.random.default_rng(1).integers(0, 6, size=400).astype(float),  # few levels: multinomial counts
        (np.random.default_rng(2).random(400) < 0.3).astype(float),  # 0/1
    ],
    ids=["continuous", "few-levels", "binary"],
)
def test_bootstrap_ci_agrees_with_scipy_percentile_bootstrap(values):
    """Same data, same percentile method: the intervals differ only by Monte-Carlo error (about 0.001 here with
    20,000 resamples each, against a tolerance of a tenth of the standard error)."""
    from scipy.stats import bootstrap

    _, _, low, high = bootstrap_mean_ci(values, n_boot=20_000, seed=0)
    reference = bootstrap(
        (values,),
        np.mean,
        n_resamples=20_000,
        method="percentile",
        confidence_level=0.95,
        random_state=np.random.default_rng(1),
    ).confidence_interval
    tolerance = 0.1 * values.std() / np.sqrt(len(values))
    assert low == pytest.approx(reference.low, abs=tolerance)
    assert high == pytest.approx(reference.high, abs=tolerance)


def test_bootstrap_is_seeded_and_validates():
    values = np.random.default_rng(0).random(500)
    assert bootstrap_mean_ci(values, seed=5) == bootstrap_mean_ci(values, seed=5)
    assert bootstrap_mean_ci(values, seed=5) != bootstrap_mean_ci(values, seed=6)
    assert bootstrap_mean_ci([2.0]) == (1, 2.0, 2.0, 2.0)
    assert bootstrap_mean_ci([-np.inf, 1.0, 2.0])[1:] == pytest.approx((-np.inf, np.nan, np.nan), nan_ok=True)
    with pytest.raises(ValueError, match="confidence=1.5"):
        bootstrap_mean_ci(values, confidence=1.5)
    with pytest.raises(ValueError, match="n_boot=0"):
        bootstrap_mean_ci(values, n_boot=0)


def test_summarise_gives_known_means_counts_and_lengths():
    table = tidy(
        [
            ("a", 1e8, "t_gen", "exact_match", 2.0, [1, 0, 0, 0]),
            ("a", 1e8, "t_gen", "exact_match", 3.0, [1, 0, np.nan, np.nan]),
            ("a", 1e8, "t_gen", "token_edit_distance", np.nan, [0, 1, 2, 3]),
            ("b", 1e9, "t_gen", "token_edit_distance", np.nan, [0, 0, 1, 1]),
        ]
    )
    summary = summarise(table, n_boot=200)
    assert list(summary.columns) == SUMMARY_COLUMNS
    records = summary[["model", "metric", "length", "n", "mean"]].to_dict("records")
    assert records[0] == {"model": "a", "metric": "exact_match", "length": 2.0, "n": 4, "mean": 0.25}
    assert records[1] == {"model": "a", "metric": "exact_match", "length": 3.0, "n": 2, "mean": 0.5}
    assert records[2]["model"] == "a" and np.isnan(records[2]["length"]) and records[2]["mean"] == 1.5
    assert records[3]["model"] == "b" and records[3]["mean"] == 0.5
    assert (summary["ci_low"] <= summary["mean"]).all() and (summary["mean"] <= summary["ci_high"]).all()


def test_summarise_ci_of_a_group_does_not_depend_on_other_groups():
    one = tidy([("a", 1e8, "t", "m", np.nan, np.random.default_rng(1).random(100))])
    others = tidy(
        [
            ("b", 1e9, "t", "m", np.nan, np.random.default_rng(2).random(100)),
            ("a", 1e8, "t", "m2", np.nan, np.random.default_rng(3).random(100)),  # shares a's resamples
            ("a", 1e8, "t", "m3", np.nan, np.r_[-np.inf, np.random.default_rng(4).random(99)]),
        ]
    )
    first = summarise(one).iloc[0]
    summary = summarise(pd.concat([one, others])).set_index(["model", "metric"])
    assert summary.loc[("a", "m"), ["ci_low", "ci_high"]].tolist() == first[["ci_low", "ci_high"]].tolist()
    assert summary.loc[("a", "m3"), "mean"] == -np.inf and np.isnan(summary.loc[("a", "m3"), "ci_low"])


def test_summarise_intervals_do_not_depend_on_the_number_of_threads(monkeypatch):
    from mirage_metrics import summary as summary_module

    rng = np.random.default_rng(5)
    table = tidy(
        [
            (f"m{i}", 10.0**i, task, metric, np.nan, rng.normal(size=300))
            for i in range(4)
            for task in ("t_ll", "u_ll")
            for metric in ("target_log_prob", "per_char_prob")
        ]
    )
    monkeypatch.setattr(summary_module, "usable_cpus", lambda: 1)
    one = summarise(table, n_boot=200)
    monkeypatch.setattr(summary_module, "usable_cpus", lambda: 3)
    pd.testing.assert_frame_equal(summarise(table, n_boot=200), one)


def test_summarise_resamples_the_continuous_metrics_of_a_task_together():
    """A paired bootstrap: with the same resampled rows, an affine image of a metric has the affine image CI."""
    log_prob = np.random.default_rng(0).normal(-3.0, 1.0, size=2000)
    table = tidy(
        [
            ("a", 1e8, "t_ll", "target_log_prob", np.nan, log_prob),
            ("a", 1e8, "t_ll", "scaled", np.nan, 2.0 * log_prob + 1.0),
            ("b", 1e9, "t_ll", "scaled", np.nan, 2.0 * log_prob + 1.0),
        ]
    )
    summary = summarise(table, n_boot=500).set_index(["model", "metric"])
    own, scaled = summary.loc[("a", "target_log_prob")], summary.loc[("a", "scaled")]
    for bound in ("ci_low", "ci_high"):
        assert scaled[bound] == pytest.approx(2.0 * own[bound] + 1.0, rel=1e-12)
    # Another model draws its own resamples: the same values get a different (but equally valid) interval.
    assert summary.loc[("b", "scaled"), "ci_low"] != scaled["ci_low"]
    half_width = 1.96 * 2.0 * log_prob.std() / np.sqrt(len(log_prob))
    assert (scaled["ci_high"] - scaled["ci_low"]) / 2 == pytest.approx(half_width, rel=0.15)


def test_emergence_scores_known_values_and_lower_is_better_sign():
    means = {"exact_match": [0.0, 0.0, 0.01, 0.9], "token_edit_distance": [3.0, 2.0, 1.0, 0.0]}
    table = tidy(
        [
            (f"m{i}", size, "t", metric, np.nan, [values[i]] * 3)
            for metric, values in means.items()
            for i, size in enumerate(SIZES)
        ]
    )
    scores = curve_table(summarise(table, n_boot=50)).set_index("metric")
    assert scores.loc["exact_match", "emergence_score"] == pytest.approx(90.0)
    assert scores.loc["token_edit_distance", "emergence_score"] == pytest.approx(3.0)  # negated: improves
    assert scores["n_sizes"].tolist() == [4, 4]


def test_emergence_rejects_two_models_of_one_size():
    table = tidy([("a", 1e8, "t", "m", np.nan, [0.1]), ("b", 1e8, "t", "m", np.nan, [0.2])])
    with pytest.raises(ValueError, match=r"models a \(1e\+08\), b \(1e\+08\) of family .* share one parameter count"):
        curve_table(summarise(table, n_boot=10))


def test_power_law_fit_recovers_c_and_alpha():
    loss = [(n / C) ** ALPHA for n in SIZES]
    fit = fit_power_law(SIZES, loss)
    assert fit.c == pytest.approx(C, rel=1e-9) and fit.alpha == pytest.approx(ALPHA, rel=1e-9)
    with pytest.raises(ValueError, match="at least two different model sizes"):
        fit_power_law([1e8, 1e8], [1.0, 2.0])
    with pytest.raises(ValueError, match="loss must be positive"):
        fit_power_law([1e8, 1e9], [1.0, 0.0])


@pytest.mark.parametrize("bad", [0, -1e9, np.nan, np.inf])
def test_the_fit_refuses_sizes_that_are_not_positive(bad):
    loss = [(n / C) ** ALPHA for n in SIZES]
    with pytest.raises(ValueError, match=r"^params\[1\]="):
        fit_power_law([SIZES[0], bad, *SIZES[2:]], loss)
    with pytest.raises(ValueError, match=r"^params\[0\]="):
        PowerLaw(c=C, alpha=ALPHA).loss([bad, 1e9])
    summary = summarise(with_per_char_loss(power_law_table()), n_boot=10)
    fit = fit_mirage(summary)[0]
    with pytest.raises(ValueError, match=r"^params\[0\]="):
        mirage_curves(fit, [bad], [1])
    for holdout in (0, 1):  # a fitted model and a held-out one
        model = "m0" if holdout == 0 else "m3"
        broken = summary.assign(params=np.where(summary["model"] == model, bad, summary["params"]))
        with pytest.raises(ValueError, match=f"^summary: params=.* of model '{model}' .*must be a positive"):
            fit_mirage(broken, holdout_largest=holdout)


def test_the_fit_refuses_sizes_that_are_not_numbers():
    loss = [1.0, 0.5]
    for bad in (["1e6", "1e7"], [True, 2.0], [object(), 1.0]):
        with pytest.raises(ValueError, match=r"^params\[0\]=.* must be a positive"):
            fit_power_law(bad, loss)
        with pytest.raises(ValueError, match=r"^params\[0\]=.* must be a positive"):
            PowerLaw(c=C, alpha=ALPHA).loss(bad)


def test_mirage_predictions_match_the_paper_numbers():
    predictions = mirage_predictions([(n / C) ** ALPHA for n in (3.5e8, 1.3e9, 6.7e9, 1.75e11)], lengths=[1])
    assert predictions["p"].round(3).tolist() == [0.092, 0.289, 0.579, 0.899]


def power_law_table(sizes=SIZES, n=200) -> pd.DataFrame:
    """Per-sample per-char probabilities whose mean loss follows (N/c)^α, and by-length accuracies p^L."""
    rows = []
    for i, size in enumerate(sizes):
        loss = (size / C) ** ALPHA
        spread = np.tile([0.8, 1.2], n // 2) * loss  # mean loss is exactly `loss`
        rows.append((f"m{i}", size, "t_ll", "per_char_prob", np.nan, np.exp(-spread)))
        for length in (1, 3):
            hits = int(round(np.exp(-loss * length) * n))
            rows.append((f"m{i}", size, "t_gen_t1", "exact_match", float(length), [1] * hits + [0] * (n - hits)))
    return tidy(rows)


def test_mirage_fit_recovers_the_power_law_from_per_sample_probabilities():
    summary = summarise(with_per_char_loss(power_law_table()), n_boot=50)
    losses = summary[summary["metric"] == "per_char_loss"]["mean"].tolist()
    assert losses == pytest.approx([(n / C) ** ALPHA for n in SIZES])
    (fit,) = fit_mirage(summary)
    assert (fit.family, fit.stem, fit.loss_task) == ("fam", "t", "t_ll")
    assert fit.law.c == pytest.approx(C, rel=1e-6) and fit.law.alpha == pytest.approx(ALPHA, rel=1e-6)
    assert fit.held_out.empty
    rows = fit_table([fit])
    assert rows[["task", "n_fit_models"]].to_dict("records") == [{"task": "t_ll", "n_fit_models": 4}]


def test_holdout_predicts_the_largest_model():
    summary = summarise(with_per_char_loss(power_law_table()), n_boot=50)
    (fit,) = fit_mirage(summary, holdout_largest=1)
    assert fit.fit_models == ("m0", "m1", "m2")
    assert fit.law.c == pytest.approx(C, rel=1e-6)
    checks = fit.held_out.set_index(["metric", "length"], drop=False)
    p = np.exp(-((1e11 / C) ** ALPHA))
    assert checks.loc[("per_char_loss", np.nan), "predicted"].item() == pytest.approx((1e11 / C) ** ALPHA)
    exact = fit.held_out[fit.held_out["metric"] == "exact_match"].set_index("length")
    # The fit predicts the mean of p_i^3 over the samples (losses 0.8 and 1.2 times the mean), not p^3 of the mean.
    true_mean = np.mean(np.exp(-3 * np.array([0.8, 1.2]) * (1e11 / C) ** ALPHA))
    assert exact.loc[3.0, "predicted"] == pytest.approx(true_mean, abs=1e-3)
    assert abs(exact.loc[3.0, "predicted"] - true_mean) < abs(p**3 - true_mean)
    assert exact.loc[3.0, "observed"] == pytest.approx(round(p**3 * 200) / 200)
    assert set(fit_table([fit])["model"]) == {"m3"}
    with pytest.raises(ValueError, match="holdout_largest=3 leaves 1 model"):
        fit_mirage(summary, holdout_largest=3)


def test_summarise_handles_many_samples_in_bounded_chunks():
    values = np.random.default_rng(0).random(100_000)
    table = tidy(
        [
            ("a", 1e8, "t", "target_log_prob", np.nan, np.log(values)),
            ("a", 1e8, "t", "exact_match", np.nan, values > 0.5),
        ]
    )
    summary = summarise(table, n_boot=100).set_index("metric")
    assert summary.loc["exact_match", "n"] == 100_000
    assert summary.loc["target_log_prob", "ci_low"] < np.log(values).mean() < summary.loc["target_log_prob", "ci_high"]


def test_single_sizes_and_unfittable_losses_get_no_fit():
    one_size = summarise(with_per_char_loss(power_law_table(sizes=[1e9])), n_boot=10)
    assert fit_mirage(one_size) == []
    perfect = tidy([(f"m{i}", size, "t_ll", "per_char_prob", np.nan, [1.0, 1.0]) for i, size in enumerate(SIZES)])
    with pytest.warns(UserWarning, match="no mirage fit for family 'fam', task 't_ll': loss must be positive"):
        assert fit_mirage(summarise(with_per_char_loss(perfect), n_boot=10)) == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["x", "y", "z"]), st.integers(0, 2), st.sampled_from([-1.0, 2.0, 3.0])),
        min_size=1,
        max_size=30,
    ),
    st.booleans(),
    st.booleans(),
)
def test_group_indices_equal_pandas_groupby(rows, contiguous, categorical):
    """Whether groups are runs of rows (read_results' layout) or interleaved, the groups are pandas' own."""
    from mirage_metrics.summary import _group_indices

    keys = pd.DataFrame(sorted(rows) if contiguous else rows, columns=["a", "b", "c"])
    if categorical:
        keys["a"] = keys["a"].astype("category")
    expected = keys.groupby(["a", "b", "c"], sort=False, observed=True).indices
    groups = _group_indices(keys, ["a", "b", "c"])
    assert [key for key, _ in groups] == list(expected)
    for key, index in groups:
        assert index.tolist() == expected[key].tolist()


def test_zero_of_n_reads_below_about_four_over_n_not_zero():
    table = tidy([("a", 1e8, "t", "exact_match", np.nan, np.zeros(1000))])
    row = summarise(table).iloc[0]
    assert (row["mean"], row["ci_low"], row["interval"]) == (0.0, 0.0, "clopper-pearson")
    assert row["ci_high"] == pytest.approx(1 - 0.025 ** (1 / 1000))  # 0.00368: between 3/n and 4/n
    assert 3 / 1000 < row["ci_high"] < 4 / 1000


def test_binomial_interval_covers_a_rare_rate_at_least_95_percent_of_the_time():
    p, n, repeats = 0.002, 1000, 2000
    hits = np.random.default_rng(7).binomial(n, p, size=repeats)
    bounds = {k: binomial_ci(k, n) for k in np.unique(hits)}
    covered = np.mean([bounds[k][0] <= p <= bounds[k][1] for k in hits])
    assert covered >= 0.95
    # The percentile bootstrap it replaces for 0/1 metrics covers far less at this rate.
    boot_covered = np.mean(
        [
            bootstrap_mean_ci(np.r_[np.ones(k), np.zeros(n - k)], n_boot=200, seed=int(k))[2]
            <= p
            <= bootstrap_mean_ci(np.r_[np.ones(k), np.zeros(n - k)], n_boot=200, seed=int(k))[3]
            for k in hits[:300]
        ]
    )
    assert boot_covered < 0.95


def test_graded_and_continuous_groups_keep_the_bootstrap():
    table = tidy(
        [
            ("a", 1e8, "t", "multiple_choice_grade", np.nan, [0.0, 0.5, 1.0, 1.0]),
            ("a", 1e8, "t", "token_edit_distance", np.nan, [0.0, 1.0, 2.0, 1.0]),
        ]
    )
    assert summarise(table, n_boot=50)["interval"].tolist() == ["bootstrap", "bootstrap"]
    with pytest.raises(ValueError, match="need n >= 1"):
        binomial_ci(3, 2)


def test_flat_and_rising_losses_are_flagged_and_predict_nothing():
    rising = PowerLaw(c=1e6, alpha=0.3)
    assert "rises with size" in rising.problem
    flat = fit_power_law([1e6, 1e7, 1e8], [1.0, 1.0 + 1e-13, 1.0])
    assert "flat" in flat.problem
    table = tidy(
        [
            (f"m{i}", size, "t_ll", "per_char_prob", np.nan, np.exp(-np.array([0.5, 0.7]) * (1 + i / 10)))
            for i, size in enumerate(SIZES)
        ]
        + [(f"m{i}", size, "t_gen_t1", "exact_match", 2.0, [0, 1]) for i, size in enumerate(SIZES)]
    )
    with pytest.warns(UserWarning, match="the loss rises with size"):
        (fit,) = fit_mirage(summarise(with_per_char_loss(table), n_boot=10), holdout_largest=1)
    rows = fit_table([fit])
    assert rows["problem"].str.contains("rises with size").all()
    assert rows["predicted"].isna().all() and rows["observed"].notna().all()
