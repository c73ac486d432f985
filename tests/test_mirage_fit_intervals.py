"""The per-L laws of the mirage fit (mirage_fit.PrefixLaw): the loss of the first L characters against size, their
prediction intervals for held-out temperature-1 exact match, their coverage on data of the paper's model, and the
refusal to fit a law through fewer than 3 sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from mirage_metrics.mirage_fit import MIN_FIT_SIZES, PrefixLaw, fit_mirage, fit_prefix_law, fit_table

C, ALPHA = 2e9, -0.5
SIZES = np.geomspace(1e8, 1e11, 8)


def paper_loss(sizes) -> np.ndarray:
    return (np.asarray(sizes, float) / C) ** ALPHA


def summary_rows(sizes, per_char_loss, prefix, exact, n=500) -> pd.DataFrame:
    """A summary frame (summary.summarise's columns) of one family and stem: per-character loss and probability on
    t_ll, prefix_prob by L on t_ll, temperature-1 exact match by L on t_gen_t1 (``prefix``, ``exact``: L -> means)."""
    rows = []
    for i, size in enumerate(sizes):
        model = f"m{i}"
        rows.append((model, size, "t_ll", "per_char_loss", np.nan, per_char_loss[i]))
        rows.append((model, size, "t_ll", "per_char_prob", np.nan, np.exp(-per_char_loss[i])))
        for length in prefix:
            rows.append((model, size, "t_ll", "prefix_prob", float(length), prefix[length][i]))
            rows.append((model, size, "t_gen_t1", "exact_match", float(length), exact[length][i]))
    frame = pd.DataFrame(rows, columns=["model", "params", "task", "metric", "length", "mean"])
    return frame.assign(family="fam", n=n, ci_low=np.nan, ci_high=np.nan, interval="")


def test_the_law_of_every_length_is_the_paper_law_when_every_character_is_alike():
    probability = np.exp(-paper_loss(SIZES[:4]))
    for length in (1, 2, 5):
        law = fit_prefix_law(SIZES[:4], probability**length, length)
        assert law.law.c == pytest.approx(C, rel=1e-9) and law.law.alpha == pytest.approx(ALPHA, rel=1e-9)
        assert law.scatter == pytest.approx(0.0, abs=1e-9)
        predicted, low, high = law.exact_match(SIZES[6])
        assert predicted == pytest.approx(np.exp(-length * paper_loss(SIZES[6])), rel=1e-9)
        assert low == pytest.approx(predicted) and high == pytest.approx(predicted)


def test_without_scatter_the_interval_is_the_exact_binomial_range_of_the_held_out_answers():
    law = fit_prefix_law(SIZES[:4], np.exp(-paper_loss(SIZES[:4])), length=1)
    predicted, low, high = law.exact_match(SIZES[5], 400)
    assert (low * 400, high * 400) == pytest.approx(
        (binom.ppf(0.025, 400, predicted), binom.ppf(0.975, 400, predicted))
    )


def test_the_interval_widens_with_scatter_distance_and_fewer_sizes():
    def width(law: PrefixLaw, size=SIZES[5]) -> float:  # on the fitted scale, log of the per-character loss
        _, low, high = law.exact_match(size)
        return float(np.log(-np.log(low)) - np.log(-np.log(high)))

    law = PrefixLaw(1, fit_prefix_law(SIZES[:4], np.exp(-paper_loss(SIZES[:4])), 1).law, tuple(np.log(SIZES[:4])), 0.1)
    assert width(law) > width(PrefixLaw(1, law.law, law.log_params, 0.0))
    assert width(law, SIZES[7]) > width(law, SIZES[4])
    five = PrefixLaw(1, law.law, tuple(np.log(SIZES[:5])), 0.1)
    three = PrefixLaw(1, law.law, tuple(np.log(SIZES[[0, 2, 4]])), 0.1)
    assert width(three) > width(five)  # Student's t on 1 degree of freedom, not 3


def test_the_intervals_have_their_nominal_coverage_on_data_of_the_paper_model():
    """Per seed: 8 sizes, the per-character loss (N / 2e9)^-0.5 times the size's own deviation exp(tau·z) (tau 0:
    the paper's model exactly), 300 problems per size whose characters each have probability exp(-loss); the _ll
    side gives the exact mean prefix probability, the t = 1 side draws each answer. Fit on the 4 smallest, predict
    larger ones: the observed exact match lies in the 95% interval about 95% of the time, over 200 seeds."""
    n = 300
    for tau, lengths, held_out in ((0.0, (1, 3, 5), (4, 5, 6, 7)), (0.2, (1, 3), (4, 7))):
        inside = []
        for seed in range(200):
            rng = np.random.default_rng(seed)
            loss = paper_loss(SIZES) * np.exp(tau * rng.standard_normal(len(SIZES)))
            for length in lengths:
                probability = np.exp(-length * loss)
                observed = rng.binomial(n, probability) / n
                law = fit_prefix_law(SIZES[:4], probability[:4], length)
                for i in held_out:
                    _, low, high = law.exact_match(SIZES[i], n)
                    inside.append(low <= observed[i] <= high)
        assert 0.92 <= np.mean(inside) <= 0.98, (tau, np.mean(inside))


def test_fit_mirage_predicts_held_out_exact_match_by_length_with_intervals():
    loss = paper_loss(SIZES)
    prefix = {length: np.exp(-length * loss) for length in (1, 2, 3)}
    exact = {length: np.round(values * 500) / 500 for length, values in prefix.items()}
    exact[2] = exact[2] * np.r_[np.ones(7), 0.3]  # the largest model far below the law at L = 2
    (fit,) = fit_mirage(summary_rows(SIZES, loss, prefix, exact), holdout_largest=4)
    assert fit.fit_models == ("m0", "m1", "m2", "m3") and [law.length for law in fit.prefix_laws] == [1, 2, 3]
    rows = fit_table([fit])
    cells = rows[rows["metric"] == "exact_match"].set_index(["model", "length"])
    assert len(cells) == 12 and cells[["predicted_low", "predicted_high"]].notna().all().all()
    assert cells["c"].to_numpy() == pytest.approx(C, rel=1e-6) and (cells["n_fit_models"] == 4).all()
    for (model, length), row in cells.iterrows():
        law = fit.prefix_laws[int(length) - 1]
        assert (row["predicted"], row["predicted_low"], row["predicted_high"]) == law.exact_match(row["params"], 500)
    inside = (cells["predicted_low"] <= cells["observed"]) & (cells["observed"] <= cells["predicted_high"])
    assert not inside[("m7", 2)] and inside.drop(("m7", 2)).all()
    others = rows[rows["metric"] != "exact_match"]
    assert others["predicted_low"].isna().all() and others["predicted"].notna().all()  # per_char_loss: no interval


def test_a_law_through_fewer_than_three_sizes_is_refused():
    assert MIN_FIT_SIZES == 3
    with pytest.raises(ValueError, match="params holds 2 model size"):
        fit_prefix_law(SIZES[:2], [0.2, 0.4], 1)
    loss = paper_loss(SIZES[:2])
    (fit,) = fit_mirage(summary_rows(SIZES[:2], loss, {1: np.exp(-loss)}, {1: np.exp(-loss)}))
    assert fit.law is None and fit.prefix_laws == ()
    assert "only 2 model size(s) (m0, m1)" in fit.refusal and "fewer than 3 sizes is not fitted" in fit.refusal
    assert fit_table([fit]).empty  # no law row
    four = summary_rows(SIZES[:4], paper_loss(SIZES[:4]), {}, {})
    with pytest.raises(ValueError, match="holdout_largest=2 leaves 2 model.*at least 3 sizes, so hold out fewer"):
        fit_mirage(four, holdout_largest=2)


def test_a_length_with_too_few_usable_sizes_predicts_nothing_and_says_why():
    loss = paper_loss(SIZES)
    prefix = {1: np.exp(-loss), 4: np.r_[0.0, 0.0, np.exp(-4 * loss[2:])]}  # L = 4: two fitted sizes at exactly 0
    (fit,) = fit_mirage(summary_rows(SIZES, loss, prefix, prefix), holdout_largest=4)
    rows = fit_table([fit])
    cells = rows[rows["metric"] == "exact_match"].set_index("length")
    assert cells.loc[4, "predicted"].isna().all() and cells.loc[1, "predicted"].notna().all()
    assert cells.loc[4, "problem"].str.contains("2 fitted size").all()
