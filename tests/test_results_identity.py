"""Who a model is: plain lm-eval folders are told apart by the model's full name, shown by its
shortest unique ending; two folders that would give one (family, model) are refused, never merged or dropped."""

from __future__ import annotations

import json

import pytest

from conftest import sample_line, write_run
from mirage_metrics.results import read_aggregates, read_results

LINES = [sample_line(i, {"exact_match": float(i % 2)}) for i in range(4)]


def _models(frame):
    return sorted(set(frame.model))


def test_checkpoints_with_one_last_part_are_two_models(tmp_path):
    source = tmp_path / "runs"
    write_run(source / "__ckpts__a__final", {"t": LINES}, model_name="/ckpts/a/final", num_params=10)
    write_run(source / "__ckpts__b__final", {"t": LINES[:2]}, model_name="/ckpts/b/final", num_params=20)
    write_run(source / "EleutherAI__pythia-70m", {"t": LINES}, model_name="EleutherAI/pythia-70m")
    frame = read_results(source)
    assert _models(frame) == ["a/final", "b/final", "pythia-70m"]
    assert frame.groupby("model", observed=True).size().to_dict() == {"a/final": 4, "b/final": 2, "pythia-70m": 4}
    assert frame.groupby("model", observed=True).params.first().to_dict()["b/final"] == 20
    assert _models(read_aggregates(source)) == ["a/final", "b/final", "pythia-70m"]


def test_the_name_comes_from_model_args_when_model_name_is_missing(tmp_path):
    source = tmp_path / "runs"
    for name, args in (("x", "pretrained=/ckpts/x/final,dtype=float16"), ("y", {"pretrained": "/ckpts/y/final"})):
        folder = source / name
        write_run(folder, {"t": LINES}, num_params=5)
        path = next(folder.glob("results_*.json"))
        document = json.loads(path.read_text())
        del document["model_name"]
        document["config"]["model_args"] = args
        path.write_text(json.dumps(document))
    assert _models(read_results(source)) == ["x/final", "y/final"]


def test_a_params_file_may_name_the_shown_or_the_full_name(tmp_path):
    source = tmp_path / "runs"
    write_run(source / "a", {"t": LINES}, model_name="/ckpts/a/final")
    write_run(source / "b", {"t": LINES}, model_name="/ckpts/b/final")
    with pytest.raises(ValueError, match=r"parameter count of model 'a/final' is unknown.*'a/final: <count>'"):
        read_results(source)
    frame = read_results(source, params={"a/final": 3, "/ckpts/b/final": 4})
    assert frame.groupby("model", observed=True).params.first().to_dict() == {"a/final": 3, "b/final": 4}


def test_one_model_in_two_plain_folders_is_refused(tmp_path):
    source = tmp_path / "runs"
    write_run(source / "one" / "m", {"t": LINES}, model_name="/ckpts/m", num_params=5)
    write_run(source / "two" / "m", {"u": LINES}, model_name="/ckpts/m", num_params=5)
    for reader in (read_results, read_aggregates):
        with pytest.raises(ValueError, match=r"model 'm' of family 'runs' comes from two folders, .*one/m and .*two/m"):
            reader(source)


def test_two_sources_with_one_folder_name_are_two_families(tmp_path):
    for experiment, lines in (("exp1", LINES), ("exp2", LINES[:2])):
        write_run(tmp_path / experiment / "runs" / "m", {"t": lines}, model_name="org/m", num_params=5)
    frame = read_results([tmp_path / "exp1" / "runs", tmp_path / "exp2" / "runs"])
    assert frame.groupby("family", observed=True).size().to_dict() == {"exp1/runs": 4, "exp2/runs": 2}
    assert set(read_results(tmp_path / "exp1" / "runs").family) == {"runs"}


def test_one_model_in_two_sweep_folders_of_a_family_is_refused(tmp_path):
    source = tmp_path / "runs"
    info = {"family": "fam", "model": "small", "path": "/ckpt/small", "params": 10}
    write_run(source / "fam" / "small", {"t": LINES}, model_json=info)
    write_run(source / "fam" / "copy", {"t": LINES[:2]}, model_json={**info, "path": "/ckpt/other"})
    with pytest.raises(ValueError, match=r"model 'small' of family 'fam' comes from two folders, .*copy and .*small"):
        read_results(source)


def test_a_sweep_model_and_a_plain_folder_with_one_name_are_refused(tmp_path):
    source = tmp_path / "runs"
    write_run(source / "small", {"t": LINES}, model_json={"family": "runs", "model": "m", "params": 10})
    write_run(source / "plain", {"t": LINES}, model_name="org/m", num_params=10)
    with pytest.raises(ValueError, match="model 'm' of family 'runs' comes from two folders"):
        read_results(source)


def test_the_same_source_passed_twice_is_read_once(tmp_path):
    write_run(tmp_path / "runs" / "m", {"t": LINES}, model_name="org/m", num_params=5)
    assert len(read_results([tmp_path / "runs", tmp_path / "runs"])) == 4


def test_two_revisions_in_one_folder_are_two_models(tmp_path):
    folder = tmp_path / "runs" / "EleutherAI__pythia-70m"
    later = "2026-02-02T03-04-05.678901"
    for revision, date, lines in (("step1000", None, LINES), ("step2000", later, LINES[:2])):
        write_run(folder, {"t": lines}, model_name="EleutherAI/pythia-70m", **({"date": date} if date else {}))
        path = folder / f"results_{date or '2026-01-02T03-04-05.678901'}.json"
        document = json.loads(path.read_text())
        document["config"]["model_args"] = f"pretrained=EleutherAI/pythia-70m,revision={revision}"
        path.write_text(json.dumps(document))
    frame = read_results(tmp_path / "runs")
    assert frame.groupby("model", observed=True).size().to_dict() == {
        "pythia-70m@step1000": 4,
        "pythia-70m@step2000": 2,
    }
    assert set(frame.params) == {70_426_624}  # the built-in count of the Hub model


def test_mirage_report_refuses_a_merged_model_in_one_line(tmp_path):
    from conftest import MIRAGE, run_cli

    source = tmp_path / "runs"
    write_run(source / "a" / "final", {"t": LINES}, model_name="/ckpts/a/final", num_params=10)
    write_run(source / "b" / "final", {"t": LINES}, model_name="/ckpts/a/final/", num_params=10)
    done = run_cli([*MIRAGE, "report", source, "--out", tmp_path / "out"], check=False)
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.count("\n") == 1 and "model 'final' of family 'runs' comes from two folders" in done.stderr
