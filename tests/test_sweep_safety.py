"""``mirage sweep`` safety: no model-args injection, no output outside ``--out``, sweeps sharing an
``--out``, the lm-eval child's lifetime, and one-line errors for corrupt checkpoints and unusable ``--out``."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import MIRAGE, run_cli
from mirage_metrics import sweep as sweep_module
from mirage_metrics.checkpoint_params import count_parameters
from mirage_metrics.families import Family, Model, load_family_file
from mirage_metrics.paths import check_path_name, file_stem
from mirage_metrics.sweep import SweepOptions, lm_eval_command, run_model, sweep


def _family_file(tmp_path: Path, text: str) -> Path:
    family_file = tmp_path / "fam.yaml"
    family_file.write_text(text)
    return family_file


# --------------------------------------------------------------------------- 1. --model_args injection


@pytest.mark.parametrize(
    "path",
    ["/ckpt,trust_remote_code=True", "/my models/a,b", "/ckpt'x", '/ckpt"x', "/ckpt[1]", "/ckpt{x}", "/c(1)",
     " /ckpt", "/ckpt\n", "True", "1e5", "\u00b2"],
)  # fmt: skip
def test_a_path_lm_eval_would_parse_differently_is_refused_naming_the_field_and_file(tmp_path, path):
    family_file = _family_file(
        tmp_path, "name: f\nmodels:\n  - " + json.dumps({"name": "a", "path": path, "params": 1})
    )
    with pytest.raises(ValueError, match=r"models\[0\]: path=.* cannot be passed in lm-eval's --model_args") as error:
        load_family_file(family_file)
    assert str(family_file) in str(error.value)


def test_a_local_folder_under_a_comma_is_refused_after_resolving(tmp_path):
    (tmp_path / "a,trust_remote_code=True" / "ckpt").mkdir(parents=True)
    family_file = _family_file(
        tmp_path / "a,trust_remote_code=True", "name: f\nmodels:\n  - {name: a, path: ckpt, params: 1}\n"
    )
    with pytest.raises(ValueError, match="it holds ','"):
        load_family_file(family_file)


def test_no_model_can_carry_a_second_model_arg_so_trust_remote_code_comes_only_from_the_command_line(tmp_path):
    for field in ({"path": "/ckpt,trust_remote_code=True"}, {"revision": "main,trust_remote_code=True"}):
        with pytest.raises(ValueError, match="cannot be passed in lm-eval's --model_args"):
            Model("m", **{"path": "/ckpt", **field}, size="m")
    model = Model("m", "/ckpt/m", "m", revision="step1000")
    plain = lm_eval_command(model, SweepOptions(tasks="t"), tmp_path / "w", tmp_path)
    assert "trust_remote_code" not in " ".join(plain)
    explicit = lm_eval_command(
        model, SweepOptions(tasks="t", model_args="trust_remote_code=True"), tmp_path / "w", tmp_path
    )
    assert explicit[explicit.index("--model_args") + 1] == "pretrained=/ckpt/m,revision=step1000,trust_remote_code=True"


def test_lm_eval_reads_every_accepted_value_back_unchanged():
    from lm_eval._cli.utils import key_val_to_dict
    from lm_eval.utils import simple_parse_args_string

    for path, revision in (("/data/my-models/pythia 70m=v2", "step143000"), ("EleutherAI/pythia-70m", "a1b2c3d")):
        model = Model("m", path, "m", revision=revision)
        args = sweep_module._model_args(model, SweepOptions(tasks="t"))
        expected = {"pretrained": path, "revision": revision}
        assert key_val_to_dict(args) == simple_parse_args_string(args) == expected


# --------------------------------------------------------------------------- 2. names that become paths


@pytest.mark.parametrize("name", ["../../elsewhere", "/abs", "a/b", "a\\b", "..", ".", ".hidden", "", " a", "a\tb",
                                  "a\x00b", "C:evil"])  # fmt: skip
def test_names_that_would_leave_the_output_folder_are_refused(name):
    with pytest.raises(ValueError, match="becomes a folder name"):
        check_path_name(name, "family name")
    with pytest.raises(ValueError, match="family name="):
        Family(name, (Model("m", "/ckpt", "m"),))


def test_a_family_named_to_escape_out_writes_nothing(tmp_path):
    family_file = _family_file(tmp_path, "name: ../../elsewhere\nmodels:\n  - {name: a, path: p, params: 1}\n")
    with pytest.raises(ValueError, match=r"family name='../../elsewhere' becomes a folder name"):
        load_family_file(family_file)


def test_file_stems_are_safe_and_keep_safe_names():
    assert file_stem("pythia-70m") == "pythia-70m"
    assert file_stem("fam x") != file_stem("fam_x") == "fam_x"
    for name in ("../../x", "a/b", "", ".", "..", "A" * 500, "é", "fam_x-0123456789"):
        stem = file_stem(name)
        assert stem and "/" not in stem and not stem.startswith(".") and len(stem) <= 91 and stem == stem.lower()


@given(st.text(max_size=20), st.text(max_size=20))
def test_different_names_get_different_stems_even_ignoring_case(first, second):
    if first != second:
        assert file_stem(first).lower() != file_stem(second).lower()


# --------------------------------------------------------------------------- 4. sweeps sharing an --out


def _fake_lm_eval(calls: list):
    """Stands in for the lm-eval subprocess: writes its output layout (a results JSON, no tasks)."""

    def run(command, log_path, echo):
        output = Path(command[command.index("--output_path") + 1])
        calls.append(output)
        log_path.write_text("lm-eval log\n")
        (output / "__ckpt__m").mkdir(parents=True)
        (output / "__ckpt__m" / "results_2026-01-01T00-00-00.json").write_text('{"results": {}, "n-samples": {}}')
        return 0

    return run


def test_a_model_another_sweep_is_running_is_left_to_it(tmp_path, monkeypatch):
    family_dir = tmp_path / "f"
    family_dir.mkdir()
    calls = []
    monkeypatch.setattr(sweep_module, "_run_logged", _fake_lm_eval(calls))
    with sweep_module._model_lock(family_dir, "m") as held:  # the other sweep
        assert held
        live = family_dir / ".m.tmp-1"
        live.mkdir()
        outcome = run_model(Model("m", "/ckpt/m", "m"), "f", tmp_path, SweepOptions(tasks="t"))
        assert (outcome.status, outcome.message) == ("busy", "another sweep is running it")
        assert live.is_dir() and not calls and not (family_dir / "m.failed.log").exists()
    assert not (family_dir / ".m.lock").exists()  # the lock file goes with its holder
    live.rmdir()
    assert run_model(Model("m", "/ckpt/m", "m"), "f", tmp_path, SweepOptions(tasks="t")).status == "done"


def test_only_the_models_own_stale_folders_are_removed_and_glob_characters_match_nothing_else(tmp_path, monkeypatch):
    family_dir = tmp_path / "f"
    family_dir.mkdir()
    others = [".m.tmp-12", ".a.tmp-1.tmp-12", ".[*].tmp-3", ".m.tmp-x"]
    for name in [".*.tmp-99", *others]:
        (family_dir / name).mkdir()
    monkeypatch.setattr(sweep_module, "_run_logged", _fake_lm_eval([]))
    family = Family("f", (Model("*", "/ckpt/m", "*"), Model("a", "/ckpt/a", "a")))
    outcomes = sweep(family, tmp_path, SweepOptions(tasks="t"), progress=False, check=False, isolate=True)
    assert [o.status for o in outcomes] == ["done", "done"]
    assert sorted(p.name for p in family_dir.iterdir()) == sorted(["*", "a", *others])


# --------------------------------------------------------------------------- 5. the child's lifetime


def test_the_child_is_stopped_and_reaped_when_its_log_cannot_be_written(monkeypatch):
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full to fill a disk")
    children = []

    class Recorded(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            children.append(self)

    monkeypatch.setattr(sweep_module.subprocess, "Popen", Recorded)
    talker = "import sys, time; sys.stdout.write('x' * 400000); sys.stdout.flush(); time.sleep(600)"
    with pytest.raises(OSError):
        sweep_module._run_logged([sys.executable, "-c", talker], Path("/dev/full"), echo=False)
    assert children[0].returncode is not None  # ended and waited for: no orphan, no zombie


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_no_work_folder_is_left_behind_whatever_fails(tmp_path, monkeypatch, error):
    def failing(command, log_path, echo):
        log_path.write_text("partial log\n")
        raise error

    monkeypatch.setattr(sweep_module, "_run_logged", failing)
    model = Model("m", "/ckpt/m", "m")
    if isinstance(error, KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            run_model(model, "f", tmp_path, SweepOptions(tasks="t"))
    else:
        outcome = run_model(model, "f", tmp_path, SweepOptions(tasks="t"))
        assert outcome.status == "failed" and "No space left on device" in outcome.message
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == ["m.failed.log"]


# --------------------------------------------------------------------------- 6. corrupt checkpoints, bad --out


def _safetensors(folder: Path, header: bytes, claimed: int | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    size = len(header) if claimed is None else claimed
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", size) + header)


CORRUPT = {
    "bad config.json": (lambda d: (d.mkdir(), (d / "config.json").write_text("{not json")), "config.json"),
    "truncated header": (lambda d: _safetensors(d, b'{"w": {"dtype": "F32", "sha'), "model.safetensors"),
    "header of 2**62 bytes": (lambda d: _safetensors(d, b"{}", claimed=2**62), "model.safetensors"),
    "short file": (lambda d: (d.mkdir(), (d / "model.safetensors").write_bytes(b"\x01\x02")), "model.safetensors"),
    "bad shape": (lambda d: _safetensors(d, json.dumps({"w": {"shape": [-1, "x"]}}).encode()), "model.safetensors"),
    "index without weight_map": (
        lambda d: (d.mkdir(), (d / "model.safetensors.index.json").write_text('{"metadata": {}}')),
        "model.safetensors.index.json",
    ),
    "index naming a file elsewhere": (
        lambda d: (d.mkdir(), (d / "model.safetensors.index.json").write_text('{"weight_map": {"w": "../x"}}')),
        "model.safetensors.index.json",
    ),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_a_corrupt_checkpoint_is_a_one_line_error_naming_the_file(tmp_path, capsys, case):
    make, file_name = CORRUPT[case]
    make(tmp_path / "ckpt")
    with pytest.raises(ValueError, match=f"{tmp_path / 'ckpt' / file_name}: ") as error:
        count_parameters(tmp_path / "ckpt")
    assert "\n" not in str(error.value)

    from mirage_metrics.cli import main

    family_file = _family_file(tmp_path, "name: f\nmodels:\n  - {name: a, path: ckpt}\n")
    assert main(["sweep", "--family-file", str(family_file), "--tasks", "t", "--out", str(tmp_path / "runs")]) == 2
    error_text = capsys.readouterr().err
    assert error_text.startswith("mirage sweep: error: ") and error_text.count("\n") == 1
    assert f"{family_file}: models[0]: {tmp_path / 'ckpt' / file_name}" in error_text
    assert not (tmp_path / "runs").exists()


def test_the_cli_reports_a_2_62_byte_header_in_one_line_without_memory_error(tmp_path):
    _safetensors(tmp_path / "ckpt", b"{}", claimed=2**62)
    family_file = _family_file(tmp_path, "name: f\nmodels:\n  - {name: a, path: ckpt}\n")
    done = run_cli(
        [*MIRAGE, "sweep", "--family-file", family_file, "--tasks", "t", "--out", tmp_path / "runs"],
        check=False,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"{tmp_path / 'ckpt' / 'model.safetensors'}: its header length" in done.stderr
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr


def _sweep_cli(tmp_path, out: Path, capsys) -> tuple[int, str]:
    from mirage_metrics.cli import main

    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "config.json").write_text("{}")  # passes the checks before running, which come first
    family_file = _family_file(tmp_path, "name: f\nmodels:\n  - {name: a, path: ckpt, params: 5}\n")
    code = main(["sweep", "--family-file", str(family_file), "--tasks", "mirage_arith_2dm_gen", "--out", str(out),
                 "--quiet"])  # fmt: skip
    return code, capsys.readouterr().err


def test_out_being_a_file_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "out").write_text("a file")
    code, error = _sweep_cli(tmp_path, tmp_path / "out", capsys)
    assert code == 2 and error.count("\n") == 1
    assert error.startswith(f"mirage sweep: error: --out '{tmp_path / 'out'}': cannot write model folders into")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_out_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "out").mkdir(mode=0o555)
    code, error = _sweep_cli(tmp_path, tmp_path / "out", capsys)
    assert code == 2 and "cannot write model folders into" in error and error.count("\n") == 1


def test_a_sweep_with_no_models_is_an_error(tmp_path, capsys):
    family = Family("f", (Model("m", "/ckpt/m", "m"),))
    with pytest.raises(ValueError, match="shard=2/2 selects no model of family 'f'"):
        sweep(family, tmp_path, SweepOptions(tasks="t"), shard=(2, 2), progress=False)
    assert not (tmp_path / "f").exists()
    with pytest.raises(ValueError, match="family 'f' has no models"):
        Family("f", ())
    family_file = _family_file(tmp_path, "name: f\nmodels: []\n")
    from mirage_metrics.cli import main

    assert main(["sweep", "--family-file", str(family_file), "--tasks", "t", "--out", str(tmp_path / "runs")]) == 2
    assert "'models' must be a non-empty list" in capsys.readouterr().err
