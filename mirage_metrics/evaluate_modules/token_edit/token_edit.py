"""Token edit distance: the continuous counterpart of exact match (Schaeffer et al., 2023)."""

import evaluate

from mirage_metrics.evaluate_modules import CITATION, metric_info, string_pairs, summarise
from mirage_metrics.metrics import token_edit_distance

_CITATION = CITATION

_DESCRIPTION = """\
Token edit distance is the Levenshtein distance between the token sequences of a
prediction and its reference: the number of token substitutions, insertions and
deletions that turn one into the other, not normalised. Schaeffer, Miranda & Koyejo
(2023) show that where exact match on arithmetic jumps sharply with model size
("emergence"), token edit distance on the same outputs improves smoothly. Tokens
are characters by default (digits, for arithmetic answers); whitespace words, any
callable or a Hugging Face tokenizer's ids can be used instead. Computed by
rapidfuzz's C++ Levenshtein through mirage_metrics.token_edit_distance.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): model outputs; the empty string is a valid output, None is not.
    references (`list` of `str`): the correct answers, one per prediction.
    tokenizer (`str`, callable or Hugging Face tokenizer, default `"char"`): how to split texts into tokens:
        `"char"` (each character), `"whitespace"`, a callable `str -> sequence of hashable tokens`,
        or a `transformers`/`tokenizers` tokenizer (its token ids are compared).
    strip (`bool`, default `True`), ignore_case (`bool`, default `False`): normalisation of both texts first, the
        same rule and defaults as `mirage_metrics.exact_match`, so an exact match always has distance 0.
    return_per_sample (`bool`, default `False`): also return the distance of every sample.
Returns:
    token_edit_distance (`float`): the mean distance over samples (0 is perfect).
    token_edit_distance_per_sample (`list` of `int`): per-sample distances, with `return_per_sample=True`.
Examples:
    >>> import mirage_metrics
    >>> token_edit = mirage_metrics.load("token_edit")
    >>> token_edit.compute(predictions=["4201", "41"], references=["4211", "42"], return_per_sample=True)
    {'token_edit_distance': 1.0, 'token_edit_distance_per_sample': [1, 1]}
    >>> token_edit.compute(predictions=[" 42"], references=["42"], strip=False)
    {'token_edit_distance': 1.0}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class TokenEdit(evaluate.Metric):
    def _info(self):
        return metric_info(
            _DESCRIPTION,
            _CITATION,
            _KWARGS_DESCRIPTION,
            string_pairs(),
            "https://en.wikipedia.org/wiki/Levenshtein_distance",
            metrics=("token_edit_distance",),
        )

    def _compute(
        self, predictions, references, tokenizer="char", strip=True, ignore_case=False, return_per_sample=False
    ):
        options = {"tokenizer": tokenizer, "strip": strip, "ignore_case": ignore_case}
        distances = token_edit_distance(predictions, references, **options)
        return summarise({"token_edit_distance": distances}, return_per_sample)
