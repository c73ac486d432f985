"""The vision studies' own part of ``mirage report``: what each study is and the settings it ran with.

The numbers of a vision folder (intervals, emergence scores, verdicts, plots) go
through the report's common path with every other source, read from
``samples.csv`` (:func:`mirage_metrics.vision.samples.read_samples`); these
sections only say what the study's families and tasks mean.

>>> import json, tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "config.json").write_text(json.dumps({"study": "omniglot", "data": "synthetic", "epochs": 1}))
>>> section = study_section(folder)
>>> section.heading
'Omniglot autoregressive transformer (paper Fig 8)'
>>> [block.text for block in section.blocks][-1]
'Synthetic data: a smoke and throughput run, not a result.'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Union

from mirage_metrics.html_page import Paragraph, Section

__all__ = ["STUDY_TITLES", "study_section"]

STUDY_TITLES = {
    "autoencoder": "CIFAR100 shallow autoencoder (paper Fig 7)",
    "omniglot": "Omniglot autoregressive transformer (paper Fig 8)",
}
STUDY_TEXT = {
    "autoencoder": (
        "Shallow nonlinear autoencoders (flatten, one ReLU bottleneck of width h, linear output) trained with Adam "
        "on the MSE. Per test image: the MSE (continuous, task autoencoder) and Reconstruction_c, 1 where the MSE "
        "is below c (discontinuous, one task per threshold: autoencoder_c0.003 is c = 0.003). The curves are in "
        "the Tasks section under family autoencoder."
    ),
    "omniglot": (
        "A conv image embedder and a causal transformer read sequences of (image, label) pairs and predict each "
        "image's class. Per test sequence: whether each of the first L images is correct (continuous over L: "
        "image_accuracy, one value per image) and whether all of the first L images are correct (discontinuous: "
        "subset_accuracy). The curves are in the Tasks section under family omniglot."
    ),
}


def study_section(folder: Union[str, Path]) -> Section:
    """The study of the vision sweep in ``folder`` (its ``config.json``): description and settings."""
    folder = Path(folder)
    path = folder / "config.json"
    if not path.is_file():
        raise ValueError(f"{path} does not exist; pass a folder written by `mirage vision autoencoder|omniglot`")
    config = json.loads(path.read_text(encoding="utf-8"))
    study = config.get("study", "")
    settings = ", ".join(f"{key}={value}" for key, value in sorted(config.items()) if value is not None)
    blocks = [Paragraph(f"Source: {folder}"), Paragraph(STUDY_TEXT.get(study, "")), Paragraph(f"Settings: {settings}")]
    if config.get("data") == "synthetic":
        blocks.append(Paragraph("Synthetic data: a smoke and throughput run, not a result."))
    return Section(STUDY_TITLES.get(study, f"Vision study {study}"), blocks)
