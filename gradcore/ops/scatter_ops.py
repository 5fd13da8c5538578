"""Indexing by coordinates: gather_nd, scatter_nd and the tensor_scatter_nd ops.

Each is written with gradcore ops and no kernel of its own: the last axis of ``indices`` holds
coordinates into the leading dimensions of a tensor, which are folded into one flat row
number, so a gather_nd is a gather and a scatter is an unsorted segment sum (duplicates add,
as TensorFlow's scatter_nd). Their gradients are those ops' (dense: docs/deviations.md).
Coordinates are checked on the host, so every backend raises the same error for one out of
range, as TensorFlow does on the CPU.
"""

import functools

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.convert import is_weak, to_tensor
from gradcore.errors import DTypeError, InvalidArgumentError, ShapeError
from gradcore.ops.array_ops import reshape
from gradcore.ops.indexing_ops import _gather, _indices, _segment_sum
from gradcore.ops.kernels import check_on_host, run_kernel
from gradcore.ops.math_ops import add, cast, equal, greater_equal, multiply, where, zeros_like_raw
from gradcore.ops.operands import shape_tuple
from gradcore.ops.reduction_ops import reduce_sum
from gradcore.ops.segment_ops import _segment_max


def gather_nd(params, indices, batch_dims=0, name=None):
    """Slices of ``params`` at the coordinates in the last axis of ``indices``, as ``tf.gather_nd``.

    The result has shape ``indices.shape[:-1] + params.shape[batch_dims + depth:]``, ``depth`` being
    ``indices.shape[-1]``; the first ``batch_dims`` dimensions of both are batch dimensions, each
    batch gathering from its own slice of ``params``.
    """
    api = "gc.gather_nd"
    p = to_tensor(params, op_name=api)
    idx = _indices(api, indices, p)
    batch_dims = int(batch_dims)
    if not 0 <= batch_dims < idx.ndim or batch_dims > p.ndim:
        raise InvalidArgumentError(
            f"{api}: batch_dims={batch_dims} must be in [0, {min(idx.ndim - 1, p.ndim)}] for indices of shape "
            f"{idx.shape} and params of shape {p.shape}"
        )
    if p.shape[:batch_dims] != idx.shape[:batch_dims]:
        raise ShapeError(
            f"{api}: the {batch_dims} batch dimensions differ: params {p.shape}, indices {idx.shape}"
        )
    batch, inner = p.shape[:batch_dims], _inner_dims(api, idx, p.shape[batch_dims:], "params")
    rows = _flat_rows(idx, batch, inner)
    flat = reshape(p, (_count(batch + inner),) + p.shape[batch_dims + len(inner):])
    return _gather(flat, rows, 0)


def scatter_nd(indices, updates, shape, name=None):
    """Zeros of ``shape`` with ``updates`` added at the coordinates in ``indices``, as ``tf.scatter_nd``;
    updates at the same coordinates add up. ``updates`` has shape ``indices.shape[:-1] + shape[depth:]``."""
    api = "gc.scatter_nd"
    u = to_tensor(updates, op_name=api)
    return _scatter_sum(api, u, _indices(api, indices, u), shape_tuple(api, shape))


def tensor_scatter_nd_add(tensor, indices, updates, name=None):
    """``tensor`` with ``updates`` added at the coordinates in ``indices`` (duplicates add), as
    ``tf.tensor_scatter_nd_add``."""
    api = "gc.tensor_scatter_nd_add"
    t, u = _tensor_and_updates(api, tensor, updates)
    return add(t, _scatter_sum(api, u, _indices(api, indices, t), t.shape))


def tensor_scatter_nd_update(tensor, indices, updates, name=None):
    """``tensor`` with the entries at the coordinates in ``indices`` replaced by ``updates``, as
    ``tf.tensor_scatter_nd_update``.

    Where coordinates repeat, the last update wins, as TensorFlow documents (on its GPUs the
    winner is arbitrary; gradcore always picks the last). The gradient reaches ``tensor`` only
    where nothing overwrote it, and each update that was written (not one a later duplicate beat).
    """
    api = "gc.tensor_scatter_nd_update"
    t, u = _tensor_and_updates(api, tensor, updates)
    idx = _indices(api, indices, t)
    if t.dtype.is_bool:  # the arithmetic below needs numbers; a bool result has no gradient
        return cast(tensor_scatter_nd_update(cast(t, dtypes.int8), idx, cast(u, dtypes.int8)), dtypes.bool_)
    inner = _inner_dims(api, idx, t.shape, "tensor")
    rows = _flat_rows(idx, (), inner)
    _check_updates_shape(api, u, idx, t.shape[len(inner):])
    # Number the updates in order; per row, the largest number is the last update there, the winner.
    count = _count(rows.shape)
    order = run_kernel(api, t._backend, "arange", dtypes.int64, 0, count, 1, dtypes.int64, t.device)
    order = reshape(order, rows.shape)
    last = _segment_max(order, rows, _count(inner))  # rows no update reaches hold the lowest int64
    wins = equal(_gather(last, rows, 0), order)
    tail = (1,) * (t.ndim - len(inner))
    written = where(reshape(wins, wins.shape + tail), u, zeros_like_raw(u))
    new = reshape(_segment_sum(written, rows, _count(inner)), t.shape)
    reached = reshape(greater_equal(last, 0), inner + tail)
    return where(reached, new, t)


def _tensor_and_updates(api, tensor, updates):
    t = to_tensor(tensor, op_name=api)
    u = to_tensor(updates, t._dtype if is_weak(updates) else None, t._backend, api)
    if u._dtype is not t._dtype:
        raise DTypeError(f"{api}: updates have dtype {u._dtype.name} but the tensor has dtype {t._dtype.name}")
    return t, u


def _scatter_sum(api, updates, idx, shape):
    inner = _inner_dims(api, idx, shape, "shape")
    _check_updates_shape(api, updates, idx, shape[len(inner):])
    rows = _flat_rows(idx, (), inner)
    return reshape(_segment_sum(updates, rows, _count(inner)), shape)


def _check_updates_shape(api, updates, idx, slice_shape):
    expected = idx.shape[:-1] + tuple(slice_shape)
    if updates.shape != expected:
        raise ShapeError(
            f"{api}: updates must have shape indices.shape[:-1] + shape[depth:] = {expected}, got {updates.shape}"
        )


def _inner_dims(api, idx, shape, what):
    """The dimensions of ``shape`` the coordinates index (the first ``idx.shape[-1]``), range-checked."""
    if idx.ndim == 0:
        raise InvalidArgumentError(f"{api}: indices must have rank >= 1 (coordinates in the last axis), got a scalar")
    depth = idx.shape[-1]
    if depth > len(shape):
        raise InvalidArgumentError(
            f"{api}: indices hold {depth} coordinates each (their last dimension) but {what} {tuple(shape)} "
            f"has only {len(shape)} dimensions to index"
        )
    inner = tuple(shape[:depth])
    check_on_host(functools.partial(_refuse_outside, api, inner), idx)
    return inner


def _refuse_outside(api, inner, values):
    bad = ((values < 0) | (values >= np.asarray(inner, dtype=np.int64))).any(axis=-1)
    if bad.any():
        position = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidArgumentError(
            f"{api}: coordinates {values[position].tolist()} at position {position} of indices are out of range: "
            f"they must be in [0, n) for each n of the indexed dimensions {list(inner)}"
        )


def _flat_rows(idx, batch, inner):
    """Each coordinate tuple's row number in the tensor whose leading ``batch + inner`` dimensions are
    folded into one (row-major), an int64 tensor of shape ``idx.shape[:-1]``."""
    strides = [1] * len(inner)
    for i in range(len(inner) - 2, -1, -1):
        strides[i] = strides[i + 1] * inner[i + 1]
    strides = run_kernel("gc.gather_nd", idx._backend, "asarray", dtypes.int64, strides, dtypes.int64, idx.device)
    rows = reduce_sum(multiply(cast(idx, dtypes.int64), strides), axis=-1)
    if batch:
        per_batch = _count(inner)
        starts = run_kernel("gc.gather_nd", idx._backend, "arange", dtypes.int64, 0, _count(batch) * per_batch,
                            per_batch, dtypes.int64, idx.device)
        rows = add(rows, reshape(starts, batch + (1,) * (rows.ndim - len(batch))))
    return rows


def _count(shape):
    total = 1
    for n in shape:
        total *= n
    return total
