"""Spectra and images are stored as little-endian float32 bytes (PostgreSQL ``bytea``).

The functions here are the only place that knows the byte layout; everything else handles NumPy
arrays. ``float32`` keeps 7 significant digits, ample for normalised flux and for counts.

A spectrum's 1σ error that is the same at every pixel (a synthetic grid at one S/N) is stored as
that one float32, not as a copy per pixel: the same numbers, 4 bytes instead of 29 kB, and a bulk
load that writes half as much (docs/scale.md).
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


def error_to_bytes(error) -> bytes | None:
    """A 1σ error array (P,) -> stored bytes: one float32 when every pixel's error is the same,
    else one per pixel; ``None`` stays ``None`` (no error known)."""
    if error is None:
        return None
    values = np.ascontiguousarray(error, dtype=STORED_DTYPE).ravel()
    if values.size > 1 and np.all(values == values[0]):
        return values[:1].tobytes()
    return values.tobytes()


def bytes_to_error(buffer: bytes | memoryview | None, n_pixels: int) -> np.ndarray | None:
    """Stored error bytes -> the float32 error of each of the ``n_pixels`` pixels (P,): one
    stored value is that error at every pixel. ``None`` stays ``None``.

    Raises ``ValueError`` when the bytes hold neither one value nor ``n_pixels`` values."""
    if buffer is None:
        return None
    values = bytes_to_array(buffer)
    if values.size == 1:
        return np.full(n_pixels, values[0], dtype=np.float32)
    if values.size != n_pixels:
        raise ValueError(f"{values.size} stored error values for a spectrum of {n_pixels} pixels")
    return values
