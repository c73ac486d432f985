"""Hugging Face ``evaluate`` modules, one Space-ready folder each; see ``mirage_metrics.load``.

Each module's ``_compute`` calls the functional core (:mod:`mirage_metrics.metrics`)
and reports its result with :func:`summarise`: the mean under the metric's name
and, on request, the per-sample values under ``<name>_per_sample``.

>>> summarise({"token_edit_distance": [1, 2, 0]}, return_per_sample=True)
{'token_edit_distance': 1.0, 'token_edit_distance_per_sample': [1, 2, 0]}
>>> summarise({"exact_match_L5": [1.0, float("nan")]}, return_per_sample=False)
{'exact_match_L5': 1.0}
"""

from __future__ import annotations

from typing import Mapping, Sequence

import datasets
import evaluate
import numpy as np

CITATION = """\
@inproceedings{schaeffer2023mirage,
  title     = {Are Emergent Abilities of Large Language Models a Mirage?},
  author    = {Schaeffer, Rylan and Miranda, Brando and Koyejo, Sanmi},
  booktitle = {Advances in Neural Information Processing Systems},
  volume    = {36},
  year      = {2023},
  url       = {https://arxiv.org/abs/2304.15004}
}
"""

PAPER_URL = "https://arxiv.org/abs/2304.15004"

__all__ = ["CITATION", "PAPER_URL", "directions", "metric_info", "string_pairs", "summarise"]


def string_pairs() -> datasets.Features:
    """Inputs of the text metrics: one prediction string and one reference string per sample."""
    return datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")})


def directions(metrics: Sequence[str]) -> str:
    """One line per metric from its declaration (:mod:`mirage_metrics.registry`): label, direction and kind.

    >>> print(directions(["token_edit_distance"]))
    token_edit_distance: token edit distance, lower is better; continuous.
    """
    from mirage_metrics import registry

    lines = []
    for name in metrics:
        info = registry.metric_info(name)
        better = "higher" if info.higher_is_better else "lower"
        lines.append(f"{name}: {info.label}, {better} is better; {info.kind}.")
    return "\n".join(lines)


def metric_info(description: str, citation: str, inputs_description: str, features, *extra_urls: str, metrics=()):
    """The ``evaluate.MetricInfo`` of a mirage-metrics module: the paper first among its references, and the
    description followed by the :func:`directions` of the ``metrics`` it reports."""
    return evaluate.MetricInfo(
        description=description + (f"\n{directions(metrics)}\n" if metrics else ""),
        citation=citation,
        inputs_description=inputs_description,
        features=features,
        reference_urls=[PAPER_URL, *extra_urls],
    )


def summarise(per_sample: Mapping[str, Sequence[float]], return_per_sample: bool) -> dict:
    """Mean of each per-sample array (NaN samples skipped; all-NaN gives NaN), plus the arrays if asked."""
    result = {}
    for name, values in per_sample.items():
        values = np.asarray(values)
        finite = values[~np.isnan(values.astype(float))]
        result[name] = float(finite.mean()) if finite.size else float("nan")
        if return_per_sample:
            result[f"{name}_per_sample"] = values.tolist()
    return result
