"""What ``--out`` of report, meta-analysis and simulate may replace, and one-line errors
for output folders that cannot be (dangling links, the current folder, inputs, full disks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from test_report_outputs import _beside, _source

from conftest import SIZES
from mirage_metrics.atomic_files import MANIFEST_FILE
from mirage_metrics.cli import main
from mirage_metrics.report import build_report


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    return _source(tmp_path_factory.mktemp("two"), SIZES[:2], tasks=["mirage_arith_2dm_gen"])


@pytest.fixture(scope="module")
def earlier_report(two_models, tmp_path_factory):
    """A finished report, to copy into each test that needs one."""
    out = tmp_path_factory.mktemp("earlier") / "report"
    build_report([two_models], out, n_boot=20)
    return out


def _copy(folder, to):
    to.mkdir()
    for path in folder.iterdir():
        (to / path.name).write_bytes(path.read_bytes())
    return to


def _tree(folder):
    """Every path below ``folder`` (links as links) with its bytes or link target: for byte-identical checks."""
    tree = {}
    for root, folders, files in os.walk(folder):
        for name in folders + files:
            path = os.path.join(root, name)
            if os.path.islink(path):
                tree[path] = ("link", os.readlink(path))
            elif os.path.isfile(path):
                tree[path] = open(path, "rb").read()
            else:
                tree[path] = "folder"
    return tree


def _error_line(capsys, argv, status=2):
    assert main([str(arg) for arg in argv]) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_a_manifest_and_one_user_file_is_refused_byte_identical(earlier_report, two_models, tmp_path, capsys):
    out = _copy(earlier_report, tmp_path / "report")
    (out / "my_notes.md").write_text("mine")
    before = _tree(tmp_path)
    err = _error_line(capsys, ["report", two_models, "--out", out, "--bootstrap", "20"])
    assert f"--out {out} holds files that mirage report did not write there (my_notes.md)" in err
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("entry", ["../victim.txt", "/abs", ".."])
def test_a_manifest_entry_never_deletes_outside_the_folder(earlier_report, two_models, tmp_path, entry):
    out = _copy(earlier_report, tmp_path / "report")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    manifest["files"].append(entry if entry != "/abs" else str(victim))
    (out / MANIFEST_FILE).write_text(json.dumps(manifest))
    build_report([two_models], out, n_boot=20)  # entries outside the folder are no report files: nothing to do
    assert victim.read_text() == "keep" and _beside(out) == ["victim.txt"]
    assert sorted(json.loads((out / MANIFEST_FILE).read_text())["files"]) == sorted(manifest["files"][:-1])
    manifest["files"].append("sub")  # a folder the manifest lists is still the user's
    (out / MANIFEST_FILE).write_text(json.dumps(manifest))
    (out / "sub").mkdir()
    (out / "sub" / "data.csv").write_text("mine")
    before = _tree(tmp_path)
    with pytest.raises(ValueError, match=r"did not write there \(sub\)"):
        build_report([two_models], out, n_boot=20)
    assert _tree(tmp_path) == before


def test_a_manifest_naming_a_file_as_a_symlink_is_refused(earlier_report, two_models, tmp_path):
    out = _copy(earlier_report, tmp_path / "report")
    mine = tmp_path / "mine"
    mine.mkdir()
    (out / "metrics.csv").unlink()
    (out / "metrics.csv").symlink_to(mine)
    before = _tree(tmp_path)
    with pytest.raises(ValueError, match=r"did not write there \(metrics\.csv\)"):
        build_report([two_models], out, n_boot=20)
    assert _tree(tmp_path) == before


def test_a_dangling_symlink_is_refused_in_one_line(two_models, tmp_path, capsys):
    link = tmp_path / "latest"
    link.symlink_to(tmp_path / "gone")
    err = _error_line(capsys, ["report", two_models, "--out", link])
    assert f"--out {link}: {link} is a symlink to {tmp_path / 'gone'}, which does not exist" in err
    assert os.listdir(tmp_path) == ["latest"] and os.readlink(link) == str(tmp_path / "gone")
    err = _error_line(capsys, ["simulate", "--out", link / "sub"])
    assert "is a symlink to" in err and os.listdir(tmp_path) == ["latest"]


@pytest.mark.parametrize("out", [".", "..", "/"])
def test_the_current_folder_is_refused_in_one_line(two_models, tmp_path, monkeypatch, capsys, out):
    here = tmp_path / "empty"
    here.mkdir()
    monkeypatch.chdir(here)
    err = _error_line(capsys, ["report", two_models, "--out", out])
    assert f"--out {out} is the current folder or one above it" in err and "e.g. --out report" in err
    assert os.listdir(tmp_path) == ["empty"] and os.listdir(here) == []


def test_a_symlink_to_an_earlier_report_is_followed_and_kept(earlier_report, two_models, tmp_path):
    (tmp_path / "reports").mkdir()
    target = _copy(earlier_report, tmp_path / "reports" / "r1")
    (target / "metrics.csv").write_text("stale")
    link = tmp_path / "latest"
    link.symlink_to(target)
    page = build_report([two_models], link, n_boot=20)
    assert page == link / "report.html" and page.is_file()
    assert os.readlink(link) == str(target) and (target / "metrics.csv").read_text() != "stale"
    assert sorted(os.listdir(tmp_path)) == ["latest", "reports"] and os.listdir(tmp_path / "reports") == ["r1"]


def test_a_file_is_refused_untouched(two_models, tmp_path, capsys):
    out = tmp_path / "out.txt"
    out.write_text("mine")
    err = _error_line(capsys, ["report", two_models, "--out", out])
    assert f"--out {out} is a file; pass a folder" in err and out.read_text() == "mine"
    err = _error_line(capsys, ["simulate", "--out", out / "sub"])
    assert f"--out {out / 'sub'}: {out} is a file; pass a folder" in err and out.read_text() == "mine"


def test_the_inputs_are_never_replaced(tmp_path, capsys):
    runs = _source(tmp_path / "runs", SIZES[:2], tasks=["mirage_arith_2dm_gen"])
    before = _tree(tmp_path)
    for out in (runs, tmp_path, runs / "toy"):
        err = _error_line(capsys, ["report", runs / "toy", "--out", out])
        assert f"--out {out} is or holds the input {runs / 'toy'}" in err
    params = tmp_path / "site" / "params.yaml"
    err = _error_line(capsys, ["meta-analysis", runs, "--param-counts", params, "--out", params.parent])
    assert "is or holds the input" in err
    assert _tree(tmp_path) == before


def test_a_report_inside_its_runs_folder_leaves_them_as_they_were(tmp_path):
    runs = _source(tmp_path / "runs", SIZES[:2], tasks=["mirage_arith_2dm_gen"])
    before = _tree(runs)
    build_report([runs], runs / "report", n_boot=20)
    metrics = (runs / "report" / "metrics.csv").read_bytes()
    build_report([runs], runs / "report", n_boot=20)  # the earlier report is no input
    assert (runs / "report" / "metrics.csv").read_bytes() == metrics
    after = _tree(runs)
    assert {path: after[path] for path in before} == before
    assert all(path.startswith(str(runs / "report")) for path in set(after) - set(before))


def test_simulate_and_meta_analysis_follow_the_same_rules(earlier_report, tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", "--out", str(out), "--sample-problems", "20"]) == 0
    assert "simulate_sampled.png" in os.listdir(out)
    assert main(["simulate", "--out", str(out)]) == 0  # its own earlier output is replaced whole
    assert sorted(os.listdir(out)) == [MANIFEST_FILE, "simulate.csv", "simulate.png"] and _beside(out) == []
    capsys.readouterr()
    (out / "notes.txt").write_text("mine")
    report = _copy(earlier_report, tmp_path / "report")
    scores = tmp_path / "scores.csv"
    scores.write_text("family,model,params,task,metric,value\nf,a,1,t,m,0\nf,b,2,t,m,1\n")
    before = _tree(tmp_path)
    err = _error_line(capsys, ["simulate", "--out", out])
    assert "holds files that mirage simulate did not write there (notes.txt)" in err
    err = _error_line(capsys, ["simulate", "--out", report])
    assert f"--out {report} holds the output of mirage report, which mirage simulate would replace" in err
    err = _error_line(capsys, ["meta-analysis", scores, "--out", out])
    assert "holds the output of mirage simulate, which mirage meta-analysis would replace" in err
    assert _tree(tmp_path) == before
    meta = tmp_path / "meta"
    assert main(["meta-analysis", str(scores), "--out", str(meta)]) == 0
    assert main(["meta-analysis", str(scores), "--out", str(meta)]) == 0
    assert MANIFEST_FILE in os.listdir(meta) and not [name for name in os.listdir(tmp_path) if name.startswith(".")]


def _under_file_size_limit(argv, kilobytes=40):
    """Run ``mirage ARGV`` with ``ulimit -f``: its writes past the limit fail with EFBIG (Python ignores SIGXFSZ)."""
    command = " ".join(f"'{arg}'" for arg in [sys.executable, "-m", "mirage_metrics.cli", *map(str, argv)])
    return subprocess.run(
        ["bash", "-c", f"ulimit -f {kilobytes}; exec {command}"], capture_output=True, text=True, timeout=600
    )


def test_a_full_disk_leaves_the_previous_report_in_one_line(earlier_report, two_models, tmp_path):
    out = _copy(earlier_report, tmp_path / "report")
    before = _tree(tmp_path)
    done = _under_file_size_limit(["report", two_models, "--out", out, "--bootstrap", "20"])
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stderr.count("error") == 1, done.stderr
    assert f"mirage report: error: --out {out}: could not write there (File too large)" in done.stderr
    assert _tree(tmp_path) == before  # the previous report, and nothing half-written beside it
    new = tmp_path / "new"
    done = _under_file_size_limit(["simulate", "--out", new], kilobytes=10)
    assert done.returncode == 2 and "could not write there (File too large)" in done.stderr, done.stderr
    assert _tree(tmp_path) == before


def test_other_os_errors_are_one_line(tmp_path, capsys, monkeypatch):
    from mirage_metrics.cli import simulate

    def fail(args):
        raise OSError(36, "File name too long", str(tmp_path / ("x" * 300)))

    monkeypatch.setattr(simulate, "run", fail)
    err = _error_line(capsys, ["simulate", "--out", tmp_path / "sim"], status=1)
    assert err == f"mirage simulate: error: File name too long: {tmp_path / ('x' * 300)}\n"


def test_a_long_out_name_is_one_line(two_models, tmp_path, capsys):
    out = tmp_path / ("x" * 250)
    err = _error_line(capsys, ["simulate", "--out", out])
    assert "could not write there (File name too long)" in err and os.listdir(tmp_path) == []


def test_stale_folders_are_removed_only_when_they_are_ours(earlier_report, two_models, tmp_path):
    out = _copy(earlier_report, tmp_path / "report")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    mine = {
        f".report.old-{dead.pid}-abcdef012345": "a file",  # a file, not a folder a run leaves
        f".report.new-{dead.pid}-abc": "folder",  # not the name a run gives
        f".report.new-{dead.pid}-abcdef012345": "subfolder",  # a folder holding a folder
    }
    for name, kind in mine.items():
        if kind == "a file":
            (tmp_path / name).write_text("mine")
        else:
            (tmp_path / name).mkdir()
            if kind == "subfolder":
                (tmp_path / name / "sub").mkdir()
    stale = tmp_path / f".report.new-{dead.pid}-0123456789ab"
    stale.mkdir()
    (stale / "metrics.csv").write_text("half")
    build_report([two_models], out, n_boot=20)
    assert sorted(_beside(out)) == sorted(mine)


def test_vision_resumes_only_its_own_folder(tmp_path, capsys):
    """A vision sweep resumes in place (nothing is replaced), so it refuses folders whose files it would overwrite."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "samples.csv").write_text("mine")
    (mine / "notes.txt").write_text("mine")
    link = tmp_path / "latest"
    link.symlink_to(tmp_path / "gone")
    before = _tree(tmp_path)
    err = _error_line(capsys, ["vision", "autoencoder", "--data", "synthetic", "--out", mine])
    assert f"--out {mine} holds files that mirage vision did not write there (notes.txt)" in err
    err = _error_line(capsys, ["vision", "omniglot", "--data", "synthetic", "--out", link])
    assert "is a symlink to" in err
    err = _error_line(capsys, ["vision", "autoencoder", "--data-dir", mine, "--out", mine])
    assert "is or holds the input" in err
    assert _tree(tmp_path) == before


def test_demo_refuses_before_training(tmp_path, capsys):
    out = tmp_path / "demo"
    (out / "report").mkdir(parents=True)
    (out / "report" / "notes.txt").write_text("mine")
    link = tmp_path / "latest"
    link.symlink_to(tmp_path / "gone")
    before = _tree(tmp_path)
    err = _error_line(capsys, ["demo", "--quick", "--device", "cpu", "--out", out])
    assert f"--out {out / 'report'} holds files that mirage report did not write there (notes.txt)" in err
    err = _error_line(capsys, ["demo", "--quick", "--device", "cpu", "--out", link])
    assert "is a symlink to" in err
    assert _tree(tmp_path) == before
