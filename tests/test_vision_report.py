"""A vision sweep's folder goes through the report's common path (no training here: samples.csv written directly)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import write_lm_eval_run
from mirage_metrics.bootstrap import binomial_ci
from mirage_metrics.report import build_report, source_kind
from mirage_metrics.summary import concat_tables
from mirage_metrics.vision.samples import SAMPLES_FILE, read_samples, sample_rows

WIDTHS = {"width8": 4_900, "width16": 14_000, "width32": 52_000}
HITS = {"width8": 0, "width16": 3, "width32": 18}  # all five images right, of 20 sequences


def omniglot_folder(folder, *, data="omniglot"):
    """What `mirage vision omniglot` leaves: samples.csv and config.json (per-image accuracy = subset at L = 1)."""
    folder.mkdir(parents=True)
    rows = []
    for model, params in WIDTHS.items():
        for length in range(1, 6):
            hits = [1.0] * HITS[model] + [0.0] * (20 - HITS[model])
            rows.append(sample_rows("omniglot", model, params, "omniglot", "subset_accuracy", hits, length=length))
            rows.append(
                sample_rows("omniglot", model, params, "omniglot", "image_accuracy", hits * length, length=length)
            )
    pd.concat(rows).to_csv(folder / SAMPLES_FILE, index=False)
    (folder / "config.json").write_text(json.dumps({"study": "omniglot", "data": data, "epochs": 1}))
    return folder


def test_vision_folder_goes_through_the_common_report_path(tmp_path):
    vision = omniglot_folder(tmp_path / "omniglot")
    assert source_kind(vision) == "vision"
    page = build_report([vision], tmp_path / "report", n_boot=200).read_text()

    metrics = pd.read_csv(tmp_path / "report" / "metrics.csv")
    subset = metrics[metrics["metric"] == "subset_accuracy"]
    assert len(subset) == 15 and subset["interval"].eq("clopper-pearson").all() and subset["n"].eq(20).all()
    for row in subset.itertuples():
        low, high = binomial_ci(HITS[row.model], 20)
        assert (row.mean, row.ci_low, row.ci_high) == pytest.approx((HITS[row.model] / 20, low, high))
    image = metrics[(metrics["metric"] == "image_accuracy") & (metrics["length"] == 5)]
    assert image["n"].eq(100).all()

    emergence = pd.read_csv(tmp_path / "report" / "emergence.csv")
    assert len(emergence) == 10 and set(emergence["family"]) == {"omniglot"}
    jump = emergence[(emergence["metric"] == "subset_accuracy") & (emergence["length"] == 5)].iloc[0]
    assert jump["n_sizes"] == 3 and jump["kind"] == "discontinuous" and jump["direction"] == "higher"
    assert jump["values"] == "0/1" and jump["largest_step_from"] == "width16"

    assert "<h3>omniglot — omniglot</h3>" in page
    assert ">Omniglot autoregressive transformer (paper Fig 8)</h2>" in page
    assert "Synthetic data" not in page


def test_vision_and_lm_eval_sources_share_one_table(tmp_path):
    vision = omniglot_folder(tmp_path / "omniglot", data="synthetic")
    lm_eval = tmp_path / "lm"
    for index, params in enumerate((1_000, 2_000)):
        write_lm_eval_run(
            lm_eval / f"m{index}", f"org/m{index}", params, {"toy_gen": {"exact_match": [float(index), 0.0]}}
        )
    page = build_report([lm_eval, vision], tmp_path / "report", n_boot=100).read_text()
    metrics = pd.read_csv(tmp_path / "report" / "metrics.csv")
    assert set(metrics["family"]) == {"lm", "omniglot"}
    assert set(pd.read_csv(tmp_path / "report" / "emergence.csv")["task"]) == {"toy_gen", "omniglot"}
    assert "Synthetic data: a smoke and throughput run, not a result." in page


def test_read_samples_keeps_the_read_results_schema_and_refuses_damage(tmp_path):
    vision = omniglot_folder(tmp_path / "omniglot")
    table = read_samples(vision)
    assert table["model"].dtype.name == "category" and table["params"].dtype == np.int64
    joined = concat_tables([table, table])
    assert len(joined) == 2 * len(table) and joined["metric"].dtype.name == "category"

    text = (vision / SAMPLES_FILE).read_text().splitlines()
    text[3] = text[3].replace("4900", "-1", 1)
    (vision / SAMPLES_FILE).write_text("\n".join(text) + "\n")
    with pytest.raises(ValueError, match=r"samples.csv, line 4: params must be a positive integer"):
        read_samples(vision)
