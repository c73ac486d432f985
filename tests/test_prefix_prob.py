"""prefix_prob_L{L} of the _ll tasks: the probability of the answer's first L characters, per sample.

Checked against brute force on tiny models: exact for a character-level tokenizer; for a BPE that merges digits it
is the probability of the answer's own (canonical) tokens up to the first token that reaches character L, a lower
bound on every way of writing those characters. One slow test reads a real lm_eval run's logged samples."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import LM_EVAL, read_run, run_to_results
from mirage_metrics import arithmetic, demo_family, registry
from mirage_metrics.lm_eval_metrics import score_loglikelihood
from mirage_metrics.paths import tasks_path

sys.path.insert(0, str(tasks_path() / "arith"))
import utils as arith_utils  # noqa: E402  (the task folder's utils.py, as lm-eval imports it)

END_OF_TEXT = "<|endoftext|>"
# A byte-level BPE whose merges cross digit boundaries: " 1222" is " 122" + "2", " 12" is " 1" + "2".
MERGES = [("Ġ", "1"), ("2", "2"), ("Ġ1", "22"), ("0", "1")]


def save_gpt2(folder: Path, tokenizer, seed: int = 0) -> Path:
    """A random 2-layer GPT-2 over ``tokenizer``'s vocabulary, saved with it."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=512,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def merged_digit_tokenizer():
    """GPT-2's byte-level pre-tokenizer with a tiny vocabulary: every byte, end-of-text and the ``MERGES``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {END_OF_TEXT: 0, **{char: i + 1 for i, char in enumerate(alphabet)}}
    for left, right in MERGES:
        vocab[left + right] = len(vocab)
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=MERGES))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token=END_OF_TEXT, eos_token=END_OF_TEXT, pad_token=END_OF_TEXT
    )


@pytest.fixture(scope="module")
def merged_gpt2(tmp_path_factory) -> Path:
    return save_gpt2(tmp_path_factory.mktemp("merged") / "model", merged_digit_tokenizer())


@pytest.fixture(scope="module")
def char_gpt2(tmp_path_factory) -> Path:
    return save_gpt2(tmp_path_factory.mktemp("char") / "model", demo_family.char_tokenizer())


class Model:
    """A saved causal LM and its tokenizer: next-token log-probabilities, lm-eval's scoring, brute-force sums."""

    def __init__(self, folder: Path):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModelForCausalLM.from_pretrained(folder).eval()
        self.texts = self.tokenizer.batch_decode([[token] for token in range(len(self.tokenizer))])
        self._cache: dict[tuple[int, ...], np.ndarray] = {}

    def ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def next_log_probs(self, ids: list[int]) -> np.ndarray:
        import torch

        key = tuple(ids)
        if key not in self._cache:
            with torch.no_grad():
                logits = self.model(torch.tensor([ids])).logits[0, -1].double()
            self._cache[key] = torch.log_softmax(logits, -1).numpy()
        return self._cache[key]

    def tokens_log_prob(self, context: list[int], tokens: list[int]) -> float:
        """log p(tokens | context), one token at a time."""
        return sum(self.next_log_probs(context + tokens[:i])[token] for i, token in enumerate(tokens))

    def lm_eval_loglikelihood(self, context: str, continuation: str) -> float:
        """What lm-eval's HF model returns: the whole text tokenized, split where the context's tokens end."""
        context_ids = self.ids(context)
        return self.tokens_log_prob(context_ids, self.ids(context + continuation)[len(context_ids) :])

    def p_starts_with(self, ids: list[int], text: str) -> float:
        """P(the tokens sampled after ``ids`` write a string that begins with ``text``), summed over every path."""
        if not text:
            return 1.0
        log_probs = self.next_log_probs(ids)
        total = sum(math.exp(log_probs[t]) for t, piece in enumerate(self.texts) if piece.startswith(text))
        for t, piece in enumerate(self.texts):
            if piece and len(piece) < len(text) and text.startswith(piece):
                total += math.exp(log_probs[t]) * self.p_starts_with(ids + [t], text[len(piece) :])
        return total

    def p_tokenizations(self, ids: list[int], text: str) -> float:
        """P(the sampled tokens write exactly ``text`` at a token boundary), summed over every tokenization."""
        if not text:
            return 1.0
        log_probs = self.next_log_probs(ids)
        return sum(
            math.exp(log_probs[t]) * self.p_tokenizations(ids + [t], text[len(piece) :])
            for t, piece in enumerate(self.texts)
            if piece and text.startswith(piece)
        )


def ll_doc(folder: Path, task: str = "2dm", index: int = 0) -> dict:
    """The _ll task's document ``index`` built for the model in ``folder`` (as lm-eval passes ``pretrained``)."""
    return arith_utils.build_ll_dataset(arith_task=task, num_problems=index + 1, pretrained=str(folder))["test"][index]


def scores_as_lm_eval_would(model: Model, doc: dict, context: str) -> dict[str, float]:
    results = [(model.lm_eval_loglikelihood(context, " " + choice), False) for choice in doc["answer_choices"]]
    return arith_utils.process_loglikelihood(doc, results)


def test_answer_token_ends_are_where_the_answers_tokens_end(merged_gpt2, char_gpt2):
    merged = Model(merged_gpt2).tokenizer
    assert merged.convert_ids_to_tokens(merged(" 1222")["input_ids"]) == ["Ġ122", "2"]
    assert arithmetic.answer_token_ends("1222", merged) == [3, 4]
    assert arithmetic.answer_token_ends("1201", merged) == [1, 2, 4]  # " 1", "2", "01"
    assert arithmetic.answer_token_ends("1222", demo_family.char_tokenizer()) == [1, 2, 3, 4]
    assert arithmetic.answer_token_ends("1222") == [1, 2, 3, 4]
    doc = ll_doc(merged_gpt2)
    assert doc["answer"] == "1222"
    assert doc["answer_choices"] == ["1222", "1222\n", "1222" + END_OF_TEXT, "122"]
    assert doc["prefix_lengths"] == [3]


def test_character_tokenizer_prefix_prob_is_the_exact_probability_of_the_first_characters(char_gpt2):
    model = Model(char_gpt2)
    doc = ll_doc(char_gpt2)
    context = doc["question"]
    scores = scores_as_lm_eval_would(model, doc, context)
    context_ids = model.ids(context)
    answer = doc["answer"]
    for length in range(1, len(answer) + 1):
        exact = model.p_starts_with(context_ids, " " + answer[:length])
        assert scores[f"prefix_prob_L{length}"] == pytest.approx(exact, rel=1e-5)
    assert scores[f"prefix_prob_L{len(answer)}"] == pytest.approx(math.exp(scores["target_log_prob"]), rel=1e-9)
    assert all(math.isnan(scores[f"prefix_prob_L{n}"]) for n in range(len(answer) + 1, arithmetic.MAX_ANSWER_LENGTH))


def test_merged_digit_prefix_prob_is_the_canonical_covering_tokens_a_lower_bound(merged_gpt2):
    model = Model(merged_gpt2)
    context = ll_doc(merged_gpt2)["question"]
    context_ids = model.ids(context)
    for doc in (ll_doc(merged_gpt2), arith_utils_doc(model, "1201")):
        answer = doc["answer"]
        scores = scores_as_lm_eval_would(model, doc, context)
        canonical = model.ids(context + " " + answer)[len(context_ids) :]
        token_ends = np.cumsum([len(model.texts[t]) for t in canonical]) - 1  # answer characters after each token
        for length in range(1, len(answer) + 1):
            covering = canonical[: int(np.searchsorted(token_ends, length)) + 1]
            expected = math.exp(model.tokens_log_prob(context_ids, covering))
            value = scores[f"prefix_prob_L{length}"]
            assert value == pytest.approx(expected, rel=1e-5), (answer, length)
            written = "".join(model.texts[t] for t in covering)  # " " + the first token_end characters
            at_boundary = model.p_tokenizations(context_ids, written)
            everything = model.p_starts_with(context_ids, " " + answer[:length])
            assert value <= at_boundary * (1 + 1e-6) and at_boundary <= everything * (1 + 1e-6), (answer, length)
    # Strict: other paths write the same characters (" 1", "22"); loose inside a merged token (" 1" begins " 122").
    scores = scores_as_lm_eval_would(model, ll_doc(merged_gpt2), context)  # answer 1222: " 122", "2"
    assert scores["prefix_prob_L3"] < model.p_starts_with(context_ids, " 122")
    assert scores["prefix_prob_L1"] < 0.6 * model.p_starts_with(context_ids, " 1")


def arith_utils_doc(model: Model, answer: str) -> dict:
    """An _ll document for ``answer`` with ``model``'s stops and token ends, as build_ll_dataset writes it."""
    ends = arithmetic.answer_token_ends(answer, model.tokenizer)[:-1]
    stops = arithmetic.stop_texts(model.tokenizer)
    return {
        "answer": answer,
        "answer_choices": [answer] + [answer + s for s in stops] + [answer[:n] for n in ends],
        "prefix_lengths": ends,
    }


def test_prefix_prob_reads_the_shortest_scored_prefix_holding_l_characters():
    scores = score_loglikelihood(
        math.log(0.2), True, " 1222", prefixes={3: math.log(0.3), 1: math.log(0.5)}, lengths=range(1, 7)
    )
    assert [scores[f"prefix_prob_L{n}"] for n in range(1, 5)] == pytest.approx([0.5, 0.3, 0.3, 0.2])
    assert math.isnan(scores["prefix_prob_L5"]) and math.isnan(scores["prefix_prob_L6"])
    assert "prefix_prob_L1" not in score_loglikelihood(-1.0, True, " 12")  # no prefixes scored: no metric
    assert list(score_loglikelihood(-1.0, True, " 12", prefixes={}))[-2:] == ["prefix_prob_L1", "prefix_prob_L2"]
    with pytest.raises(ValueError, match="prefixes must be keyed by answer lengths 1 .. 1"):
        score_loglikelihood(-1.0, True, " 12", prefixes={2: -0.5})
    with pytest.raises(ValueError, match="loglikelihoods"):
        score_loglikelihood(-1.0, True, " 12", prefixes={1: 0.5})


def test_the_ll_config_declares_every_prefix_length_with_the_registry_direction():
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    config = yaml.load((tasks_path() / "arith" / "_ll.yaml").read_text(), Loader=Loader)
    declared = {entry["metric"] for entry in config["metric_list"]}
    doc = {"answer": "7", "prefix_lengths": []}
    assert set(arith_utils.process_loglikelihood(doc, [(-1.0, True), (-2.0, False)])) == declared
    assert {f"prefix_prob_L{n}" for n in range(1, arithmetic.MAX_ANSWER_LENGTH + 1)} <= declared
    assert arithmetic.MAX_ANSWER_LENGTH == len(str(99999 + 99999))
    info = registry.metric_info("prefix_prob_L3,none")
    assert (info.higher_is_better, info.kind, info.by_length) == (True, registry.WHOLE_ANSWER, True)


@pytest.mark.slow
def test_lm_eval_logs_prefix_probabilities_that_are_the_answers_token_probabilities(tmp_path, merged_gpt2):
    out = tmp_path / "out"
    run_to_results(
        [
            *LM_EVAL,
            "--model",
            "hf",
            "--model_args",
            f"pretrained={merged_gpt2}",
            "--device",
            "cpu",
            "--tasks",
            "mirage_arith_2dm_ll",
            "--include_path",
            str(tasks_path()),
            "--limit",
            "6",
            "--log_samples",
            "--output_path",
            str(out),
            "--metadata",
            json.dumps({"num_problems": 6}),
        ],
        out,
        cwd=tmp_path,
    )
    results, samples = read_run(out)
    model = Model(merged_gpt2)
    covered = set()
    for sample in samples["mirage_arith_2dm_ll"]:
        doc, context = sample["doc"], sample["arguments"]["gen_args_0"]["arg_0"]
        answer = doc["answer"]
        context_ids = model.ids(context)
        canonical = model.ids(context + " " + answer)[len(context_ids) :]
        token_ends = np.cumsum([len(model.texts[t]) for t in canonical]) - 1
        values = [sample[f"prefix_prob_L{n}"] for n in range(1, len(answer) + 1)]
        for length, value in enumerate(values, start=1):
            covering = canonical[: int(np.searchsorted(token_ends, length)) + 1]
            covered.add(len(covering) < len(canonical) and token_ends[len(covering) - 1] > length)
            assert value == pytest.approx(math.exp(model.tokens_log_prob(context_ids, covering)), rel=1e-4)
        assert all(later <= earlier * (1 + 1e-6) for earlier, later in zip(values, values[1:]))
        assert values[-1] == pytest.approx(math.exp(sample["target_log_prob"]), rel=1e-9)
        assert all(math.isnan(sample[f"prefix_prob_L{n}"]) for n in range(len(answer) + 1, 7))
        assert len(sample["resps"]) == len(doc["answer_choices"]) == 3 + len(doc["prefix_lengths"])
    assert True in covered  # some L fell inside a merged token
    aggregates = results["results"]["mirage_arith_2dm_ll"]
    for length in range(1, 5):
        expected = np.nanmean([s[f"prefix_prob_L{length}"] for s in samples["mirage_arith_2dm_ll"]])
        assert aggregates[f"prefix_prob_L{length},none"] == pytest.approx(expected)
