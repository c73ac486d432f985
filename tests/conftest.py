"""Shared fixtures: tiny offline models built in the test session, and the real data beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
BIGBENCH_DIR = SHARED_DATA / "bigbench" / "benchmark_tasks"
OMNIGLOT_ZIP = SHARED_DATA / "omniglot" / "images_background_small1.zip"

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_EVALUATE_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
os.environ.update(OFFLINE_ENV)


def offline_env(**extra: str) -> dict:
    """The environment for CLI subprocesses: this one, offline, plus ``extra``."""
    env = dict(os.environ)
    env.update(OFFLINE_ENV)
    env.update(extra)
    return env


def build_tiny_gpt2(out_dir: Path, corpus: list[str], *, n_layer: int = 2, n_embd: int = 32, seed: int = 0) -> Path:
    """A BPE tokenizer trained on ``corpus`` and a random 2-layer GPT-2, saved with ``save_pretrained``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(fast),
        n_positions=512,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=2,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
    )
    model = GPT2LMHeadModel(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    fast.save_pretrained(out_dir)
    return out_dir


TINY_CORPUS = [
    f"Q: What is {a} plus {b}? A: {a + b}\nQ: What is {a} times {b}? A: {a * b}\n"
    for a in range(0, 100, 7)
    for b in range(0, 100, 11)
] + ["The quick brown fox jumps over the lazy dog. True False yes no A B C D"]


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory) -> Path:
    """Folder of a tiny random GPT-2 + BPE tokenizer, loadable by ``AutoModelForCausalLM``."""
    return build_tiny_gpt2(tmp_path_factory.mktemp("models") / "tiny-gpt2", TINY_CORPUS)


@pytest.fixture(scope="session")
def tiny_gpt2_pair(tmp_path_factory) -> list[Path]:
    """Two tiny GPT-2 checkpoints of different sizes, for sweeps."""
    root = tmp_path_factory.mktemp("family")
    return [
        build_tiny_gpt2(root / "tiny-a", TINY_CORPUS, n_embd=16, seed=1),
        build_tiny_gpt2(root / "tiny-b", TINY_CORPUS, n_embd=32, seed=2),
    ]
