"""Plots of a vision sweep: each metric against parameters (log x), one line per setting, 95% CI bars.

Only draws what :mod:`mirage_metrics.vision.study` computed (the rows of results.csv).

>>> import pandas as pd, tempfile
>>> frame = pd.DataFrame({"study": "autoencoder", "model": ["h2", "h4"], "params": [10, 20], "metric": "mse",
...                       "setting": "", "n": 5, "value": [0.5, 0.2], "ci_low": [0.4, 0.1], "ci_high": [0.6, 0.3]})
>>> [p.name for p in plot_results(frame, tempfile.mkdtemp())]
['autoencoder_mse.png']
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from mirage_metrics.atomic_files import atomic_path  # noqa: E402
from mirage_metrics.registry import label as metric_label  # noqa: E402
from mirage_metrics.registry import metric_info  # noqa: E402

__all__ = ["plot_results"]

SETTING_NAMES = {"reconstruction_c": "c", "image_accuracy": "L", "subset_accuracy": "L"}


def plot_results(frame: pd.DataFrame, out_dir: Union[str, Path]) -> list[Path]:
    """One PNG per (study, metric) in ``frame``, written to ``out_dir/<study>_<metric>.png``; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = frame.assign(setting=frame["setting"].fillna("").astype(str))
    paths = []
    for (study, metric), rows in frame.groupby(["study", "metric"], sort=False):
        label, kind = metric_label(metric), metric_info(metric).kind
        figure, axes = plt.subplots(figsize=(5.5, 4))
        for setting, curve in rows.groupby("setting", sort=True):
            curve = curve.sort_values("params")
            errors = [curve["value"] - curve["ci_low"], curve["ci_high"] - curve["value"]]
            name = f"{SETTING_NAMES.get(metric, 'setting')} = {setting}" if setting else None
            axes.errorbar(curve["params"], curve["value"], yerr=errors, marker="o", capsize=3, label=name)
        axes.set_xscale("log")
        axes.set_xlabel("Parameters")
        axes.set_ylabel(label)
        axes.set_title(f"{study}: {metric}" + (f" ({kind})" if kind else ""))
        if rows["setting"].ne("").any():
            axes.legend(fontsize="small")
        path = out_dir / f"{study}_{metric}.png"
        with atomic_path(path) as temporary:
            figure.savefig(temporary, format="png", dpi=110, bbox_inches="tight")
        plt.close(figure)
        paths.append(path)
    return paths
