"""Behaviour of the math added beside the op cases (cases/math_more_cases.py): TensorFlow's names
at the top level, the values at the edges (zeros, poles, empty axes), the options of the scans and
of bincount, and the errors, the same on every backend."""

import math

import numpy as np
import pytest

import gradcore as gc

# tf.X for tf.math.X in TensorFlow 2.21 (the ones for ops gradcore has).
TOP_LEVEL = ("abs", "acos", "acosh", "add", "add_n", "argmax", "argmin", "asin", "asinh", "atan", "atan2", "atanh",
             "cos", "cosh", "cumsum", "divide", "equal", "exp", "floor", "greater", "greater_equal", "less",
             "less_equal", "logical_and", "logical_not", "logical_or", "maximum", "minimum", "multiply", "negative",
             "not_equal", "pow", "reduce_all", "reduce_any", "reduce_logsumexp", "reduce_max", "reduce_mean",
             "reduce_min", "reduce_prod", "reduce_sum", "round", "scalar_mul", "sigmoid", "sign", "sin", "sinh",
             "sqrt", "square", "subtract", "tan", "tanh", "truediv")


def test_tensorflow_top_level_math_names_are_the_gc_math_ops():
    for name in TOP_LEVEL:
        assert getattr(gc, name) is getattr(gc.math, name), name


def _gradient(fn, *values):
    values = [gc.constant(v, dtype=gc.float64) for v in values]
    with gc.GradientTape() as tape:
        tape.watch(values)
        y = gc.reduce_sum(fn(*values))
    return [g.numpy() for g in tape.gradient(y, values)]


def test_xlogy_and_xdivy_are_zero_with_a_zero_gradient_where_x_is_zero():
    """TF: xlogy(0, y) = 0 for every y, 0 and NaN included; its gradients there are 0, not NaN."""
    x, y = [0.0, 0.0, 0.0, 2.0], [0.0, math.nan, 3.0, 4.0]
    x, y = gc.constant(x, dtype=gc.float64), gc.constant(y, dtype=gc.float64)
    np.testing.assert_allclose(gc.math.xlogy(x, y).numpy(), [0, 0, 0, np.log(4) * 2], rtol=1e-15)
    np.testing.assert_allclose(gc.math.xdivy(x, y).numpy(), [0, 0, 0, 0.5], rtol=1e-15)
    for op in (gc.math.xlogy, gc.math.xdivy):
        dx, dy = _gradient(op, [0.0, 0.0], [0.0, 2.0])
        np.testing.assert_array_equal(dx, [0.0, 0.0], err_msg=op.__name__)
        np.testing.assert_array_equal(dy, [0.0, 0.0], err_msg=op.__name__)


def test_gamma_family_at_the_poles():
    """lgamma is +inf at 0 and the negative integers; digamma NaN there; polygamma(n >= 1) is
    (-1)^(n+1) n! zeta's +inf (TensorFlow's kernels); the libraries disagree, the core decides."""
    poles = gc.constant([0.0, -1.0, -3.0], dtype=gc.float64)
    np.testing.assert_array_equal(gc.math.lgamma(poles).numpy(), [np.inf] * 3)
    assert np.isnan(gc.math.digamma(poles).numpy()).all()
    orders = gc.constant([1.0, 2.0, 0.0], dtype=gc.float64)
    np.testing.assert_array_equal(gc.math.polygamma(orders, poles).numpy(), [np.inf, -np.inf, np.nan])
    not_whole = gc.constant([1.5, -1.0], dtype=gc.float64)  # TF: NaN unless the order is a whole number >= 0
    assert np.isnan(gc.math.polygamma(not_whole, gc.constant([1.3, 2.0], dtype=gc.float64)).numpy()).all()


def test_polygamma_takes_float32_and_float64_only():
    with pytest.raises(gc.DTypeError, match="gc.math.polygamma"):
        gc.math.polygamma(gc.constant([1.0], dtype=gc.float16), gc.constant([2.0], dtype=gc.float16))
    with pytest.raises(gc.DTypeError, match="gc.math.digamma"):
        gc.math.digamma(gc.constant([1, 2]))


def test_digamma_third_derivative_is_polygamma_two():
    x = gc.constant([1.5, 3.2], dtype=gc.float64)
    with gc.GradientTape() as outer:
        outer.watch(x)
        with gc.GradientTape() as inner:
            inner.watch(x)
            y = gc.math.digamma(x)
        first = inner.gradient(y, x)
    second = outer.gradient(first, x)
    np.testing.assert_allclose(second.numpy(), gc.math.polygamma(gc.constant([2.0, 2.0], gc.float64), x).numpy())


def test_reduce_any_and_all_over_nothing():
    empty = gc.zeros((2, 0), dtype=gc.bool)
    np.testing.assert_array_equal(gc.reduce_any(empty, axis=1).numpy(), [False, False])
    np.testing.assert_array_equal(gc.reduce_all(empty, axis=1).numpy(), [True, True])
    with pytest.raises(gc.DTypeError, match="gc.reduce_any"):
        gc.reduce_any(gc.constant([1.0, 0.0]))


def test_euclidean_norm_of_integers_is_the_integer_part_in_their_dtype():
    norm = gc.math.reduce_euclidean_norm(gc.constant([[3, 1], [4, 5]]), axis=0)
    assert norm.dtype is gc.int32
    np.testing.assert_array_equal(norm.numpy(), [5, 5])  # sqrt(26) = 5.09...


def test_count_nonzero_counts_in_the_asked_dtype():
    x = gc.constant([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]])
    count = gc.math.count_nonzero(x, axis=1, keepdims=True, dtype=gc.int32)
    assert count.dtype is gc.int32 and count.shape == (2, 1)
    np.testing.assert_array_equal(count.numpy(), [[2], [1]])
    assert gc.math.count_nonzero(x).dtype is gc.int64
    assert int(gc.math.count_nonzero(gc.constant([True, False, True]))) == 2


def test_cumsum_options_as_tensorflow_documents_them():
    x = gc.constant([1, 2, 3], dtype=gc.int8)
    for kwargs, expected in (({}, [1, 3, 6]), ({"exclusive": True}, [0, 1, 3]), ({"reverse": True}, [6, 5, 3]),
                             ({"exclusive": True, "reverse": True}, [5, 3, 0])):
        y = gc.cumsum(x, **kwargs)
        assert y.dtype is gc.int8
        np.testing.assert_array_equal(y.numpy(), expected, err_msg=str(kwargs))
    np.testing.assert_array_equal(gc.math.cumprod(gc.constant([2.0, 3.0, 4.0]), exclusive=True).numpy(), [1, 2, 6])
    with pytest.raises(gc.InvalidArgumentError, match="gc.math.cumsum"):
        gc.cumsum(x, axis=1)


def test_cumprod_gradient_where_several_zeros_meet():
    """Two zeros in a row: every product holding both has a zero gradient, TF's division gives NaN."""
    x = [2.0, 0.0, 0.0, 3.0]
    (grad,) = _gradient(lambda t: gc.math.cumprod(t), x)
    # d/dx_k sum_i prod_{j<=i} x_j, by deletion
    expected = [sum(np.prod([x[j] for j in range(i + 1) if j != k]) for i in range(k, 4)) for k in range(4)]
    np.testing.assert_allclose(grad, expected)
    assert np.isfinite(grad).all()


def test_bincount_lengths_weights_and_rows():
    arr = gc.constant([1, 1, 3, 0, 7])
    np.testing.assert_array_equal(gc.math.bincount(arr).numpy(), [1, 2, 0, 1, 0, 0, 0, 1])
    np.testing.assert_array_equal(gc.math.bincount(arr, minlength=3, maxlength=3).numpy(), [1, 2, 0])
    np.testing.assert_array_equal(gc.math.bincount(arr, minlength=10).numpy()[8:], [0, 0])
    assert gc.math.bincount(arr).dtype is gc.int32
    assert gc.math.bincount(arr, dtype=gc.float32).dtype is gc.float32
    weighted = gc.math.bincount(gc.constant([0, 2, 2]), weights=gc.constant([0.5, 1.0, 2.0], dtype=gc.float64))
    assert weighted.dtype is gc.float64
    np.testing.assert_array_equal(weighted.numpy(), [0.5, 0.0, 3.0])
    rows = gc.math.bincount(gc.constant([[1, 1, 0], [2, 2, 2]]), axis=-1, binary_output=True)
    np.testing.assert_array_equal(rows.numpy(), [[1, 1, 0], [0, 0, 1]])


def test_bincount_is_not_differentiable_and_refuses_bad_input():
    weights = gc.constant([1.0, 2.0])
    with gc.GradientTape() as tape:
        tape.watch(weights)
        y = gc.reduce_sum(gc.math.bincount(gc.constant([0, 1]), weights=weights))
    assert tape.gradient(y, weights) is None
    with pytest.raises(gc.InvalidArgumentError, match="non-negative"):
        gc.math.bincount(gc.constant([1, -1]))
    with pytest.raises(gc.InvalidArgumentError, match="mutually exclusive"):
        gc.math.bincount(gc.constant([1]), weights=gc.constant([1.0]), binary_output=True)
    with pytest.raises(gc.InvalidArgumentError, match="integers"):
        gc.math.bincount(gc.constant([1.0]))


def test_truediv_and_scalar_mul():
    assert gc.truediv(gc.constant([3]), gc.constant([2])).dtype is gc.float64  # int32 / int32, as TF
    np.testing.assert_array_equal(gc.scalar_mul(2.0, gc.constant([1.0, 3.0])).numpy(), [2.0, 6.0])
    with pytest.raises(gc.ShapeError, match="gc.scalar_mul"):
        gc.scalar_mul(gc.constant([2.0, 3.0]), gc.constant([1.0, 3.0]))
