"""mirage-metrics: the same model outputs under discontinuous and continuous metrics.

Reproduces Schaeffer, Miranda & Koyejo (2023), *Are Emergent Abilities of Large
Language Models a Mirage?*, on open model families, inside lm-evaluation-harness
and Hugging Face ``evaluate``.

>>> import mirage_metrics as mm
>>> mm.exact_match(["12"], ["12"]), mm.token_edit_distance(["12"], ["13"])
(array([1.]), array([1]))
"""

from mirage_metrics.emergence import emergence_score, jump_sharpness
from mirage_metrics.metrics import (
    bigbench_brier_score,
    brier_score,
    choice_probs,
    correct_choice_log_prob,
    exact_answer_log_prob,
    exact_match,
    mean_squared_error,
    multiple_choice_grade,
    per_token_loss,
    per_token_prob,
    prefix_metrics,
    reconstruction_c,
    subset_accuracy,
    target_log_prob,
    token_edit_distance,
)
from mirage_metrics.paths import evaluate_module_names, evaluate_path, tasks_path

__version__ = "0.1.0"

__all__ = [
    "bigbench_brier_score",
    "brier_score",
    "choice_probs",
    "correct_choice_log_prob",
    "emergence_score",
    "exact_answer_log_prob",
    "exact_match",
    "jump_sharpness",
    "mean_squared_error",
    "multiple_choice_grade",
    "per_token_loss",
    "per_token_prob",
    "prefix_metrics",
    "reconstruction_c",
    "subset_accuracy",
    "target_log_prob",
    "token_edit_distance",
    "evaluate_module_names",
    "evaluate_path",
    "tasks_path",
    "load",
]


def load(name: str, **kwargs):
    """``evaluate.load`` of a bundled module by name, offline, from any current directory.

    ``mirage_metrics.load(name)`` is ``evaluate.load(evaluate_path(name))``; the
    names are :func:`evaluate_module_names`. ``kwargs`` go to ``evaluate.load``.

    >>> load("token_edit").compute(predictions=["1234"], references=["1243"])
    {'token_edit_distance': 2.0}
    """
    import evaluate

    return evaluate.load(evaluate_path(name), **kwargs)
