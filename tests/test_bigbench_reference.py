"""BIG-bench's own scoring code, transcribed, against the mirage core and the mirage_bb_* hooks (hypothesis).

The functions in the first section are copied from BIG-bench 1.0.0 (github.com/google/BIG-bench), unchanged but for
shortened docstrings, ``postprocess_output`` renamed ``bigbench_postprocess_output`` and the json_task lines wrapped
in a function: ``argmax``, ``measure_multiple_choice_grade``, ``_probability_from_sample``,
``measure_calibration_multiple_choice_brier_score`` and ``exact_str_match_fn`` from ``bigbench/api/task_metrics.py``,
``postprocess_output`` from ``bigbench/models/model_utils.py``, and the log-probability normalisation of
``JsonTask.evaluate_fixed_shot`` in ``bigbench/api/json_task.py``.
Copyright 2021 Google LLC, licensed under the Apache License, Version 2.0 (https://www.apache.org/licenses/LICENSE-2.0).
"""

from __future__ import annotations

import hashlib
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

import mirage_metrics as mm
from conftest import bigbench_gen_scoring
from mirage_metrics.bigbench.lm_eval_hooks import process_results_mc
from mirage_metrics.bigbench.reader import DEFAULT_OUTPUT_REGEX, postprocess_output

# ---------------------------------------------------------------- BIG-bench 1.0.0, Apache-2.0 (see the module docstring)


def argmax(array):
    """argmax with deterministic pseudorandom tie breaking."""
    max_indices = np.arange(len(array))[array == np.max(array)]
    idx = int(hashlib.sha256(np.asarray(array).tobytes()).hexdigest(), 16) % len(max_indices)
    return max_indices[idx]


def measure_multiple_choice_grade(samples):
    """Scoring based on argmax of `log_prob`.

    Args:
      samples: List of dictionaries with 'target_scores' field.

    Returns:
      Average score on task.
    """
    count = 0

    for sample in samples:
        choice = sample["choice"][argmax(sample["log_prob"])]
        count += sample["target_scores"][choice]

    return count / len(samples)


def _probability_from_sample(sample):
    """Returns probabilities of choices and target probabilities of given sample."""
    choices = sample["choice"]  # list of strings, represents the ordering of options
    target_scores_dict = sample["target_scores"]  # dict from choice string to float score

    # Normalize target scores into probability distribution
    if min(target_scores_dict.values()) < 0:
        warnings.warn(f"Warning: Negative target score found. target_scores={target_scores_dict}")

    if sum(target_scores_dict.values()) == 0:
        warnings.warn(f"Warning: Target scores sum to 0. target_scores={target_scores_dict}")
        target_probs = [0 for _ in range(len(target_scores_dict.values()))]
    else:
        # Order target scores / probs (from unordered dict) to be same as choice / log prob
        ordered_target_scores = []
        for c in choices:
            ordered_target_scores.append(target_scores_dict[c])
        target_probs = [s / sum(ordered_target_scores) for s in ordered_target_scores]

    # Create probability distribution of log probs
    log_prob = np.array(sample["log_prob"])  # list of floats representing log probabilities of choices list
    # Subtract the max to make softmax stable
    log_prob -= np.max(log_prob)
    # Convert log prob to prob with softmax
    probs = np.exp(log_prob) / np.sum(np.exp(log_prob))

    return probs, target_probs


def measure_calibration_multiple_choice_brier_score(samples):
    """Scoring based on probability of `log_prob`, according to Brier score."""
    total_brier_score = 0.0
    count = 0

    for sample in samples:
        probs, target_probs = _probability_from_sample(sample)

        brier_score = 0.0
        # Average over target probs for multi-category brier score
        for target_prob, prob in zip(target_probs, probs):
            brier_score += target_prob * (prob - 1) ** 2 + (1 - target_prob) * (prob - 0) ** 2
            count += 1

        # Add brier score of sample to total
        total_brier_score += brier_score

    return total_brier_score / count


def exact_str_match_fn(targets, responses):
    """Exact match between targets and responses."""
    # aitor: might want to use these metrics after removing irrelevant words.
    # they do something like this in see t5.data.postprocessors.wsc_simple
    count = 0

    for target, response in zip(targets, responses):
        if not isinstance(target, list):
            target = [target]
        if response in target:
            count += 1

    return {"exact_str_match": count / len(targets)}


def bigbench_postprocess_output(text, max_length, stop_string, output_regex):
    """model_utils.postprocess_output (its docstring left out)."""
    if isinstance(text, list):
        return [bigbench_postprocess_output(mo, max_length, stop_string, output_regex) for mo in text]

    # Ensure it is a string (will convert from bytes, ... as needed)
    if not isinstance(text, str):
        text = str(text, "utf-8")

    # truncate at max_length
    if max_length:
        text = text[:max_length]

    # Remove all text after any stop_string
    if stop_string:
        index = text.find(stop_string)
        if index > 0:
            text = text[: index + len(stop_string)]

    # extract substring matching regex (empty string for no match)
    if output_regex:
        _text = text
        text = next(iter(re.findall(output_regex, text)), "")
        assert type(text) is not tuple, (
            f'Regex {output_regex} returned multiple matching groups when applied to string {_text}. Try using non-capturing groups, by starting regex groups with ?: (e.g. "(stuff)" -> "(?:stuff)").'
        )

    return text


def json_task_log_probs(absolute_log_probs, absolute_normalization):
    """The lines of JsonTask.evaluate_fixed_shot that turn the model's log-probs into each sample's `log_prob`."""
    normalized_log_probs = [list(np.array(x) - logsumexp(x)) for x in absolute_log_probs]

    if absolute_normalization:
        log_probs = absolute_log_probs
    else:
        log_probs = normalized_log_probs
    return log_probs


# ---------------------------------------------------------------- the samples BIG-bench scores


def bigbench_samples(rows, scores, absolute_normalization=False):
    """BIG-bench samples (choice names, target_scores dict, log_prob) for mirage's (log-likelihoods, scores)."""
    samples = []
    for log_prob, row_scores in zip(json_task_log_probs(rows, absolute_normalization), scores):
        choice = [f"choice {k}" for k in range(len(row_scores))]
        samples.append({"choice": choice, "target_scores": dict(zip(choice, row_scores)), "log_prob": log_prob})
    return samples


def bigbench_brier(samples):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BIG-bench warns about all-zero target scores
        return measure_calibration_multiple_choice_brier_score(samples)


KINDS = ["one-hot", "several correct", "graded", "all zero", None]  # None: each sample of its own kind
# tie-heavy log-likelihoods (few distinct values) and arbitrary ones
LOGLIKELIHOOD = st.one_of(st.sampled_from([0.0, -0.5, -1.0, -2.25, -7.0]), st.floats(-30.0, 0.0))


@st.composite
def choice_rows(draw, kind=None):
    """``(rows, scores, kinds)``: per sample log-likelihoods and target scores of one kind."""
    rows, scores, kinds = [], [], []
    for _ in range(draw(st.integers(1, 6))):
        n = draw(st.integers(1, 6))
        rows.append(draw(st.lists(LOGLIKELIHOOD, min_size=n, max_size=n)))
        sample_kind = kind or draw(st.sampled_from(["one-hot", "several correct", "graded", "all zero"]))
        if sample_kind == "one-hot":
            row_scores = [0] * n
            row_scores[draw(st.integers(0, n - 1))] = 1
        elif sample_kind == "several correct":
            row_scores = draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n).filter(lambda s: 1 in s))
        elif sample_kind == "graded":
            row_scores = draw(st.lists(st.sampled_from([0, 0.25, 0.5, 1, 2]), min_size=n, max_size=n))
        else:
            row_scores = [0] * n
        scores.append(row_scores)
        kinds.append(sample_kind)
    return rows, scores, kinds


# ---------------------------------------------------------------- Brier


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=50)
@given(data=st.data())
def test_bigbench_brier_score_equals_bigbench(kind, data):
    rows, scores, _ = data.draw(choice_rows(kind))
    expected = bigbench_brier(bigbench_samples(rows, scores))
    assert mm.bigbench_brier_score(rows, scores) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=50)
@given(data=st.data())
def test_per_sample_brier_sums_are_bigbench_per_sample_totals(kind, data):
    """brier_score is a sample's sum over its options, so Σ brier_score / Σ options is BIG-bench's score."""
    rows, scores, _ = data.draw(choice_rows(kind))
    per_sample = mm.brier_score(mm.choice_probs(rows), scores)
    for row, row_scores, value in zip(rows, scores, per_sample):
        one = bigbench_brier(bigbench_samples([row], [row_scores])) * len(row)
        assert value == pytest.approx(one, rel=1e-12, abs=1e-15)
        assert -1e-12 <= value <= 2 + 1e-12
    total = sum(len(r) for r in rows)
    assert per_sample.sum() / total == pytest.approx(
        bigbench_brier(bigbench_samples(rows, scores)), rel=1e-12, abs=1e-15
    )


@given(choice_rows("one-hot"))
def test_one_hot_brier_is_the_classic_squared_error(rows_scores_kinds):
    rows, scores, _ = rows_scores_kinds
    for probs, row_scores, value in zip(mm.choice_probs(rows), scores, mm.brier_score(mm.choice_probs(rows), scores)):
        assert value == pytest.approx(float(((probs - np.array(row_scores)) ** 2).sum()), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    ("row", "row_scores", "expected", "old_rule"),
    [([0.0, 0.0, -1.0], [1, 1, 0], 0.17874, 0.23052), ([-2.0, -1.0, -4.0], [0, 0.5, 1], 0.34969, 0.49863)],
)
def test_the_two_reproductions(row, row_scores, expected, old_rule):
    """An independent check's reproductions: BIG-bench's value, not the old 'every top-scored option is y = 1' one."""
    bigbench = bigbench_brier(bigbench_samples([row], [row_scores]))
    assert bigbench == pytest.approx(expected, abs=5e-6)
    assert mm.bigbench_brier_score([row], [row_scores]) == bigbench
    assert mm.bigbench_brier_score([row], [row_scores]) != pytest.approx(old_rule, abs=1e-3)
    out = process_results_mc({"target_scores": row_scores, "absolute_normalization": False}, [(x, False) for x in row])
    assert out["brier_score"] == pytest.approx(3 * expected, abs=2e-5)


# ---------------------------------------------------------------- multiple choice grade


@pytest.mark.parametrize("absolute_normalization", [False, True])
@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=50)
@given(data=st.data())
def test_multiple_choice_grade_equals_bigbench(absolute_normalization, kind, data):
    rows, scores, _ = data.draw(choice_rows(kind))
    samples = bigbench_samples(rows, scores, absolute_normalization)
    expected = [measure_multiple_choice_grade([sample]) for sample in samples]
    grades = mm.multiple_choice_grade(rows, scores, absolute_normalization=absolute_normalization)
    assert grades.tolist() == expected
    for row, row_scores, grade in zip(rows, scores, grades):
        doc = {"target_scores": row_scores, "absolute_normalization": absolute_normalization}
        assert process_results_mc(doc, [(x, False) for x in row])["multiple_choice_grade"] == grade


def test_absolute_normalization_changes_some_tie_breaks():
    """Raw and normalised arrays hash differently, so the flag matters on ties (as in BIG-bench)."""
    rows = [[-1.0] * n for n in range(2, 9)]
    scores = [list(range(len(row))) for row in rows]
    normalised = mm.multiple_choice_grade(rows, scores)
    raw = mm.multiple_choice_grade(rows, scores, absolute_normalization=True)
    assert normalised.tolist() != raw.tolist()


# ---------------------------------------------------------------- generations

TEXT = st.text(alphabet=" \nab.;P", max_size=12)


@given(TEXT, st.sampled_from([None, "\n", ".", "ab"]), st.sampled_from([None, DEFAULT_OUTPUT_REGEX, r"[ab]+", r"\S+"]))
def test_postprocess_output_equals_bigbench(text, stop_string, output_regex):
    expected = bigbench_postprocess_output(text, 0, stop_string, output_regex)
    assert postprocess_output(text, stop_string, output_regex) == expected


@given(
    TEXT,
    st.lists(st.text(alphabet=" ab", max_size=3), min_size=1, max_size=3),
    st.sampled_from([None, "\n"]),
    st.sampled_from([None, DEFAULT_OUTPUT_REGEX]),
)
def test_exact_str_match_is_bigbench_rule_after_the_format_space(generation, targets, stop_string, output_regex):
    """With the prompt's space moved out (answer_prefix " "), BIG-bench scores the generation less that space."""
    doc = {
        "targets": targets,
        "answer_prefix": " ",
        "stop_string": stop_string or "",
        "output_regex": output_regex or "",
    }
    response = bigbench_postprocess_output(
        generation[1:] if generation.startswith(" ") else generation, 0, stop_string, output_regex
    )
    expected = exact_str_match_fn([targets], [response])["exact_str_match"]
    scored, metrics = bigbench_gen_scoring(doc, generation)
    assert scored == response and metrics["exact_str_match"] == expected
