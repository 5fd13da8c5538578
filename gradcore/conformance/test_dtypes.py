"""dtypes: gradients keep the source dtype, nothing is promoted implicitly, Python scalars are weak.

As in TensorFlow, except that Python numbers are weakly typed (docs/deviations.md, dtypes).
Left out: complex dtypes, which gradcore does not have (docs/deviations.md, "No complex dtypes").
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose


def square_gradient(x):
    with gc.GradientTape() as t:
        t.watch(x)
        y = x * x
    return t.gradient(y, x)


@pytest.mark.parametrize("dtype", [gc.float16, gc.bfloat16, gc.float32, gc.float64])
def test_gradient_keeps_the_source_dtype(dtype):
    g = square_gradient(gc.constant(3.0, dtype=dtype))
    assert g.dtype is dtype  # TF: half precision included
    assert gc.get_backend().dtype_of(g._value) is dtype
    assert_allclose(g, 6.0, dtype=dtype)


def test_float64_variable_gradient():
    v = gc.Variable(3.0, dtype=gc.float64)
    with gc.GradientTape() as t:
        y = v * v
    g = t.gradient(y, v)
    assert g.dtype is gc.float64  # TF: as for float64 tensors
    assert_allclose(g, 6.0, dtype=gc.float64)


def test_gradient_through_a_cast_comes_back_in_the_source_dtype():
    x = gc.constant(3.0, dtype=gc.float16)
    with gc.GradientTape() as t:
        t.watch(x)
        y = gc.cast(x, gc.float32) ** 2
    g = t.gradient(y, x)
    assert y.dtype is gc.float32
    assert g.dtype is gc.float16  # TF: _CastGrad casts back
    assert_allclose(g, 6.0, dtype=gc.float16)


def test_mixed_float_dtypes_are_an_error_naming_op_dtypes_and_shapes():
    a = gc.constant(np.ones((2, 3), np.float32))
    b = gc.constant(np.ones((3,), np.float64))
    with pytest.raises(gc.DTypeError) as info:
        a * b  # TF: no implicit promotion
    message = str(info.value)
    for part in ("gc.multiply", "float32", "float64", "(2, 3)", "(3,)"):
        assert part in message, f"{part!r} missing from {message!r}"
    assert isinstance(info.value, gc.InvalidArgumentError)  # TensorFlow's class for this error


@pytest.mark.parametrize("op", [gc.add, gc.subtract, gc.maximum, gc.equal, gc.pow])
def test_every_binary_op_refuses_mixed_dtypes(op):
    with pytest.raises(gc.DTypeError, match="float16.*float32|float32.*float16"):
        op(gc.constant(1.0, dtype=gc.float16), gc.constant(1.0))


def test_mixed_int_and_float_tensors_are_an_error():
    with pytest.raises(gc.DTypeError, match="int32.*float32"):
        gc.constant([1, 2]) + gc.constant([1.0, 2.0])


@pytest.mark.parametrize("dtype", [gc.float16, gc.bfloat16, gc.float32, gc.float64])
def test_python_scalars_are_weak(dtype):
    x = gc.constant([1.0, 2.0], dtype=dtype)
    for result in (x * 2.0, 2.0 * x, x + 1, 1 - x, x / 2, x**2, gc.maximum(x, 0.5)):
        assert result.dtype is dtype
        assert gc.get_backend().dtype_of(result._value) is dtype


def test_python_lists_are_weak_too():
    x = gc.constant([1.0, 2.0], dtype=gc.float16)
    assert (x * [3.0, 4.0]).dtype is gc.float16


def test_int_tensor_keeps_int_with_python_ints():
    x = gc.constant([1, 2])
    assert (x * 2).dtype is gc.int32
    np.testing.assert_array_equal((x * 2).numpy(), [2, 4])


def test_int_tensor_times_a_python_float_is_an_error():
    with pytest.raises(gc.DTypeError, match="2.5"):
        gc.constant([1, 2]) * 2.5  # a float would lose its meaning as int32 (TF: a TypeError)


def test_numpy_values_are_not_weak():
    # NumPy arrays and scalars keep their dtype (gradcore/engine/convert.py), so float64 NumPy data meets a
    # float32 tensor as float64 does: an error, not a silent cast.
    with pytest.raises(gc.DTypeError, match="float64"):
        gc.constant([1.0, 2.0]) * np.array([1.0, 2.0])


@pytest.mark.parametrize("x, y, expected", [
    (np.array([3, 9], np.int32), np.array([2, 4], np.int32), gc.float64),
    (np.array([3, 9], np.int64), np.array([2, 4], np.int64), gc.float64),
    (np.array([3, 9], np.int16), np.array([2, 4], np.int16), gc.float32),
    (np.array([3, 9], np.int8), np.array([2, 4], np.int8), gc.float32),
    (np.array([3, 9], np.uint8), np.array([2, 4], np.uint8), gc.float32),
])
def test_integer_true_division_is_float(x, y, expected):
    # TensorFlow's truediv: 8- and 16-bit integers divide as float32, 32- and 64-bit as float64.
    z = gc.divide(gc.constant(x), gc.constant(y))
    assert z.dtype is expected
    assert_allclose(z, x / y, dtype=expected)


@pytest.mark.parametrize("value, dtype", [
    (1, gc.int32),
    (1.0, gc.float32),
    (True, gc.bool),
    ([1, 2.0], gc.float32),
    ([[1, 2], [3, 4]], gc.int32),
    ([True, False], gc.bool),
    ([], gc.float32),
    (np.float64(1), gc.float64),
    (np.array([1, 2], np.int64), gc.int64),
    (np.array([1.0], np.float16), gc.float16),
    (np.array(1.0), gc.float64),
])
def test_constant_dtype_inference(value, dtype):
    assert gc.constant(value).dtype is dtype  # TensorFlow's defaults, as for tf.Variable


def test_constant_with_an_explicit_dtype():
    assert gc.constant(1, dtype=gc.float64).dtype is gc.float64
    assert gc.constant(np.array([1.5, 2.5]), dtype=gc.float32).dtype is gc.float32
    assert gc.constant([1, 2], dtype="float16").dtype is gc.float16
    with pytest.raises(gc.DTypeError, match="1.5"):
        gc.constant(1.5, dtype=gc.int32)


def test_constant_with_a_shape_broadcasts():
    t = gc.constant(2.0, shape=[2, 3])
    assert t.shape == (2, 3)
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), 2.0))


def test_as_dtype():
    assert gc.as_dtype("float32") is gc.float32
    assert gc.as_dtype(np.float64) is gc.float64
    assert gc.as_dtype(np.dtype("int8")) is gc.int8
    assert gc.as_dtype(float) is gc.float32 and gc.as_dtype(int) is gc.int32 and gc.as_dtype(bool) is gc.bool
    assert gc.as_dtype("double") is gc.float64 and gc.as_dtype("half") is gc.float16
    with pytest.raises(gc.DTypeError, match="no dtype 'complex64'.*known dtypes: float16"):
        gc.as_dtype("complex64")

