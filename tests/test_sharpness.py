"""The small-n sharpness measure beside BIG-bench's emergence score: flat-then-jump vs straight lines, n = 3..10."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirage_metrics.emergence import emergence_score, jump_sharpness


@pytest.mark.parametrize("n", range(3, 11))
def test_sharpness_separates_a_jump_from_a_line_at_every_n(n):
    sizes = np.geomspace(1e6, 1e10, n)
    line = np.linspace(0.0, 1.0, n)
    jump = np.r_[np.zeros(n - 1), 1.0]
    assert jump_sharpness(sizes, line) == pytest.approx(0.0, abs=1e-12)
    assert jump_sharpness(sizes, jump) == 1.0
    assert jump_sharpness(sizes, -jump) == -1.0  # the biggest move is a fall


def test_big_bench_score_cannot_separate_them_with_three_sizes():
    # Why the second measure exists: at 3 sizes a line scores 2 and flat-then-jump 1.41.
    assert emergence_score([1, 2, 3], [0, 0.5, 1]) == pytest.approx(2.0)
    assert emergence_score([1, 2, 3], [0, 0, 1]) == pytest.approx(np.sqrt(2))
    assert jump_sharpness([1, 2, 3], [0, 0, 1]) > jump_sharpness([1, 2, 3], [0, 0.5, 1])


def test_two_sizes_cannot_be_judged():
    assert np.isnan(jump_sharpness([1, 2], [0.0, 1.0]))


def test_rows_are_independent_curves():
    rows = np.array([[0.0, 0.0, 1.0], [0.0, 0.5, 1.0], [0.3, 0.3, 0.3]])
    assert jump_sharpness([1, 2, 3], rows).tolist() == [jump_sharpness([1, 2, 3], r) for r in rows]
    assert emergence_score([1, 2, 3], rows).tolist() == [emergence_score([1, 2, 3], r) for r in rows]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-1000, 1000), min_size=3, max_size=12))
def test_sharpness_is_bounded_and_invariant_to_scale_and_shift(values):
    sizes = np.arange(1, len(values) + 1) * 10.0
    value = jump_sharpness(sizes, values)
    assert -1.0 <= value <= 1.0
    moved = jump_sharpness(sizes, 3.0 * np.asarray(values) + 7.0)
    assert moved == pytest.approx(value, abs=1e-6)
