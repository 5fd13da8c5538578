"""Clipping follows TensorFlow's clip_ops: clip_by_value, clip_by_norm, clip_by_global_norm,
global_norm, and TF 1's clip_by_average_norm.

Left out: IndexedSlices inputs, since gradcore's tensors and gradients are dense
by design (docs/deviations.md, "Gradients are always dense"). Expected values are
the ones TensorFlow gives (its docstrings, its clip_ops tests, or a run of TF),
or TF's formulas worked by hand where TF documents only the formula. Smooth-region
gradients of every clipping function are checked against finite differences by the
OpCases in cases/clip_cases.py.
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose


def gradients(fn, *values, dtype=gc.float32):
    """The value of fn(*values) and the gradients of sum(fn(...)) with respect to every value."""
    tensors = [gc.constant(v, dtype=dtype) for v in values]
    with gc.GradientTape() as tape:
        tape.watch(tensors)
        out = fn(*tensors)
        total = gc.reduce_sum(out)
    return out, tape.gradient(total, tensors, unconnected_gradients="zero")


# ---- clip_by_value -------------------------------------------------------------------------


def test_clips_ints_to_the_bounds():  # TF's docstring example; int32 stays int32
    out = gc.clip_by_value([[-10, -1, 0], [0, 2, 10]], -1, 1)
    assert out.dtype is gc.int32
    np.testing.assert_array_equal(out.numpy(), [[-1, -1, 0], [0, 1, 1]])


def test_a_tensor_bound_broadcasts_over_t():  # TF's docstring example
    t = gc.constant([[-1, 0, 10], [-1, 0, 10]])
    out = gc.clip_by_value(t, gc.constant([[2], [1]]), 100)
    np.testing.assert_array_equal(out.numpy(), [[2, 2, 10], [1, 1, 10]])


@pytest.mark.parametrize("bound_shape", [(1, 1, 2), (1, 1, 3)])
def test_a_bound_that_would_grow_t_is_a_shape_error(bound_shape):  # TF: InvalidArgumentError (docs/deviations.md)
    t = gc.zeros((2, 3))
    with pytest.raises(gc.ShapeError, match=r"gc.clip_by_value.*\(2, 3\)"):
        gc.clip_by_value(t, gc.zeros(bound_shape), 1.0)
    with pytest.raises(gc.ShapeError, match=r"\(1, 1, \d\)"):
        gc.clip_by_value(t, -1.0, gc.ones(bound_shape))


def test_float_bounds_on_an_int_tensor_are_a_dtype_error():  # TF: TypeError; int bounds are fine
    t = gc.constant([1, 5, 9])
    with pytest.raises(gc.DTypeError, match=r"gc.clip_by_value.*3.1.*int32"):
        gc.clip_by_value(t, -3.1, 3.1)
    with pytest.raises(TypeError):  # the builtin a Python user would catch, as TF's TypeError
        gc.clip_by_value(t, -3.1, 3.1)
    np.testing.assert_array_equal(gc.clip_by_value(t, 2, 8).numpy(), [2, 5, 8])


def test_nan_passes_and_infinities_are_clipped():  # TF: NaN passes through
    out = gc.clip_by_value(gc.constant([np.nan, np.inf, -np.inf]), -4.0, 4.0).numpy()
    assert np.isnan(out[0])
    np.testing.assert_array_equal(out[1:], [4.0, -4.0])


def test_min_above_max_gives_min():  # TF: maximum(minimum(t, max), min)
    np.testing.assert_array_equal(gc.clip_by_value(gc.constant([0, 5, 10]), 6, 4).numpy(), [6, 6, 6])


@pytest.mark.parametrize("t, expected", [
    (0.0, (1, 0, 0)), (2.0, (0, 0, 1)), (-2.0, (0, 1, 0)),
    (1.0, (1, 0, 0)), (-1.0, (1, 0, 0)),  # on a bound the gradient goes to t
])
def test_scalar_gradient_goes_to_whichever_value_is_returned(t, expected):  # TF: on a bound, t gets it
    _, grads = gradients(gc.clip_by_value, t, -1.0, 1.0)
    np.testing.assert_array_equal([float(g) for g in grads], expected)


def test_bound_gradients_sum_over_broadcasting():  # TF: dmin, dmax summed over broadcast
    _, (dt, dmin, dmax) = gradients(gc.clip_by_value, [0.0, -2.0, 2.0, -2.0], -1.0, 1.0)
    np.testing.assert_array_equal(dt.numpy(), [1, 0, 0, 0])
    assert float(dmin) == 2.0 and float(dmax) == 1.0


# ---- clip_by_norm --------------------------------------------------------------------------


def test_clip_by_norm_scales_down_only_above_clip_norm():  # TF: t * clip / max(||t||, clip)
    t = gc.constant([[-3.0, 0.0, 0.0], [4.0, 0.0, 0.0]])
    assert_allclose(gc.clip_by_norm(t, 4.0), [[-2.4, 0, 0], [3.2, 0, 0]])
    assert_allclose(gc.clip_by_norm(t, 6.0), t.numpy())


def test_clip_by_norm_docstring_example():  # TF's docstring example
    out = gc.clip_by_norm(gc.constant([[1.0, 2.0, 3.0, 4.0, 5.0]]), 2.0)
    assert_allclose(out, [[0.26968, 0.5393599, 0.8090398, 1.0787199, 1.3483998]])


@pytest.mark.parametrize("axes, expected", [
    ([0], [[-2.4, 0, 0], [3.2, 0, 3]]),
    ([1], [[-3, 0, 0], [3.2, 0, 2.4]]),
])
def test_clip_by_norm_over_axes(axes, expected):  # TF's clip_ops_test values
    t = gc.constant([[-3.0, 0.0, 0.0], [4.0, 0.0, 3.0]])
    assert_allclose(gc.clip_by_norm(t, 4.0, axes=axes), expected)


def test_zero_vector_keeps_value_and_gets_a_finite_gradient():  # TF: no NaN (two-where trick)
    out, (dt,) = gradients(lambda t: gc.clip_by_norm(t, 4.0), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(out.numpy(), [0, 0, 0])
    np.testing.assert_array_equal(dt.numpy(), [1, 1, 1])


def test_gradient_when_clipped():  # TF's values
    out, (dt,) = gradients(lambda t: gc.clip_by_norm(t, 1.0), [3.0, 4.0])
    assert_allclose(out, [0.6, 0.8])
    # d/dt_i sum(t / |t|) = 1/|t| - t_i sum(t) / |t|^3 = 0.2 - t_i * 7/125
    assert_allclose(dt, [0.032, -0.024])


def test_negative_clip_norm_counts_as_zero():  # TF: treated as 0
    np.testing.assert_array_equal(gc.clip_by_norm(gc.constant([3.0, 4.0]), -1.0).numpy(), [0.0, 0.0])


def test_clip_by_norm_of_an_int_tensor_is_an_error():  # TF: no Sqrt for int32
    with pytest.raises(gc.InvalidArgumentError, match="gc.clip_by_norm.*int32"):
        gc.clip_by_norm(gc.constant([3, 4]), 1.0)


def test_clip_norm_that_would_grow_t_is_a_shape_error():  # TF: ValueError, incompatible shapes
    t = gc.constant(np.array([-3.0, 0.0, 0.0, 4.0, 0.0, 0.0], dtype=np.float32).reshape(2, 3, 1))
    with pytest.raises(gc.ShapeError, match=r"\(2,\).*\(2, 3, 1\).*\(2, 3, 2\)"):
        gc.clip_by_norm(t, gc.constant([1.0, 2.0]))


# ---- clip_by_global_norm and global_norm -----------------------------------------------------

X0 = [[-2.0, 0.0, 0.0], [4.0, 0.0, 0.0]]
X1 = [1.0, -2.0]  # global norm of X0 and X1: sqrt(4 + 16 + 1 + 4) = 5


def test_global_clipping_returns_a_list_with_nones_kept_and_the_norm():  # TF: a (list, norm) tuple
    result = gc.clip_by_global_norm((gc.constant(X0), None, gc.constant(X1), None), 4.0)
    assert isinstance(result, tuple) and len(result) == 2
    clipped, norm = result
    assert isinstance(clipped, list) and clipped[1] is None and clipped[3] is None
    assert_allclose(clipped[0], np.array(X0) * 0.8)
    assert_allclose(clipped[2], np.array(X1) * 0.8)
    assert_allclose(norm, 5.0)


def test_global_clipping_above_the_norm_changes_nothing():  # TF: unchanged when clip >= norm
    (a, b), norm = gc.clip_by_global_norm([gc.constant(X0), gc.constant(X1)], 6.0)
    assert_allclose(a, X0)
    assert_allclose(b, X1)
    assert_allclose(norm, 5.0)


@pytest.mark.parametrize("bad, norm_is", [(np.inf, np.isposinf), (np.nan, np.isnan)])
def test_a_non_finite_input_makes_every_output_nan(bad, norm_is):  # TF: scale + (norm - norm)
    with np.errstate(invalid="ignore"):  # inf - inf is the point here; NumPy would warn about it
        (a, b), norm = gc.clip_by_global_norm([gc.constant([1.0, bad]), gc.constant(X1)], 4.0)
    assert np.isnan(a.numpy()).all() and np.isnan(b.numpy()).all()
    assert norm_is(float(norm))


def test_zeros_nones_and_empty_lists():  # TF: unchanged, norm 0.0
    (z,), norm = gc.clip_by_global_norm([gc.zeros((2, 2))], 1.0)
    np.testing.assert_array_equal(z.numpy(), np.zeros((2, 2)))
    assert float(norm) == 0.0
    clipped, norm = gc.clip_by_global_norm([None, None], 1.0)
    assert clipped == [None, None] and float(norm) == 0.0
    clipped, norm = gc.clip_by_global_norm([], 1.0)
    assert clipped == [] and float(norm) == 0.0


@pytest.mark.parametrize("fn", [lambda t: gc.clip_by_global_norm(t, 1.0), gc.linalg.global_norm])
def test_t_list_must_be_a_sequence(fn):  # TF's TypeError message
    with pytest.raises(TypeError, match="`t_list` should be a sequence of tensors"):
        fn(gc.constant([3.0, 4.0]))


def test_use_norm_replaces_the_computed_norm():  # TF: returns use_norm as the norm
    (clipped,), norm = gc.clip_by_global_norm([gc.constant([[3.0, 4.0]])], 1.0, use_norm=10.0)
    assert_allclose(clipped, [[0.3, 0.4]])
    assert float(norm) == 10.0


def test_mixed_float_dtypes_are_an_error():  # TF: InvalidArgumentError
    mixed = [gc.constant([1.0]), gc.constant(np.array([2.0]))]  # float32 and float64
    with pytest.raises(gc.InvalidArgumentError):
        gc.clip_by_global_norm(mixed, 1.0)


def test_global_norm_ignores_none():  # TF: None entries are ignored
    assert_allclose(gc.linalg.global_norm([3.0, None, 4.0]), 5.0)


# ---- clip_by_average_norm ----------------------------------------------------------------------


def test_clip_by_average_norm_is_clip_by_norm_with_clip_times_size():  # TF 1's values (docs/deviations.md)
    t = gc.constant([[-3.0, 0.0, 0.0], [4.0, 0.0, 0.0]])
    assert_allclose(gc.clip_by_average_norm(t, 0.8), [[-2.88, 0, 0], [3.84, 0, 0]])
    assert_allclose(gc.clip_by_average_norm(t, 0.9), t.numpy())  # 0.9 * 6 = 5.4 >= ||t|| = 5
