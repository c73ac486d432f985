"""Reading lm-eval folders never drops or doubles a value silently.

Each damaged input is an error naming the file (and line), or, for NaN values lm-eval itself writes, a counted
warning.
"""

from __future__ import annotations

import json

import pytest

from conftest import DATE, sample_line, write_run
from mirage_metrics.results import ResultsWarning, read_aggregates, read_results

MODEL = {"family": "f", "model": "m", "path": "/ckpt/m", "params": 100}
TEN = [sample_line(i, {"exact_match": float(i % 2), "token_edit_distance": i % 3}) for i in range(10)]


@pytest.fixture
def source(tmp_path):
    """One model, one task of 10 samples (filter none)."""
    write_run(tmp_path / "runs" / "m", {"t": TEN}, model_json=MODEL)
    return tmp_path / "runs"


def _results_file(source):
    return source / "m" / f"results_{DATE}.json"


def _samples_file(source, task="t"):
    return source / "m" / f"samples_{task}_{DATE}.jsonl"


def _rewrite_results(source, change):
    path = _results_file(source)
    document = json.loads(path.read_text())
    path.write_text(json.dumps(change(document)))
    return path


@pytest.mark.parametrize("results", [None, [], ["t"], {"t": [1.0]}])
def test_a_results_file_without_a_results_mapping_is_an_error(source, results):
    path = _rewrite_results(
        source,
        lambda document: (
            {**document, "results": results}
            if results is not None
            else {k: v for k, v in document.items() if k != "results"}
        ),
    )
    for reader in (read_results, read_aggregates):
        with pytest.raises(ValueError, match=rf"{path}: 'results' is not a mapping"):
            reader(source)


def test_a_results_file_that_is_not_an_object(source):
    _results_file(source).write_text("[1, 2]")
    with pytest.raises(ValueError, match="holds a JSON list, not an object"):
        read_results(source)


def test_a_duplicated_sample_line_is_an_error_naming_file_and_line(source):
    path = _samples_file(source)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:4] + [lines[2]] + lines[4:]))  # 11 lines for 10 documents
    with pytest.raises(ValueError, match=rf"{path}, line 5: doc_id 2 of filter 'none' is logged a second time"):
        read_results(source)


def _two_filter_run(folder, n=10):
    """A generation task logged as lm-eval does with two filters: every document under 'none', then under
    'flexible-extract'."""
    lines = [
        sample_line(i, {"exact_match": 1.0}, filter_name=name)
        for name in ("none", "flexible-extract")
        for i in range(n)
    ]
    write_run(folder, {"gen": lines}, model_json=MODEL)
    return folder / f"samples_gen_{DATE}.jsonl"


def test_two_filters_are_counted_per_document_and_filter(tmp_path):
    _two_filter_run(tmp_path / "runs" / "m")
    frame = read_results(tmp_path / "runs")
    assert frame.groupby("metric", observed=True).size().to_dict() == {
        "exact_match": 10,
        "exact_match,flexible-extract": 10,
    }


def test_two_filters_cut_at_a_line_boundary(tmp_path):
    path = _two_filter_run(tmp_path / "runs" / "m")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:13]))  # 'none' complete, 'flexible-extract' on 3 of 10
    with pytest.raises(
        ValueError,
        match=rf"{path}: filter 'flexible-extract' holds 3 samples but its results "
        "file reports 10",
    ):
        read_results(tmp_path / "runs")
    path.write_text("".join(lines[:10]))  # the cut falls between the filters
    with pytest.raises(ValueError, match=rf"{path}: no samples of filter 'flexible-extract'"):
        read_results(tmp_path / "runs")


def test_a_missing_samples_file_is_an_error(source):
    _samples_file(source).unlink()
    with pytest.raises(
        ValueError,
        match=rf"{_results_file(source)}: task 't' has no samples file "
        rf"samples_t_{DATE}\.jsonl; rerun it with lm_eval --log_samples",
    ):
        read_results(source)


def test_a_group_of_tasks_needs_no_samples_file(source):
    def add_group(document):
        document["results"]["grp"] = {"alias": "grp", "exact_match,none": 0.5}
        document["group_subtasks"] = {"grp": ["t"], "t": []}
        return document

    _rewrite_results(source, add_group)
    assert set(read_results(source).task) == {"t"}


@pytest.mark.parametrize("value, shown", [(None, "null"), ("0.5", '"0.5"'), ([1], r"\[1\]"), ("drop", "missing")])
def test_a_per_sample_value_that_is_not_a_number_is_an_error(source, value, shown):
    path = _samples_file(source)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    if value == "drop":
        del lines[6]["token_edit_distance"]
    else:
        lines[6]["token_edit_distance"] = value
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(
        ValueError,
        match=rf"{path}, line 7: metric 'token_edit_distance' \(filter 'none'\) is "
        rf"{shown}, not a number",
    ):
        read_results(source)


def test_aggregate_only_metrics_are_never_numbers_and_are_not_errors(tmp_path):
    lines = [
        sample_line(i, {"exact_match": 1.0, "bigbench_brier_score": [[-1.0, -2.0], 0], "bypass": None})
        for i in range(3)
    ]
    write_run(tmp_path / "runs" / "m", {"t": lines}, model_json=MODEL)
    assert set(read_results(tmp_path / "runs").metric) == {"exact_match"}


def test_nan_values_are_counted_in_a_warning_except_by_length(source):
    path = _samples_file(source)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for line in lines[:3]:
        line["exact_match"] = float("nan")
    for line in lines:
        line["metrics"].append("exact_match_L4")
        line["exact_match_L4"] = float("nan") if line["doc_id"] < 5 else 1.0  # not applicable: no warning
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.warns(ResultsWarning) as caught:
        frame = read_results(source)
    assert [str(w.message) for w in caught] == [
        f"{path}: metric 'exact_match' (filter 'none') is NaN on 3 of 10 samples; they are left out"
    ]
    counts = frame.fillna({"length": 0}).groupby(["metric", "length"], observed=True).size().to_dict()
    assert counts == {("exact_match", 0): 7, ("exact_match", 4): 5, ("token_edit_distance", 0): 10}


@pytest.mark.parametrize("params", [-5, 0, "many", 1.5, True])
def test_a_parameter_count_must_be_a_positive_integer(tmp_path, params):
    folder = tmp_path / "runs" / "m"
    write_run(folder, {"t": TEN}, model_json={**MODEL, "params": params})
    with pytest.raises(ValueError, match=rf"model\.json: params={params!r} must be a positive integer"):
        read_results(tmp_path / "runs")
    (folder / "model.json").unlink()
    _rewrite_results(tmp_path / "runs", lambda d: {**d, "config": {**d["config"], "model_num_parameters": params}})
    if params == 0:  # lm-eval's "could not count": the count must come from elsewhere
        with pytest.raises(ValueError, match="the parameter count of model 'tiny' is unknown"):
            read_results(tmp_path / "runs")
    else:
        with pytest.raises(ValueError, match=rf"model_num_parameters of lm-eval's results file: params={params!r}"):
            read_aggregates(tmp_path / "runs")
    with pytest.raises(ValueError, match=r"params of model 'tiny': params=.* must be a positive integer"):
        read_results(tmp_path / "runs", params={"tiny": params if params != 0 else -1})


def test_a_parameter_count_written_as_a_float_is_read_as_an_integer(source):
    assert set(read_results(source, params={"m": 7e8}).params) == {700_000_000}


def test_lines_that_are_not_samples(source):
    path = _samples_file(source)
    good = path.read_text()
    for bad in (
        '{"doc_id": "3", "metrics": []}',
        '{"doc_id": 3, "metrics": "exact_match"}',
        '{"doc_id": 3, "metrics": [], "filter": ["x"]}',
        "[1, 2]",
    ):
        path.write_text(good + bad + "\n")
        with pytest.raises(ValueError, match=rf"{path}, line 11: not an lm-eval sample"):
            read_results(source)
