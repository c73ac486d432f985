"""The paper's shallow nonlinear autoencoder (its Fig 7): flatten → width-h bottleneck + ReLU → output.

Schaeffer et al. (2023, Sec 5.1) train shallow autoencoders of growing bottleneck
width on CIFAR100 with Adam on the MSE, then score reconstructions with a smooth
metric (per-sample MSE) and a discontinuous one (Reconstruction_c: MSE below c).
Training is minibatched from one tensor already on the device; evaluation returns
the reconstructions, and the metrics come from :mod:`mirage_metrics.metrics`.

>>> from mirage_metrics.vision.training import count_parameters
>>> model = ShallowAutoencoder(input_shape=(3, 32, 32), hidden=4)
>>> count_parameters(model)  # 2·3072·4 weights + 4 + 3072 biases
27652
>>> images = torch.rand(6, 3, 32, 32)
>>> log = train_autoencoder(model, images, epochs=1, batch_size=4, seed=0, progress=False)
>>> log.images, tuple(reconstruct(model, images).shape)
(6, (6, 3, 32, 32))
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn
from tqdm.auto import tqdm

from mirage_metrics.vision import defaults
from mirage_metrics.vision.training import TrainingLog, minibatches, synchronize

__all__ = ["ShallowAutoencoder", "autoencoder_parameters", "train_autoencoder", "reconstruct"]


class ShallowAutoencoder(nn.Module):
    """Flatten → Linear(D, h) → ReLU → Linear(h, D) → reshape; D = the image's number of values."""

    def __init__(self, input_shape: tuple[int, ...] = (3, 32, 32), hidden: int = 64):
        super().__init__()
        if int(hidden) < 1:
            raise ValueError(f"hidden={hidden} must be a positive bottleneck width")
        self.input_shape = tuple(int(s) for s in input_shape)
        dim = math.prod(self.input_shape)
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(dim, int(hidden)), nn.ReLU())
        self.decoder = nn.Linear(int(hidden), dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(images)).reshape(-1, *self.input_shape)


def autoencoder_parameters(hidden: int, input_shape: tuple[int, ...] = (3, 32, 32)) -> int:
    """Parameters of ``ShallowAutoencoder(input_shape, hidden)``, counted without building it: 2·D·h + h + D.

    >>> autoencoder_parameters(4)
    27652
    """
    dim = math.prod(input_shape)
    return 2 * dim * int(hidden) + int(hidden) + dim


def train_autoencoder(
    model: ShallowAutoencoder,
    images: torch.Tensor,
    *,
    epochs: int = defaults.AUTOENCODER_EPOCHS,
    batch_size: int = defaults.AUTOENCODER_BATCH_SIZE,
    learning_rate: float = defaults.AUTOENCODER_LEARNING_RATE,
    seed: int = 0,
    progress: bool = True,
) -> TrainingLog:
    """Adam on the mean squared error, shuffled minibatches of ``images`` (already on the model's device)."""
    if int(epochs) < 1:
        raise ValueError(f"epochs={epochs} must be a positive integer")
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(int(seed))
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    model.train()
    loss = torch.zeros(())
    start = time.perf_counter()
    for _ in tqdm(
        range(int(epochs)), desc=f"autoencoder h={model.decoder.in_features}", disable=not progress, leave=False
    ):
        for batch in minibatches(len(images), batch_size, generator, device):
            target = images[batch]
            loss = nn.functional.mse_loss(model(target), target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    synchronize(device)
    return TrainingLog(
        images=int(epochs) * len(images), seconds=time.perf_counter() - start, final_loss=float(loss.detach())
    )


@torch.no_grad()
def reconstruct(model: ShallowAutoencoder, images: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """The model's reconstructions of ``images``, on the CPU."""
    model.eval()
    return torch.cat([model(chunk).cpu() for chunk in images.split(int(batch_size))])
