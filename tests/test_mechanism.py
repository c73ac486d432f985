"""The mechanism table: predicted (mean prefix_prob_L of the _ll task) beside observed (_gen_t1 exact_match_L)."""

import json

import numpy as np
import pandas as pd
import pytest

from mirage_metrics.atomic_files import MANIFEST_FILE
from mirage_metrics.mechanism import MECHANISM_COLUMNS, mechanism_sentence, mechanism_table


def _row(model, params, task, metric, length, mean, n=100, low=np.nan, high=np.nan):
    return {
        "family": "toy",
        "model": model,
        "params": params,
        "task": task,
        "metric": metric,
        "length": length,
        "n": n,
        "mean": mean,
        "ci_low": low,
        "ci_high": high,
        "interval": "",
    }


@pytest.fixture
def summary():
    rows = [
        _row("a", 10.0, "s_ll", "prefix_prob", 1.0, 0.50, low=0.45, high=0.55),
        _row("a", 10.0, "s_gen_t1", "exact_match", 1.0, 0.48, low=0.38, high=0.58),
        _row("a", 10.0, "s_ll", "prefix_prob", 2.0, 0.30, n=90),
        _row("a", 10.0, "s_gen_t1", "exact_match", 2.0, 0.20, n=90, low=0.12, high=0.29),
        # Not paired: the filtered metric, the greedy task, a metric not by length, another stem.
        _row("a", 10.0, "s_gen_t1", "exact_match,flexible-extract", 1.0, 0.9, low=0.8, high=1.0),
        _row("a", 10.0, "s_gen", "exact_match", 1.0, 0.9, low=0.8, high=1.0),
        _row("a", 10.0, "s_gen_t1", "exact_match", np.nan, 0.1, low=0.0, high=0.2),
        _row("a", 10.0, "other_gen_t1", "exact_match", 1.0, 0.4, low=0.3, high=0.5),
        _row("b", 20.0, "s_ll", "prefix_prob", 1.0, 0.70),
        _row("b", 20.0, "s_gen_t1", "exact_match", 1.0, 0.71, n=100, low=0.61, high=0.80),
    ]
    return pd.DataFrame(rows)


def test_pairs_prefix_prob_with_unfiltered_sampled_exact_match_at_each_length(summary):
    table = mechanism_table(summary)
    assert list(table.columns) == MECHANISM_COLUMNS
    got = table[["model", "task", "L", "predicted", "observed", "n", "n_predicted", "inside"]].to_dict("records")
    assert got == [
        {
            "model": "a",
            "task": "s_gen_t1",
            "L": 1,
            "predicted": 0.5,
            "observed": 0.48,
            "n": 100,
            "n_predicted": 100,
            "inside": True,
        },
        {
            "model": "b",
            "task": "s_gen_t1",
            "L": 1,
            "predicted": 0.7,
            "observed": 0.71,
            "n": 100,
            "n_predicted": 100,
            "inside": True,
        },
        {
            "model": "a",
            "task": "s_gen_t1",
            "L": 2,
            "predicted": 0.3,
            "observed": 0.2,
            "n": 90,
            "n_predicted": 90,
            "inside": False,
        },
    ]
    assert table["difference"].round(6).tolist() == [0.02, -0.01, 0.1]


def test_no_pairs_gives_an_empty_frame_with_the_columns(summary):
    table = mechanism_table(summary[summary["task"] != "s_ll"])
    assert table.empty and list(table.columns) == MECHANISM_COLUMNS


def test_sentence_counts_cells_and_names_the_largest_difference(summary):
    sentence = mechanism_sentence(mechanism_table(summary))
    assert sentence.startswith("On s_gen_t1: in 2 of 3 (model, L) cells the predicted value lies inside")
    assert "in 2 within 0.05" in sentence and "largest difference +0.100 at a, L = 2" in sentence
    assert "same problems in every cell" in sentence


def test_sentence_says_when_the_tasks_scored_different_problems(summary):
    summary.loc[summary["task"].eq("s_ll") & summary["length"].eq(2.0), "n"] = 80
    assert "different numbers of problems" in mechanism_sentence(mechanism_table(summary))


def test_report_writes_mechanism_csv_figure_and_sentence(tmp_path):
    from conftest import write_lm_eval_run
    from mirage_metrics.report import build_report

    # 100 problems, two sizes; at L = 2 the small model is never right (drawn as a triangle at its upper bound).
    for index, (size, right_first, right_both) in enumerate(((1e6, 40, 0), (1e7, 80, 30))):
        first = [1.0 if i < right_first else 0.0 for i in range(100)]
        both = [1.0 if i < right_both else 0.0 for i in range(100)]
        samples = {
            "mirage_arith_2dm_ll": {
                "prefix_prob_L1": [right_first / 100] * 100,
                "prefix_prob_L2": [right_both / 100] * 100,
            },
            "mirage_arith_2dm_gen_t1": {"exact_match": both, "exact_match_L1": first, "exact_match_L2": both},
        }
        model = {"family": "toy", "model": f"m{index}", "path": f"/ckpt/m{index}", "params": int(size)}
        write_lm_eval_run(tmp_path / "runs" / f"m{index}", f"/ckpt/m{index}", None, samples, model_json=model)
    page = build_report([tmp_path / "runs"], tmp_path / "report", n_boot=20).read_text()
    written = pd.read_csv(tmp_path / "report" / "mechanism.csv")
    assert list(written.columns) == MECHANISM_COLUMNS
    assert written[["model", "L", "predicted", "observed", "n", "inside"]].values.tolist() == [
        ["m0", 1, 0.4, 0.4, 100, True],
        ["m1", 1, 0.8, 0.8, 100, True],
        ["m0", 2, 0.0, 0.0, 100, True],
        ["m1", 2, 0.3, 0.3, 100, True],
    ]
    assert "On mirage_arith_2dm_gen_t1: in 4 of 4 (model, L) cells" in page
    assert (tmp_path / "report" / "mechanism_toy_mirage_arith_2dm_gen_t1.png").is_file()
    assert (
        "mechanism_toy_mirage_arith_2dm_gen_t1.png"
        in json.loads((tmp_path / "report" / MANIFEST_FILE).read_text())["files"]
    )
