"""How raw arrays cross into torch.distributed's buffers and back (gradcore/distribute/exchange.py).

The jax tests run in the jax env: they hold jaxlib's private DLPack import, which all_reduce
uses for host arrays, to what ``jax.numpy.from_dlpack`` gives, and say when a new jaxlib
moves it (docs/multi_worker.md, "Large arrays").
"""

import os
import warnings

import numpy as np
import pytest

from gradcore.distribute import exchange
from gradcore.engine import dtypes
from tests.unit.envs import numpy_env_only

jax_env_only = pytest.mark.skipif(os.environ.get("GRADCORE_BACKEND") != "jax", reason="the jax env runs it")
DTYPES = [d.name for d in dtypes.ALL]


@pytest.fixture
def jax_backend():
    from gradcore.plugin.discovery import load_backend

    return load_backend("jax")  # turns on jax's x64 mode, as in every process that sums jax arrays


def torch_values(dtype, shape):
    import torch

    values = torch.arange(int(np.prod(shape)), dtype=torch.float64).reshape(shape) % 7 - 3
    return values.to(getattr(torch, dtype))


@jax_env_only
def test_host_arrays_come_back_through_jaxlibs_own_import_on_the_tested_jax(jax_backend):
    """None here means the jaxlib in constraints.txt no longer has the function it was tested with."""
    assert exchange.host_adopter() is not None


@jax_env_only
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4), (), (0, 2)])
def test_adopted_arrays_are_what_from_dlpack_gives_over_the_same_memory(jax_backend, dtype, shape):
    import jax.numpy as jnp

    tensor = torch_values(dtype, shape)
    adopted, public = exchange.host_adopter()(tensor), jnp.from_dlpack(tensor)
    assert type(adopted) is type(public)
    assert (adopted.dtype, adopted.shape, adopted.sharding) == (public.dtype, public.shape, public.sharding)
    np.testing.assert_array_equal(np.asarray(adopted), np.asarray(public))
    if tensor.numel():
        assert adopted.unsafe_buffer_pointer() == tensor.data_ptr()


@jax_env_only
def test_without_the_private_import_results_come_from_from_dlpack(jax_backend, monkeypatch):
    tensor = torch_values("float32", (5,))
    with_it = exchange.exchange_for(jax_backend).wrap(tensor, "float32", "cpu")
    monkeypatch.setattr(exchange, "host_adopter", lambda: None)
    without_it = exchange.exchange_for(jax_backend).wrap(tensor, "float32", "cpu")
    assert type(without_it) is type(with_it) and without_it.dtype == with_it.dtype
    np.testing.assert_array_equal(np.asarray(without_it), np.asarray(with_it))
    assert without_it.unsafe_buffer_pointer() == tensor.data_ptr()


@jax_env_only
@pytest.mark.parametrize("private_import", [True, False])
def test_results_for_a_second_host_device_come_back_on_it(jax_backend, monkeypatch, private_import):
    """The tox jax env has two host devices ("cpu", "cpu:1"): a host capsule names neither."""
    assert "cpu:1" in jax_backend.devices()
    if not private_import:
        monkeypatch.setattr(exchange, "host_adopter", lambda: None)
    jax_arrays = exchange.exchange_for(jax_backend)
    assert jax_arrays.bucket_device("cpu:1") == "cpu"  # a torch buffer on the host; gloo sums it
    tensor = torch_values("float32", (5,))
    for device in ("cpu", "cpu:1"):
        result = jax_arrays.wrap(tensor, "float32", device)
        assert jax_backend.device_of(result) == device
        np.testing.assert_array_equal(np.asarray(result), tensor.numpy())
    if private_import:  # jaxlib's import adopts the memory on any host device
        assert result.unsafe_buffer_pointer() == tensor.data_ptr()


@jax_env_only
@pytest.mark.parametrize("changed", ["signature", "copies", "missing"])
def test_a_private_import_that_changed_is_not_used(jax_backend, monkeypatch, changed):
    from jax._src.lib import _jax

    if changed == "missing":
        monkeypatch.delattr(_jax, "dlpack_managed_tensor_to_buffer")
    else:
        import jax.numpy as jnp

        adopt = _jax.dlpack_managed_tensor_to_buffer

        def signature(capsule, device, stream, copy):  # one argument fewer, as before jaxlib's version 467
            raise TypeError("dlpack_managed_tensor_to_buffer(): incompatible function arguments")

        def copies(capsule, device, stream, copy, device_type):
            return jnp.array(adopt(capsule, device, stream, copy, device_type), copy=True)

        monkeypatch.setattr(_jax, "dlpack_managed_tensor_to_buffer", {"signature": signature, "copies": copies}[changed])
    assert exchange.host_adopter.__wrapped__() is None


@jax_env_only
@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int64"])
@pytest.mark.parametrize("shape", [(2, 3), ()])
def test_jax_host_arrays_are_read_where_they_lie_and_silently(jax_backend, dtype, shape):
    values = np.arange(int(np.prod(shape))).reshape(shape)
    array = jax_backend.asarray(values, dtypes.as_dtype(dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns of NumPy's read-only views; gradcore only reads them
        tensor = exchange.exchange_for(jax_backend).read(array, "cpu")
    assert tensor.data_ptr() == array.unsafe_buffer_pointer()
    assert str(tensor.dtype) == f"torch.{dtype}" and tuple(tensor.shape) == shape
    np.testing.assert_array_equal(tensor.double().numpy(), values)


@numpy_env_only
@pytest.mark.parametrize("writeable", [True, False])
@pytest.mark.parametrize("shape", [(2, 3), ()])
def test_numpy_arrays_are_read_where_they_lie_and_silently(writeable, shape):
    values = np.arange(int(np.prod(shape))).reshape(shape)
    array = values.astype(dtypes.bfloat16.as_numpy_dtype)
    array.flags.writeable = writeable
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tensor = exchange.from_numpy(array)
    assert str(tensor.dtype) == "torch.bfloat16" and tensor.data_ptr() == array.ctypes.data
    assert tuple(tensor.shape) == shape
    np.testing.assert_array_equal(tensor.double().numpy(), values)


@numpy_env_only
def test_strided_numpy_arrays_are_read_from_a_contiguous_copy():
    array = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]
    tensor = exchange.from_numpy(array)
    assert tensor.is_contiguous() and tuple(tensor.shape) == (3, 2)
    np.testing.assert_array_equal(tensor.numpy(), array)
