"""The paper's vision studies (installed as ``mirage_metrics.vision``)."""
