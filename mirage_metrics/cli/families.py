"""``mirage families``: list the built-in model families (and those of a family file)."""

from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "families",
        help="list the model families mirage sweep knows (Pythia, GPT-2, or a --family-file)",
        description="List model families: name, size, checkpoint (Hub id or folder), total and non-embedding parameters "
        "(and the training step and tokens of checkpoints that record them).",
    )
    parser.add_argument("--family-file", help="also list the family defined in this YAML file")
    parser.set_defaults(func=run)


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def run(args) -> int:
    from mirage_metrics.families import builtin_families, load_family_file

    families = list(builtin_families().values())
    if args.family_file:
        families.append(load_family_file(args.family_file))
    models = [(family, model) for family in families for model in family.models]
    # How far each checkpoint was trained, when a listed model says (a family file's step/tokens, a revision stepN).
    trained = [field for field in ("step", "tokens") if any(getattr(model, field) is not None for _, model in models)]
    rows = [("family", "size", "model", "checkpoint", "params", "non-embedding", *trained)]
    for family, model in models:
        rows.append(
            (
                family.name,
                model.size,
                model.name,
                model.path,
                _count(model.params),
                _count(model.non_embedding_params),
                *(_count(getattr(model, field)) for field in trained),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(
                cell.rjust(width) if i >= 4 else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths))
            ).rstrip()
        )
    return 0
