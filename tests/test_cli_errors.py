"""A ValueError a command lets through reaches ``mirage_metrics.cli.main``: one line naming the flag, exit status 2.

One case per command that used to print the library's own words (``threshold=``, ``include_path=``,
``[PosixPath(...)]``).
"""

from __future__ import annotations

from mirage_metrics.cli import main


def _error_line(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    assert len(lines) == 1, lines
    return lines[0]


def test_report_names_sources_as_plain_paths(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    line = _error_line(capsys, ["report", str(tmp_path / "empty"), "--out", str(tmp_path / "out")])
    assert line.startswith("mirage report: error: no lm-eval results")
    assert f"found under {tmp_path / 'empty'};" in line and "PosixPath" not in line


def test_sweep_names_the_flag(tmp_path, capsys):
    argv = [
        "sweep",
        "--family",
        "gpt2",
        "--tasks",
        "mirage_arith",
        "--include-path",
        str(tmp_path / "nowhere"),
        "--out",
        str(tmp_path / "out"),
    ]
    assert _error_line(capsys, argv).startswith(f"mirage sweep: error: --include_path '{tmp_path / 'nowhere'}' is not")
    assert not (tmp_path / "out").exists()


def test_families_reports_a_missing_family_file(tmp_path, capsys):
    line = _error_line(capsys, ["families", "--family-file", str(tmp_path / "missing.yaml")])
    assert (
        line == f"mirage families: error: family file {tmp_path / 'missing.yaml'} does not exist; "
        "pass the path of a YAML family file"
    )


def test_meta_analysis_names_the_flag(tmp_path, capsys):
    scores = tmp_path / "scores.csv"
    scores.write_text(
        "family,model,params,task,metric,value\nf,a,1e6,t,exact_str_match,0.1\nf,b,1e7,t,exact_str_match,0.5\n"
    )
    line = _error_line(capsys, ["meta-analysis", str(scores), "--out", str(tmp_path / "meta"), "--threshold", "-1"])
    assert line == "mirage meta-analysis: error: --threshold -1.0 must be a finite non-negative emergence score"
