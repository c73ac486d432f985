"""``--shard i/n``: split a list of jobs (models, sizes) across n independent runs.

One convention for every command: i counts from 1, and shard i takes every n-th
item starting at the i-th, so each shard mixes small and large models.
``--shard auto`` takes i and n from a Slurm job array (:func:`slurm_array_shard`).

>>> parse_shard("2/4")
(2, 4)
>>> shard_items(["70m", "160m", "410m", "1b", "1.4b"], *parse_shard("2/2"))
['160m', '1b']
>>> parse_shard("auto", {"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "7",
...                      "SLURM_ARRAY_TASK_COUNT": "8"})
(4, 8)
>>> parse_shard("0/2")
Traceback (most recent call last):
...
ValueError: shard='0/2' must be i/n with 1 <= i <= n, e.g. 1/4 for the first of four jobs, or auto in a Slurm job array
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TypeVar

__all__ = ["parse_shard", "shard_items", "slurm_array_shard", "SLURM_ARRAY_VARIABLES"]

Item = TypeVar("Item")

# What sbatch --array sets in every task (the step is derived from these, not read).
SLURM_ARRAY_VARIABLES = (
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_COUNT",
)


def parse_shard(text: str, environ: Mapping[str, str] | None = None) -> tuple[int, int]:
    """``"i/n"`` (1 <= i <= n) -> ``(i, n)``; ``"auto"`` -> this Slurm array task's shard (``environ``: os.environ)."""
    if text == "auto":
        shard = slurm_array_shard(os.environ if environ is None else environ)
        if shard is None:
            raise ValueError(
                "shard='auto' takes i/n from a Slurm job array (sbatch --array=0-7), but SLURM_ARRAY_TASK_ID is "
                "not set; pass --shard i/n outside one"
            )
        return shard
    try:
        index, count = (int(part) for part in str(text).split("/"))
    except ValueError:
        index, count = 0, 0
    if not 1 <= index <= count:
        raise ValueError(
            f"shard={text!r} must be i/n with 1 <= i <= n, e.g. 1/4 for the first of four jobs, "
            "or auto in a Slurm job array"
        )
    return index, count


def slurm_array_shard(environ: Mapping[str, str]) -> tuple[int, int] | None:
    """``(i, n)`` for this task of a Slurm job array, None outside one (no ``SLURM_ARRAY_TASK_ID``).

    Array ids may start anywhere (``--array=0-7`` and ``--array=1-8`` both give 1/8 ...
    8/8) and may step (``--array=0-14:2``); a list that is not evenly spaced
    (``--array=1,2,7``) is refused, since its ids cannot be numbered from the
    task's own variables alone.

    >>> slurm_array_shard({"SLURM_ARRAY_TASK_ID": "8", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "8",
    ...                    "SLURM_ARRAY_TASK_COUNT": "8"})
    (8, 8)
    >>> slurm_array_shard({}) is None
    True
    """
    if "SLURM_ARRAY_TASK_ID" not in environ:
        return None
    try:
        task, low, high, count = (int(environ[name]) for name in SLURM_ARRAY_VARIABLES)
    except (KeyError, ValueError):
        values = ", ".join(f"{name}={environ.get(name)!r}" for name in SLURM_ARRAY_VARIABLES)
        raise ValueError(
            f"shard='auto': Slurm's array variables are incomplete or not integers ({values}); "
            "submit with sbatch --array, or pass --shard i/n"
        ) from None
    step, uneven = divmod(high - low, count - 1) if count > 1 else (1, 0)
    index, off_grid = divmod(task - low, step) if step > 0 else (0, 1)
    if count < 1 or uneven or off_grid or not 0 <= index < count:
        raise ValueError(
            f"shard='auto' needs evenly spaced array ids such as --array=0-7 or --array=1-15:2; this array has "
            f"{count} tasks from {low} to {high} (task {task}); pass --shard i/n per task instead"
        )
    return index + 1, count


def shard_items(items: Sequence[Item], index: int, count: int) -> list[Item]:
    """Shard ``index`` of ``count`` (1-based): every ``count``-th item starting at the ``index``-th."""
    return list(items[index - 1 :: count])
