"""The ``metric_list`` of each bundled task config, written from the metrics' declarations.

lm-eval aggregates only the metrics a task's ``metric_list`` names, so every
metric a ``process_results`` hook gives must be listed there, with its direction.
Those lists are not written by hand: :func:`metric_list_yaml` renders a
producer's list from :func:`mirage_metrics.registry.produced_by` (a by-length
metric once per L of :data:`LENGTHS`, aggregated by the NaN-skipping mean), and
``python -m mirage_metrics.task_configs`` rewrites the ``metric_list:`` section of
each template in :data:`TEMPLATES`; a test checks the committed files are up to date.

>>> print(metric_list_yaml("mirage_bb_ll"), end="")
metric_list:
  - metric: per_char_prob
    aggregation: mean
    higher_is_better: true
  - metric: target_log_prob
    aggregation: mean
    higher_is_better: true
  - metric: greedy_match
    aggregation: mean
    higher_is_better: true
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mirage_metrics import registry
from mirage_metrics.arithmetic import MAX_ANSWER_LENGTH
from mirage_metrics.atomic_files import write_text
from mirage_metrics.lm_eval_metrics import PREFIX_LENGTHS
from mirage_metrics.paths import tasks_path
from mirage_metrics.task_forms import ARITH_GEN, ARITH_LL, BIGBENCH_GEN, BIGBENCH_LL, BIGBENCH_MC

__all__ = ["TEMPLATES", "LENGTHS", "metric_list_yaml", "with_metric_list", "write_metric_lists"]

#: Per producer, the config (relative to :func:`mirage_metrics.paths.tasks_path`) holding its ``metric_list``.
TEMPLATES = {
    ARITH_GEN: "arith/_gen.yaml",
    ARITH_LL: "arith/_ll.yaml",
    BIGBENCH_GEN: "bigbench/_gen_template_yaml",
    BIGBENCH_LL: "bigbench/_ll_template_yaml",
    BIGBENCH_MC: "bigbench/_mc_template_yaml",
}
#: Per producer, the lengths L of its by-length metrics (``<name>_L{L}``): those its hook computes.
LENGTHS = {ARITH_GEN: tuple(PREFIX_LENGTHS), ARITH_LL: tuple(range(1, MAX_ANSWER_LENGTH + 1))}
_NANMEAN = "!function mirage_metrics.lm_eval_metrics.nanmean"
_SECTION = re.compile(r"^metric_list:\n(?:[ -].*\n?)*", re.MULTILINE)


def _entry(name: str, higher_is_better: bool, aggregation: str) -> str:
    return (
        f"  - metric: {name}\n    aggregation: {aggregation}\n    higher_is_better: {str(higher_is_better).lower()}\n"
    )


def metric_list_yaml(producer: str) -> str:
    """The ``metric_list:`` section of ``producer``'s config: the metrics with an overall value in declaration order, then
    for each L its by-length ones."""
    infos = registry.produced_by(producer)
    if not infos:
        raise ValueError(f"producer={producer!r} gives no declared metric; use one of {list(TEMPLATES)}")
    entries = []
    for info in (info for info in infos if info.overall):
        aggregation = f"!function {info.aggregation}" if info.aggregation else "mean"
        entries.append(_entry(info.name, info.higher_is_better, aggregation))
    for length in LENGTHS.get(producer, ()):
        entries += [_entry(f"{i.name}_L{length}", i.higher_is_better, _NANMEAN) for i in infos if i.by_length]
    return "metric_list:\n" + "".join(entries)


def with_metric_list(text: str, producer: str) -> str:
    """``text`` (a task config) with its ``metric_list:`` section replaced by :func:`metric_list_yaml`."""
    if len(_SECTION.findall(text)) != 1:
        raise ValueError(f"the config of {producer!r} must hold exactly one top-level 'metric_list:' section")
    return _SECTION.sub(lambda _: metric_list_yaml(producer), text)


def write_metric_lists(root: str | Path | None = None) -> list[Path]:
    """Rewrite the ``metric_list`` of every template under ``root`` (default: the bundled tasks); return the
    files that changed."""
    root = Path(root) if root is not None else tasks_path()
    changed = []
    for producer, relative in TEMPLATES.items():
        path = root / relative
        text = path.read_text(encoding="utf-8")
        updated = with_metric_list(text, producer)
        if updated != text:
            write_text(updated, path)
            changed.append(path)
    return changed


if __name__ == "__main__":
    for written in write_metric_lists(sys.argv[1] if len(sys.argv) > 1 else None):
        print(f"updated {written}")
