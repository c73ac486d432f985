"""BIG-bench JSON tasks: reading, prompt rendering, the config generator, and real lm_eval runs on every task."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import LM_EVAL, MIRAGE, REPO_ROOT, bigbench_gen_scoring, run_cli
from mirage_metrics.bigbench import (
    BIGBENCH_DIR_ENV,
    BigBenchDataNotFound,
    JsonTask,
    discover_tasks,
    lm_eval_task_name,
    load_task,
    postprocess_output,
    read_json_task,
    resolve_bigbench_dir,
)
from mirage_metrics.bigbench.lm_eval_hooks import bigbench_output, process_results_gen, task_docs
from mirage_metrics.bigbench.reader import DEFAULT_OUTPUT_REGEX
from mirage_metrics.bigbench.task_yamls import PAPER_TASKS

BUNDLED = REPO_ROOT / "tasks" / "bigbench"


@pytest.fixture(scope="module")
def all_tasks(bigbench_dir) -> list[JsonTask]:
    """Every real BIG-bench task and subtask (the test skips without real data)."""
    return discover_tasks(bigbench_dir)[0]


@pytest.fixture(scope="module")
def tasks_by_name(all_tasks) -> dict[str, JsonTask]:
    return {lm_eval_task_name(t, f): t for t in all_tasks for f in t.forms}


# ---------------------------------------------------------------- reading and rendering


def test_every_real_task_is_read_with_its_subtasks(bigbench_dir, all_tasks):
    folders = sorted(p.name for p in bigbench_dir.iterdir() if p.is_dir())
    assert sorted({t.name for t in all_tasks}) == folders
    subtasks = {t.subtask for t in all_tasks if t.name == "logical_deduction"}
    assert subtasks == {"three_objects", "five_objects", "seven_objects"}
    assert all(t.examples and t.forms for t in all_tasks)
    assert set(PAPER_TASKS) <= {t.name for t in all_tasks if "mc" in t.forms}


def test_prompt_with_task_prefixes_and_no_appended_choices(bigbench_dir):
    task = load_task("sports_understanding", bigbench_dir=bigbench_dir)
    example = {"input": "Jamal Murray was perfect from the line", "target_scores": {"plausible": 1, "implausible": 0}}
    assert task.render_prompt(example) == (
        "Determine whether the following statement or statements are plausible or implausible:"
        "\nStatement: Jamal Murray was perfect from the line\nPlausible/implausible? "
    )
    assert task.render_shot(example).endswith("Plausible/implausible? plausible")


def test_prompt_with_bigbench_defaults_appends_choices(bigbench_dir):
    task = load_task("hindu_knowledge", bigbench_dir=bigbench_dir)
    example = task.examples[0]
    prompt = task.render_prompt(example)
    question = "Which of the following Hindu deities do not belong to the group of three supreme divinities known as the Trimurti?"
    assert prompt.startswith("\nQ: " + question + "\n  choice: ")
    assert prompt.endswith("\nA: ")
    listed = prompt[len("\nQ: " + question) : -len("\nA: ")].split("\n  choice: ")[1:]
    assert sorted(listed) == sorted(["Vishnu", "Shiva", "Indra", "Brahma"])
    assert task.answer(example) == "Indra"
    assert task.render_prompt(example) == prompt  # the permutation is deterministic


def test_few_shot_prompt_uses_the_task_separator_and_prefix_once(bigbench_dir):
    task = load_task("logical_deduction", "three_objects", bigbench_dir=bigbench_dir)
    shot, query = task.examples[0], task.examples[1]
    prompt = task.render_prompt(query, shots=[shot])
    prefix = "The following paragraphs each describe a set of three objects arranged in a fixed order."
    assert prompt.startswith(prefix) and prompt.count(prefix) == 1
    assert (shot["input"] + " The black book is the leftmost.\n\n" + query["input"] + " ") in prompt
    assert prompt.endswith(query["input"] + " ")


def test_generative_task_keeps_targets_and_regex(bigbench_dir):
    task = load_task("arithmetic", "2_digit_multiplication", bigbench_dir=bigbench_dir)
    assert task.forms == ("mc", "gen", "ll")
    assert task.targets(task.examples[0]) == ["1000"]
    assert task.effective_output_regex == r"[-+]?\d+"
    words = load_task("word_unscrambling", bigbench_dir=bigbench_dir)
    assert words.forms == ("gen", "ll") and words.effective_output_regex == r"[^\.\?\!\;\n]+"


def test_postprocess_follows_bigbench():
    assert postprocess_output(" 1000\n\nQ: next", output_regex=r"[-+]?\d+") == "1000"
    assert postprocess_output("no digits", output_regex=r"[-+]?\d+") == ""
    assert postprocess_output("first line\nsecond", stop_string="\n") == "first line\n"  # the stop string is kept
    assert postprocess_output("\nfirst\nsecond", stop_string="\n") == "\nfirst\nsecond"  # not cut at position 0
    assert postprocess_output(" Paris ", output_regex=DEFAULT_OUTPUT_REGEX) == " Paris "  # nothing stripped
    with pytest.raises(ValueError, match="text is None"):
        postprocess_output(None)


def _score(doc: dict, generation: str) -> dict:
    return bigbench_gen_scoring(doc, generation)[1]


def _gen_doc(bigbench_dir: Path, name: str, subtask: str | None = None, index: int = 0) -> dict:
    return task_docs(load_task(name, subtask, bigbench_dir=bigbench_dir), "gen")["test"][index]


def test_exact_str_match_is_bigbench_exact_rule(bigbench_dir):
    """BIG-bench compares the post-processed output exactly; only the prompt's moved space is taken off first."""
    doc = _gen_doc(bigbench_dir, "word_unscrambling")
    target = doc["targets"][0]
    assert doc["answer_prefix"] == " " and not doc["prompt"].endswith(" ")
    generations = (f" {target}. More", f"{target}", f"  {target}", f" {target} \nQ:", f" {target.upper()}")
    scored = {text: bigbench_gen_scoring(doc, text) for text in generations}
    assert [text for text, _ in scored.values()] == [target, target, f" {target}", f"{target} ", target.upper()]
    scores = {text: metrics for text, (_, metrics) in scored.items()}
    assert [s["exact_str_match"] for s in scores.values()] == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert [s["exact_str_match_stripped"] for s in scores.values()] == [1.0, 1.0, 1.0, 1.0, 0.0]
    assert [s["exact_str_match_ignore_case"] for s in scores.values()] == [1.0, 1.0, 1.0, 1.0, 1.0]
    assert [s["token_edit_distance"] for s in scores.values()] == [0.0, 0.0, 1.0, 1.0, float(len(target))]


def test_a_leading_newline_does_not_empty_the_output(bigbench_dir):
    """lm-eval's until=["\\n"] cut these at their first character (output ''); BIG-bench's rules score the answer."""
    doc = _gen_doc(bigbench_dir, "strange_stories", "multiple_choice")
    assert doc["targets"] == ["Jim knows that Simon is lying."] and doc["stop_string"] == ""
    # the default regex [^.?!;\n]+ skips the newline and ends at the period (so BIG-bench's exact match is 0 here)
    text, out = bigbench_gen_scoring(doc, "\nThe answer is: Jim knows that Simon is lying.\n\nContext: next")
    assert (
        text == "The answer is: Jim knows that Simon is lying"
        and out["exact_str_match"] == 0.0
        and out["token_edit_distance"] == len("The answer is: ") + 1
    )
    assert _score(doc, " \nJim knows that Simon is lying.\nQ:")["token_edit_distance"] == 1.0
    movie = _gen_doc(bigbench_dir, "emoji_movie")
    target = movie["targets"][0]
    for generation in (f"\n{target}\nQ: next", f" \n{target}\n\nQ: next", f"\n\n{target}. And more"):
        assert _score(movie, generation)["exact_str_match"] == 1.0, generation
    stop_doc = {**movie, "stop_string": "\n", "output_regex": ""}  # a stop string at position 0 cuts nothing
    assert bigbench_gen_scoring(stop_doc, f"\n{target}") == (f"\n{target}", _score(stop_doc, f"\n{target}"))
    assert _score(stop_doc, f"\n{target}")["token_edit_distance"] == 1.0
    assert bigbench_gen_scoring(stop_doc, f" {target}\nQ:")[0] == f"{target}\n"  # cut after the stop, kept
    assert _score(stop_doc, f" {target}\nQ:")["token_edit_distance"] == 1.0


def test_gen_yamls_never_stop_lm_eval_early():
    for path in BUNDLED.glob("mirage_bb_*_gen.yaml"):
        assert "until" not in path.read_text(), path.name
    assert "  until: []\n" in (BUNDLED / "_gen_template_yaml").read_text()


def test_absolute_normalization_flag_is_read_and_carried_to_the_docs(fixture_bigbench_dir):
    task = load_task("absolute_choices", bigbench_dir=fixture_bigbench_dir)
    assert (
        task.absolute_normalization
        and not load_task("graded_choices", bigbench_dir=fixture_bigbench_dir).absolute_normalization
    )
    docs = task_docs(task, "mc")["test"]
    assert all(doc["absolute_normalization"] is True for doc in docs)


def test_lm_eval_contexts_of_the_three_forms_end_on_the_same_tokens(bigbench_dir):
    """lm-eval's own task machinery renders emoji_movie: the gen context ends at "A:" (no lone space), as the
    mc/ll contexts do once lm-eval's _encode_pair has moved their trailing space into the continuation."""
    from lm_eval.tasks import TaskManager, get_task_dict

    manager = TaskManager(
        include_path=str(REPO_ROOT / "tasks"), include_defaults=False, metadata={"bigbench_dir": str(bigbench_dir)}
    )
    names = [f"mirage_bb_emoji_movie_{form}" for form in ("gen", "ll", "mc")]
    tasks = get_task_dict(names, manager)
    contexts = {}
    for name, task in tasks.items():
        task.set_config(key="num_fewshot", value=0)
        task.build_all_requests(limit=2, rank=0, world_size=1)
        contexts[name] = {inst.doc_id: inst.arguments for inst in task.instances}
    gen, ll, mc = (contexts[name] for name in names)
    for doc_id, (context, gen_kwargs) in gen.items():
        assert context.endswith("\nA:") and gen_kwargs["until"] == []
        ll_context, ll_continuation = ll[doc_id]
        assert ll_context == context + " " and ll_context.rstrip() == context
    assert all(args[0].endswith("\nA: ") for args in mc.values())
    one_shot = tasks[names[0]]
    one_shot.set_config(key="num_fewshot", value=1)
    one_shot.build_all_requests(limit=1, rank=0, world_size=1)
    context = one_shot.instances[0].arguments[0]
    shot, _ = context.split("\n\nQ: ")
    assert context.endswith("\nA:") and shot.rsplit("\nA:", 1)[1].startswith(" ") and "A:  " not in shot


def test_shot_pool_is_disjoint_deterministic_and_small(bigbench_dir):
    task = load_task("irony_identification", bigbench_dir=bigbench_dir)
    shots, evaluated = task.split("mc")
    assert len(shots) == 5 and len(shots) + len(evaluated) == len(task.examples)
    assert not {json.dumps(s) for s in shots} & {json.dumps(e) for e in evaluated}
    assert task.split("mc") == (shots, evaluated)
    tiny = JsonTask(name="t", examples=[{"input": "a", "target": "b"}, {"input": "c", "target": "d"}])
    assert [len(part) for part in tiny.split("gen")] == [1, 1]
    with pytest.raises(ValueError, match="needs at least 2"):
        JsonTask(name="t", examples=[{"input": "a", "target": "b"}]).split("ll")
    with pytest.raises(ValueError, match="form='xx'"):
        tiny.split("xx")


def test_data_location_env_var_and_errors(tmp_path, monkeypatch, fixture_bigbench_dir):
    monkeypatch.setenv(BIGBENCH_DIR_ENV, str(fixture_bigbench_dir.parent))
    assert resolve_bigbench_dir() == fixture_bigbench_dir
    assert load_task("graded_choices").source == str(fixture_bigbench_dir / "graded_choices" / "task.json")
    monkeypatch.setenv(BIGBENCH_DIR_ENV, str(tmp_path))
    with pytest.raises(BigBenchDataNotFound, match=f"{BIGBENCH_DIR_ENV}=.*holds no BIG-bench JSON tasks"):
        resolve_bigbench_dir()
    monkeypatch.delenv(BIGBENCH_DIR_ENV)
    assert resolve_bigbench_dir() is None
    with pytest.raises(BigBenchDataNotFound) as error:  # offline: the Hub copy cannot be read either
        load_task("logical_args")
    message = str(error.value)
    assert BIGBENCH_DIR_ENV in message and "bigbench_dir" in message and "tasksource/bigbench" in message


def test_hub_copy_rows_become_prerendered_examples(monkeypatch):
    import datasets

    rows = [
        {
            "inputs": "\nQ: Is it ironic?\nA: ",
            "targets": ["ironic"],
            "multiple_choice_targets": ["ironic", "not ironic"],
            "multiple_choice_scores": [1, 0],
            "idx": 0,
        },
        {
            "inputs": "\nQ: And this?\nA: ",
            "targets": ["not ironic"],
            "multiple_choice_targets": ["ironic", "not ironic"],
            "multiple_choice_scores": [0, 1],
            "idx": 1,
        },
    ]
    calls = []

    def fake_load_dataset(path, name):
        calls.append((path, name))
        return datasets.DatasetDict({"train": datasets.Dataset.from_list(rows)})

    monkeypatch.delenv(BIGBENCH_DIR_ENV, raising=False)
    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    task = load_task("irony_identification")
    assert calls == [("tasksource/bigbench", "irony_identification")]
    assert task.render_prompt(task.examples[1]) == "\nQ: And this?\nA: "
    assert task.answer(task.examples[1]) == "not ironic" and task.forms == ("mc", "gen", "ll")
    with pytest.raises(BigBenchDataNotFound, match="no separate subtasks"):
        load_task("logical_deduction", "three_objects")


def test_malformed_task_file_is_named_with_its_line(tmp_path):
    path = tmp_path / "task.json"
    path.write_text('{"examples": [\n  {"input": "a", "target": "b"},\n  oops\n]}')
    with pytest.raises(ValueError, match=rf"{path}:3: not valid JSON"):
        read_json_task(path, "broken")
    path.write_text('{"examples": [{"input": "a"}]}')
    with pytest.raises(ValueError, match=r"examples\[0\] has neither 'target' nor 'target_scores'"):
        read_json_task(path, "broken")


# ---------------------------------------------------------------- the generator


def test_bundled_configs_are_what_the_generator_writes(tmp_path, bigbench_dir):
    out = tmp_path / "generated"
    run = run_cli([*MIRAGE, "bigbench-tasks", "--bigbench-dir", bigbench_dir, "--out", out])
    assert "wrote 122 task configs" in run.stdout
    generated = sorted(p.name for p in out.iterdir())
    bundled = sorted(
        p.name for p in BUNDLED.iterdir() if p.suffix in (".yaml", ".md", ".py") or p.name.endswith("_yaml")
    )
    assert generated == sorted(set(bundled) - {"__init__.py"})
    for name in generated:
        assert (out / name).read_text() == (BUNDLED / name).read_text(), f"tasks/bigbench/{name} is stale"


def test_generator_cli_on_other_tasks_skips_programmatic_ones(tmp_path, fixture_bigbench_dir):
    source = tmp_path / "bb"
    for name in ("graded_choices", "stop_at_newline", "programmatic"):
        shutil.copytree(fixture_bigbench_dir / name, source / name)
    out = tmp_path / "mine"
    run = run_cli([*MIRAGE, "bigbench-tasks", "--bigbench-dir", source, "--group", "my_bigbench", "--out", out])
    assert "programmatic: programmatic task (task.py), not supported; skipped" in run.stderr
    names = {p.name for p in out.glob("mirage_bb_*.yaml")}
    assert names == {
        "mirage_bb_graded_choices_mc.yaml",
        "mirage_bb_stop_at_newline_gen.yaml",
        "mirage_bb_stop_at_newline_ll.yaml",
    }
    assert (out / "my_bigbench.yaml").is_file() and not (out / "mirage_bigbench_paper.yaml").exists()
    assert (out / "utils.py").is_file() and "### stop_at_newline" in (out / "README.md").read_text()
    bad = run_cli([*MIRAGE, "bigbench-tasks", "--bigbench-dir", source, "--tasks", "nope", "--out", out], check=False)
    assert bad.returncode == 2 and "tasks ['nope'] are not in" in bad.stderr


# ---------------------------------------------------------------- real lm_eval runs on every task


def _lm_eval(out: Path, model_args: list[str], extra: list[str], bigbench_dir: Path) -> dict:
    command = [
        *LM_EVAL,
        *model_args,
        "--tasks",
        "mirage_bigbench",
        "--include_path",
        str(REPO_ROOT / "tasks"),
        "--limit",
        "3",
        "--metadata",
        json.dumps({"bigbench_dir": str(bigbench_dir)}),
        "--output_path",
        str(out),
        "--log_samples",
        *extra,
    ]
    run_cli(command)
    (results_file,) = out.glob("*/results_*.json")
    samples = {}
    for path in out.glob("*/samples_*.jsonl"):
        task = path.name[len("samples_") :].rsplit("_", 1)[0]
        samples[task] = [json.loads(line) for line in path.read_text().splitlines()]
    return {"results": json.loads(results_file.read_text())["results"], "samples": samples}


@pytest.fixture(scope="module")
def dummy_run(tmp_path_factory, bigbench_dir):
    """Every task, 1-shot, on lm-eval's dummy model."""
    return _lm_eval(tmp_path_factory.mktemp("bb_dummy"), ["--model", "dummy"], ["--num_fewshot", "1"], bigbench_dir)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tiny_gpt2, bigbench_dir):
    """Every task, 0-shot, on the tiny GPT-2 (short generations keep it fast)."""
    return _lm_eval(
        tmp_path_factory.mktemp("bb_hf"),
        ["--model", "hf", "--model_args", f"pretrained={tiny_gpt2}", "--device", "cpu", "--batch_size", "64"],
        ["--gen_kwargs", "max_gen_toks=4"],
        bigbench_dir,
    )


RANGES = {
    "multiple_choice_grade": (0, 1),
    "brier_score": (0, 2),
    "p_correct": (0, 1),
    "log_p_correct": (-np.inf, 0),
    "bigbench_brier_score": (0, 1),
    "exact_str_match": (0, 1),
    "exact_str_match_stripped": (0, 1),
    "exact_str_match_ignore_case": (0, 1),
    "token_edit_distance": (0, np.inf),
    "token_edit_distance_words": (0, np.inf),
    "target_log_prob": (-np.inf, 0),
    "per_char_prob": (0, 1),
    "greedy_match": (0, 1),
}
FORM_METRICS = {
    "mc": {"multiple_choice_grade", "brier_score", "p_correct", "log_p_correct", "bigbench_brier_score"},
    "gen": {
        "exact_str_match",
        "exact_str_match_stripped",
        "exact_str_match_ignore_case",
        "token_edit_distance",
        "token_edit_distance_words",
    },
    "ll": {"target_log_prob", "per_char_prob", "greedy_match"},
}


def _check_metrics(run, tasks_by_name):
    assert set(run["results"]) >= set(tasks_by_name)
    for name in tasks_by_name:
        values = {
            key.split(",")[0]: value
            for key, value in run["results"][name].items()
            if key.endswith(",none") and "_stderr" not in key
        }
        assert FORM_METRICS[name.rsplit("_", 1)[1]] == set(values), name
        for metric, value in values.items():
            low, high = RANGES[metric]
            assert low <= value <= high, (name, metric, value)
        assert len(run["samples"][name]) == 3


def _check_bigbench_brier(run, tasks_by_name):
    """BIG-bench's Brier, recomputed here from the logged per-choice log-likelihoods, equals the reported one."""
    for name in (n for n in tasks_by_name if n.endswith("_mc")):
        total, options = 0.0, 0
        for sample in run["samples"][name]:
            lls = np.array([float(ll) for ll, _ in sample["filtered_resps"]])
            probs = np.exp(lls - lls.max()) / np.exp(lls - lls.max()).sum()
            scores = np.array(sample["doc"]["target_scores"])
            targets = scores / scores.sum() if scores.sum() else np.zeros_like(scores)
            total += float((targets * (probs - 1) ** 2 + (1 - targets) * probs**2).sum())
            options += len(lls)
        assert run["results"][name]["bigbench_brier_score,none"] == pytest.approx(total / options, abs=1e-9), name


@pytest.mark.slow
def test_every_task_runs_on_the_dummy_model(dummy_run, tasks_by_name):
    _check_metrics(dummy_run, tasks_by_name)
    _check_bigbench_brier(dummy_run, tasks_by_name)


@pytest.mark.slow
def test_every_task_runs_on_a_tiny_gpt2(tiny_run, tasks_by_name):
    _check_metrics(tiny_run, tasks_by_name)
    _check_bigbench_brier(tiny_run, tasks_by_name)


@pytest.mark.slow
def test_gen_samples_log_the_raw_generation_and_the_text_scored(tiny_run, tasks_by_name):
    """``resps`` holds the generation, ``filtered_resps`` BIG-bench's post-processing of it, which the metrics score."""
    changed = 0
    for name in (n for n in tasks_by_name if n.endswith("_gen")):
        for sample in tiny_run["samples"][name]:
            (generation,), (scored,) = sample["resps"][0], sample["filtered_resps"]
            assert scored == bigbench_output(sample["doc"], generation), name
            assert {m: sample[m] for m in sample["metrics"]} == process_results_gen(sample["doc"], [scored]), name
            changed += scored != generation
    assert changed  # the post-processing did change some generations, so the two fields are not the same text


def _context(sample) -> str:
    return sample["arguments"]["gen_args_0"]["arg_0"]


def _sent(prompt: str, name: str) -> str:
    """What lm-eval sends: a gen prompt ends before its trailing whitespace (see lm_eval_hooks)."""
    return prompt.rstrip() if name.endswith("_gen") else prompt


@pytest.mark.slow
def test_lm_eval_renders_bigbench_prompts_zero_shot(tiny_run, tasks_by_name):
    for name, task in tasks_by_name.items():
        form = name.rsplit("_", 1)[1]
        evaluated = task.split(form)[1]
        for sample in tiny_run["samples"][name]:
            assert _context(sample) == _sent(task.render_prompt(evaluated[sample["doc_id"]]), name), name


@pytest.mark.slow
def test_lm_eval_renders_bigbench_prompts_one_shot_from_the_pool(dummy_run, tasks_by_name):
    for name, task in tasks_by_name.items():
        form = name.rsplit("_", 1)[1]
        shots, evaluated = task.split(form)
        for sample in dummy_run["samples"][name]:
            example = evaluated[sample["doc_id"]]
            candidates = {_sent(task.render_prompt(example, shots=[shot]), name) for shot in shots}
            assert _context(sample) in candidates, name
