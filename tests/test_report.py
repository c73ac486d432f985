"""`mirage report` end to end on lm-eval output folders written here, with known values."""

from __future__ import annotations

import json
import re
import sys
import types

import numpy as np
import pandas as pd
import pytest

from conftest import (
    ALPHA,
    DATE,
    EDIT_DISTANCE,
    EXACT_MATCH,
    MIRAGE,
    SIZES,
    C,
    N,
    model_samples,
    run_cli,
    write_lm_eval_run,
)
from mirage_metrics.html_page import Paragraph, Section
from mirage_metrics.report import build_report, source_kind
from mirage_metrics.results import read_lm_eval, results_warnings
from mirage_metrics.vision.samples import sample_rows


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory):
    """A `mirage sweep` layout: <out>/<family>/<model>/ with model.json, four sizes."""
    root = tmp_path_factory.mktemp("sweep")
    for i, size in enumerate(SIZES):
        write_lm_eval_run(
            root / "toy" / f"m{i}",
            f"/ckpt/m{i}",
            None,
            model_samples(i, size),
            model_json={"family": "toy", "model": f"m{i}", "path": f"/ckpt/m{i}", "params": int(size)},
        )
    return root


@pytest.fixture(scope="module")
def report_folder(sweep_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    run_cli([*MIRAGE, "report", sweep_folder, "--out", out, "--holdout-largest", "1", "--bootstrap", "200"])
    return out


def test_metrics_csv_holds_known_means_and_cis(report_folder):
    metrics = pd.read_csv(report_folder / "metrics.csv")
    assert list(metrics.columns) == [
        "family",
        "model",
        "params",
        "task",
        "metric",
        "length",
        "n",
        "mean",
        "ci_low",
        "ci_high",
        "interval",
    ]
    binary = metrics[metrics["metric"].isin(["exact_match", "multiple_choice_grade"])]
    assert (binary["interval"] == "clopper-pearson").all()
    zero = binary[binary["mean"] == 0]
    assert len(zero) and (zero["ci_high"] > 0.2).all()  # 0 of 10 reads "below 0.31", not [0, 0]
    gen = metrics[(metrics["task"] == "mirage_arith_2dm_gen") & metrics["length"].isna()]
    assert gen[gen["metric"] == "exact_match"].sort_values("params")["mean"].tolist() == pytest.approx(EXACT_MATCH)
    assert gen[gen["metric"] == "token_edit_distance"]["mean"].tolist() == pytest.approx(EDIT_DISTANCE)
    by_length = metrics[
        (metrics["metric"] == "exact_match") & (metrics["length"] == 3) & (metrics["task"] == "mirage_arith_2dm_gen")
    ]
    assert by_length["n"].tolist() == [N - 1] * 4  # the NaN sample is left out
    assert metrics["params"].tolist() == metrics["params"].astype(int).tolist()
    assert ((metrics["ci_low"] <= metrics["mean"] + 1e-12) | metrics["ci_low"].isna()).all()
    assert not metrics["metric"].str.contains("_L9").any() and 9 not in set(metrics["length"])
    brier = metrics[metrics["metric"] == "bigbench_brier_score"]  # aggregate-only: no per-sample values, no CI
    assert len(brier) == 4 and brier["n"].isna().all() and brier["mean"].notna().all()


def test_emergence_csv_recovers_known_scores(report_folder):
    emergence = pd.read_csv(report_folder / "emergence.csv")
    assert list(emergence.columns)[:5] == ["family", "task", "metric", "length", "n_sizes"]
    assert {"emergence_low", "emergence_high", "sharpness", "sharpness_low", "trend"} <= set(emergence.columns)
    assert (emergence["emergence_low"] <= emergence["emergence_score"] + 1e-9).all()
    gen = emergence[(emergence["task"] == "mirage_arith_2dm_gen") & emergence["length"].isna()].set_index("metric")
    assert gen.loc["exact_match", "emergence_score"] == pytest.approx(9.0)
    assert gen.loc["token_edit_distance", "emergence_score"] == pytest.approx(3.0)
    assert emergence.loc[emergence["metric"] == "multiple_choice_grade", "emergence_score"].item() == pytest.approx(9.0)


def test_fit_csv_recovers_the_power_law_and_predicts_the_held_out_model(report_folder):
    fit = pd.read_csv(report_folder / "fit.csv")
    assert fit["c"].unique() == pytest.approx([C], rel=1e-6)
    assert fit["alpha"].unique() == pytest.approx([ALPHA], rel=1e-6)
    assert set(fit["model"]) == {"m3"} and (fit["n_fit_models"] == 3).all()
    loss = fit[fit["metric"] == "per_char_loss"].iloc[0]
    assert loss["predicted"] == pytest.approx((1e11 / C) ** ALPHA) and loss["observed"] == pytest.approx(
        loss["predicted"]
    )
    exact = fit[(fit["metric"] == "exact_match")].set_index("length")
    p = np.exp(-((1e11 / C) ** ALPHA))
    # The mean of p_i^2 over the samples (per-character losses 0.5 and 1.5 times the mean), not p^2 of the mean.
    assert exact.loc[2, "predicted"] == pytest.approx(
        np.mean(np.exp(-2 * np.array([0.5, 1.5]) * (1e11 / C) ** ALPHA)), abs=2e-3
    )
    assert exact.loc[2, "observed"] == pytest.approx(round(p**2 * N) / N)
    # fit.csv alone reproduces it: mean of exp(-2 loss) for a gamma of shape loss_shape around the fitted loss.
    shape = exact.loc[2, "loss_shape"]
    assert np.isfinite(shape)
    assert exact.loc[2, "predicted"] == pytest.approx((1 + 2 * loss["predicted"] / shape) ** -shape)


def test_report_html_is_self_contained_with_plots_and_verdicts(report_folder):
    pngs = sorted(path.name for path in report_folder.glob("*.png"))
    assert "fig3_toy_mirage_arith_2dm_gen.png" in pngs and "fig4_toy_mirage_arith_2dm_gen.png" in pngs
    assert "probability_toy_mirage_arith_2dm_ll.png" in pngs and "all_toy_mirage_bb_toy_mc.png" in pngs
    page = (report_folder / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(pngs)
    assert "http://" not in page and "https://" not in page and "<link" not in page and "<script" not in page
    # 10 problems per model: the exact-match jump (0, 0, 0.1, 0.9) is too noisy to claim; the edit distance and the
    # per-character probability of the same problems are smooth.
    verdict = re.search(r"<p><strong>Answer: no jump.</strong> (All-or-nothing: exact_match .*?)</p>", page).group(1)
    assert "exact_match unclear (sharpness 0.83 [" in verdict
    assert "token_edit_distance smooth" in verdict and "per_char_prob smooth" in verdict
    assert "No all-or-nothing metric jumps" in verdict
    assert "bigbench_brier_score no clear change" in page
    assert "95% interval at 4 of 4 sizes (largest gap 0)" in page
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]*", "", page)
    assert "&lt;NA&gt;" not in text and ">nan<" not in text
    assert "Held out m3" in page


def test_the_page_leads_with_the_answers_then_each_tasks_verdict_figures_and_folded_tables(report_folder):
    page = (report_folder / "report.html").read_text()
    answers = page.index("<h2>Answers</h2>")
    overview = re.search(r"<tr><td>toy</td><td>mirage_arith_2dm_gen</td><td>(.*?)</td><td>(.*?)</td>", page)
    assert answers < overview.start() < page.index("<h2>Tasks</h2>")
    assert overview.group(1) == "no jump" and overview.group(2).startswith("exact_match unclear (sharpness 0.83 [")
    section = page[page.index("<h3>mirage_arith_2dm_gen — toy</h3>") : page.index("<h3>mirage_arith_2dm_gen_t1")]
    verdict, figure = section.index("<strong>Answer: no jump.</strong>"), section.index("<figure>")
    details = section.index("<details><summary>Every curve of mirage_arith_2dm_gen, by length too")
    assert verdict < figure < section.rindex("</figure>") < details < section.index("<table>")
    # every table but the answers is folded away, so the page reads as answers, verdicts and figures
    unfolded = re.sub(r"<details>.*?</details>", "", page, flags=re.S)
    assert unfolded.count("<table>") == 1 and page.count("<table>") > 5
    assert re.search(r"<details><summary>Every metric of every model, \d+ rows</summary>\s*<table>", page)


def test_plain_lm_eval_folders_with_a_params_file(tmp_path):
    source = tmp_path / "runs"
    for i, size in enumerate(SIZES[:2]):
        write_lm_eval_run(
            source / f"ckpt__m{i}",
            f"ckpt/m{i}",
            int(size) if i == 0 else None,
            {"mirage_arith_2dm_gen": model_samples(i, size)["mirage_arith_2dm_gen"]},
        )
    params = tmp_path / "params.yaml"
    params.write_text("m1: 1000000000\n")
    out = tmp_path / "report"
    run_cli([*MIRAGE, "report", source, "--out", out, "--param-counts", params, "--bootstrap", "50"])
    metrics = pd.read_csv(out / "metrics.csv")
    assert set(metrics["family"]) == {"runs"} and sorted(set(metrics["params"])) == [int(1e8), int(1e9)]
    assert pd.read_csv(out / "fit.csv").empty  # no per_char_prob: nothing to fit
    assert (out / "report.html").is_file()


def test_a_truncated_samples_file_gives_a_clear_error(tmp_path):
    folder = tmp_path / "runs" / "m0"
    write_lm_eval_run(folder, "ckpt/m0", 1000, {"t_gen": {"exact_match": [1.0, 0.0]}})
    samples = folder / f"samples_t_gen_{DATE}.jsonl"
    samples.write_text(samples.read_text()[:-20])
    done = run_cli([*MIRAGE, "report", tmp_path / "runs", "--out", tmp_path / "out"], check=False)
    assert done.returncode == 2
    assert f"{samples}, line 2: malformed JSON" in done.stderr


def test_holding_out_too_many_models_is_refused(sweep_folder, tmp_path):
    with pytest.raises(ValueError, match="holdout_largest=3 leaves 1 model"):
        build_report([sweep_folder], tmp_path, holdout_largest=3, n_boot=10)


def test_vision_and_meta_analysis_folders_are_dispatched(tmp_path, monkeypatch):
    vision = tmp_path / "vision"
    vision.mkdir()
    pd.concat(
        [
            sample_rows("omniglot", model, params, "omniglot", "subset_accuracy", [0.0, 1.0], length=5)
            for model, params in (("width8", 100), ("width16", 300))
        ]
    ).to_csv(vision / "samples.csv", index=False)
    (vision / "config.json").write_text('{"study": "omniglot"}')
    meta = tmp_path / "meta"
    meta.mkdir()
    (meta / "by_metric.csv").write_text("metric,share\n")
    seen = []
    meta_page = types.SimpleNamespace(
        meta_section=lambda folder: seen.append(folder) or Section("Meta-analysis", [Paragraph("m")])
    )
    monkeypatch.setitem(sys.modules, "mirage_metrics.meta.page", meta_page)
    assert (source_kind(vision), source_kind(meta)) == ("vision", "meta_analysis")
    page = build_report([vision, meta], tmp_path / "out").read_text()
    assert seen == [meta]
    assert "<h2>Omniglot autoregressive transformer (paper Fig 8)</h2>" in page and "<h2>Meta-analysis</h2>" in page
    assert (tmp_path / "out" / "metrics.csv").exists()  # vision samples go through the common analysis


def test_the_report_parses_each_results_file_once(sweep_folder, tmp_path, monkeypatch):
    from mirage_metrics import results

    parsed, load = [], results.load_results_file
    monkeypatch.setattr(results, "load_results_file", lambda path: parsed.append(path) or load(path))
    build_report([sweep_folder], tmp_path / "report", n_boot=10)
    assert sorted(parsed) == sorted(sweep_folder.rglob("results_*.json"))


def test_report_options_are_one_object_or_keywords(sweep_folder, tmp_path):
    from mirage_metrics.report import ReportOptions

    options = ReportOptions(holdout_largest=1, n_boot=10, seed=5)
    build_report([sweep_folder], tmp_path / "keywords", holdout_largest=1, n_boot=10, seed=5)
    build_report([sweep_folder], tmp_path / "options", options)
    build_report([sweep_folder], tmp_path / "both", ReportOptions(holdout_largest=1, n_boot=10, seed=0), seed=5)
    for name in ("metrics.csv", "emergence.csv", "fit.csv"):
        expected = (tmp_path / "keywords" / name).read_bytes()
        assert (tmp_path / "options" / name).read_bytes() == (tmp_path / "both" / name).read_bytes() == expected
    with pytest.raises(TypeError, match="n_bootstrap"):
        build_report([sweep_folder], tmp_path / "typo", n_bootstrap=10)


@pytest.mark.slow
def test_report_on_real_lm_eval_output(tiny_pair_lm_eval_runs, tmp_path):
    """Plain `lm_eval --log_samples` runs of two tiny checkpoints; numbers cross-checked with lm-eval's files."""
    runs = tiny_pair_lm_eval_runs
    out = tmp_path / "report"
    run_cli([*MIRAGE, "report", runs, "--out", out, "--bootstrap", "100", "--workers", "2"])  # two reader processes
    metrics = pd.read_csv(out / "metrics.csv").set_index(["model", "task", "metric"])
    assert sorted(set(metrics.index.get_level_values("model"))) == ["tiny-a", "tiny-b"]
    with results_warnings():
        outputs = read_lm_eval(runs).outputs
    for model in ("tiny-a", "tiny-b"):
        folder = next(runs.glob(f"*{model}"))
        results = json.loads(next(folder.glob("results_*.json")).read_text())["results"]
        gen = metrics.loc[(model, "mirage_arith_2dm_gen", "exact_match")]
        overall = gen[gen["length"].isna()]
        assert overall["mean"].item() == pytest.approx(results["mirage_arith_2dm_gen"]["exact_match,none"])
        samples = [json.loads(line) for line in next(folder.glob("samples_mirage_arith_2dm_ll_*.jsonl")).open()]
        loss = np.mean([-np.log(sample["per_char_prob"]) for sample in samples])
        assert metrics.loc[(model, "mirage_arith_2dm_ll", "per_char_loss"), "mean"] == pytest.approx(loss)
        lines = [json.loads(line) for line in next(folder.glob("samples_mirage_arith_2dm_gen_*.jsonl")).open()]
        # counted here from lm-eval's file, once per document: its flexible-extract filter logs an empty response
        # where it extracts nothing, so the raw output (resps) is what tells a model that stopped at once
        generated = [line for line in lines if line["filter"] == "none"]
        empty = sum(not sample["resps"][0][0].strip() for sample in generated)
        counts = outputs[outputs["model"] == model].set_index("task")
        assert list(counts.index) == ["mirage_arith_2dm_gen"]  # the log-likelihood task has no outputs to count
        assert counts.loc["mirage_arith_2dm_gen", ["outputs", "empty"]].tolist() == [len(generated), empty]
    assert pd.read_csv(out / "fit.csv").empty  # two sizes: no law (any two losses would make one)
    assert "a power law through fewer than 3 sizes is not fitted" in (out / "report.html").read_text()
    assert (out / "fig3_tiny_mirage_arith_2dm_gen.png").is_file() and (out / "report.html").is_file()  # family: folder


def test_a_real_meta_analysis_folder_becomes_a_section(sweep_folder, tmp_path):
    from mirage_metrics.cli import main

    meta = tmp_path / "meta"
    assert main(["meta-analysis", str(sweep_folder), "--out", str(meta)]) == 0
    assert source_kind(meta) == "meta_analysis"
    page = build_report([meta], tmp_path / "out").read_text()
    assert page.count("<section>") >= 1 and "data:image/png;base64," in page


def test_workers_must_be_a_number_or_auto(tmp_path, capsys):
    from mirage_metrics.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path), "--out", str(tmp_path / "out"), "--workers", "many"])
    assert exit_info.value.code == 2
    assert "'many' is not a number of processes or 'auto'" in capsys.readouterr().err


def test_filtered_by_length_aggregates_are_not_read_again_as_full_answer_curves(tmp_path):
    # lm-eval names the per-sample curve (exact_match, L=3, filter flexible-extract) "exact_match_L3,flexible-extract"
    # in its results file; that aggregate must be recognised, not added as a curve of its own with no length.
    from mirage_metrics.report.build import _aggregate_only
    from mirage_metrics.results import read_aggregates

    folder = tmp_path / "toy" / "m0"
    model = {"family": "toy", "model": "m0", "path": "/ckpt/m0", "params": 100}
    write_lm_eval_run(folder, "/ckpt/m0", None, {"t": {"exact_match": [1.0, 0.0]}}, model_json=model)
    results_file = next(folder.glob("results_*.json"))
    results = json.loads(results_file.read_text())
    results["results"]["t"].update({"exact_match_L3,flexible-extract": 0.5, "bigbench_brier_score,none": 0.25})
    results_file.write_text(json.dumps(results))
    summary = pd.DataFrame(
        {
            "family": ["toy", "toy"],
            "model": ["m0", "m0"],
            "task": ["t", "t"],
            "metric": ["exact_match,flexible-extract", "exact_match"],
            "length": [3.0, float("nan")],
        }
    )
    added = _aggregate_only(read_aggregates(tmp_path), summary)
    assert added[["metric", "mean"]].values.tolist() == [["bigbench_brier_score", 0.25]]


def test_fig4_shows_the_first_problems_beside_all_of_them(tmp_path):
    # 200 problems per model: the first 20 (what --limit 20 would score) hold no correct answer for the small model,
    # all 200 hold 6; the page's Fig 4 says so and the plot is drawn.
    for index, (size, hits) in enumerate(((1e8, [150, 160, 170, 180, 190, 199]), (1e9, list(range(0, 200, 2))))):
        exact = [1.0 if i in hits else 0.0 for i in range(200)]
        model = {"family": "toy", "model": f"m{index}", "path": f"/ckpt/m{index}", "params": int(size)}
        samples = {"mirage_arith_2dm_gen": {"exact_match": exact, "token_edit_distance": [1.0 - v for v in exact]}}
        write_lm_eval_run(tmp_path / "runs" / f"m{index}", f"/ckpt/m{index}", None, samples, model_json=model)
    from mirage_metrics.results import read_results
    from mirage_metrics.summary import summarise_first_problems

    first = summarise_first_problems(read_results(tmp_path / "runs"))
    assert first[["model", "metric", "n", "mean", "first_problems"]].values.tolist() == [
        ["m0", "exact_match", 20, 0.0, 20],
        ["m1", "exact_match", 20, 0.5, 20],
    ]  # token edit distance is not all-or-nothing: left out
    assert first["ci_high"].iloc[0] == pytest.approx(0.1684, abs=1e-4)  # 0 of 20: below 3.7/20 or so
    page = build_report([tmp_path / "runs"], tmp_path / "report", n_boot=20).read_text()
    assert "scored on the first 20 problems only" in page and "--limit 20" in page
    assert (tmp_path / "report" / "fig4_toy_mirage_arith_2dm_gen.png").is_file()
    written = pd.read_csv(tmp_path / "report" / "first_problems.csv")
    assert written[["model", "n", "mean", "first_problems"]].values.tolist() == [
        ["m0", 20, 0.0, 20],
        ["m1", 20, 0.5, 20],
    ]


def _training_steps_folder(root, steps=(100, 1000, 10000, 100000), model_json=None):
    """A sweep layout of four checkpoints of one size at known training steps (the sizes' known curves)."""
    for i, (size, step) in enumerate(zip(SIZES, steps)):
        info = {"family": "run", "model": f"s{i}", "path": f"/ckpt/s{i}", "params": 1000, "step": step}
        info.update((model_json or {}).get(i, {}))
        write_lm_eval_run(root / "run" / f"s{i}", f"/ckpt/s{i}", None, model_samples(i, size), model_json=info)
    return root


def test_report_against_training_steps(tmp_path):
    source = _training_steps_folder(tmp_path / "runs", model_json={i: {"tokens": 2048 * 10**i} for i in range(4)})
    out = tmp_path / "report"
    run_cli([*MIRAGE, "report", source, "--out", out, "--x", "step", "--bootstrap", "50"])
    metrics = pd.read_csv(out / "metrics.csv")
    assert "params" not in metrics.columns and metrics.columns[2] == "step"
    gen = metrics[(metrics["task"] == "mirage_arith_2dm_gen") & metrics["length"].isna()]
    exact = gen[gen["metric"] == "exact_match"].sort_values("step")
    assert exact["step"].tolist() == [100, 1000, 10000, 100000] and exact["mean"].tolist() == pytest.approx(EXACT_MATCH)
    emergence = pd.read_csv(out / "emergence.csv")
    scores = emergence[(emergence["task"] == "mirage_arith_2dm_gen") & emergence["length"].isna()]
    assert scores.set_index("metric").loc["exact_match", "emergence_score"] == pytest.approx(9.0)
    fit = pd.read_csv(out / "fit.csv")
    assert fit.empty and "step" in fit.columns  # the mirage law is one in N: not fitted against steps
    page = (out / "report.html").read_text()
    assert "against training step" in page and "not fitted here" in page
    assert "<th>step</th>" in page
    tokens = build_report([source], tmp_path / "tokens", x="tokens", n_boot=20).parent
    assert pd.read_csv(tokens / "metrics.csv")["tokens"].max() == 2048 * 1000


def test_report_against_steps_reads_pythia_revisions_and_names_models_without_a_step(tmp_path, capsys):
    from mirage_metrics.cli import main

    source = tmp_path / "pythia"
    for i, size in enumerate(SIZES[:3]):
        folder = source / f"step{i}"
        samples = {"mirage_arith_2dm_gen": model_samples(i, size)["mirage_arith_2dm_gen"]}
        write_lm_eval_run(folder, f"EleutherAI/pythia-160m,revision=step{10**i * 1000}", None, samples)
        results_file = next(folder.glob("results_*.json"))
        results = json.loads(results_file.read_text())
        results["model_name"] = "EleutherAI/pythia-160m"  # what lm-eval writes: the revision is in model_args
        results_file.write_text(json.dumps(results))
    build_report([source], tmp_path / "report", x="step", n_boot=20)
    metrics = pd.read_csv(tmp_path / "report" / "metrics.csv")
    assert sorted(set(metrics["step"])) == [1000, 10000, 100000]
    assert sorted(set(metrics["model"])) == [f"pythia-160m@step{s}" for s in (1000, 10000, 100000)]

    plain = _training_steps_folder(tmp_path / "runs", model_json={1: {"step": None}, 3: {"step": None}})
    assert main(["report", str(plain), "--out", str(tmp_path / "r2"), "--x", "step"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no training step for model(s) run/s1, run/s3" in err
    assert main(["report", str(plain), "--out", str(tmp_path / "r3"), "--x", "tokens"]) == 2
    assert "no training tokens for model(s) run/s0, run/s1, run/s2, run/s3" in capsys.readouterr().err
    zero = _training_steps_folder(tmp_path / "zero", steps=(0, 10, 100, 1000))
    assert main(["report", str(zero), "--out", str(tmp_path / "r4"), "--x", "step"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "step=0 of model 's0' cannot be on the log x-axis" in err
    same = _training_steps_folder(tmp_path / "same", steps=(10, 100, 100, 1000))  # two checkpoints at one step
    assert main(["report", str(same), "--out", str(tmp_path / "r5"), "--x", "step"]) == 2
    err = capsys.readouterr().err
    last = err.rstrip().splitlines()[-1]  # after the reading progress bar, one line
    assert "Traceback" not in err and "models s1, s2 of family 'run' are all at step 100" in last


def test_report_params_non_embedding_swaps_two_models(tmp_path, capsys):
    from mirage_metrics.cli import main

    # a has more parameters in all, b more outside its embeddings (as a wide-vocabulary model beside a deeper one)
    counts = {"a": (300_000, 100_000), "b": (200_000, 150_000), "c": (400_000, 350_000)}
    source = tmp_path / "runs"
    for i, (name, (total, non_embedding)) in enumerate(counts.items()):
        info = {"family": "f", "model": name, "path": f"/ckpt/{name}", "params": total}
        if name != "c":
            info["non_embedding_params"] = non_embedding
        samples = {"mirage_arith_2dm_gen": model_samples(i, SIZES[i])["mirage_arith_2dm_gen"]}
        write_lm_eval_run(source / name, f"/ckpt/{name}", None, samples, model_json=info)
    param_counts = tmp_path / "counts.yaml"
    param_counts.write_text("c: 350000\n")  # counts of the --params kind, for a model whose model.json has none

    def order(*flags):
        out = tmp_path / "-".join(["report", *flags[::2]])
        run_cli([*MIRAGE, "report", source, "--out", out, "--bootstrap", "20", *flags])
        metrics = pd.read_csv(out / "metrics.csv")
        column = metrics.columns[2]
        rows = metrics[metrics["metric"] == "exact_match"].drop_duplicates("model").sort_values(column)
        return column, rows["model"].tolist(), rows[column].tolist()

    assert order() == ("params", ["b", "a", "c"], [200_000, 300_000, 400_000])
    assert order("--params", "non-embedding", "--param-counts", str(param_counts)) == (
        "non_embedding_params",
        ["a", "b", "c"],
        [100_000, 150_000, 350_000],
    )
    assert main(["report", str(source), "--out", str(tmp_path / "r"), "--params", "non-embedding"]) == 2
    assert "no non-embedding parameters for model(s) f/c" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:  # argparse's own error for a flag value
        main(["report", str(source), "--out", str(tmp_path / "r"), "--params", str(param_counts)])
    assert usage.value.code == 2
    assert "a file of parameter counts goes to --param-counts FILE" in capsys.readouterr().err
    assert main(["report", str(source), "--out", str(tmp_path / "r"), "--x", "step", "--params", "non-embedding"]) == 2
    assert "--params 'non-embedding' chooses a parameter count, which --x 'step' does not use" in (
        capsys.readouterr().err
    )
    assert main(["report", str(source), "--out", str(tmp_path / "r"), "--x", "step", "--holdout-largest", "1"]) == 2
    assert "--holdout-largest 1 holds models out of the mirage fit, which is not made against --x 'step'" in (
        capsys.readouterr().err
    )


def test_vision_studies_are_reported_against_parameters_only(tmp_path):
    vision = tmp_path / "vision"
    vision.mkdir()
    (vision / "samples.csv").write_text("family,model,params,task,metric,length,sample_id,value\n")
    with pytest.raises(ValueError, match=r"^vision studies .* record only total parameter counts"):
        build_report([vision], tmp_path / "report", x="step")
    assert not (tmp_path / "report" / "report.html").exists()
