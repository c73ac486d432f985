"""The meta-analysis' defaults, written once: :mod:`~mirage_metrics.meta.analysis`, :mod:`~mirage_metrics.meta.sources`
and ``mirage meta-analysis --help`` read them here.

This module imports nothing, so ``mirage --help`` stays fast.

>>> DEFAULT_THRESHOLD, DEFAULT_MIN_SIZES
(10.0, 3)
"""

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
