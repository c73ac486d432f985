"""The paper's vision studies (installed as ``mirage_metrics.vision``), run by ``mirage vision``.

- :mod:`~mirage_metrics.vision.data`: CIFAR100 and Omniglot from disk or torchvision, synthetic stand-ins.
- :mod:`~mirage_metrics.vision.autoencoder`: the shallow CIFAR100 autoencoder (paper Fig 7).
- :mod:`~mirage_metrics.vision.omniglot`: the Omniglot sequence transformer (paper Fig 8).
- :mod:`~mirage_metrics.vision.training`: what both training loops share.
- :mod:`~mirage_metrics.vision.defaults`: every default of the sweeps (epochs, batch sizes, sizes, ...).
- :mod:`~mirage_metrics.vision.study`: resumable, shardable size sweeps writing per-sample rows.
- :mod:`~mirage_metrics.vision.samples`: those rows (``samples.csv``) in the schema ``mirage report`` reads.
- :mod:`~mirage_metrics.vision.sections`: what each study is, as a ``mirage report`` section.
"""
