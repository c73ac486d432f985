"""Samples files parsed with orjson (issue 24, item 3): the table, warnings and errors are exactly those of the
standard library's parser, including for what orjson reads differently (NaN and Infinity literals, integers beyond
64 bits, lone surrogates), and clean lines, NaN values included, are never parsed twice."""

from __future__ import annotations

import json

import orjson
import pytest

from conftest import DATE, sample_line, write_run
from mirage_metrics import results
from mirage_metrics.results import read_results, results_warnings

MODEL = {"family": "f", "model": "m", "path": "/ckpt/m", "params": 100}
NAN = float("nan")


def _line(doc_id, filter_name="none", **metrics):
    return sample_line(doc_id, metrics or {"exact_match": 1.0, "exact_match_L4": NAN}, filter_name)


def _source(tmp_path, lines):
    """A source of one task whose samples file holds ``lines``."""
    write_run(tmp_path / "runs" / "m", {"t": lines}, model_json=MODEL)
    return tmp_path / "runs"


def _outcome(source):
    """What read_results gives: the table and the warnings, or the error's message."""
    with results_warnings() as notes:
        try:
            frame = read_results(source)
        except ValueError as error:
            return str(error)
    return frame.to_dict("list"), notes


def _standard_library(monkeypatch):
    """Make orjson refuse every line, so that every line takes the standard library's path."""

    def refuse(_):
        raise orjson.JSONDecodeError("refused", "", 0)

    monkeypatch.setattr(orjson, "loads", refuse)


def _same_as_standard_library(source, monkeypatch):
    fast = _outcome(source)
    with monkeypatch.context() as patch:
        _standard_library(patch)
        slow = _outcome(source)
    assert repr(fast) == repr(slow)  # repr: NaN lengths compare equal
    return fast


def _clean_lines():
    lines = [_line(i, exact_match=1.0, exact_match_L4=NAN, token_edit_distance=1) for i in range(7)]
    lines[1]["doc"]["question"] = "NaN or NaN?"  # NaN inside a string, on a line with a NaN value
    lines[2]["doc"]["question"] = "18446744073709551615 NaN"  # the marker's digits, in a string
    lines[4]["filtered_resps"] = [NAN, float("-inf")]  # NaN and Infinity outside the metrics
    lines[5]["doc"]["question"] = "\ud800"  # a lone surrogate, which orjson refuses
    lines[6]["exact_match_L4"] = True  # true reads as 1
    lines += [
        _line(i, token_edit_distance=2**64 + 1, exact_match=0.0, exact_match_L4=NAN) for i in range(7, 12)
    ]  # beyond 64 bits
    lines += [_line(i, exact_match=1.0, exact_match_L4=1.0, token_edit_distance=3) for i in range(12, 20)]
    for line in lines:  # a metric named NaN
        line["metrics"].append("NaN_rate")
        line["NaN_rate"] = NAN if line["doc_id"] % 2 else 0.25
    lines += [_line(i, "strict") for i in range(20)]
    return lines


@pytest.mark.parametrize("batch", [1, 3, 4096])
@pytest.mark.parametrize("chunk", [1, 1000, 1 << 22])
def test_clean_lines_give_the_standard_librarys_table(tmp_path, monkeypatch, batch, chunk):
    monkeypatch.setattr(results, "_BATCH_LINES", batch)
    monkeypatch.setattr(results, "_CHUNK_BYTES", chunk)
    table, notes = _same_as_standard_library(_source(tmp_path, _clean_lines()), monkeypatch)
    assert len(table["value"]) == 20 + 9 + 20 + 10 + 20 and any("'NaN_rate'" in note for note in notes)


def _damaged(lines, index, old, new):
    text = json.dumps(lines[index]) + "\n"
    assert old in text
    lines[index] = text.replace(old, new)
    return lines


DAMAGE = {
    "doc_id beyond 64 bits": lambda lines: _damaged(lines, 1, '"doc_id": 1,', f'"doc_id": {2**64},'),
    "doc_id beyond 63 bits, then a malformed line": lambda lines: _damaged(
        _damaged(lines, 1, '"doc_id": 1,', f'"doc_id": {2**63},'), 3, "{", "{{"
    ),
    "value beyond 64 bits": lambda lines: _damaged(lines, 2, '"exact_match": 1.0', '"exact_match": -1' + "0" * 25),
    "value too large, then a document logged twice": lambda lines: _damaged(
        _damaged(lines, 2, '"exact_match": 1.0', '"exact_match": 1' + "0" * 400), 4, '"doc_id": 4', '"doc_id": 0'
    ),
    "a string value, then a document logged twice": lambda lines: _damaged(
        _damaged(lines, 2, '"exact_match": 1.0', '"exact_match": "1.0"'), 4, '"doc_id": 4', '"doc_id": 0'
    ),
    "a null value": lambda lines: _damaged(lines, 5, '"exact_match": 1.0', '"exact_match": null'),
    "Infinity": lambda lines: _damaged(lines, 3, '"exact_match": 1.0', '"exact_match": Infinity'),
    "-NaN": lambda lines: _damaged(lines, 3, '"exact_match_L4": NaN', '"exact_match_L4": -NaN'),
    "NaN glued to digits": lambda lines: _damaged(lines, 3, '"exact_match_L4": NaN', '"exact_match_L4": NaN5'),
    "NaN as doc_id": lambda lines: _damaged(lines, 3, '"doc_id": 3,', '"doc_id": NaN,'),
    "NaN as filter": lambda lines: _damaged(lines, 3, '"filter": "none"', '"filter": NaN'),
    "NaN in the metrics list": lambda lines: _damaged(lines, 3, '"metrics": [', '"metrics": [NaN, '),
    "a metric listed twice": lambda lines: _damaged(
        lines, 3, '"metrics": ["exact_match"', '"metrics": ["exact_match", "exact_match"'
    ),
    "a metric listed without a value": lambda lines: _damaged(lines, 3, '"exact_match": 1.0, ', ""),
    "a metric missing from metrics": lambda lines: _damaged(lines, 3, '"metrics": ["exact_match", ', '"metrics": ['),
    "a value out of range": lambda lines: _damaged(lines, 6, '"exact_match": 1.0', '"exact_match": 0.5'),
    "an object, not a sample": lambda lines: lines[:4] + ["[1, 2]\n"] + lines[4:],
    "a line cut short": lambda lines: lines[:4] + [json.dumps(lines[4])[:60] + "\n"] + lines[5:],
}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("batch, chunk", [(1, 1), (4096, 1 << 22)])
def test_damaged_lines_give_the_standard_librarys_error(tmp_path, monkeypatch, damage, batch, chunk):
    monkeypatch.setattr(results, "_BATCH_LINES", batch)
    monkeypatch.setattr(results, "_CHUNK_BYTES", chunk)
    source = _source(tmp_path, [_line(i) for i in range(8)])
    lines = DAMAGE[damage]([_line(i) for i in range(8)])
    path = source / "m" / f"samples_t_{DATE}.jsonl"
    path.write_text("".join(line if isinstance(line, str) else json.dumps(line) + "\n" for line in lines))
    message = _same_as_standard_library(source, monkeypatch)
    assert isinstance(message, str) and message.startswith(f"{path}, line "), message
    if damage == "doc_id beyond 64 bits":
        assert message.startswith(f"{path}, line 2: 'doc_id' is {2**64}, too large for the table's numbers")


def test_clean_lines_are_parsed_once(tmp_path, monkeypatch):
    source = _source(tmp_path, [_line(i) for i in range(50)])  # NaN values on every line
    calls = []
    stdlib_loads = json.loads
    monkeypatch.setattr(json, "loads", lambda text, **kw: calls.append(text) or stdlib_loads(text, **kw))
    read_results(source)
    assert not [text for text in calls if b'"doc_id"' in (text if isinstance(text, bytes) else text.encode())]


@pytest.mark.parametrize("chunk", [1, 1 << 22])
def test_a_last_line_without_its_newline_is_read(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(results, "_CHUNK_BYTES", chunk)
    source = _source(tmp_path, [_line(i) for i in range(5)])
    whole = _same_as_standard_library(source, monkeypatch)
    path = source / "m" / f"samples_t_{DATE}.jsonl"
    path.write_text(path.read_text().rstrip("\n"))
    assert repr(_same_as_standard_library(source, monkeypatch)) == repr(whole)
    path.write_text(path.read_text() + "\n\n")  # an empty line is no sample
    assert _same_as_standard_library(source, monkeypatch).startswith(f"{path}, line 6: malformed JSON")
