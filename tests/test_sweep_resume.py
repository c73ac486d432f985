"""``mirage sweep`` resuming: a model is done only when its folder holds whole results of exactly the
requested tasks under the same settings; missing tasks are added, damaged runs redone, differing settings refused;
outputs cut short (a full disk) fail the model; names that do not fit the disk or share a folder are refused."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from mirage_metrics import sweep as sweep_module
from mirage_metrics.families import Family, Model, load_family_file
from mirage_metrics.results import read_results
from mirage_metrics.sweep import SweepOptions, run_settings, sweep, verify_model_folder

DOCS = 3


def fake_lm_eval(calls: list, cut: str | None = None):
    """Stands in for the lm-eval subprocess: writes its output layout for the ``--tasks`` it gets (``DOCS``
    samples each) and exits 0; the samples file of task ``cut`` is cut mid-line, as on a full disk."""

    def run(command, log_path, echo):
        output = Path(command[command.index("--output_path") + 1])
        tasks = command[command.index("--tasks") + 1].split(",")
        calls.append(tasks)
        written = output / "__ckpt__m"
        written.mkdir(parents=True)
        date = f"2026-01-01T00-00-00.{len(calls):06d}"
        results = {
            "results": {task: {"alias": task, "exact_match,none": 0.5} for task in tasks},
            "n-samples": {task: {"original": DOCS, "effective": DOCS} for task in tasks},
        }
        (written / f"results_{date}.json").write_text(json.dumps(results))
        log = "lm-eval log\n"
        for task in tasks:
            lines = "".join(
                json.dumps({"doc_id": i, "filter": "none", "metrics": ["exact_match"], "exact_match": i % 2}) + "\n"
                for i in range(DOCS)
            )
            if task == cut:
                lines = lines[: len(lines) // 2]
                log += (
                    "2026-01-01:00:00:00 WARNING  [evaluation_tracker.py:415] Could not save sample results\n"
                    "2026-01-01:00:00:00 INFO     [evaluation_tracker.py:416] OSError(27, 'File too large')\n"
                )
            (written / f"samples_{task}_{date}.jsonl").write_text(lines)
        log_path.write_text(log)
        return 0

    return run


MODEL = Model("m", "/ckpt/m", "m", params=1000)
FAMILY = Family("f", (MODEL,))


def _sweep(out, tasks="a", family=FAMILY, **options):
    force, isolate = options.pop("force", False), options.pop("isolate", True)  # isolate: the fakes stand in for it
    return sweep(
        family, out, SweepOptions(tasks=tasks, **options), progress=False, check=False, force=force, isolate=isolate
    )


@pytest.fixture
def calls(monkeypatch):
    made = []
    monkeypatch.setattr(sweep_module, "_run_logged", fake_lm_eval(made))
    return made


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- adding tasks


def test_a_rerun_with_more_tasks_runs_only_the_missing_ones_and_keeps_the_others(tmp_path, calls):
    assert [o.status for o in _sweep(tmp_path, "a")] == ["done"]
    first = {p.name: p.stat().st_ino for p in (tmp_path / "f" / "m").iterdir()}
    outcome = _sweep(tmp_path, "a,b")[0]
    assert outcome.status == "done" and calls == [["a"], ["b"]]
    folder = tmp_path / "f" / "m"
    info = json.loads((folder / "model.json").read_text())
    assert info["tasks"] == ["a", "b"] and [run["tasks"] for run in info["runs"]] == [["a"], ["b"]]
    kept = [name for name in first if name.startswith(("results_", "samples_"))]
    assert all((folder / name).stat().st_ino == first[name] for name in kept)  # not rewritten, not rerun
    assert "lm-eval log\nlm-eval log\n" == (folder / "lm_eval.log").read_text()  # both runs' logs
    frame = read_results(tmp_path)
    assert sorted(frame.groupby("task", observed=True).size().items()) == [("a", DOCS), ("b", DOCS)]
    for tasks in ("b,a", "a", "b"):
        assert _sweep(tmp_path, tasks)[0].status == "skipped"
    assert (
        calls == [["a"], ["b"]]
        and verify_model_folder(folder, ["a", "b"], run_settings(MODEL, SweepOptions("a"))) == []
    )
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == ["m"]  # no work folder, lock or log left


def test_an_empty_model_folder_is_not_done(tmp_path, calls):
    (tmp_path / "f" / "m").mkdir(parents=True)
    assert _sweep(tmp_path, "a")[0].status == "done" and calls == [["a"]]
    assert (tmp_path / "f" / "m" / "model.json").is_file()


def test_device_and_batch_size_do_not_decide_results_and_mappings_compare_key_order_aside(tmp_path, calls):
    _sweep(tmp_path, "a", metadata="num_problems=5,seed=1", model_args="dtype=float32,max_length=64")
    again = _sweep(tmp_path, "a", metadata='{"seed": 1, "num_problems": 5}', model_args="max_length=64,dtype=float32",
                   device="cuda", batch_size="8")  # fmt: skip
    assert again[0].status == "skipped" and len(calls) == 1


# --------------------------------------------------------------------------- settings that differ


CONFLICTS = {
    "limit": ({"limit": "5"}, {"limit": "10"}, r'limit="5" in its model.json but limit="10" now'),
    "num_fewshot": ({}, {"num_fewshot": 2}, "num_fewshot=null in its model.json but num_fewshot=2 now"),
    "metadata": ({"metadata": "num_problems=5"}, {"metadata": "num_problems=50"}, "metadata="),
    "model_args": ({}, {"model_args": "dtype=float16"}, "model_args="),
    "backend": ({}, {"backend": "vllm"}, 'backend="hf" in its model.json but backend="vllm" now'),
    "seed": ({}, {"extra_args": ["--seed", "3"]}, r'the arguments passed on to lm_eval: \[\] in its model.json, \["--seed"'),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CONFLICTS))
def test_a_rerun_with_other_settings_is_refused_naming_both_values_and_force_reruns(tmp_path, calls, case):
    before, after, message = CONFLICTS[case]
    _sweep(tmp_path, "a", **before)
    folder = tmp_path / "f" / "m"
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    for tasks in ("a", "a,b"):
        with pytest.raises(ValueError, match=message) as error:
            _sweep(tmp_path, tasks, **after)
        assert "\n" not in str(error.value) and "--force" in str(error.value) and "new --out" in str(error.value)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files and len(calls) == 1
    assert _sweep(tmp_path, "b", **after, force=True)[0].status == "done" and calls[-1] == ["b"]
    info = json.loads((folder / "model.json").read_text())
    assert info["tasks"] == ["b"] and len(info["runs"]) == 1  # rerun from scratch: the old results are gone
    assert info["settings"] == run_settings(MODEL, SweepOptions("b", **after))


def test_another_revision_or_lm_eval_version_is_refused(tmp_path, calls):
    _sweep(tmp_path, "a")
    moved = Family("f", (Model("m", "/ckpt/m", "m", params=1000, revision="step1000"),))
    with pytest.raises(ValueError, match=r'model_args=\{"pretrained": "/ckpt/m"\} in its model.json but model_args'):
        _sweep(tmp_path, "a", family=moved)
    model_file = tmp_path / "f" / "m" / "model.json"
    info = json.loads(model_file.read_text())
    info["settings"]["lm_eval_version"] = "0.4.1"
    model_file.write_text(json.dumps(info))
    with pytest.raises(ValueError, match=r'the lm-eval version: "0.4.1" in its model.json, "\d'):
        _sweep(tmp_path, "a,b")


@pytest.mark.parametrize(
    "make, message",
    [(lambda d: (d / "notes.txt").write_text("mine"), "holds files but no model.json"),
     (lambda d: (d / "model.json").write_text('{"family": "f", "model": "m", "tasks": "a"}'),
      "records no settings")],
)  # fmt: skip
def test_a_folder_without_recorded_settings_is_refused_and_force_replaces_it(tmp_path, calls, make, message):
    folder = tmp_path / "f" / "m"
    folder.mkdir(parents=True)
    make(folder)
    with pytest.raises(ValueError, match=f"model m: .*{message}.*; move the folder away, pass a new --out, or --force"):
        _sweep(tmp_path, "a")
    assert not calls
    assert _sweep(tmp_path, "a", force=True)[0].status == "done"
    assert (
        "notes.txt" not in _files(folder)
        and verify_model_folder(folder, ["a"], run_settings(MODEL, SweepOptions("a"))) == []
    )


def test_a_file_where_the_model_folder_goes_is_refused_even_with_force(tmp_path, calls):
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "m").write_text("mine")
    for force in (False, True):
        with pytest.raises(ValueError, match=f"model m: {tmp_path / 'f' / 'm'} is a file, not a model folder"):
            _sweep(tmp_path, "a", force=force)
    assert (tmp_path / "f" / "m").read_text() == "mine" and not calls


def test_the_cli_reports_a_conflict_in_one_line_with_flag_names(tmp_path, capsys, calls):
    from mirage_metrics.cli import main

    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "config.json").write_text("{}")
    family_file = tmp_path / "fam.yaml"
    family_file.write_text("name: f\nmodels:\n  - {name: a, path: ckpt, params: 5}\n")
    command = ["sweep", "--family-file", str(family_file), "--tasks", "mirage_arith_2dm_gen", "--out",
               str(tmp_path / "runs"), "--quiet", "--isolate", "--limit", "2"]  # fmt: skip
    assert main(command) == 0
    capsys.readouterr()
    assert main([*command[:-1], "3"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and '--limit "2" in its model.json but --limit "3" now' in error, error
    assert main([*command[:-1], "3", "--force"]) == 0 and len(calls) == 2


# --------------------------------------------------------------------------- outputs cut short


def test_samples_cut_short_by_a_full_disk_fail_the_model_and_a_rerun_redoes_it(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(sweep_module, "_run_logged", fake_lm_eval(calls, cut="a"))
    outcome = _sweep(tmp_path, "a")[0]
    assert outcome.status == "failed"
    assert "lm-eval's outputs are incomplete: " in outcome.message and "samples_a_" in outcome.message
    assert outcome.message.startswith("lm-eval's outputs are incomplete: samples_a_2026-")
    assert "cut short" in outcome.message and "(lm-eval: OSError(27, 'File too large'))" in outcome.message
    assert _files(tmp_path / "f") == ["m.failed.log"]
    monkeypatch.setattr(sweep_module, "_run_logged", fake_lm_eval(calls))
    assert _sweep(tmp_path, "a")[0].status == "done" and _files(tmp_path / "f") == ["m"]


def test_a_failed_run_of_added_tasks_leaves_the_model_folder_as_it_was(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(sweep_module, "_run_logged", fake_lm_eval(calls))
    _sweep(tmp_path, "a")
    folder = tmp_path / "f" / "m"
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    monkeypatch.setattr(sweep_module, "_run_logged", fake_lm_eval(calls, cut="b"))
    outcome = _sweep(tmp_path, "a,b")[0]
    assert outcome.status == "failed" and f"{folder} is kept as it was" in outcome.message
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files


@pytest.mark.parametrize("damage", ["cut mid-line", "cut at a line", "results gone", "samples gone"])
def test_a_damaged_run_in_a_model_folder_is_redone_and_its_files_dropped(tmp_path, calls, damage):
    _sweep(tmp_path, "a")
    _sweep(tmp_path, "a,b")
    folder = tmp_path / "f" / "m"
    (samples_b,) = folder.glob("samples_b_*.jsonl")
    (results_b,) = [p for p in folder.glob("results_*.json") if "b" in json.loads(p.read_text())["results"]]
    text = samples_b.read_text()
    if damage == "cut mid-line":
        samples_b.write_text(text[:-5])
    elif damage == "cut at a line":
        samples_b.write_text("".join(text.splitlines(keepends=True)[:-1]))
    else:
        (results_b if damage == "results gone" else samples_b).unlink()
    problems = verify_model_folder(folder, ["a", "b"], run_settings(MODEL, SweepOptions("a")))
    assert len(problems) == 2 and problems[1] == f"{folder}: no results of b"
    assert _sweep(tmp_path, "a,b")[0].status == "done" and calls[-1] == ["b"]
    assert results_b.name not in _files(folder) and samples_b.name not in _files(folder)
    assert verify_model_folder(folder, ["a", "b"], run_settings(MODEL, SweepOptions("a"))) == []
    assert len(read_results(tmp_path)) == 2 * DOCS


def test_the_folder_is_replaced_in_two_renames_where_folders_cannot_be_swapped(tmp_path, calls, monkeypatch):
    monkeypatch.setattr(sweep_module, "_exchange", lambda first, second: False)
    _sweep(tmp_path, "a")
    assert _sweep(tmp_path, "a,b")[0].status == "done"
    assert _files(tmp_path / "f") == ["m"] and json.loads((tmp_path / "f" / "m" / "model.json").read_text())[
        "tasks"
    ] == ["a", "b"]


def test_a_model_another_sweep_finished_meanwhile_is_not_rerun(tmp_path, calls, monkeypatch):
    _sweep(tmp_path / "other", "a")
    original = sweep_module._model_lock

    def finished_while_waiting(family_dir, name):
        os.rename(tmp_path / "other" / "f" / "m", family_dir / name)  # the other sweep puts its folder in place
        return original(family_dir, name)

    monkeypatch.setattr(sweep_module, "_model_lock", finished_while_waiting)
    assert _sweep(tmp_path, "a")[0].status == "skipped" and len(calls) == 1


# --------------------------------------------------------------------------- names and --out


def test_a_model_name_too_long_for_the_disk_is_refused_before_anything_is_created(tmp_path, calls):
    family = Family("f", (Model("short", "/ckpt/s", "s"), Model("m" * 300, "/ckpt/m", "m")))
    with pytest.raises(ValueError, match=r"model name 'mmm.*\.\.\.' is 300 bytes long; .* at most 242 bytes"):
        _sweep(tmp_path / "out", "a", family=family)
    assert not (tmp_path / "out").exists() and not calls
    family = Family("f", (Model("m" * 242, "/ckpt/m", "m"),))
    assert _sweep(tmp_path / "out", "a", family=family)[0].status == "done"


def test_a_family_name_too_long_and_a_model_named_like_a_failure_log_are_refused(tmp_path, calls):
    with pytest.raises(ValueError, match=r"family name 'fff.*' is longer than the 255 bytes"):
        _sweep(tmp_path / "out", "a", family=Family("f" * 256, (MODEL,)))
    family = Family("f", (Model("x", "/ckpt/x", "x"), Model("X.failed.log", "/ckpt/y", "y")))
    with pytest.raises(ValueError, match="model name 'X.failed.log' is the name of the log a failed model 'X'"):
        _sweep(tmp_path / "out", "a", family=family)
    assert not (tmp_path / "out").exists() and not calls


def test_a_checkpoint_path_too_long_for_lm_evals_output_folder_is_refused(tmp_path, calls):
    family = Family("f", (Model("m", "/" + "/".join(["d" * 60] * 5), "m"),))
    with pytest.raises(ValueError, match="model m: lm-eval names its output folder after '/ddd.*shorter path"):
        _sweep(tmp_path / "out", "a", family=family)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("names", [("Pythia-70m", "pythia-70m"), ("caf\u00e9", "cafe\u0301")])
def test_models_that_would_share_a_folder_are_refused(tmp_path, names):
    with pytest.raises(ValueError, match=f"models {names[0]!r} and {names[1]!r} would share one folder"):
        Family("f", tuple(Model(name, f"/ckpt/{i}", name) for i, name in enumerate(names)))
    family_file = tmp_path / "fam.yaml"
    family_file.write_text("name: f\nmodels:\n" + "".join(f"  - {{name: {n}, path: org/m{i}, params: 1}}\n"
                                                         for i, n in enumerate(names)))  # fmt: skip
    with pytest.raises(ValueError, match=f"{family_file}: .*share one folder"):
        load_family_file(family_file)


@pytest.mark.parametrize("link_target", ["nowhere", "nowhere/deeper"])
def test_out_as_a_dangling_symlink_is_a_one_line_error(tmp_path, calls, link_target):
    (tmp_path / "out").symlink_to(tmp_path / link_target)
    with pytest.raises(ValueError, match=f"{tmp_path / 'out'} is a symbolic link to {tmp_path / link_target}, which "
                                         "does not exist; create that folder or pass another --out"):  # fmt: skip
        _sweep(tmp_path / "out" / "sub", "a")
    assert not calls


# --------------------------------------------------------------------------- real lm-eval runs

GEN, LL = "mirage_arith_2dm_gen", "mirage_arith_2dm_ll"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sets RLIMIT_FSIZE in the child to fill a disk")
def test_a_full_disk_fails_the_model_and_keeps_its_folder_then_a_task_is_added(tiny_gpt2, tmp_path, monkeypatch):
    import resource

    family = Family("tiny", (Model("tiny", str(tiny_gpt2), "tiny", params=1),))
    options = {"limit": "12", "device": "cpu", "echo": False, "isolate": False}  # in the worker process
    assert _sweep(tmp_path, GEN, family=family, **options)[0].status == "done"
    folder = tmp_path / "tiny" / "tiny"
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    (samples,) = [size for name, size in ((n, len(b)) for n, b in files.items()) if name.startswith("samples_")]
    (results,) = [len(b) for name, b in files.items() if name.startswith("results_")]
    assert results + 2000 < samples  # so a limit between them cuts the samples file
    die_with_parent = sweep_module._die_with_parent

    def small_disk():  # in the lm-eval child: no file may grow past the limit, as on a nearly full disk
        die_with_parent()
        resource.setrlimit(resource.RLIMIT_FSIZE, (results + 1000, results + 1000))

    monkeypatch.setattr(sweep_module, "_die_with_parent", small_disk)
    outcome = _sweep(tmp_path, GEN, family=family, **options, force=True)[0]
    assert outcome.status == "failed", outcome.message
    assert outcome.message.startswith(f"lm-eval's outputs are incomplete: samples_{GEN}_"), outcome.message
    assert (
        "(lm-eval: OSError(27, 'File too large'))" in outcome.message
        and f"{folder} is kept as it was" in outcome.message
    )
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files
    assert _files(tmp_path / "tiny") == ["tiny", "tiny.failed.log"]

    monkeypatch.setattr(sweep_module, "_die_with_parent", die_with_parent)
    added = _sweep(tmp_path, f"{GEN},{LL}", family=family, **options)[0]
    assert added.status == "done" and added.message.startswith("added to 1 earlier run(s): ")
    info = json.loads((folder / "model.json").read_text())
    assert [run["tasks"] for run in info["runs"]] == [[GEN], [LL]]
    assert info["runs"][1]["lm_eval_command"][info["runs"][1]["lm_eval_command"].index("--tasks") + 1] == LL
    frame = read_results(tmp_path)
    assert set(frame.task) == {GEN, LL} and set(frame[frame.task == GEN].sample_id) == set(range(12))
    assert _sweep(tmp_path, f"{LL},{GEN}", family=family, **options)[0].status == "skipped"
    with pytest.raises(ValueError, match='limit="12" in its model.json but limit="5" now'):
        _sweep(tmp_path, GEN, family=family, **{**options, "limit": "5"})


def test_a_resumed_sweep_parses_each_kept_samples_file_once(tmp_path, calls, monkeypatch):
    _sweep(tmp_path, "a")
    parsed = []
    original = sweep_module.read_samples_file

    def counting(path, *args, **kwargs):
        parsed.append(Path(path).name)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(sweep_module, "read_samples_file", counting)
    assert _sweep(tmp_path, "a,b")[0].status == "done"
    kept = [name for name in parsed if "_a_" in name]
    assert len(kept) == 1, parsed  # planned, rechecked under the lock and merged: one parse while nothing changed
    parsed.clear()
    (tmp_path / "f" / "m" / "model.json").touch()  # a folder changed since it was read is read again
    assert _sweep(tmp_path, "a,b")[0].status == "skipped" and len(parsed) == 2


def test_two_families_swept_with_one_runner_share_it(tmp_path, calls):
    shared = []
    runner = fake_lm_eval(shared)
    other = Family("g", (Model("n", "/ckpt/n", "n", params=2000),))
    for family in (FAMILY, other):
        outcome = sweep(family, tmp_path, SweepOptions(tasks="a"), progress=False, check=False, runner=runner)
        assert [o.status for o in outcome] == ["done"]
    assert shared == [["a"], ["a"]] and calls == []  # every model ran on the runner given, none on a new one
