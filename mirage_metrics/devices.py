"""``--device``: one check for every command that trains or evaluates (``auto``, ``cpu``, ``cuda``, ``cuda:N``, …).

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

__all__ = ["resolve_device"]


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
    return requested
