"""Model files that load without running code: tensors plus JSON metadata, read with
``torch.load(weights_only=True)``.

A file holds ``{"format": FORMAT, "tensors": {name: tensor}, "metadata": json}``. Any nested state
(config, scalers, history, optimiser and RNG states) goes in: NumPy arrays and tensors become named
tensors, everything else JSON. Nothing is unpickled on load, so a tampered artifact cannot execute
code in the web process or a worker. Files written before this format are refused with
:class:`LegacyArtifact`; ``manage.py convert_artifacts`` rewrites them once (a trusted, explicit
step).
"""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import torch

from ml.files import write_atomically

FORMAT = "doppel-artifact-1"
_TENSOR, _ARRAY, _TUPLE = "__tensor__", "__ndarray__", "__tuple__"


class LegacyArtifact(ValueError):
    """A file written before the weights-only format (or not an artifact at all)."""


def _split(value, tensors: dict):
    """``value`` as JSON-able data, its arrays and tensors moved into ``tensors``."""
    if isinstance(value, torch.Tensor):
        name = str(len(tensors))
        tensors[name] = value.detach().cpu()
        return {_TENSOR: name}
    if isinstance(value, np.ndarray):
        name = str(len(tensors))
        tensors[name] = torch.from_numpy(np.ascontiguousarray(value))
        return {_ARRAY: name}
    if isinstance(value, dict):
        if not all(isinstance(key, (str, int)) for key in value):
            raise TypeError("artifact state keys must be strings or integers")
        # as [key, value] pairs, so integer keys (optimiser states) stay integers through JSON
        return {"__dict__": [[key, _split(item, tensors)] for key, item in value.items()]}
    if isinstance(value, tuple):
        return {_TUPLE: [_split(item, tensors) for item in value]}
    if isinstance(value, list):
        return [_split(item, tensors) for item in value]
    if isinstance(value, (np.generic,)):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in an artifact")


def _join(value, tensors: dict):
    if isinstance(value, list):
        return [_join(item, tensors) for item in value]
    if isinstance(value, dict):
        if _TENSOR in value:
            return tensors[value[_TENSOR]]
        if _ARRAY in value:
            return tensors[value[_ARRAY]].numpy()
        if _TUPLE in value:
            return tuple(_join(item, tensors) for item in value[_TUPLE])
        return {key: _join(item, tensors) for key, item in value["__dict__"]}
    return value


def save(path: str | Path, state: dict) -> Path:
    """Write ``state`` (nested dicts, lists, tuples, numbers, strings, arrays, tensors) atomically."""
    tensors: dict[str, torch.Tensor] = {}
    metadata = json.dumps(_split(state, tensors), allow_nan=True)
    artifact = {"format": FORMAT, "tensors": tensors, "metadata": metadata}
    return write_atomically(path, lambda temporary: torch.save(artifact, temporary))


def load(path: str | Path, map_location="cpu") -> dict:
    """The state :func:`save` wrote, loaded with ``weights_only=True``. Raises LegacyArtifact for a
    file in an older format, FileNotFoundError when there is none."""
    legacy = LegacyArtifact(f"{Path(path).name} was written by an older Doppel, before weights-only artifacts "
                            f"({FORMAT}); convert it once with `python manage.py convert_artifacts` (or retrain)")
    try:
        artifact = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise legacy from None
    if not isinstance(artifact, dict) or artifact.get("format") != FORMAT:
        raise legacy
    return _join(json.loads(artifact["metadata"]), artifact["tensors"])


def convert_legacy(path: str | Path) -> bool:
    """Rewrite a file saved by an older Doppel (a pickled dict) in the weights-only format. Unpickles
    it once: run only on files you trust. Returns False when it is already converted."""
    try:
        load(path)
        return False
    except LegacyArtifact:
        pass
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(state, dict):
        raise LegacyArtifact(f"{Path(path).name} does not hold a dict of model state")
    save(path, state)
    return True
