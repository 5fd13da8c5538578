"""Array and matrix ops beyond what the OpCase table checks: argument errors and dtype rules.

Values and gradients of these ops are checked by cases/array_cases.py; here each error
must be gradcore's own class and name the op and the offending shapes or values.
"""

import numpy as np
import pytest

import gradcore as gc

A23 = np.zeros((2, 3))


# ---- concat, stack, unstack, split ----------------------------------------------------------


def test_concat_errors():
    with pytest.raises(gc.ShapeError, match=r"gc.concat: shapes \(2, 3\) and \(3, 3\) differ.*axis 1"):
        gc.concat([A23, np.zeros((3, 3))], axis=1)
    with pytest.raises(gc.DTypeError, match="gc.concat"):
        gc.concat([gc.constant(A23, gc.float32), gc.constant(A23, gc.float64)], axis=0)
    with pytest.raises(gc.InvalidArgumentError, match="empty"):
        gc.concat([], axis=0)
    with pytest.raises(gc.InvalidArgumentError, match="scalars.*gc.stack"):
        gc.concat([1.0, 2.0], axis=0)
    with pytest.raises(gc.InvalidArgumentError, match="axis 2 is out of range"):
        gc.concat([A23, A23], axis=2)


def test_concat_python_values_take_the_tensor_dtype():
    y = gc.concat([[[1, 2]], gc.constant([[3, 4]], gc.int64)], axis=0)
    assert y.dtype is gc.int64
    np.testing.assert_array_equal(y.numpy(), [[1, 2], [3, 4]])


def test_stack_errors_and_unstack_round_trip():
    with pytest.raises(gc.ShapeError, match=r"same shape.*\(2, 3\) and \(3, 2\)"):
        gc.stack([A23, np.zeros((3, 2))])
    x = np.arange(24.0).reshape(2, 3, 4)
    pieces = gc.unstack(gc.constant(x), axis=-2)
    assert len(pieces) == 3
    np.testing.assert_array_equal(pieces[1].numpy(), x[:, 1, :])
    np.testing.assert_array_equal(gc.stack(pieces, axis=-2).numpy(), x)
    with pytest.raises(gc.InvalidArgumentError, match="num=2"):
        gc.unstack(gc.constant(x), num=2, axis=1)


def test_split_sizes_and_errors():
    x = gc.constant(np.arange(10.0))
    assert [p.shape for p in gc.split(x, [2, -1, 3])] == [(2,), (5,), (3,)]
    with pytest.raises(gc.InvalidArgumentError, match="into 3 equal pieces"):
        gc.split(x, 3)
    with pytest.raises(gc.InvalidArgumentError, match="do not add up to 10"):
        gc.split(x, [2, 3])
    with pytest.raises(gc.InvalidArgumentError, match="at most one -1"):
        gc.split(x, [-1, -1, 2])


def test_split_gradient_fills_zeros_for_unused_pieces():
    x = gc.constant(np.arange(6.0))
    with gc.GradientTape() as tape:
        tape.watch(x)
        _, middle, _ = gc.split(x, 3)
        y = gc.reduce_sum(middle * middle)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, 0, 4, 6, 0, 0])


# ---- tile and pad --------------------------------------------------------------------------------


def test_tile_errors():
    with pytest.raises(gc.InvalidArgumentError, match=r"one non-negative int per axis.*\(2, 3\)"):
        gc.tile(A23, [2])
    with pytest.raises(gc.InvalidArgumentError, match="non-negative"):
        gc.tile(A23, [1, -1])


def test_pad_errors():
    with pytest.raises(gc.InvalidArgumentError, match="REFLECT.*only mode='CONSTANT'"):
        gc.pad(A23, [[1, 1], [1, 1]], mode="REFLECT")
    with pytest.raises(gc.InvalidArgumentError, match=r"shape \[2, 2\]"):
        gc.pad(A23, [[1, 1]])
    with pytest.raises(gc.InvalidArgumentError, match="non-negative"):
        gc.pad(A23, [[1, -1], [0, 0]])
    with pytest.raises(gc.DTypeError, match="gc.pad"):
        gc.pad(gc.constant([1, 2]), [[1, 1]], constant_values=0.5)


def test_pad_mode_is_case_insensitive_and_keeps_int_dtype():
    y = gc.pad(gc.constant([1, 2]), [[1, 2]], mode="constant", constant_values=9)
    assert y.dtype is gc.int32
    np.testing.assert_array_equal(y.numpy(), [9, 1, 2, 9, 9])


# ---- matmul --------------------------------------------------------------------------------------


def test_matmul_inner_dimension_mismatch_names_both_shapes():
    with pytest.raises(gc.ShapeError, match=r"a has shape \(2, 3\), b has shape \(2, 3\)"):
        gc.matmul(A23, A23)


def test_matmul_batch_mismatch():
    with pytest.raises(gc.ShapeError, match="batch"):
        gc.matmul(np.zeros((2, 2, 3)), np.zeros((3, 3, 4)))


@pytest.mark.parametrize("a, b", [(np.zeros(3), A23), (A23, np.zeros(3))])
def test_matmul_needs_rank_2(a, b):
    with pytest.raises(gc.InvalidArgumentError, match="rank >= 2"):
        gc.matmul(a, b)


def test_matmul_dtype_rules():
    with pytest.raises(gc.DTypeError):  # TF: no implicit promotion
        gc.matmul(gc.constant(A23, gc.float32), gc.constant(A23.T, gc.float64))
    with pytest.raises(gc.DTypeError, match="numeric"):
        gc.matmul(gc.constant([[True]]), gc.constant([[True]]))
    y = gc.matmul(gc.constant([[1, 2]]), gc.constant([[3], [4]]))
    assert y.dtype is gc.int32
    np.testing.assert_array_equal(y.numpy(), [[11]])


@pytest.mark.parametrize("dtype", [gc.bfloat16, gc.float16])
def test_matmul_keeps_half_precision_dtypes(dtype):
    a = gc.ones([2, 3], dtype)
    y = a @ gc.ones([3, 2], dtype)
    assert y.dtype is dtype and gc.get_backend().dtype_of(y._value) is dtype
    np.testing.assert_array_equal(y.numpy().astype(np.float64), np.full((2, 2), 3.0))


def test_matmul_transpose_and_adjoint_together_is_an_error():
    with pytest.raises(gc.InvalidArgumentError, match="only one of transpose_a and adjoint_a"):
        gc.matmul(A23, A23, transpose_a=True, adjoint_a=True)


def test_jacobian_of_matmul_has_target_then_source_shape():  # TF: [7, 10, 5, 10]
    x = gc.constant(np.ones((7, 5)))
    w = gc.Variable(np.ones((5, 10)))
    with gc.GradientTape() as tape:
        y = x @ w
    assert tape.jacobian(y, w).shape == (7, 10, 5, 10)


@pytest.mark.parametrize("out_type", [gc.int32, gc.int64])
def test_shape_is_the_shape_as_an_integer_tensor(out_type):
    """TF: tf.shape(x) is a 1-D int32 (or out_type) tensor of x's sizes; a scalar's is empty."""
    shape = gc.shape(gc.zeros([2, 3, 4]), out_type=out_type)
    assert shape.dtype == out_type and shape.numpy().tolist() == [2, 3, 4]
    assert gc.shape(gc.constant(1.0)).numpy().tolist() == [] and gc.shape(gc.constant(1.0)).shape == (0,)
    assert gc.shape([[1, 2, 3]]).numpy().tolist() == [1, 3]


def test_shape_refuses_a_non_integer_out_type():
    """TF: out_type must be int32 or int64."""
    with pytest.raises(gc.DTypeError, match="gc.shape: out_type must be an integer dtype"):
        gc.shape(gc.zeros([2]), out_type=gc.float32)
