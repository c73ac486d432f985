"""``--shard i/n``: split a list of jobs (models, sizes) across n independent runs.

One convention for every command: i counts from 1, and shard i takes every n-th
item starting at the i-th, so each shard mixes small and large models.

>>> parse_shard("2/4")
(2, 4)
>>> shard_items(["70m", "160m", "410m", "1b", "1.4b"], *parse_shard("2/2"))
['160m', '1b']
>>> parse_shard("0/2")
Traceback (most recent call last):
...
ValueError: shard='0/2' must be i/n with 1 <= i <= n, e.g. 1/4 for the first of four jobs
"""

from __future__ import annotations

from typing import Sequence, TypeVar

__all__ = ["parse_shard", "shard_items"]

Item = TypeVar("Item")


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` (1 <= i <= n) -> ``(i, n)``."""
    try:
        index, count = (int(part) for part in str(text).split("/"))
    except ValueError:
        index, count = 0, 0
    if not 1 <= index <= count:
        raise ValueError(f"shard={text!r} must be i/n with 1 <= i <= n, e.g. 1/4 for the first of four jobs")
    return index, count


def shard_items(items: Sequence[Item], index: int, count: int) -> list[Item]:
    """Shard ``index`` of ``count`` (1-based): every ``count``-th item starting at the ``index``-th."""
    return list(items[index - 1 :: count])
