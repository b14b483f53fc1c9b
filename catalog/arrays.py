"""Spectra and images are stored as little-endian float32 bytes (PostgreSQL ``bytea``).

These two functions are the only place that knows the byte layout; everything else handles NumPy
arrays. ``float32`` keeps 7 significant digits, ample for normalised flux and for counts.
"""
from __future__ import annotations

import numpy as np

STORED_DTYPE = np.dtype("<f4")


def array_to_bytes(values) -> bytes:
    """Any array-like of numbers -> little-endian float32 bytes (C order, shape not kept)."""
    return np.ascontiguousarray(values, dtype=STORED_DTYPE).tobytes()


def bytes_to_array(buffer: bytes | memoryview, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Stored bytes -> a float32 array in native byte order, reshaped to ``shape`` if given.

    Raises ``ValueError`` when the byte count is not a whole number of float32 values or does not
    fit ``shape``.
    """
    raw = bytes(buffer)
    if len(raw) % STORED_DTYPE.itemsize:
        raise ValueError(f"{len(raw)} bytes is not a whole number of float32 values")
    values = np.frombuffer(raw, dtype=STORED_DTYPE).astype(np.float32)
    if shape is not None:
        expected = int(np.prod(shape))
        if values.size != expected:
            raise ValueError(f"{values.size} stored values do not fit shape {shape}")
        values = values.reshape(shape)
    return values
