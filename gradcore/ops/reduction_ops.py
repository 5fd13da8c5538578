"""Reductions over axes: sum, mean, max, min, prod, logsumexp, any, all, norms, counts, variance, std, argmax."""

from gradcore.engine import dtypes
from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import record, state
from gradcore.engine.registry import RegisterGradient, no_gradient
from gradcore.engine.tensor import Tensor
from gradcore.errors import DTypeError, InvalidArgumentError
from gradcore.ops.kernels import call_kernel, run_kernel
from gradcore.ops.math_ops import (
    cast, divide, equal, exp, is_finite, multiply, not_equal, sqrt, square, subtract, where,
)
from gradcore.ops.operands import BOOL, FLOAT, NUMERIC, check_kind, normalize_axis, normalize_single_axis

#: Half-precision sums lose whole units past 256 (bfloat16) or 2048 (float16), so reductions that
#: accumulate run in float32 on every backend and round once at the end, as TensorFlow's kernels do.
_HALF = frozenset({dtypes.float16, dtypes.bfloat16})


def _reduction(op_type, kernel, kinds, api, accumulates=True, empty_fill=None):
    def op(input_tensor, axis=None, keepdims=False, name=None):
        x = to_tensor(input_tensor, op_name=api)
        check_kind(api, x, kinds)
        axes = normalize_axis(api, axis, x.ndim)
        keepdims = bool(keepdims)
        if empty_fill is not None and _reduces_nothing(x.shape, axes):
            y = _empty_extreme(api, x, axes, keepdims, empty_fill)
        elif accumulates and x._dtype in _HALF:
            y = _in_float32(api, kernel, x, axes, keepdims)
        else:
            y = run_kernel(api, x._backend, kernel, x._dtype, x._value, axes, keepdims)
        if state.recording:
            record(op_type, (x,), (y,), {"axis": axes, "keepdims": keepdims})
        return y

    op.__name__ = op.__qualname__ = api.rsplit(".", 1)[-1]
    return op


def _in_float32(api, kernel, x, axes, keepdims):
    backend = x._backend
    wide = call_kernel(api, backend, "cast", x._value, dtypes.float32)
    total = call_kernel(api, backend, kernel, wide, axes, keepdims)
    return run_kernel(api, backend, "cast", x._dtype, total, x._dtype)


def _reduces_nothing(shape, axes):
    return any(n == 0 for i, n in enumerate(shape) if axes is None or i in axes)


def _empty_extreme(api, x, axes, keepdims, which):
    """The max (min) over no elements: -inf (+inf), or the integer dtype's lowest (highest), as TensorFlow."""
    if x._dtype.is_floating:
        value = float("-inf") if which == "lowest" else float("inf")
    else:
        value = dtypes.integer_range(x._dtype)[0 if which == "lowest" else 1]
    if keepdims:
        shape = _kept_dims(x.shape, axes)
    else:
        shape = tuple(n for i, n in enumerate(x.shape) if axes is not None and i not in axes)
    backend = x._backend
    return run_kernel(api, backend, "full", x._dtype, shape, value, x._dtype, backend.device_of(x._value))


reduce_sum = _reduction("Sum", "reduce_sum", NUMERIC, "gc.reduce_sum")
reduce_mean = _reduction("Mean", "reduce_mean", FLOAT, "gc.reduce_mean")
reduce_max = _reduction("Max", "reduce_max", NUMERIC, "gc.reduce_max", accumulates=False, empty_fill="lowest")
reduce_min = _reduction("Min", "reduce_min", NUMERIC, "gc.reduce_min", accumulates=False, empty_fill="highest")
reduce_prod = _reduction("Prod", "reduce_prod", NUMERIC, "gc.reduce_prod")
reduce_logsumexp = _reduction("ReduceLogSumExp", "reduce_logsumexp", FLOAT, "gc.reduce_logsumexp")
# Over no elements: any is False, all is True (the kernels' contract, as TensorFlow).
reduce_any = _reduction("Any", "reduce_any", BOOL, "gc.reduce_any", accumulates=False)
reduce_all = _reduction("All", "reduce_all", BOOL, "gc.reduce_all", accumulates=False)
no_gradient("Any")
no_gradient("All")


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """sqrt(sum(x^2)) over the axes, as ``tf.math.reduce_euclidean_norm``; integers give the
    integer part of the norm, in their own dtype. Its gradient, x / norm, is NaN where the norm is 0,
    as in TensorFlow."""
    x = to_tensor(input_tensor, op_name="gc.math.reduce_euclidean_norm")
    check_kind("gc.math.reduce_euclidean_norm", x, NUMERIC)
    if not x._dtype.is_floating:
        return cast(reduce_euclidean_norm(cast(x, dtypes.float64), axis, keepdims), x._dtype)
    return sqrt(reduce_sum(square(x), axis, keepdims))


def count_nonzero(input, axis=None, keepdims=None, dtype=dtypes.int64, name=None):
    """How many elements are not zero (not False, for bools) over the axes, as ``tf.math.count_nonzero``."""
    x = to_tensor(input, op_name="gc.math.count_nonzero")
    dtype = dtypes.as_dtype(dtype)
    if dtype.kind not in NUMERIC:
        raise DTypeError(f"gc.math.count_nonzero: dtype must be numeric (the count's dtype), got {dtype.name}")
    nonzero = not_equal(x, False if x._dtype.kind == "bool" else 0)
    return reduce_sum(cast(nonzero, dtype), axis, bool(keepdims))


def _kept_dims(shape, axes):
    """``shape`` with every reduced axis kept as 1: the output shape of keepdims=True."""
    return tuple(1 if axes is None or i in axes else n for i, n in enumerate(shape))


def _kept_shape(op):
    """The op's output shape as if keepdims=True, so dy broadcasts back over the input."""
    return _kept_dims(op.inputs[0].shape, op.get_attr("axis"))


def _expand_back(op, t):
    """``t`` (shaped like the op's output) broadcast back to the input's shape."""
    from gradcore.ops.array_ops import broadcast_to, reshape

    return broadcast_to(reshape(t, _kept_shape(op)), op.inputs[0].shape)


def _count(op):
    shape, axes = op.inputs[0].shape, op.get_attr("axis")
    count = 1
    for i, n in enumerate(shape):
        if axes is None or i in axes:
            count *= n
    return count


@RegisterGradient("Sum")
def _sum_grad(op, dy):
    return _expand_back(op, dy)


@RegisterGradient("Mean")
def _mean_grad(op, dy):
    return divide(_expand_back(op, dy), _count(op))  # an int: an unknown size stays one (docs/function.md)


@RegisterGradient("Max")
def _max_grad(op, dy):
    return _min_or_max_grad(op, dy)


@RegisterGradient("Min")
def _min_grad(op, dy):
    return _min_or_max_grad(op, dy)


def _min_or_max_grad(op, dy):
    """The gradient is shared equally among the elements that attain the extreme."""
    x = op.inputs[0]
    selected = cast(equal(x, _expand_back(op, op.outputs[0])), x.dtype)
    count = _expand_back(op, reduce_sum(selected, op.get_attr("axis"), op.get_attr("keepdims")))
    return multiply(divide(selected, count), _expand_back(op, dy))


@RegisterGradient("Prod")
def _prod_grad(op, dy):
    """d prod / d x_i = the product of the other elements.

    As in TensorFlow, that product is the exclusive cumulative product before x_i times the
    one after it, along the reduced axes flattened into one. It has no division by x_i, so it
    is exact where x holds zeros. TF's cumprod then divides in its own gradient (wrong at
    zeros); here the cumulative products are scans of multiplies, as JAX's reduce_prod JVP is
    a tree of them, so every higher derivative is exact too, at 2 log2(n) rounds of three ops.
    """
    from gradcore.ops.array_ops import reshape, transpose

    x = op.inputs[0]
    axes = op.get_attr("axis")
    reduced = tuple(range(x.ndim)) if axes is None else axes
    perm = tuple(i for i in range(x.ndim) if i not in reduced) + reduced
    moved = transpose(x, perm)
    rows = reshape(moved, moved.shape[:x.ndim - len(reduced)] + (_count(op),))
    others = multiply(_exclusive_cumprod(rows, reverse=False), _exclusive_cumprod(rows, reverse=True))
    grad = transpose(reshape(others, moved.shape), [perm.index(i) for i in range(x.ndim)])
    return multiply(grad, _expand_back(op, dy))


def _exclusive_cumprod(x, reverse):
    """The product of the elements before each one along the last axis (after it, if ``reverse``).

    A Hillis-Steele scan: each round multiplies by a copy shifted twice as far as the last.
    """
    n = x.shape[-1]
    if n == 0:  # nothing to multiply, and no room to shift
        return x
    y = _shifted(x, 1, reverse)
    step = 1
    while step < n:
        y = multiply(y, _shifted(y, step, reverse))
        step *= 2
    return y


def _shifted(x, k, reverse):
    """``x`` moved ``k`` places along its last axis, toward the end (the start if ``reverse``); ones fill in."""
    from gradcore.ops.array_ops import pad

    unpadded = [[0, 0]] * (x.ndim - 1)
    if reverse:
        return pad(x[..., k:], unpadded + [[0, k]], constant_values=1)
    return pad(x[..., :x.shape[-1] - k], unpadded + [[k, 0]], constant_values=1)


@RegisterGradient("ReduceLogSumExp")
def _logsumexp_grad(op, dy):
    """d logsumexp(x) = softmax(x), computed shifted by the max, as a stable softmax.

    ``exp(x - logsumexp(x))`` would be exact in exact arithmetic, but at x = 1e7 in float32 the
    rounded logsumexp is off by a whole unit and the gradient by a factor of e. The shift is a
    constant (softmax does not depend on it), so the rule stays exact to every order.
    """
    x, axes = op.inputs[0], op.get_attr("axis")
    unwatched = Tensor(x._value, x._dtype, x._backend)  # no tape knows it: the shift records nothing
    peak = reduce_max(unwatched, axes, keepdims=True)
    peak = where(is_finite(peak), peak, 0.0)
    e = exp(subtract(x, peak))
    return multiply(divide(e, reduce_sum(e, axes, keepdims=True)), _expand_back(op, dy))


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Mean squared deviation from the mean (population variance, as ``tf.math.reduce_variance``)."""
    x = to_tensor(input_tensor, op_name="gc.math.reduce_variance")
    check_kind("gc.math.reduce_variance", x, FLOAT)
    if x._dtype in _HALF:  # the deviations too are taken in float32 (see _HALF)
        return cast(reduce_variance(cast(x, dtypes.float32), axis, keepdims), x._dtype)
    centered = subtract(x, reduce_mean(x, axis, keepdims=True))
    return reduce_mean(square(centered), axis, keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Square root of ``reduce_variance``."""
    x = to_tensor(input_tensor, op_name="gc.math.reduce_std")
    if x._dtype in _HALF:
        return cast(reduce_std(cast(x, dtypes.float32), axis, keepdims), x._dtype)
    return sqrt(reduce_variance(x, axis, keepdims))


def _arg_reduction(op_type, kernel, api):
    def op(input, axis=None, output_type=dtypes.int64, name=None):
        x = to_tensor(input, op_name=api)
        check_kind(api, x, NUMERIC)
        axis = normalize_single_axis(api, 0 if axis is None else axis, x.ndim)
        output_type = dtypes.as_dtype(output_type)
        if x.shape[axis] == 0:
            raise InvalidArgumentError(f"{api}: reduction axis {axis} is empty in shape {x.shape}; there is no index")
        backend = x._backend
        y = run_kernel(api, backend, kernel, dtypes.int64, x._value, axis)
        if output_type is not dtypes.int64:
            y = run_kernel(api, backend, "cast", output_type, y._value, output_type)
        if state.recording:
            record(op_type, (x,), (y,), {"axis": axis})
        return y

    op.__name__ = op.__qualname__ = api.rsplit(".", 1)[-1]
    return op


argmax = _arg_reduction("ArgMax", "argmax", "gc.argmax")
argmin = _arg_reduction("ArgMin", "argmin", "gc.argmin")
no_gradient("ArgMax")
no_gradient("ArgMin")
