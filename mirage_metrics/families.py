"""Model families: sets of checkpoints of one architecture at several sizes.

Built in: Pythia (14m ... 12b, standard and ``-deduped``) and GPT-2 (small ... xl),
with Hub ids and exact total / non-embedding parameter counts. User families come
from a YAML file (see :func:`load_family_file`); local checkpoint folders are
first-class, and a missing parameter count is read from the checkpoint without
loading its weights.

>>> family = get_family("pythia")
>>> [(m.name, m.path, m.params) for m in family.select(["70m", "160m"])]
[('pythia-70m', 'EleutherAI/pythia-70m', 70426624), ('pythia-160m', 'EleutherAI/pythia-160m', 162322944)]
>>> get_family("gpt2").models[-1].non_embedding_params
1475561600
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = [
    "Model",
    "Family",
    "builtin_families",
    "get_family",
    "load_family_file",
    "count_parameters",
]


@dataclass(frozen=True)
class Model:
    """One checkpoint: ``path`` is a local folder or a Hub id; ``size`` is what ``--sizes`` matches."""

    name: str
    path: str
    size: str
    params: int | None = None
    non_embedding_params: int | None = None
    revision: str | None = None


@dataclass(frozen=True)
class Family:
    name: str
    models: tuple[Model, ...]

    def select(self, sizes: list[str] | None = None) -> list[Model]:
        """The models whose ``size`` (or name) is in ``sizes``, in the family's order; all when None.

        >>> get_family("gpt2").select(["xl", "small"])[0].name
        'gpt2'
        >>> get_family("gpt2").select(["huge"])
        Traceback (most recent call last):
        ...
        ValueError: sizes: 'huge' is not in family 'gpt2'; choose from small, medium, large, xl
        """
        if not sizes:
            return list(self.models)
        known = {m.size for m in self.models} | {m.name for m in self.models}
        unknown = [size for size in sizes if size not in known]
        if unknown:
            choices = ", ".join(m.size for m in self.models)
            raise ValueError(
                f"sizes: {', '.join(map(repr, unknown))} is not in family {self.name!r}; choose from {choices}"
            )
        wanted = set(sizes)
        return [m for m in self.models if m.size in wanted or m.name in wanted]


# size label -> (total, non-embedding) parameters, from DESIGN.md.
PYTHIA_PARAMS = {
    "14m": (14_067_712, 1_189_888),
    "31m": (30_494_720, 4_739_072),
    "70m": (70_426_624, 18_915_328),
    "160m": (162_322_944, 85_056_000),
    "410m": (405_334_016, 302_311_424),
    "1b": (1_011_781_632, 805_736_448),
    "1.4b": (1_414_647_808, 1_208_602_624),
    "2.8b": (2_775_208_960, 2_517_652_480),
    "6.9b": (6_857_302_016, 6_444_163_072),
    "12b": (11_846_072_320, 11_327_027_200),
}
# size label -> (Hub id, total, non-embedding).
GPT2_MODELS = {
    "small": ("openai-community/gpt2", 124_439_808, 85_056_000),
    "medium": ("openai-community/gpt2-medium", 354_823_168, 302_311_424),
    "large": ("openai-community/gpt2-large", 774_030_080, 708_390_400),
    "xl": ("openai-community/gpt2-xl", 1_557_611_200, 1_475_561_600),
}


def _pythia(suffix: str) -> Family:
    models = tuple(
        Model(
            name=f"pythia-{size}{suffix}",
            path=f"EleutherAI/pythia-{size}{suffix}",
            size=size,
            params=total,
            non_embedding_params=non_embedding,
        )
        for size, (total, non_embedding) in PYTHIA_PARAMS.items()
    )
    return Family(f"pythia{suffix}", models)


def builtin_families() -> dict[str, Family]:
    """The built-in families by name: ``pythia``, ``pythia-deduped``, ``gpt2``.

    >>> sorted(builtin_families())
    ['gpt2', 'pythia', 'pythia-deduped']
    """
    gpt2 = Family(
        "gpt2",
        tuple(
            Model(name=hub_id.split("/")[-1], path=hub_id, size=size, params=total, non_embedding_params=non_emb)
            for size, (hub_id, total, non_emb) in GPT2_MODELS.items()
        ),
    )
    return {"pythia": _pythia(""), "pythia-deduped": _pythia("-deduped"), "gpt2": gpt2}


def get_family(name: str) -> Family:
    """A built-in family by name."""
    families = builtin_families()
    if name not in families:
        raise ValueError(
            f"family={name!r} is not built in; choose one of {sorted(families)} or pass --family-file FILE"
        )
    return families[name]


def _require(mapping: dict, key: str, where: str) -> object:
    if key not in mapping or mapping[key] in (None, ""):
        raise ValueError(f"{where}: missing required key {key!r}")
    return mapping[key]


def load_family_file(path: str | Path) -> Family:
    """A user family from YAML: ``name`` and ``models`` (each ``name``, ``path``, optional ``params``, ``revision``).

    Relative checkpoint paths are resolved against the YAML file's folder; a ``path``
    that is not an existing folder is taken as a Hub id. A missing ``params`` is
    counted from the checkpoint (:func:`count_parameters`).
    """
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"family file {path} does not exist; pass the path of a YAML family file") from None
    except yaml.YAMLError as error:
        raise ValueError(f"family file {path} is not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a mapping with keys 'name' and 'models'")
    family_name = str(_require(document, "name", str(path)))
    entries = _require(document, "models", str(path))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: 'models' must be a list of {{name, path}} mappings")
    models, seen = [], set()
    for index, entry in enumerate(entries):
        where = f"{path}: models[{index}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be a mapping with keys 'name' and 'path'")
        name = str(_require(entry, "name", where))
        if "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"{where}: name={name!r} names the output folder; use no slashes and no leading dot")
        if name in seen:
            raise ValueError(f"{where}: duplicate model name {name!r}; names must be unique")
        seen.add(name)
        location = str(_require(entry, "path", where))
        local = (path.parent / location).expanduser()
        if local.is_dir():
            location = str(local.resolve())
        revision = entry.get("revision")
        params = entry.get("params")
        if params is None:
            params = count_parameters(location, revision=revision)
        elif isinstance(params, bool) or not isinstance(params, int) or params <= 0:
            raise ValueError(f"{where}: params={params!r} must be a positive integer (or left out to count it)")
        non_embedding = entry.get("non_embedding_params")
        models.append(Model(name, location, name, int(params), non_embedding, revision))
    return Family(family_name, tuple(models))


def _safetensors_files(folder: Path) -> list[Path]:
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
        return [folder / shard for shard in sorted(shards)]
    single = folder / "model.safetensors"
    return [single] if single.is_file() else []


def _safetensors_count(file: Path) -> int:
    """Parameters in one safetensors file, from its JSON header only."""
    with open(file, "rb") as handle:
        (header_size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(header_size))
    total = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        count = 1
        for dim in info["shape"]:
            count *= dim
        total += count
    return total


def _count_from_config(location: str, revision: str | None) -> int:
    """Build the model on the meta device (no memory for weights) and count its parameters."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(location, revision=revision)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return int(model.num_parameters())


def count_parameters(location: str | Path, revision: str | None = None) -> int:
    """Total parameters of a checkpoint (local folder or Hub id) without loading its weights.

    Local folders: the safetensors headers, else the model built from ``config.json``
    on the meta device. Hub ids: the Hub's safetensors metadata, else the config.
    """
    folder = Path(location)
    if folder.is_dir():
        files = _safetensors_files(folder)
        if files:
            return sum(_safetensors_count(file) for file in files)
        if not (folder / "config.json").is_file():
            raise ValueError(
                f"{folder} holds neither model.safetensors nor config.json; pass a checkpoint folder "
                "saved with save_pretrained, or give 'params' in the family file"
            )
        return _count_from_config(str(folder), revision)
    from huggingface_hub import get_safetensors_metadata
    from huggingface_hub.errors import NotASafetensorsRepoError

    try:
        try:
            metadata = get_safetensors_metadata(str(location), revision=revision)
        except NotASafetensorsRepoError:
            return _count_from_config(str(location), revision)
    except OSError as error:
        raise ValueError(
            f"cannot count the parameters of {location!r}: it is not a local folder and the Hub "
            f"did not answer ({error}); give 'params' in the family file"
        ) from None
    return int(sum(metadata.parameter_count.values()))
