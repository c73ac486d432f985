"""Hugging Face ``evaluate`` modules, one Space-ready folder each; see ``mirage_metrics.load``."""
