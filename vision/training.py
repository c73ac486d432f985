"""What the two studies' training loops share: the run log, parameter counts, shuffled minibatches.

>>> count_parameters(torch.nn.Linear(3, 2))
8
>>> TrainingLog(images=100, seconds=2.0, final_loss=0.1).images_per_second
50.0
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["TrainingLog", "count_parameters", "minibatches", "synchronize"]


@dataclass
class TrainingLog:
    """What a training run did: images seen, wall seconds, last minibatch loss."""

    images: int
    seconds: float
    final_loss: float

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else float("inf")


def count_parameters(model: nn.Module) -> int:
    """Total number of parameters (the x axis of every scaling plot)."""
    return sum(p.numel() for p in model.parameters())


def minibatches(count: int, batch_size: int, generator: torch.Generator, device) -> list[torch.Tensor]:
    """Index tensors of one shuffled epoch over ``count`` samples, made on ``device``.

    >>> batches = minibatches(5, 2, torch.Generator().manual_seed(0), "cpu")
    >>> [len(b) for b in batches], sorted(torch.cat(batches).tolist())
    ([2, 2, 1], [0, 1, 2, 3, 4])
    """
    if int(batch_size) < 1:
        raise ValueError(f"batch_size={batch_size} must be a positive integer")
    order = torch.randperm(count, generator=generator).to(device)
    return list(order.split(int(batch_size)))


def synchronize(device: torch.device) -> None:
    """Wait for queued CUDA work, so wall-clock timings are honest."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
