"""Exact match and token edit distance on the first L characters: the paper's "Target Str Len"."""

import evaluate

from mirage_metrics.evaluate_modules import CITATION, metric_info, string_pairs, summarise
from mirage_metrics.metrics import prefix_metrics

_CITATION = CITATION

_DESCRIPTION = """\
Exact match and token edit distance of the first L characters of each prediction
against the first L of its reference, for each L in `lengths`. Schaeffer, Miranda &
Koyejo (2023, Fig 3) vary this "target string length" to show the mirage: the
longer the target, the sharper exact match jumps with model size (it behaves like
p^L), while edit distance stays smooth (about L(1 - p)). Samples whose reference is
shorter than L are left out of that L's mean (their per-sample value is NaN).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): model outputs.
    references (`list` of `str`): the correct answers.
    lengths (`list` of `int`, default `[1, 2, 3, 4, 5]`): the prefix lengths L, whole numbers >= 1.
    strip (`bool`, default `True`), ignore_case (`bool`, default `False`): normalisation of both whole texts before
        taking prefixes, the same rule as `mirage_metrics.exact_match` and `token_edit_distance`.
    return_per_sample (`bool`, default `False`): also return the per-sample values.
Returns:
    exact_match_L{L} (`float`): the fraction of samples whose first L characters are right.
    token_edit_distance_L{L} (`float`): the mean edit distance of the first L characters.
    exact_match_L{L}_per_sample, token_edit_distance_L{L}_per_sample (`list` of `float`): with
        `return_per_sample=True` (NaN where the reference is shorter than L).
Examples:
    >>> import mirage_metrics
    >>> at_length = mirage_metrics.load("exact_match_at_length")
    >>> at_length.compute(predictions=["1239", "7"], references=["1234", "8"], lengths=[1, 4])
    {'exact_match_L1': 0.5, 'token_edit_distance_L1': 0.5, 'exact_match_L4': 0.0, 'token_edit_distance_L4': 1.0}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ExactMatchAtLength(evaluate.Metric):
    def _info(self):
        return metric_info(
            _DESCRIPTION, _CITATION, _KWARGS_DESCRIPTION, string_pairs(), metrics=("exact_match", "token_edit_distance")
        )

    def _compute(
        self, predictions, references, lengths=(1, 2, 3, 4, 5), strip=True, ignore_case=False, return_per_sample=False
    ):
        per_sample = prefix_metrics(predictions, references, lengths=lengths, strip=strip, ignore_case=ignore_case)
        return summarise(per_sample, return_per_sample)
