"""Spectra and images round-trip through float32 bytes."""
import numpy as np
import pytest

from catalog.arrays import array_to_bytes, bytes_to_array


def test_round_trip_keeps_values_and_shape():
    cube = np.random.default_rng(1).normal(size=(5, 4, 3))
    back = bytes_to_array(array_to_bytes(cube), (5, 4, 3))
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, cube.astype(np.float32))


def test_bytes_are_little_endian_float32():
    assert array_to_bytes([1.0]) == b"\x00\x00\x80\x3f"


def test_big_endian_input_is_converted():
    fits_like = np.array([1.5, -2.0], dtype=">f8")
    np.testing.assert_array_equal(bytes_to_array(array_to_bytes(fits_like)), [1.5, -2.0])


def test_truncated_buffer_is_an_error():
    with pytest.raises(ValueError, match="whole number"):
        bytes_to_array(b"\x00\x00\x80")


def test_wrong_shape_is_an_error():
    with pytest.raises(ValueError, match="do not fit"):
        bytes_to_array(array_to_bytes(np.zeros(10)), (5, 3))
