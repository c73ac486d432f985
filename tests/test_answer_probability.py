"""exact_answer_prob is the probability that temperature-1 generation returns exactly the answer: its mean matches
sampled exact match on a real (briefly trained) model, through the real lm_eval CLI; stop tokens of BPE tokenizers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import LM_EVAL, TINY_CORPUS, build_tiny_gpt2, read_run, run_to_results
from mirage_metrics import demo_family, metrics
from mirage_metrics.arithmetic import stop_texts
from mirage_metrics.lm_eval_metrics import score_generation
from mirage_metrics.paths import tasks_path


@given(st.lists(st.floats(min_value=1e-6, max_value=1.0), min_size=1, max_size=5))
def test_exact_answer_log_prob_adds_the_disjoint_stop_probabilities(probs):
    probs = np.array(probs) / max(1.0, sum(probs))  # disjoint events: their probabilities sum to at most 1
    (value,) = metrics.exact_answer_log_prob([np.log(probs)])
    assert math.exp(value) == pytest.approx(probs.sum())


def test_exact_answer_log_prob_rejects_positive_log_probabilities():
    with pytest.raises(ValueError, match="stop_loglikelihoods"):
        metrics.exact_answer_log_prob([[0.5]])
    with pytest.raises(ValueError, match="stop_loglikelihoods"):
        metrics.exact_answer_log_prob([[]])


def test_stop_texts_are_each_newline_initial_token_of_the_tokenizer(tmp_path):
    from transformers import AutoTokenizer

    # A corpus whose texts end in blank lines teaches this BPE a "\n\n" token, as GPT-2's has.
    corpus = [text + "\n" for text in TINY_CORPUS]
    bpe = AutoTokenizer.from_pretrained(build_tiny_gpt2(tmp_path / "bpe", corpus))
    assert stop_texts(bpe) == ["\n", "\n\n", "<|endoftext|>"]
    assert bpe("A: 12\n\n")["input_ids"][-1] != bpe("A: 12\n")["input_ids"][-1]  # distinct tokens: disjoint events
    assert stop_texts(demo_family.char_tokenizer()) == ["\n", "<|endoftext|>"]  # "\n\n" is "\n" then "\n": inside "\n"
    assert stop_texts() == ["\n"]


@pytest.mark.slow
def test_exact_answer_prob_matches_sampled_exact_match(tmp_path):
    tokenizer = demo_family.char_tokenizer()
    plan = demo_family.TrainingPlan(tasks=("1da",), sequences_per_task=512, seed=0)
    data = demo_family.encode_training_data(plan.tasks, plan.sequences_per_task, plan.seed, tokenizer)
    model, _ = demo_family.train_toy_model(demo_family.ToySize(1, 32, 150), plan, data, tokenizer, progress=False)
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    out = tmp_path / "out"
    run_to_results(
        [
            *LM_EVAL,
            "--model",
            "hf",
            "--model_args",
            f"pretrained={tmp_path / 'model'}",
            "--device",
            "cpu",
            "--batch_size",
            "64",
            "--tasks",
            "mirage_arith_1da_ll,mirage_arith_1da_gen,mirage_arith_1da_gen_t1",
            "--include_path",
            str(tasks_path()),
            "--metadata",
            json.dumps({"num_problems": 400}),
            "--log_samples",
            "--output_path",
            str(out),
        ],
        out,
        cwd=tmp_path,
    )
    _, samples = read_run(out)
    scored = sorted(samples["mirage_arith_1da_ll"], key=lambda s: s["doc_id"])
    for sample in scored:
        doc = sample["doc"]
        # the answer, the answer then each stop, then its proper prefixes (every one, for a character tokenizer)
        assert doc["answer_choices"] == [doc["answer"]] + [doc["answer"] + s for s in ("\n", "<|endoftext|>")] + [
            doc["answer"][:n] for n in range(1, len(doc["answer"]))
        ]

    def strict(task, metric="exact_match"):
        return np.array([s[metric] for s in sorted(samples[task], key=lambda s: s["doc_id"]) if s["filter"] == "none"])

    exact = np.array([s["exact_answer_prob"] for s in scored])
    sampled = strict("mirage_arith_1da_gen_t1")
    # Given exact[i], sampled[i] is Bernoulli(exact[i]) (whitespace variants aside): the difference of means has
    # standard error sqrt(sum p(1 - p)) / n. The check resolves a 60% error of the mean (here 0.085 ± 0.011).
    standard_error = math.sqrt(np.sum(exact * (1 - exact))) / len(exact)
    assert 4 * standard_error < 0.6 * exact.mean()
    assert abs(sampled.mean() - exact.mean()) < 4 * standard_error, (sampled.mean(), exact.mean(), standard_error)
    # The same for the first L characters: prefix_prob_L{L} against sampled exact_match_L{L}, on the same samples
    # (here 0.417 vs 0.413 ± 0.010 at L = 1 and 0.115 vs 0.108 ± 0.018 at L = 2).
    for length in (1, 2):
        prefix = np.array([s[f"prefix_prob_L{length}"] for s in scored])
        sampled_prefix = strict("mirage_arith_1da_gen_t1", f"exact_match_L{length}")
        applies = ~np.isnan(prefix)
        np.testing.assert_array_equal(applies, ~np.isnan(sampled_prefix))
        prefix, sampled_prefix = prefix[applies], sampled_prefix[applies]
        standard_error = math.sqrt(np.sum(prefix * (1 - prefix))) / len(prefix)
        assert abs(sampled_prefix.mean() - prefix.mean()) < 4 * standard_error, (length, sampled_prefix.mean(), prefix)
    # Greedy decoding: greedy_exact_match of the ll task is the greedy task's exact match, sample by sample.
    np.testing.assert_array_equal([s["greedy_exact_match"] for s in scored], strict("mirage_arith_1da_gen"))


def test_flexible_extract_filter_scores_the_first_integer():
    import yaml
    from lm_eval.filters.extraction import RegexFilter

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!function", lambda loader, node: None)
    config = yaml.load((tasks_path() / "arith" / "_gen.yaml").read_text(), Loader=Loader)
    filters = {entry["name"]: entry["filter"] for entry in config["filter_list"]}
    assert filters["none"] == [{"function": "take_first"}]
    regex, take_first = filters["flexible-extract"]
    assert regex.pop("function") == "regex" and take_first == {"function": "take_first"}
    outputs = [" 59.", " 2126 A: Answer: 3710", " no idea"]
    extracted = [texts[0] for texts in RegexFilter(**regex).apply([[text] for text in outputs], [{}] * 3)]
    assert extracted == ["59", "2126", ""]
    assert [score_generation(text, "59")["exact_match"] for text in (" 59.", "59")] == [0.0, 1.0]
    assert [score_generation(text, "2016")["token_edit_distance"] for text in outputs[1:2] + extracted[1:2]] == [18, 2]
