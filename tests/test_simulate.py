"""`mirage simulate`: the paper's mathematical model (Fig 2) and its CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import MIRAGE, run_cli
from mirage_metrics.simulate import SIMULATE_COLUMNS, sample_problems, simulate


def test_defaults_reproduce_the_paper_to_three_decimals():
    table = simulate()
    per_size = table.drop_duplicates("params")
    assert per_size["params"].tolist() == [3.5e8, 1.3e9, 6.7e9, 1.75e11]
    assert per_size["p"].round(3).tolist() == [0.092, 0.289, 0.579, 0.899]


def test_rows_follow_the_model_for_every_size_and_length():
    table = simulate(c=1e9, alpha=-0.3, sizes=[1e8, 1e10], lengths=[1, 4])
    assert list(table.columns) == SIMULATE_COLUMNS and len(table) == 4
    loss = (table["params"] / 1e9) ** -0.3
    p = np.exp(-loss)
    np.testing.assert_allclose(table["loss"], loss)
    np.testing.assert_allclose(table["p"], p)
    np.testing.assert_allclose(table["accuracy"], p ** table["length"])
    np.testing.assert_allclose(table["token_edit_distance"], table["length"] * (1 - p))
    np.testing.assert_allclose(table["brier"], (1 - p ** table["length"]) ** 2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"alpha": 0.5}, "alpha=0.5 must be negative"),
        ({"c": -1}, "c=-1.0 must be a positive"),
        ({"sizes": []}, "sizes=\\[\\] must be positive"),
        ({"lengths": [0]}, "lengths=\\[0\\] must be positive"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate(**kwargs)


def test_sampling_shows_the_resolution_limit():
    table = simulate(sizes=[3.5e8], lengths=[5])  # p^5 ≈ 6.4e-6
    assert sample_problems(table, n=100, seed=0)["sampled_accuracy"].item() == 0.0
    large = sample_problems(table, n=2_000_000, seed=0)
    assert 0.0 < large["sampled_accuracy"].item() < 3e-5
    assert large["sampled_token_edit_distance"].item() == pytest.approx(table["token_edit_distance"].item(), rel=1e-2)


def test_cli_writes_csv_plots_and_prints_the_table(tmp_path):
    out = tmp_path / "sim"
    done = run_cli([*MIRAGE, "simulate", "--out", out, "--sample-problems", "50"])
    table = pd.read_csv(out / "simulate.csv")
    assert list(table.columns[:7]) == SIMULATE_COLUMNS and len(table) == 20
    assert table.drop_duplicates("params")["p"].round(3).tolist() == [0.092, 0.289, 0.579, 0.899]
    assert (out / "simulate.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "simulate_sampled.png").read_bytes()[:4] == b"\x89PNG"
    assert "token_edit_distance" in done.stdout and "0.8986" in done.stdout


def test_cli_custom_sizes_and_lengths(tmp_path):
    run_cli(
        [
            *MIRAGE,
            "simulate",
            "--c",
            "1e9",
            "--alpha",
            "-0.4",
            "--sizes",
            "1e8,1e9",
            "--lengths",
            "2..3",
            "--out",
            tmp_path,
        ]
    )
    table = pd.read_csv(tmp_path / "simulate.csv")
    assert table["length"].tolist() == [2, 3, 2, 3]
    assert table.loc[table["params"] == 1e9, "loss"].tolist() == pytest.approx([1.0, 1.0])


def test_cli_rejects_bad_lengths(tmp_path):
    done = run_cli([*MIRAGE, "simulate", "--lengths", "0..2", "--out", tmp_path], check=False)
    assert done.returncode == 2 and "--lengths '0..2'" in done.stderr
