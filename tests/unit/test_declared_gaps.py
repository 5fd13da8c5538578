"""A backend's declared gaps (``dtypes``, ``unsupported_kernels``) become one clear gradcore error.

The same ``gc.UnimplementedError`` on every backend, naming the backend, what it lacks and what
it has, carrying the gap for the conformance suite (docs/writing-a-backend.md, section 4).
"""

import numpy as np
import pytest
from gradcore.backends.numpy_backend import NumpyBackend

import gradcore as gc
from gradcore.plugin import discovery as plugins
from gradcore.plugin.contract import Backend


class Narrow(NumpyBackend):
    name = "narrow-test"
    dtypes = ("float32", "float64", "int32", "int64", "bool")
    unsupported_kernels = ("erf",)


@pytest.fixture
def narrow(monkeypatch):
    monkeypatch.setitem(plugins.discover(), Narrow.name, plugins.BackendSpec(Narrow.name, load=Narrow))
    with gc.backend_scope(Narrow.name) as backend:
        yield backend


def test_an_undeclared_dtype_is_refused_wherever_an_array_is_made(narrow):
    makers = [lambda: gc.constant([1.0], dtype=gc.float16), lambda: gc.zeros([2], gc.bfloat16),
              lambda: gc.range(3, dtype=gc.float16), lambda: gc.eye(2, dtype=gc.uint8),
              lambda: gc.cast(gc.constant([1.0]), gc.int8), lambda: gc.fill([2], np.float16(1))]
    for make in makers:
        with pytest.raises(gc.UnimplementedError, match=r"backend 'narrow-test' has no \w+ arrays") as info:
            make()
        assert info.value.gap[0] == "dtype" and info.value.gap[1] not in Narrow.dtypes
        assert "float32, float64, int32, int64, bool" in str(info.value)  # what it has


def test_a_declared_missing_kernel_is_refused_and_the_rest_work(narrow):
    x = gc.constant([0.5, -1.0])
    with pytest.raises(gc.UnimplementedError, match="does not provide the kernel 'erf'") as info:
        gc.math.erf(x)
    assert info.value.gap == ("kernel", "erf")
    np.testing.assert_allclose(gc.tanh(x).numpy(), np.tanh([0.5, -1.0]), rtol=1e-6)


def test_the_error_is_not_implemented_and_a_gradcore_error():
    assert issubclass(gc.UnimplementedError, NotImplementedError)
    assert issubclass(gc.UnimplementedError, gc.GradcoreError)


def test_a_backend_without_gaps_keeps_its_own_kernels():
    """The gaps are installed once per class; a complete backend's kernels are untouched (no cost per call)."""
    assert getattr(Narrow.asarray, "_refuses_dtypes", False)
    assert not getattr(NumpyBackend.asarray, "_refuses_dtypes", False)
    assert NumpyBackend().erf(np.array([0.0]))[0] == 0.0  # the subclass's gap left its parent alone
    assert Backend.dtypes == NumpyBackend.dtypes
