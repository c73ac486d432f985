"""The vision studies end to end through `mirage vision …` (toy scale, CPU, offline) and their data loading."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import OMNIGLOT_ZIP, offline_env
from mirage_metrics.vision.data import CIFAR100_URL, OMNIGLOT_URL, DataNotFoundError, load_cifar100, load_omniglot
from mirage_metrics.vision.report import report_sections
from mirage_metrics.vision.study import RESULT_COLUMNS

AUTOENCODER_TOY = ["--data", "synthetic", "--sizes", "2,16", "--epochs", "1", "--train-images", "256",
                   "--test-images", "64", "--thresholds", "0.003,0.004,0.05"]


def mirage(*args: str) -> subprocess.CompletedProcess:
    quiet = ["--no-progress"] if args[0] == "vision" else []
    command = [sys.executable, "-m", "mirage_metrics.cli", *args, *quiet]
    return subprocess.run(command, capture_output=True, text=True, env=offline_env(), timeout=600)


def read_results(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "results.csv", dtype={"setting": str}, keep_default_na=False)


def check_intervals(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == RESULT_COLUMNS
    assert (frame["ci_low"] <= frame["value"] + 1e-12).all() and (frame["value"] <= frame["ci_high"] + 1e-12).all()
    assert (frame["n"] > 0).all()


@pytest.fixture(scope="module")
def autoencoder_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("vision") / "ae"
    done = mirage("vision", "autoencoder", *AUTOENCODER_TOY, "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def omniglot_run(tmp_path_factory) -> Path:
    extracted = tmp_path_factory.mktemp("omniglot")
    with zipfile.ZipFile(OMNIGLOT_ZIP) as archive:
        archive.extractall(extracted)
    out = tmp_path_factory.mktemp("vision") / "omniglot"
    done = mirage("vision", "omniglot", "--data-dir", str(extracted / "images_background_small1"), "--sizes", "8,16",
                  "--epochs", "1", "--test-sequences", "200", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def test_autoencoder_sweep_writes_tidy_results_and_plots(autoencoder_run):
    frame = read_results(autoencoder_run)
    check_intervals(frame)
    assert set(frame["study"]) == {"autoencoder"} and list(frame["model"].unique()) == ["h2", "h16"]
    # flatten → Linear(3072, h) → ReLU → Linear(h, 3072): 2·3072·h + h + 3072 parameters
    assert sorted(frame["params"].unique()) == [2 * 3072 * h + h + 3072 for h in (2, 16)]
    assert set(frame["metric"]) == {"mse", "reconstruction_c"}
    assert sorted(frame.loc[frame["metric"] == "reconstruction_c", "setting"].unique()) == ["0.003", "0.004", "0.05"]
    assert (frame.loc[frame["metric"] == "mse", "value"] > 0).all()
    assert frame.loc[frame["metric"] == "reconstruction_c", "value"].between(0, 1).all()
    assert (frame["n"] == 64).all()
    for name in ("autoencoder_mse.png", "autoencoder_reconstruction_c.png"):
        assert (autoencoder_run / name).read_bytes()[:4] == b"\x89PNG"


def test_autoencoder_reconstruction_c_grows_with_the_threshold(autoencoder_run):
    frame = read_results(autoencoder_run)
    curves = frame[frame["metric"] == "reconstruction_c"].pivot(index="model", columns="setting", values="value")
    assert (curves["0.003"] <= curves["0.004"]).all() and (curves["0.004"] <= curves["0.05"]).all()


def test_same_seed_same_numbers_across_shards_and_resume(autoencoder_run, tmp_path):
    out = tmp_path / "sharded"
    for shard in ("2/2", "1/2"):
        done = mirage("vision", "autoencoder", *AUTOENCODER_TOY, "--shard", shard, "--out", str(out))
        assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(read_results(out), read_results(autoencoder_run))

    finished = out / "sizes" / "h16.json"
    stamp = finished.stat().st_mtime_ns
    (out / "sizes" / "h2.json").unlink()  # as if the job had been killed before h2 finished
    done = mirage("vision", "autoencoder", *AUTOENCODER_TOY, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert finished.stat().st_mtime_ns == stamp  # the finished size was skipped
    pd.testing.assert_frame_equal(read_results(out), read_results(autoencoder_run))


def test_resuming_with_other_settings_is_refused(autoencoder_run):
    before = (autoencoder_run / "results.csv").read_text()
    done = mirage("vision", "autoencoder", *AUTOENCODER_TOY, "--seed", "7", "--out", str(autoencoder_run))
    assert done.returncode == 2
    assert "seed" in done.stderr and "new --out" in done.stderr
    assert (autoencoder_run / "results.csv").read_text() == before


def test_omniglot_sweep_on_the_real_subset(omniglot_run):
    frame = read_results(omniglot_run)
    check_intervals(frame)
    assert list(frame["model"].unique()) == ["width8", "width16"]
    assert frame["value"].between(0, 1).all()
    config = json.loads((omniglot_run / "config.json").read_text())
    assert config["data"] == "omniglot" and config["study"] == "omniglot"
    for _, rows in frame.groupby("model"):
        image = rows[rows["metric"] == "image_accuracy"].set_index("setting")["value"]
        subset = rows[rows["metric"] == "subset_accuracy"].set_index("setting")["value"]
        assert list(image.index) == list(subset.index) == ["1", "2", "3", "4", "5"]
        assert image["1"] == subset["1"]  # one image: both metrics agree
        assert (subset <= image + 1e-12).all()  # all-L-correct never beats the per-image accuracy
        assert (np.diff(subset.to_numpy()) <= 1e-12).all()  # longer prefixes are never easier to get all right
        assert rows.loc[rows["metric"] == "subset_accuracy", "n"].eq(200).all()
        assert rows.loc[(rows["metric"] == "image_accuracy") & (rows["setting"] == "5"), "n"].item() == 1000
    for name in ("omniglot_image_accuracy.png", "omniglot_subset_accuracy.png"):
        assert (omniglot_run / name).is_file()


def test_omniglot_loads_from_zip_folder_and_torchvision_layout(tmp_path):
    from_zip = load_omniglot(OMNIGLOT_ZIP, image_size=20)
    assert from_zip.images.shape == (136, 20, 1, 20, 20)
    assert from_zip.names[0] == "Balinese/character01" and from_zip.labels.tolist() == list(range(136))
    assert 0.0 <= float(from_zip.images.min()) and float(from_zip.images.max()) <= 1.0
    assert 0.0 < float(from_zip.images.mean()) < 0.5  # strokes (1.0) are the minority of pixels

    with zipfile.ZipFile(OMNIGLOT_ZIP) as archive:
        archive.extractall(tmp_path)
    plain = tmp_path / "images_background_small1"
    assert torch.equal(load_omniglot(plain, image_size=20).images, from_zip.images)
    assert torch.equal(load_omniglot(tmp_path, image_size=20).images, from_zip.images)
    torchvision_root = tmp_path / "tv"
    (torchvision_root / "omniglot-py").mkdir(parents=True)
    shutil.move(str(plain), torchvision_root / "omniglot-py" / "images_background")
    assert torch.equal(load_omniglot(torchvision_root, image_size=20).images, from_zip.images)


def test_malformed_image_names_the_file(tmp_path):
    character = tmp_path / "Alphabet" / "character01"
    character.mkdir(parents=True)
    for i in range(20):
        (character / f"{i:02d}.png").write_bytes(b"not a png")
    shutil.copytree(character, tmp_path / "Alphabet" / "character02")
    with pytest.raises(ValueError, match="character01: not a readable PNG"):
        load_omniglot(tmp_path)


def test_offline_without_data_names_url_and_layout(tmp_path):
    with pytest.raises(DataNotFoundError, match="cifar-100-python/train") as error:
        load_cifar100(tmp_path, download=True)  # no network and no torchvision here: the download fails clearly
    assert CIFAR100_URL in str(error.value)
    with pytest.raises(DataNotFoundError, match="alphabet/character/\\*.png") as error:
        load_omniglot(tmp_path / "missing", download=True)
    assert OMNIGLOT_URL in str(error.value)

    done = mirage("vision", "omniglot", "--data-dir", str(tmp_path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and OMNIGLOT_URL in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_mirage_report_renders_both_studies(autoencoder_run, omniglot_run, tmp_path):
    done = mirage("report", str(autoencoder_run), str(omniglot_run), "--out", str(tmp_path / "report"))
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "report" / "report.html").read_text()
    for heading in ("CIFAR100 shallow autoencoder (paper Fig 7)", "Omniglot autoregressive transformer (paper Fig 8)"):
        assert f">{heading}</h2>" in page
    assert page.count("data:image/png;base64,") >= 4
    assert "Synthetic data: a smoke and throughput run, not a result." in page
    assert [s.heading for s in report_sections(omniglot_run)] == ["Omniglot autoregressive transformer (paper Fig 8)"]
