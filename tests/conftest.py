"""Shared helpers and fixtures: the CLIs as subprocesses, tiny offline models and a wheel built once per test
session (shared by the pytest-xdist workers, ``built_once``), lm-eval output folders written with known values, and
where the real data is (``real_data``)."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from filelock import FileLock
from hypothesis import settings

from mirage_metrics.metrics import bigbench_brier_score

REPO_ROOT = Path(__file__).resolve().parents[1]

# Property tests have no per-example deadline (Hypothesis's default is 200 ms): with pytest-xdist workers and lm-eval
# subprocesses sharing the cores, a slow example says nothing about the code.
settings.register_profile("shared-cores", deadline=None)
settings.load_profile("shared-cores")

# --- real data ----------------------------------------------------------------------------------------------------
# The few tests that read real BIG-bench task files or the real Omniglot subset find them in the folder named by
# $MIRAGE_DATA, else in the documented default location, a `shared/data` folder beside the repository checkout
# (README, Tests). Without it they skip with a reason; small BIG-bench-format tasks written by the tests
# (bigbench_fixture_tasks.py) cover every BIG-bench behaviour without real data.
DATA_ENV = "MIRAGE_DATA"
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
BIGBENCH_TASKS = "bigbench/benchmark_tasks"
OMNIGLOT_SUBSET = "omniglot/images_background_small1.zip"


def real_data(relative: str) -> Path:
    """``$MIRAGE_DATA/relative`` (default: the shared/data folder beside the checkout); the calling test skips,
    with a reason, when it is absent, and fails when ``$MIRAGE_DATA`` is set but lacks it."""
    given = os.environ.get(DATA_ENV)
    path = Path(given or DEFAULT_DATA) / relative
    if path.exists():
        return path
    if given:
        pytest.fail(f"{DATA_ENV}={given!r} has no {relative}; see the README's Tests section", pytrace=False)
    pytest.skip(f"real data not found: set {DATA_ENV} to a folder holding {relative} (README, Tests)")


@pytest.fixture(scope="session")
def bigbench_dir() -> Path:
    """The real BIG-bench ``benchmark_tasks`` folder (skips the test when absent)."""
    return real_data(BIGBENCH_TASKS)


@pytest.fixture(scope="session")
def omniglot_zip() -> Path:
    """The real Omniglot subset ``images_background_small1.zip`` (skips the test when absent)."""
    return real_data(OMNIGLOT_SUBSET)


@pytest.fixture(scope="session")
def fixture_bigbench_dir(tmp_path_factory) -> Path:
    """A ``benchmark_tasks`` folder of the small BIG-bench-format tasks of bigbench_fixture_tasks.py."""
    from bigbench_fixture_tasks import write_fixture_tasks

    return write_fixture_tasks(tmp_path_factory.mktemp("bigbench_fixture"))


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


# The CLIs of the interpreter running the tests, wherever it is installed (no venv path assumed).
MIRAGE = [sys.executable, "-m", "mirage_metrics.cli"]
LM_EVAL = [sys.executable, "-m", "lm_eval"]


def run_cli(
    command: list, *, cwd: Path | None = None, env: dict | None = None, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess:
    """Run ``command`` (e.g. ``[*MIRAGE, "report", ...]``) offline with text output captured; with ``check``,
    fail with its output unless it exits 0."""
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=offline_env() if env is None else env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return done


def run_to_results(command: list, out: Path, cwd: Path) -> None:
    """Run an evaluation CLI in ``cwd``; fail unless it exits 0 and writes a results JSON under ``out``."""
    done = run_cli(command, cwd=cwd)
    assert list(out.rglob("results_*.json")), done.stderr[-3000:]


def read_run(out: Path) -> tuple[dict, dict[str, list[dict]]]:
    """lm-eval's results JSON and, per task, its logged samples."""
    (results_file,) = out.rglob("results_*.json")
    samples = {}
    for path in out.rglob("samples_*.jsonl"):
        task = path.name.removeprefix("samples_").rsplit("_", 1)[0]
        samples[task] = [json.loads(line) for line in path.read_text().splitlines()]
    return json.loads(results_file.read_text()), samples


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


def built_once(tmp_path_factory, name: str, build) -> Path:
    """The folder ``name`` filled by ``build(folder)`` once per test session. Under pytest-xdist the first worker to
    ask builds it in the session's temporary folder, above the workers' own, under a file lock; the others wait and
    reuse it. Tests copy what they change: the folder is shared."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    session = tmp_path_factory.getbasetemp().parent
    folder, done = session / name, session / f"{name}.done"
    with FileLock(session / f"{name}.lock"):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a worker that failed half-way left it
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


@functools.cache
def _bigbench_gen_template() -> dict:
    """``tasks/bigbench/_gen_template_yaml`` with its ``!function utils.*`` hooks resolved from the utils.py beside it."""
    folder = REPO_ROOT / "tasks" / "bigbench"
    spec = importlib.util.spec_from_file_location("bigbench_task_utils", folder / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor(
        "!function", lambda loader, node: getattr(utils, loader.construct_scalar(node).split(".")[-1])
    )
    return yaml.load((folder / "_gen_template_yaml").read_text(), Loader=Loader)


def bigbench_gen_scoring(doc: dict, generation: str) -> tuple[str, dict]:
    """What lm-eval logs for one raw generation of a ``mirage_bb_*_gen`` doc: the text it scores
    (``filtered_resps``, from the filters of the gen template's YAML) and the metrics of its ``process_results``."""
    from lm_eval.api.instance import Instance
    from lm_eval.filters import build_filter_ensemble

    template = _bigbench_gen_template()
    instance = Instance("generate_until", doc, ("", {}), 0, resps=[generation])
    for entry in template["filter_list"]:
        steps = [[step["function"], {k: v for k, v in step.items() if k != "function"}] for step in entry["filter"]]
        build_filter_ensemble(entry["name"], steps).apply([instance])
    scored = instance.filtered_resps["none"]
    return scored, template["process_results"](doc, [scored])


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory) -> Path:
    """Folder of a tiny random GPT-2 + BPE tokenizer, loadable by ``AutoModelForCausalLM``."""
    return built_once(tmp_path_factory, "tiny-gpt2", lambda folder: build_tiny_gpt2(folder, TINY_CORPUS))


@pytest.fixture(scope="session")
def tiny_gpt2_pair(tmp_path_factory) -> list[Path]:
    """Two tiny GPT-2 checkpoints of different sizes, for sweeps."""

    def build(root: Path) -> None:
        build_tiny_gpt2(root / "tiny-a", TINY_CORPUS, n_embd=16, seed=1)
        build_tiny_gpt2(root / "tiny-b", TINY_CORPUS, n_embd=32, seed=2)

    root = built_once(tmp_path_factory, "family", build)
    return [root / "tiny-a", root / "tiny-b"]


@pytest.fixture(scope="session")
def tiny_pair_lm_eval_runs(tiny_gpt2_pair, tmp_path_factory) -> Path:
    """The folder ``tiny`` of plain ``lm_eval --log_samples --limit 4`` runs of both ``tiny_gpt2_pair`` checkpoints on
    a generation and a log-likelihood task (one sub-folder per model, as lm-eval names them): the real lm-eval output
    that the report's and the meta-analysis's end-to-end tests read, run once per session."""
    from mirage_metrics.paths import tasks_path

    def run_both(folder: Path) -> None:
        for model in tiny_gpt2_pair:
            run_cli(
                [*LM_EVAL, "--model", "hf", "--model_args", f"pretrained={model}", "--include_path", tasks_path(),
                 "--tasks", "mirage_arith_2dm_gen,mirage_arith_2dm_ll", "--limit", "4", "--device", "cpu",
                 "--output_path", folder / "tiny", "--log_samples"],
                cwd=folder,
            )  # fmt: skip

    return built_once(tmp_path_factory, "lm_eval_runs", run_both) / "tiny"


def _without_build_leftovers(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if "__pycache__" in info.name or ".egg-info" in info.name else info


def _build_wheel(source: Path) -> None:
    """The wheel in ``source/dist`` and pip's verbose log in ``source/pip.log``, from a copy of the source tree."""
    archive = source / "tree.tar"
    with tarfile.open(archive, "w") as tar:
        for part in ("pyproject.toml", "README.md", "LICENSE", "mirage_metrics", "tasks", "vision"):
            tar.add(REPO_ROOT / part, arcname=part, filter=_without_build_leftovers)
    with tarfile.open(archive) as tar:
        tar.extractall(source / "tree", filter="data")
    dist = source / "dist"
    env = offline_env(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    log = run_cli(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "-w", dist, source / "tree"],
        cwd=source,
        env=env,
    ).stdout
    (source / "pip.log").write_text(log)


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory) -> tuple[Path, str]:
    """The non-editable wheel, built without network from a copy of the source tree, and pip's verbose log."""
    source = built_once(tmp_path_factory, "source", _build_wheel)
    (wheel,) = (source / "dist").glob("mirage_metrics-*.whl")
    return wheel, (source / "pip.log").read_text()


# --- lm-eval output folders with known values -------------------------------------------------------------------

DATE = "2026-01-02T03-04-05.678901"
# A four-size family whose generation task has known means: an all-or-nothing jump and a smooth edit distance.
SIZES = [1e8, 1e9, 1e10, 1e11]
C, ALPHA = 2e9, -0.5
N = 10
EXACT_MATCH = [0.0, 0.0, 0.1, 0.9]  # emergence score 0.9 / sqrt(median(0, .01, .64)) = 9
EDIT_DISTANCE = [3.0, 2.0, 1.0, 0.0]  # negated: steps of 1, score 3


def sample_line(doc_id: int, metrics: dict, filter_name: str = "none") -> dict:
    """One line of an lm-eval samples file, as EvaluationTracker.save_results_samples writes it."""
    return {
        "doc_id": doc_id,
        "doc": {"question": f"Q{doc_id}"},
        "target": "42",
        "arguments": {"gen_args_0": {"arg_0": "Q: ...", "arg_1": {"until": ["\n"]}}},
        "resps": [["42"]],
        "filtered_resps": ["42"],
        "filter": filter_name,
        "metrics": list(metrics),
        "doc_hash": "h",
        "prompt_hash": "h",
        "target_hash": "h",
        **metrics,
    }


def write_run(
    folder, samples: dict[str, list[dict]], *, date=DATE, model_name="org/tiny", num_params=None, model_json=None
):
    """An lm-eval results JSON + one samples JSONL per task in ``folder``; aggregates are the sample means."""
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    for task, lines in samples.items():
        keys = {f"{name},{line['filter']}" for line in lines for name in line["metrics"]}
        aggregates = {}
        for key in sorted(keys):
            name, filter_name = key.split(",")
            values = [
                line[name] for line in lines if line["filter"] == filter_name and isinstance(line[name], (int, float))
            ]
            aggregates[key] = float(np.mean(values)) if values else "N/A"
            aggregates[f"{name}_stderr,{filter_name}"] = "N/A"
        results[task] = {"alias": task, "sample_len": len({line["doc_id"] for line in lines}), **aggregates}
        with open(folder / f"samples_{task}_{date}.jsonl", "w") as handle:
            for line in lines:
                handle.write(json.dumps(line) + "\n")
    config = {"model": "hf", "model_args": {"pretrained": model_name}}
    if num_params is not None:
        config["model_num_parameters"] = num_params
    n_samples = {
        task: {"original": 100, "effective": len({line["doc_id"] for line in lines})} for task, lines in samples.items()
    }
    document = {"results": results, "n-samples": n_samples, "config": config, "model_name": model_name}
    (folder / f"results_{date}.json").write_text(json.dumps(document, indent=2))
    if model_json is not None:
        (folder / "model.json").write_text(json.dumps(model_json))


def write_lm_eval_run(folder, model_path: str, params: int | None, samples: dict, model_json: dict | None = None):
    """What `lm_eval --output_path --log_samples` writes: results_<date>.json and samples_<task>_<date>.jsonl."""
    folder.mkdir(parents=True, exist_ok=True)
    results = {
        "results": {},
        "n-samples": {},
        "model_name": model_path,
        "config": {"model": "hf", "model_args": f"pretrained={model_path}", "model_num_parameters": params},
    }
    for task, metrics in samples.items():
        n = len(next(iter(metrics.values())))
        numeric = {m: v for m, v in metrics.items() if not isinstance(v[0], list)}
        means = {
            f"{m},none": float(np.mean(np.array(v)[~np.isnan(v)])) if np.isfinite(v).any() else float("nan")
            for m, v in numeric.items()
        }
        results["results"][task] = {"alias": task, **means}
        for metric, items in metrics.items():  # aggregate-only metrics log (log-likelihoods, target) per sample
            if metric not in numeric:
                results["results"][task][f"{metric},none"] = bigbench_brier_score(*zip(*items))
        results["n-samples"][task] = {"original": n, "effective": n}
        with open(folder / f"samples_{task}_{DATE}.jsonl", "w") as handle:
            for i in range(n):
                record = {
                    "doc_id": i,
                    "doc": {"question": f"q{i}"},
                    "target": "42",
                    "arguments": {},
                    "resps": [["42"]],
                    "filtered_resps": ["42"],
                    "filter": "none",
                    "metrics": list(metrics),
                    **{m: v[i] for m, v in metrics.items()},
                }
                handle.write(json.dumps(record) + "\n")
    (folder / f"results_{DATE}.json").write_text(json.dumps(results))
    if model_json is not None:
        (folder / "model.json").write_text(json.dumps(model_json))


def model_samples(index: int, size: float) -> dict:
    """Samples of one model: a gen task with known means and by-length accuracy p^L, an ll task with per-char
    probabilities whose mean loss is exactly (N/c)^α."""
    loss = (size / C) ** ALPHA
    hits = int(round(EXACT_MATCH[index] * N))
    gen = {"exact_match": [1.0] * hits + [0.0] * (N - hits), "token_edit_distance": [EDIT_DISTANCE[index]] * N}
    for length in (1, 2, 3):
        right = int(round(np.exp(-loss * length) * N))
        gen[f"exact_match_L{length}"] = [1.0] * right + [0.0] * (N - right)
        gen[f"token_edit_distance_L{length}"] = [0.0] * right + [1.0] * (N - right)
    gen["exact_match_L3"][-1] = float("nan")  # an answer shorter than 3 characters
    gen["exact_match_L9"] = [float("nan")] * N  # longer than every answer: lm-eval's aggregate is NaN too
    per_char = np.exp(-np.tile([0.5, 1.5], N // 2) * loss)
    ll = {
        "per_char_prob": per_char.tolist(),
        "target_log_prob": (np.log(per_char) * 3).tolist(),
        "greedy_match": gen["exact_match"],
    }
    mc = {"multiple_choice_grade": gen["exact_match"], "bigbench_brier_score": [[[-1.0, -2.0], 0]] * N}
    sampled = {metric: values for metric, values in gen.items() if metric.startswith("exact_match")}
    ll["exact_answer_prob"] = [EXACT_MATCH[index]] * N  # what temperature-1 exact match estimates
    return {
        "mirage_arith_2dm_gen": gen,
        "mirage_arith_2dm_gen_t1": sampled,
        "mirage_arith_2dm_ll": ll,
        "mirage_bb_toy_mc": mc,
    }
