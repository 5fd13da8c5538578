"""Reductions: which axes they reduce, and in which dtype they add up.

1. Axes. The reductions sum, mean, max, min and prod on a 4-D array of distinct
   values, over many axis spellings (None, an int, tuples and lists, negative, unsorted, all
   four, none at all) with and without keepdims, forward and gradient, against NumPy in float64.
   TensorFlow's reductions take the same axis spellings as NumPy's (a negative axis counts from
   the end; an empty list reduces nothing), so NumPy is the reference.
2. Integers. TensorFlow's reduce_sum and reduce_prod of an integer tensor return that dtype and
   wrap modulo 2^bits on overflow (tf.reduce_sum of int8 [100, 100] is -56, of uint8 [200, 100]
   is 44, of int32 [2**31 - 1, 1] is -2**31); expected values here are that modular arithmetic,
   done with Python ints.
3. Half precision. TensorFlow accumulates float16/bfloat16 reductions in float32 and rounds the
   result once: the mean of 70,000 float16 ones is 1.0, the bfloat16 sum of 1000 ones is 1000.
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

SHAPE = (2, 3, 4, 5)


def distinct_values():
    """120 distinct non-zero float64 values of magnitude 1/80 .. 1.5, in random order and sign.

    Distinct, so a maximum or minimum is attained once and its gradient is one-hot; non-zero and
    near 1, so a product over all of them neither underflows nor needs the zero-aware rule.
    """
    rng = np.random.default_rng(2024)
    magnitudes = (rng.permutation(120) + 1) / 80.0
    return (magnitudes * rng.choice([-1.0, 1.0], size=120)).reshape(SHAPE)


def _numpy_axis(axis):
    """The same axes for NumPy (which takes an int, a tuple or None, not a list)."""
    return tuple(axis) if isinstance(axis, list) else axis


def _reduced_mask(axis):
    """Per input axis: is it reduced?"""
    if axis is None:
        return [True] * len(SHAPE)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return [i in {a % len(SHAPE) for a in axes} for i in range(len(SHAPE))]


def _upstream_as_input(weights, axis, keepdims):
    """The upstream gradient (shaped like the output) reshaped with the reduced axes kept, then broadcast."""
    kept = tuple(1 if reduced else n for n, reduced in zip(SHAPE, _reduced_mask(axis)))
    return np.broadcast_to(np.reshape(weights, kept), SHAPE)


def _count(axis):
    return int(np.prod([n for n, reduced in zip(SHAPE, _reduced_mask(axis)) if reduced]))


def _extreme_grad(extreme):
    def grad(x, axis, upstream):
        return (x == extreme(x, axis=_numpy_axis(axis), keepdims=True)) * upstream
    return grad


# name: (gradcore op, NumPy forward, d sum(w * op(x)) / dx from the upstream w broadcast over the input)
REDUCTIONS = {
    "reduce_sum": (gc.reduce_sum, np.sum, lambda x, axis, up: up),
    "reduce_mean": (gc.reduce_mean, np.mean, lambda x, axis, up: up / _count(axis)),
    "reduce_max": (gc.reduce_max, np.max, _extreme_grad(np.max)),
    "reduce_min": (gc.reduce_min, np.min, _extreme_grad(np.min)),
    "reduce_prod": (gc.reduce_prod, np.prod,
                    lambda x, axis, up: np.prod(x, axis=_numpy_axis(axis), keepdims=True) / x * up),
}

AXES = [None, 0, 2, -1, -4, (1,), (0, 2), (2, 0), (-1, -3), (1, -1), [0, 1, 3], (3, 2, 1),
        (0, 1, 2, 3), (-4, -3, -2, -1), ()]


@pytest.mark.parametrize("keepdims", [False, True], ids=["", "keepdims"])
@pytest.mark.parametrize("axis", AXES, ids=repr)
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_over_axes_matches_numpy_forward_and_gradient(name, axis, keepdims):
    op, forward, gradient = REDUCTIONS[name]
    values = distinct_values()
    expected = np.asarray(forward(values, axis=_numpy_axis(axis), keepdims=keepdims))
    weights = np.random.default_rng(7).uniform(0.5, 2.0, size=expected.shape)
    x = gc.constant(values)
    with gc.GradientTape() as tape:
        tape.watch(x)
        y = op(x, axis=axis, keepdims=keepdims)
        loss = gc.reduce_sum(y * gc.constant(weights))
    grad = tape.gradient(loss, x)
    where = f"gc.{name}(x of shape {SHAPE}, axis={axis!r}, keepdims={keepdims})"
    assert y.shape == expected.shape, where
    assert_allclose(y, expected, dtype=gc.float64, err_msg=where)
    assert grad.shape == SHAPE, where
    upstream = _upstream_as_input(weights, axis, keepdims)
    assert_allclose(grad, gradient(values, axis, upstream), dtype=gc.float64, err_msg=f"gradient of {where}")


@pytest.mark.parametrize("name", ["reduce_sum", "reduce_max"])
def test_axes_given_as_an_integer_tensor(name):
    """TF takes the axis argument as a tensor too: gc.constant([0, -1]) reduces the first and last axes."""
    op, forward, _ = REDUCTIONS[name]
    values = distinct_values()
    y = op(gc.constant(values), axis=gc.constant([0, -1]))
    assert_allclose(y, forward(values, axis=(0, 3)), dtype=gc.float64)


# ---- integers keep their dtype and wrap ------------------------------------------------------------


def wrapped(value, dtype):
    """``value`` (a Python int) reduced modulo 2^bits into ``dtype``'s range: two's complement."""
    info = np.iinfo(dtype.as_numpy_dtype)
    span = int(info.max) - int(info.min) + 1
    return (value - int(info.min)) % span + int(info.min)


@pytest.mark.parametrize("dtype, values, expected", [
    (gc.int8, [100, 100], -56),
    (gc.uint8, [200, 100], 44),
    (gc.int32, [2**31 - 1, 1], -(2**31)),
    (gc.int8, [-100, -100, -100], -44),  # -300 + 256
    (gc.uint8, [1] * 300, 44),  # 300 - 256
    (gc.int16, [-32768, -1], 32767),
    (gc.int64, [2**63 - 1, 1], -(2**63)),
], ids=["int8", "uint8", "int32", "int8-negative", "uint8-ones", "int16-down", "int64"])
def test_integer_sum_wraps_in_its_dtype(dtype, values, expected):
    assert wrapped(sum(values), dtype) == expected  # the examples are two's-complement arithmetic
    total = gc.reduce_sum(gc.constant(np.array(values, dtype.as_numpy_dtype)))
    assert total.dtype is dtype
    assert int(total.numpy()) == expected


@pytest.mark.parametrize("dtype", [gc.int8, gc.uint8, gc.int16, gc.int32, gc.int64], ids=str)
@pytest.mark.parametrize("axis, keepdims", [(0, False), (-1, True), ((0, 1), False), (None, True)])
def test_integer_sum_over_axes_wraps_per_slice(dtype, axis, keepdims):
    top, bottom = int(np.iinfo(dtype.as_numpy_dtype).max), int(np.iinfo(dtype.as_numpy_dtype).min)
    # Sums that pass the top (rows 0 and 1, and down the columns) and, for signed dtypes, the bottom (row 2).
    rows = [[top, 1, 2], [top - 1, top, 3], [bottom, bottom, -4 if bottom else 4]]
    total = gc.reduce_sum(gc.constant(np.array(rows, dtype.as_numpy_dtype)), axis=axis, keepdims=keepdims)
    exact = np.sum(np.array(rows, dtype=object), axis=_numpy_axis(axis), keepdims=keepdims)  # Python ints
    expected = np.vectorize(lambda v: wrapped(int(v), dtype), otypes=[object])(exact)
    assert total.dtype is dtype and total.shape == np.shape(expected)
    assert total.numpy().tolist() == np.asarray(expected).tolist()


@pytest.mark.parametrize("dtype, values", [
    (gc.int8, [100, 3]),  # 300 -> 44
    (gc.int8, [16, 16]),  # 256 -> 0
    (gc.uint8, [16, 17]),  # 272 -> 16
    (gc.int16, [-200, 200]),  # -40000 -> 25536
    (gc.int32, [65536, 65537]),  # 2^32 + 2^16 -> 65536
], ids=["int8", "int8-zero", "uint8", "int16", "int32"])
def test_integer_product_wraps_in_its_dtype(dtype, values):
    """TF's reduce_prod of an integer tensor keeps the dtype, like its reduce_sum."""
    product = gc.reduce_prod(gc.constant(np.array(values, dtype.as_numpy_dtype)))
    assert product.dtype is dtype
    assert int(product.numpy()) == wrapped(int(np.prod(np.array(values, dtype=object))), dtype)


# ---- half precision accumulates in float32 --------------------------------------------------------


def as_float64(t):
    return np.asarray(t.numpy()).astype(np.float64)


def test_float16_mean_of_70000_ones_is_one():
    mean = gc.reduce_mean(gc.ones([70_000], dtype=gc.float16))
    assert mean.dtype is gc.float16
    assert float(as_float64(mean)) == 1.0


@pytest.mark.parametrize("shape, axis, keepdims", [((5000,), None, False), ((6000, 2), 0, True)])
def test_float16_mean_of_random_data_matches_a_float64_reference(shape, axis, keepdims):
    """The mean of the float16 inputs themselves (read back exactly), within the float16 tolerance:
    a float16 accumulator stops growing near 2048 (its spacing there is 2) and would be ~3x low."""
    rng = np.random.default_rng(3)
    x = gc.constant(rng.uniform(0.0, 2.0, size=shape), dtype=gc.float16)
    mean = gc.reduce_mean(x, axis=axis, keepdims=keepdims)
    assert mean.dtype is gc.float16
    assert_allclose(mean, np.mean(as_float64(x), axis=axis, keepdims=keepdims), dtype=gc.float16)


def test_bfloat16_sum_of_1000_ones_is_1000():
    total = gc.reduce_sum(gc.ones([1000], dtype=gc.bfloat16))
    assert total.dtype is gc.bfloat16
    assert float(as_float64(total)) == 1000.0  # 1000 is a bfloat16 value; 256 + 1 is not


def test_bfloat16_sum_and_mean_along_an_axis():
    """600 ones per row: a bfloat16 accumulator would stop at 256 (its spacing there is 2)."""
    ones = gc.ones([2, 600], dtype=gc.bfloat16)
    total = gc.reduce_sum(ones, axis=-1)
    mean = gc.reduce_mean(ones, axis=1, keepdims=True)
    assert total.dtype is gc.bfloat16 and mean.dtype is gc.bfloat16
    np.testing.assert_array_equal(as_float64(total), [600.0, 600.0])
    np.testing.assert_array_equal(as_float64(mean), [[1.0], [1.0]])
