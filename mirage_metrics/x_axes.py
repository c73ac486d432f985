"""What a report's curves can be against: ``mirage report --x`` and its axis labels.

This module imports nothing, so ``mirage --help`` stays fast.

>>> X_CHOICES
('params', 'step', 'tokens')
>>> X_LABELS["step"]
'Training step'
"""

#: ``mirage report --x``: the model's size, or how far its checkpoint was trained (optimiser steps, tokens).
X_CHOICES = ("params", "step", "tokens")
#: What a table's ``params`` column (the x of every curve) can hold, by the ``model.json`` field that gives it,
#: with its axis label: the total or non-embedding parameter count (``--params``), or ``--x step|tokens``.
X_LABELS = {
    "params": "Parameters",
    "non_embedding_params": "Non-embedding parameters",
    "step": "Training step",
    "tokens": "Training tokens",
}
