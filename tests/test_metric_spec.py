"""One declaration per metric: the task configs, the hooks' outputs and the registry all follow ``@metric_spec``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import write_lm_eval_run
from mirage_metrics import registry, task_forms
from mirage_metrics.bigbench import lm_eval_hooks
from mirage_metrics.emergence import curve_table
from mirage_metrics.metric_spec import CONTINUOUS, SPECS, metric_spec
from mirage_metrics.paths import tasks_path
from mirage_metrics.report.verdict import continuous_curves, discontinuous_curves
from mirage_metrics.results import read_lm_eval
from mirage_metrics.summary import summarise
from mirage_metrics.task_configs import LENGTHS, TEMPLATES, metric_list_yaml, with_metric_list
from mirage_metrics.tasks.arith import utils as arith_hooks


def _hook_outputs() -> dict[str, dict]:
    """What each producer's ``process_results`` hook gives for one document, every optional metric included."""
    gen_doc = {"targets": ["Paris"], "answer_prefix": " ", "stop_string": "", "output_regex": ""}
    mc_doc = {"target_scores": [1.0, 0.0], "absolute_normalization": False}
    ll_stops_and_prefixes = [(-0.5, True), (-0.75, False), (-0.9, False), (-0.25, True)]
    return {
        task_forms.ARITH_GEN: arith_hooks.process_generation({"answer": "1234"}, [" 1243"]),
        task_forms.ARITH_LL: arith_hooks.process_loglikelihood(
            {"answer": "12", "prefix_lengths": [1]}, ll_stops_and_prefixes
        ),
        task_forms.BIGBENCH_GEN: lm_eval_hooks.process_results_gen(gen_doc, [" Pariss"]),
        task_forms.BIGBENCH_LL: lm_eval_hooks.process_results_ll({"prompt": "A: ", "answer": "ab"}, [(-1.0, True)]),
        task_forms.BIGBENCH_MC: lm_eval_hooks.process_results_mc(mc_doc, [(-0.1, True), (-2.0, False)]),
    }


def _declared_names(producer: str) -> set[str]:
    infos = registry.produced_by(producer)
    lengths = LENGTHS.get(producer, ())
    return {i.name for i in infos if i.overall} | {f"{i.name}_L{L}" for i in infos if i.by_length for L in lengths}


@pytest.mark.parametrize("producer", task_forms.PRODUCERS)
def test_each_hook_gives_exactly_the_metrics_declared_for_it(producer):
    assert set(_hook_outputs()[producer]) == _declared_names(producer)


def test_every_declared_metric_is_produced_by_a_task_form_or_is_library_only():
    for name, info in registry.METRICS.items():
        assert set(info.produced_by) <= set(task_forms.PRODUCERS), name
        assert info.produced_by or info.aggregation == "", f"{name}: an aggregation but no task gives it"
    produced = {name for outputs in _hook_outputs().values() for name in outputs}
    library_only = {name for name, info in registry.METRICS.items() if not info.produced_by}
    assert produced.isdisjoint(library_only) and {"per_char_loss", "subset_accuracy", "acc"} <= library_only


@pytest.mark.parametrize("producer", task_forms.PRODUCERS)
def test_the_committed_task_configs_list_the_declared_metrics(producer):
    path = tasks_path() / TEMPLATES[producer]
    text = path.read_text(encoding="utf-8")
    assert with_metric_list(text, producer) == text, (
        f"{path} is out of date: run `python -m mirage_metrics.task_configs`"
    )


def test_a_template_without_one_metric_list_is_refused():
    with pytest.raises(ValueError, match="exactly one top-level 'metric_list:'"):
        with_metric_list("task: x\n", task_forms.ARITH_GEN)
    with pytest.raises(ValueError, match="producer='nobody'"):
        metric_list_yaml("nobody")


def test_a_metric_is_declared_once():
    with pytest.raises(ValueError, match="'exact_match' is already declared on exact_match"):
        metric_spec("exact_match", True, CONTINUOUS)(lambda predictions, references: predictions)
    with pytest.raises(ValueError, match="kind='smooth'"):
        metric_spec("some_metric", True, "smooth")(lambda predictions, references: predictions)
    assert "some_metric" not in SPECS


def test_task_stem_and_form():
    assert task_forms.task_stem("mirage_bb_logical_args_gen") == "mirage_bb_logical_args"
    assert task_forms.task_stem("x_gen_t1_ll") == "x_gen_t1"
    assert [task_forms.form_of(f"t{form}") for form in task_forms.FORMS] == list(task_forms.FORMS)


def test_a_by_length_metric_added_for_the_gen_tasks_is_scored_on_each_prefix():
    @metric_spec("same_length", True, CONTINUOUS, 0, 1, by_length=True, produced_by=(task_forms.ARITH_GEN,))
    def same_length(predictions, references):
        return np.array([float(len(p) == len(r)) for p, r in zip(predictions, references)])

    try:
        scores = arith_hooks.process_generation({"answer": "123"}, [" 1x\n"])
        # "1x" against "123": its first 1 and 2 characters have the reference's length, all of it does not.
        assert [scores[f"same_length{suffix}"] for suffix in ("", "_L1", "_L2", "_L3")] == [0.0, 1.0, 1.0, 0.0]
        assert np.isnan([scores["same_length_L4"], scores["same_length_L5"]]).all()  # the answer is shorter
        assert "  - metric: same_length_L5\n" in metric_list_yaml(task_forms.ARITH_GEN)
    finally:
        del SPECS["same_length"]


@pytest.fixture
def digit_overlap():
    """A metric declared as a user adds one: a function beside its declaration, made for the arith gen tasks."""

    @metric_spec("digit_overlap", True, CONTINUOUS, 0, 1, label="digits in place", produced_by=(task_forms.ARITH_GEN,))
    def digit_overlap(predictions, references):
        return np.array(
            [sum(a == b for a, b in zip(p, r)) / max(len(r), 1) for p, r in zip(predictions, references)], dtype=float
        )

    yield digit_overlap
    del SPECS["digit_overlap"]


def test_adding_a_metric_reaches_the_task_output_the_registry_and_the_curve_table(digit_overlap, tmp_path):
    # The arith gen tasks' hook gives it, and their regenerated metric_list lists it with its direction.
    scores = arith_hooks.process_generation({"answer": "1234"}, [" 1284\n"])
    assert scores["digit_overlap"] == 0.75 and scores["exact_match"] == 0.0
    assert "  - metric: digit_overlap\n    aggregation: mean\n    higher_is_better: true\n" in metric_list_yaml(
        task_forms.ARITH_GEN
    )
    # The registry knows its direction and kind.
    info = registry.metric_info("digit_overlap,none")
    assert (info.higher_is_better, info.kind, registry.label("digit_overlap")) == (True, CONTINUOUS, "digits in place")
    # An lm-eval output folder holding the hook's values reaches the report's curve table.
    answers = ["1234", "5678", "9012", "3456"]
    outputs = {1e8: ["0000", "5000", "9000", "0000"], 1e9: ["1200", "5670", "9010", "3400"], 1e10: answers}
    for params, predictions in outputs.items():
        per_sample = [arith_hooks.process_generation({"answer": a}, [p]) for a, p in zip(answers, predictions)]
        samples = {name: [s[name] for s in per_sample] for name in ("exact_match", "digit_overlap")}
        write_lm_eval_run(
            tmp_path / "family" / f"m{params:.0e}", f"org/m{params:.0e}", int(params), {"mirage_arith_x_gen": samples}
        )
    reading = read_lm_eval(tmp_path / "family")
    table, directions = reading.table, reading.directions
    summary = summarise(table, n_boot=50)
    curves = curve_table(summary, higher_is_better=directions)
    row = curves[curves["metric"] == "digit_overlap"].iloc[0]
    assert row["kind"] == CONTINUOUS
    means = summary[summary["metric"] == "digit_overlap"].sort_values("params")["mean"].tolist()
    assert means == pytest.approx([0.1875, 0.625, 1.0])  # digits in place: 3/16, 10/16, all


def test_the_probability_of_the_whole_answer_is_its_own_kind():
    for name in ("exact_answer_prob", "prefix_prob_L3", "prefix_prob_L1,none"):
        info = registry.metric_info(name)
        assert info.kind == registry.WHOLE_ANSWER, name
        assert not registry.is_continuous(name) and not registry.is_discontinuous(name)
    # The verdict's continuous evidence leaves it out; the per-character probability stays.
    curves = pd.DataFrame({"metric": ["exact_answer_prob", "per_char_prob"], "length": np.nan, "values": "graded"})
    curves["kind"] = curves["metric"].map(lambda metric: registry.metric_info(metric).kind)
    assert continuous_curves(curves)["metric"].tolist() == ["per_char_prob"]
    assert discontinuous_curves(curves).empty
