"""The vision studies end to end through `mirage vision …` (toy scale, CPU, offline) and their data loading."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import MIRAGE, run_cli
from mirage_metrics.results import RESULTS_COLUMNS
from mirage_metrics.vision.data import CIFAR100_URL, OMNIGLOT_URL, DataNotFoundError, load_cifar100, load_omniglot
from mirage_metrics.vision.samples import read_samples

AUTOENCODER_TOY = [
    "--data",
    "synthetic",
    "--sizes",
    "2,16",
    "--epochs",
    "1",
    "--train-images",
    "256",
    "--test-images",
    "64",
    "--thresholds",
    "0.003,0.004,0.05",
]


def mirage(*args: str) -> subprocess.CompletedProcess:
    quiet = ["--no-progress"] if args[0] == "vision" else []
    return run_cli([*MIRAGE, *args, *quiet], check=False)


def curve_means(samples: pd.DataFrame) -> pd.DataFrame:
    """Mean per (model, task, metric, length), for comparing values across the studies' curves."""
    keys = ["model", "task", "metric", "length"]
    return samples.groupby(keys, dropna=False, observed=True, sort=False)["value"].agg(["mean", "count"])


@pytest.fixture(scope="module")
def autoencoder_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("vision") / "ae"
    done = mirage("vision", "autoencoder", *AUTOENCODER_TOY, "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def omniglot_run(tmp_path_factory, omniglot_zip) -> Path:
    extracted = tmp_path_factory.mktemp("omniglot")
    with zipfile.ZipFile(omniglot_zip) as archive:
        archive.extractall(extracted)
    out = tmp_path_factory.mktemp("vision") / "omniglot"
    done = mirage(
        "vision",
        "omniglot",
        "--data-dir",
        str(extracted / "images_background_small1"),
        "--sizes",
        "8,16",
        "--epochs",
        "1",
        "--test-sequences",
        "200",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.slow
def test_autoencoder_sweep_writes_per_sample_rows(autoencoder_run):
    samples = read_samples(autoencoder_run)
    assert list(samples.columns) == RESULTS_COLUMNS
    assert set(samples["family"]) == {"autoencoder"} and list(samples["model"].unique()) == ["h2", "h16"]
    # flatten → Linear(3072, h) → ReLU → Linear(h, 3072): 2·3072·h + h + 3072 parameters
    assert sorted(samples["params"].unique()) == [2 * 3072 * h + h + 3072 for h in (2, 16)]
    tasks = samples.groupby("task", observed=True)["metric"].unique().map(list).to_dict()
    assert tasks == {
        "autoencoder": ["mse"],
        "autoencoder_c0.003": ["reconstruction_c"],
        "autoencoder_c0.004": ["reconstruction_c"],
        "autoencoder_c0.05": ["reconstruction_c"],
    }
    assert samples["length"].isna().all()
    assert (samples.loc[samples["metric"] == "mse", "value"] > 0).all()
    assert samples.loc[samples["metric"] == "reconstruction_c", "value"].isin([0.0, 1.0]).all()
    assert (curve_means(samples)["count"] == 64).all()  # one row per test image and curve point
    assert (
        samples.groupby(["model", "task"], observed=True)["sample_id"]
        .apply(lambda ids: ids.tolist() == list(range(64)))
        .all()
    )
    summary = pd.read_csv(autoencoder_run / "summary.csv")
    assert list(summary.columns) == ["family", "model", "params", "task", "metric", "length", "n", "mean"]
    assert np.allclose(summary["mean"], curve_means(samples)["mean"])
    for name in ("h2", "h16"):
        record = json.loads((autoencoder_run / "sizes" / f"{name}.json").read_text())
        assert record["model"] == name and record["training"]["images_per_second"] > 0


@pytest.mark.slow
def test_autoencoder_reconstruction_c_is_mse_below_c(autoencoder_run):
    samples = read_samples(autoencoder_run)
    mse = samples[samples["metric"] == "mse"].set_index(["model", "sample_id"])["value"]
    for c in (0.003, 0.004, 0.05):
        hits = samples[samples["task"] == f"autoencoder_c{c:g}"].set_index(["model", "sample_id"])["value"]
        assert hits.equals((mse.loc[hits.index] < c).astype(float))


@pytest.mark.slow
def test_same_seed_same_numbers_across_shards_and_resume(autoencoder_run, tmp_path):
    out = tmp_path / "sharded"
    for shard in ("2/2", "1/2"):
        done = mirage("vision", "autoencoder", *AUTOENCODER_TOY, "--shard", shard, "--out", str(out))
        assert done.returncode == 0, done.stderr
    expected = (autoencoder_run / "samples.csv").read_text()
    assert (out / "samples.csv").read_text() == expected

    finished = out / "sizes" / "h16.csv"
    stamp = finished.stat().st_mtime_ns
    (out / "sizes" / "h2.json").unlink()  # as if the job had been killed before h2 finished
    done = mirage("vision", "autoencoder", *AUTOENCODER_TOY, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert finished.stat().st_mtime_ns == stamp  # the finished size was skipped
    assert (out / "samples.csv").read_text() == expected


@pytest.mark.slow
def test_resuming_with_other_settings_is_refused(autoencoder_run):
    before = (autoencoder_run / "samples.csv").read_text()
    done = mirage("vision", "autoencoder", *AUTOENCODER_TOY, "--seed", "7", "--out", str(autoencoder_run))
    assert done.returncode == 2
    assert "seed" in done.stderr and "new --out" in done.stderr and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("mirage vision autoencoder: error: ")
    assert (autoencoder_run / "samples.csv").read_text() == before


def test_bad_option_values_name_the_flag(tmp_path):
    done = mirage("vision", "autoencoder", "--data", "synthetic", "--epochs", "0", "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == "mirage vision autoencoder: error: --epochs 0 must be a positive integer"


@pytest.mark.slow
def test_omniglot_sweep_on_the_real_subset(omniglot_run):
    samples = read_samples(omniglot_run)
    assert list(samples["model"].unique()) == ["width8", "width16"]
    assert set(samples["task"]) == {"omniglot"} and samples["value"].isin([0.0, 1.0]).all()
    config = json.loads((omniglot_run / "config.json").read_text())
    assert config["data"] == "omniglot" and config["study"] == "omniglot"
    means = curve_means(samples).sort_index()
    for model in ("width8", "width16"):
        image = means.loc[(model, "omniglot", "image_accuracy")]
        subset = means.loc[(model, "omniglot", "subset_accuracy")]
        assert list(image.index) == list(subset.index) == [1.0, 2.0, 3.0, 4.0, 5.0]
        assert image.loc[1.0, "mean"] == subset.loc[1.0, "mean"]  # one image: both metrics agree
        assert (subset["mean"] <= image["mean"] + 1e-12).all()  # all-L-correct never beats the per-image accuracy
        assert (np.diff(subset["mean"].to_numpy()) <= 1e-12).all()  # longer prefixes are never easier
        assert subset["count"].eq(200).all()  # one value per test sequence
        assert image["count"].tolist() == [200 * length for length in range(1, 6)]  # one per image


def test_omniglot_loads_from_zip_folder_and_torchvision_layout(tmp_path, omniglot_zip):
    from_zip = load_omniglot(omniglot_zip, image_size=20)
    assert from_zip.images.shape == (136, 20, 1, 20, 20)
    assert from_zip.names[0] == "Balinese/character01" and from_zip.labels.tolist() == list(range(136))
    assert 0.0 <= float(from_zip.images.min()) and float(from_zip.images.max()) <= 1.0
    assert 0.0 < float(from_zip.images.mean()) < 0.5  # strokes (1.0) are the minority of pixels

    with zipfile.ZipFile(omniglot_zip) as archive:
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


@pytest.mark.slow
def test_mirage_report_renders_both_studies(autoencoder_run, omniglot_run, tmp_path):
    report = tmp_path / "report"
    done = mirage("report", str(autoencoder_run), str(omniglot_run), "--out", str(report))
    assert done.returncode == 0, done.stderr
    page = (report / "report.html").read_text()
    for heading in ("CIFAR100 shallow autoencoder (paper Fig 7)", "Omniglot autoregressive transformer (paper Fig 8)"):
        assert f">{heading}</h2>" in page
    assert "<h3>omniglot — omniglot</h3>" in page and "<h3>autoencoder_c0.003 — autoencoder</h3>" in page
    assert page.count("data:image/png;base64,") >= 4
    assert "Synthetic data: a smoke and throughput run, not a result." in page
    metrics = pd.read_csv(report / "metrics.csv")
    assert set(metrics["family"]) == {"autoencoder", "omniglot"}
    subset = metrics[metrics["metric"] == "subset_accuracy"]
    assert len(subset) == 10 and subset["interval"].eq("clopper-pearson").all() and subset["n"].eq(200).all()
    assert metrics.loc[metrics["metric"] == "mse", "interval"].eq("bootstrap").all()
    emergence = pd.read_csv(report / "emergence.csv")
    assert len(emergence) == 4 + 10  # mse, three thresholds; two metrics at L = 1..5


def _vision_error(capsys, *args: str) -> str:
    """The one-line error of ``mirage vision ARGS`` run in this process (no data is loaded before the checks)."""
    from mirage_metrics.cli import main

    assert main(["vision", *args, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err.strip()


@pytest.mark.parametrize(
    "study, flags, message",
    [
        (
            "autoencoder",
            ["--sizes", "8,10000000000"],
            r"--sizes 10000000000: the autoencoder of width 10000000000 has 61,450,000,003,072 parameters and needs "
            r"at least [\d.]+ PB of memory",
        ),
        (
            "autoencoder",
            ["--train-images", "1000000000000"],
            r"--train-images 1000000000000: .* needs at least [\d.]+ [TPE]B",
        ),
        (
            "autoencoder",
            ["--test-images", "1000000000000"],
            r"--test-images 1000000000000: .* needs at least [\d.]+ [TPE]B",
        ),
        ("omniglot", ["--sizes", "8,100000000"], r"--sizes 100000000: the Omniglot transformer of width 100000000 has"),
        ("omniglot", ["--image-size", "1000000"], r"--image-size 1000000: .* needs at least [\d.]+ [TPE]B"),
        ("omniglot", ["--test-sequences", "1000000000000"], r"--test-sequences 1000000000000: .* needs at least"),
        ("omniglot", ["--batch-size", "1000000000000"], r"--batch-size 1000000000000: .* needs at least"),
    ],
)
def test_sizes_beyond_the_device_memory_are_refused_before_allocating(tmp_path, capsys, study, flags, message):
    out = tmp_path / "o"
    err = _vision_error(capsys, study, "--data", "synthetic", *flags, "--device", "cpu", "--out", str(out))
    assert re.search(message, err), err
    assert re.search(r"the cpu has [\d.]+ [GT]B", err) and "choose" in err, err
    assert not out.exists()


@pytest.mark.parametrize(
    "study, flags, message",
    [
        ("autoencoder", ["--epochs", "1000000000"], "--epochs 1000000000 must be at most 10,000"),
        ("omniglot", ["--epochs", "-3"], "--epochs -3 must be a positive integer"),
        ("autoencoder", ["--seed", str(2**70)], f"--seed {2**70} must be an integer from 0 to"),
        ("autoencoder", ["--seed", "-1"], "--seed -1 must be an integer from 0 to"),
        ("autoencoder", ["--learning-rate", "inf"], "--learning-rate inf must be a positive finite number"),
        ("omniglot", ["--sizes", "8,2"], "--sizes 2: the Omniglot transformer's width must be at least 4"),
        ("omniglot", ["--classes-per-sequence", "0"], "--classes-per-sequence 0 must be a positive integer"),
        ("omniglot", ["--image-size", "2"], "--image-size 2 must be at least 4"),
        ("autoencoder", ["--sizes", "8", "--shard", "2/2"], "--shard 2/2: leaves this job none of the 1 sizes"),
    ],
)
def test_bad_vision_counts_are_refused_before_training(tmp_path, capsys, study, flags, message):
    out = tmp_path / "o"
    err = _vision_error(capsys, study, "--data", "synthetic", *flags, "--device", "cpu", "--out", str(out))
    assert message in err, err
    assert not out.exists()


@pytest.mark.parametrize("field, value", [("epochs", 2.5), ("epochs", True), ("batch_size", "64"), ("test_images", 0)])
def test_vision_configs_refuse_counts_that_are_not_positive_integers(field, value):
    from mirage_metrics.vision.study import AutoencoderConfig

    with pytest.raises(ValueError, match=f"^{field}={value!r} must be a positive integer"):
        AutoencoderConfig(**{field: value})


def test_the_memory_estimate_counts_the_models_parameters_exactly():
    from mirage_metrics.vision.autoencoder import ShallowAutoencoder, autoencoder_parameters
    from mirage_metrics.vision.omniglot import SequenceClassifier, classifier_parameters
    from mirage_metrics.vision.training import count_parameters

    for hidden in (2, 37):
        assert autoencoder_parameters(hidden) == count_parameters(ShallowAutoencoder((3, 32, 32), hidden))
    for width in (4, 8, 48):
        for classes in (2, 7):
            model = SequenceClassifier(classes, width, 28)
            assert classifier_parameters(classes, width) == count_parameters(model)


def test_infinite_thresholds_are_refused(capsys):
    from mirage_metrics.cli import main
    from mirage_metrics.vision.study import AutoencoderConfig

    with pytest.raises(ValueError, match=r"^thresholds=\(0.003, inf\) must be a non-empty list of positive finite"):
        AutoencoderConfig(thresholds=(0.003, float("inf")))
    with pytest.raises(SystemExit):
        main(["vision", "autoencoder", "--thresholds", "0.003,inf", "--out", "never"])
    assert (
        capsys.readouterr()
        .err.splitlines()[-1]
        .endswith("'0.003,inf' must list positive finite thresholds, e.g. 0.003,0.004")
    )
