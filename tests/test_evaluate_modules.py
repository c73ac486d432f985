"""The `evaluate` face of the core: bundled, Space-ready modules that load offline from any directory."""

from __future__ import annotations

import json
import math
import sys
import zipfile
from pathlib import Path

import evaluate
import numpy as np
import pytest
import yaml

import mirage_metrics as mm
from conftest import REPO_ROOT, offline_env, run_cli

MODULES = mm.evaluate_module_names()  # every folder evaluate_modules/<name>/<name>.py

LOAD_FROM_ANYWHERE = """
import json, sys, evaluate, mirage_metrics
out = {"package": mirage_metrics.__file__}
for name in sys.argv[1:]:
    by_path = evaluate.load(mirage_metrics.evaluate_path(name))
    by_name = mirage_metrics.load(name)
    out[name] = [type(by_path).__name__, type(by_name).__name__]
token_edit = mirage_metrics.load("token_edit")
out["computed"] = token_edit.compute(predictions=["4201", ""], references=["4211", "42"], return_per_sample=True)
print(json.dumps(out))
"""


def run_from(cwd: Path, *, pythonpath: str | None = None) -> dict:
    env = offline_env(**({"PYTHONPATH": pythonpath} if pythonpath else {}))
    done = run_cli([sys.executable, "-c", LOAD_FROM_ANYWHERE, *MODULES], cwd=cwd, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_bundled_module_ships_as_a_package():
    assert {"brier", "exact_match_at_length", "log_prob", "token_edit"} <= set(MODULES)
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    packages = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    missing = [name for name in MODULES if f"mirage_metrics.evaluate_modules.{name}" not in packages]
    assert not missing, f"pyproject.toml [tool.setuptools] packages lacks {missing}"


@pytest.mark.slow
def test_modules_load_offline_from_any_current_directory(tmp_path):
    out = run_from(tmp_path)
    assert out["package"].startswith(str(REPO_ROOT))
    assert out["token_edit"] == ["TokenEdit", "TokenEdit"]
    assert out["brier"] == ["Brier", "Brier"]
    assert out["log_prob"] == ["LogProb", "LogProb"]
    assert out["exact_match_at_length"] == ["ExactMatchAtLength", "ExactMatchAtLength"]
    assert out["computed"] == {"token_edit_distance": 1.5, "token_edit_distance_per_sample": [1, 2]}


# --- each module calls the core --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def modules() -> dict:
    return {name: mm.load(name) for name in MODULES}


def test_token_edit_module_matches_the_core(modules):
    predictions, references = ["12", "the cat", "", "999"], ["13", "the hat", "7", "999"]
    result = modules["token_edit"].compute(predictions=predictions, references=references, return_per_sample=True)
    expected = mm.token_edit_distance(predictions, references)
    assert result["token_edit_distance_per_sample"] == expected.tolist() == [1, 1, 1, 0]
    assert result["token_edit_distance"] == pytest.approx(0.75)
    words = modules["token_edit"].compute(predictions=["the cat"], references=["the hat"], tokenizer="whitespace")
    assert words == {"token_edit_distance": 1.0}


def test_token_edit_module_keeps_core_validation(modules):
    with pytest.raises(ValueError, match=r"predictions\[1\] is None"):
        modules["token_edit"].compute(predictions=["1", None], references=["1", "2"])


def test_brier_module_from_loglikelihoods_and_probabilities(modules):
    brier = modules["brier"]
    rows, targets = [[math.log(0.6), math.log(0.4)], [math.log(0.5), math.log(0.25), math.log(0.25)]], [0, 2]
    result = brier.compute(predictions=rows, references=targets, return_per_sample=True)
    per_sample = [0.4**2 + 0.4**2, 0.5**2 + 0.25**2 + 0.75**2]
    np.testing.assert_allclose(result["brier_score_per_sample"], per_sample)
    assert result["brier_score"] == pytest.approx(np.mean(per_sample))
    assert result["bigbench_brier_score"] == pytest.approx(sum(per_sample) / 5)
    assert result["bigbench_brier_score"] == pytest.approx(mm.bigbench_brier_score(rows, targets))

    by_probs = brier.compute(
        predictions=[[0.6, 0.4], [0.5, 0.25, 0.25]],
        references=[[1.0, 0.0], [0.0, 0.0, 1.0]],
        prediction_type="probabilities",
    )
    assert by_probs == {"brier_score": pytest.approx(np.mean(per_sample))}


def test_brier_module_rejects_unknown_prediction_types(modules):
    with pytest.raises(ValueError, match=r"prediction_type='logits' is not known; use one of"):
        modules["brier"].compute(predictions=[[0.0, 0.0]], references=[0], prediction_type="logits")
    with pytest.raises(ValueError, match=r"probs\[0\] sums to 2, not 1"):
        modules["brier"].compute(predictions=[[1.0, 1.0]], references=[0], prediction_type="probabilities")


def test_log_prob_module(modules):
    log_prob = modules["log_prob"]
    assert log_prob.compute(predictions=[-1.0, -3.0]) == {"target_log_prob": -2.0}
    result = log_prob.compute(predictions=[math.log(0.25), math.log(0.001)], lengths=[2, 3], return_per_sample=True)
    np.testing.assert_allclose(result["per_token_prob_per_sample"], [0.5, 0.1])
    assert result["per_token_prob"] == pytest.approx(0.3)
    assert result["target_log_prob_per_sample"] == pytest.approx([math.log(0.25), math.log(0.001)])


def test_exact_match_at_length_module(modules):
    result = modules["exact_match_at_length"].compute(
        predictions=["1239", "12", "7"], references=["1234", "12", "8"], lengths=[2, 4], return_per_sample=True
    )
    assert result["exact_match_L2"] == 1.0  # the third sample's reference is too short for L = 2
    np.testing.assert_array_equal(result["exact_match_L2_per_sample"], [1.0, 1.0, np.nan])
    assert result["exact_match_L4"] == 0.0
    assert result["token_edit_distance_L4"] == 1.0
    np.testing.assert_array_equal(result["token_edit_distance_L4_per_sample"], [1.0, np.nan, np.nan])
    default = modules["exact_match_at_length"].compute(predictions=["12"], references=["12"])
    assert sorted(default) == sorted(f"{m}_L{n}" for m in ("exact_match", "token_edit_distance") for n in range(1, 6))
    assert default["exact_match_L1"] == 1.0 and math.isnan(default["exact_match_L5"])


# --- Space-ready folders ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MODULES)
def test_module_folder_is_space_ready(name):
    folder = Path(mm.evaluate_path(name))
    script = (folder / f"{name}.py").read_text()
    for constant in ("_DESCRIPTION = ", "_KWARGS_DESCRIPTION = ", "_CITATION = ", "(evaluate.Metric)"):
        assert constant in script

    card = (folder / "README.md").read_text()
    assert card.startswith("---\n")
    header = yaml.safe_load(card.split("---\n")[1])
    assert header["sdk"] == "gradio" and header["app_file"] == "app.py"
    assert {"evaluate", "metric"} <= set(header["tags"])
    assert header["title"] and header["description"]
    assert f'mirage_metrics.load("{name}")' in card and f'"mirage/{name}"' in card

    app = (folder / "app.py").read_text()
    assert f'evaluate.load("mirage/{name}")' in app and "launch_gradio_widget" in app
    requirements = (folder / "requirements.txt").read_text().split()
    assert any(line.startswith("mirage-metrics") for line in requirements)


@pytest.mark.parametrize("name", MODULES)
def test_module_info_describes_inputs(name, modules):
    info = modules[name].info
    assert "Schaeffer" in info.citation and info.reference_urls[0] == "https://arxiv.org/abs/2304.15004"
    assert "Args:" in info.inputs_description and "Returns:" in info.inputs_description


def test_module_info_gives_each_metrics_direction_from_its_declaration(modules):
    assert "token_edit_distance: token edit distance, lower is better; continuous." in modules["token_edit"].description
    assert "exact_match: exact match, higher is better; discontinuous." in modules["exact_match_at_length"].description


def test_evaluate_load_by_path_is_the_same_module():
    module = evaluate.load(mm.evaluate_path("token_edit"))
    assert module.compute(predictions=["ab"], references=["ba"]) == {"token_edit_distance": 2.0}


# --- from a built wheel ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_wheel_ships_every_module_folder(built_wheel):
    wheel, _ = built_wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in MODULES:
        for file in (f"{name}.py", "README.md", "app.py", "requirements.txt"):
            assert f"mirage_metrics/evaluate_modules/{name}/{file}" in names


@pytest.mark.slow
def test_modules_load_from_the_installed_wheel_in_another_directory(built_wheel, tmp_path):
    wheel, _ = built_wheel
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = run_from(elsewhere, pythonpath=str(site))
    assert out["package"].startswith(str(site))
    assert out["computed"]["token_edit_distance_per_sample"] == [1, 2]


def test_brier_module_refuses_fractional_choice_indices(modules):
    """A fractional label is refused: datasets would cast 1.7 to 1 and score it as choice 1."""
    brier = modules["brier"]
    with pytest.raises(ValueError, match=r"references\[1\] = 1.7 is not a choice index"):
        brier.compute(predictions=[[0.0, -1.0], [0.0, -1.0]], references=[0, 1.7])
    whole = brier.compute(predictions=[[0.0, -1.0]], references=[1.0], return_per_sample=True)
    assert whole == brier.compute(predictions=[[0.0, -1.0]], references=[1], return_per_sample=True)
    assert whole["brier_score_per_sample"] == mm.brier_score(mm.choice_probs([[0.0, -1.0]]), [1]).tolist()


def test_text_modules_share_the_core_normalisation(modules):
    """The same strip / ignore_case options, with the same defaults, as exact_match."""
    pair = {"predictions": [" 42", "PARIS"], "references": ["42", "paris"]}
    assert modules["token_edit"].compute(**pair, return_per_sample=True)["token_edit_distance_per_sample"] == [0, 5]
    assert modules["token_edit"].compute(**pair, ignore_case=True) == {"token_edit_distance": 0.0}
    assert modules["token_edit"].compute(**pair, strip=False, ignore_case=True) == {"token_edit_distance": 0.5}
    at_length = modules["exact_match_at_length"].compute(**pair, lengths=[2], ignore_case=True)
    assert at_length == {"exact_match_L2": 1.0, "token_edit_distance_L2": 0.0}
    with pytest.raises(ValueError, match=r"lengths\[0\] = 1.7 is not a whole number"):
        modules["exact_match_at_length"].compute(**pair, lengths=[1.7])
