"""``mirage install-metrics``: make ``evaluate.load("mirage/<name>")`` work offline."""

from __future__ import annotations

EPILOG = """\
Then, with HF_EVALUATE_OFFLINE=1 (else evaluate asks the Hub first), evaluate.load("mirage/token_edit") \
loads the bundled module. A published Hub Space of the same name wins over this copy whenever evaluate reaches the Hub. \
The cache is evaluate's: $HF_MODULES_CACHE, else $HF_HOME/modules (default ~/.cache/huggingface/modules)."""


def register(subparsers) -> None:
    from mirage_metrics.paths import evaluate_module_names

    parser = subparsers.add_parser(
        "install-metrics",
        help='write the bundled evaluate modules into evaluate\'s cache, for evaluate.load("mirage/token_edit")',
        description=f"Write every bundled evaluate module ({', '.join(evaluate_module_names())}) into "
        "evaluate's modules cache as mirage/<name>, as the newest cached copy.",
        epilog=EPILOG,
    )
    parser.set_defaults(func=run)


def run(args) -> int:
    from mirage_metrics.install import HUB_ORGANISATION, install_metrics

    for script in install_metrics():
        print(f"{HUB_ORGANISATION}/{script.stem}: {script}")
    return 0
