"""The per-sample table of a vision sweep, in the schema of :func:`mirage_metrics.results.read_results`.

A sweep folder holds ``samples.csv``: one row per (model, task, metric, L, test
sample) with the columns ``family, model, params, task, metric, length,
sample_id, value``. The family is the study (``autoencoder`` or ``omniglot``);
the task is the study's name, except that Reconstruction_c's threshold is part of
its task (``autoencoder_c0.003``); ``length`` is L for the Omniglot metrics and
empty otherwise. ``mirage report`` reads it like lm-eval's samples and makes the
intervals, emergence scores and plots the same way for every source.
``summary.csv`` beside it (n and mean per curve point) is for reading by eye.

>>> rows = sample_rows("omniglot", "width8", 4900, "omniglot", "subset_accuracy", [1.0, 0.0], length=5)
>>> rows[["task", "metric", "length", "sample_id", "value"]].values.tolist()
[['omniglot', 'subset_accuracy', 5.0, 0, 1.0], ['omniglot', 'subset_accuracy', 5.0, 1, 0.0]]
>>> summary_table(rows)[["model", "metric", "length", "n", "mean"]].values.tolist()
[['width8', 'subset_accuracy', 5.0, 2, 0.5]]
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

import numpy as np
import pandas as pd

from mirage_metrics.results import RESULTS_COLUMNS

__all__ = [
    "SAMPLES_FILE",
    "SUMMARY_FILE",
    "threshold_task",
    "sample_rows",
    "summary_table",
    "read_samples",
]

SAMPLES_FILE = "samples.csv"
SUMMARY_FILE = "summary.csv"
_TEXT_COLUMNS = ["family", "model", "task", "metric"]


def threshold_task(study: str, c: float) -> str:
    """The task of Reconstruction_c at threshold ``c``.

    >>> threshold_task("autoencoder", 0.003)
    'autoencoder_c0.003'
    """
    return f"{study}_c{float(c):g}"


def sample_rows(
    family: str, model: str, params: int, task: str, metric: str, values, *, length: float = float("nan")
) -> pd.DataFrame:
    """One curve point's per-sample ``values`` as table rows, numbered from 0 in their order."""
    values = np.asarray(values, dtype=float)
    return pd.DataFrame(
        {
            "family": family,
            "model": model,
            "params": int(params),
            "task": task,
            "metric": metric,
            "length": float(length),
            "sample_id": np.arange(values.size),
            "value": values,
        },
        columns=RESULTS_COLUMNS,
    )


def summary_table(samples: pd.DataFrame) -> pd.DataFrame:
    """Per (family, model, params, task, metric, length): n and the mean, in the samples' order (no intervals:
    ``mirage report`` makes them)."""
    keys = ["family", "model", "params", "task", "metric", "length"]
    grouped = samples.groupby(keys, sort=False, dropna=False, observed=True)["value"]
    return grouped.agg(n="count", mean="mean").reset_index()


def read_samples(folder: Union[str, Path]) -> pd.DataFrame:
    """``<folder>/samples.csv`` as :func:`~mirage_metrics.results.read_results` returns its table (text columns
    categorical); ValueError naming the file when it is not a vision sweep's."""
    path = Path(folder) / SAMPLES_FILE
    if not path.is_file():
        raise ValueError(f"{path} does not exist; pass a folder written by `mirage vision autoencoder|omniglot`")
    table = pd.read_csv(
        path,
        dtype={column: str for column in _TEXT_COLUMNS},
        keep_default_na=False,
        na_values={"length": [""], "value": [""]},
    )
    missing = [column for column in RESULTS_COLUMNS if column not in table.columns]
    if missing:
        raise ValueError(f"{path} lacks the columns {missing}; it was not written by `mirage vision`")
    numeric = {
        column: pd.to_numeric(table[column], errors="coerce") for column in ("params", "length", "sample_id", "value")
    }
    bad = ~(numeric["params"] > 0) | (numeric["params"] % 1 != 0) | numeric["sample_id"].isna()
    bad |= numeric["value"].isna() & table["value"].notna()
    bad |= numeric["length"].isna() & table["length"].notna()
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise ValueError(
            f"{path}, line {line}: params must be a positive integer, sample_id an integer and "
            "length and value numbers; the file is damaged, rerun `mirage vision` into a new --out"
        )
    table = table[RESULTS_COLUMNS].assign(
        **{column: numeric[column] for column in ("length", "value")},
        params=numeric["params"].astype("int64"),
        sample_id=numeric["sample_id"].astype("int64"),
    )
    return table.astype({column: "category" for column in _TEXT_COLUMNS})
