"""The vision part of ``mirage report``: a folder written by ``mirage vision …`` as HTML sections.

``mirage report`` calls :func:`report_sections` for any source folder whose
``results.csv`` has a ``study`` column. Each study gets its description, the
emergence score of every curve (:func:`mirage_metrics.metrics.emergence_score`),
the plots beside results.csv and the full table.

>>> import pandas as pd, tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> pd.DataFrame({"study": "omniglot", "model": ["width8", "width16"], "params": [100, 300],
...               "metric": "subset_accuracy", "setting": "5", "n": 10, "value": [0.0, 0.5],
...               "ci_low": [0.0, 0.2], "ci_high": [0.1, 0.8]}).to_csv(folder / "results.csv", index=False)
>>> [section.heading for section in report_sections(folder)]
['Omniglot autoregressive transformer (paper Fig 8)']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Union

import numpy as np
import pandas as pd

from mirage_metrics.html_report import Image, Paragraph, Section, Table
from mirage_metrics import registry
from mirage_metrics.metrics import emergence_score, jump_sharpness

__all__ = ["STUDY_TITLES", "read_vision_results", "emergence_table", "report_sections"]

STUDY_TITLES = {
    "autoencoder": "CIFAR100 shallow autoencoder (paper Fig 7)",
    "omniglot": "Omniglot autoregressive transformer (paper Fig 8)",
}
STUDY_TEXT = {
    "autoencoder": (
        "Shallow nonlinear autoencoders (flatten, one ReLU bottleneck of width h, linear output) trained with Adam "
        "on the MSE. Per test image: the MSE (continuous) and Reconstruction_c, 1 where the MSE is below c "
        "(discontinuous). Values are test-set means with 95% bootstrap intervals."
    ),
    "omniglot": (
        "A conv image embedder and a causal transformer read sequences of (image, label) pairs and predict each "
        "image's class. Per test sequence: the accuracy over the first L images (continuous) and whether all of "
        "the first L images are correct (discontinuous, subset accuracy). Means with 95% bootstrap intervals."
    ),
}
REQUIRED_COLUMNS = ["study", "model", "params", "metric", "setting", "n", "value", "ci_low", "ci_high"]


def read_vision_results(folder: Union[str, Path]) -> pd.DataFrame:
    """``<folder>/results.csv`` with ``setting`` as text ('' where none); clear errors for a wrong file."""
    path = Path(folder) / "results.csv"
    if not path.is_file():
        raise ValueError(f"{path} does not exist; pass a folder written by `mirage vision autoencoder|omniglot`")
    frame = pd.read_csv(path, dtype={"setting": str}, keep_default_na=False, na_values={"value": [""], "ci_low": [""], "ci_high": [""]})
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks the columns {missing}; it was not written by `mirage vision`")
    return frame


def emergence_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (metric, setting): sizes, the metric's kind and direction (from :mod:`mirage_metrics.registry`), and
    the emergence score and sharpness of the mean across sizes, lower-is-better metrics negated as in the rest of
    the report (NaN below two sizes; sharpness NaN below three).

    >>> frame = pd.DataFrame({"metric": "mse", "setting": "", "params": [1, 2, 3], "value": [0.5, 0.4, 0.3]})
    >>> emergence_table(frame).round(3).to_dict("records")
    [{'metric': 'mse', 'setting': '', 'kind': 'continuous', 'better': 'lower', 'sizes': 3, 'emergence_score': 2.0, 'sharpness': 0.0}]
    """
    rows = []
    for (metric, setting), curve in frame.groupby(["metric", "setting"], sort=False):
        info = registry.metric_info(metric)
        sign = 1.0 if np.isnan(info.sign) else info.sign
        better = {1.0: "higher", -1.0: "lower"}.get(info.sign, "unknown")
        score = sharpness = float("nan")
        if len(curve) >= 2:
            values = sign * curve["value"].to_numpy(float)
            score = emergence_score(curve["params"], values)
            sharpness = jump_sharpness(curve["params"], values)
        rows.append({"metric": metric, "setting": setting, "kind": info.kind, "better": better,
                     "sizes": len(curve), "emergence_score": score, "sharpness": sharpness})
    return pd.DataFrame(rows, columns=["metric", "setting", "kind", "better", "sizes", "emergence_score",
                                       "sharpness"])


def _config_note(folder: Path) -> list[Paragraph]:
    path = folder / "config.json"
    if not path.is_file():
        return []
    config = json.loads(path.read_text(encoding="utf-8"))
    note = "Settings: " + ", ".join(f"{key}={value}" for key, value in sorted(config.items()) if value is not None)
    blocks = [Paragraph(note)]
    if config.get("data") == "synthetic":
        blocks.append(Paragraph("Synthetic data: a smoke and throughput run, not a result."))
    return blocks


def report_sections(folder: Union[str, Path]) -> list[Section]:
    """One :class:`~mirage_metrics.html_report.Section` per study in ``<folder>/results.csv``."""
    folder = Path(folder)
    frame = read_vision_results(folder)
    sections = []
    for study, rows in frame.groupby("study", sort=False):
        blocks = [Paragraph(f"Source: {folder}"), Paragraph(STUDY_TEXT.get(study, ""))] + _config_note(folder)
        blocks.append(Paragraph("Each curve across sizes, lower-is-better metrics negated so that positive means "
                                "better with size: BIG-bench's emergence score (breakthroughness) and the sharpness "
                                "(0 for equal steps, 1 for a single jump; see the lm-eval sections)."))
        blocks.append(Table.from_frame(emergence_table(rows)))
        for metric in rows["metric"].unique():
            plot = folder / f"{study}_{metric}.png"
            if plot.is_file():
                blocks.append(Image(plot, registry.label(metric)))
        blocks.append(Table.from_frame(rows.drop(columns="study").sort_values(["metric", "setting", "params"], kind="stable")))
        sections.append(Section(STUDY_TITLES.get(study, f"Vision study {study}"), blocks))
    return sections
