"""Integer true division through the ``/`` operator, as TensorFlow's truediv.

TensorFlow's ``x / y`` on integer tensors casts both to float32 for 8- and 16-bit integers and
to float64 for 32- and 64-bit ones, then divides. The reference is NumPy dividing the same
integers cast the same way, compared with the result dtype's tolerance (XLA, under the jax
backend, divides by a broadcast divisor as a multiplication by its reciprocal: 1 ulp off).
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

WIDENS_TO = [
    (gc.int8, gc.float32),
    (gc.uint8, gc.float32),
    (gc.int16, gc.float32),
    (gc.int32, gc.float64),
    (gc.int64, gc.float64),
]


def divided_as_tf(x, y, result):
    return np.true_divide(np.asarray(x).astype(result.as_numpy_dtype), np.asarray(y).astype(result.as_numpy_dtype))


@pytest.mark.parametrize("dtype, result", WIDENS_TO, ids=lambda d: d.name)
def test_slash_operator_on_integer_tensors(dtype, result):
    numerators = np.array([[1, 2, 3 if dtype.is_unsigned else -3], [7, 100, 127]], dtype.as_numpy_dtype)
    denominators = np.array([3, 7, 9], dtype.as_numpy_dtype)  # broadcast along the rows
    quotient = gc.constant(numerators) / gc.constant(denominators)
    assert quotient.dtype is result
    assert_allclose(quotient, divided_as_tf(numerators, denominators, result), dtype=result)


@pytest.mark.parametrize("dtype, result", WIDENS_TO, ids=lambda d: d.name)
def test_integer_tensor_and_python_int_both_ways(dtype, result):
    """A Python int takes the tensor's dtype, then both are divided as floats: x / 3 and 3 / x."""
    x = np.array([1, 2, 5, 11], dtype.as_numpy_dtype)
    left = gc.constant(x) / 3
    right = 3 / gc.constant(x)
    assert left.dtype is result and right.dtype is result
    assert_allclose(left, divided_as_tf(x, 3, result), dtype=result)
    assert_allclose(right, divided_as_tf(3, x, result), dtype=result)


def test_int32_division_keeps_integers_float32_cannot_hold():
    """2^24 + 1 and 2^31 - 1 are int32s but not float32s: float64 division keeps them exactly."""
    big = np.array([2**24 + 1, 2**31 - 1], np.int32)
    quotient = gc.constant(big) / gc.constant(np.array([1, 1], np.int32))
    assert quotient.dtype is gc.float64
    assert quotient.numpy().tolist() == [2**24 + 1, 2**31 - 1]
