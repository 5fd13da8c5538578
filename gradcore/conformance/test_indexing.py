"""Indexing (``x[key]``), gather and one_hot: values against NumPy, dense gradients, errors.

Expected values come from NumPy's basic indexing, from TensorFlow's IndexedSlices
gradients made dense (docs/deviations.md, "Gradients are always dense"), or from the
math of a scatter:
d sum(w * x[key]) / dx is w written into zeros at ``key`` (basic indexing never repeats
an element, so a plain assignment is the adjoint).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradcore as gc


def grad_of(fn, *sources):
    with gc.GradientTape() as tape:
        tape.watch(list(sources))
        y = fn(*sources)
    return tape.gradient(y, list(sources))


# ---- basic indexing against NumPy (hypothesis: shapes and keys) -------------------------------

_bounds = st.one_of(st.none(), st.integers(-6, 6))


@st.composite
def shapes_and_keys(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    smallest = min(shape)  # an int index valid on every axis, wherever an ellipsis puts it
    key, indexed = [], 0
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["int", "slice", "none", "ellipsis"]))
        if kind in ("int", "slice") and indexed < len(shape):
            indexed += 1
            if kind == "int":
                key.append(draw(st.integers(-smallest, smallest - 1)))
            else:
                step = draw(st.one_of(st.none(), st.integers(-3, 3).filter(bool)))
                key.append(slice(draw(_bounds), draw(_bounds), step))
        elif kind == "none":
            key.append(None)
        elif kind == "ellipsis" and Ellipsis not in key:
            key.append(Ellipsis)
    return shape, tuple(key)


@settings(max_examples=25, deadline=None)
@given(shapes_and_keys())
def test_getitem_matches_numpy_and_gradient_is_a_scatter(shape_and_key):
    shape, key = shape_and_key
    x_np = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    expected = x_np[key]
    x = gc.constant(x_np)
    with gc.GradientTape() as tape:
        tape.watch(x)
        y = x[key]
        w = np.random.default_rng(0).normal(size=expected.shape)
        loss = gc.reduce_sum(y * gc.constant(w))
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y.numpy(), expected)
    scatter = np.zeros(shape)
    scatter[key] = w
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), scatter)


@pytest.mark.parametrize("key", [
    (slice(1, 3), None, Ellipsis, -1),  # the brief's example
    (Ellipsis, slice(None, None, -1)),
    (slice(10, -10, -1),),  # bounds beyond the axis clip, as in Python
    (slice(-2, None), slice(None, None, 2)),
    (),
    (0, 0, 0),
    (None, None),
])
def test_getitem_keys(key):
    x_np = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(gc.constant(x_np)[key].numpy(), x_np[key])


def test_getitem_on_a_variable_and_scalar_tensor_index():
    v = gc.Variable([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(v[gc.constant(1)].numpy(), [3.0, 4.0])


def test_variable_slice_gradient_is_dense():
    v = gc.Variable([[1.0, 2.0], [3.0, 4.0]])
    with gc.GradientTape() as tape:
        y = gc.reduce_sum(v[1])
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [[0.0, 0.0], [1.0, 1.0]])  # TF: dense too


def test_second_order_through_a_slice():
    # y = sum(x[1:]^3): d2y/dx2 = 6 x on the sliced elements, 0 elsewhere.
    x = gc.constant([1.0, 2.0, 3.0])
    with gc.GradientTape() as outer:
        outer.watch(x)
        with gc.GradientTape() as inner:
            inner.watch(x)
            y = gc.reduce_sum(x[1:] ** 3)
        g = inner.gradient(y, x)
        h = gc.reduce_sum(g)
    np.testing.assert_allclose(g.numpy(), [0.0, 12.0, 27.0])
    np.testing.assert_allclose(outer.gradient(h, x).numpy(), [0.0, 12.0, 18.0])


@pytest.mark.parametrize("key, message", [
    (5, "index 5 is out of bounds for axis 0 with size 3"),
    (-4, "index -4 is out of bounds for axis 0 with size 3"),
    ((0, 7), "index 7 is out of bounds for axis 1 with size 2"),
    ((0, 0, 0), "too many indices"),
    ((Ellipsis, 0, Ellipsis), "only one ellipsis"),
    (slice(None, None, 0), "step cannot be zero"),
    (1.5, "indices must be ints"),
    (slice(0.5, 2), "slice bounds"),
    (True, "boolean"),
])
def test_getitem_errors(key, message):
    x = gc.constant(np.zeros((3, 2)))
    with pytest.raises(gc.InvalidArgumentError, match=message):
        x[key]


@pytest.mark.parametrize("make_key", [lambda: [0, 2], lambda: np.array([0, 1]), lambda: (0, [1]),
                                      lambda: gc.constant([0, 1])], ids=["list", "numpy", "tuple", "tensor"])
def test_list_or_tensor_key_points_to_gather(make_key):
    x = gc.constant(np.zeros((3, 2)))
    with pytest.raises(gc.InvalidArgumentError, match="gc.gather"):
        x[make_key()]


# ---- gather: the dense equivalents of TF's IndexedSlices gradients -----------------------------


def test_gather_duplicate_rows_sum():  # TF: duplicate indices are summed
    p = gc.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y = gc.gather(p, [0, 2, 0])
    np.testing.assert_array_equal(y.numpy(), [[1, 2], [5, 6], [1, 2]])
    (g,) = grad_of(lambda p: gc.reduce_sum(gc.gather(p, [0, 2, 0])), p)
    np.testing.assert_array_equal(g.numpy(), [[2, 2], [0, 0], [1, 1]])


def test_gather_variable_weighted_duplicates():  # TF: as for a constant
    v = gc.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with gc.GradientTape() as tape:
        y = gc.reduce_sum(gc.gather(v, [2, 2]) * [[1.0, 10.0], [100.0, 1000.0]])
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [[0, 0], [0, 0], [101, 1010]])


def test_gather_plus_dense_use():  # TF: a dense gradient joins in
    v = gc.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with gc.GradientTape() as tape:
        y = gc.reduce_sum(gc.gather(v, [1])) + gc.reduce_sum(v)
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [[1, 1], [2, 2], [1, 1]])


def test_two_gathers_add_up():  # TF: indices [1, 1, 0] of ones, densified
    v = gc.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with gc.GradientTape() as tape:
        y = gc.reduce_sum(gc.gather(v, [1])) + gc.reduce_sum(gc.gather(v, [1, 0]))
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [[1, 1], [2, 2], [0, 0]])


def test_gather_axis_1_gradient():  # TF: dense for axis != 0
    p = gc.constant([[1.0, 2.0], [3.0, 4.0]])
    (g,) = grad_of(lambda p: gc.reduce_sum(gc.gather(p, [1, 1], axis=1)), p)
    np.testing.assert_array_equal(g.numpy(), [[0, 2], [0, 2]])


def test_jacobian_through_gather_is_dense():  # TF: jacobian densifies
    p = gc.constant([1.0, 2.0, 3.0])
    with gc.GradientTape() as tape:
        tape.watch(p)
        y = gc.gather(p, [2, 0, 2])
    np.testing.assert_array_equal(tape.jacobian(y, p).numpy(), [[0, 0, 1], [1, 0, 0], [0, 0, 1]])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_gather_matches_numpy_take_with_2d_indices(axis):
    p = np.arange(24.0).reshape(2, 3, 4)
    idx = np.array([[0, 1], [1, 0]])
    np.testing.assert_array_equal(gc.gather(gc.constant(p), idx, axis=axis).numpy(), np.take(p, idx, axis=axis))


def test_gather_int64_indices_and_int_params():
    p = gc.constant([10, 20, 30])
    np.testing.assert_array_equal(gc.gather(p, gc.constant([2, 0], gc.int64)).numpy(), [30, 10])


@pytest.mark.parametrize("indices, message", [
    ([0, 3], "gc.gather: index 3 .* out of range: .* must be in \\[0, 3\\)"),
    ([[0], [-1]], "gc.gather: index -1 .*position \\(1, 0\\)"),
])
def test_gather_index_out_of_range(indices, message):
    with pytest.raises(gc.InvalidArgumentError, match=message):
        gc.gather(gc.constant(np.zeros((3, 2))), indices)


def test_gather_argument_errors():
    p = gc.constant(np.zeros((3, 2)))
    with pytest.raises(gc.DTypeError, match="indices must be integers"):
        gc.gather(p, [0.0, 1.0])
    with pytest.raises(gc.InvalidArgumentError, match="batch_dims"):
        gc.gather(p, [[0]], batch_dims=1)
    with pytest.raises(gc.InvalidArgumentError, match="axis 2"):
        gc.gather(p, [0], axis=2)


def test_unsorted_segment_sum_values_and_errors():
    data = gc.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(
        gc.math.unsorted_segment_sum(data, [1, 0, 1], 3).numpy(), [[3, 4], [6, 8], [0, 0]]
    )
    with pytest.raises(gc.InvalidArgumentError, match="index 3"):
        gc.math.unsorted_segment_sum(data, [0, 3, 1], 3)
    with pytest.raises(gc.ShapeError, match="prefix"):
        gc.math.unsorted_segment_sum(data, [0, 1], 3)


# ---- one_hot (TensorFlow's docstring examples) -----------------------------------------------


def test_one_hot_defaults():
    y = gc.one_hot([0, 1, 2], 3)
    assert y.dtype is gc.float32
    np.testing.assert_array_equal(y.numpy(), np.eye(3))


def test_one_hot_out_of_range_is_all_off():
    y = gc.one_hot([0, 2, -1, 1], 3, on_value=5.0, off_value=0.0, axis=-1)
    np.testing.assert_array_equal(y.numpy(), [[5, 0, 0], [0, 0, 5], [0, 0, 0], [0, 5, 0]])


def test_one_hot_2d_axis_and_dtype():
    y = gc.one_hot([[0, 2], [1, -1]], 3, axis=1, dtype=gc.float64)
    assert y.dtype is gc.float64 and y.shape == (2, 3, 2)
    np.testing.assert_array_equal(y.numpy()[:, :, 0], [[1, 0, 0], [0, 1, 0]])


def test_one_hot_dtype_from_on_value():
    assert gc.one_hot([1], 2, on_value=7).dtype is gc.int32
    assert gc.one_hot([1], 2, off_value=gc.constant(0.0, gc.float64)).dtype is gc.float64


def test_one_hot_errors():
    with pytest.raises(gc.DTypeError, match="indices must be integers"):
        gc.one_hot([0.0], 2)
    with pytest.raises(gc.DTypeError, match="on_value"):
        gc.one_hot([0], 2, on_value=gc.constant(1.0, gc.float64), dtype=gc.float32)
