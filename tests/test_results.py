"""Reading lm-eval output folders (sweep layout and plain lm_eval layout) into tidy tables."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from conftest import sample_line, write_run
from mirage_metrics.results import load_params, read_aggregates, read_results

LATER = "2026-02-02T03-04-05.678901"

ARITH_LINES = [
    sample_line(0, {"exact_match": 1.0, "exact_match_L1": 1.0, "exact_match_L2": 0.0, "token_edit_distance": 0}),
    sample_line(
        1, {"exact_match": 0.0, "exact_match_L1": 1.0, "exact_match_L2": float("nan"), "token_edit_distance": 2}
    ),
]


@pytest.fixture
def sweep_folder(tmp_path):
    """Two models of family ``fam`` in the mirage sweep layout, known values."""
    out = tmp_path / "runs"
    write_run(
        out / "fam" / "small",
        {"arith": ARITH_LINES},
        model_json={"family": "fam", "model": "small", "path": "/ckpt/small", "params": 1000},
    )
    write_run(
        out / "fam" / "big",
        {
            "arith": [
                sample_line(0, {"exact_match": 1.0, "token_edit_distance": 0}),
                sample_line(1, {"exact_match": 1.0, "token_edit_distance": 1}),
            ],
            "ll": [sample_line(7, {"target_log_prob": -1.5, "bigbench_brier_score": [[-1.0, -2.0], 0]})],
        },
        model_json={"family": "fam", "model": "big", "path": "/ckpt/big", "params": 5000},
    )
    return out


def test_sweep_layout_rows_hold_the_known_values(sweep_folder):
    frame = read_results(sweep_folder)
    assert list(frame.columns) == ["family", "model", "params", "task", "metric", "length", "sample_id", "value"]
    small = frame[frame.model == "small"].sort_values(["metric", "length", "sample_id"], na_position="first")
    rows = [
        (r.metric, None if math.isnan(r.length) else int(r.length), r.sample_id, r.value) for r in small.itertuples()
    ]
    assert rows == [
        ("exact_match", None, 0, 1.0),
        ("exact_match", None, 1, 0.0),
        ("exact_match", 1, 0, 1.0),
        ("exact_match", 1, 1, 1.0),
        ("exact_match", 2, 0, 0.0),  # sample 1 has NaN at L2 (not applicable): left out
        ("token_edit_distance", None, 0, 0.0),
        ("token_edit_distance", None, 1, 2.0),
    ]
    assert set(small.family) == {"fam"} and set(small.params) == {1000} and set(small.task) == {"arith"}
    big = frame[frame.model == "big"]
    assert big.groupby("metric", observed=True).value.mean().to_dict() == {
        "exact_match": 1.0, "token_edit_distance": 0.5, "target_log_prob": -1.5,
    }  # fmt: skip
    assert set(big.params) == {5000}
    assert frame.sample_id.dtype == np.int64 and frame.value.dtype == np.float64
    assert isinstance(frame.metric.dtype, pd.CategoricalDtype)


def test_aggregates_include_aggregate_only_metrics_without_stderr(sweep_folder):
    frame = read_aggregates(sweep_folder)
    small = frame[frame.model == "small"].set_index(["metric", "length"]).value
    nan = float("nan")
    assert small[("exact_match", nan)] == 0.5 and small[("token_edit_distance", nan)] == 1.0
    assert small[("exact_match", 1.0)] == 1.0  # exact_match_L1, split as read_results splits it
    assert not any("stderr" in metric for metric in frame.metric)
    assert set(frame.columns) == {"family", "model", "params", "task", "metric", "length", "value"}
    big_ll = frame[(frame.model == "big") & (frame.task == "ll")]
    assert set(big_ll.metric) == {"target_log_prob"}  # the brier items are not a number


def test_plain_lm_eval_layout_uses_model_name_and_lm_eval_param_count(tmp_path):
    source = tmp_path / "pythia-runs"
    write_run(source / "EleutherAI__pythia-70m", {"arith": ARITH_LINES}, model_name="EleutherAI/pythia-70m")
    write_run(source / "__ckpt__mine", {"arith": ARITH_LINES}, model_name="/ckpt/mine", num_params=777)
    frame = read_results(source)
    params = frame.groupby("model", observed=True).params.first().to_dict()
    assert params == {"pythia-70m": 70_426_624, "mine": 777}  # built-in count; lm-eval's count
    assert set(frame.family) == {"pythia-runs"}


def test_unknown_params_need_a_params_file(tmp_path):
    source = tmp_path / "runs"
    write_run(source / "x", {"arith": ARITH_LINES}, model_name="/ckpt/mystery")
    with pytest.raises(ValueError, match="parameter count of model 'mystery' is unknown"):
        read_results(source)
    csv_file = tmp_path / "params.csv"
    csv_file.write_text("model,params\nmystery,4321\n")
    assert set(read_results(source, params=csv_file).params) == {4321}
    yaml_file = tmp_path / "params.yaml"
    yaml_file.write_text("/ckpt/mystery: 1_000\n")
    assert set(read_aggregates(source, params=yaml_file).params) == {1000}
    assert set(read_results(source, params={"mystery": 9}).params) == {9}


def test_params_file_errors_name_file_and_line(tmp_path):
    bad_csv = tmp_path / "p.csv"
    bad_csv.write_text("model,params\na,1\nb,lots\n")
    with pytest.raises(ValueError, match=r"p\.csv, line 3: params='lots'"):
        load_params(bad_csv)
    no_header = tmp_path / "q.csv"
    no_header.write_text("name,count\na,1\n")
    with pytest.raises(ValueError, match="line 1: the CSV header"):
        load_params(no_header)


def test_latest_run_of_a_task_wins_and_filters_are_kept(tmp_path):
    folder = tmp_path / "runs" / "m"
    info = {"family": "f", "model": "m", "path": "m", "params": 10}
    write_run(folder, {"arith": [sample_line(0, {"exact_match": 0.0})]}, model_json=info)
    write_run(
        folder,
        {"arith": [sample_line(0, {"exact_match": 1.0}), sample_line(0, {"exact_match": 0.0}, filter_name="strict")]},
        date=LATER,
    )
    frame = read_results(tmp_path / "runs").sort_values("metric")
    assert list(zip(frame.metric, frame.value)) == [("exact_match", 1.0), ("exact_match,strict", 0.0)]


def test_unfinished_sweep_folders_are_ignored(sweep_folder):
    write_run(
        sweep_folder / "fam" / ".huge.tmp-123",
        {"arith": ARITH_LINES},
        model_json={"family": "fam", "model": "huge", "params": 1},
    )
    assert set(read_results(sweep_folder).model) == {"small", "big"}


def test_reader_processes_give_the_same_table(sweep_folder):
    serial = read_results(sweep_folder, workers=1)
    pd.testing.assert_frame_equal(read_results(sweep_folder, workers=2), serial)
    for wrong in (0, "many", 1.5):
        with pytest.raises(ValueError, match=f"workers={wrong!r} must be a positive number"):
            read_results(sweep_folder, workers=wrong)


def test_automatic_reader_processes_only_for_large_inputs(sweep_folder, monkeypatch):
    from mirage_metrics import results

    paths = sorted(sweep_folder.rglob("samples_*.jsonl"))
    assert results._worker_count("auto", paths) == 1  # a few hundred bytes: not worth starting processes
    monkeypatch.setattr(results, "_PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(results, "usable_cpus", lambda: 4)
    assert results._worker_count("auto", paths) == min(4, len(paths)) > 1
    assert results._worker_count(8, paths) == len(paths)


def test_a_reader_process_reports_the_file_and_line(sweep_folder):
    path = _samples_file(sweep_folder)
    path.write_text(path.read_text()[:-40])
    with pytest.raises(ValueError, match=rf"{path.name}, line 2: malformed JSON"):
        read_results(sweep_folder, workers=2)


def _samples_file(sweep_folder):
    return next((sweep_folder / "fam" / "small").glob("samples_arith_*.jsonl"))


def test_truncated_samples_file_names_file_and_line(sweep_folder):
    path = _samples_file(sweep_folder)
    text = path.read_text()
    path.write_text(text[: len(text) - 40])  # cut inside the second line, as a kill mid-write leaves it
    with pytest.raises(ValueError, match=rf"{path.name}, line 2: malformed JSON") as error:
        read_results(sweep_folder)
    assert str(path) in str(error.value)


def test_samples_file_cut_at_a_line_boundary_is_caught_by_the_count(sweep_folder):
    path = _samples_file(sweep_folder)
    path.write_text(path.read_text().splitlines(keepends=True)[0])
    with pytest.raises(ValueError, match="holds 1 samples but its results file reports 2"):
        read_results(sweep_folder)


def test_a_line_that_is_not_a_sample(sweep_folder):
    path = _samples_file(sweep_folder)
    path.write_text(path.read_text() + json.dumps({"hello": 1}) + "\n")
    with pytest.raises(ValueError, match=rf"{path.name}, line 3: not an lm-eval sample"):
        read_results(sweep_folder)


def test_malformed_results_json(sweep_folder):
    path = next((sweep_folder / "fam" / "big").glob("results_*.json"))
    path.write_text('{"results": {\n  "arith": oops\n}}')
    with pytest.raises(ValueError, match=rf"{path.name}, line 2: malformed JSON"):
        read_aggregates(sweep_folder)


def test_sources_must_be_folders_with_results(tmp_path):
    with pytest.raises(ValueError, match="is not a folder"):
        read_results(tmp_path / "missing")
    with pytest.raises(ValueError, match="no lm-eval results"):
        read_results(tmp_path)
    with pytest.raises(ValueError, match="sources is empty"):
        read_results([])


def test_several_sources_are_concatenated(sweep_folder, tmp_path):
    other = tmp_path / "other"
    write_run(other / "m", {"arith": ARITH_LINES}, model_json={"family": "g", "model": "m", "params": 3})
    frame = read_results([sweep_folder, other])
    assert set(frame.family) == {"fam", "g"}
    assert len(frame) == len(read_results(sweep_folder)) + len(read_results(other))


def test_read_directions_takes_lm_evals_flags_and_drops_conflicts(tmp_path):
    import json as _json

    from mirage_metrics.results import read_directions

    folder = tmp_path / "run"
    folder.mkdir()
    results = {
        "results": {"a": {"mystery,none": 1.0}, "b": {"mystery,none": 2.0, "odd_L2,none": 0.5}},
        "higher_is_better": {"a": {"mystery": False, "odd": True}, "b": {"mystery": False, "odd_L2": False}},
        "model_name": "m",
        "config": {"model_num_parameters": 10},
    }
    (folder / "results_2026-01-02T03-04-05.json").write_text(_json.dumps(results))
    assert read_directions(tmp_path) == {"mystery": False}  # "odd" is flagged both ways: unknown


def test_read_lm_eval_parses_each_results_file_once_for_all_three_tables(sweep_folder, monkeypatch):
    from mirage_metrics import results

    big = next((sweep_folder / "fam" / "big").glob("results_*.json"))
    document = json.loads(big.read_text())
    document["higher_is_better"] = {"arith": {"token_edit_distance": False, "exact_match": True}}
    big.write_text(json.dumps(document))
    parsed, load = [], results.load_results_file
    monkeypatch.setattr(results, "load_results_file", lambda path: parsed.append(path) or load(path))
    outputs = results.read_lm_eval(sweep_folder)
    assert sorted(parsed) == sorted(sweep_folder.rglob("results_*.json"))  # each once
    monkeypatch.undo()
    pd.testing.assert_frame_equal(outputs.table, read_results(sweep_folder))
    pd.testing.assert_frame_equal(outputs.aggregates, read_aggregates(sweep_folder))
    assert outputs.directions == results.read_directions(sweep_folder) == {
        "token_edit_distance": False, "exact_match": True,
    }  # fmt: skip
