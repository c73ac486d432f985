"""Arithmetic problems of the paper's first experiment, generated offline and deterministically.

Operands are integers drawn uniformly from ``[0, 10**digits)``, as in the GPT-3
arithmetic tasks (Brown et al. 2020) that Schaeffer et al. re-score; prompts use
GPT-3's phrasing, ``Q: What is 48 plus 76? A: 124``.

Every operand pair of a task belongs to exactly one split, fixed by a hash of the
pair (not by the seed): ``test`` (75% of pairs), ``train`` (20%) and ``shots``
(5%). Evaluation problems, training problems and few-shot exemplars therefore
never share a problem, whatever seeds and counts are asked for. Within a split,
problems are drawn uniformly with replacement from a PCG64 stream seeded by
``(seed, task, split)``; the raw 64-bit stream is stable across numpy versions
and machines, so the same seed gives the same problems everywhere.

>>> problems = generate_problems("2dm", num_problems=3, seed=0)
>>> [p["question"] for p in problems] == [format_question(p) for p in problems]
True
>>> print(format_prompt(shot_pool("4da", 2), problems[0]).count("Q: What is"))
3
>>> example = format_example({"a": 48, "b": 76, "operator": "+"})
>>> example
'Q: What is 48 plus 76? A: 124'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ARITH_TASKS",
    "DEFAULT_SEED",
    "DEFAULT_NUM_PROBLEMS",
    "FEWSHOT_DELIMITER",
    "TARGET_DELIMITER",
    "ArithTask",
    "generate_problems",
    "training_problems",
    "shot_pool",
    "format_question",
    "format_example",
    "format_prompt",
    "problem_set_id",
    "STOP_SEQUENCE",
    "stop_texts",
    "MAX_ANSWER_LENGTH",
    "answer_token_ends",
]

DEFAULT_SEED = 1234
DEFAULT_NUM_PROBLEMS = 1000
DEFAULT_SHOT_POOL = 64
TARGET_DELIMITER = " "  # between "A:" and the answer, as lm-eval's target_delimiter
FEWSHOT_DELIMITER = "\n\n"  # between solved examples, as lm-eval's fewshot_delimiter
STOP_SEQUENCE = "\n"  # the generation tasks' `until`: an answer ends at the first newline

_SPLIT_BUCKETS = 20  # shots: bucket 0; train: buckets 1-4; test: buckets 5-19
_SPLIT_CODES = {"test": 0, "train": 1, "shots": 2}
_OPERATIONS = {"+": ("plus", np.add), "*": ("times", np.multiply)}


@dataclass(frozen=True)
class ArithTask:
    """One arithmetic task: ``digits``-digit operands combined by ``operator`` (``+`` or ``*``)."""

    name: str
    operator: str
    digits: int

    @property
    def code(self) -> int:
        """A stable integer naming the task inside the random seed."""
        return 10 * self.digits + (1 if self.operator == "+" else 2)


ARITH_TASKS: dict[str, ArithTask] = {
    "2dm": ArithTask("2dm", "*", 2),
    **{f"{d}da": ArithTask(f"{d}da", "+", d) for d in range(1, 6)},
}


def _task(task: str) -> ArithTask:
    if task not in ARITH_TASKS:
        raise ValueError(f"task={task!r} is not an arithmetic task; choose one of {list(ARITH_TASKS)}")
    return ARITH_TASKS[task]


def _check_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive integer")
    return int(value)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r} must be a non-negative integer")
    return int(seed)


def _split_of_pairs(spec: ArithTask, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The split code of each operand pair: a splitmix64 hash of the pair, fixed for ever."""
    with np.errstate(over="ignore"):
        z = (a.astype(np.uint64) * np.uint64(10**spec.digits) + b.astype(np.uint64)) ^ np.uint64(spec.code << 40)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    bucket = z % np.uint64(_SPLIT_BUCKETS)
    return np.where(bucket == 0, _SPLIT_CODES["shots"], np.where(bucket <= 4, _SPLIT_CODES["train"], 0))


def _split_size(spec: ArithTask, split: str) -> int | None:
    """How many operand pairs ``split`` holds, for spaces small enough to count (else None: unbounded in practice)."""
    if spec.digits > 3:
        return None
    a, b = np.divmod(np.arange(10 ** (2 * spec.digits)), 10**spec.digits)
    return int(np.sum(_split_of_pairs(spec, a, b) == _SPLIT_CODES[split]))


def _draw_pairs(spec: ArithTask, split: str, count: int, seed: int, distinct: bool) -> tuple[np.ndarray, np.ndarray]:
    """``count`` operand pairs of ``split`` (fewer when ``distinct`` and the split is smaller)."""
    generator = np.random.PCG64(np.random.SeedSequence([seed, spec.code, _SPLIT_CODES[split]]))
    modulus = np.uint64(10**spec.digits)
    split_size = _split_size(spec, split) if distinct else None
    wanted = count if split_size is None else min(count, split_size)
    chosen_a, chosen_b, seen = [], [], set()
    total = 0
    while total < wanted:
        raw = generator.random_raw(2 * max(64, 2 * (wanted - total))).reshape(-1, 2)
        a, b = raw[:, 0] % modulus, raw[:, 1] % modulus
        keep = _split_of_pairs(spec, a, b) == _SPLIT_CODES[split]
        a, b = a[keep].astype(np.int64), b[keep].astype(np.int64)
        if distinct:
            fresh = [i for i, pair in enumerate(zip(a.tolist(), b.tolist())) if not (pair in seen or seen.add(pair))]
            a, b = a[fresh], b[fresh]
        a, b = a[: wanted - total], b[: wanted - total]
        chosen_a.append(a)
        chosen_b.append(b)
        total += len(a)
    return np.concatenate(chosen_a), np.concatenate(chosen_b)


def format_question(problem: dict) -> str:
    """The question of a problem, ending right before the target delimiter and answer.

    >>> format_question({"a": 7, "b": 12, "operator": "*"})
    'Q: What is 7 times 12? A:'
    """
    return f"Q: What is {problem['a']} {_OPERATIONS[problem['operator']][0]} {problem['b']}? A:"


def _answer(problem: dict) -> str:
    return str(_OPERATIONS[problem["operator"]][1](int(problem["a"]), int(problem["b"])))


def format_example(problem: dict) -> str:
    """One solved example, exactly as it appears among the few-shot exemplars (and in training text).

    >>> format_example({"a": 24, "b": 42, "operator": "*"})
    'Q: What is 24 times 42? A: 1008'
    """
    return format_question(problem) + TARGET_DELIMITER + _answer(problem)


def format_prompt(shots: list[dict], problem: dict) -> str:
    """The prompt lm-eval renders for ``problem`` after the exemplars ``shots``, ending right before the answer.

    A model continues it with ``" " + answer`` (lm-eval's target delimiter).

    >>> print(format_prompt([{"a": 1, "b": 2, "operator": "+"}], {"a": 3, "b": 4, "operator": "+"}))
    Q: What is 1 plus 2? A: 3
    <BLANKLINE>
    Q: What is 3 plus 4? A:
    """
    return FEWSHOT_DELIMITER.join([format_example(shot) for shot in shots] + [format_question(problem)])


def _problems(spec: ArithTask, split: str, a: np.ndarray, b: np.ndarray) -> list[dict]:
    answers = _OPERATIONS[spec.operator][1](a, b)
    problems = []
    for index, (x, y, answer) in enumerate(zip(a.tolist(), b.tolist(), answers.tolist())):
        problem = {
            "id": f"{spec.name}-{split}-{index}",
            "task": spec.name,
            "a": x,
            "b": y,
            "operator": spec.operator,
            "digits": spec.digits,
            "answer": str(answer),
        }
        problem["question"] = format_question(problem)
        problem["answer_length"] = len(problem["answer"])
        problems.append(problem)
    return problems


def _longest_answer(spec: ArithTask) -> int:
    largest = 10**spec.digits - 1
    return len(_answer({"a": largest, "b": largest, "operator": spec.operator}))


#: Characters of the longest answer of any task (5da: 99999 + 99999 = 199998).
MAX_ANSWER_LENGTH = max(_longest_answer(spec) for spec in ARITH_TASKS.values())


def generate_problems(task: str, num_problems: int = DEFAULT_NUM_PROBLEMS, seed: int = DEFAULT_SEED) -> list[dict]:
    """The evaluation problems of ``task``: dicts with ``id, task, a, b, operator, digits, question, answer,
    answer_length``, drawn uniformly (with replacement) from the task's test split.

    >>> first = generate_problems("4da", num_problems=2, seed=7)
    >>> first == generate_problems("4da", num_problems=2, seed=7)
    True
    >>> int(first[0]["answer"]) == first[0]["a"] + first[0]["b"]
    True
    """
    spec = _task(task)
    a, b = _draw_pairs(spec, "test", _check_count(num_problems, "num_problems"), _check_seed(seed), distinct=False)
    return _problems(spec, "test", a, b)


def training_problems(task: str, num_problems: int, seed: int = DEFAULT_SEED) -> list[dict]:
    """Problems for training (drawn with replacement from the train split), disjoint from test problems and shots.

    >>> test_pairs = {(p["a"], p["b"]) for p in generate_problems("1da", 500)}
    >>> train_pairs = {(p["a"], p["b"]) for p in training_problems("1da", 500, seed=3)}
    >>> test_pairs & train_pairs
    set()
    """
    spec = _task(task)
    a, b = _draw_pairs(spec, "train", _check_count(num_problems, "num_problems"), _check_seed(seed), distinct=False)
    return _problems(spec, "train", a, b)


def shot_pool(task: str, num_shots: int = DEFAULT_SHOT_POOL, seed: int = DEFAULT_SEED) -> list[dict]:
    """Distinct few-shot exemplars from the shots split (fewer than ``num_shots`` if the split is smaller).

    >>> len(shot_pool("4da", 5)), len(shot_pool("1da")) < 10
    (5, True)
    """
    spec = _task(task)
    a, b = _draw_pairs(spec, "shots", _check_count(num_shots, "num_shots"), _check_seed(seed), distinct=True)
    return _problems(spec, "shots", a, b)


def problem_set_id(problems: list[dict]) -> str:
    """A short sha256 fingerprint of a problem list (operands, operator and answers, in order).

    >>> problem_set_id(generate_problems("2dm", 10)) == problem_set_id(generate_problems("2dm", 10))
    True
    """
    digest = hashlib.sha256()
    for problem in problems:
        digest.update(f"{problem['a']}{problem['operator']}{problem['b']}={problem['answer']}\n".encode())
    return digest.hexdigest()[:16]


def stop_texts(tokenizer=None) -> list[str]:
    """Texts that, written right after an answer, end a generation (``until: ["\\n"]``) exactly at the answer, each
    a single token of ``tokenizer``, so that "answer, then this token" are disjoint events whose probabilities add up.

    With a Hugging Face tokenizer: the text of every vocabulary token that starts with a newline and follows a number
    as one token of its own (GPT-2's BPE: ``"\\n"``, ``"\\n\\n"`` and longer runs, each a distinct token; a character
    tokenizer: ``"\\n"`` alone, since ``"\\n\\n"`` is two ``"\\n"`` tokens, an event inside the first), then the
    end-of-text token's text when the tokenizer reads it as that token. Without one: ``["\\n"]``, exact only for
    tokenizers where that is the sole newline-initial token and end-of-text is never sampled after an answer.

    >>> stop_texts()
    ['\\n']
    """
    if tokenizer is None:
        return [STOP_SEQUENCE]
    probe = "A: 12"  # digits, then the stop: where every answer's stop is written

    def ids(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    before = ids(probe)
    texts = tokenizer.batch_decode([[token] for token in range(len(tokenizer))])
    stops = [
        text
        for token, text in enumerate(texts)
        if text.startswith(STOP_SEQUENCE) and ids(probe + text) == before + [token]
    ]
    eos_text, eos_id = tokenizer.eos_token, tokenizer.eos_token_id
    if eos_text and eos_text not in stops and ids(probe + eos_text) == before + [eos_id]:
        stops.append(eos_text)
    return stops


def answer_token_ends(answer: str, tokenizer=None) -> list[int]:
    """The numbers n of leading answer characters at which ``tokenizer``'s tokens of ``" " + answer`` end: those
    n for which ``"A: " + answer[:n]`` tokenizes to the first tokens of ``"A: " + answer``, so that lm-eval, scoring
    ``" " + answer[:n]`` after a prompt ending ``A:``, scores exactly those leading tokens of the answer.

    Every n (1 .. len(answer)) for a character-level or digit-splitting tokenizer, and without a tokenizer; only
    where tokens end for a BPE that merges digits (one with a ``" 98"`` token gives ``[2, 3, 4]`` for ``"9801"``).
    The last is always ``len(answer)``.

    >>> answer_token_ends("1222")
    [1, 2, 3, 4]
    """
    lengths = range(1, len(answer) + 1)
    if tokenizer is None:
        return list(lengths)
    probe = "A:" + TARGET_DELIMITER
    heads = tokenizer([probe + answer[:n] for n in lengths], add_special_tokens=False)["input_ids"]
    return [n for n, head in zip(lengths, heads) if heads[-1][: len(head)] == head]
