"""Model families: built-in counts, YAML family files, parameter counting without loading weights."""

from __future__ import annotations

import shutil

import pytest

from conftest import MIRAGE, run_cli
from mirage_metrics.families import builtin_families, count_parameters, get_family, load_family_file

# docs/design.md, "Parameter counts (total / non-embedding)".
REFERENCE_COUNTS = {
    "pythia-14m": (14_067_712, 1_189_888),
    "pythia-31m": (30_494_720, 4_739_072),
    "pythia-70m": (70_426_624, 18_915_328),
    "pythia-160m": (162_322_944, 85_056_000),
    "pythia-410m": (405_334_016, 302_311_424),
    "pythia-1b": (1_011_781_632, 805_736_448),
    "pythia-1.4b": (1_414_647_808, 1_208_602_624),
    "pythia-2.8b": (2_775_208_960, 2_517_652_480),
    "pythia-6.9b": (6_857_302_016, 6_444_163_072),
    "pythia-12b": (11_846_072_320, 11_327_027_200),
    "gpt2": (124_439_808, 85_056_000),
    "gpt2-medium": (354_823_168, 302_311_424),
    "gpt2-large": (774_030_080, 708_390_400),
    "gpt2-xl": (1_557_611_200, 1_475_561_600),
}


def test_builtin_counts_match_the_reference():
    families = builtin_families()
    models = {m.name: m for name in ("pythia", "gpt2") for m in families[name].models}
    assert set(models) == set(REFERENCE_COUNTS)
    for name, (total, non_embedding) in REFERENCE_COUNTS.items():
        assert (models[name].params, models[name].non_embedding_params) == (total, non_embedding), name


def test_deduped_pythia_mirrors_standard_with_its_own_hub_ids():
    standard, deduped = get_family("pythia").models, get_family("pythia-deduped").models
    assert [m.size for m in deduped] == [m.size for m in standard]
    assert [m.params for m in deduped] == [m.params for m in standard]
    assert deduped[2].path == "EleutherAI/pythia-70m-deduped"
    assert get_family("gpt2").models[0].path == "openai-community/gpt2"


def test_builtin_sizes_ascend():
    for family in builtin_families().values():
        params = [m.params for m in family.models]
        assert params == sorted(params), family.name


def test_select_by_size_keeps_family_order_and_rejects_unknown():
    family = get_family("pythia")
    assert [m.size for m in family.select(["410m", "70m"])] == ["70m", "410m"]
    assert [m.size for m in family.select(["pythia-1b"])] == ["1b"]
    assert len(family.select(None)) == 10
    with pytest.raises(ValueError, match="'7b' is not in family 'pythia'"):
        family.select(["7b"])
    with pytest.raises(ValueError, match="family='llama' is not built in"):
        get_family("llama")


def _loaded_count(folder) -> int:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(folder).num_parameters()


def test_count_parameters_from_safetensors_header_matches_loaded_model(tiny_gpt2):
    assert count_parameters(tiny_gpt2) == _loaded_count(tiny_gpt2)


def test_count_parameters_from_config_on_meta_device(tiny_gpt2, tmp_path):
    config_only = tmp_path / "config-only"
    config_only.mkdir()
    shutil.copy(tiny_gpt2 / "config.json", config_only / "config.json")
    assert count_parameters(config_only) == _loaded_count(tiny_gpt2)


def test_count_parameters_of_a_folder_without_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="neither model.safetensors nor config.json"):
        count_parameters(tmp_path)


def test_family_file_relative_paths_and_counted_params(tiny_gpt2_pair, tmp_path):
    shutil.copytree(tiny_gpt2_pair[0], tmp_path / "ckpt" / "a")
    family_file = tmp_path / "fam.yaml"
    family_file.write_text(
        "name: mine\n"
        "models:\n"
        "  - name: a\n    path: ckpt/a\n"
        f"  - name: b\n    path: {tiny_gpt2_pair[1]}\n    params: 12345\n    revision: v1\n"
    )
    family = load_family_file(family_file)
    a, b = family.models
    assert family.name == "mine"
    assert a.path == str((tmp_path / "ckpt" / "a").resolve())
    assert a.params == _loaded_count(tiny_gpt2_pair[0])
    assert (b.params, b.revision, b.size) == (12345, "v1", "b")


@pytest.mark.parametrize(
    "text, message",
    [
        ("models: []\n", "missing required key 'name'"),
        ("name: x\n", "missing required key 'models'"),
        ("name: x\nmodels: a\n", "'models' must be a non-empty list"),
        ("name: x\nmodels:\n  - name: a\n", r"models\[0\]: missing required key 'path'"),
        ("name: x\nmodels:\n  - {name: a, path: p, params: 1}\n  - {name: a, path: q, params: 1}\n", "both named 'a'"),
        ("name: x\nmodels:\n  - {name: a, path: p, params: -3}\n", "params=-3 must be a positive integer"),
        ("name: [unclosed\n", "not valid YAML"),
        ("name: x\nmodels:\n  - {name: org/a, path: p, params: 1}\n", "name='org/a' becomes a folder name"),
        ("name: x\nmodels: []\n", "'models' must be a non-empty list"),
        ("name: ../../elsewhere\nmodels:\n  - {name: a, path: p, params: 1}\n", "family name='../../elsewhere'"),
        ("name: /abs\nmodels:\n  - {name: a, path: p, params: 1}\n", "family name='/abs'"),
        ("name: x\nmodels:\n  - {name: '..', path: p, params: 1}\n", r"models\[0\]: name='..' becomes a folder"),
        (
            "name: x\nmodels:\n  - {name: a, path: 'p,trust_remote_code=True', params: 1}\n",
            r"models\[0\]: path='p,trust_remote_code=True' cannot be passed in lm-eval's --model_args: it holds ','",
        ),
        (
            "name: x\nmodels:\n  - {name: a, path: p, params: 1, revision: 'v1,trust_remote_code=True'}\n",
            "revision='v1,trust_remote_code=True' cannot be passed",
        ),
        ("name: x\nmodels:\n  - {name: a, path: p, params: 1, revision: 1000}\n", "revision=1000 must be a string"),
        ("name: x\nmodels:\n  - {name: a, path: p, params: 1, revision: '1000'}\n", "would not read it back"),
    ],
)
def test_family_file_errors_name_the_file_and_the_fix(tmp_path, text, message):
    family_file = tmp_path / "fam.yaml"
    family_file.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        load_family_file(family_file)
    assert str(family_file) in str(error.value)


def test_hub_id_without_params_offline_asks_for_params(tmp_path):
    family_file = tmp_path / "fam.yaml"
    family_file.write_text("name: x\nmodels:\n  - {name: a, path: EleutherAI/pythia-70m}\n")
    with pytest.raises(ValueError, match="give 'params' in the family file"):
        load_family_file(family_file)


def test_cli_lists_builtin_and_file_families(tiny_gpt2, tmp_path):
    family_file = tmp_path / "fam.yaml"
    family_file.write_text(f"name: mine\nmodels:\n  - {{name: tiny, path: {tiny_gpt2}}}\n")
    done = run_cli([*MIRAGE, "families", "--family-file", family_file])
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["family", "size", "model", "checkpoint", "params", "non-embedding"]
    assert any(line.split()[:3] == ["pythia-deduped", "12b", "pythia-12b-deduped"] for line in lines)
    assert any("1,557,611,200" in line and "gpt2-xl" in line for line in lines)
    tiny_line = next(line for line in lines if line.startswith("mine"))
    assert f"{_loaded_count(tiny_gpt2):,}" in tiny_line


def test_cli_reports_a_bad_family_file(tmp_path, capsys):
    from mirage_metrics.cli import main

    family_file = tmp_path / "fam.yaml"
    family_file.write_text("models: []\n")
    assert main(["families", "--family-file", str(family_file)]) == 2
    assert capsys.readouterr().err.startswith(f"mirage families: error: {family_file}: missing required key 'name'")


@pytest.mark.parametrize(
    "entry, message",
    [
        ("{name: a, path: p, params: 1, non_embedding_params: lots}", "non_embedding_params='lots' must be a positive"),
        ("{name: a, path: p, params: 10, non_embedding_params: 0}", "non_embedding_params=0 must be a positive"),
        ("{name: a, path: p, params: 10, non_embedding_params: 11}", "non_embedding_params=11 is more than params=10"),
        ("{name: a, path: p, params: 10, non_embedding_params: 2.5}", "non_embedding_params=2.5 must be a positive"),
        ("{name: a, path: p, params: true}", "params=True must be a positive integer"),
        ("{name: a, path: p, params: 1e9}", "params='1e9' must be a positive integer"),
        ("{name: a, path: p, params: 7.0}", "params=7.0 must be a positive integer"),
        ("{name: a, path: p, params: '100'}", "params='100' must be a positive integer"),
        ("{name: a, path: p, params: 0}", "params=0 must be a positive integer"),
        ("{name: a, path: p, params: 99999999999999999999999}", "params=99999999999999999999999 is above 10\\^15"),
        ("{name: a, path: p, parms: 1}", "unknown key 'parms'; did you mean 'params'"),
        ("{name: a, path: p, params: 1, revison: main}", "unknown key 'revison'; did you mean 'revision'"),
        ("{name: a, path: p, params: 1, colour: red}", "unknown key 'colour'; the keys of a model are name, path"),
        ("{name: true, path: p, params: 1}", "name=True must be a string"),
        ("{name: 70, path: p, params: 1}", "name=70 must be a string"),
        ("{name: a, path: 12, params: 1}", "path=12 must be a string"),
        ("{name: a, path: [p], params: 1}", r"path=\['p'\] must be a string"),
        ("{name: a, path: p, params: 1, step: -1}", "step=-1 must be a non-negative integer"),
        ("{name: a, path: p, params: 1, step: 1.5}", "step=1.5 must be a non-negative integer"),
        ("{name: a, path: p, params: 1, step: '100'}", "step='100' must be a non-negative integer"),
        ("{name: a, path: p, params: 1, tokens: true}", "tokens=True must be a non-negative integer"),
        ("{name: a, path: p, params: 1, tokens: 2e9}", "tokens='2e9' must be a non-negative integer"),
        ("{name: a, path: p, params: 1, stpe: 3}", "unknown key 'stpe'; did you mean 'step'"),
    ],
)
def test_every_field_of_a_model_entry_is_checked(tmp_path, entry, message):
    family_file = tmp_path / "fam.yaml"
    family_file.write_text(f"name: x\nmodels:\n  - {{name: ok, path: q, params: 5}}\n  - {entry}\n")
    with pytest.raises(ValueError, match=message) as error:
        load_family_file(family_file)
    text = str(error.value)
    assert text.startswith(f"{family_file}: models[1]") and "\n" not in text


@pytest.mark.parametrize(
    "text, message",
    [
        ("nme: x\nmodels: []\n", "unknown key 'nme'; did you mean 'name'"),
        ("name: x\nmodel:\n  - {name: a, path: p, params: 1}\n", "unknown key 'model'; did you mean 'models'"),
        ("name: true\nmodels:\n  - {name: a, path: p, params: 1}\n", "family name=True must be a string"),
        ("name: 12\nmodels:\n  - {name: a, path: p, params: 1}\n", "family name=12 must be a string"),
        ("name: x\nname: y\nmodels:\n  - {name: a, path: p, params: 1}\n", "line 2: key 'name' is given twice"),
        ("name: x\nmodels:\n  - {name: a, path: p, params: 1, params: 2}\n", "line 3: key 'params' is given twice"),
    ],
)
def test_family_file_keys_are_checked(tmp_path, text, message):
    family_file = tmp_path / "fam.yaml"
    family_file.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        load_family_file(family_file)
    assert str(error.value).startswith(str(family_file)) and "\n" not in str(error.value)


def test_duplicate_model_names_name_both_entries(tmp_path):
    family_file = tmp_path / "fam.yaml"
    family_file.write_text(
        "name: x\nmodels:\n  - {name: a, path: p, params: 1}\n  - {name: b, path: q, params: 2}\n"
        "  - {name: a, path: r, params: 3}\n"
    )
    with pytest.raises(ValueError) as error:
        load_family_file(family_file)
    assert str(error.value) == (
        f"{family_file}: models[0] and models[2] are both named 'a'; give each model its own name"
    )


def test_cli_prints_a_bad_count_as_one_line(tmp_path, capsys):
    from mirage_metrics.cli import main

    family_file = tmp_path / "fam.yaml"
    family_file.write_text("name: x\nmodels:\n  - {name: a, path: p, params: 5, non_embedding_params: lots}\n")
    assert main(["families", "--family-file", str(family_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{family_file}: models[0]: non_embedding_params='lots'" in err


def test_model_refuses_impossible_counts():
    from mirage_metrics.families import Model

    for bad in (0, -1, True, 2.5, "9", 10**16):
        with pytest.raises(ValueError, match="params="):
            Model("m", "/m", "m", params=bad)
        with pytest.raises(ValueError, match="non_embedding_params="):
            Model("m", "/m", "m", params=10**12, non_embedding_params=bad)


@pytest.mark.parametrize(
    "suffix, text, value",
    [
        (".csv", "model,params\nm0,99999999999999999999999\n", "99999999999999999999999"),
        (".yaml", "m0: 99999999999999999999999\n", "99999999999999999999999"),
        (".yaml", "m0: 0\n", "0"),
    ],
)
def test_mirage_report_params_file_with_an_impossible_count_is_one_line(tmp_path, capsys, suffix, text, value):
    from conftest import SIZES, model_samples, write_lm_eval_run
    from mirage_metrics.cli import main

    source = tmp_path / "runs"
    for i, size in enumerate(SIZES[:2]):
        samples = {"mirage_arith_2dm_gen": model_samples(i, size)["mirage_arith_2dm_gen"]}
        write_lm_eval_run(source / f"ckpt__m{i}", f"ckpt/m{i}", int(size), samples)
    params = tmp_path / f"params{suffix}"
    params.write_text(text)
    assert main(["report", str(source), "--out", str(tmp_path / "report"), "--param-counts", str(params)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mirage report: error: {params}") and err.count("\n") == 1
    assert f"params {value} " in err or f"params '{value}' " in err  # the CLI writes params= as its flag


def test_a_family_file_that_is_a_folder_or_not_text_is_one_line(tmp_path):
    with pytest.raises(ValueError, match=f"^family file {tmp_path} cannot be read"):
        load_family_file(tmp_path)
    binary = tmp_path / "fam.yaml"
    binary.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ValueError, match=f"^family file {binary} is not UTF-8 text"):
        load_family_file(binary)


def test_yaml_anchors_and_merge_keys_still_work(tmp_path):
    family_file = tmp_path / "fam.yaml"
    family_file.write_text(
        "name: x\nmodels:\n  - &a {name: a, path: EleutherAI/pythia-70m, params: 5}\n  - <<: *a\n    name: b\n"
    )
    assert [(m.name, m.params) for m in load_family_file(family_file).models] == [("a", 5), ("b", 5)]


def test_family_file_training_step_and_tokens_and_pythia_step_revisions(tmp_path):
    family_file = tmp_path / "fam.yaml"
    family_file.write_text(
        "name: over-training\nmodels:\n"
        "  - {name: a, path: EleutherAI/pythia-160m, revision: step1000, params: 5}\n"
        "  - {name: b, path: EleutherAI/pythia-160m, revision: step143000, params: 5, tokens: 300000000000}\n"
        "  - {name: c, path: EleutherAI/pythia-160m, revision: step0, params: 5}\n"
        "  - {name: d, path: q, revision: step9, step: 7, tokens: 0, params: 5}\n"
        "  - {name: e, path: q, revision: main, params: 5}\n"
        "  - {name: f, path: q, revision: mystep12, params: 5}\n"
    )
    models = load_family_file(family_file).models
    assert [(m.step, m.tokens) for m in models] == [
        (1000, None),
        (143000, 300_000_000_000),
        (0, None),
        (7, 0),  # a step given in the file wins over the revision's
        (None, None),
        (None, None),
    ]


def test_cli_lists_training_steps_and_tokens_when_a_model_has_them(tmp_path, capsys):
    from mirage_metrics.cli import main

    assert main(["families"]) == 0
    assert "step" not in capsys.readouterr().out.splitlines()[0]  # the built-in families: final checkpoints
    family_file = tmp_path / "fam.yaml"
    family_file.write_text(
        "name: run\nmodels:\n  - {name: a, path: EleutherAI/pythia-160m, revision: step1000, params: 5}\n"
        "  - {name: b, path: EleutherAI/pythia-160m, params: 5, step: 143000, tokens: 299892736000}\n"
    )
    assert main(["families", "--family-file", str(family_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-2:] == ["step", "tokens"]
    assert lines[-2].split()[-2:] == ["1,000", "-"] and lines[-1].split()[-2:] == ["143,000", "299,892,736,000"]
