"""Bad input raises gradcore's own exception classes, naming the op and the offending shapes/dtypes.

The core checks shapes and dtypes before it calls a kernel, so the error is the
same on every backend: each test below also proves no kernel ran. Mixing
backends is covered by the cross-backend tests.
"""

import numpy as np
import pytest

import gradcore as gc


@pytest.fixture
def no_kernel_runs(monkeypatch):
    """Make every kernel the tests' ops could reach fail loudly on the current backend."""
    backend = gc.get_backend()
    for name in ("add", "subtract", "multiply", "divide", "maximum", "less", "logical_and", "where",
                 "reshape", "reduce_sum", "reduce_mean", "argmax", "exp", "sqrt", "negative", "broadcast_to",
                 "transpose", "cast"):
        def kernel(*args, _name=name, **kwargs):
            raise AssertionError(f"kernel {_name} ran although the core should have refused the input")

        monkeypatch.setattr(backend, name, kernel)


def ones(*shape):
    return gc.constant(np.ones(shape, np.float32))


@pytest.mark.parametrize("op, api", [
    (gc.add, "gc.add"),
    (gc.subtract, "gc.subtract"),
    (gc.multiply, "gc.multiply"),
    (gc.divide, "gc.divide"),
    (gc.maximum, "gc.maximum"),
    (gc.less, "gc.less"),
])
def test_broadcasting_mismatch(op, api, no_kernel_runs):
    x, y = ones(2, 3), ones(4)
    with pytest.raises(gc.ShapeError) as info:
        op(x, y)
    message = str(info.value)
    assert message.startswith(api) and "(2, 3)" in message and "(4,)" in message
    assert isinstance(info.value, ValueError)  # ShapeError is an InvalidArgumentError, a ValueError


def test_broadcasting_mismatch_in_where(no_kernel_runs):
    with pytest.raises(gc.ShapeError, match=r"gc.where: incompatible shapes \(3,\) and \(2,\)"):
        gc.where(gc.constant([True, False, True]), ones(2), 0.0)


def test_broadcasting_mismatch_through_an_operator(no_kernel_runs):
    with pytest.raises(gc.ShapeError, match=r"gc.multiply: incompatible shapes \(3,\) and \(2, 2\)"):
        ones(3) * ones(2, 2)


@pytest.mark.parametrize("call, pattern", [
    (lambda: gc.exp(gc.constant([1, 2])),
     r"gc.exp: expected a floating-point tensor, got dtype int32 with shape \(2,\)"),
    (lambda: gc.sqrt(gc.constant([1, 2])), r"gc.sqrt: .*int32"),
    (lambda: gc.negative(gc.constant([True])), r"gc.negative: expected a numeric tensor, got dtype bool"),
    (lambda: gc.add(gc.constant([True]), gc.constant([False])), r"gc.add: .*bool"),
    (lambda: gc.logical_and(ones(2), ones(2)), r"gc.logical_and: expected a bool tensor, got dtype float32"),
    (lambda: gc.where(ones(2), ones(2), ones(2)), r"gc.where \(condition\): expected a bool tensor"),
    (lambda: gc.reduce_sum(gc.constant([True, False])), r"gc.reduce_sum: expected a numeric tensor, got dtype bool"),
    (lambda: gc.reduce_mean(gc.constant([1, 2])), r"gc.reduce_mean: expected a floating-point tensor"),
    (lambda: gc.argmax(gc.constant([True])), r"gc.argmax: .*bool"),
    (lambda: gc.multiply(ones(2), gc.constant([1, 2])), r"gc.multiply.*float32.*int32"),
    (lambda: gc.cast(ones(2), "complex64"), r"no dtype 'complex64'"),
])
def test_wrong_dtype_kinds(call, pattern, no_kernel_runs):
    with pytest.raises(gc.DTypeError, match=pattern) as info:
        call()
    assert isinstance(info.value, TypeError) and isinstance(info.value, gc.InvalidArgumentError)


@pytest.mark.parametrize("shape, pattern", [
    ([4], r"cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into \(4,\)"),
    ([4, -1], r"cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into \(4, -1\)"),
    ([-1, -1], r"invalid target shape \(-1, -1\)"),
    ([2, -3], r"invalid target shape \(2, -3\)"),
])
def test_reshape_size_mismatch(shape, pattern, no_kernel_runs):
    with pytest.raises(gc.ShapeError, match="gc.reshape: " + pattern):
        gc.reshape(ones(2, 3), shape)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: gc.reduce_sum(ones(2, 3), axis=2), gc.InvalidArgumentError,
     r"gc.reduce_sum: axis 2 is out of range for a tensor of rank 2"),
    (lambda: gc.reduce_max(ones(2, 3), axis=-3), gc.InvalidArgumentError,
     r"gc.reduce_max: axis -3 is out of range for a tensor of rank 2"),
    (lambda: gc.reduce_mean(ones(2, 3), axis=[0, -2]), gc.InvalidArgumentError,
     r"gc.reduce_mean: repeated axis in \[0, -2\]"),
    (lambda: gc.reduce_sum(ones(2, 3), axis=1.5), gc.DTypeError, r"gc.reduce_sum: axis must be an int"),
    (lambda: gc.reduce_sum(ones(2, 3), axis=[1.0]), gc.DTypeError, r"gc.reduce_sum: axis must be an int"),
    (lambda: gc.argmax(ones(2, 3), axis=2), gc.InvalidArgumentError,
     r"gc.argmax: axis 2 is out of range for a tensor of rank 2"),
    (lambda: gc.argmax(ones(2, 3), axis=1.0), gc.DTypeError, r"gc.argmax: axis must be an int"),
])
def test_bad_axis(call, error, pattern, no_kernel_runs):
    with pytest.raises(error, match=pattern):
        call()


def test_axis_may_be_a_numpy_int_or_an_int_tensor():
    x = ones(2, 3)
    for axis in (np.int64(1), gc.constant(1), gc.constant([1]), np.array([1])):
        np.testing.assert_array_equal(gc.reduce_sum(x, axis=axis).numpy(), [3.0, 3.0])


@pytest.mark.parametrize("call, pattern", [
    (lambda: gc.broadcast_to(ones(2, 3), [3, 3]), r"gc.broadcast_to: cannot broadcast shape \(2, 3\) to \(3, 3\)"),
    (lambda: gc.squeeze(ones(2, 3), axis=0), r"gc.squeeze: cannot squeeze axis 0 of shape \(2, 3\)"),
])
def test_other_shape_errors(call, pattern, no_kernel_runs):
    with pytest.raises(gc.ShapeError, match=pattern):
        call()


def test_bad_permutation(no_kernel_runs):
    with pytest.raises(gc.InvalidArgumentError, match=r"gc.transpose: perm \(0, 0\) is not a permutation"):
        gc.transpose(ones(2, 3), [0, 0])


def test_values_that_are_not_arrays():
    with pytest.raises(gc.InvalidArgumentError, match=r"cannot convert \[\[1, 2\], \[3\]\] to a tensor"):
        gc.constant([[1, 2], [3]])  # ragged
    with pytest.raises(TypeError, match=r"gc.constant: cannot convert .* \(of type 'object'\)"):
        gc.constant(object())


def test_every_error_is_a_gradcore_error():
    for error in (gc.InvalidArgumentError, gc.ShapeError, gc.DTypeError, gc.BackendError,
                  gc.BackendUnavailableError):
        assert issubclass(error, gc.GradcoreError)
