"""lm-eval task configs of mirage-metrics (installed as ``mirage_metrics.tasks``).

Pass this folder to lm-eval with ``--include_path "$(mirage tasks-path)"``.
"""
