"""`mirage report` end to end on lm-eval output folders written here, with known values."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import types

import numpy as np
import pandas as pd
import pytest
from conftest import REPO_ROOT, offline_env

from mirage_metrics.html import Paragraph, Section
from mirage_metrics.metrics import bigbench_brier_score
from mirage_metrics.paths import tasks_path
from mirage_metrics.report import build_report, source_kind

MIRAGE = str(REPO_ROOT / ".venv" / "bin" / "mirage")
DATE = "2026-01-02T03-04-05.000006"
SIZES = [1e8, 1e9, 1e10, 1e11]
C, ALPHA = 2e9, -0.5
N = 10
# Known per-model means of the generation task (4 sizes): an all-or-nothing jump and a smooth edit distance.
EXACT_MATCH = [0.0, 0.0, 0.1, 0.9]  # emergence score 0.9 / sqrt(median(0, .01, .64)) = 9
EDIT_DISTANCE = [3.0, 2.0, 1.0, 0.0]  # negated: steps of 1, score 3


def write_lm_eval_run(folder, model_path: str, params: int | None, samples: dict, model_json: dict | None = None):
    """What `lm_eval --output_path --log_samples` writes: results_<date>.json and samples_<task>_<date>.jsonl."""
    folder.mkdir(parents=True, exist_ok=True)
    results = {"results": {}, "n-samples": {}, "model_name": model_path,
               "config": {"model": "hf", "model_args": f"pretrained={model_path}", "model_num_parameters": params}}
    for task, metrics in samples.items():
        n = len(next(iter(metrics.values())))
        numeric = {m: v for m, v in metrics.items() if not isinstance(v[0], list)}
        means = {f"{m},none": float(np.mean(np.array(v)[~np.isnan(v)])) if np.isfinite(v).any() else float("nan")
                 for m, v in numeric.items()}
        results["results"][task] = {"alias": task, **means}
        for metric, items in metrics.items():  # aggregate-only metrics log (log-likelihoods, target) per sample
            if metric not in numeric:
                results["results"][task][f"{metric},none"] = bigbench_brier_score(*zip(*items))
        results["n-samples"][task] = {"original": n, "effective": n}
        with open(folder / f"samples_{task}_{DATE}.jsonl", "w") as handle:
            for i in range(n):
                record = {"doc_id": i, "doc": {"question": f"q{i}"}, "target": "42", "arguments": {},
                          "resps": [["42"]], "filtered_resps": ["42"], "filter": "none", "metrics": list(metrics),
                          **{m: v[i] for m, v in metrics.items()}}
                handle.write(json.dumps(record) + "\n")
    (folder / f"results_{DATE}.json").write_text(json.dumps(results))
    if model_json is not None:
        (folder / "model.json").write_text(json.dumps(model_json))


def model_samples(index: int, size: float) -> dict:
    """Samples of one model: a gen task with known means and by-length accuracy p^L, an ll task with per-char
    probabilities whose mean loss is exactly (N/c)^α."""
    loss = (size / C) ** ALPHA
    hits = int(round(EXACT_MATCH[index] * N))
    gen = {"exact_match": [1.0] * hits + [0.0] * (N - hits), "token_edit_distance": [EDIT_DISTANCE[index]] * N}
    for length in (1, 2, 3):
        right = int(round(np.exp(-loss * length) * N))
        gen[f"exact_match_L{length}"] = [1.0] * right + [0.0] * (N - right)
        gen[f"token_edit_distance_L{length}"] = [0.0] * right + [1.0] * (N - right)
    gen["exact_match_L3"][-1] = float("nan")  # an answer shorter than 3 characters
    gen["exact_match_L9"] = [float("nan")] * N  # longer than every answer: lm-eval's aggregate is NaN too
    per_char = np.exp(-np.tile([0.5, 1.5], N // 2) * loss)
    ll = {"per_char_prob": per_char.tolist(), "target_log_prob": (np.log(per_char) * 3).tolist(),
          "greedy_match": gen["exact_match"]}
    mc = {"multiple_choice_grade": gen["exact_match"], "bigbench_brier_score": [[[-1.0, -2.0], 0]] * N}
    sampled = {metric: values for metric, values in gen.items() if metric.startswith("exact_match")}
    ll["exact_answer_prob"] = [EXACT_MATCH[index]] * N  # what temperature-1 exact match estimates
    return {"mirage_arith_2dm_gen": gen, "mirage_arith_2dm_gen_t1": sampled, "mirage_arith_2dm_ll": ll,
            "mirage_bb_toy_mc": mc}


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory):
    """A `mirage sweep` layout: <out>/<family>/<model>/ with model.json, four sizes."""
    root = tmp_path_factory.mktemp("sweep")
    for i, size in enumerate(SIZES):
        write_lm_eval_run(root / "toy" / f"m{i}", f"/ckpt/m{i}", None, model_samples(i, size),
                          model_json={"family": "toy", "model": f"m{i}", "path": f"/ckpt/m{i}", "params": int(size)})
    return root


@pytest.fixture(scope="module")
def report_folder(sweep_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    done = subprocess.run([MIRAGE, "report", str(sweep_folder), "--out", str(out), "--holdout-largest", "1",
                           "--bootstrap", "200"], capture_output=True, text=True, env=offline_env())
    assert done.returncode == 0, done.stderr
    return out


def test_metrics_csv_holds_known_means_and_cis(report_folder):
    metrics = pd.read_csv(report_folder / "metrics.csv")
    assert list(metrics.columns) == ["family", "model", "params", "task", "metric", "length", "n", "mean",
                                     "ci_low", "ci_high", "interval"]
    binary = metrics[metrics["metric"].isin(["exact_match", "multiple_choice_grade"])]
    assert (binary["interval"] == "clopper-pearson").all()
    zero = binary[binary["mean"] == 0]
    assert len(zero) and (zero["ci_high"] > 0.2).all()  # 0 of 10 reads "below 0.31", not [0, 0]
    gen = metrics[(metrics["task"] == "mirage_arith_2dm_gen") & metrics["length"].isna()]
    assert gen[gen["metric"] == "exact_match"].sort_values("params")["mean"].tolist() == pytest.approx(EXACT_MATCH)
    assert gen[gen["metric"] == "token_edit_distance"]["mean"].tolist() == pytest.approx(EDIT_DISTANCE)
    by_length = metrics[(metrics["metric"] == "exact_match") & (metrics["length"] == 3)
                        & (metrics["task"] == "mirage_arith_2dm_gen")]
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
    assert loss["predicted"] == pytest.approx((1e11 / C) ** ALPHA) and loss["observed"] == pytest.approx(loss["predicted"])
    exact = fit[(fit["metric"] == "exact_match")].set_index("length")
    p = np.exp(-((1e11 / C) ** ALPHA))
    # The mean of p_i^2 over the samples (per-character losses 0.5 and 1.5 times the mean), not p^2 of the mean.
    assert exact.loc[2, "predicted"] == pytest.approx(np.mean(np.exp(-2 * np.array([0.5, 1.5]) * (1e11 / C) ** ALPHA)),
                                                      abs=2e-3)
    assert exact.loc[2, "observed"] == pytest.approx(round(p**2 * N) / N)


def test_report_html_is_self_contained_with_plots_and_verdicts(report_folder):
    pngs = sorted(path.name for path in report_folder.glob("*.png"))
    assert "fig3_toy_mirage_arith_2dm_gen.png" in pngs and "fig4_toy_mirage_arith_2dm_gen.png" in pngs
    assert "probability_toy_mirage_arith_2dm_ll.png" in pngs and "all_toy_mirage_bb_toy_mc.png" in pngs
    page = (report_folder / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(pngs)
    assert "http://" not in page and "https://" not in page and "<link" not in page and "<script" not in page
    # 10 problems per model: the exact-match jump (0, 0, 0.1, 0.9) is too noisy to claim; the edit distance and the
    # per-character probability of the same problems are smooth.
    verdict = re.search(r"<p>(All-or-nothing: exact_match .*?)</p>", page).group(1)
    assert "exact_match unclear (sharpness 0.83 [" in verdict
    assert "token_edit_distance smooth" in verdict and "per_char_prob smooth" in verdict
    assert "No all-or-nothing metric jumps" in verdict
    assert "bigbench_brier_score no clear change" in page
    assert "95% interval at 4 of 4 sizes (largest gap 0)" in page
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]*", "", page)
    assert "&lt;NA&gt;" not in text and ">nan<" not in text
    assert "Held out m3" in page


def test_plain_lm_eval_folders_with_a_params_file(tmp_path):
    source = tmp_path / "runs"
    for i, size in enumerate(SIZES[:2]):
        write_lm_eval_run(source / f"ckpt__m{i}", f"ckpt/m{i}", int(size) if i == 0 else None,
                          {"mirage_arith_2dm_gen": model_samples(i, size)["mirage_arith_2dm_gen"]})
    params = tmp_path / "params.yaml"
    params.write_text("m1: 1000000000\n")
    out = tmp_path / "report"
    done = subprocess.run([MIRAGE, "report", str(source), "--out", str(out), "--params", str(params),
                           "--bootstrap", "50"], capture_output=True, text=True, env=offline_env())
    assert done.returncode == 0, done.stderr
    metrics = pd.read_csv(out / "metrics.csv")
    assert set(metrics["family"]) == {"runs"} and sorted(set(metrics["params"])) == [int(1e8), int(1e9)]
    assert pd.read_csv(out / "fit.csv").empty  # no per_char_prob: nothing to fit
    assert (out / "report.html").is_file()


def test_a_truncated_samples_file_gives_a_clear_error(tmp_path):
    folder = tmp_path / "runs" / "m0"
    write_lm_eval_run(folder, "ckpt/m0", 1000, {"t_gen": {"exact_match": [1.0, 0.0]}})
    samples = folder / f"samples_t_gen_{DATE}.jsonl"
    samples.write_text(samples.read_text()[:-20])
    done = subprocess.run([MIRAGE, "report", str(tmp_path / "runs"), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=offline_env())
    assert done.returncode == 2
    assert f"{samples}, line 2: malformed JSON" in done.stderr


def test_holding_out_too_many_models_is_refused(sweep_folder, tmp_path):
    with pytest.raises(ValueError, match="holdout_largest=3 leaves 1 model"):
        build_report([sweep_folder], tmp_path, holdout_largest=3, n_boot=10)


def test_vision_and_meta_analysis_folders_are_dispatched(tmp_path, monkeypatch):
    vision = tmp_path / "vision"
    vision.mkdir()
    pd.DataFrame({"study": "omniglot", "model": ["width8", "width16"], "params": [100, 300],
                  "metric": "subset_accuracy", "setting": "5", "n": 10, "value": [0.0, 0.5],
                  "ci_low": [0.0, 0.2], "ci_high": [0.1, 0.8]}).to_csv(vision / "results.csv", index=False)
    meta = tmp_path / "meta"
    meta.mkdir()
    (meta / "by_metric.csv").write_text("metric,share\n")
    seen = []
    meta_page = types.SimpleNamespace(
        meta_section=lambda folder: seen.append(folder) or Section("Meta-analysis", [Paragraph("m")]))
    monkeypatch.setitem(sys.modules, "mirage_metrics.meta.page", meta_page)
    assert (source_kind(vision), source_kind(meta)) == ("vision", "meta_analysis")
    page = build_report([vision, meta], tmp_path / "out").read_text()
    assert seen == [meta]
    assert "<h2>Omniglot autoregressive transformer (paper Fig 8)</h2>" in page and "<h2>Meta-analysis</h2>" in page
    assert not (tmp_path / "out" / "metrics.csv").exists()  # no lm-eval source: no lm-eval analysis


@pytest.mark.slow
def test_report_on_real_lm_eval_output(tiny_gpt2_pair, tmp_path):
    """Plain `lm_eval --log_samples` runs of two tiny checkpoints; numbers cross-checked with lm-eval's files."""
    runs = tmp_path / "runs"
    for model in tiny_gpt2_pair:
        subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "lm_eval"), "--model", "hf", "--model_args",
                        f"pretrained={model}", "--include_path", str(tasks_path()), "--tasks",
                        "mirage_arith_2dm_gen,mirage_arith_2dm_ll", "--limit", "4", "--output_path", str(runs),
                        "--log_samples", "--device", "cpu"], check=True, capture_output=True, env=offline_env())
    out = tmp_path / "report"
    done = subprocess.run([MIRAGE, "report", str(runs), "--out", str(out), "--bootstrap", "100", "--workers", "2"],
                          capture_output=True, text=True, env=offline_env())  # two reader processes
    assert done.returncode == 0, done.stderr
    metrics = pd.read_csv(out / "metrics.csv").set_index(["model", "task", "metric"])
    assert sorted(set(metrics.index.get_level_values("model"))) == ["tiny-a", "tiny-b"]
    for model in ("tiny-a", "tiny-b"):
        folder = next(runs.glob(f"*{model}"))
        results = json.loads(next(folder.glob("results_*.json")).read_text())["results"]
        gen = metrics.loc[(model, "mirage_arith_2dm_gen", "exact_match")]
        overall = gen[gen["length"].isna()]
        assert overall["mean"].item() == pytest.approx(results["mirage_arith_2dm_gen"]["exact_match,none"])
        samples = [json.loads(line) for line in next(folder.glob("samples_mirage_arith_2dm_ll_*.jsonl")).open()]
        loss = np.mean([-np.log(sample["per_char_prob"]) for sample in samples])
        assert metrics.loc[(model, "mirage_arith_2dm_ll", "per_char_loss"), "mean"] == pytest.approx(loss)
    fit = pd.read_csv(out / "fit.csv")
    assert len(fit) == 1 and np.isfinite(fit["alpha"].item())  # random models: alpha ~ 0, c may be 0 or inf
    assert (out / "fig3_runs_mirage_arith_2dm_gen.png").is_file() and (out / "report.html").is_file()


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
