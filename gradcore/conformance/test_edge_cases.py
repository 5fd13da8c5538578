"""Edge cases where the backends disagree with each other, and gradcore follows TensorFlow on all of them.

Half-precision and integer reductions, allocations too large to make, numerically
stable logsumexp gradients, integer division and powers, out-of-range constants,
empty reductions, optimizer input checks and layer naming across threads. Every
expected error is one of gradcore's classes (never a backend's), and its message
names the op or API that raised it.
"""

import sys
import threading

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

HALF = [gc.bfloat16, gc.float16]
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def on_host(dtype, array):
    """``array`` rounded to ``dtype`` and read back as float64: the inputs a reference must use."""
    return gc.constant(array, dtype=dtype).numpy().astype(np.float64)


def raises(error, call):
    """The exception ``call`` raises, checked to be ``error`` (a gradcore class)."""
    with pytest.raises(error) as info:
        call()
    return info.value


# ---- 2. half-precision reductions accumulate in float32; integer sums wrap -------------------------

@pytest.mark.parametrize("dtype", HALF, ids=str)
@pytest.mark.parametrize("n", [1000, 4096])
def test_half_precision_sum_of_ones_counts_past_the_dtypes_spacing(dtype, n):
    """TF sums float16/bfloat16 in a float32 accumulator and rounds once: n ones sum to n, where a
    bfloat16 accumulator would stop at 256 and a float16 one at 2048 (x + 1 rounds back to x)."""
    total = gc.reduce_sum(gc.ones([n], dtype=dtype))
    assert total.dtype == dtype
    assert float(total.numpy().astype(np.float64)) == n


def _reduce_variance(x, axis):
    return gc.math.reduce_variance(x, axis=axis)


def _reduce_std(x, axis):
    return gc.math.reduce_std(x, axis=axis)


def _logsumexp_reference(x, axis):
    top = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(x - top), axis=axis))


# (op, float64 reference, input sampler): the inputs keep every result well inside the dtype's range.
HALF_REDUCTIONS = {
    "reduce_sum": (gc.reduce_sum, np.sum, lambda rng, shape: rng.uniform(0.5, 1.5, shape)),
    "reduce_mean": (gc.reduce_mean, np.mean, lambda rng, shape: rng.uniform(0.5, 1.5, shape)),
    # mean 4, variance ~1: E[x^2] - E[x]^2 in half precision would cancel to noise
    "reduce_variance": (_reduce_variance, np.var, lambda rng, shape: rng.normal(4.0, 1.0, shape)),
    "reduce_std": (_reduce_std, np.std, lambda rng, shape: rng.normal(4.0, 1.0, shape)),
    "reduce_logsumexp": (gc.reduce_logsumexp, _logsumexp_reference, lambda rng, shape: rng.normal(0.0, 1.0, shape)),
    # factors near 1, so the product of N stays within e^+-4 while a half-precision running
    # product drifts by ~sqrt(N) roundings
    "reduce_prod": (gc.reduce_prod, np.prod, lambda rng, shape: rng.uniform(0.98, 1.02, shape)),
}


# 8192 elements: a bfloat16 accumulator fails by ~1000 already, but float16's rounding errors
# cancel to ~0.2% there, inside its tolerance; past 4096 float16's spacing is 4, so adding
# values below 2 leaves a float16 accumulator where it is.
N = 8192


@pytest.mark.parametrize("dtype", HALF, ids=str)
@pytest.mark.parametrize("name", list(HALF_REDUCTIONS))
@pytest.mark.parametrize("shape, axis", [((N,), None), ((3, N), 1)], ids=["all", "axis1"])
def test_half_precision_reductions_match_a_float64_reference(name, dtype, shape, axis):
    """TF computes float16/bfloat16 reductions (sum, mean, variance, std, logsumexp, prod) with a
    float32 accumulator and returns the input dtype: the result is the exact reduction of the
    rounded inputs, rounded once."""
    op, reference, sample = HALF_REDUCTIONS[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    x = gc.constant(sample(rng, shape), dtype=dtype)
    result = op(x, axis=axis)
    assert result.dtype == dtype
    expected = reference(x.numpy().astype(np.float64), axis=axis)  # the rounded inputs, exactly
    assert_allclose(result, expected, dtype=dtype, err_msg=f"gc.{name} in {dtype.name}")


def test_float16_mean_of_more_ones_than_float16_can_count_is_one():
    """TF's float16 reduce_mean sums in float32 and divides before rounding: the mean of 70,000
    ones is 1.0, not inf / inf = NaN (70,000 is past float16's largest finite value, 65504)."""
    mean = gc.reduce_mean(gc.ones([70_000], dtype=gc.float16))
    assert mean.dtype == gc.float16
    assert float(mean.numpy()) == 1.0


def test_float16_sum_that_overflows_the_dtype_is_inf():
    """TF's float16 reduce_sum of 70,000 ones accumulates 70,000 in float32, then the result
    overflows float16 and is inf."""
    total = gc.reduce_sum(gc.ones([70_000], dtype=gc.float16))
    assert total.dtype == gc.float16
    assert float(total.numpy()) == np.inf


@pytest.mark.parametrize("dtype, values, expected", [
    (gc.int8, [100, 100], -56),
    (gc.uint8, [200, 100], 44),
    (gc.int16, [30_000, 30_000], -5_536),
    (gc.int32, [INT32_MAX, 1], INT32_MIN),
], ids=["int8", "uint8", "int16", "int32"])
def test_integer_sum_keeps_its_dtype_and_wraps(dtype, values, expected):
    """TF's reduce_sum of an integer tensor returns the same dtype, wrapping around on overflow
    (NumPy and torch would widen int8 to int64; TF does not)."""
    total = gc.reduce_sum(gc.constant(values, dtype=dtype))
    assert total.dtype == dtype
    assert int(total.numpy()) == expected


@pytest.mark.parametrize("dtype", [gc.int8, gc.uint8, gc.int16, gc.int32], ids=str)
@pytest.mark.parametrize("axis, keepdims", [((0, 2), True), ((0, 2), False), ((-1,), True), (1, False)])
def test_integer_sum_over_axes_keeps_its_dtype_and_wraps(dtype, axis, keepdims):
    """TF's reduce_sum over a tuple of axes, with or without keepdims, stays in the input's integer
    dtype and wraps modulo 2^bits, as a same-dtype NumPy sum does."""
    numpy_dtype = np.dtype(dtype.name)
    near_top = np.iinfo(numpy_dtype).max - 3
    values = np.full((3, 4, 5), near_top, numpy_dtype)
    total = gc.reduce_sum(gc.constant(values, dtype=dtype), axis=axis, keepdims=keepdims)
    assert total.dtype == dtype
    expected = np.sum(values, axis=axis, keepdims=keepdims, dtype=numpy_dtype)
    assert total.shape == expected.shape
    np.testing.assert_array_equal(total.numpy(), expected)


# ---- 3. allocations too large to make ------------------------------------------------------------

HUGE = [2**31, 2**31]
TOO_LARGE = [
    ("gc.zeros", lambda: gc.zeros(HUGE), "2147483648"),
    ("gc.ones", lambda: gc.ones(HUGE), "2147483648"),
    ("gc.fill", lambda: gc.fill(HUGE, 1.0), "2147483648"),
    ("gc.random.normal", lambda: gc.random.normal(HUGE), "2147483648"),
    ("gc.zeros", lambda: gc.zeros([10**12]), "1000000000000"),
]


@pytest.mark.parametrize("api, call, size", TOO_LARGE, ids=["zeros", "ones", "fill", "normal", "zeros_1e12"])
def test_an_allocation_too_large_raises_resource_exhausted(api, call, size):
    """TF raises ResourceExhaustedError ("OOM when allocating tensor with shape[...] and type float")
    when it cannot allocate a tensor, instead of aborting the process; gradcore raises its own
    ResourceExhaustedError, also a MemoryError, naming the op, the shape and the dtype."""
    error = raises(gc.errors.ResourceExhaustedError, call)
    assert gc.ResourceExhaustedError is gc.errors.ResourceExhaustedError
    assert isinstance(error, MemoryError) and isinstance(error, gc.GradcoreError)
    message = str(error)
    assert api in message and size in message and "float32" in message, message


# ---- 4. logsumexp gradients are stable -------------------------------------------------------------

def logsumexp_gradient(values, dtype, axis=None, keepdims=False, weights=None):
    x = gc.constant(values, dtype=dtype)
    with gc.GradientTape() as tape:
        tape.watch(x)
        y = gc.reduce_logsumexp(x, axis=axis, keepdims=keepdims)
        if weights is not None:
            y = y * gc.constant(weights, dtype=dtype)
        loss = gc.reduce_sum(y)
    return tape.gradient(loss, x)


@pytest.mark.parametrize("dtype, big", [(gc.float32, 1e7), (gc.float64, 1e15)], ids=str)
def test_logsumexp_gradient_at_huge_equal_values_is_uniform(dtype, big):
    """TF's logsumexp gradient is softmax(x) computed after subtracting the max, so at [1e7, 1e7]
    (float32) or [1e15, 1e15] (float64) it is [0.5, 0.5], not exp(x - lse) evaluated with a
    rounded lse or a NaN from exp overflow."""
    gradient = logsumexp_gradient([big, big], dtype)
    assert gradient.dtype == dtype
    assert_allclose(gradient, [0.5, 0.5], dtype=dtype)


def stable_softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


@pytest.mark.parametrize("dtype, big, axis, keepdims", [
    (gc.float32, 1e7, 1, True), (gc.float32, 1e7, 0, False), (gc.float64, 1e15, -1, False),
], ids=["float32-axis1-keepdims", "float32-axis0", "float64-axis-1"])
def test_logsumexp_gradient_with_axis_at_huge_values_is_a_stable_softmax(dtype, big, axis, keepdims):
    """TF's logsumexp over an axis (with or without keepdims) has gradient dy * softmax(x) along that
    axis; at values near +-1e7 (float32) / 1e15 (float64) it equals a softmax computed stably in
    float64 NumPy from the same inputs."""
    offsets = np.array([[0.0, 1.0, 2.0], [-4.0, 0.0, 4.0]])
    x = on_host(dtype, np.array([[big], [-big]]) + offsets)
    weights_shape = np.sum(x, axis=axis, keepdims=keepdims).shape
    weights = np.random.default_rng(4).uniform(0.5, 2.0, weights_shape)
    gradient = logsumexp_gradient(x, dtype, axis=axis, keepdims=keepdims, weights=weights)
    upstream = weights if keepdims else np.expand_dims(weights, axis)
    assert_allclose(gradient, upstream * stable_softmax(x, axis), dtype=dtype)


@pytest.mark.parametrize("dtype", [gc.float32, gc.float64], ids=str)
def test_logsumexp_gradient_with_minus_inf_entries(dtype):
    """TF's logsumexp gradient gives weight 0 to -inf entries: at [-inf, 0] it is [0, 1], no NaN."""
    gradient = logsumexp_gradient([-np.inf, 0.0], dtype)
    np.testing.assert_array_equal(gradient.numpy(), [0.0, 1.0])


def test_logsumexp_second_derivative_is_the_softmax_jacobian():
    """Nested TF tapes differentiate the logsumexp gradient again: the Hessian of logsumexp is
    diag(s) - s s^T with s = softmax(x)."""
    values = np.random.default_rng(7).normal(size=3)
    x = gc.constant(values, dtype=gc.float64)
    with gc.GradientTape(persistent=True) as outer:
        outer.watch(x)
        with gc.GradientTape() as inner:
            inner.watch(x)
            y = gc.reduce_logsumexp(x)
        gradient = inner.gradient(y, x)
        rows = [gradient[i] for i in range(3)]
    hessian = np.stack([outer.gradient(row, x).numpy() for row in rows])
    s = stable_softmax(values, 0)
    assert_allclose(gradient, s, dtype=gc.float64)
    assert_allclose(hessian, np.diag(s) - np.outer(s, s), dtype=gc.float64)


# ---- 5. integer edge cases, decided by the core ------------------------------------------------------

INT_DTYPES = [gc.int32, gc.int64]


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=str)
@pytest.mark.parametrize("api, call", [
    ("gc.math.floordiv", lambda x, y: gc.math.floordiv(x, y)),
    ("//", lambda x, y: x // y),
    ("gc.math.floormod", lambda x, y: gc.math.floormod(x, y)),
    ("%", lambda x, y: x % y),
], ids=["floordiv", "floordiv_operator", "floormod", "floormod_operator"])
def test_integer_division_by_zero_is_an_error(api, call, dtype):
    """TF raises InvalidArgumentError "Integer division by zero" for an integer floordiv or floormod
    by 0 (NumPy returns 0 with a warning, torch raises its own error, JAX returns garbage)."""
    x, y = gc.constant([5, 7], dtype=dtype), gc.constant([0, 2], dtype=dtype)
    error = raises(gc.InvalidArgumentError, lambda: call(x, y))
    assert "division by zero" in str(error).lower(), str(error)


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=str)
def test_integer_to_a_negative_integer_power_is_an_error(dtype):
    """TF raises InvalidArgumentError "Integers to negative integer powers are not allowed"."""
    error = raises(gc.InvalidArgumentError, lambda: gc.pow(gc.constant([2], dtype=dtype), gc.constant([-1], dtype=dtype)))
    message = str(error)
    assert "gc.pow" in message and "negative" in message.lower(), message


@pytest.mark.parametrize("dtype", INT_DTYPES, ids=str)
def test_integer_to_non_negative_integer_powers(dtype):
    """TF's integer pow is exact for non-negative exponents and keeps the dtype: [2, 3] ** [3, 0] = [8, 1]."""
    x, y = gc.constant([2, 3], dtype=dtype), gc.constant([3, 0], dtype=dtype)
    for result in (gc.pow(x, y), x ** y):
        assert result.dtype == dtype
        np.testing.assert_array_equal(result.numpy(), [8, 1])


@pytest.mark.parametrize("value, dtype", [
    (-1, gc.uint8), (256, gc.uint8), (128, gc.int8), (-129, gc.int8), (2**31, gc.int32), ([1, 2**31], gc.int32),
], ids=["uint8_-1", "uint8_256", "int8_128", "int8_-129", "int32_2^31", "int32_list"])
def test_constant_out_of_the_dtypes_range_is_an_error(value, dtype):
    """TF refuses a Python int that the requested integer dtype cannot hold
    (tf.constant(256, tf.uint8): "Can't convert Python int to uint8") instead of wrapping it."""
    error = raises(gc.DTypeError, lambda: gc.constant(value, dtype=dtype))
    assert isinstance(error, TypeError)
    assert "gc.constant" in str(error), str(error)


def test_python_int_out_of_range_in_an_operator_is_an_error():
    """TF converts the Python operand of `int8_tensor + 300` to int8 and fails: 300 does not fit."""
    error = raises(gc.DTypeError, lambda: gc.constant([1], dtype=gc.int8) + 300)
    assert isinstance(error, TypeError)
    assert "300" in str(error) and "int8" in str(error), str(error)


@pytest.mark.parametrize("value", [2**40, [1, 2**40], -(2**40)], ids=["scalar", "list", "negative"])
def test_python_int_too_large_for_int32_is_inferred_int64(value):
    """TF infers int64 for a Python int that does not fit int32 (and for a list holding one),
    keeping the value exact."""
    tensor = gc.constant(value)
    assert tensor.dtype == gc.int64
    np.testing.assert_array_equal(tensor.numpy(), np.array(value, np.int64))


@pytest.mark.parametrize("value", [2**64, [1, 2**64], -(2**63) - 1], ids=["2^64", "list", "below_int64"])
def test_python_int_too_large_for_int64_is_an_error(value):
    """TF cannot convert a Python int outside int64 and raises an error (it never wraps or goes to float)."""
    error = raises(gc.InvalidArgumentError, lambda: gc.constant(value))
    assert "gc.constant" in str(error), str(error)


@pytest.mark.parametrize("axis", [0, -1, [0], 1])
def test_reducing_a_scalar_along_an_axis_is_an_error(axis):
    """TF raises InvalidArgumentError "Invalid reduction dimension 0 for input with 0 dimensions"."""
    error = raises(gc.InvalidArgumentError, lambda: gc.reduce_sum(gc.constant(3.0), axis=axis))
    assert "gc.reduce_sum" in str(error), str(error)


def test_reducing_a_scalar_over_all_axes():
    """TF's reduce_sum of a 0-d tensor with axis=None (or an empty axis list) is the tensor itself."""
    assert float(gc.reduce_sum(gc.constant(3.0), axis=None).numpy()) == 3.0
    assert float(gc.reduce_sum(gc.constant(3.0), axis=[]).numpy()) == 3.0


@pytest.mark.parametrize("perm", [[2, 1], [0, 0], [0], [0, 1, 2], [-3, 0]])
def test_transpose_with_an_invalid_permutation_is_an_error(perm):
    """TF raises InvalidArgumentError when perm is not a permutation of the input's axes
    ("transpose expects a vector of size 2", "2 is out of range [0 .. 2)", "0 is missing from 'perm'")."""
    error = raises(gc.InvalidArgumentError, lambda: gc.transpose(gc.ones([2, 3]), perm))
    assert "gc.transpose" in str(error), str(error)


# ---- 6. empty reductions, and errors that are always gradcore's --------------------------------------

@pytest.mark.parametrize("dtype", [gc.float32, gc.float64], ids=str)
@pytest.mark.parametrize("op, expected", [
    (gc.reduce_max, -np.inf), (gc.reduce_min, np.inf), (gc.reduce_sum, 0.0), (gc.reduce_prod, 1.0),
], ids=["max", "min", "sum", "prod"])
def test_empty_float_reductions_return_the_identity(op, expected, dtype):
    """TF reduces an empty tensor to the reduction's identity: max -inf, min +inf, sum 0, prod 1
    (NumPy raises "zero-size array to reduction operation maximum which has no identity")."""
    result = op(gc.zeros([0], dtype=dtype))
    assert result.dtype == dtype and result.shape == ()
    assert float(result.numpy()) == expected


@pytest.mark.parametrize("dtype", [gc.float32, gc.float64], ids=str)
def test_empty_mean_is_nan(dtype):
    """TF's reduce_mean of an empty float tensor is 0 / 0 = NaN."""
    result = gc.reduce_mean(gc.zeros([0], dtype=dtype))
    assert result.dtype == dtype and np.isnan(float(result.numpy()))


@pytest.mark.parametrize("op, expected", [
    (gc.reduce_max, INT32_MIN), (gc.reduce_min, INT32_MAX), (gc.reduce_sum, 0), (gc.reduce_prod, 1),
], ids=["max", "min", "sum", "prod"])
def test_empty_int32_reductions_return_the_identity(op, expected):
    """TF's reduce_max of an empty int32 tensor is the int32 minimum and reduce_min the maximum."""
    result = op(gc.zeros([0], dtype=gc.int32))
    assert result.dtype == gc.int32
    assert int(result.numpy()) == expected


@pytest.mark.parametrize("op, expected", [(gc.reduce_max, -np.inf), (gc.reduce_min, np.inf)], ids=["max", "min"])
def test_empty_axis_reduction_gives_the_identity_per_row(op, expected):
    """TF's reduce_max over an empty axis of a [2, 0] tensor is [-inf, -inf] (reduce_min [inf, inf])."""
    result = op(gc.zeros([2, 0]), axis=1)
    assert result.dtype == gc.float32
    np.testing.assert_array_equal(result.numpy(), [expected, expected])


@pytest.mark.parametrize("op, api", [(gc.argmax, "gc.argmax"), (gc.argmin, "gc.argmin")], ids=["argmax", "argmin"])
def test_argmax_of_an_empty_axis_is_an_error(op, api):
    """TF raises InvalidArgumentError "Reduction axis 0 is empty in shape [0]" for argmax/argmin."""
    error = raises(gc.InvalidArgumentError, lambda: op(gc.zeros([0])))
    assert api in str(error), str(error)


@pytest.mark.parametrize("value", ["a", None, object()], ids=["str", "None", "object"])
def test_constant_of_a_non_numeric_value_is_a_dtype_error(value):
    """TF refuses None and arbitrary objects ("Attempt to convert a value (None) with an unsupported
    type"); it makes a tf.string tensor from "a", a dtype gradcore does not have, so there too
    gradcore refuses. The error is a DTypeError, both a TypeError and a ValueError, naming gc.constant."""
    error = raises(gc.DTypeError, lambda: gc.constant(value))
    assert isinstance(error, TypeError) and isinstance(error, ValueError)
    assert "gc.constant" in str(error), str(error)


# ---- 7. optimizers check their inputs before any state moves ------------------------------------------

OPTIMIZERS = {
    "SGD": lambda: gc.optimizers.SGD(0.1),
    "SGD_momentum": lambda: gc.optimizers.SGD(0.1, momentum=0.9),
    "SGD_nesterov": lambda: gc.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    "Adam": lambda: gc.optimizers.Adam(0.1),
    "Adam_amsgrad": lambda: gc.optimizers.Adam(0.1, amsgrad=True),
    "AdamW": lambda: gc.optimizers.AdamW(0.1),
    "RMSprop": lambda: gc.optimizers.RMSprop(0.1),
    "RMSprop_centered_momentum": lambda: gc.optimizers.RMSprop(0.1, momentum=0.9, centered=True),
    "Adagrad": lambda: gc.optimizers.Adagrad(0.1),
}


def snapshot(optimizer, variables):
    return [v.numpy() for v in variables] + [v.numpy() for v in optimizer.variables]


def assert_unchanged(before, optimizer, variables):
    after = snapshot(optimizer, variables)
    assert len(after) == len(before)
    for old, new in zip(before, after):
        np.testing.assert_array_equal(new, old)


def other_backend():
    """A backend other than the one under test, or a skip when none is installed."""
    current = gc.get_backend().name
    for name in ("numpy", "torch", "jax"):
        if name != current:
            try:
                with gc.backend_scope(name):
                    return name
            except gc.BackendUnavailableError:
                continue
    pytest.skip("needs a second backend")


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("gradient_shape", [(3,), (2, 2, 3), ()], ids=["broadcastable", "larger", "scalar"])
def test_optimizer_refuses_a_gradient_of_another_shape(name, gradient_shape):
    """Keras' optimizers assign the update into a variable of fixed shape and fail on a gradient
    that does not match it; gradcore checks before the step, naming the optimizer, the variable and
    both shapes, and leaves every variable, slot and iterations as they were."""
    optimizer = OPTIMIZERS[name]()
    good = gc.Variable(gc.ones([2, 3]), name="good")
    weight = gc.Variable(gc.ones([2, 3]), name="weight")
    optimizer.apply_gradients([(gc.fill([2, 3], 0.5), good), (gc.fill([2, 3], 0.5), weight)])
    before = snapshot(optimizer, [good, weight])
    wrong = [(gc.fill([2, 3], 0.5), good), (gc.fill(gradient_shape, 0.5), weight)]
    error = raises(gc.ShapeError, lambda: optimizer.apply_gradients(wrong))
    message = str(error)
    assert f"{type(optimizer).__name__}.apply_gradients" in message and "weight" in message, message
    assert str(gradient_shape) in message and "(2, 3)" in message, message
    assert_unchanged(before, optimizer, [good, weight])
    assert int(optimizer.iterations.numpy()) == 1


def test_optimizer_refuses_a_wrong_shape_on_its_first_step():
    """An optimizer whose first step fails the shape check has moved nothing: the variable and
    iterations are as they were, and a correct step afterwards works."""
    optimizer = gc.optimizers.Adam(0.1)
    weight = gc.Variable(gc.ones([2, 3]), name="weight")
    raises(gc.ShapeError, lambda: optimizer.apply_gradients([(gc.ones([3]), weight)]))
    np.testing.assert_array_equal(weight.numpy(), np.ones((2, 3)))
    assert int(optimizer.iterations.numpy()) == 0
    optimizer.apply_gradients([(gc.ones([2, 3]), weight)])
    assert int(optimizer.iterations.numpy()) == 1 and np.all(weight.numpy() < 1.0)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_refuses_a_gradient_from_another_backend(name):
    """A gradient from another backend cannot update a variable (TF has one runtime; gradcore names
    the optimizer's step, not an op deep inside it, and moves nothing)."""
    other = other_backend()
    optimizer = OPTIMIZERS[name]()
    weight = gc.Variable(gc.ones([3]), name="weight")
    optimizer.apply_gradients([(gc.fill([3], 0.5), weight)])
    before = snapshot(optimizer, [weight])
    with gc.backend_scope(other):
        foreign = gc.fill([3], 0.5)
    error = raises(gc.BackendError, lambda: optimizer.apply_gradients([(foreign, weight)]))
    message = str(error)
    assert f"{type(optimizer).__name__}.apply_gradients" in message and "weight" in message, message
    assert other in message and "gc.multiply" not in message, message
    assert_unchanged(before, optimizer, [weight])


@pytest.mark.parametrize("name", ["SGD_momentum", "Adam"])
def test_optimizer_refuses_a_variable_from_another_backend(name):
    """An optimizer's learning rate and step count live on the backend it was made on; a variable
    (and its gradient) from another backend is refused before any slot is made or moved."""
    other = other_backend()
    optimizer = OPTIMIZERS[name]()
    with gc.backend_scope(other):
        weight = gc.Variable(gc.ones([3]), name="weight")
        gradient = gc.fill([3], 0.5)
    error = raises(gc.BackendError, lambda: optimizer.apply_gradients([(gradient, weight)]))
    assert f"{type(optimizer).__name__}.apply_gradients" in str(error) and other in str(error), str(error)
    np.testing.assert_array_equal(weight.numpy(), np.ones(3))
    assert int(optimizer.iterations.numpy()) == 0


def test_optimizer_casts_a_gradient_of_another_float_dtype_to_the_variables():
    """Keras' update_step casts the gradient to the variable's dtype (ops.cast(gradient, variable.dtype)):
    a float64 gradient moves a float32 variable, which stays float32."""
    weight = gc.Variable(gc.ones([3]), name="weight")
    gc.optimizers.SGD(1.0).apply_gradients([(gc.constant([0.5, 0.25, 0.125], dtype=gc.float64), weight)])
    assert weight.dtype == gc.float32
    np.testing.assert_array_equal(weight.numpy(), [0.5, 0.75, 0.875])


def test_optimizer_takes_a_numpy_gradient():
    """Keras converts a NumPy gradient like any tensor: it is checked and applied as one."""
    weight = gc.Variable(gc.ones([2]), name="weight")
    optimizer = gc.optimizers.SGD(1.0)
    optimizer.apply_gradients([(np.array([0.5, 0.25], np.float32), weight)])
    np.testing.assert_array_equal(weight.numpy(), [0.5, 0.75])
    raises(gc.ShapeError, lambda: optimizer.apply_gradients([(np.ones(3, np.float32), weight)]))


# ---- 9. layer names are unique across threads ---------------------------------------------------------

def test_unnamed_layers_made_in_many_threads_get_distinct_names():
    """Keras uniquifies default layer names ("dense", "dense_1", ...) under a lock, so layers made at
    once in several threads never share a name, and neither do their weights once built."""
    threads_count, per_thread = 8, 50
    barrier = threading.Barrier(threads_count)
    made = [[] for _ in range(threads_count)]

    def make(slot):
        barrier.wait()
        made[slot].extend(gc.layers.Dense(2) for _ in range(per_thread))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, so an unlocked counter races
    try:
        threads = [threading.Thread(target=make, args=(i,)) for i in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    layers = [layer for group in made for layer in group]
    assert len(layers) == threads_count * per_thread
    names = [layer.name for layer in layers]
    assert len(set(names)) == len(names), sorted(n for n in set(names) if names.count(n) > 1)[:10]
    x = gc.ones([1, 3])
    for layer in layers:
        layer(x)
    weight_names = [w.name for layer in layers for w in layer.weights]
    assert len(weight_names) == 2 * len(layers)
    assert len(set(weight_names)) == len(weight_names)


def test_layer_names_stay_distinct_when_threads_switch_inside_the_name_counter(monkeypatch):
    """The race above is rare on CPython (the counter's read and write are a few bytecodes apart), so
    here every read of the counts hands the GIL to another thread: an unlocked read-then-write gives
    duplicates every time, a locked one never does (Keras' uniquified names stay unique)."""
    import gradcore.layers.base as layer_base

    class YieldingDict(dict):
        def get(self, *args):
            value = super().get(*args)
            threading.Event().wait(0.0001)  # another thread runs between the read and the write
            return value

    monkeypatch.setattr(layer_base, "_name_counts", YieldingDict(layer_base._name_counts))
    barrier = threading.Barrier(8)
    names = []

    def make():
        barrier.wait()
        names.extend(gc.layers.Dense(2).name for _ in range(10))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(names) == 80 and len(set(names)) == 80, sorted(names)
