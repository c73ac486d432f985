"""Log-probability of the target: the smoothest view of a model's progress on a task."""

import datasets
import evaluate

from mirage_metrics.evaluate_modules import CITATION, metric_info, summarise
from mirage_metrics.metrics import per_token_prob, target_log_prob

_CITATION = CITATION

_DESCRIPTION = """\
The log-probability a model assigns to the correct target string (as lm-eval's
loglikelihood requests return it). With the target's length in tokens (or
characters) the module also reports the per-token probability exp(log p / length),
the geometric mean that Schaeffer, Miranda & Koyejo (2023) call p(single token
correct): it rises smoothly with scale even where exact match looks "emergent",
since exact match on an L-token target behaves like p^L.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `float`): per sample, log p(target | prompt), finite.
    lengths (`list` of `int`, optional): per sample, the target's length in tokens or characters.
    return_per_sample (`bool`, default `False`): also return the per-sample values.
Returns:
    target_log_prob (`float`): the mean log-probability of the targets.
    per_token_prob (`float`): the mean per-token probability, when `lengths` is given.
    target_log_prob_per_sample, per_token_prob_per_sample (`list` of `float`): with `return_per_sample=True`.
Examples:
    >>> import math, mirage_metrics
    >>> log_prob = mirage_metrics.load("log_prob")
    >>> log_prob.compute(predictions=[math.log(0.25), math.log(0.5)], lengths=[2, 1])
    {'target_log_prob': -1.0397207708399179, 'per_token_prob': 0.5}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class LogProb(evaluate.Metric):
    def _info(self):
        log_probs = datasets.Features({"predictions": datasets.Value("float64")})
        return metric_info(
            _DESCRIPTION, _CITATION, _KWARGS_DESCRIPTION, log_probs, metrics=("target_log_prob", "per_char_prob")
        )

    def _compute(self, predictions, lengths=None, return_per_sample=False):
        per_sample = {"target_log_prob": target_log_prob(predictions)}
        if lengths is not None:
            per_sample["per_token_prob"] = per_token_prob(predictions, lengths)
        return summarise(per_sample, return_per_sample)
