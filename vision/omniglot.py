"""The paper's Omniglot autoregressive transformer (its Fig 8): a conv image embedder + a decoder-only transformer.

Design, after Schaeffer et al. (2023, Sec 5.2) and Chan et al. (2022, *Data
distributional properties drive emergent in-context learning in transformers*):
a sample is a sequence of L = 5 (image, label) pairs, fed as the tokens
``image_1, label_1, image_2, label_2, …, image_L``; a causal transformer predicts
the label of every image from that image and the pairs before it, and the loss is
the cross-entropy over all L predictions. As in Chan et al., each image becomes one
token through a small conv embedder, labels are learned embeddings, and the
sequences are mildly *bursty*: each draws its L images from only
``classes_per_sequence`` characters (default 5), so a label seen earlier in the
context can help later (in-context learning), while labels are the characters'
fixed classes (in-weights learning). Chan et al. find that strong burstiness
trades in-weights for in-context learning; on the 136-character subset, sequences
from 2 characters left the first image at chance after 12 epochs (the model only
copied labels), while 5 characters per sequence learn both, so every position,
the first included, improves with training and size.
The model size knob is the width ``d`` of both the embedder and the transformer.

Test sequences use held-out drawings of the training characters. The
discontinuous metric is the paper's: all of the first L images classified
correctly (:func:`mirage_metrics.metrics.subset_accuracy`), against the smooth
per-image accuracy.

>>> model = SequenceClassifier(num_classes=5, width=16, image_size=14)
>>> images = torch.rand(5, 4, 1, 14, 14)
>>> seq_images, seq_labels = sample_sequences(images, 3, torch.Generator().manual_seed(0))
>>> tuple(model(seq_images, seq_labels).shape)  # sequence × image × class logits
(3, 5, 5)
>>> correct = predict_correct(model, seq_images, seq_labels)
>>> correct.shape, correct.dtype
((3, 5), dtype('bool'))
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from mirage_metrics.vision import defaults
from mirage_metrics.vision.training import TrainingLog, synchronize

__all__ = [
    "SEQUENCE_LENGTH",
    "SequenceClassifier",
    "classifier_parameters",
    "sample_sequences",
    "train_sequence_classifier",
    "predict_correct",
]

SEQUENCE_LENGTH = 5


def _heads(width: int) -> int:
    """Heads of 16 dimensions where the width allows, else one head."""
    return width // 16 if width % 16 == 0 else 1


class SequenceClassifier(nn.Module):
    """Conv embedder (width/2 channels, two stride-2 convs, 4×4 pooled) + 2-layer causal transformer of width ``width``."""

    def __init__(self, num_classes: int, width: int = 64, image_size: int = defaults.IMAGE_SIZE, layers: int = 2):
        super().__init__()
        if int(width) < 4:
            raise ValueError(f"width={width} must be at least 4")
        if int(num_classes) < 2:
            raise ValueError(f"num_classes={num_classes} must be at least 2")
        width = int(width)
        channels = max(4, width // 2)
        self.embed_image = nn.Sequential(
            nn.Conv2d(1, channels, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(4),
            nn.Flatten(),
            nn.Linear(channels * 16, width),
        )
        self.embed_label = nn.Embedding(int(num_classes), width)
        self.position = nn.Parameter(0.02 * torch.randn(2 * SEQUENCE_LENGTH - 1, width))
        layer = nn.TransformerEncoderLayer(
            width, _heads(width), dim_feedforward=4 * width, dropout=0.0, batch_first=True, norm_first=True
        )
        self.transformer = nn.TransformerEncoder(layer, int(layers), enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, int(num_classes)))
        self.image_size = int(image_size)

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Logits (B, L, classes) for images (B, L, 1, S, S) with labels (B, L); label i is seen only after image i."""
        batch, length = labels.shape
        image_tokens = self.embed_image(images.reshape(batch * length, *images.shape[2:])).reshape(batch, length, -1)
        label_tokens = self.embed_label(labels)
        tokens = torch.stack([image_tokens, label_tokens], dim=2).reshape(batch, 2 * length, -1)[:, :-1]
        tokens = tokens + self.position[: tokens.shape[1]]
        mask = nn.Transformer.generate_square_subsequent_mask(tokens.shape[1], device=tokens.device)
        hidden = self.transformer(tokens, mask=mask, is_causal=True)
        return self.head(hidden[:, 0::2])


def classifier_parameters(num_classes: int, width: int, layers: int = 2) -> int:
    """Parameters of ``SequenceClassifier(num_classes, width, layers=layers)``, counted without building it.

    >>> classifier_parameters(5, 16)
    9629
    """
    classes, width = int(num_classes), int(width)
    channels = max(4, width // 2)
    embedder = 10 * channels + (9 * channels + 1) * channels + (16 * channels + 1) * width
    transformer_layer = 12 * width * width + 13 * width  # attention 4w² + 4w, feed-forward 8w² + 5w, two norms 4w
    head = 2 * width + (width + 1) * classes
    return embedder + classes * width + (2 * SEQUENCE_LENGTH - 1) * width + int(layers) * transformer_layer + head


def sample_sequences(
    images: torch.Tensor,
    num_sequences: int,
    generator: torch.Generator,
    *,
    classes_per_sequence: int = defaults.CLASSES_PER_SEQUENCE,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Bursty sequences from ``images`` (classes, drawings, 1, S, S): images (B, L, 1, S, S) and labels (B, L).

    Each sequence draws ``classes_per_sequence`` distinct classes, then each of its
    L items a random class among them and a random drawing of that class.
    """
    num_classes, drawings = images.shape[:2]
    if not 1 <= int(classes_per_sequence) <= num_classes:
        raise ValueError(f"classes_per_sequence={classes_per_sequence} must be between 1 and {num_classes}")
    pools = torch.rand(num_sequences, num_classes, generator=generator).argsort(dim=1)[:, :classes_per_sequence]
    which = torch.randint(int(classes_per_sequence), (num_sequences, SEQUENCE_LENGTH), generator=generator)
    labels = pools.gather(1, which)
    exemplars = torch.randint(drawings, (num_sequences, SEQUENCE_LENGTH), generator=generator)
    labels, exemplars = labels.to(images.device), exemplars.to(images.device)
    return images[labels, exemplars], labels


def train_sequence_classifier(
    model: SequenceClassifier,
    images: torch.Tensor,
    *,
    epochs: int = defaults.OMNIGLOT_EPOCHS,
    batch_size: int = defaults.OMNIGLOT_BATCH_SIZE,
    learning_rate: float = defaults.OMNIGLOT_LEARNING_RATE,
    classes_per_sequence: int = defaults.CLASSES_PER_SEQUENCE,
    seed: int = 0,
    progress: bool = True,
) -> TrainingLog:
    """Adam on the cross-entropy of all L labels; an epoch is as many sequences as cover ``images`` once."""
    if int(epochs) < 1:
        raise ValueError(f"epochs={epochs} must be a positive integer")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size={batch_size} must be a positive integer")
    generator = torch.Generator().manual_seed(int(seed))
    steps_per_epoch = math.ceil(images.shape[0] * images.shape[1] / (int(batch_size) * SEQUENCE_LENGTH))
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    model.train()
    loss = torch.zeros(())
    start = time.perf_counter()
    steps = tqdm(
        range(int(epochs) * steps_per_epoch),
        desc=f"omniglot width={model.head[1].in_features}",
        disable=not progress,
        leave=False,
    )
    for _ in steps:
        batch_images, batch_labels = sample_sequences(
            images, int(batch_size), generator, classes_per_sequence=classes_per_sequence
        )
        logits = model(batch_images, batch_labels)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch_labels.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    synchronize(images.device)
    seen = int(epochs) * steps_per_epoch * int(batch_size) * SEQUENCE_LENGTH
    return TrainingLog(images=seen, seconds=time.perf_counter() - start, final_loss=float(loss.detach()))


@torch.no_grad()
def predict_correct(
    model: SequenceClassifier, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1024
) -> np.ndarray:
    """Boolean (sequences × L): whether each image's most likely label is its true label."""
    model.eval()
    hits = [
        (model(chunk_images, chunk_labels).argmax(dim=-1) == chunk_labels).cpu()
        for chunk_images, chunk_labels in zip(images.split(batch_size), labels.split(batch_size))
    ]
    return torch.cat(hits).numpy()
