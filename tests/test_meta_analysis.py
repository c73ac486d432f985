"""mirage meta-analysis: BIG-bench results files, tidy CSVs and lm-eval folders with known emergence scores."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import MIRAGE, REPO_ROOT, run_cli
from mirage_metrics.cli import main
from mirage_metrics.emergence import emergence_score
from mirage_metrics.meta import (
    BY_METRIC_COLUMNS,
    DEFAULT_MIN_SIZES,
    SCORE_TABLE_COLUMNS,
    emergence_scores,
    largest_possible_score,
    meta_section,
    ranked_curves,
    read_bigbench_file,
    read_sources,
    read_tidy_csv,
    summarise_by_metric,
    summary_curves,
    threshold_warnings,
)

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
JUMP, STEADY, STEP, FALLING, FLAT = (
    [0, 0, 0.01, 0.9],
    [0.1, 0.2, 0.3, 0.4],
    [0, 0, 0, 0.5],
    [0.6, 0.4, 0.2, 0.0],
    [0.25] * 4,
)


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


@pytest.fixture(scope="module")
def bigbench_checkout(tmp_path_factory):
    """Two tasks × two families; toy_arith has subtasks, 0 and 1 shots and task-level aggregates."""
    root = tmp_path_factory.mktemp("checkout") / "BIG-bench" / "bigbench"
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
    ("BIG-G T=0", "toy_mc", "", 0, "calibration_multiple_choice_brier_score"): (4, 3.0),
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
    assert single[["family", "model", "params", "task", "subtask", "metric", "value"]].values.tolist() == [
        ["GPT", "small", 1.25e8, "toy_mc", "", "multiple_choice_grade", 0.1]
    ]


def test_summary_counts_inf_above_the_threshold_and_ranks_metrics(bigbench_checkout):
    scores = emergence_scores(read_sources([bigbench_checkout]))
    by_metric = summarise_by_metric(scores, threshold=10, min_sizes=2)
    assert list(by_metric.columns) == BY_METRIC_COLUMNS
    rows = {
        r.metric: (r.n_pairs, r.median_signed_score, r.median_abs_score, r.share_above_threshold)
        for r in by_metric.itertuples()
    }
    # exact_str_match: 3, 90, inf → median 90, 2 of 3 above 10.
    assert rows["exact_str_match"] == (3, 90.0, 90.0, pytest.approx(2 / 3))
    assert rows["multiple_choice_grade"] == (2, pytest.approx(45.5), pytest.approx(45.5), 0.5)
    # The falling Brier score is better with size: +3 signed.
    assert rows["calibration_multiple_choice_brier_score"] == (1, pytest.approx(3.0), pytest.approx(3.0), 0.0)
    assert rows["bleu"] == (2, pytest.approx(1.5), pytest.approx(1.5), 0.0)
    assert by_metric["metric"].iloc[0] == "normalized_aggregate_score"  # share 1.0 ranks first
    exact = by_metric.set_index("metric").loc["exact_str_match"]
    assert (exact.q1_signed_score, exact.q3_signed_score) == (pytest.approx(46.5), math.inf)
    assert exact.median_jump_sharpness == pytest.approx(59 / 60)  # median of STEADY 0, JUMP 59/60, STEP 1
    mcg = by_metric.set_index("metric").loc["multiple_choice_grade"]
    assert (mcg.curves_2_sizes, mcg.curves_3_sizes, mcg.curves_4plus_sizes, mcg.share_can_exceed) == (1, 0, 1, 0.5)
    assert summarise_by_metric(scores, threshold=100).set_index("metric").loc[
        "exact_str_match", "share_above_threshold"
    ] == pytest.approx(1 / 3)
    top = ranked_curves(scores, top=1)
    assert top["emergence_score"].iloc[0] == math.inf


def test_tidy_csv_with_optional_subtask_and_shots(tmp_path):
    path = tmp_path / "scores.csv"
    rows = ["family,model,params,task,metric,value,subtask,shots"]
    for i, n in enumerate([1e6, 1e7, 1e8, 1e9]):
        rows.append(f"pythia,m{i},{n},arith,exact_match,{JUMP[i]},2dm,2")
        rows.append(f"pythia,m{i},{n},arith,token_edit_distance,{FALLING[i]},2dm,2")
    rows.append("gpt2,small,124439808,arith,exact_match,,2dm,2")  # blank: missing score
    path.write_text("\n".join(rows) + "\n")
    scores = emergence_scores(read_sources([path]))
    assert as_dict(scores) == {
        ("pythia", "arith", "2dm", 2.0, "exact_match"): (4, pytest.approx(90.0)),
        ("pythia", "arith", "2dm", 2.0, "token_edit_distance"): (4, pytest.approx(3.0)),
    }


def test_csv_without_optional_columns(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("family,model,params,task,metric,value\nf,a,10,t,m,0.5\nf,b,20,t,m,0.75\n")
    frame = read_tidy_csv(path)
    assert frame["subtask"].tolist() == ["", ""] and frame["shots"].isna().all()
    assert emergence_scores(frame)["emergence_score"].tolist() == [1.0]


@pytest.mark.parametrize(
    "text, message",
    [
        ("family,model,task,metric,value\nf,a,t,m,1\n", r"missing column\(s\) \['params'\]"),
        ("family,model,params,task,metric,value\nf,a,10,t,m,0.5\nf,b,20,t,m,high\n", r"line 3: column 'value'"),
        ("family,model,params,task,metric,value\nf,a,-5,t,m,0.5\n", r"line 2: params is '-5'"),
        ("family,model,params,task,metric,value\nf,a,99999999999999999999999,t,m,0.5\n", r"line 2: .*up to 10\^15"),
        ("family,model,params,task,metric,value\nf,a,inf,t,m,0.5\n", r"line 2: params is 'inf'"),
        ("family,model,params,task,metric,value\n", "no rows"),
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
    path.write_text("family,model,params,task,metric,value\nf,a,10,t,m,0.5\nf,b,10,t,m,0.75\n")
    with pytest.raises(ValueError, match=r"models a \(10\), b \(10\) of family 'f'"):
        emergence_scores(read_sources([path]))


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="params='flops'"):
        read_sources([tmp_path], params="flops")
    with pytest.raises(ValueError, match="does not exist"):
        read_sources([tmp_path / "nowhere"])
    with pytest.raises(ValueError, match="threshold=-1.0"):
        summarise_by_metric(pd.DataFrame({"metric": ["m"], "emergence_score": [1.0]}), threshold=-1)


def run_mirage(*args):
    return run_cli([*MIRAGE, *args], cwd=REPO_ROOT, check=False)


@pytest.fixture(scope="module")
def meta_run(bigbench_checkout, tmp_path_factory):
    """One real ``mirage meta-analysis`` run over the checkout (threshold 50): (output folder, completed process)."""
    out = tmp_path_factory.mktemp("meta") / "meta"
    return out, run_mirage("meta-analysis", bigbench_checkout, "--out", out, "--threshold", "50")


def test_cli_writes_tables_plots_and_a_self_contained_page(meta_run):
    out, result = meta_run
    assert result.returncode == 0, result.stderr
    scores = pd.read_csv(out / "emergence_scores.csv", keep_default_na=False, na_values={"shots": [""]})
    assert list(scores.columns) == SCORE_TABLE_COLUMNS
    assert as_dict(scores).keys() == EXPECTED_BIGBENCH.keys()  # every curve, the 2-size one too
    assert scores["emergence_score"].max() == math.inf  # written as "inf", read back as inf
    by_metric = pd.read_csv(out / "by_metric.csv").set_index("metric")
    assert list(by_metric.reset_index().columns) == BY_METRIC_COLUMNS
    assert by_metric.loc["exact_str_match", "share_above_threshold"] == pytest.approx(2 / 3)
    # The default --min-sizes 3 leaves the GPT curve (2 sizes) out of the summary.
    assert by_metric.loc["multiple_choice_grade", ["n_pairs", "share_above_threshold"]].tolist() == [1, 1.0]
    assert by_metric.loc["normalized_aggregate_score", ["direction", "kind"]].tolist() == ["unknown", "unknown"]
    for plot in ("emergence_score_distributions.png", "share_above_threshold.png"):
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "meta_analysis.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "<td>calibration_multiple_choice_brier_score</td>" in page and "|emergence score| &gt; 50" in page
    assert "exact_str_match (higher is better, discontinuous): 67% of 3 curves above 50" in result.stdout
    settings = json.loads((out / "meta_analysis.json").read_text())
    assert (settings["min_sizes"], settings["curves"], settings["curves_in_summary"]) == (DEFAULT_MIN_SIZES, 9, 8)
    # The one warning: BIG-bench's normalized_aggregate_score has no direction the registry knows.
    (warning,) = settings["warnings"]
    assert warning.startswith("Direction unknown for metric(s) ['normalized_aggregate_score']")
    assert result.stderr.count("warning") == 1 and warning in result.stderr


def test_cli_reports_malformed_input_without_a_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("family,model,params,task,metric,value\nf,a,ten,t,m,0.5\n")
    assert main(["meta-analysis", str(bad), "--out", str(tmp_path / "meta")]) == 2
    assert f"{bad}, line 2: column 'params'" in capsys.readouterr().err
    assert not (tmp_path / "meta").exists()


def test_meta_section_of_an_output_folder(meta_run, tmp_path):
    out, _ = meta_run
    section = meta_section(out)
    html = section.to_html()
    assert "Meta-analysis" in section.heading and html.count("<img") == 2 and "inf" in html
    with pytest.raises(ValueError, match="missing"):
        meta_section(tmp_path)


def test_fractional_shots_are_refused(tmp_path):
    path = tmp_path / "shots.csv"
    path.write_text("family,model,params,task,metric,value,shots\nf,a,10,t,m,0.5,1.5\n")
    with pytest.raises(ValueError, match=r"line 2: shots is '1.5'"):
        read_sources([path])


def test_default_threshold_separates_the_papers_mirage_model_on_pythia_sizes():
    """p = exp(−(N/2e9)^−0.5) (docs/design.md) on Pythia's ten sizes: continuous metrics stay below 10, exact match not."""
    sizes = [
        14067712,
        30494720,
        70426624,
        162322944,
        405334016,
        1011781632,
        1414647808,
        2775208960,
        6857302016,
        11846072320,
    ]
    rows = []
    for size in sizes:
        p = math.exp(-((size / 2e9) ** -0.5))
        values = {"token_edit_distance_L5": 5 * (1 - p), "per_token_prob": p}
        values.update({f"exact_match_L{length}": p**length for length in (3, 4, 5)})
        rows += [("paper", "pythia", str(size), float(size), "model", "", pd.NA, m, v) for m, v in values.items()]
    frame = pd.DataFrame(
        rows, columns=["source", "family", "model", "params", "task", "subtask", "shots", "metric", "value"]
    )
    shares = summarise_by_metric(emergence_scores(frame)).set_index("metric")["share_above_threshold"]
    assert shares.to_dict() == {
        "exact_match_L3": 1.0,
        "exact_match_L4": 1.0,
        "exact_match_L5": 1.0,
        "per_token_prob": 0.0,
        "token_edit_distance_L5": 0.0,
    }


PYTHIA = {  # name: (total, non-embedding), from docs/design.md
    "pythia-70m": (70_426_624, 18_915_328),
    "pythia-160m": (162_322_944, 85_056_000),
    "pythia-410m": (405_334_016, 302_311_424),
    "pythia-1b": (1_011_781_632, 805_736_448),
}


def write_lm_eval_run(folder, model_name, task_scores, *, model_json=None, num_parameters=None):
    """A results file as ``lm_eval --output_path`` writes it (plus ``model.json`` as ``mirage sweep`` does)."""
    folder.mkdir(parents=True, exist_ok=True)
    results = {
        task: {
            "alias": task,
            **{f"{m},none": v for m, v in metrics.items()},
            **{f"{m}_stderr,none": 0.01 for m in metrics},
        }
        for task, metrics in task_scores.items()
    }
    record = {
        "results": results,
        "n-shot": {task: 2 for task in task_scores},
        "config": {"model": "hf", "model_args": f"pretrained={model_name}", "model_num_parameters": num_parameters},
        "model_name": model_name,
    }
    (folder / "results_2026-01-01T00-00-00.123456.json").write_text(json.dumps(record))
    if model_json is not None:
        (folder / "model.json").write_text(json.dumps(model_json))


@pytest.fixture
def sweep_folder(tmp_path):
    """``mirage sweep`` layout: <out>/<family>/<model>/ with lm-eval results and model.json."""
    out = tmp_path / "sweep"
    for i, (name, (total, non_embedding)) in enumerate(PYTHIA.items()):
        scores = {
            "mirage_arith_2dm_gen": {
                "exact_match": JUMP[i],
                "token_edit_distance": 3 - 3 * STEADY[i] + 0.3,
                "exact_match_L3": STEP[i],
            }
        }
        info = {
            "family": "pythia",
            "model": name,
            "path": f"EleutherAI/{name}",
            "params": total,
            "non_embedding_params": non_embedding,
        }
        write_lm_eval_run(out / "pythia" / name, f"EleutherAI/{name}", scores, model_json=info)
    return out


def test_lm_eval_sweep_folder_by_family(sweep_folder):
    frame = read_sources([sweep_folder])
    assert set(frame["family"]) == {"pythia"} and set(frame["source"]) == {str(sweep_folder)}
    assert sorted(frame["params"].unique()) == sorted(float(t) for t, _ in PYTHIA.values())
    got = {r.metric: (r.n_sizes, r.emergence_score) for r in emergence_scores(frame).itertuples()}
    assert got == {
        "exact_match": (4, pytest.approx(90.0)),
        "exact_match_L3": (4, math.inf),
        "token_edit_distance": (4, pytest.approx(3.0)),
    }
    non_embedding = read_sources([sweep_folder], params="non-embedding")
    assert sorted(non_embedding["params"].unique()) == sorted(float(n) for _, n in PYTHIA.values())


def test_plain_lm_eval_folder_and_csv_together(tmp_path, sweep_folder):
    plain = tmp_path / "tiny"
    for i, (name, count) in enumerate([("tiny-a", 1000), ("tiny-b", 5000)]):
        write_lm_eval_run(
            plain / name,
            f"/models/{name}",
            {"mirage_arith_1da_ll": {"greedy_match": [0.2, 0.6][i]}},
            num_parameters=count,
        )
    csv_path = tmp_path / "more.csv"
    csv_path.write_text("family,model,params,task,metric,value\nf,a,10,t,m,0.5\nf,b,20,t,m,0.75\n")
    scores = emergence_scores(read_sources([plain, sweep_folder, csv_path]))
    assert set(scores["source"]) == {str(plain), str(sweep_folder), str(csv_path)}
    tiny = scores[scores["source"] == str(plain)]
    # A plain lm-eval folder: the family is the folder's name, the count lm-eval's model_num_parameters.
    assert tiny[["family", "task", "metric", "n_sizes", "emergence_score"]].values.tolist() == [
        ["tiny", "mirage_arith_1da_ll", "greedy_match", 2, pytest.approx(1.0)]
    ]
    with pytest.raises(
        ValueError, match=r"no non-embedding parameters for model\(s\) tiny/tiny-a, tiny/tiny-b; .*--param-counts FILE"
    ):
        read_sources([plain], params="non-embedding")
    counts = tmp_path / "non_embedding.yaml"
    counts.write_text("tiny-a: 400\ntiny-b: 3000\n")
    given = read_sources([plain], params="non-embedding", param_counts=counts)
    assert sorted(given["params"]) == [400.0, 3000.0]


def test_mirage_report_includes_a_meta_analysis_folder(meta_run, tmp_path):
    meta, _ = meta_run
    result = run_mirage("report", meta, "--out", tmp_path / "report")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "report" / "report.html").read_text()
    assert "Meta-analysis: which metrics look emergent" in page and "<td>exact_str_match</td>" in page
    assert page.count("data:image/png;base64,") >= 2


@pytest.mark.slow
def test_real_lm_eval_runs_of_two_tiny_models(tiny_pair_lm_eval_runs, tmp_path):
    """lm_eval (the real CLI, two sizes) → mirage meta-analysis → one curve per metric."""
    runs = tiny_pair_lm_eval_runs
    out = tmp_path / "meta"
    result = run_mirage("meta-analysis", runs, "--out", out)
    assert result.returncode == 0, result.stderr
    scores = pd.read_csv(out / "emergence_scores.csv")
    assert set(scores["family"]) == {"tiny"}
    assert set(scores["task"]) == {"mirage_arith_2dm_gen", "mirage_arith_2dm_ll"}
    assert (scores["n_sizes"] == 2).all()
    ll = scores[scores["task"] == "mirage_arith_2dm_ll"]
    assert {"target_log_prob", "per_char_prob", "greedy_match"} <= set(ll["metric"])
    # Two sizes: the score is the sign of the change (or 0 when equal), by the formula.
    assert set(ll["emergence_score"]) <= {-1.0, 0.0, 1.0}


def test_sources_without_two_sizes_give_an_empty_but_complete_output(tmp_path, capsys):
    single = tmp_path / "single.csv"
    single.write_text("family,model,params,task,metric,value\nf,a,10,t,m,0.5\n")
    out = tmp_path / "meta"
    assert main(["meta-analysis", str(single), "--out", str(out)]) == 0
    assert "0 curves, 0 with 3+ sizes summarised over 0 metrics" in capsys.readouterr().out
    assert pd.read_csv(out / "emergence_scores.csv").empty and pd.read_csv(out / "by_metric.csv").empty
    assert "nothing to rank" in (out / "meta_analysis.html").read_text()
    assert not list(out.glob("*.png"))


# Three sizes per curve, as in published results of families with three models. Exact match is flat, then
# jumps at the largest size, on every task; token edit distance moves a little either way.
THREE_SIZES = {"1b": 1e9, "8b": 8e9, "62b": 6.2e10}
EXACT_3 = [[0.0, 0.0, 0.3], [0.01, 0.02, 0.5], [0.0, 0.05, 0.4], [0.02, 0.02, 0.6], [0.0, 0.01, 0.2]]
EDIT_3 = [[3.0, 2.9, 2.95], [2.0, 2.1, 2.05], [4.0, 4.2, 4.1], [1.5, 1.6, 1.4], [2.5, 2.55, 2.6]]
MYSTERY_LOSS = [3.0, 2.0, 1.0]  # a name the registry does not know: its falling values are never negated


@pytest.fixture(scope="module")
def three_size_checkout(tmp_path_factory):
    root = tmp_path_factory.mktemp("three") / "bigbench"
    for task, (exact, edit) in enumerate(zip(EXACT_3, EDIT_3)):
        for i, (name, count) in enumerate(THREE_SIZES.items()):
            values = {"exact_str_match": exact[i], "token_edit_distance": edit[i], "mystery_loss": MYSTERY_LOSS[i]}
            write_results_file(
                root, f"task{task}", "PaLM", name, (count, count), [bigbench_entry(f"task{task}", 0, values)]
            )
    return root


def test_three_sizes_per_curve_signed_medians_show_direction_and_sharpness_the_jump(three_size_checkout):
    summary = summarise_by_metric(emergence_scores(read_sources([three_size_checkout]))).set_index("metric")
    exact, edit = summary.loc["exact_str_match"], summary.loc["token_edit_distance"]
    # What |score| and the share above 10 show: nothing tells the two apart (|ES| lies in [1, 2] at 3 sizes).
    assert exact.share_above_threshold == edit.share_above_threshold == 0
    assert exact.share_can_exceed == edit.share_can_exceed == 0
    assert abs(exact.median_abs_score - edit.median_abs_score) < 0.2
    # Signed: exact match always gets better with size, edit distance mostly does not.
    assert exact.median_signed_score == pytest.approx(1.443, abs=1e-3) and exact.q1_signed_score > 1.4
    assert edit.median_signed_score == pytest.approx(-1.265, abs=1e-3)
    # Jump sharpness: exact match's gain comes in one step, edit distance's moves are even.
    assert exact.median_jump_sharpness > 0.9 and abs(edit.median_jump_sharpness) < 0.01
    assert (exact.curves_2_sizes, exact.curves_3_sizes, exact.curves_4plus_sizes) == (0, 5, 0)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 7).flatmap(lambda n: st.lists(st.floats(-10, 10, allow_nan=False), min_size=n, max_size=n)))
def test_no_curve_scores_above_the_largest_possible_score(values):
    assert abs(emergence_score(range(1, len(values) + 1), values)) <= largest_possible_score(len(values)) + 1e-9


def test_largest_possible_score_is_reached():
    assert emergence_score([1, 2], [0.0, 1.0]) == largest_possible_score(2) == 1.0
    assert emergence_score([1, 2, 3], [0.0, 1.0, 2.0]) == largest_possible_score(3) == 2.0
    for n in (4, 5, 6, 9):
        flat_then_jump = [0.0] * (n - 1) + [1.0]
        assert emergence_score(range(1, n + 1), flat_then_jump) == largest_possible_score(n) == math.inf
    for bad in (1, 2.5, [3, 0], "3"):
        with pytest.raises(ValueError, match="n_sizes="):
            largest_possible_score(bad)


@pytest.mark.parametrize(
    "n_sizes, threshold, warned",
    [
        ([2, 2], 10, True),
        ([3, 3], 10, True),
        ([2, 3], 10, True),
        ([3, 4], 10, False),
        ([4, 10], 10, False),
        ([3, 3], 2, True),
        ([3, 3], 1.5, False),
        ([2], 1, True),
        ([2], 0.5, False),
    ],
)
def test_unreachable_threshold_warning(n_sizes, threshold, warned):
    scores = pd.DataFrame({"metric": "exact_match", "n_sizes": n_sizes, "emergence_score": 1.0})
    warnings = threshold_warnings(scores, threshold=threshold)
    assert bool(warnings) == warned
    if warned:
        assert warnings[0].startswith(f"No curve can exceed the threshold {threshold:g}")


def test_unreachable_threshold_for_some_metrics_names_them():
    scores = pd.DataFrame({"metric": ["a", "b", "b", "c"], "n_sizes": [10, 3, 2, 4], "emergence_score": 1.0})
    assert threshold_warnings(scores, threshold=10) == [
        "No curve of metric(s) ['b'] can exceed the threshold 10 (at most 3 model sizes), "
        "so their share above it is 0 by construction."
    ]
    assert threshold_warnings(scores.iloc[:0], threshold=10) == []


def test_min_sizes_filters_the_summary(bigbench_checkout):
    scores = emergence_scores(read_sources([bigbench_checkout]))
    pairs = {m: summarise_by_metric(scores, min_sizes=m).set_index("metric")["n_pairs"].to_dict() for m in (2, 3, 4, 5)}
    assert (pairs[2]["multiple_choice_grade"], pairs[3]["multiple_choice_grade"], pairs[4]["exact_str_match"]) == (
        2,
        1,
        3,
    )
    assert pairs[5] == {}  # no curve has 5 sizes
    assert summary_curves(scores, 2).equals(scores) and len(summary_curves(scores, 3)) == len(scores) - 1
    for bad in (1, 2.5, True):
        with pytest.raises(ValueError, match="min_sizes="):
            summary_curves(scores, bad)


def test_cli_min_sizes(bigbench_checkout, tmp_path, capsys):
    out = tmp_path / "meta"
    assert main(["meta-analysis", str(bigbench_checkout), "--out", str(out), "--min-sizes", "2"]) == 0
    settings = json.loads((out / "meta_analysis.json").read_text())
    assert (settings["min_sizes"], settings["curves"], settings["curves_in_summary"]) == (2, 9, 9)
    assert pd.read_csv(out / "by_metric.csv").set_index("metric").loc["multiple_choice_grade", "curves_2_sizes"] == 1
    assert "9 curves, 9 with 2+ sizes" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["meta-analysis", str(bigbench_checkout), "--out", str(out), "--min-sizes", "1"])
    assert exit_info.value.code == 2 and "'1' is not a whole number of model sizes" in capsys.readouterr().err


def test_unknown_metrics_are_marked_and_not_sign_flipped(three_size_checkout):
    scores = emergence_scores(read_sources([three_size_checkout])).set_index(["task", "metric"])
    mystery = scores.loc[("task0", "mystery_loss")]
    assert (mystery.direction, mystery.kind, mystery.emergence_score) == ("unknown", "unknown", -2.0)
    assert mystery.sharpness == 0.0  # equal falling steps, raw
    edit = scores.loc[("task0", "token_edit_distance")]
    assert (edit.direction, edit.kind) == ("lower", "continuous")
    assert edit.emergence_score == pytest.approx(-emergence_score([1, 2, 3], EDIT_3[0]))  # lower is better: negated
    exact = scores.loc[("task0", "exact_str_match")]
    assert (exact.direction, exact.kind) == ("higher", "discontinuous")
    summary = summarise_by_metric(scores.reset_index()).set_index("metric")
    assert summary.loc["mystery_loss", ["direction", "kind", "median_signed_score"]].tolist() == [
        "unknown",
        "unknown",
        -2.0,
    ]


def test_cli_on_three_size_results_warns_everywhere(three_size_checkout, tmp_path, capsys):
    out = tmp_path / "meta"
    assert main(["meta-analysis", str(three_size_checkout), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "mirage meta-analysis: warning: No curve can exceed the threshold 10" in captured.err
    assert (
        "exact_str_match (higher is better, discontinuous): 0% of 5 curves above 10; median score +1.44, "
        "jump sharpness +0.96" in captured.out
    )
    assert "mystery_loss (direction unknown, unknown)" in captured.out
    settings = json.loads((out / "meta_analysis.json").read_text())
    unknown, unreachable = settings["warnings"]
    assert "['mystery_loss']" in unknown and "at most 3 model sizes" in unreachable
    scores = pd.read_csv(out / "emergence_scores.csv")
    assert list(scores.columns) == SCORE_TABLE_COLUMNS and len(scores) == 15 and (scores["n_sizes"] == 3).all()
    by_metric = pd.read_csv(out / "by_metric.csv").set_index("metric")
    assert (
        by_metric.loc["exact_str_match", "median_signed_score"]
        > 1.4
        > 0
        > by_metric.loc["token_edit_distance", "median_signed_score"]
    )
    page = (out / "meta_analysis.html").read_text()
    assert "<p>Warning: No curve can exceed the threshold 10" in page
    assert "<td>mystery_loss</td><td>unknown</td><td>unknown</td>" in page
    assert page.count("data:image/png;base64,") == 2


def test_distribution_plot_separates_curves_by_number_of_sizes(bigbench_checkout, tmp_path, monkeypatch):
    import mirage_metrics.plots.meta as meta_plots

    figures = []
    monkeypatch.setattr(meta_plots, "save_figure", lambda figure, path: figures.append(figure) or path)
    scores = emergence_scores(read_sources([bigbench_checkout]))
    meta_plots.plot_score_distributions(scores, sorted(set(scores["metric"])), 10, tmp_path / "plot.png")
    assert [text.get_text() for text in figures[0].legends[0].get_texts()] == [
        "2 sizes (|score| ≤ 1): 1 curve",
        "4 sizes: 8 curves",
    ]
    assert "normalized_aggregate_score (direction unknown)" in [
        label.get_text() for label in figures[0].axes[0].get_yticklabels()
    ]
