"""The kernels the standard lacks (composites.py), against NumPy and the math module."""

import math

import numpy as np
import pytest

import gradcore as gc
from gradcore.plugin.discovery import load_backend
from gradcore_arrayapi.backend import ArrayAPIBackend

KEYS = [  # basic-indexing keys for an array of shape (4, 5, 3), as gradcore passes them
    (slice(None),), (1,), (-1, slice(None, None, -1)), (Ellipsis, 2), (None, slice(1, 9, 2)),
    (slice(7, 1, -2), None, slice(-2, None), Ellipsis), (slice(3, 1),), (2, Ellipsis, None, slice(0, 3, 5)),
    (slice(-9, -1, 3), 4, -3), (Ellipsis, slice(None, None, -3), None),
]


@pytest.fixture(params=["array_api_strict", "numpy", "torch"])
def backend(request):
    pytest.importorskip(request.param)
    return ArrayAPIBackend(request.param)


@pytest.fixture
def reference():
    return load_backend("numpy")


def test_erf_is_accurate_to_float64_rounding(backend):
    x = np.concatenate([np.linspace(-7, 7, 20001), np.geomspace(1e-300, 1, 300), [1.0, 8.0, 27.0, 1e300]])
    x = np.concatenate([x, -x])
    x = x[x != 0]  # relative errors: 0 is among the special values below
    ours = backend.to_numpy(backend.erf(backend.asarray(x, gc.float64)))
    exact = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(ours - exact) / np.abs(exact)) < 2 * np.finfo(np.float64).eps
    special = backend.to_numpy(backend.erf(backend.asarray([0.0, -0.0, np.inf, -np.inf, np.nan], gc.float64)))
    assert special[:4].tolist() == [0.0, -0.0, 1.0, -1.0] and np.signbit(special[1]) and np.isnan(special[4])


def test_erf_keeps_float32(backend):
    x = np.linspace(-5, 5, 1001).astype(np.float32)
    ours = backend.to_numpy(backend.erf(backend.asarray(x, gc.float32)))
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, [math.erf(v) for v in x], rtol=3e-7, atol=1e-38)


@pytest.mark.parametrize("key", KEYS, ids=str)
def test_slices_and_their_adjoint_match_numpy(backend, reference, key):
    x = np.arange(60.0).reshape(4, 5, 3)
    expected = reference.slice(x, key)
    assert np.array_equal(backend.to_numpy(backend.slice(backend.asarray(x, gc.float64), key)), expected)
    update = np.random.default_rng(0).normal(size=expected.shape)
    placed = backend.slice_into_zeros(backend.asarray(update, gc.float64), x.shape, key)
    assert np.array_equal(backend.to_numpy(placed), reference.slice_into_zeros(update, x.shape, key))


def test_pad_and_gather_match_numpy(backend, reference):
    x = np.arange(24).reshape(2, 3, 4).astype(np.int32)
    raw = backend.asarray(x, gc.int32)
    pads = ((1, 0), (0, 2), (3, 1))
    assert np.array_equal(backend.to_numpy(backend.pad(raw, pads, 7)), reference.pad(x, pads, 7))
    indices = np.array([[3, 0], [1, 1], [2, 3]])
    gathered = backend.gather(raw, backend.asarray(indices, gc.int64), 2)
    assert np.array_equal(backend.to_numpy(gathered), reference.gather(x, indices, 2))


@pytest.mark.parametrize("data, dtype", [
    (np.random.default_rng(1).normal(size=(6, 2, 3)), gc.float64),
    (np.array([[1.0, np.inf], [2.0, -np.inf], [np.nan, 1.0], [3.0, 4.0]]), gc.float64),  # no 0 * inf = NaN leaks
    (np.arange(-8, 8).reshape(4, 4), gc.int32),
])
def test_segment_sums_match_numpy(backend, reference, data, dtype):
    ids = np.array([2, 0, 2, 3, 0, 2])[: data.shape[0]]
    data = data.astype(dtype.as_numpy_dtype)
    ours = backend.unsorted_segment_sum(backend.asarray(data, dtype), backend.asarray(ids, gc.int32), 5)
    expected = reference.unsorted_segment_sum(data, ids, 5)
    assert backend.dtype_of(ours) is dtype
    np.testing.assert_allclose(backend.to_numpy(ours), expected, rtol=1e-15)
