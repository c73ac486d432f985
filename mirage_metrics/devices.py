"""``--device``: one check for every command that trains or evaluates (``auto``, ``cpu``, ``cuda``, ``cuda:N``, …),
and the CPU cores work may be spread over.

>>> resolve_device("cpu")
'cpu'
>>> resolve_device("auto") in ("cpu", "cuda")
True
>>> resolve_device("gpu")
Traceback (most recent call last):
...
ValueError: device='gpu' is not a torch device; choose cpu, cuda, cuda:N or auto
"""

from __future__ import annotations

import os

__all__ = ["resolve_device", "usable_cpus"]


def usable_cpus() -> int:
    """CPU cores this process may run on (its affinity where the OS tells it, else every core).

    >>> usable_cpus() >= 1
    True
    """
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def resolve_device(requested: str = "auto") -> str:
    """``"auto"`` is CUDA when available, else CPU; any other name is checked to be a usable torch device."""
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(requested)
    except (RuntimeError, TypeError):
        raise ValueError(f"device={requested!r} is not a torch device; choose cpu, cuda, cuda:N or auto") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={requested!r} but CUDA is not available here; use --device cpu or auto")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(
            f"device={requested!r} but this machine has {torch.cuda.device_count()} CUDA devices (cuda:0 to "
            f"cuda:{torch.cuda.device_count() - 1}); use one of them"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={requested!r} but MPS (Apple GPU) is not available here; use --device cpu or auto")
    return requested
