"""The vision studies' defaults, written once: the config dataclasses and ``mirage vision --help`` read them here.

This module imports nothing heavy, so ``mirage --help`` stays fast.

>>> import numpy as np
>>> BOTTLENECKS == tuple(int(h) for h in np.round(np.geomspace(2, 800, 10)))  # ten log-spaced widths
True
"""

#: Autoencoder bottleneck widths h: 1.5e4 to 4.9e6 parameters on CIFAR100 (3072 values per image).
BOTTLENECKS = (2, 4, 8, 15, 29, 56, 109, 211, 411, 800)
#: MSE thresholds c of Reconstruction_c.
THRESHOLDS = (0.003, 0.004)
AUTOENCODER_EPOCHS = 20
AUTOENCODER_BATCH_SIZE = 256
AUTOENCODER_LEARNING_RATE = 1e-3

#: Omniglot transformer widths d (embedder and transformer).
WIDTHS = (8, 16, 32, 64, 128, 256)
OMNIGLOT_EPOCHS = 50
OMNIGLOT_BATCH_SIZE = 64
OMNIGLOT_LEARNING_RATE = 3e-3
#: Omniglot images are resized to this square.
IMAGE_SIZE = 28
#: Test sequences of 5 (image, label) pairs.
TEST_SEQUENCES = 2000
#: Distinct characters per sequence (burstiness).
CLASSES_PER_SEQUENCE = 5
