"""Scans along one axis (cumsum, cumprod) and counting (bincount)."""

import functools
import operator

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import record, state
from gradcore.engine.registry import RegisterGradient
from gradcore.errors import InvalidArgumentError
from gradcore.ops.kernels import check_on_host, run_kernel
from gradcore.ops.math_ops import add, less, minimum, multiply, where
from gradcore.ops.operands import NUMERIC, check_kind, normalize_single_axis


def _scan(op_type, kernel, api):
    def op(x, axis=0, exclusive=False, reverse=False, name=None):
        x = to_tensor(x, op_name=api)
        check_kind(api, x, NUMERIC)
        axis = normalize_single_axis(api, axis, x.ndim)
        exclusive, reverse = bool(exclusive), bool(reverse)
        y = run_kernel(api, x._backend, kernel, x._dtype, x._value, axis, exclusive, reverse)
        if state.recording:
            record(op_type, (x,), (y,), {"axis": axis, "exclusive": exclusive, "reverse": reverse})
        return y

    op.__name__ = op.__qualname__ = api.rsplit(".", 1)[-1]
    op.__doc__ = (f"Running {kernel[3:]}s of x along ``axis``, as ``tf.math.{kernel}``: ``exclusive`` leaves "
                  "each element out of its own, ``reverse`` runs from the end.")
    return op


cumsum = _scan("Cumsum", "cumsum", "gc.math.cumsum")
cumprod = _scan("Cumprod", "cumprod", "gc.math.cumprod")


def _attrs(op):
    return op.get_attr("axis"), op.get_attr("exclusive"), op.get_attr("reverse")


@RegisterGradient("Cumsum")
def _cumsum_grad(op, dy):
    """Each x_k is in the sums after it (before it, reversed): the same scan run the other way."""
    axis, exclusive, reverse = _attrs(op)
    return cumsum(dy, axis, exclusive, not reverse)


@RegisterGradient("Cumprod")
def _cumprod_grad(op, dy):
    """d/dx_k of sum_i dy_i prod_{j<=i} x_j = prod_{j<k} x_j * sum_{i>=k} dy_i prod_{k<j<=i} x_j (reversed: mirrored).

    Both factors leave x_k out instead of dividing it away, so zeros in x are exact (TensorFlow
    divides by x and is wrong there). The first is an exclusive cumprod; the second the linear
    recurrence g_k = dy_k + x_(k+1) g_(k+1), solved by a scan of gradcore ops: every order of
    derivative is exact too.
    """
    x = op.inputs[0]
    axis, exclusive, reverse = _attrs(op)
    if exclusive:  # y_i is the inclusive product one place back, so its dy moves one place forward
        dy = _moved(dy, axis, 1, not reverse, 0)
    before = cumprod(x, axis, exclusive=True, reverse=reverse)
    return multiply(before, _affine_scan(_moved(x, axis, 1, not reverse, 0), dy, axis, not reverse))


def _affine_scan(a, b, axis, toward_start):
    """g with g_k = b_k + a_k g_(k+1) (g_(k-1) if not ``toward_start``), 0 past the end.

    Hillis-Steele on the affine maps g -> B + A g: each round composes every map with the one
    ``step`` places further, whose (A, B) is (1, 0) past the end.
    """
    n = a.shape[axis]
    step = 1
    while step < n:
        b = add(b, multiply(a, _moved(b, axis, step, toward_start, 0)))
        a = multiply(a, _moved(a, axis, step, toward_start, 1))
        step *= 2
    return b


def _moved(t, axis, k, toward_start, fill):
    """t_(i+k) at i (toward_start) or t_(i-k), ``fill`` where that is past an end."""
    from gradcore.ops.array_ops import pad

    n = t.shape[axis]
    if n == 0:
        return t
    k = min(k, n)
    key = (slice(None),) * axis + (slice(k, n) if toward_start else slice(0, n - k),)
    paddings = [[0, 0]] * t.ndim
    paddings[axis] = [0, k] if toward_start else [k, 0]
    return pad(t[key], paddings, constant_values=fill)


# ---- bincount -------------------------------------------------------------------------------


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=dtypes.int32, name=None, axis=None,
             binary_output=False):
    """How often each value 0, 1, ... occurs in the int ``arr``, as ``tf.math.bincount``.

    The output has max(arr) + 1 bins, at least ``minlength`` and at most ``maxlength`` (values past
    it are dropped). With ``weights`` (shaped like arr) each occurrence adds its weight and the
    output has the weights' dtype, else ``dtype``; ``binary_output`` gives 1 for any occurrence.
    ``axis=-1`` counts each row of a 2-D arr separately. Not differentiable, as TensorFlow. The
    number of bins is read on the host unless minlength == maxlength fixes it.
    """
    api = "gc.math.bincount"
    arr = to_tensor(arr, op_name=api)
    if arr._dtype.kind not in ("int", "uint"):
        raise InvalidArgumentError(f"{api}: arr must hold integers, got dtype {arr.dtype.name}")
    if axis not in (None, 0, -1):
        raise InvalidArgumentError(f"{api}: axis must be None, 0 or -1, got {axis!r}")
    if axis == -1 and arr.ndim != 2:
        raise InvalidArgumentError(f"{api}: axis=-1 counts the rows of a 2-D arr, got shape {arr.shape}")
    if binary_output and weights is not None:
        raise InvalidArgumentError(f"{api}: binary_output and weights are mutually exclusive")
    check_on_host(functools.partial(_refuse_negative, api), arr)
    size = _bin_count(arr, minlength, maxlength)
    if weights is None:
        values = _ones_like(arr, dtypes.as_dtype(dtype))
    else:
        from gradcore.ops.array_ops import stop_gradient

        values = stop_gradient(to_tensor(weights, op_name=api))
        if tuple(values.shape) != tuple(arr.shape):
            raise InvalidArgumentError(f"{api}: weights of shape {values.shape} must have arr's shape {arr.shape}")
    return _count(arr, values, size, axis == -1, binary_output)


def _refuse_negative(api, values):
    if (values < 0).any():
        raise InvalidArgumentError(f"{api}: arr must be non-negative, got {values[values < 0].flat[0]}")


def _bin_count(arr, minlength, maxlength):
    minlength = None if minlength is None else operator.index(_host_int(minlength))
    maxlength = None if maxlength is None else operator.index(_host_int(maxlength))
    if minlength is not None and minlength == maxlength:
        return minlength
    size = int(np.max(arr.numpy(), initial=-1)) + 1
    if minlength is not None:
        size = max(size, minlength)
    if maxlength is not None:
        size = min(size, maxlength)
    return max(size, 0)


def _host_int(value):
    return int(value.numpy()) if hasattr(value, "numpy") else value


def _ones_like(arr, dtype):
    backend = arr._backend
    return run_kernel("gc.math.bincount", backend, "ones", dtype, tuple(arr.shape), dtype,
                      backend.device_of(arr._value))


def _count(arr, values, size, by_row, binary_output):
    from gradcore.ops.array_ops import reshape
    from gradcore.ops.creation_ops import range as arange
    from gradcore.ops.indexing_ops import unsorted_segment_sum

    kept = less(arr, size)  # values past maxlength are dropped
    ids = where(kept, arr, 0)
    values = where(kept, values, 0)
    if by_row:
        rows = arr.shape[0]
        offsets = reshape(arange(rows, dtype=arr.dtype), (rows, 1))
        counts = reshape(unsorted_segment_sum(values, add(ids, multiply(offsets, size)), rows * size), (rows, size))
    else:
        counts = unsorted_segment_sum(reshape(values, (-1,)), reshape(ids, (-1,)), size)
    if binary_output:
        counts = minimum(counts, 1)
    return counts

