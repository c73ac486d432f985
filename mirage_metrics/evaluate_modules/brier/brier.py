"""Brier score of multiple-choice answers: the continuous counterpart of multiple choice grade."""

import datasets
import evaluate

from mirage_metrics.evaluate_modules import CITATION, metric_info, summarise
from mirage_metrics.metrics import bigbench_brier_score, brier_score, choice_probs

_CITATION = CITATION

_DESCRIPTION = """\
The Brier score of a multiple-choice answer is the squared error between the
model's probabilities over the choices and the correct answer's one-hot vector,
summed over the choices: 0 for a confident correct answer, up to 2 for a confident
wrong one. Schaeffer, Miranda & Koyejo (2023) show that BIG-bench's "emergent"
multiple choice grade of LaMDA becomes a smooth curve under the Brier score.
Inputs are the choices' log-likelihoods (turned into probabilities by a softmax
over the choices, as BIG-bench does) or probabilities that sum to 1. With
log-likelihoods the module also reports BIG-bench's own aggregate,
`calibration_multiple_choice_brier_score` (squared errors summed over samples and
choices, divided by the total number of choices).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): per sample, one value per choice (samples may differ in choices):
        log-likelihoods (default) or probabilities summing to 1, see `prediction_type`.
    references (`list` of `int` or `list` of `list` of `float`): per sample, the index of the correct choice,
        or BIG-bench target scores (one per choice; the choices with the highest score are correct). An index
        must be a whole number: 1.7 is an error, not choice 1.
    prediction_type (`str`, default `"loglikelihoods"`): what `predictions` hold, `"loglikelihoods"` or
        `"probabilities"`.
    return_per_sample (`bool`, default `False`): also return every sample's Brier score.
Returns:
    brier_score (`float`): the mean over samples of sum_k (p_k - y_k)^2, in [0, 2] (0 is perfect).
    bigbench_brier_score (`float`): BIG-bench's calibration_multiple_choice_brier_score (log-likelihood input only).
    brier_score_per_sample (`list` of `float`): per-sample scores, with `return_per_sample=True`.
Examples:
    >>> import mirage_metrics
    >>> brier = mirage_metrics.load("brier")
    >>> brier.compute(predictions=[[0.5, 0.5], [1.0, 0.0]], references=[0, 0], prediction_type="probabilities")
    {'brier_score': 0.25}
    >>> brier.compute(predictions=[[0.0, 0.0]], references=[[1.0, 0.0]], return_per_sample=True)
    {'brier_score': 0.5, 'brier_score_per_sample': [0.5], 'bigbench_brier_score': 0.25}
"""

PREDICTION_TYPES = ("loglikelihoods", "probabilities")


def choice_indices(references: list) -> list:
    """Scalar references (stored as float64) as int choice indices; a fractional one is an error.

    >>> choice_indices([1.0, [0.0, 1.0]])
    [1, [0.0, 1.0]]
    >>> choice_indices([1.7])
    Traceback (most recent call last):
    ...
    ValueError: references[0] = 1.7 is not a choice index; pass an int index or a list of target scores
    """
    indices = []
    for i, reference in enumerate(references):
        if isinstance(reference, float):
            if not reference.is_integer():
                raise ValueError(
                    f"references[{i}] = {reference} is not a choice index; pass an int index or a list of target scores"
                )
            reference = int(reference)
        indices.append(reference)
    return indices


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Brier(evaluate.Metric):
    def _info(self):
        choices = datasets.Sequence(datasets.Value("float64"))
        return metric_info(
            _DESCRIPTION,
            _CITATION,
            _KWARGS_DESCRIPTION,
            [
                # indices arrive as float64 so that datasets cannot cast 1.7 to 1; choice_indices checks them
                datasets.Features({"predictions": choices, "references": datasets.Value("float64")}),
                datasets.Features({"predictions": choices, "references": choices}),
            ],
            "https://github.com/google/BIG-bench/blob/main/bigbench/api/task_metrics.py",
            metrics=("brier_score", "bigbench_brier_score"),
        )

    def _compute(self, predictions, references, prediction_type="loglikelihoods", return_per_sample=False):
        if prediction_type not in PREDICTION_TYPES:
            raise ValueError(f"prediction_type={prediction_type!r} is not known; use one of {PREDICTION_TYPES}")
        references = choice_indices(references)
        from_loglikelihoods = prediction_type == "loglikelihoods"
        probs = choice_probs(predictions) if from_loglikelihoods else predictions
        result = summarise({"brier_score": brier_score(probs, references)}, return_per_sample)
        if from_loglikelihoods:
            result["bigbench_brier_score"] = bigbench_brier_score(predictions, references)
        return result
