"""The paper's vision studies (installed as ``mirage_metrics.vision``), run by ``mirage vision``.

- :mod:`~mirage_metrics.vision.data`: CIFAR100 and Omniglot from disk or torchvision, synthetic stand-ins.
- :mod:`~mirage_metrics.vision.autoencoder`: the shallow CIFAR100 autoencoder (paper Fig 7).
- :mod:`~mirage_metrics.vision.omniglot`: the Omniglot sequence transformer (paper Fig 8).
- :mod:`~mirage_metrics.vision.training`: what both training loops share.
- :mod:`~mirage_metrics.vision.study`: resumable, shardable size sweeps writing ``results.csv``.
- :mod:`~mirage_metrics.vision.plots`: the plots; :mod:`~mirage_metrics.vision.report`: ``mirage report`` sections.
"""
