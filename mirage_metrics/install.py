"""Put the bundled ``evaluate`` modules where ``evaluate.load("mirage/<name>")`` finds them offline.

evaluate 0.4 resolves a community path ``"org/name"`` from the Hub Space of that
name; when the Hub does not answer (no network, or ``HF_EVALUATE_OFFLINE=1``), it
falls back to its modules cache and imports the newest
``$HF_MODULES_CACHE/evaluate_modules/metrics/org--name/<64-hex hash>/name.py``.
:func:`install_metrics` writes each bundled module there, in the layout evaluate
itself creates when it downloads a Space (package ``__init__.py`` files, the
script under the hash of its code, a JSON note of where it came from), with a
fresh modification time so that it is the newest copy.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as cache:
...     scripts = install_metrics(cache)
...     [s.relative_to(cache).parts[:3] for s in scripts][0]
('evaluate_modules', 'metrics', 'mirage--brier')
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from mirage_metrics.paths import evaluate_module_names, evaluate_path

__all__ = ["HUB_ORGANISATION", "install_metrics", "modules_cache"]

HUB_ORGANISATION = "mirage"


def modules_cache() -> Path:
    """evaluate's modules cache: ``$HF_MODULES_CACHE``, else ``$HF_HOME/modules`` (as evaluate reads them)."""
    from evaluate import config

    return Path(config.HF_MODULES_CACHE)


def _touch_init(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").touch()


def install_metrics(cache: str | os.PathLike | None = None) -> list[Path]:
    """Write every bundled module into evaluate's modules cache as ``mirage/<name>``; return the scripts written.

    ``cache`` defaults to :func:`modules_cache`. Rerunning is safe: an unchanged
    module keeps its folder and only gets a fresh modification time.
    """
    from evaluate import config
    from evaluate.loading import files_to_hash

    root = Path(cache) if cache is not None else modules_cache()
    dynamic = root / config.MODULE_NAME_FOR_DYNAMIC_MODULES
    _touch_init(dynamic)
    _touch_init(dynamic / "metrics")
    written = []
    for name in evaluate_module_names():
        source = Path(evaluate_path(name))
        script = source / f"{name}.py"
        module_dir = dynamic / "metrics" / f"{HUB_ORGANISATION}--{name}"
        _touch_init(module_dir)
        hashed = module_dir / files_to_hash([str(script)])
        _touch_init(hashed)
        target = hashed / script.name
        shutil.copyfile(script, target)
        if (source / "README.md").is_file():
            shutil.copyfile(source / "README.md", hashed / "README.md")
        note = {"original file path": str(script), "local file path": str(target)}
        (hashed / f"{name}.json").write_text(json.dumps(note), encoding="utf-8")
        now = time.time()
        os.utime(target, (now, now))
        written.append(target)
    return written
