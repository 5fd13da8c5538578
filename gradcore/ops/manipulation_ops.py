"""Rearranging and masking: reverse, roll, repeat, meshgrid, boolean_mask, sequence_mask.

Each is a composition of gradcore ops (slices, concat, gather, broadcast_to, comparisons), so
each has a gradient, and a trace of gc.function, without a kernel or a rule of its own.
``repeat`` and ``boolean_mask`` make results whose shape depends on the values of an argument
(the repeats, the mask); those values are read on the host, so inside gc.function they must be
constants of the function (``indexing_ops.read_on_host`` says so when they are not).
"""

import operator

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.convert import to_tensor
from gradcore.errors import DTypeError, InvalidArgumentError, ShapeError
from gradcore.ops.array_ops import broadcast_to, concat, expand_dims, reshape
from gradcore.ops.indexing_ops import _gather, getitem, read_on_host
from gradcore.ops.kernels import run_kernel
from gradcore.ops.math_ops import cast, less
from gradcore.ops.operands import BOOL, check_kind, normalize_single_axis


def _host_ints(api, value, what):
    """``value`` (an int, a sequence of ints or an integer tensor) as a 1-D NumPy int64 array."""
    if hasattr(value, "_dtype"):
        if not value._dtype.is_integer:
            raise DTypeError(f"{api}: {what} must be integers, got dtype {value._dtype.name}")
        value = read_on_host(api, value, what)
    array = np.asarray(value)
    if array.dtype.kind not in "iu" and array.size:
        raise DTypeError(f"{api}: {what} must be integers, got {value!r}")
    return array.astype(np.int64)


def reverse(tensor, axis, name=None):
    """``tensor`` with the order of its entries reversed along each axis in ``axis``, as ``tf.reverse``."""
    api = "gc.reverse"
    x = to_tensor(tensor, op_name=api)
    axes = [normalize_single_axis(api, a, x.ndim) for a in _host_ints(api, axis, "axis").reshape(-1).tolist()]
    if len(set(axes)) != len(axes):
        raise InvalidArgumentError(f"{api}: axis {axes} names an axis twice")
    return getitem(x, tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim)))


def roll(input, shift, axis, name=None):
    """``input`` with its entries moved ``shift`` places along ``axis`` (wrapping around), as ``tf.roll``.

    ``shift`` and ``axis`` are ints or equally long lists; shifts along the same axis add up.
    """
    api = "gc.roll"
    x = to_tensor(input, op_name=api)
    shifts, axes = _host_ints(api, shift, "shift"), _host_ints(api, axis, "axis")
    if shifts.shape != axes.shape or shifts.ndim > 1:
        raise InvalidArgumentError(f"{api}: shift {shifts.tolist()} and axis {axes.tolist()} must be ints or "
                                   f"vectors of the same length")
    total = {}
    for s, a in zip(shifts.reshape(-1).tolist(), axes.reshape(-1).tolist()):
        a = normalize_single_axis(api, a, x.ndim)
        total[a] = total.get(a, 0) + s
    for a, s in sorted(total.items()):
        n = x.shape[a]
        s = s % n if n else 0
        if s:
            head = (slice(None),) * a
            x = concat([getitem(x, head + (slice(n - s, None),)), getitem(x, head + (slice(0, n - s),))], a)
    return x


def repeat(input, repeats, axis=None, name=None):
    """Each entry of ``input`` repeated along ``axis``, as ``tf.repeat``: ``repeats`` is one count for
    all or one per entry along the axis; with ``axis=None`` the input is flattened first."""
    api = "gc.repeat"
    x = to_tensor(input, op_name=api)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = normalize_single_axis(api, axis, x.ndim)
    counts = _host_ints(api, repeats, "repeats").reshape(-1)
    n = x.shape[axis]
    if counts.size not in (1, n) or (counts < 0).any():
        raise InvalidArgumentError(
            f"{api}: repeats {counts.tolist()} must be non-negative, one count or {n} (the size of axis {axis} "
            f"of shape {x.shape})"
        )
    positions = np.repeat(np.arange(n, dtype=np.int64), np.broadcast_to(counts, (n,)))
    idx = run_kernel(api, x._backend, "asarray", dtypes.int64, positions, dtypes.int64, x.device)
    return _gather(x, idx, axis)


def meshgrid(*args, **kwargs):
    """Coordinate grids from 1-D tensors, as ``tf.meshgrid``: with ``indexing='xy'`` (the default) the
    first two grid axes are swapped, as for images (x along columns); ``'ij'`` keeps argument order."""
    api = "gc.meshgrid"
    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"{api}: unexpected keyword arguments {sorted(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise InvalidArgumentError(f"{api}: indexing must be 'xy' or 'ij', got {indexing!r}")
    vectors = [reshape(to_tensor(a, op_name=api), (-1,)) for a in args]
    for v in vectors[1:]:
        if v.dtype is not vectors[0].dtype:
            raise DTypeError(f"{api}: all inputs must have one dtype, got {vectors[0].dtype.name} and {v.dtype.name}")
    place = list(range(len(vectors)))
    if indexing == "xy" and len(vectors) > 1:
        place[0], place[1] = 1, 0
    shape = [0] * len(vectors)
    for v, p in zip(vectors, place):
        shape[p] = v.shape[0]
    return [broadcast_to(reshape(v, [-1 if i == p else 1 for i in range(len(shape))]), shape)
            for v, p in zip(vectors, place)]


def boolean_mask(tensor, mask, axis=None, name=None):
    """The entries (slices) of ``tensor`` where ``mask`` is True, as ``tf.boolean_mask``.

    ``mask``'s shape must equal ``tensor.shape[axis:axis + mask.ndim]``; those dimensions become one,
    of length the number of Trues. The result's shape depends on the mask's values, so inside
    gc.function the mask must be a constant of the function; a traced mask is refused.
    """
    api = "gc.boolean_mask"
    x = to_tensor(tensor, op_name=api)
    m = to_tensor(mask, backend=x._backend, op_name=api)
    check_kind(api, m, BOOL)
    axis = 0 if axis is None else operator.index(axis)
    if m.ndim == 0:
        raise InvalidArgumentError(f"{api}: mask must have rank >= 1, got a scalar")
    if axis < 0:
        axis += x.ndim
    if not 0 <= axis <= x.ndim - m.ndim or x.shape[axis:axis + m.ndim] != m.shape:
        raise ShapeError(
            f"{api}: mask of shape {m.shape} must match dimensions {axis}..{axis + m.ndim - 1} of the "
            f"tensor's shape {x.shape}"
        )
    chosen = np.flatnonzero(read_on_host(api, m, "the mask").reshape(-1))
    merged = reshape(x, x.shape[:axis] + (int(np.prod(m.shape)),) + x.shape[axis + m.ndim:])
    idx = run_kernel(api, x._backend, "asarray", dtypes.int64, chosen, dtypes.int64, x.device)
    return _gather(merged, idx, axis)


def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool_, name=None):
    """``mask[..., j] = j < lengths[...]`` over a new last axis of size ``maxlen`` (by default the
    largest length), as ``tf.sequence_mask``; the mask has ``dtype`` (bool by default)."""
    api = "gc.sequence_mask"
    n = to_tensor(lengths, op_name=api)
    if not n.dtype.is_integer:
        raise DTypeError(f"{api}: lengths must be integers, got dtype {n.dtype.name}")
    if maxlen is None:
        values = read_on_host(api, n, "lengths (with maxlen=None, the largest length is the mask's size)")
        maxlen = int(values.max()) if values.size else 0
    maxlen = operator.index(maxlen)
    if maxlen < 0:
        raise InvalidArgumentError(f"{api}: maxlen must be non-negative, got {maxlen}")
    positions = run_kernel(api, n._backend, "arange", n.dtype, 0, maxlen, 1, n.dtype, n.device)
    mask = less(positions, expand_dims(n, -1))
    dtype = dtypes.as_dtype(dtype)
    return mask if dtype is dtypes.bool_ else cast(mask, dtype)
