"""A ValueError a command lets through reaches ``mirage_metrics.cli.main``: one line naming the flag, exit status 2.

One case per command that used to print the library's own words (``threshold=``, ``include_path=``,
``[PosixPath(...)]``).
"""

from __future__ import annotations

import pytest

from conftest import MIRAGE, offline_env, run_cli
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


@pytest.mark.parametrize(
    "flags, line",
    [(["--limit", "-1"], "--limit -1: must be a fraction"),
     (["--batch-size", "0"], "--batch-size 0: must be a whole number from 1 up, auto, or auto:N"),
     (["--num_fewshot", "-1"], "--num_fewshot -1: must be a whole number from 0 up"),
     (["--metadata", '{"num_problems": 100000000}'], '--metadata {"num_problems": 100000000} would need about 150 GB'),
     (["--metadata", '{"num_problem": 5}'], "--metadata key 'num_problem' is read by none of the mirage tasks")],
)  # fmt: skip
def test_sweep_refuses_a_bad_setting_in_one_line_before_any_model_starts(tmp_path, capsys, flags, line):
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "config.json").write_text("{}")
    family_file = tmp_path / "fam.yaml"
    family_file.write_text(f"name: f\nmodels:\n  - {{name: a, path: {tmp_path / 'ckpt'}, params: 5}}\n")
    argv = [
        "sweep",
        "--family-file",
        str(family_file),
        "--tasks",
        "mirage_arith_2dm_gen",
        "--out",
        str(tmp_path / "out"),
    ]
    assert _error_line(capsys, argv + flags).startswith(f"mirage sweep: error: {line}")
    assert not (tmp_path / "out").exists()


def test_eval_refuses_a_bad_setting_in_one_line(tmp_path, capsys):
    argv = ["eval", "--model", "hf", "--model_args", f"pretrained={tmp_path}", "--tasks", "mirage_arith_2dm_gen"]
    line = _error_line(capsys, [*argv, "--metadata", "num_problems=-5"])
    assert line == 'mirage eval: error: --metadata {"num_problems": -5.0} must be a whole number from 1 to 1,000,000'


def test_sweep_names_every_model_missing_when_the_hub_does_not_answer(tmp_path):
    env = offline_env(HF_ENDPOINT="http://127.0.0.1:9", HF_HOME=str(tmp_path / "hf"))  # a closed port: no network
    del env["HF_HUB_OFFLINE"], env["TRANSFORMERS_OFFLINE"]  # either one sets huggingface_hub offline
    command = [*MIRAGE, "sweep", "--family", "pythia", "--sizes", "70m,160m,410m", "--tasks", "mirage_arith_2dm_gen"]
    done = run_cli([*command, "--out", tmp_path / "out"], env=env, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "the Hub (http://127.0.0.1:9) does not answer" in done.stderr
    assert all(f"(EleutherAI/pythia-{size})" in done.stderr for size in ("70m", "160m", "410m"))


@pytest.mark.parametrize(
    "argv",
    [
        ["sweep", "--family", "gpt2", "--tasks", "mirage_arith", "--out", "o", "--num_fewshot", "abc"],
        ["vision", "autoencoder", "--sizes", "1.5"],
        ["report", "runs", "--out", "o", "--bootstrap", "many"],
        ["no-such-command"],
    ],
)
def test_a_flag_value_argparse_refuses_is_one_line_without_the_usage_block(capsys, argv):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("mirage") and ": error: " in err and "usage:" not in err
