"""Per-sample values and counts that would silently change a report: each is an error
naming the file (and line, field), or a :class:`ResultsWarning` saying what was left out and why."""

from __future__ import annotations

import json
import re

import pytest

from conftest import DATE, sample_line, write_run
from mirage_metrics.results import ResultsWarning, read_aggregates, read_directions, read_results

MODEL = {"family": "f", "model": "m", "path": "/ckpt/m", "params": 100}


def _source(tmp_path, lines, task="t"):
    write_run(tmp_path / "runs" / "m", {task: lines}, model_json=MODEL)
    return tmp_path / "runs"


def _samples(source, task="t"):
    return source / "m" / f"samples_{task}_{DATE}.jsonl"


def _results(source):
    return source / "m" / f"results_{DATE}.json"


def _edit_results(source, change):
    path = _results(source)
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return path


def _write_lines(path, lines):
    path.write_text("".join(line if isinstance(line, str) else json.dumps(line) + "\n" for line in lines))


def _edited(tmp_path, lines, edit):
    """A source whose samples file holds ``lines``, then ``edit(records)`` applied to the parsed lines."""
    source = _source(tmp_path, lines)
    records = [json.loads(line) for line in _samples(source).read_text().splitlines()]
    edit(records)
    _write_lines(_samples(source), records)
    return source


def _without_counts(document):
    """A results file that gives no count of documents (neither ``n-samples`` nor ``sample_len``)."""
    document.pop("n-samples")
    for metrics in document["results"].values():
        metrics.pop("sample_len")


def _two_filters(n=5):
    return [sample_line(i, {"exact_match": 1.0}, name) for name in ("none", "flexible-extract") for i in range(n)]


def test_without_n_samples_the_filters_are_cross_checked(tmp_path):
    source = _source(tmp_path, _two_filters())
    _edit_results(source, _without_counts)
    assert len(read_results(source)) == 10  # complete: fine
    path = _samples(source)
    _write_lines(path, path.read_text().splitlines(keepends=True)[:8])  # cut at a line boundary
    with pytest.raises(ValueError, match=rf"{path}: filter 'flexible-extract' holds 3 samples but filter 'none' 5"):
        read_results(source)


def test_without_n_samples_the_sample_len_counts_the_documents(tmp_path):
    source = _source(tmp_path, [sample_line(i, {"exact_match": 1.0}) for i in range(5)])
    _edit_results(source, lambda d: d.pop("n-samples"))
    path = _samples(source)
    _write_lines(path, path.read_text().splitlines(keepends=True)[:4])  # cut at a line boundary
    with pytest.raises(ValueError, match=rf"{path}: filter 'none' holds 4 samples but its results file reports 5"):
        read_results(source)
    results = _edit_results(source, lambda d: d["results"]["t"].update(sample_len="5"))
    with pytest.raises(ValueError, match=rf"{results}: sample_len of task 't' is \"5\", not a count of documents"):
        read_results(source)


def test_filters_holding_different_documents_are_an_error(tmp_path):
    lines = _two_filters()
    lines[-1]["doc_id"] = 9
    source = _source(tmp_path, lines)
    _edit_results(source, _without_counts)
    with pytest.raises(ValueError, match="filter 'flexible-extract' holds other documents than filter 'none'"):
        read_results(source)


def test_a_metric_listed_twice_in_a_sample_is_an_error(tmp_path):
    lines = [sample_line(i, {"exact_match": 1.0}) for i in range(5)]
    lines[3]["metrics"] = ["exact_match", "exact_match"]
    source = _source(tmp_path, lines)
    with pytest.raises(ValueError, match=rf"{_samples(source)}, line 4: metric 'exact_match' is listed twice"):
        read_results(source)


def test_a_metric_missing_from_some_samples_is_an_error(tmp_path):
    def edit(records):
        records[2]["metrics"] = ["exact_match"]
        del records[2]["target_log_prob"]

    source = _edited(tmp_path, [sample_line(i, {"exact_match": 1.0, "target_log_prob": -1.0}) for i in range(5)], edit)
    with pytest.raises(ValueError, match=rf"{_samples(source)}, line 3: metric 'target_log_prob' \(filter 'none'\) "):
        read_results(source)


@pytest.mark.parametrize(
    "metric, value, shown",
    [
        ("target_log_prob", 7.5, "7.5"),
        ("per_char_prob", 1e308, "1e\\+308"),
        ("per_char_prob", -0.1, "-0.1"),
        ("token_edit_distance", -1, "-1"),
        ("exact_match", 0.5, "0.5"),
        ("exact_match", 2, "2"),
        ("exact_match_L3", 0.5, "0.5"),
        ("target_log_prob", True, "true"),
    ],
)
def test_a_value_outside_its_metrics_range_is_an_error(tmp_path, metric, value, shown):
    lines = [sample_line(i, {metric: 0.0}) for i in range(5)]
    lines[3][metric] = value
    source = _source(tmp_path, lines)
    with pytest.raises(
        ValueError, match=rf"{_samples(source)}, line 4: metric '{metric}' \(filter 'none'\) is {shown}"
    ):
        read_results(source)


@pytest.mark.parametrize("value", ["Infinity", "-Infinity"])
def test_an_infinite_value_is_an_error(tmp_path, value):
    lines = [sample_line(i, {"target_log_prob": -1.0, "mystery": 1.0}) for i in range(5)]
    source = _source(tmp_path, lines)
    path = _samples(source)
    text = path.read_text().splitlines(keepends=True)
    text[1] = text[1].replace('"mystery": 1.0', f'"mystery": {value}')
    text[2] = text[2].replace('"target_log_prob": -1.0', f'"target_log_prob": {value}')
    path.write_text("".join(text))
    with pytest.raises(ValueError, match=rf"{path}, line 2: metric 'mystery' \(filter 'none'\) is {value}"):
        read_results(source)


def test_a_perplexitys_per_sample_log_likelihoods_are_accepted(tmp_path):
    source = _source(tmp_path, [sample_line(i, {"perplexity": -2.5 - i}) for i in range(4)])
    assert list(read_results(source).value) == [-2.5, -3.5, -4.5, -5.5]  # lm-eval logs log-likelihoods


def test_booleans_are_read_as_one_and_zero(tmp_path):
    source = _source(tmp_path, [sample_line(i, {"exact_match": i % 2 == 0}) for i in range(4)])
    assert list(read_results(source).value) == [1.0, 0.0, 1.0, 0.0]


@pytest.mark.parametrize("value", ["0.5", "n/a"])
def test_a_metric_that_is_a_string_on_every_line_is_left_out_with_a_warning(tmp_path, value):
    lines = [sample_line(i, {"exact_match": 1.0, "score": value}) for i in range(4)]
    source = _source(tmp_path, lines)
    with pytest.warns(ResultsWarning) as caught:
        frame = read_results(source)
    assert set(frame.metric) == {"exact_match"}
    assert [str(w.message) for w in caught] == [
        f"{_samples(source)}, line 1: metric 'score' (filter 'none') is {json.dumps(value)}, a string, and no "
        "sample holds a number; it is left out of the per-sample table (no n, no interval; the results file's "
        "aggregate is shown where it is a number)"
    ]


def test_a_metric_listed_but_never_written_is_left_out_with_a_warning(tmp_path):
    def edit(records):
        for record in records:
            record["metrics"].append("ghost")

    source = _edited(tmp_path, [sample_line(i, {"exact_match": 1.0}) for i in range(4)], edit)
    with pytest.warns(ResultsWarning, match=r"line 1: metric 'ghost' \(filter 'none'\) is missing .* and no sample"):
        read_results(source)


@pytest.mark.parametrize("name", [["x"], {"a": 1}, 5, None])
def test_a_metric_name_that_is_not_a_string_is_an_error(tmp_path, name):
    source = _edited(
        tmp_path, [sample_line(i, {"exact_match": 1.0}) for i in range(4)], lambda r: r[2]["metrics"].append(name)
    )
    with pytest.raises(
        ValueError, match=re.escape(f"{_samples(source)}, line 3: the 'metrics' list holds {json.dumps(name)}")
    ):
        read_results(source)


@pytest.mark.parametrize("n_samples", [[1, 2], "5", {"t": [5]}, {"t": "5"}, {"t": {"effective": "5"}}])
def test_a_malformed_n_samples_names_the_file_and_field(tmp_path, n_samples):
    source = _source(tmp_path, [sample_line(i, {"exact_match": 1.0}) for i in range(4)])
    path = _edit_results(source, lambda d: d.update({"n-samples": n_samples}))
    with pytest.raises(ValueError, match=rf"{path}: .*n-samples"):
        read_results(source)


@pytest.mark.parametrize("field", ["config", "higher_is_better", "group_subtasks"])
def test_a_malformed_field_of_the_results_file_names_it(tmp_path, field):
    source = tmp_path / "runs"
    write_run(source / "m", {"t": [sample_line(0, {"exact_match": 1.0})]}, model_name="org/m", num_params=4)
    path = _edit_results(source, lambda d: d.update({field: [1]}))
    for reader in (read_results, read_aggregates, read_directions):
        with pytest.raises(ValueError, match=rf"{path}: field '{field}' is a JSON list, not an object"):
            reader(source)


def test_a_samples_file_without_a_results_file_is_named_in_a_warning(tmp_path):
    source = _source(tmp_path, [sample_line(i, {"exact_match": 1.0}) for i in range(4)])
    orphan = source / "m" / "samples_t_2027-01-01T00-00-00.000000.jsonl"
    orphan.write_text(_samples(source).read_text())
    with pytest.warns(ResultsWarning, match=rf"{orphan}: no results file of its run .*; it is left out"):
        read_results(source)


@pytest.mark.parametrize("field", ["doc_id", "exact_match"])
def test_a_number_too_large_for_the_table_is_an_error(tmp_path, field):
    source = _source(tmp_path, [sample_line(i, {"exact_match": 1.0}) for i in range(3)])
    path = _samples(source)
    lines = path.read_text().splitlines(keepends=True)
    old = '"doc_id": 1' if field == "doc_id" else '"exact_match": 1.0'
    lines[1] = lines[1].replace(old, old.split(":")[0] + ": 1" + "0" * 400)
    path.write_text("".join(lines))
    with pytest.raises(ValueError, match=rf"{path}, line 2: '{field}' is 1000.*, too large"):
        read_results(source)


def test_an_empty_samples_file_is_an_error(tmp_path):
    source = _source(tmp_path, [sample_line(i, {"exact_match": 1.0}) for i in range(3)])
    _samples(source).write_text("")
    with pytest.raises(ValueError, match=rf"{_samples(source)}: no samples of filter 'none'"):
        read_results(source)
    _edit_results(source, lambda d: d["results"].update(t={"alias": "t"}))  # no metric names the filter
    with pytest.raises(ValueError, match=rf"{_samples(source)}: holds no samples but its results file reports 3"):
        read_results(source)
