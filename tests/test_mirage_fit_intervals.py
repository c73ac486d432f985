"""The per-L laws of the mirage fit (mirage_fit.PrefixLaw): the loss of the first L characters against size, their
prediction intervals for held-out temperature-1 exact match, their coverage on data of the paper's model, and the
refusal to fit a law through fewer than 3 sizes."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from mirage_metrics.mirage_fit import MIN_FIT_SIZES, PrefixLaw, fit_mirage, fit_prefix_law, fit_table
from mirage_metrics.report import build_report

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


def test_a_length_whose_loss_rises_with_size_predicts_nothing():
    loss = paper_loss(SIZES)
    prefix = {1: np.exp(-loss), 2: np.exp(-2 * loss[::-1])}  # L = 2: worse with size
    (fit,) = fit_mirage(summary_rows(SIZES, loss, prefix, prefix), holdout_largest=4)
    cells = fit_table([fit]).query("metric == 'exact_match'").set_index("length")
    assert cells.loc[2, "problem"].str.contains("rises with size").all() and (cells.loc[2, "alpha"] > 0).all()
    assert cells.loc[2, ["predicted", "predicted_low", "predicted_high"]].isna().all().all()
    assert cells.loc[1, "predicted"].notna().all()


def sweep_with_prefix_probabilities(root, sizes, problems=200):
    """A `mirage sweep` layout of the paper's model: per model a _ll task with per_char_prob and prefix_prob_L
    (every character has probability p = exp(-(N/c)^α)) and a _gen_t1 task whose exact match of length L hits
    round(p^L · problems) times, for L = 1..3."""
    from conftest import write_lm_eval_run

    for i, size in enumerate(sizes):
        p = float(np.exp(-paper_loss(size)))
        ll = {"per_char_prob": [p] * problems, **{f"prefix_prob_L{L}": [p**L] * problems for L in (1, 2, 3)}}
        sampled = {}
        for L in (1, 2, 3):
            hits = int(round(p**L * problems))
            sampled[f"exact_match_L{L}"] = [1.0] * hits + [0.0] * (problems - hits)
        write_lm_eval_run(
            root / "fam" / f"m{i}",
            f"/ckpt/m{i}",
            None,
            {"t_ll": ll, "t_gen_t1": sampled, "t_gen": sampled},
            model_json={"family": "fam", "model": f"m{i}", "path": f"/ckpt/m{i}", "params": int(size)},
        )
    return root / "fam"


def test_the_report_writes_the_intervals_and_says_how_the_law_did_in_the_t1_section(tmp_path):
    source = sweep_with_prefix_probabilities(tmp_path / "runs", SIZES[:7])
    build_report([source], tmp_path / "report", n_boot=20, holdout_largest=3)
    fit = pd.read_csv(tmp_path / "report" / "fit.csv")
    assert {"predicted_low", "predicted_high"} <= set(fit.columns)
    cells = fit[fit["metric"] == "exact_match"]
    assert len(cells) == 9 and set(cells["model"]) == {"m4", "m5", "m6"} and (cells["n_fit_models"] == 4).all()
    assert ((cells["predicted_low"] <= cells["observed"]) & (cells["observed"] <= cells["predicted_high"])).all()
    page = html.unescape((tmp_path / "report" / "report.html").read_text())
    sentence = (
        "one law per L fitted on 4 sizes: the law's 95% interval held the observed value in 9 of 9 held-out cells"
    )
    assert page.count(sentence) == 1
    sections = dict(re.findall(r"<h3>(t_\w+) — fam</h3>\s*<p>(.*?)</p>", page, re.S))
    assert sentence in sections["t_gen_t1"] and "Mirage fit" not in sections["t_gen"] + sections["t_ll"]


def test_the_report_refuses_a_law_through_two_sizes_and_says_why(tmp_path):
    source = sweep_with_prefix_probabilities(tmp_path / "runs", SIZES[:2])
    build_report([source], tmp_path / "report", n_boot=20)
    assert pd.read_csv(tmp_path / "report" / "fit.csv").empty
    page = html.unescape((tmp_path / "report" / "report.html").read_text())
    assert "No mirage fit: only 2 model size(s) (m0, m1) have a per-character loss on t_ll" in page
    assert "fam, t: no fit; only 2 model size(s)" in page  # the fit section says it too
