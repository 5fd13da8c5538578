"""Sorting and searching: sort, argsort, top_k, searchsorted.

One optional kernel, ``argsort`` (stable, int64), orders every op here; values are then
gathered with the sorting indices, so their gradient is the gather's (a scatter of dy
back to where each value came from) and needs no rule of its own. Ties go to the lower
index first in both directions, as TensorFlow's sorts (built on ``top_k``) do.
"""

import operator

from gradcore.engine import dtypes
from gradcore.engine.convert import to_tensor
from gradcore.errors import DTypeError, InvalidArgumentError, ShapeError
from gradcore.ops.array_ops import reshape, transpose
from gradcore.ops.indexing_ops import _gather
from gradcore.ops.kernels import run_kernel
from gradcore.ops.math_ops import add, cast, less, less_equal
from gradcore.ops.operands import NUMERIC, check_kind, normalize_single_axis, operands
from gradcore.ops.reduction_ops import reduce_sum

_DIRECTIONS = {"ASCENDING": False, "DESCENDING": True}


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """int32 indices that sort ``values`` along ``axis``, as ``tf.argsort``.

    The sort is always stable (``stable=False`` allows any order of ties; this one is TF's).
    """
    x, axis, descending = _sort_arguments("gc.argsort", values, axis, direction)
    order = _argsort(x, axis, descending)
    return run_kernel("gc.argsort", x._backend, "cast", dtypes.int32, order._value, dtypes.int32)


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """``values`` sorted along ``axis``, as ``tf.sort``; differentiable (dy goes back to each value's place)."""
    x, axis, descending = _sort_arguments("gc.sort", values, axis, direction)
    return _take_along_axis(x, _argsort(x, axis, descending), axis)


def top_k(input, k=1, sorted=True, index_type=dtypes.int32, name=None):
    """The ``k`` largest entries along the last axis and their indices, as ``tf.math.top_k``.

    Returns ``(values, indices)``. Equal values are taken lower index first, as TensorFlow does;
    the result is always sorted (``sorted=False`` lets TF return any order, so sorted is one).
    """
    api = "gc.math.top_k"
    x, axis, _ = _sort_arguments(api, input, -1, "DESCENDING")
    k = operator.index(k)
    n = x.shape[axis]
    if not 0 <= k <= n:
        raise InvalidArgumentError(f"{api}: k={k} must be in [0, {n}], the size of the last axis of shape {x.shape}")
    index_type = dtypes.as_dtype(index_type)
    if index_type not in (dtypes.int32, dtypes.int64):
        raise DTypeError(f"{api}: index_type must be int32 or int64, got {index_type.name}")
    order = _argsort(x, axis, True)
    if k < n:
        order = order[..., :k]
    values = _take_along_axis(x, order, axis)
    indices = run_kernel(api, x._backend, "cast", index_type, order._value, index_type)
    return values, indices


def _sort_arguments(api, values, axis, direction):
    x = to_tensor(values, op_name=api)
    check_kind(api, x, NUMERIC)
    if x.ndim == 0:
        raise InvalidArgumentError(f"{api}: values must have rank >= 1, got a scalar")
    key = str(direction).upper()
    if key not in _DIRECTIONS:
        raise InvalidArgumentError(f"{api}: direction must be 'ASCENDING' or 'DESCENDING', got {direction!r}")
    return x, normalize_single_axis(api, axis, x.ndim), _DIRECTIONS[key]


def _argsort(x, axis, descending):
    """The stable sorting indices of ``x`` along ``axis``, an int64 tensor (not recorded: no gradient)."""
    return run_kernel("gc.argsort", x._backend, "argsort", dtypes.int64, x._value, axis, descending)


def _take_along_axis(x, indices, axis):
    """``x`` read at ``indices`` along ``axis``, the other axes matched one to one (NumPy's
    ``_take_along_axis``), written as one gather from the flattened ``x`` so its gradient is the gather's."""
    ndim = x.ndim
    perm = [i for i in range(ndim) if i != axis] + [axis]
    moved_x, moved_idx = transpose(x, perm), transpose(cast(indices, dtypes.int64), perm)
    n = moved_x.shape[-1]
    lead = moved_idx.shape[:-1]
    rows = 1
    for m in lead:
        rows *= m
    offsets = run_kernel("gc.gather", x._backend, "arange", dtypes.int64, 0, rows * n, n, dtypes.int64, x.device)
    flat_idx = add(reshape(moved_idx, (rows, moved_idx.shape[-1])), reshape(offsets, (rows, 1)))
    picked = _gather(reshape(moved_x, (-1,)), flat_idx, 0)
    inverse = [0] * ndim
    for i, p in enumerate(perm):
        inverse[p] = i
    return transpose(reshape(picked, moved_idx.shape), inverse)


def searchsorted(sorted_sequence, values, side="left", out_type=dtypes.int32, name=None):
    """Where each of ``values`` would go in the innermost axis of ``sorted_sequence`` to keep it sorted,
    as ``tf.searchsorted``: the count of entries below it (``side='left'``) or not above it ('right').

    Both have rank >= 1 and the same leading dimensions; the result has ``values``' shape.
    """
    api = "gc.searchsorted"
    seq, v = operands(sorted_sequence, values, api)
    check_kind(api, seq, NUMERIC)
    if side not in ("left", "right"):
        raise InvalidArgumentError(f"{api}: side must be 'left' or 'right', got {side!r}")
    out_type = dtypes.as_dtype(out_type)
    if out_type not in (dtypes.int32, dtypes.int64):
        raise DTypeError(f"{api}: out_type must be int32 or int64, got {out_type.name}")
    if seq.ndim == 0 or v.ndim == 0 or seq.shape[:-1] != v.shape[:-1]:
        raise ShapeError(
            f"{api}: sorted_sequence {seq.shape} and values {v.shape} must have rank >= 1 and the same "
            f"leading dimensions (all but the last)"
        )
    # [..., M, 1] against [..., 1, N]: count the sequence entries that go before each value.
    column = reshape(v, v.shape + (1,))
    row = reshape(seq, seq.shape[:-1] + (1, seq.shape[-1]))
    before = less(row, column) if side == "left" else less_equal(row, column)
    return reduce_sum(cast(before, out_type), axis=-1)
