"""Plain constants that the ``mirage`` command line needs to build its parsers.

They live here, in a module that imports nothing heavy (no torch, matplotlib,
pandas, lm_eval or evaluate), so that ``mirage --help`` stays fast; the modules
that use them (:mod:`mirage_metrics.simulate`, :mod:`mirage_metrics.meta.analysis`,
:mod:`mirage_metrics.meta.sources`, :mod:`mirage_metrics.sweep`) import and re-export them.
The vision studies keep theirs in :mod:`mirage_metrics.vision.defaults`.

>>> DEFAULT_SIZES
(350000000.0, 1300000000.0, 6700000000.0, 175000000000.0)
"""

from __future__ import annotations

# --- mirage simulate (mirage_metrics.simulate) ---
DEFAULT_C = 2e9
DEFAULT_ALPHA = -0.5
#: The GPT-3 API model sizes (ada, babbage, curie, davinci).
DEFAULT_SIZES = (3.5e8, 1.3e9, 6.7e9, 1.75e11)
DEFAULT_LENGTHS = (1, 2, 3, 4, 5)

# --- mirage meta-analysis (mirage_metrics.meta.analysis, mirage_metrics.meta.sources) ---
# A curve that climbs by equal steps across n sizes scores exactly n − 1: 9 on Pythia's
# ten sizes, 3 on GPT-2's four. On the paper's mirage model (p = exp(−(N/2e9)^−0.5),
# docs/design.md) over the ten Pythia sizes, the continuous metrics (token edit distance,
# per-token probability) score 8.4 while exact match scores 13.5, 21.7, 55.7, 147 at
# L = 2..5. Above 10, the whole change is more than ten typical steps: most of it came
# in a few jumps.
# Only from 4 sizes on can a curve cross it: with 2 sizes |emergence score| is at most 1, with
# 3 at most 2 (mirage_metrics.meta.analysis.largest_possible_score).
DEFAULT_THRESHOLD = 10.0
# Curves with fewer sizes are scored but left out of the per-metric summary. With 2 sizes the
# emergence score is only the sign of the change (±1 or 0) and jump sharpness is undefined: such
# a curve says which way a metric moved, not how sharply, and would pull every median to ±1.
DEFAULT_MIN_SIZES = 3
# --params choice → key of the BIG-bench "model" record.
PARAMETER_KINDS = {"total": "total_params", "non-embedding": "non_embedding_params"}

# --- mirage sweep (mirage_metrics.sweep) ---
BACKENDS = ("hf", "vllm")
