"""mirage meta-analysis: BIG-bench results files, tidy CSVs and lm-eval folders with known emergence scores."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO_ROOT, offline_env
from mirage_metrics.meta_analysis import (
    BY_METRIC_COLUMNS,
    SCORE_TABLE_COLUMNS,
    emergence_scores,
    ranked_curves,
    report_section,
    summarize_by_metric,
)
from mirage_metrics.meta_sources import read_bigbench_file, read_sources, read_tidy_csv

MIRAGE = [sys.executable, "-m", "mirage_metrics.cli"]

# BIG-G-like family: total and non-embedding parameter counts. The non-embedding
# order of "16m" and "53m" is swapped on purpose, so that --params changes a score.
BIG_G = {
    "2m": (2e6, 1e6),
    "16m": (1.6e7, 9e6),
    "53m": (5.3e7, 8e6),
    "125m": (1.25e8, 1e8),
}
GPT = {"small": (1.25e8, 8.5e7), "medium": (3.5e8, 3.0e8), "large": (7.6e8, 7.1e8)}

# Curves by model size (ascending total params), with their emergence scores by hand:
# [0, 0, .01, .9]: spread .9, steps 0, .01, .89 → median step² .01² → 90.
# [.1, .2, .3, .4]: steady → 3 (n − 1). [0, 0, 0, .5]: median step 0 → +inf.
# [.6, .4, .2, .0] (falling Brier) → −3. [.25, .25, .25, .25]: flat → 0.
JUMP, STEADY, STEP, FALLING, FLAT = [0, 0, 0.01, 0.9], [0.1, 0.2, 0.3, 0.4], [0, 0, 0, 0.5], [0.6, 0.4, 0.2, 0.0], [0.25] * 4


def bigbench_entry(description, shots, score_dict, preferred="exact_str_match"):
    return {
        "subtask_description": description,
        "number_of_shots": shots,
        "preferred_score": preferred,
        "low_score": 0.0,
        "high_score": 1.0,
        "score_dict": score_dict,
    }


def write_results_file(root, task, family, name, params, entries):
    folder = root / "benchmark_tasks" / task / "results"
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "model": {
            "model_family": family,
            "model_name": name,
            "total_params": params[0],
            "non_embedding_params": params[1],
            "flop_matched_non_embedding_params": params[1],
            "training_batch_size": 256,
            "training_steps": 1000,
            "description": "test model",
            "decoding_params": {},
        },
        "scores": entries,
        "task": {"task_name": task},
    }
    path = folder / f"scores_{family.split()[0]}_{name}.json"
    path.write_text(json.dumps(record, indent=2))
    return path


@pytest.fixture
def bigbench_checkout(tmp_path):
    """Two tasks × two families; toy_arith has subtasks, 0 and 1 shots and task-level aggregates."""
    root = tmp_path / "BIG-bench" / "bigbench"
    for i, (name, params) in enumerate(BIG_G.items()):
        arith = [
            bigbench_entry("toy_arith:easy", 0, {"exact_str_match": STEADY[i], "bleu": FLAT[i]}),
            bigbench_entry("toy_arith:hard", 0, {"exact_str_match": JUMP[i], "bleu": STEADY[i]}),
            bigbench_entry("toy_arith:hard", 1, {"exact_str_match": STEP[i]}),
            bigbench_entry(
                "toy_arith", 0, {"normalized_aggregate_score": 100 * JUMP[i]}, preferred="normalized_aggregate_score"
            ),
        ]
        write_results_file(root, "toy_arith", "BIG-G T=0", name, params, arith)
        mc = [
            bigbench_entry(
                "toy_mc",
                0,
                {"multiple_choice_grade": JUMP[i], "calibration_multiple_choice_brier_score": FALLING[i]},
                preferred="multiple_choice_grade",
            )
        ]
        write_results_file(root, "toy_mc", "BIG-G T=0", name, params, mc)
    for i, (name, params) in enumerate(GPT.items()):
        # One size only has a NaN score: that curve keeps two sizes.
        value = [0.1, math.nan, 0.7][i]
        write_results_file(
            root, "toy_mc", "GPT", name, params, [bigbench_entry("toy_mc", 0, {"multiple_choice_grade": value})]
        )
    return root


EXPECTED_BIGBENCH = {
    # (family, task, subtask, shots, metric): (n_sizes, emergence score)
    ("BIG-G T=0", "toy_arith", "easy", 0, "exact_str_match"): (4, 3.0),
    ("BIG-G T=0", "toy_arith", "easy", 0, "bleu"): (4, 0.0),
    ("BIG-G T=0", "toy_arith", "hard", 0, "exact_str_match"): (4, 90.0),
    ("BIG-G T=0", "toy_arith", "hard", 0, "bleu"): (4, 3.0),
    ("BIG-G T=0", "toy_arith", "hard", 1, "exact_str_match"): (4, math.inf),
    ("BIG-G T=0", "toy_arith", "", 0, "normalized_aggregate_score"): (4, 90.0),
    ("BIG-G T=0", "toy_mc", "", 0, "multiple_choice_grade"): (4, 90.0),
    ("BIG-G T=0", "toy_mc", "", 0, "calibration_multiple_choice_brier_score"): (4, -3.0),
    ("GPT", "toy_mc", "", 0, "multiple_choice_grade"): (2, 1.0),
}


def as_dict(scores):
    return {
        (r.family, r.task, r.subtask, r.shots, r.metric): (r.n_sizes, r.emergence_score)
        for r in scores.itertuples(index=False)
    }


def test_bigbench_results_give_the_known_scores_per_subtask_and_shots(bigbench_checkout):
    frame = read_sources([bigbench_checkout])
    scores = emergence_scores(frame)
    assert list(scores.columns) == SCORE_TABLE_COLUMNS
    assert set(scores["source"]) == {str(bigbench_checkout)}
    got = as_dict(scores)
    assert got.keys() == EXPECTED_BIGBENCH.keys()
    for key, (n_sizes, score) in EXPECTED_BIGBENCH.items():
        assert got[key][0] == n_sizes, key
        assert got[key][1] == pytest.approx(score), key


def test_params_choice_reorders_sizes(bigbench_checkout):
    """Under non-embedding counts 53m comes before 16m: STEADY becomes [.1, .3, .2, .4]."""
    scores = emergence_scores(read_sources([bigbench_checkout], params="non-embedding"))
    got = as_dict(scores)
    # spread .3, steps (.2, −.1, .2) → median step² .04 → .3 / .2
    assert got[("BIG-G T=0", "toy_arith", "easy", 0, "exact_str_match")][1] == pytest.approx(1.5)
    assert got[("BIG-G T=0", "toy_arith", "hard", 0, "exact_str_match")][1] == pytest.approx(90.0)


def test_a_single_results_file_and_a_task_folder_are_sources(bigbench_checkout):
    task_folder = bigbench_checkout / "benchmark_tasks" / "toy_mc"
    one_file = task_folder / "results" / "scores_GPT_small.json"
    frame = read_sources([task_folder])
    assert set(frame["task"]) == {"toy_mc"} and len(frame) == 4 * 2 + 3
    single = read_bigbench_file(one_file)
    assert single[["family", "model", "parameters", "task", "subtask", "metric", "value"]].values.tolist() == [
        ["GPT", "small", 1.25e8, "toy_mc", "", "multiple_choice_grade", 0.1]
    ]


def test_summary_counts_inf_above_the_threshold_and_ranks_metrics(bigbench_checkout):
    scores = emergence_scores(read_sources([bigbench_checkout]))
    by_metric = summarize_by_metric(scores, threshold=10)
    assert list(by_metric.columns) == BY_METRIC_COLUMNS
    rows = {r.metric: (r.n_pairs, r.median_score, r.share_above_threshold) for r in by_metric.itertuples()}
    # exact_str_match: |3|, |90|, |inf| → median 90, 2 of 3 above 10.
    assert rows["exact_str_match"] == (3, 90.0, pytest.approx(2 / 3))
    assert rows["multiple_choice_grade"] == (2, pytest.approx(45.5), 0.5)
    assert rows["calibration_multiple_choice_brier_score"] == (1, pytest.approx(3.0), 0.0)
    assert rows["bleu"] == (2, pytest.approx(1.5), 0.0)
    assert by_metric["metric"].iloc[0] == "normalized_aggregate_score"  # share 1.0 ranks first
    assert summarize_by_metric(scores, threshold=100).set_index("metric").loc["exact_str_match", "share_above_threshold"] == pytest.approx(1 / 3)
    top = ranked_curves(scores, top=1)
    assert top["emergence_score"].iloc[0] == math.inf


def test_tidy_csv_with_optional_subtask_and_shots(tmp_path):
    path = tmp_path / "scores.csv"
    rows = ["family,model,parameters,task,metric,value,subtask,shots"]
    for i, n in enumerate([1e6, 1e7, 1e8, 1e9]):
        rows.append(f"pythia,m{i},{n},arith,exact_match,{JUMP[i]},2dm,2")
        rows.append(f"pythia,m{i},{n},arith,token_edit_distance,{FALLING[i]},2dm,2")
    rows.append("gpt2,small,124439808,arith,exact_match,,2dm,2")  # blank: missing score
    path.write_text("\n".join(rows) + "\n")
    scores = emergence_scores(read_sources([path]))
    assert as_dict(scores) == {
        ("pythia", "arith", "2dm", 2.0, "exact_match"): (4, pytest.approx(90.0)),
        ("pythia", "arith", "2dm", 2.0, "token_edit_distance"): (4, pytest.approx(-3.0)),
    }


def test_csv_without_optional_columns(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("family,model,parameters,task,metric,value\nf,a,10,t,m,0.5\nf,b,20,t,m,0.75\n")
    frame = read_tidy_csv(path)
    assert frame["subtask"].tolist() == ["", ""] and frame["shots"].isna().all()
    assert emergence_scores(frame)["emergence_score"].tolist() == [1.0]


@pytest.mark.parametrize(
    "text, message",
    [
        ("family,model,task,metric,value\nf,a,t,m,1\n", r"missing column\(s\) \['parameters'\]"),
        ("family,model,parameters,task,metric,value\nf,a,10,t,m,0.5\nf,b,20,t,m,high\n", r"line 3: column 'value'"),
        ("family,model,parameters,task,metric,value\nf,a,-5,t,m,0.5\n", r"line 2: parameters is '-5'"),
        ("family,model,parameters,task,metric,value\n", "no rows"),
        ("", "is empty"),
    ],
)
def test_malformed_csv_names_the_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        read_sources([path])
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"model": {"model_family": "F",\n "model_name": "x", }', r"not valid JSON at line 2"),
        ('{"scores": []}', r"no 'model' object"),
        ('{"model": {"model_family": "F", "model_name": "x"}, "scores": []}', r"'model' has no 'total_params'"),
        (
            '{"model": {"model_family": "F", "model_name": "x", "total_params": 5}, "scores": {}}',
            r"no 'scores' list",
        ),
        (
            '{"model": {"model_family": "F", "model_name": "x", "total_params": 5},'
            ' "scores": [{"subtask_description": "t", "number_of_shots": 0}]}',
            r"scores\[0\] has no 'score_dict'",
        ),
        (
            '{"model": {"model_family": "F", "model_name": "x", "total_params": 5}, "scores":'
            ' [{"subtask_description": "t", "number_of_shots": 0, "score_dict": {"bleu": "n/a"}}]}',
            r"scores\[0\]\.score_dict\['bleu'\] is 'n/a'",
        ),
        ('{"model": {"model_family": "F", "model_name": "x", "total_params": 0}, "scores": []}', r"positive"),
    ],
)
def test_malformed_bigbench_file_names_the_file(tmp_path, content, message):
    path = tmp_path / "toy" / "results" / "scores_F_x.json"
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        read_sources([tmp_path])
    assert str(path) in str(error.value)


def test_two_models_with_one_parameter_count_are_named(tmp_path):
    path = tmp_path / "dupe.csv"
    path.write_text("family,model,parameters,task,metric,value\nf,a,10,t,m,0.5\nf,b,10,t,m,0.75\n")
    with pytest.raises(ValueError, match=r"models a \(10\), b \(10\) of family 'f'"):
        emergence_scores(read_sources([path]))


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="params='flops'"):
        read_sources([tmp_path], params="flops")
    with pytest.raises(ValueError, match="does not exist"):
        read_sources([tmp_path / "nowhere"])
    with pytest.raises(ValueError, match="threshold=-1.0"):
        summarize_by_metric(pd.DataFrame({"metric": ["m"], "emergence_score": [1.0]}), threshold=-1)


def run_mirage(*args):
    return subprocess.run(
        [*MIRAGE, *map(str, args)], capture_output=True, text=True, env=offline_env(), cwd=REPO_ROOT, timeout=300
    )


def test_cli_writes_tables_plots_and_a_self_contained_page(bigbench_checkout, tmp_path):
    out = tmp_path / "meta"
    result = run_mirage("meta-analysis", bigbench_checkout, "--out", out, "--threshold", "50")
    assert result.returncode == 0, result.stderr
    scores = pd.read_csv(out / "emergence_scores.csv", keep_default_na=False, na_values={"shots": [""]})
    assert list(scores.columns) == SCORE_TABLE_COLUMNS
    assert as_dict(scores).keys() == EXPECTED_BIGBENCH.keys()
    assert scores["emergence_score"].max() == math.inf  # written as "inf", read back as inf
    by_metric = pd.read_csv(out / "by_metric.csv").set_index("metric")
    assert list(by_metric.reset_index().columns) == BY_METRIC_COLUMNS
    assert by_metric.loc["exact_str_match", "share_above_threshold"] == pytest.approx(2 / 3)
    assert by_metric.loc["multiple_choice_grade", "share_above_threshold"] == pytest.approx(0.5)
    for plot in ("emergence_score_distributions.png", "share_above_threshold.png"):
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "meta_analysis.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "<td>calibration_multiple_choice_brier_score</td>" in page and "|emergence score| &gt; 50" in page
    assert "exact_str_match: 67% of 3 curves above 50" in result.stdout


def test_cli_reports_malformed_input_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("family,model,parameters,task,metric,value\nf,a,ten,t,m,0.5\n")
    result = run_mirage("meta-analysis", bad, "--out", tmp_path / "meta")
    assert result.returncode == 2
    assert f"{bad}, line 2: column 'parameters'" in result.stderr and "Traceback" not in result.stderr


def test_report_section_of_an_output_folder(bigbench_checkout, tmp_path):
    out = tmp_path / "meta"
    assert run_mirage("meta-analysis", bigbench_checkout, "--out", out).returncode == 0
    section = report_section(out)
    html = section.to_html()
    assert "Meta-analysis" in section.heading and html.count("<img") == 2 and "inf" in html
    with pytest.raises(ValueError, match="missing"):
        report_section(tmp_path)


def test_fractional_shots_are_refused(tmp_path):
    path = tmp_path / "shots.csv"
    path.write_text("family,model,parameters,task,metric,value,shots\nf,a,10,t,m,0.5,1.5\n")
    with pytest.raises(ValueError, match=r"line 2: shots is '1.5'"):
        read_sources([path])
