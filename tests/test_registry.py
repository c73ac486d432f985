"""One metric registry: every metric a task config declares is known there, with the same direction."""

from pathlib import Path

import pytest
import yaml

from mirage_metrics import registry
from mirage_metrics.paths import tasks_path


class _TaskLoader(yaml.SafeLoader):
    """Reads lm-eval YAML with its ``!function`` tags kept as plain strings."""


_TaskLoader.add_multi_constructor("!", lambda loader, suffix, node: f"!{suffix} {loader.construct_scalar(node)}")


def _declared_metrics():
    for path in sorted(Path(tasks_path()).rglob("*yaml")):
        config = yaml.load(path.read_text(encoding="utf-8"), Loader=_TaskLoader) or {}
        for entry in config.get("metric_list", []) if isinstance(config, dict) else []:
            metric = entry["metric"]
            if not metric.startswith("!function"):
                yield path.name, metric, entry.get("higher_is_better")


DECLARED = list(_declared_metrics())


def test_task_configs_declare_metrics():
    assert len(DECLARED) > 10


@pytest.mark.parametrize("config, metric, higher_is_better", DECLARED)
def test_every_declared_metric_is_registered_with_its_direction(config, metric, higher_is_better):
    info = registry.metric_info(metric)
    assert info.kind != registry.UNKNOWN, f"{config}: metric {metric!r} is not in mirage_metrics.registry.METRICS"
    assert info.higher_is_better == higher_is_better, f"{config}: {metric!r} higher_is_better disagrees"


def test_every_registered_metric_has_a_direction_a_kind_and_a_range():
    for name, info in registry.METRICS.items():
        assert info.name == name
        assert info.higher_is_better in (True, False)
        assert info.kind in (registry.DISCONTINUOUS, registry.CONTINUOUS, registry.WHOLE_ANSWER)
        assert info.low < info.high
        assert info.label


def test_the_directions_the_report_once_got_wrong():
    for lower in ("mse", "perplexity", "bits_per_byte", "token_edit_distance_L4", "brier_score,none"):
        assert registry.direction(lower) == -1.0
    for discontinuous in ("exact_str_match_ignore_case", "acc", "subset_accuracy", "reconstruction_c"):
        assert registry.is_discontinuous(discontinuous) and not registry.is_continuous(discontinuous)


def test_unknown_metrics_are_never_guessed():
    info = registry.metric_info("some_new_metric_L2,none")
    assert (info.kind, info.higher_is_better) == (registry.UNKNOWN, None)
    assert registry.metric_info("some_new_metric", higher_is_better=False).sign == -1.0
    # A known metric keeps its own direction whatever lm-eval's single flag for a dict-returning hook says.
    assert registry.metric_info("token_edit_distance_L3", higher_is_better=True).higher_is_better is False
