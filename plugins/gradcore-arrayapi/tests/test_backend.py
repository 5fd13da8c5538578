"""The backend over several namespaces: which namespace it finds, its dtypes and declared gaps."""

import numpy as np
import pytest

import gradcore as gc
from gradcore_arrayapi.backend import ArrayAPIBackend

NAMESPACES = ["array_api_strict", "numpy", "torch"]


@pytest.fixture(params=NAMESPACES)
def backend(request):
    pytest.importorskip(request.param)
    return ArrayAPIBackend(request.param)


def test_numpy_comes_back_wrapped_by_array_api_compat_and_strict_as_itself():
    import array_api_compat.numpy
    import array_api_strict

    assert ArrayAPIBackend("numpy").xp is array_api_compat.numpy
    assert ArrayAPIBackend("array_api_strict").xp is array_api_strict


def test_the_env_var_chooses_the_namespace(monkeypatch):
    monkeypatch.setenv("GRADCORE_ARRAYAPI_NAMESPACE", "numpy")
    backend = ArrayAPIBackend()
    assert backend.namespace.module_name == "numpy" and backend.version() == np.__version__


def test_values_round_trip_through_the_namespace_as_copies(backend):
    host = np.arange(6.0).reshape(2, 3)
    raw = backend.asarray(host.T, gc.float32)  # a non-contiguous input
    assert backend.dtype_of(raw) is gc.float32 and tuple(raw.shape) == (3, 2)
    out = backend.to_numpy(raw)
    out[0, 0] = 99.0  # the caller's copy, not the array
    assert backend.to_numpy(raw)[0, 0] == 0.0 and backend.devices() == ["cpu"]
    assert backend.to_numpy(backend.asarray(2.7, gc.int32)) == 2  # as NumPy converts
    assert tuple(backend.asarray(True, gc.bool).shape) == ()


def test_dtypes_outside_the_standard_are_declared_gaps(backend):
    for make in (lambda: backend.asarray([1.0], gc.float16), lambda: backend.full((2,), 0, gc.bfloat16)):
        with pytest.raises(gc.UnimplementedError) as info:
            make()
        assert info.value.gap[0] == "dtype"


def test_argmax_is_int64_and_integer_sums_keep_their_dtype(backend):
    x = backend.asarray([[1, 3, 3], [100, 100, 0]], gc.int8)
    assert backend.dtype_of(backend.argmax(x, 1)) is gc.int64
    assert backend.to_numpy(backend.argmax(x, 1)).tolist() == [1, 0]  # the first maximum
    total = backend.reduce_sum(x, (1,), False)
    assert backend.dtype_of(total) is gc.int8 and backend.to_numpy(total).tolist() == [7, -56]  # wraps, as TF


def test_round_is_half_to_even_and_floor_mod_takes_the_divisor_sign(backend):
    values = backend.asarray([0.5, 1.5, 2.5, -0.5, -1.5], gc.float64)
    assert backend.to_numpy(backend.round(values)).tolist() == [0.0, 2.0, 2.0, -0.0, -2.0]
    x, y = backend.asarray([7, -7, 7, -7], gc.int32), backend.asarray([3, 3, -3, -3], gc.int32)
    assert backend.to_numpy(backend.floor_mod(x, y)).tolist() == [1, 2, -2, -1]
    assert backend.to_numpy(backend.floor_divide(x, y)).tolist() == [2, -3, -3, 2]
