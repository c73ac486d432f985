"""The paper's mathematical model (its Fig 2): smooth per-token loss, sharp exact match, smooth edit distance.

Per-token loss L_CE(N) = (N / c)^α, per-token probability p = exp(−L_CE), and for
targets of L tokens: accuracy p^L, token edit distance L(1 − p), two-choice
Brier (1 − p^L)² (see :func:`mirage_metrics.mirage_fit.mirage_predictions`). The
defaults (c = 2e9, α = −0.5, the four GPT-3 API sizes) give the paper's
p = 0.092, 0.289, 0.579, 0.899.

>>> table = simulate(lengths=[1])
>>> table["p"].round(3).tolist()
[0.092, 0.289, 0.579, 0.899]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

# The defaults of simulate() and of `mirage simulate --help`; pandas and the fit are imported where they are used,
# so that reading these stays light.
DEFAULT_C = 2e9
DEFAULT_ALPHA = -0.5
#: The GPT-3 API model sizes (ada, babbage, curie, davinci).
DEFAULT_SIZES = (3.5e8, 1.3e9, 6.7e9, 1.75e11)
DEFAULT_LENGTHS = (1, 2, 3, 4, 5)

__all__ = [
    "DEFAULT_C",
    "DEFAULT_ALPHA",
    "DEFAULT_SIZES",
    "DEFAULT_LENGTHS",
    "SIMULATE_COLUMNS",
    "simulate",
    "sample_problems",
]

# Monte Carlo draws per chunk (8 bytes each).
_CHUNK_DRAWS = 1 << 22
SIMULATE_COLUMNS = ["params", "length", "loss", "p", "accuracy", "token_edit_distance", "brier"]


def simulate(
    c: float = DEFAULT_C, alpha: float = DEFAULT_ALPHA, sizes=DEFAULT_SIZES, lengths=DEFAULT_LENGTHS
) -> pd.DataFrame:
    """One row per (size, length): params, length, loss, p, accuracy, token_edit_distance, brier.

    >>> simulate(sizes=[2e9], lengths=[2]).round(3).to_dict("records")
    [{'params': 2000000000.0, 'length': 2, 'loss': 1.0, 'p': 0.368, 'accuracy': 0.135, 'token_edit_distance': 1.264, 'brier': 0.748}]
    """
    c, alpha = float(c), float(alpha)
    if not (np.isfinite(c) and c > 0):
        raise ValueError(f"c={c} must be a positive parameter count, e.g. 2e9")
    if not (np.isfinite(alpha) and alpha < 0):
        raise ValueError(f"alpha={alpha} must be negative (loss falls with size), e.g. -0.5")
    sizes = np.asarray(sizes, dtype=float).ravel()
    if sizes.size == 0 or not np.all(np.isfinite(sizes)) or np.any(sizes <= 0):
        raise ValueError(f"sizes={sizes.tolist()} must be positive parameter counts, e.g. 3.5e8,1.3e9")
    from mirage_metrics.mirage_fit import PowerLaw, mirage_predictions

    lengths = [int(n) for n in lengths]
    table = mirage_predictions(PowerLaw(c, alpha).loss(sizes), lengths)
    table.insert(0, "params", np.repeat(sizes, len(lengths)))
    return table[SIMULATE_COLUMNS]


def sample_problems(table: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """Monte Carlo: ``n`` problems per row, each of ``length`` tokens right with probability ``p``.

    Adds ``n_problems``, ``sampled_accuracy`` (share of problems with every token
    right; 0 when p^L is far below 1/n, the resolution limit) and
    ``sampled_token_edit_distance`` (mean number of wrong tokens).

    >>> small = sample_problems(simulate(sizes=[3.5e8], lengths=[5]), n=10, seed=0)
    >>> small["sampled_accuracy"].tolist()
    [0.0]
    >>> large = sample_problems(simulate(sizes=[3.5e8], lengths=[5]), n=1_000_000, seed=0)
    >>> bool(large["sampled_accuracy"].iloc[0] > 0)
    True
    """
    if int(n) < 1:
        raise ValueError(f"n={n} must be a positive number of problems per size, e.g. 100")
    rng = np.random.default_rng(seed)
    lengths = table["length"].to_numpy(int)
    error_rate = 1.0 - table["p"].to_numpy(float)
    all_right = np.zeros(len(table))
    wrong_tokens = np.zeros(len(table))
    chunk = max(1, _CHUNK_DRAWS // max(1, len(table)))
    for start in range(0, int(n), chunk):
        # Wrong tokens per problem: Binomial(L, 1 − p), drawn for a chunk of problems at a time.
        wrong = rng.binomial(lengths, error_rate, size=(min(chunk, int(n) - start), len(table)))
        all_right += (wrong == 0).sum(axis=0)
        wrong_tokens += wrong.sum(axis=0)
    out = table.copy()
    out["n_problems"] = int(n)
    out["sampled_accuracy"] = all_right / int(n)
    out["sampled_token_edit_distance"] = wrong_tokens / int(n)
    return out
