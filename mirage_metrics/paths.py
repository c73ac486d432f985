"""Where the package's own files live, from a source checkout or an installed wheel.

``tasks/`` (lm-eval task configs) and ``vision/`` are top-level folders of the
source tree that ship inside the wheel as ``mirage_metrics.tasks`` and
``mirage_metrics.vision``; the ``evaluate`` modules live in
``mirage_metrics/evaluate_modules/<name>/<name>.py``.

>>> (tasks_path() / "__init__.py").is_file()
True
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["tasks_path", "evaluate_path", "evaluate_module_names"]


def tasks_path() -> Path:
    """The folder of lm-eval task configs, for ``lm_eval --include_path``."""
    return Path(str(resources.files("mirage_metrics.tasks")))


def _evaluate_root() -> Path:
    return Path(str(resources.files("mirage_metrics.evaluate_modules")))


def evaluate_module_names() -> list[str]:
    """Names of the bundled ``evaluate`` metric modules.

    >>> "token_edit" in evaluate_module_names()
    True
    """
    root = _evaluate_root()
    return sorted(p.name for p in root.iterdir() if (p / f"{p.name}.py").is_file())


def evaluate_path(name: str) -> str:
    """Local path of a bundled ``evaluate`` module, for ``evaluate.load(path)``.

    >>> Path(evaluate_path("brier")).name
    'brier'
    >>> evaluate_path("nope")
    Traceback (most recent call last):
    ...
    ValueError: name='nope' is not a mirage-metrics evaluate module; choose one of ...
    """
    names = evaluate_module_names()
    if name not in names:
        raise ValueError(
            f"name={name!r} is not a mirage-metrics evaluate module; choose one of {names}"
        )
    return str(_evaluate_root() / name)
