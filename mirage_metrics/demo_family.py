"""The demo family: tiny GPT-2 models that the project trains itself on the ``mirage_arith`` prompts.

Pythia and GPT-2 weights need the Hugging Face Hub; these do not. Each model is a
``transformers`` ``GPT2LMHeadModel`` trained, seeded and offline, on 2-shot
arithmetic prompts rendered by :mod:`mirage_metrics.arithmetic` exactly as lm-eval
renders them (training problems are disjoint from the evaluation problems and
exemplars), and saved with ``save_pretrained`` so that ``lm_eval --model hf
--model_args pretrained=<dir>`` loads it like any Hub checkpoint.

The tokenizer is character level (one token per character): every digit is its
own token, so a number always tokenizes the same way wherever it appears (a BPE
would merge digit runs differently depending on their neighbours), the token edit
distance over model tokens equals the paper's digit-level one, per-token
probability is per-character probability, and lm-eval's split of a prompt into
context and continuation tokens is exact.

>>> tokenizer = char_tokenizer()
>>> tokenizer("A: 124")["input_ids"] == [tokenizer.convert_tokens_to_ids(c) for c in "A: 124"]
True
>>> tokenizer.decode(tokenizer("Q: What is 1 plus 2? A: 3")["input_ids"])
'Q: What is 1 plus 2? A: 3'
"""

from __future__ import annotations

import json
import math
import os
import shutil
import string
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mirage_metrics import arithmetic
from mirage_metrics.atomic_files import new_beside
from mirage_metrics.paths import file_digest

__all__ = [
    "ToySize",
    "TrainingPlan",
    "DEMO_SIZES",
    "QUICK_SIZES",
    "QUICK_PLAN",
    "DEMO_TASKS",
    "DEMO_EVAL_TASKS",
    "DEMO_FAMILY",
    "QUICK_FAMILY",
    "END_OF_TEXT",
    "char_tokenizer",
    "training_sequence",
    "TrainingData",
    "encode_training_data",
    "model_config",
    "size_learning_rate",
    "train_toy_model",
    "default_workers",
    "SHIPPED_DIR",
    "build_family",
    "training_steps_records",
    "family_yaml",
    "snapshot_name",
    "training_tokens",
    "DEMO_SNAPSHOT_STEPS",
    "QUICK_SNAPSHOT_STEPS",
    "DEMO_STEPS_FAMILY",
    "QUICK_STEPS_FAMILY",
]

END_OF_TEXT = "<|endoftext|>"
# Printable ASCII (space included) and newline: every character of the arithmetic prompts and more.
ALPHABET = "\n" + "".join(ch for ch in string.printable if ch.isprintable())
CONTEXT_LENGTH = 128  # positions: a 2-shot 3-digit-addition prompt and its answer need ~100
# Training tasks of the demo: 2-shot addition of 1- to 4-digit operands (the shorter sums teach the carry that the
# 4-digit ones need); the demo evaluates the longest-answer one, 4-digit addition (answers of 4-5 digits).
DEMO_TASKS = ("1da", "2da", "3da", "4da")
DEMO_EVAL_TASKS = ("4da",)
FORMAT_VERSION = 1  # bump when the training text or loop changes, to invalidate cached checkpoints


@dataclass(frozen=True)
class ToySize:
    """One model of the family: GPT-2 depth and width, how many optimiser steps it gets, and (optionally) its own
    peak learning rate, which replaces the plan's width-scaled one."""

    n_layer: int
    n_embd: int
    steps: int
    prefix: str = "toy"
    learning_rate: float | None = None

    @property
    def name(self) -> str:
        """``<prefix>-<layers>x<width>``, e.g. ``toy-2x64``."""
        return f"{self.prefix}-{self.n_layer}x{self.n_embd}"

    @property
    def n_head(self) -> int:
        return max(1, self.n_embd // 32)


@dataclass(frozen=True)
class TrainingPlan:
    """Everything besides the size that decides a checkpoint; a cached model is reused only when it matches."""

    tasks: tuple[str, ...] = DEMO_TASKS
    seed: int = 0
    sequences_per_task: int = 4096  # 2-shot training sequences (3 problems each) per task
    batch_size: int = 32
    learning_rate: float = 1e-2  # peak, for models up to `base_width` wide; wider ones get lr * base_width / width
    # 32: at 1e-2 the 2x64 trained erratically (final loss 0.09-0.84 over seeds 0-3 on CPU, and 0.45 on CUDA where
    # CPU gave 0.29 for seed 0); at the width-scaled 5e-3 it reached 0.05-0.10 on all four seeds.
    base_width: int = 32
    warmup_fraction: float = 0.05
    format_version: int = FORMAT_VERSION


# Eight sizes, ~2.7e3 to ~4.3e5 parameters (2.2 orders of magnitude). Compute rule: every size sees the same
# training sequences for the same steps (as GPT-3's and Pythia's sizes see the same tokens), so compute grows
# with parameters; the peak learning rate follows one rule (`size_learning_rate`).
DEMO_SIZES = tuple(
    ToySize(layers, width, 3000)
    for layers, width in ((1, 8), (1, 12), (1, 16), (2, 24), (2, 32), (2, 48), (2, 64), (2, 128))
)
QUICK_SIZES = (
    ToySize(1, 8, 60, prefix="quick"),
    ToySize(2, 64, 60, prefix="quick"),
)
QUICK_PLAN = TrainingPlan(sequences_per_task=1024)
DEMO_FAMILY, QUICK_FAMILY = "toy", "toy-quick"
# Intermediate checkpoints of the largest size's own run (as Pythia's stepN revisions), log-spaced:
# np.geomspace(50, 3000, 6) to two significant digits, the last being the size's final checkpoint itself.
DEMO_SNAPSHOT_STEPS = {DEMO_SIZES[-1].name: (50, 110, 260, 590, 1300)}
QUICK_SNAPSHOT_STEPS = {QUICK_SIZES[-1].name: (10, 30)}
DEMO_STEPS_FAMILY, QUICK_STEPS_FAMILY = "toy-steps", "toy-quick-steps"
# Intermediate checkpoints of the largest size's own run (as Pythia's stepN revisions), log-spaced:
# np.geomspace(50, 3000, 6) to two significant digits, the last being the size's final checkpoint itself.
DEMO_SNAPSHOT_STEPS = {DEMO_SIZES[-1].name: (50, 110, 260, 590, 1300)}
QUICK_SNAPSHOT_STEPS = {QUICK_SIZES[-1].name: (10, 30)}
DEMO_STEPS_FAMILY, QUICK_STEPS_FAMILY = "toy-steps", "toy-quick-steps"


def char_tokenizer():
    """A character-level ``PreTrainedTokenizerFast`` (built offline with ``tokenizers``) over printable ASCII.

    Token 0 is ``<|endoftext|>`` (beginning, end, padding and unknown); every other
    token is one character, and decoding concatenates them.

    >>> tok = char_tokenizer()
    >>> tok.convert_ids_to_tokens(tok("12\\n")["input_ids"])
    ['1', '2', '\\n']
    >>> tok.decode(tok("é")["input_ids"], skip_special_tokens=False)
    '<|endoftext|>'
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {END_OF_TEXT: 0, **{ch: i + 1 for i, ch in enumerate(ALPHABET)}}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token=END_OF_TEXT))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tokenizer.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=END_OF_TEXT,
        eos_token=END_OF_TEXT,
        unk_token=END_OF_TEXT,
        pad_token=END_OF_TEXT,
        model_max_length=CONTEXT_LENGTH,
    )


def training_sequence(problems: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """One training text: the last problem's 2-shot prompt (the others are its exemplars), its answer and a newline.

    The text is ``format_prompt(problems[:-1], problems[-1]) + " " + answer + "\\n"``,
    character for character what lm-eval shows the model plus the gold continuation.
    Also returns the ``(start, end)`` character spans that carry the loss: each
    answer with its leading space and the character after it (which ends the answer).

    >>> text, spans = training_sequence([{"a": 1, "b": 2, "operator": "+"}, {"a": 30, "b": 4, "operator": "+"}])
    >>> print(text)
    Q: What is 1 plus 2? A: 3
    <BLANKLINE>
    Q: What is 30 plus 4? A: 34
    <BLANKLINE>
    >>> [text[start:end] for start, end in spans]
    [' 3\\n', ' 34\\n']
    """
    if not problems:
        raise ValueError("problems is empty; pass at least one problem dict (a, b, operator)")
    text, spans = "", []
    for index, problem in enumerate(problems):
        example = arithmetic.format_example(problem)
        answer_chars = len(example) - len(arithmetic.format_question(problem))  # delimiter + answer
        text += example
        spans.append((len(text) - answer_chars, len(text) + 1))
        text += arithmetic.FEWSHOT_DELIMITER if index < len(problems) - 1 else "\n"
    return text, spans


@dataclass
class TrainingData:
    """Token ids of training sequences, right-padded to one length; ``labels`` is -100 off the answer spans."""

    input_ids: np.ndarray
    labels: np.ndarray
    lengths: np.ndarray


def encode_training_data(tasks, num_sequences: int, seed: int, tokenizer, num_shots: int = 2) -> TrainingData:
    """``num_sequences`` 2-shot training sequences per task, from ``arithmetic.training_problems``, shuffled.

    Characters map to ids through ``tokenizer``'s own vocabulary (the character
    tokenizer of :func:`char_tokenizer`; a lookup table is much faster than
    running the tokenizer on every text).

    >>> tokenizer = char_tokenizer()
    >>> data = encode_training_data(["2da"], 4, seed=0, tokenizer=tokenizer)
    >>> data.input_ids.shape[0], bool((data.labels[:, :20] == -100).all())
    (4, True)
    >>> text = tokenizer.decode(data.input_ids[0, : data.lengths[0]])
    >>> tokenizer(text)["input_ids"] == data.input_ids[0, : data.lengths[0]].tolist()
    True
    """
    if num_sequences < 1:
        raise ValueError(f"num_sequences={num_sequences} must be a positive integer")
    per_sequence = num_shots + 1
    sequences = []
    for task in tasks:
        problems = arithmetic.training_problems(task, num_sequences * per_sequence, seed=seed)
        sequences += [training_sequence(problems[i : i + per_sequence]) for i in range(0, len(problems), per_sequence)]
    sequences = [sequences[i] for i in np.random.default_rng(seed).permutation(len(sequences))]
    lengths = np.array([len(text) for text, _ in sequences])
    if lengths.max() > CONTEXT_LENGTH:
        raise ValueError(
            f"tasks={list(tasks)}: a training sequence has {lengths.max()} characters, more than the "
            f"{CONTEXT_LENGTH} positions of the demo models; choose tasks with shorter prompts"
        )
    char_ids = np.full(128, tokenizer.unk_token_id, dtype=np.int64)
    for token, index in tokenizer.get_vocab().items():
        if len(token) == 1 and ord(token) < 128:
            char_ids[ord(token)] = index
    input_ids = np.full((len(sequences), lengths.max()), tokenizer.pad_token_id, dtype=np.int64)
    labels = np.full_like(input_ids, -100)
    for row, (text, spans) in enumerate(sequences):
        input_ids[row, : len(text)] = char_ids[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]
        for start, end in spans:
            labels[row, start:end] = input_ids[row, start:end]
    return TrainingData(input_ids, labels, lengths)


def model_config(size: ToySize, tokenizer):
    """The ``GPT2Config`` of ``size``: character vocabulary, 128 positions, no dropout.

    >>> model_config(ToySize(2, 64, 1), char_tokenizer()).n_head
    2
    """
    from transformers import GPT2Config

    return GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=CONTEXT_LENGTH,
        n_embd=size.n_embd,
        n_layer=size.n_layer,
        n_head=size.n_head,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def size_learning_rate(size: ToySize, plan: TrainingPlan) -> float:
    """The peak learning rate of ``size``: its own when set, else ``plan.learning_rate``, scaled down for widths above
    ``plan.base_width`` (Adam: smaller steps when wider).

    >>> plan = TrainingPlan(learning_rate=1e-2, base_width=64)
    >>> [size_learning_rate(ToySize(2, width, 1), plan) for width in (32, 128)]
    [0.01, 0.005]
    >>> size_learning_rate(ToySize(2, 128, 1, learning_rate=3e-3), plan)
    0.003
    """
    if size.learning_rate is not None:
        return size.learning_rate
    return plan.learning_rate * min(1.0, plan.base_width / size.n_embd)


def _learning_rate_factor(step: int, total: int, warmup_fraction: float) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak.

    >>> [round(_learning_rate_factor(s, 100, 0.1), 2) for s in (0, 9, 10, 55, 99)]
    [0.1, 1.0, 1.0, 0.54, 0.1]
    """
    warmup = max(1, int(total * warmup_fraction))
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup - 1)
    return 0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, progress)))


def _batch_picks(size: ToySize, plan: TrainingPlan, data: TrainingData) -> np.ndarray:
    """The training sequences of every step: ``(size.steps, plan.batch_size)`` row indices, drawn with replacement."""
    return np.random.default_rng(plan.seed).integers(0, len(data.lengths), size=(size.steps, plan.batch_size))


def training_tokens(size: ToySize, plan: TrainingPlan, data: TrainingData) -> np.ndarray:
    """Tokens the model has read after each step (``[i]``: after step ``i + 1``): the lengths of its batches'
    sequences without padding, summed.

    >>> data = TrainingData(np.zeros((2, 5)), np.zeros((2, 5)), np.array([3, 5]))
    >>> tokens = training_tokens(ToySize(1, 8, 4), TrainingPlan(batch_size=2), data)
    >>> len(tokens), bool((np.diff(tokens) >= 6).all() and tokens[-1] <= 4 * 2 * 5)
    (4, True)
    """
    return np.cumsum(data.lengths[_batch_picks(size, plan, data)].sum(axis=1))


def train_toy_model(
    size: ToySize,
    plan: TrainingPlan,
    data: TrainingData,
    tokenizer,
    device: str = "cpu",
    progress: bool = True,
    position: int = 0,
    snapshot_steps=(),
    on_snapshot=None,
):
    """Train a fresh GPT-2 of ``size`` on ``data`` (seeded by ``plan.seed``); returns ``(model, final_loss)``.

    Each step draws ``plan.batch_size`` sequences (with replacement, seeded) and
    minimises the cross-entropy of the answer characters. After each step ``n`` in
    ``snapshot_steps``, ``on_snapshot(n, model, smoothed_loss)`` sees the model of that
    step (Pythia's intermediate checkpoints: the same run, its schedule unchanged, and
    saving it changes none of the later steps).
    """
    import torch

    threads = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(1)  # these matrices are too small to split; extra threads only contend for cores
    try:
        return _train(size, plan, data, tokenizer, device, progress, position, set(snapshot_steps), on_snapshot)
    finally:
        torch.set_num_threads(threads)


def _train(
    size: ToySize,
    plan: TrainingPlan,
    data: TrainingData,
    tokenizer,
    device: str,
    progress: bool,
    position: int,
    snapshot_steps: set,
    on_snapshot,
):
    import torch
    from tqdm.auto import tqdm
    from transformers import GPT2LMHeadModel

    torch.manual_seed(plan.seed)
    model = GPT2LMHeadModel(model_config(size, tokenizer)).to(device)
    model.loss_type = "ForCausalLM"  # the default loss, named so that transformers does not warn that it guessed
    learning_rate = size_learning_rate(size, plan)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, betas=(0.9, 0.98), weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: _learning_rate_factor(step, size.steps, plan.warmup_fraction)
    )
    picks = _batch_picks(size, plan, data)
    input_ids, labels = torch.from_numpy(data.input_ids), torch.from_numpy(data.labels)
    # Right padding: the mask changes no answer position's attention (causal), it only says which ids are padding.
    attention_mask = torch.from_numpy(np.arange(input_ids.shape[1]) < data.lengths[:, None]).long()
    model.train()
    bar = tqdm(
        range(size.steps), desc=f"train {size.name}", unit="step", disable=not progress, leave=False, position=position
    )
    smoothed = float("nan")
    for step in bar:
        rows = torch.from_numpy(picks[step])
        width = int(data.lengths[picks[step]].max())
        batch_ids = input_ids[rows, :width].to(device)
        batch_labels = labels[rows, :width].to(device)
        batch_mask = attention_mask[rows, :width].to(device)
        loss = model(input_ids=batch_ids, attention_mask=batch_mask, labels=batch_labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        schedule.step()
        value = loss.item()
        smoothed = value if math.isnan(smoothed) else 0.95 * smoothed + 0.05 * value
        bar.set_postfix(loss=f"{smoothed:.3f}", refresh=False)
        if step + 1 in snapshot_steps:
            on_snapshot(step + 1, model, smoothed)
    model.eval()
    return model.cpu(), smoothed


TRAINING_FILE = "toy_training.json"
WEIGHTS_FILE = "model.safetensors"
#: Checkpoints that ship with the package, one folder per size, each exactly as :func:`build_family` saved it.
SHIPPED_DIR = Path(__file__).resolve().parent / "toy_checkpoints"


def _recipe(size: ToySize, plan: TrainingPlan, step: int | None = None) -> dict:
    """What decides a checkpoint: size and plan, and for an intermediate checkpoint of the same run its ``step``."""
    recipe = {"size": asdict(size), "plan": asdict(plan), **({} if step is None else {"step": step})}
    return json.loads(json.dumps(recipe))


def snapshot_name(size: ToySize, step: int) -> str:
    """The folder and model name of ``size``'s checkpoint after ``step`` steps of its own run.

    >>> snapshot_name(ToySize(2, 128, 3000), 50)
    'toy-2x128-step50'
    """
    return f"{size.name}-step{step}"


def _cached(folder: Path, recipe: dict) -> dict | None:
    """The training record of ``folder`` when it holds a checkpoint trained with ``recipe``, else None."""
    try:
        record = json.loads((folder / TRAINING_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if record.get("recipe") == recipe else None


def _save(model, tokenizer, folder: Path, recipe: dict, summary: dict) -> dict:
    """Write one checkpoint atomically (temporary folder renamed into place); its summary with the weights' sha256."""
    work = new_beside(folder, "tmp", folder=True)
    model.save_pretrained(work)
    tokenizer.save_pretrained(work)
    summary = {**summary, "sha256": file_digest(work / WEIGHTS_FILE)}
    (work / TRAINING_FILE).write_text(json.dumps({"recipe": recipe, "summary": summary}, indent=2), encoding="utf-8")
    _swap_in(work, folder)
    return summary


def _train_and_save(
    size: ToySize,
    plan: TrainingPlan,
    models_dir: Path,
    device: str,
    progress: bool,
    position: int = 0,
    snapshot_steps=(),
) -> dict:
    """Train one size and write its checkpoint, and one per step of ``snapshot_steps`` (summaries under
    ``"snapshots"``, in step order)."""
    import time

    import torch

    tokenizer = char_tokenizer()
    data = encode_training_data(plan.tasks, plan.sequences_per_task, plan.seed, tokenizer)
    tokens = training_tokens(size, plan, data)
    started = time.monotonic()

    def summary_at(name: str, step: int, model, loss: float) -> dict:
        return {
            "name": name,
            "params": int(sum(p.numel() for p in model.parameters())),
            "step": step,
            "tokens": int(tokens[step - 1]),
            "final_loss": round(loss, 4),
            "train_seconds": round(time.monotonic() - started, 1),
            "device": device,
            "torch": torch.__version__,
        }

    snapshots = []

    def save_snapshot(step: int, model, loss: float) -> None:
        name = snapshot_name(size, step)
        summary = summary_at(name, step, model, loss)
        snapshots.append(_save(model, tokenizer, models_dir / name, _recipe(size, plan, step), summary))

    model, final_loss = train_toy_model(
        size,
        plan,
        data,
        tokenizer,
        device=device,
        progress=progress,
        position=position,
        snapshot_steps=snapshot_steps,
        on_snapshot=save_snapshot,
    )
    summary = summary_at(size.name, size.steps, model, final_loss)
    summary = _save(model, tokenizer, models_dir / size.name, _recipe(size, plan), summary)
    return {**summary, "snapshots": snapshots} if snapshot_steps else summary


def _swap_in(work: Path, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    work.rename(folder)


def _shipped(folder: Path, recipe: dict) -> dict | None:
    """The training record of a shipped checkpoint trained with ``recipe``, after checking its weights' sha256."""
    record = _cached(folder, recipe)
    if record is None:
        return None
    if file_digest(folder / WEIGHTS_FILE) != record["summary"].get("sha256"):
        raise ValueError(
            f"{folder / WEIGHTS_FILE} does not match the sha256 in its {TRAINING_FILE}; reinstall mirage-metrics "
            "or train the family from scratch with `mirage demo --retrain`"
        )
    return record


def _copy_shipped(folder: Path, models_dir: Path) -> None:
    """Copy a shipped checkpoint folder into ``models_dir`` (through a temporary folder renamed into place)."""
    work = new_beside(models_dir / folder.name, "tmp", folder=True)
    shutil.copytree(folder, work, dirs_exist_ok=True)
    _swap_in(work, models_dir / folder.name)


def default_workers(device: str) -> int:
    """Models trained at once: one per CPU core (at most 2, each single-threaded) on CPU; one on a GPU.

    >>> default_workers("cuda")
    1
    """
    return max(1, min(2, os.cpu_count() or 1)) if device == "cpu" else 1


def _reusable(name: str, recipe: dict, models_dir: Path, shipped_dir: Path | None) -> tuple[dict, Path | None] | None:
    """``(summary with its source, shipped folder to copy or None)`` when the checkpoint ``name`` of ``recipe`` is
    cached in ``models_dir`` or ships in ``shipped_dir`` (its sha256 checked), else None."""
    cached = _cached(models_dir / name, recipe)
    if cached is not None:
        return {**cached["summary"], "source": "cached"}, None
    shipped = None if shipped_dir is None else _shipped(Path(shipped_dir) / name, recipe)
    return None if shipped is None else ({**shipped["summary"], "source": "shipped"}, Path(shipped_dir) / name)


def _checked_snapshots(sizes, snapshots) -> dict[str, tuple[int, ...]]:
    """``snapshots`` (size name -> steps) checked: sizes of ``sizes``, increasing steps inside each size's run."""
    steps_by_size = {size.name: size.steps for size in sizes}
    checked = {}
    for name, steps in (snapshots or {}).items():
        steps = tuple(steps)
        if name not in steps_by_size:
            raise ValueError(f"snapshots: {name!r} is not one of the sizes ({', '.join(steps_by_size)})")
        total = steps_by_size[name]
        if (
            not steps
            or list(steps) != sorted(set(steps))
            or not all(isinstance(step, int) and 0 < step < total for step in steps)
        ):
            raise ValueError(
                f"snapshots[{name!r}]={list(steps)} must be increasing steps between 1 and {total - 1} "
                f"(step {total}, the end of the run, is the size's own checkpoint)"
            )
        checked[name] = steps
    return checked


def build_family(
    models_dir,
    sizes=DEMO_SIZES,
    plan: TrainingPlan = TrainingPlan(),
    device: str = "cpu",
    progress: bool = True,
    workers: int = 1,
    shipped_dir: Path | None = SHIPPED_DIR,
    retrain: bool = False,
    snapshots=None,
) -> list[dict]:
    """Train (or reuse) every size into ``models_dir``; one record per size, in the order of ``sizes``.

    A size is reused when ``models_dir`` already holds its checkpoint trained with the
    same recipe (``source`` "cached"), copied from ``shipped_dir`` when that holds one
    (``source`` "shipped": the package's own checkpoints, produced by this function with
    the same recipe; their sha256 is checked), and trained otherwise ("trained");
    ``retrain`` trains every size from scratch. A record has ``name``, ``path``,
    ``params``, ``final_loss``, ``train_seconds``, ``sha256`` (of the weights) and
    ``source``, and from checkpoints trained by this version ``step`` and ``tokens``
    (training tokens read, padding aside). ``snapshots`` maps a size's name to steps
    of its own run at which it also saves a checkpoint, ``<name>-step<N>`` (as Pythia's
    intermediate checkpoints: the same run, so the last one is the size's checkpoint);
    that size's record lists their records, in step order, under ``"snapshots"``, and the
    size is reused only when all of its checkpoints are. With ``workers`` > 1 the models
    train in that many processes at once, largest first; every model is seeded, so the
    checkpoints do not depend on ``workers``. An interrupted run never leaves a
    half-written model behind.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    if not sizes:
        raise ValueError("sizes is empty; pass at least one ToySize")
    if workers < 1:
        raise ValueError(f"workers={workers} must be at least 1")
    snapshots = _checked_snapshots(sizes, snapshots)
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    summaries, todo = {}, []
    for size in sizes:
        steps = snapshots.get(size.name, ())
        wanted = [(size.name, _recipe(size, plan))]
        wanted += [(snapshot_name(size, step), _recipe(size, plan, step)) for step in steps]
        reused = [None] if retrain else [_reusable(name, recipe, models_dir, shipped_dir) for name, recipe in wanted]
        if any(item is None for item in reused):
            todo.append(size)
            continue
        for _, shipped in reused:
            if shipped is not None:
                _copy_shipped(shipped, models_dir)
        summary = reused[0][0]
        summaries[size.name] = {**summary, "snapshots": [item[0] for item in reused[1:]]} if steps else summary
    todo.sort(key=lambda size: size.steps * size.n_layer * size.n_embd**2, reverse=True)  # longest first
    bar = tqdm(total=len(todo), desc="train demo family", unit="model", disable=not (progress and todo))

    def trained(summary: dict) -> dict:
        with_source = {**summary, "source": "trained"}
        if "snapshots" in summary:
            with_source["snapshots"] = [{**each, "source": "trained"} for each in summary["snapshots"]]
        return with_source

    if workers == 1 or len(todo) < 2:
        for size in todo:
            steps = snapshots.get(size.name, ())
            summaries[size.name] = trained(_train_and_save(size, plan, models_dir, device, progress, 1, steps))
            bar.update()
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(workers, len(todo)), mp_context=context) as pool:
            jobs = {
                pool.submit(
                    _train_and_save, size, plan, models_dir, device, progress, index + 1, snapshots.get(size.name, ())
                ): size
                for index, size in enumerate(todo)
            }
            for job in as_completed(jobs):
                summaries[jobs[job].name] = trained(job.result())
                bar.update()
    bar.close()

    def located(summary: dict) -> dict:
        return {**summary, "path": str((models_dir / summary["name"]).resolve())}

    records = []
    for size in sizes:
        record = located(summaries[size.name])
        if "snapshots" in record:
            record["snapshots"] = [located(each) for each in record["snapshots"]]
        records.append(record)
    return records


def training_steps_records(record: dict, size: ToySize) -> list[dict]:
    """The checkpoints of ``size``'s run in step order: its snapshots (``record["snapshots"]``, from
    :func:`build_family`), then its own checkpoint at step ``size.steps``.

    >>> final = {"name": "toy-1x8", "path": "/m/a", "params": 5, "snapshots": [{"name": "toy-1x8-step2", "step": 2}]}
    >>> [(r["name"], r["step"]) for r in training_steps_records(final, ToySize(1, 8, 3))]
    [('toy-1x8-step2', 2), ('toy-1x8', 3)]
    """
    final = {key: value for key, value in record.items() if key != "snapshots"}
    return [*record.get("snapshots", []), {**final, "step": size.steps}]


def family_yaml(records: list[dict], name: str = "toy") -> str:
    """A ``mirage sweep --family-file`` document for ``records`` (from :func:`build_family`), with each
    model's training ``step`` and ``tokens`` where its record has them.

    >>> print(family_yaml([{"name": "toy-1x8", "path": "/m/toy-1x8", "params": 2048, "step": 3}]), end="")
    name: toy
    models:
    - name: toy-1x8
      path: /m/toy-1x8
      params: 2048
      step: 3
    """
    import yaml

    models = [
        {
            "name": r["name"],
            "path": r["path"],
            "params": int(r["params"]),
            **{key: int(r[key]) for key in ("step", "tokens") if r.get(key) is not None},
        }
        for r in records
    ]
    return yaml.safe_dump({"name": name, "models": models}, sort_keys=False)
