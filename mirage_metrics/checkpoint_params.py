"""Parameter counts of checkpoints without loading their weights: safetensors headers, the Hub, or the config.

:func:`count_parameters` is what a family file's model without ``params`` gets
(:func:`mirage_metrics.families.load_family_file`).
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

from mirage_metrics.preflight import hub_answers

__all__ = ["SAFETENSORS_MAX_HEADER", "count_parameters"]

# The safetensors library refuses headers above 100 MB; so do we, before reading one.
SAFETENSORS_MAX_HEADER = 100_000_000


def _corrupt(file: Path, problem: str) -> ValueError:
    return ValueError(
        f"{file}: {problem}; the checkpoint is damaged or incomplete: save it again with save_pretrained, "
        "or give 'params' in the family file"
    )


def _safetensors_files(folder: Path) -> list[Path]:
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
            shards = sorted({str(shard) for shard in weight_map.values()})
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            problem = f"not a safetensors index with a 'weight_map' ({type(error).__name__}: {error})"
            raise _corrupt(index, problem) from None
        if any(Path(shard).name != shard for shard in shards):
            raise _corrupt(index, "a 'weight_map' file is not a plain file name in the checkpoint folder")
        return [folder / shard for shard in shards]
    single = folder / "model.safetensors"
    return [single] if single.is_file() else []


def _safetensors_header(file: Path) -> dict:
    """The JSON header of a safetensors file; its claimed size is checked against the file's before reading."""
    try:
        size = file.stat().st_size
        with open(file, "rb") as handle:
            prefix = handle.read(8)
            header_size = struct.unpack("<Q", prefix)[0] if len(prefix) == 8 else None
            if header_size is None or header_size > min(size - 8, SAFETENSORS_MAX_HEADER):
                raise _corrupt(file, f"its header length ({header_size}) does not fit the file ({size:,} bytes)")
            raw = handle.read(header_size)
    except OSError as error:
        raise ValueError(f"{file}: cannot be read ({error.strerror or error})") from None
    try:
        header = json.loads(raw)
    except ValueError:  # also UnicodeDecodeError
        header = None
    if not isinstance(header, dict):
        raise _corrupt(file, "its header is not a JSON object")
    return header


def _safetensors_count(file: Path) -> int:
    """Parameters in one safetensors file, from its JSON header only."""
    total = 0
    for name, info in _safetensors_header(file).items():
        if name == "__metadata__":
            continue
        shape = info.get("shape") if isinstance(info, dict) else None
        if not isinstance(shape, list) or any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in shape):
            raise _corrupt(file, f"tensor {name!r} has no valid 'shape'")
        total += math.prod(shape)
    return total


def _count_from_config(location: str, revision: str | None) -> int:
    """Build the model on the meta device (no memory for weights) and count its parameters.

    Remote code is never run here: ``trust_remote_code=False`` refuses configs that need it.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(location, revision=revision, trust_remote_code=False)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, trust_remote_code=False)
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
        try:
            return _count_from_config(str(folder), revision)
        except Exception as error:  # transformers raises many kinds for a bad config; all mean the same here
            problem = f"not a usable model config ({type(error).__name__}: {error})"
            raise _corrupt(folder / "config.json", problem) from None
    from huggingface_hub import constants, get_safetensors_metadata
    from huggingface_hub.errors import NotASafetensorsRepoError

    if not constants.HF_HUB_OFFLINE and not hub_answers():  # its connection errors are no OSError
        raise ValueError(
            f"cannot count the parameters of {location!r}: it is not a local folder and the Hub "
            f"({constants.ENDPOINT}) did not answer; give 'params' in the family file"
        )
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
