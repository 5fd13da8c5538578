"""Devices: gc.device placement, TensorFlow spellings, and errors that name the devices.

CUDA tests run where the backend lists a cuda device and skip cleanly elsewhere (CI has no GPU).
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.engine.convert import canonical_device
from gradcore.ops.kernels import kernel_error

CUDA = [d for d in gc.get_backend().devices() if d.startswith("cuda")]
needs_cuda = pytest.mark.skipif(not CUDA, reason="the backend lists no CUDA device here")


@pytest.mark.parametrize(
    "spelling, canonical",
    [("/GPU:0", "cuda:0"), ("/device:GPU:1", "cuda:1"), ("gpu", "cuda:0"), ("cuda", "cuda:0"),
     ("/CPU:0", "cpu"), ("cpu", "cpu"), ("/cpu:1", "cpu:1"), ("/job:localhost/replica:0/task:0/device:CPU:0", "cpu"), ("TPU:2", "tpu:2")],
)
def test_tensorflow_device_spellings(spelling, canonical):
    assert canonical_device(spelling) == canonical


def test_cpu_scope_places_new_tensors_on_cpu():
    with gc.device("/CPU:0"):
        x = gc.constant([1.0, 2.0])
        y = gc.zeros([2])
    assert x.device == "cpu" and y.device == "cpu"
    assert (x + y).device == "cpu"


def test_unknown_device_is_a_clear_error():
    with pytest.raises(gc.InvalidArgumentError, match=r"has no device 'cuda:7'.*its devices are"):
        with gc.device("cuda:7"):
            pass


def test_kernel_failure_on_mixed_devices_names_both():
    backend = gc.get_backend()
    a, b = gc.constant([1.0]), gc.constant([2.0])
    real_device_of = backend.device_of
    backend.device_of = lambda raw: "cuda:0" if raw is b._value else real_device_of(raw)
    try:
        error = kernel_error("gc.add", backend, "add", (a._value, b._value), RuntimeError("device mismatch"))
    finally:
        del backend.device_of
    assert isinstance(error, gc.InvalidArgumentError)
    assert "different devices (cpu, cuda:0)" in str(error) and "gc.add" in str(error)


@pytest.mark.parametrize("op, args", [("add", (2, 2)), ("matmul", (1, 1))])
def test_backend_exception_becomes_gradcore_error(monkeypatch, op, args):
    """A kernel raising its framework's exception surfaces as InvalidArgumentError naming the op."""
    backend = gc.get_backend()

    def failing(*raw):
        raise RuntimeError("the framework's own message")

    monkeypatch.setattr(backend, op, failing)
    x = gc.ones([2, 2])
    with pytest.raises(gc.InvalidArgumentError, match=rf"gc\.(linalg\.)?{op}: backend '{backend.name}' failed in kernel '{op}' on "
                       r"inputs float32\(2, 2\), float32\(2, 2\) on cpu: RuntimeError: the framework's own message"):
        getattr(gc, op)(x, x)


@needs_cuda
def test_cuda_scope_places_and_computes_on_the_device():
    with gc.device(CUDA[0]):
        x = gc.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = gc.reduce_sum(gc.tanh(x) * x)
        g = tape.gradient(y, x)
    assert x.device == CUDA[0] and g.device == CUDA[0]
    t = np.arange(6, dtype=np.float64).reshape(2, 3)
    np.testing.assert_allclose(g.numpy(), np.tanh(t) + t * (1 - np.tanh(t) ** 2), rtol=1e-5, atol=1e-5)


@needs_cuda
def test_mixing_cpu_and_cuda_is_a_gradcore_error():
    a = gc.constant([1.0])
    with gc.device(CUDA[0]):
        b = gc.constant([1.0])
    with pytest.raises(gc.InvalidArgumentError, match="different devices"):
        a + b


@needs_cuda
def test_identity_under_a_device_scope_moves_a_tensor():
    a = gc.constant([1.0, 2.0])
    with gc.device(CUDA[0]):
        moved = gc.identity(a)
    assert moved.device == CUDA[0]
    np.testing.assert_array_equal(moved.numpy(), [1.0, 2.0])
