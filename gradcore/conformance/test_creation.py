"""Creation ops: zeros, ones, fill, range, eye, zeros_like, ones_like.

Values come from NumPy (np.zeros, np.arange, np.eye ...) and tf.range's documented
examples; dtype rules are TensorFlow's (Python ints are int32, floats float32).
"""

import numpy as np
import pytest

import gradcore as gc


def check(t, expected, dtype):
    assert t.dtype is dtype
    assert gc.get_backend().dtype_of(t._value) is dtype, "backend array dtype disagrees with the Tensor's"
    assert t.shape == np.shape(expected)
    np.testing.assert_array_equal(t.numpy(), expected)


# ---- zeros, ones, fill ---------------------------------------------------------------------


@pytest.mark.parametrize("make, value", [(gc.zeros, 0), (gc.ones, 1)])
@pytest.mark.parametrize("dtype", [gc.float32, gc.float64, gc.bfloat16, gc.int32, gc.int64, gc.bool])
def test_zeros_ones_values_and_dtypes(make, value, dtype):
    check(make([2, 3], dtype=dtype), np.full((2, 3), value), dtype)


@pytest.mark.parametrize("shape, expected", [(3, (3,)), ((), ()), ((2, 0), (2, 0)), (np.array([1, 2]), (1, 2))])
def test_zeros_shape_spellings(shape, expected):
    t = gc.zeros(shape)
    assert t.dtype is gc.float32 and t.shape == expected


def test_shape_from_a_tensor():
    assert gc.ones(gc.constant([2, 1])).shape == (2, 1)


@pytest.mark.parametrize("value, dtype", [(7, gc.int32), (1.5, gc.float32), (True, gc.bool),
                                          (np.float64(2.5), gc.float64), (np.int64(3), gc.int64)])
def test_fill_infers_the_dtype_of_its_value(value, dtype):  # TF: NumPy scalars keep their dtype
    check(gc.fill([2, 2], value), np.full((2, 2), value), dtype)


def test_fill_with_a_scalar_tensor_and_explicit_dtype():
    check(gc.fill([3], gc.constant(2.0, gc.float64)), [2.0, 2.0, 2.0], gc.float64)
    check(gc.fill([2], 3, dtype=gc.float16), [3.0, 3.0], gc.float16)


@pytest.mark.parametrize("make", [
    lambda shape: gc.zeros(shape),
    lambda shape: gc.ones(shape, gc.int32),
    lambda shape: gc.fill(shape, 1.0),
])
@pytest.mark.parametrize("shape, message", [
    ([2, -1], "negative dimension"),
    ([2.0, 3], "sequence of ints"),
    (["a"], "sequence of ints"),
    (None, "sequence of ints"),
])
def test_bad_shapes(make, shape, message):
    with pytest.raises(gc.InvalidArgumentError, match=message):
        make(shape)


def test_fill_rejects_a_non_scalar_value():
    with pytest.raises(gc.InvalidArgumentError, match="scalar"):
        gc.fill([2], [1.0, 2.0])


# ---- range ---------------------------------------------------------------------------------


@pytest.mark.parametrize("args, kwargs, expected, dtype", [
    ((5,), {}, [0, 1, 2, 3, 4], gc.int32),  # tf.range docstring: limit only
    ((3, 18, 3), {}, [3, 6, 9, 12, 15], gc.int32),  # tf.range docstring
    ((3, 1, -0.5), {}, [3.0, 2.5, 2.0, 1.5], gc.float32),  # tf.range docstring
    ((10, 4, -2), {}, [10, 8, 6], gc.int32),
    ((3, 3), {}, np.zeros(0), gc.int32),
    ((1, 2, 0.25), {}, [1.0, 1.25, 1.5, 1.75], gc.float32),
    ((4,), {"dtype": gc.float64}, [0.0, 1.0, 2.0, 3.0], gc.float64),
    ((0, 3), {"dtype": "int64"}, [0, 1, 2], gc.int64),
])
def test_range_values(args, kwargs, expected, dtype):
    check(gc.range(*args, **kwargs), np.asarray(expected), dtype)


# Arguments made when the test runs (never at collection: a backend may lack float16).
@pytest.mark.parametrize("make_args, dtype", [
    (lambda: (np.int64(3),), gc.int64),
    (lambda: (1, 4.0), gc.float32),  # int32 and float32: the float wins
    (lambda: (np.int64(0), 3, 1.0), gc.float32),  # int64 < float32 in TensorFlow's order
    (lambda: (gc.constant(4.0, gc.float64),), gc.float64),
    (lambda: (0, gc.constant(3, gc.int64), 1), gc.int64),
    (lambda: (gc.constant(0.0, gc.float16), 2.0, 1), gc.float32),  # float16 < float32
])
def test_range_infers_the_widest_dtype(make_args, dtype):
    assert gc.range(*make_args()).dtype is dtype


@pytest.mark.parametrize("args, message", [
    ((0, 5, 0), "delta must not be 0"),
    ((5, 1), "above limit"),  # TensorFlow: "Requires start <= limit when delta > 0"
    ((1, 5, -1), "below limit"),  # TensorFlow: "Requires start >= limit when delta < 0"
])
def test_range_errors(args, message):
    with pytest.raises(gc.InvalidArgumentError, match=message):
        gc.range(*args)


# ---- eye -------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, expected", [((3,), np.eye(3)), ((2, 3), np.eye(2, 3)), ((3, 2), np.eye(3, 2)),
                                            ((0,), np.eye(0))])
def test_eye_values(args, expected):
    check(gc.eye(*args), expected, gc.float32)


def test_eye_dtype_and_batch_shape():
    check(gc.eye(2, dtype=gc.int32), np.eye(2, dtype=np.int32), gc.int32)
    check(gc.eye(2, 3, batch_shape=[4]), np.broadcast_to(np.eye(2, 3), (4, 2, 3)), gc.float32)


def test_eye_rejects_negative_sizes():
    with pytest.raises(gc.InvalidArgumentError, match="non-negative"):
        gc.eye(-1)


# ---- zeros_like, ones_like ---------------------------------------------------------------------


@pytest.mark.parametrize("make, value", [(gc.zeros_like, 0), (gc.ones_like, 1)])
def test_like_ops_keep_shape_and_dtype(make, value):
    check(make(gc.constant([[1, 2, 3]], gc.int64)), np.full((1, 3), value), gc.int64)
    check(make(np.ones((2,), np.float16)), np.full(2, value), gc.float16)
    check(make(gc.Variable([1.0, 2.0])), np.full(2, value), gc.float32)
    check(make(gc.constant([1.0, 2.0]), dtype=gc.bool), np.full(2, bool(value)), gc.bool)


@pytest.mark.parametrize("make", [gc.zeros_like, gc.ones_like])
def test_like_ops_are_not_differentiable(make):
    # TensorFlow registers ZerosLike and OnesLike as NotDifferentiable: no path back to x.
    x = gc.constant([1.0, 2.0])
    with gc.GradientTape() as tape:
        tape.watch(x)
        y = gc.reduce_sum(make(x))
    assert tape.gradient(y, x) is None
