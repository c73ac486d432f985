"""Generation tasks whose outputs are (nearly) all empty: an instruct model that emits its end token first scores 0
on every metric of the text, which must read as a warning on the page and on stderr, not as a silent 0."""

from __future__ import annotations

import re

import pytest

from conftest import MIRAGE, SIZES, model_samples, run_cli, sample_line, write_lm_eval_run, write_run
from mirage_metrics.report import build_report
from mirage_metrics.results import ResultsWarning, read_lm_eval, results_warnings

NOTE = "outputs are empty (the model stopped at once: an instruct model emitting its end token first?"


def _generation_lines(texts: list[str], filters=("none",)) -> list[dict]:
    lines = []
    for filter_name in filters:
        for doc_id, text in enumerate(texts):
            line = sample_line(doc_id, {"exact_match": float(text.strip() == "42")}, filter_name)
            # lm-eval's flexible-extract filter logs "" where it extracts nothing: the raw output is what counts
            line["resps"], line["filtered_resps"] = [[text]], [text if filter_name == "none" else ""]
            lines.append(line)
    return lines


def _loglikelihood_lines(n: int) -> list[dict]:
    lines = []
    for doc_id in range(n):
        line = sample_line(doc_id, {"per_char_prob": 0.5})
        line["resps"], line["filtered_resps"] = [[[-1.5, False]]], [[-1.5, False]]
        lines.append(line)
    return lines


@pytest.mark.parametrize("empty, warned", [(10, True), (9, True), (8, False), (0, False)])
def test_generation_outputs_are_counted_once_per_document_and_mostly_empty_ones_warned(tmp_path, empty, warned):
    texts = [" \n"] * (empty // 2) + [""] * (empty - empty // 2) + [" 42"] * (10 - empty)
    samples = {"gen": _generation_lines(texts, filters=("none", "flex")), "ll": _loglikelihood_lines(10)}
    write_run(tmp_path / "runs" / "m", samples, model_json={"family": "f", "model": "m", "params": 100})
    with results_warnings() as notes:
        outputs = read_lm_eval(tmp_path / "runs").outputs
    assert outputs.to_dict("records") == [{"family": "f", "model": "m", "task": "gen", "outputs": 10, "empty": empty}]
    listed = [note for note in notes if NOTE in note]
    assert listed == (
        [
            f"{next((tmp_path / 'runs' / 'm').glob('samples_gen_*'))}: {empty} of 10 {NOTE} try a "
            "chat template or few-shot)"
        ]
        if warned
        else []
    )


def test_a_line_the_standard_library_reads_is_counted_too(tmp_path):
    """A line with a NaN value is parsed by the standard library, not orjson: its output counts all the same."""
    lines = _generation_lines([""] * 10)
    lines[3]["exact_match"] = float("nan")
    write_run(tmp_path / "runs" / "m", {"gen": lines}, model_json={"family": "f", "model": "m", "params": 100})
    with results_warnings():
        outputs = read_lm_eval(tmp_path / "runs").outputs
    assert outputs[["outputs", "empty"]].values.tolist() == [[10, 10]]


def test_empty_outputs_are_warned_beside_the_tasks_verdict_and_on_stderr(tmp_path):
    source = tmp_path / "runs"
    for i, size in enumerate(SIZES[:3]):
        samples = {"mirage_arith_2dm_gen": model_samples(i, size)["mirage_arith_2dm_gen"]}
        model = {"family": "toy", "model": f"m{i}", "path": f"/ckpt/m{i}", "params": int(size)}
        write_lm_eval_run(source / "toy" / f"m{i}", f"/ckpt/m{i}", None, samples, model_json=model)
    path = next((source / "toy" / "m0").glob("samples_mirage_arith_2dm_gen_*.jsonl"))
    path.write_text(
        path.read_text().replace(
            '"resps": [["42"]], "filtered_resps": ["42"]', '"resps": [[""]], "filtered_resps": [""]'
        )
    )
    with pytest.warns(ResultsWarning, match=re.escape(f"{path}: 10 of 10 {NOTE}")):
        page = build_report([source], tmp_path / "report", n_boot=20).read_text()
    section = page[page.index("<h3>mirage_arith_2dm_gen — toy</h3>") :]
    warning = section.index("<p><strong>Warning:</strong> m0: 10 of 10 outputs are empty (the model stopped at once")
    assert warning < section.index("<strong>Answer:") and "m1:" not in section[warning : section.index("</p>")]
    assert "<td>mirage_arith_2dm_gen</td><td>no jump (outputs empty: see the warning)</td>" in page
    done = run_cli([*MIRAGE, "report", source, "--out", tmp_path / "cli", "--bootstrap", "20"])
    assert f"mirage report: warning: {path}: 10 of 10 {NOTE}" in done.stderr
