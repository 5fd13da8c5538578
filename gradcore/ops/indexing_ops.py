"""Indexing: basic slicing (``x[1:3, None, ..., -1]``), gather, and their adjoints.

Keys and indices are checked here, in the core, so every backend raises the
same error for an index out of range. Gradients are dense (docs/deviations.md,
"Gradients are always dense"): slicing scatters ``dy`` into zeros, and gather's
gradient is the segment sum in which duplicate indices add up, where TF would
return IndexedSlices.
"""

import operator

import numpy as np

from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import record, state
from gradcore.engine.registry import RegisterGradient
from gradcore.errors import DTypeError, InvalidArgumentError, OperatorNotAllowedInGraphError, ShapeError
from gradcore.ops.kernels import run_kernel
from gradcore.ops.operands import NUMERIC, check_in_range, check_kind, normalize_single_axis, same_backend

_GETITEM = "gc.Tensor.__getitem__"

# ---- basic indexing --------------------------------------------------------------------------


def getitem(tensor, key):
    """``tensor[key]`` for ints (negative too), slices (any step), None/newaxis and Ellipsis."""
    x = to_tensor(tensor, op_name=_GETITEM)
    return _strided_slice(x, _normalize_key(key, x.shape))


def _strided_slice(x, key):
    backend = x._backend
    y = run_kernel(_GETITEM, backend, "slice", x._dtype, x._value, key)
    if state.recording:
        record("StridedSlice", (x,), (y,), {"key": key})
    return y


@RegisterGradient("StridedSlice")
def _strided_slice_grad(op, dy):
    """The adjoint of a slice: dy written into zeros shaped like the input."""
    return _strided_slice_grad_op(dy, op.inputs[0].shape, op.get_attr("key"))


def _strided_slice_grad_op(dy, shape, key):
    backend = dy._backend
    y = run_kernel(_GETITEM, backend, "slice_into_zeros", dy._dtype, dy._value, shape, key)
    if state.recording:
        record("StridedSliceGrad", (dy,), (y,), {"key": key})
    return y


@RegisterGradient("StridedSliceGrad")
def _strided_slice_grad_grad(op, g):
    """Scattering into zeros is linear; its adjoint is the same slice."""
    return _strided_slice(g, op.get_attr("key"))


def _normalize_key(key, shape):
    """``key`` as a tuple of non-negative ints, canonical slices and None, Ellipsis expanded.

    Canonical slices have a non-negative start, and a stop that is non-negative or
    (only for a negative step running down to 0) None, so a backend without
    Python's negative-bound rules (torch) can read them literally.
    """
    items = [_key_item(k) for k in (key if isinstance(key, tuple) else (key,))]
    if sum(k is Ellipsis for k in items) > 1:
        raise InvalidArgumentError(f"{_GETITEM}: an index can have only one ellipsis ('...'), got {key!r}")
    indexed = sum(k is not None and k is not Ellipsis for k in items)
    if indexed > len(shape):
        raise InvalidArgumentError(
            f"{_GETITEM}: too many indices for a tensor of shape {shape}: {indexed} axes indexed by {key!r}"
        )
    for i, k in enumerate(items):
        if k is Ellipsis:
            items[i:i + 1] = [slice(None)] * (len(shape) - indexed)
            break
    normalized, axis = [], 0
    for k in items:
        if k is not None:
            k = _in_bounds(k, axis, shape[axis]) if isinstance(k, int) else _canonical_slice(k, shape[axis])
            axis += 1
        normalized.append(k)
    return tuple(normalized)


def _key_item(k):
    if k is None or k is Ellipsis:
        return k
    if isinstance(k, slice):
        return slice(_slice_bound(k.start), _slice_bound(k.stop), _slice_bound(k.step))
    if isinstance(k, (bool, np.bool_)):
        raise InvalidArgumentError(f"{_GETITEM}: boolean indices are not supported; use gc.where to select by a mask")
    if isinstance(k, (list, tuple, np.ndarray)) or (hasattr(k, "_dtype") and len(k.shape) > 0):
        raise InvalidArgumentError(
            f"{_GETITEM}: indexing with a list, array or tensor ({k!r}) is not supported; "
            f"use gc.gather(x, indices, axis=...) to pick elements by index"
        )
    try:
        return operator.index(k)
    except TypeError:
        raise InvalidArgumentError(
            f"{_GETITEM}: indices must be ints, slices, None (newaxis) or Ellipsis, "
            f"got {k!r} of type {type(k).__name__}"
        ) from None


def _slice_bound(value):
    if value is None:
        return None
    try:
        return operator.index(value)
    except TypeError:
        raise InvalidArgumentError(f"{_GETITEM}: slice bounds and steps must be ints or None, got {value!r}") from None


def _in_bounds(index, axis, size):
    if not -size <= index < size:
        raise InvalidArgumentError(f"{_GETITEM}: index {index} is out of bounds for axis {axis} with size {size}")
    return index + size if index < 0 else index


def _canonical_slice(s, size):
    if s.step == 0:
        raise InvalidArgumentError(f"{_GETITEM}: slice step cannot be zero ({s})")
    start, stop, step = s.indices(size)
    count = len(range(start, stop, step))
    if count == 0:
        return slice(0, 0, 1)
    last = start + (count - 1) * step
    if step > 0:
        return slice(start, last + 1, step)
    return slice(start, last - 1 if last > 0 else None, step)


# ---- gather and segment sums ----------------------------------------------------------------


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """Slices of ``params`` along ``axis`` picked by the integer ``indices``, as ``tf.gather``.

    The result has shape ``params.shape[:axis] + indices.shape + params.shape[axis + 1:]``.
    """
    api = "gc.gather"
    p = to_tensor(params, op_name=api)
    idx = _indices(api, indices, p)
    if batch_dims != 0:
        raise InvalidArgumentError(f"{api}: batch_dims={batch_dims!r} is not supported; only batch_dims=0 is")
    if p.ndim == 0:
        raise InvalidArgumentError(f"{api}: params must have rank >= 1, got a scalar")
    axis = normalize_single_axis(api, 0 if axis is None else axis, p.ndim)
    meaning = f"axis {axis} of params with shape {p.shape} has size {p.shape[axis]}"
    check_in_range(api, idx, p.shape[axis], "index", meaning)
    return _gather(p, idx, axis)


def _gather(p, idx, axis):
    backend = p._backend
    y = run_kernel("gc.gather", backend, "gather", p._dtype, p._value, idx._value, axis)
    if state.recording:
        record("GatherV2", (p, idx), (y,), {"axis": axis})
    return y


@RegisterGradient("GatherV2")
def _gather_grad(op, dy):
    """Dense: params row i gets the sum of the dy rows gathered from it (duplicate indices add up)."""
    params, indices = op.inputs
    axis, k = op.get_attr("axis"), indices.ndim
    # Bring the gathered axes to the front, sum them into rows, put the row axis back.
    front = [*range(axis, axis + k), *range(axis), *range(axis + k, dy.ndim)]
    rows = _segment_sum(_permuted(dy, front), indices, params.shape[axis])
    back = [*range(1, axis + 1), 0, *range(axis + 1, params.ndim)]
    return _permuted(rows, back), None


def _permuted(t, perm):
    from gradcore.ops.array_ops import transpose

    return t if perm == sorted(perm) else transpose(t, perm)


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """Rows of ``data`` summed by ``segment_ids`` into ``num_segments`` rows (duplicates add).

    ``segment_ids.shape`` must be a prefix of ``data.shape``. Unlike TensorFlow, a
    negative id is an error rather than silently dropped.
    """
    api = "gc.math.unsorted_segment_sum"
    d = to_tensor(data, op_name=api)
    check_kind(api, d, NUMERIC)
    ids = _indices(api, segment_ids, d)
    num_segments = operator.index(num_segments)
    if d.shape[:ids.ndim] != ids.shape:
        raise ShapeError(
            f"{api}: segment_ids shape {ids.shape} must be a prefix of data shape {d.shape}"
        )
    check_in_range(api, ids, num_segments, "index", f"num_segments is {num_segments}")
    return _segment_sum(d, ids, num_segments)


def _segment_sum(d, ids, num_segments):
    backend = d._backend
    y = run_kernel("gc.math.unsorted_segment_sum", backend, "unsorted_segment_sum", d._dtype, d._value, ids._value, num_segments)
    if state.recording:
        record("UnsortedSegmentSum", (d, ids), (y,), {"num_segments": num_segments})
    return y


@RegisterGradient("UnsortedSegmentSum")
def _segment_sum_grad(op, dy):
    """Each data row receives the gradient of the segment it was added into."""
    return _gather(dy, op.inputs[1], 0), None


def embedding_lookup(params, ids, max_norm=None, name=None):
    """Rows of ``params`` picked by ``ids``, as ``tf.nn.embedding_lookup``: a gather along axis 0.

    ``params`` may be a list of shards, joined in order (TF's "div" partition, where consecutive
    ids live in one shard). With ``max_norm``, each looked-up embedding whose l2 norm exceeds it is
    scaled down to it. The gradient is dense, rows of repeated ids summed (docs/deviations.md).
    """
    api = "gc.nn.embedding_lookup"
    if isinstance(params, (list, tuple)):
        if not params:
            raise InvalidArgumentError(f"{api}: params must be a tensor or a non-empty list of tensors")
        from gradcore.ops.array_ops import concat

        params = params[0] if len(params) == 1 else concat(params, 0)
    p = to_tensor(params, op_name=api)
    idx = _indices(api, ids, p)
    if p.ndim == 0:
        raise InvalidArgumentError(f"{api}: params must have rank >= 1, got a scalar")
    check_in_range(api, idx, p.shape[0], "id", f"params has {p.shape[0]} rows")
    rows = _gather(p, idx, 0)
    if max_norm is None:
        return rows
    from gradcore.ops.clip_ops import clip_by_norm

    return clip_by_norm(rows, max_norm, axes=list(range(idx.ndim, rows.ndim)))


def read_on_host(api, tensor, what):
    """``tensor``'s values as a NumPy array, for an op whose result's shape (or layout) depends on them.

    Inside gc.function such values are known only when the function runs and a program's shapes are
    fixed when it is traced, so a traced ``tensor`` is refused with an error that says which argument
    decides the shape and what to do instead (docs/function.md, "Tracing").
    """
    try:
        return tensor.numpy()
    except OperatorNotAllowedInGraphError:
        raise OperatorNotAllowedInGraphError(
            f"{api}: the result's shape or layout depends on the values of {what}, which inside gc.function are "
            f"known only when the function runs; give {what} as a constant of the function (a Python list, or a "
            f"tensor made outside it that is not an argument), or call {api} outside gc.function"
        ) from None


def _indices(api, indices, like):
    idx = to_tensor(indices, backend=like._backend, op_name=api)
    same_backend(api, (like, idx))
    if not idx._dtype.is_integer:
        raise DTypeError(
            f"{api}: indices must be integers, got dtype {idx._dtype.name} with shape {idx.shape}; "
            f"cast them with gc.cast(indices, gc.int32)"
        )
    return idx


