"""mirage meta-analysis: which way each metric is better (a CSV's direction column, --direction, the registry), and
what its emergence scores can show at the numbers of sizes present."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mirage_metrics.cli import main
from mirage_metrics.emergence import emergence_score
from mirage_metrics.meta import (
    declared_directions,
    direction_warnings,
    emergence_scores,
    read_sources,
    size_notes,
    summarise_by_metric,
)

SIZES = [1e6, 1e7, 1e8, 1e9]
EDIT = [3.0, 2.0, 1.0, 0.0]  # an edit distance falling with size: better with size, by equal steps (|score| 3)
HEADER = "family,model,params,task,metric,value"


def write_csv(path, metric="edit_distance", directions=None, values=EDIT, header=HEADER):
    """A tidy CSV of one curve; ``directions`` (one cell per row) adds a direction column."""
    lines = [header + (",direction" if directions is not None else "")]
    for i, (size, value) in enumerate(zip(SIZES, values)):
        cell = f",{directions[i]}" if directions is not None else ""
        lines.append(f"f,m{i},{size},t,{metric},{value}{cell}")
    path.write_text("\n".join(lines) + "\n")
    return path


def only_curve(scores):
    (row,) = scores.itertuples()
    return row


def test_a_metric_the_registry_does_not_know_stays_unsigned_and_is_warned_about(tmp_path):
    scores = emergence_scores(read_sources([write_csv(tmp_path / "a.csv")]))
    row = only_curve(scores)
    assert (row.metric, row.direction, row.emergence_score) == ("edit_distance", "unknown", -3.0)
    (warning,) = direction_warnings(scores, {})
    assert "['edit_distance']" in warning and "direction column" in warning and "--direction" in warning


@pytest.mark.parametrize("cells", [["lower"] * 4, ["Lower", " LOWER", "lower ", "LoWeR"], ["lower", "", "", ""]])
def test_the_csv_direction_column_signs_the_metric(tmp_path, cells):
    frame = read_sources([write_csv(tmp_path / "a.csv", directions=cells)])
    assert declared_directions(frame) == {"edit_distance": "lower"}
    scores = emergence_scores(frame)
    row = only_curve(scores)
    assert (row.direction, row.kind, row.emergence_score) == ("lower", "unknown", 3.0)  # negated: better with size
    assert summarise_by_metric(scores, min_sizes=3)["median_signed_score"].tolist() == [3.0]
    assert direction_warnings(scores, declared_directions(frame)) == []


@pytest.mark.parametrize(
    "cells, message",
    [
        (["lower", "down", "lower", "lower"], r"a\.csv, line 3: direction is 'down'; write higher or lower"),
        (
            ["lower", "", "higher", ""],
            r"a\.csv, line 4: metric 'edit_distance' is declared higher here, lower on line 2",
        ),
        (["1", "1", "1", "1"], r"line 2: direction is '1'"),
    ],
)
def test_bad_or_conflicting_direction_cells_are_named_with_their_line(tmp_path, cells, message):
    with pytest.raises(ValueError, match=message):
        read_sources([write_csv(tmp_path / "a.csv", directions=cells)])


def test_sources_that_disagree_on_a_direction_are_named(tmp_path):
    first = write_csv(tmp_path / "a.csv", directions=["lower"] * 4)
    second = write_csv(tmp_path / "b.csv", directions=["higher"] * 4)
    with pytest.raises(
        ValueError, match=r"metric 'edit_distance' is declared lower in .*a\.csv and higher in .*b\.csv"
    ):
        declared_directions(read_sources([first, second]))


def test_an_override_wins_over_the_file_and_the_registry(tmp_path):
    declared = write_csv(tmp_path / "a.csv", directions=["lower"] * 4)
    known = write_csv(tmp_path / "b.csv", metric="token_edit_distance")  # the registry: lower is better
    frame = read_sources([declared, known])
    overrides = {"edit_distance": "higher", "token_edit_distance": "HIGHER"}
    assert declared_directions(frame, overrides) == {"edit_distance": "higher", "token_edit_distance": "higher"}
    scores = emergence_scores(frame, directions=overrides).set_index("metric")
    assert scores.loc["edit_distance", ["direction", "emergence_score"]].tolist() == ["higher", -3.0]
    assert scores.loc["token_edit_distance", ["direction", "kind", "emergence_score"]].tolist() == [
        "higher",
        "continuous",
        -3.0,
    ]
    assert emergence_scores(frame).loc[lambda s: s["metric"] == "token_edit_distance", "emergence_score"].item() == 3.0
    (warning,) = direction_warnings(scores.reset_index(), declared_directions(frame, overrides))
    assert (
        "'token_edit_distance'" in warning
        and "lower" in warning
        and "edit_distance'" not in warning.replace("token_edit_distance'", "")
    )


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"edit_distanse": "lower"}, r"--direction edit_distanse=lower: no source has a metric 'edit_distanse'"),
        ({"edit_distance": "down"}, r"--direction edit_distance=down: write higher or lower"),
    ],
)
def test_overrides_of_absent_metrics_or_with_bad_values_are_refused(tmp_path, overrides, message):
    frame = read_sources([write_csv(tmp_path / "a.csv")])
    with pytest.raises(ValueError, match=message):
        declared_directions(frame, overrides)


def test_cli_direction_flag_and_warning(tmp_path, capsys):
    source = write_csv(tmp_path / "a.csv")
    out = tmp_path / "meta"
    assert main(["meta-analysis", str(source), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "edit_distance (direction unknown, unknown)" in captured.out
    assert "warning: Direction unknown for metric(s) ['edit_distance']" in captured.err
    assert main(["meta-analysis", str(source), "--out", str(out), "--direction", "edit_distance=lower"]) == 0
    captured = capsys.readouterr()
    assert "edit_distance (lower is better, unknown)" in captured.out and "median score +3" in captured.out
    assert "Direction unknown" not in captured.err
    settings = json.loads((out / "meta_analysis.json").read_text())
    assert settings["directions"] == {"edit_distance": "lower"} and settings["warnings"] == []
    assert pd.read_csv(out / "emergence_scores.csv")["direction"].tolist() == ["lower"]
    for flag, message in (
        ("edit_distance", "'edit_distance' is not METRIC=higher or METRIC=lower"),
        ("edit_distance=worse", "'edit_distance=worse' is not METRIC=higher or METRIC=lower"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(["meta-analysis", str(source), "--out", str(out), "--direction", flag])
        assert exit_info.value.code == 2 and message in capsys.readouterr().err
    twice = ["--direction", "edit_distance=lower", "--direction", "edit_distance=higher"]
    assert main(["meta-analysis", str(source), "--out", str(out), *twice]) == 2
    assert "--direction gives metric 'edit_distance' twice" in capsys.readouterr().err


# ---------------------------------------------------------------- what the scores can show at n sizes


def curves(metric, sizes):
    return pd.DataFrame({"metric": metric, "n_sizes": sizes, "emergence_score": 1.0})


def test_size_notes_say_what_each_number_of_sizes_can_show():
    scores = pd.concat(
        [
            curves("a", [3, 3]),
            curves("b", [3]),
            curves("c", [5, 10]),
            curves("d", [3, 4]),
            curves("e", [2, 2]),
            curves("f", [2, 3]),
        ]
    )
    notes = {note.split(":")[0]: note for note in size_notes(scores)}
    assert set(notes) == {"a, b", "c", "d", "e", "f"}
    line, jump = emergence_score([1, 2, 3], [0, 1, 2]), emergence_score([1, 2, 3], [0, 0, 1])
    assert (line, round(jump, 2)) == (2.0, 1.41)  # at 3 sizes a jump scores less than a straight line
    three = notes["a, b"]
    assert f"a straight line scores {line:g} and a flat curve with one jump {jump:.2f}" in three
    assert "cannot tell a jump from a steady climb" in three and "median_jump_sharpness" in three
    assert "a straight line scores n − 1 (4 to 9)" in notes["c"] and "cannot" not in notes["c"]
    assert "--min-sizes 4" in notes["d"] and "3 and 4 or more" in notes["d"]
    assert "only the sign of the one change" in notes["e"] and "jump sharpness is undefined" in notes["e"]
    assert "cannot tell a jump from a straight line" in notes["f"]
    assert size_notes(scores.iloc[:0]) == []


def test_three_size_output_says_what_the_scores_cannot_show(tmp_path, capsys):
    """Three sizes: the page, the JSON and the CLI say the emergence score cannot separate a jump from a line."""
    source = tmp_path / "three.csv"
    rows = [HEADER]
    for task, exact in enumerate([[0.0, 0.0, 0.6], [0.0, 0.1, 0.5]]):
        rows += [f"f,m{i},{size},t{task},exact_str_match,{v}" for i, (size, v) in enumerate(zip(SIZES, exact))]
        rows += [f"f,m{i},{size},t{task},token_edit_distance,{3 - i}" for i, size in enumerate(SIZES[:3])]
    source.write_text("\n".join(rows) + "\n")
    out = tmp_path / "meta"
    assert main(["meta-analysis", str(source), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    settings = json.loads((out / "meta_analysis.json").read_text())
    (note,) = settings["notes"]
    assert note.startswith("exact_str_match, token_edit_distance: every curve has 3 sizes")
    assert note in captured.out and note in (out / "meta_analysis.html").read_text().replace("&#x27;", "'")
    assert "Compare the signed medians" not in " ".join(settings["warnings"])


def test_an_lm_eval_folder_signs_a_metric_the_registry_does_not_know_by_lm_evals_own_flag(tmp_path):
    for i, (size, value) in enumerate(zip(SIZES, EDIT)):
        folder = tmp_path / "runs" / f"m{i}"
        folder.mkdir(parents=True)
        record = {
            "results": {"t": {"alias": "t", "my_distance,none": value, "acc,none": 0.1 * i}},
            "higher_is_better": {"t": {"my_distance": False, "acc": False}},  # acc: the registry's direction wins
            "config": {"model": "hf", "model_args": f"pretrained=org/m{i}", "model_num_parameters": int(size)},
            "model_name": f"org/m{i}",
        }
        (folder / "results_2026-01-01T00-00-00.000001.json").write_text(json.dumps(record))
    frame = read_sources([tmp_path / "runs"])
    scores = emergence_scores(frame).set_index("metric")
    assert scores.loc["my_distance", ["direction", "emergence_score"]].tolist() == ["lower", 3.0]  # better with size
    assert scores.loc["acc", "direction"] == "higher"
    assert direction_warnings(scores.reset_index(), declared_directions(frame)) == []
