"""The report's output folder: swapped in whole,
never over a user's files, shareable permissions, numbers written as they mean, warnings on the page, plots
that lay out with one model."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import warnings

import pandas as pd
import pytest

from conftest import MIRAGE, SIZES, model_samples, run_cli, write_lm_eval_run
from mirage_metrics.atomic_files import MANIFEST_FILE, write_csv, write_text
from mirage_metrics.report import build_report
from mirage_metrics.results import ResultsWarning


def _source(root, sizes=SIZES, family="toy", tasks=None):
    """lm-eval folders of ``sizes``: every task of ``model_samples``, or only ``tasks``."""
    for i, size in enumerate(sizes):
        samples = model_samples(i, size)
        write_lm_eval_run(
            root / family / f"m{i}",
            f"/ckpt/m{i}",
            None,
            {task: samples[task] for task in tasks or samples},
            model_json={"family": family, "model": f"m{i}", "path": f"/ckpt/m{i}", "params": int(size)},
        )
    return root


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    """Two sizes of one task: what the tests of the output folder need, and a report that builds in seconds."""
    return _source(tmp_path_factory.mktemp("two"), SIZES[:2], tasks=["mirage_arith_2dm_gen"])


def _snapshot(folder):
    return {path.name: path.read_bytes() if path.is_file() else "folder" for path in sorted(folder.iterdir())}


def _beside(out):
    return sorted(path.name for path in out.parent.iterdir() if path.name != out.name)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_atomic_files_get_the_umasks_permissions(tmp_path):
    for umask, mode in ((0o022, 0o644), (0o002, 0o664), (0o077, 0o600)):
        old = os.umask(umask)
        try:
            paths = [
                write_text("x", tmp_path / f"{umask}.txt"),
                write_csv(pd.DataFrame({"a": [1]}), tmp_path / f"{umask}.csv"),
            ]
        finally:
            os.umask(old)
        assert [path.stat().st_mode & 0o777 for path in paths] == [mode, mode]
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []  # no temporaries


def test_report_files_and_folder_get_the_umasks_permissions(two_models, tmp_path, umask_022):
    out = tmp_path / "report"
    build_report([two_models], out, n_boot=20)
    assert out.stat().st_mode & 0o777 == 0o755
    modes = {path.name: path.stat().st_mode & 0o777 for path in out.iterdir()}
    assert set(modes.values()) == {0o644}, modes


def test_csv_numbers_are_rounded_and_counts_are_integers(two_models, tmp_path):
    out = tmp_path / "report"
    build_report([two_models], out, n_boot=20, holdout_largest=0)
    for name in ("metrics.csv", "emergence.csv", "fit.csv"):
        text = (out / name).read_text()
        numbers = re.findall(r"(?<![\w.])-?\d+\.\d+(?:e[-+]\d+)?", text)
        digits = [len(re.sub(r"^0*", "", re.sub(r"e.*|\D", "", number))) for number in numbers]
        assert max(digits, default=0) <= 10, name  # 10 significant digits at most
        assert "e+" not in text, name  # parameter counts (and c) in full
    metrics = pd.read_csv(out / "metrics.csv")
    assert metrics["params"].dtype.kind == "i" and metrics["n"].dropna().astype(float).apply(float.is_integer).all()
    big = tmp_path / "big"
    write_csv(pd.DataFrame({"params": [11_846_072_320], "mean": [0.1 + 0.3]}), big / "x.csv")
    assert (big / "x.csv").read_text() == "params,mean\n11846072320,0.4\n"


@pytest.mark.slow
def test_fit_csv_params_are_integers_with_held_out_models(tmp_path):
    source = _source(tmp_path / "four")
    out = tmp_path / "report"
    build_report([source], out, n_boot=20, holdout_largest=1)
    fit = (out / "fit.csv").read_text()
    assert ",100000000000," in fit and "1e+11" not in fit
    page = (out / "report.html").read_text()
    assert "<td>100000000000</td>" in page and "&lt;NA&gt;" not in page


@pytest.mark.slow
def test_a_new_report_replaces_the_old_one_whole(two_models, tmp_path):
    out = tmp_path / "report"
    other = _source(tmp_path / "other", SIZES[:2], family="fam2")
    build_report([other], out, n_boot=20)
    assert any(name.startswith("all_fam2_") for name in os.listdir(out))
    build_report([two_models], out, n_boot=20)
    names = os.listdir(out)
    assert not any("fam2" in name for name in names)  # the earlier source's plots are gone
    listed = json.loads((out / MANIFEST_FILE).read_text())["files"]
    assert sorted(listed + [MANIFEST_FILE]) == sorted(names)
    assert _beside(out) == ["other"]  # no work folder or temporary left beside --out


@pytest.mark.slow
def test_a_report_killed_while_plotting_leaves_the_previous_report(two_models, tmp_path):
    out = tmp_path / "report"
    build_report([two_models], out, n_boot=20)
    before = _snapshot(out)
    script = (
        "import os, signal, sys\n"
        "from mirage_metrics.report import build_report, figures\n"
        "def die(*args, **kwargs):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "figures.plot_all_metrics = die\n"
        f"build_report([{str(two_models)!r}], {str(out)!r}, n_boot=20)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL
    assert _snapshot(out) == before  # the CSVs it wrote are not beside the old plots
    left = _beside(out)
    assert len(left) == 1 and left[0].startswith(".report.new-")  # its work folder, until the next report
    work = out.parent / left[0]
    assert (work / "metrics.csv").is_file() and not (work / "report.html").exists()
    build_report([two_models], out, n_boot=20)
    assert _beside(out) == []  # the dead report's work folder is cleaned up


def test_a_report_interrupted_by_an_error_leaves_nothing_behind(two_models, tmp_path, monkeypatch):
    from mirage_metrics.report import figures

    out = tmp_path / "report"
    build_report([two_models], out, n_boot=20)
    before = _snapshot(out)

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(figures, "plot_all_metrics", fail)
    with pytest.raises(KeyboardInterrupt):
        build_report([two_models], out, n_boot=20)
    assert _snapshot(out) == before and _beside(out) == []


@pytest.mark.slow
def test_a_report_killed_between_the_renames_is_put_back(two_models, tmp_path):
    out = tmp_path / "report"
    build_report([two_models], out, n_boot=20)
    before = _snapshot(out)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out.rename(out.with_name(f".report.old-{dead.pid}-abcdef012345"))  # as a kill after the first rename leaves it
    build_report([two_models], tmp_path / "elsewhere", n_boot=20)  # other outputs do not touch it
    assert not out.exists()
    build_report([two_models], out, n_boot=20)
    assert _snapshot(out).keys() == before.keys() and _beside(out) == ["elsewhere"]


@pytest.mark.parametrize("foreign", ["notes.txt", "sub/"])
def test_an_out_folder_with_other_files_is_refused_untouched(two_models, tmp_path, foreign):
    out = tmp_path / "report"
    build_report([two_models], out, n_boot=20)
    (out / foreign.rstrip("/")).mkdir() if foreign.endswith("/") else (out / foreign).write_text("mine")
    before = _snapshot(out)
    with pytest.raises(
        ValueError,
        match=rf"--out {out} holds files that mirage report did not write there \({foreign.rstrip('/')}\)",
    ):
        build_report([two_models], out, n_boot=20)
    assert _snapshot(out) == before and _beside(out) == []


def test_a_source_is_never_an_out_folder(two_models):
    with pytest.raises(ValueError, match="is or holds the input"):
        build_report([two_models], two_models, n_boot=20)
    with pytest.raises(ValueError, match="is a file"):
        build_report([two_models], next(two_models.rglob("model.json")), n_boot=20)


def test_a_folder_that_only_looks_like_a_report_is_refused_untouched(two_models, tmp_path):
    """report.html without a manifest is no report; its PNGs, CSVs and temporaries are the user's."""
    out = tmp_path / "site"
    out.mkdir()
    for name in ("report.html", "metrics.csv", "logo.png", "notes.tmp"):
        (out / name).write_text("mine")
    before = _snapshot(out)
    with pytest.raises(ValueError, match=r"did not write there \(logo\.png, metrics\.csv, notes\.tmp, \.\.\.\)"):
        build_report([two_models], out, n_boot=20)
    assert _snapshot(out) == before and _beside(out) == []


@pytest.mark.slow
def test_nan_values_are_counted_on_the_page_and_on_stderr(tmp_path):
    source = _source(tmp_path / "runs", SIZES[:2])
    path = next((source / "toy" / "m0").glob("samples_mirage_arith_2dm_ll_*.jsonl"))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for line in lines[:2]:
        line["per_char_prob"] = float("nan")
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    note = f"{path}: metric 'per_char_prob' (filter 'none') is NaN on 2 of 10 samples; they are left out"
    with pytest.warns(ResultsWarning, match=re.escape(note)):
        page = build_report([source], tmp_path / "report", n_boot=20).read_text()
    assert "<h2>Warnings (1)</h2>" in page and note.replace("'", "&#x27;") in page
    done = run_cli([*MIRAGE, "report", source, "--out", tmp_path / "cli", "--bootstrap", "20"])
    assert f"mirage report: warning: {note}" in done.stderr


def test_a_one_model_report_has_labelled_ticks_and_y_axes(tmp_path, monkeypatch):
    from mirage_metrics.plots import scaling

    drawn, save = [], scaling.save_figure
    monkeypatch.setattr(scaling, "save_figure", lambda figure, path: drawn.append(figure) or save(figure, path))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # e.g. matplotlib's "singular xlims"
        build_report([_source(tmp_path / "one", SIZES[:1])], tmp_path / "report", n_boot=20)
    assert drawn
    for figure in drawn:
        figure.canvas.draw()
        for axes in figure.axes:
            if not axes.get_visible():
                continue
            assert axes.get_ylabel(), figure.texts
            labels = [tick.get_text() for tick in axes.get_xticklabels() if tick.get_text()]
            low, high = axes.get_xlim()
            assert low < 1e8 < high
            assert labels or not axes.get_xlabel()  # labelled ticks (a panel sharing the one below has none)
            legend = axes.get_legend()
            if legend is not None:  # inside the axes, or beside them (Fig 4), never cut off by the figure's edge
                box = legend.get_window_extent()
                assert figure.bbox.contains(*box.p0) and figure.bbox.contains(*box.p1)
    panels = {axes.get_title(): " ".join(axes.get_ylabel().split()) for figure in drawn for axes in figure.axes}
    assert panels["token_edit_distance"] == "token edit distance (lower is better)"
    assert panels["per_char_loss"].endswith("(lower is better)") and "lower" not in panels["per_char_prob"]
