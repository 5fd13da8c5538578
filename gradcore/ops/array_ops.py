"""Shape and layout ops: reshape, transpose, broadcasting, joining, splitting, tiling, padding.

Indexing (``x[...]``, gather) lives in ``indexing_ops``; ``getitem`` is imported
here because ``Tensor.__getitem__`` calls ``array_ops.getitem``.
"""

import operator

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.convert import current_device, infer_dtype, is_weak, to_tensor
from gradcore.engine.recording import record, state
from gradcore.engine.registry import RegisterGradient
from gradcore.engine.tensor import Tensor
from gradcore.errors import DTypeError, InvalidArgumentError, ShapeError
from gradcore.ops.indexing_ops import getitem
from gradcore.ops.kernels import run_kernel
from gradcore.ops.math_ops import equal, where
from gradcore.ops.operands import dimension, normalize_single_axis, same_backend, shape_tuple
from gradcore.ops.reduction_ops import reduce_sum
from gradcore.ops.rules import unary_rule, unbroadcast


def _shape_tuple(api, shape):
    """``shape`` as a tuple of ints that may be negative (reshape's -1, tile's multiples: their ops
    check them in their own words); ``operands.shape_tuple`` is for the shape of a tensor to make."""
    try:
        return tuple(map(dimension, shape.numpy().tolist() if hasattr(shape, "numpy") else shape))
    except TypeError:
        raise InvalidArgumentError(f"{api}: shape must be a sequence of ints, got {shape!r}") from None


def shape(input, out_type=dtypes.int32, name=None):
    """``tf.shape``: the shape of ``input`` as a 1-D integer tensor, read when the op runs, so inside
    a gc.function it gives the sizes an ``input_signature``'s ``None`` leaves unknown (docs/function.md)."""
    x = to_tensor(input, op_name="gc.shape")
    dtype = dtypes.as_dtype(out_type)
    if not dtype.is_integer:
        raise DTypeError(f"gc.shape: out_type must be an integer dtype (int32 or int64), got {dtype.name}")
    return run_kernel("gc.shape", x._backend, "asarray", dtype, x.shape, dtype, x.device)


def size(input, out_type=dtypes.int32, name=None):
    """``tf.size``: the number of elements of ``input`` as a scalar integer tensor (int32 by default)."""
    x = to_tensor(input, op_name="gc.size")
    dtype = dtypes.as_dtype(out_type)
    if not dtype.is_integer:
        raise DTypeError(f"gc.size: out_type must be an integer dtype (int32 or int64), got {dtype.name}")
    count = 1
    for n in x.shape:  # sizes an input_signature leaves unknown multiply as expressions (docs/function.md)
        count = count * n
    return run_kernel("gc.size", x._backend, "asarray", dtype, count, dtype, x.device)


def rank(input, name=None):
    """``tf.rank``: the number of dimensions of ``input`` as a scalar int32 tensor."""
    x = to_tensor(input, op_name="gc.rank")
    return run_kernel("gc.rank", x._backend, "asarray", dtypes.int32, x.ndim, dtypes.int32, x.device)


def reshape(tensor, shape, name=None):
    """``tensor`` with a new shape of the same size; one dimension may be -1."""
    x = to_tensor(tensor, op_name="gc.reshape")
    shape = _shape_tuple("gc.reshape", shape)
    old_shape = tuple(x._value.shape)
    if shape == old_shape:
        return x
    shape = _resolve_reshape(old_shape, shape)
    backend = x._backend
    y = run_kernel("gc.reshape", backend, "reshape", x._dtype, x._value, shape)
    if state.recording:
        record("Reshape", (x,), (y,))
    return y


def _resolve_reshape(old_shape, shape):
    size = 1
    for n in old_shape:
        size *= n
    known = 1
    for n in shape:
        if n != -1:
            known *= n
    if shape.count(-1) > 1 or any(n < -1 for n in shape):
        raise ShapeError(f"gc.reshape: invalid target shape {shape} (at most one -1, no other negatives)")
    if -1 in shape:
        if known == 0 or size % known:
            raise ShapeError(f"gc.reshape: cannot reshape a tensor of shape {old_shape} ({size} elements) into {shape}")
        shape = tuple(size // known if n == -1 else n for n in shape)
    elif known != size:
        raise ShapeError(
            f"gc.reshape: cannot reshape a tensor of shape {old_shape} ({size} elements) into {shape} "
            f"({known} elements)"
        )
    return shape


unary_rule("Reshape", lambda dy, x, y: reshape(dy, x.shape))


def broadcast_to(input, shape, name=None):
    """``input`` broadcast to ``shape`` by NumPy's rules."""
    x = to_tensor(input, op_name="gc.broadcast_to")
    shape = shape_tuple("gc.broadcast_to", shape)
    old_shape = tuple(x._value.shape)
    if shape == old_shape:
        return x
    ok = len(shape) >= len(old_shape) and all(
        m == n or m == 1 for m, n in zip(reversed(old_shape), reversed(shape))
    )
    if not ok:
        raise ShapeError(f"gc.broadcast_to: cannot broadcast shape {old_shape} to {shape}")
    backend = x._backend
    y = run_kernel("gc.broadcast_to", backend, "broadcast_to", x._dtype, x._value, shape)
    if state.recording:
        record("BroadcastTo", (x,), (y,))
    return y


unary_rule("BroadcastTo", lambda dy, x, y: unbroadcast(dy, x.shape))


def transpose(a, perm=None, name=None):
    """Permute the axes of ``a``; by default reverse them."""
    x = to_tensor(a, op_name="gc.transpose")
    ndim = x.ndim
    perm = tuple(reversed(range(ndim))) if perm is None else tuple(operator.index(p) for p in perm)
    # Each entry must name an axis (negative ones count from the end); none may wrap around.
    if len(perm) != ndim or any(not -ndim <= p < ndim for p in perm) or sorted(p % ndim for p in perm) != list(range(ndim)):
        raise InvalidArgumentError(
            f"gc.transpose: perm {perm} is not a permutation of the {ndim} axes of shape {x.shape}"
        )
    perm = tuple(p % ndim for p in perm)
    backend = x._backend
    y = run_kernel("gc.transpose", backend, "transpose", x._dtype, x._value, perm)
    if state.recording:
        record("Transpose", (x,), (y,), {"perm": perm})
    return y


@RegisterGradient("Transpose")
def _transpose_grad(op, dy):
    perm = op.get_attr("perm")
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return transpose(dy, inverse)


def expand_dims(input, axis, name=None):
    """Insert a length-1 axis at ``axis`` (negative counts from the end of the result)."""
    x = to_tensor(input, op_name="gc.expand_dims")
    shape = list(x.shape)
    axis = normalize_single_axis("gc.expand_dims", axis, len(shape) + 1)
    shape.insert(axis, 1)
    return reshape(x, shape)


def squeeze(input, axis=None, name=None):
    """Remove length-1 axes (all of them, or those in ``axis``)."""
    x = to_tensor(input, op_name="gc.squeeze")
    shape = x.shape
    if axis is None:
        axes = {i for i, n in enumerate(shape) if n == 1}
    else:
        axes = {normalize_single_axis("gc.squeeze", a, len(shape)) for a in np.atleast_1d(axis).tolist()}
        for a in axes:
            if shape[a] != 1:
                raise ShapeError(f"gc.squeeze: cannot squeeze axis {a} of shape {shape}: its size is {shape[a]}, not 1")
    return reshape(x, [n for i, n in enumerate(shape) if i not in axes])


def identity(input, name=None):
    """A new tensor with the same value; gradients pass straight through.

    Inside a ``gc.device`` scope naming another device, the value is copied there:
    ``with gc.device("cuda:0"): x = gc.identity(x)`` moves ``x``, as in TensorFlow.
    """
    x = to_tensor(input, op_name="gc.identity")
    return _copy_to(x, current_device())


def _copy_to(x, device):
    backend = x._backend
    raw = x._value
    if device is not None and device != backend.device_of(raw):
        y = run_kernel("gc.identity", backend, "asarray", x._dtype, raw, x._dtype, device)
    else:
        y = Tensor(raw, x._dtype, backend)
    if state.recording:
        record("Identity", (x,), (y,))
    return y


@RegisterGradient("Identity")
def _identity_grad(op, dy):
    """The gradient goes back to the device the input lives on."""
    source = op.inputs[0]
    return _copy_to(dy, source._backend.device_of(source._value))


def stop_gradient(input, name=None):
    """The same value, cut off from every tape: nothing flows back through it."""
    x = to_tensor(input, op_name="gc.stop_gradient")
    return Tensor(x._value, x._dtype, x._backend)


# ---- joining and splitting -------------------------------------------------------------------


def _tensor_list(api, values):
    """``values`` as Tensors of one dtype and backend; Python values take the tensors' dtype."""
    values = list(values)
    if not values:
        raise InvalidArgumentError(f"{api}: needs at least one tensor, got an empty list")
    first = next((i for i, v in enumerate(values) if not is_weak(v)), 0)
    anchor = to_tensor(values[first], op_name=api)
    tensors = [
        anchor if i == first else to_tensor(v, anchor._dtype if is_weak(v) else None, anchor._backend, api)
        for i, v in enumerate(values)
    ]
    for i, t in enumerate(tensors):
        if t._dtype is not anchor._dtype:
            dtypes.result_dtype(f"{api} (tensors {first} and {i})", anchor._dtype, t._dtype)
    same_backend(api, tensors)
    return tensors


def concat(values, axis, name=None):
    """Join tensors along an existing ``axis``; every other dimension must agree."""
    tensors = _tensor_list("gc.concat", values)
    shape = tensors[0].shape
    if not shape:
        raise InvalidArgumentError("gc.concat: cannot concatenate scalars (rank 0); use gc.stack")
    axis = normalize_single_axis("gc.concat", axis, len(shape))
    for t in tensors[1:]:
        other = t.shape
        if len(other) != len(shape) or any(m != n for i, (m, n) in enumerate(zip(shape, other)) if i != axis):
            raise ShapeError(
                f"gc.concat: shapes {shape} and {other} differ in a dimension other than axis {axis}; "
                f"only the concatenated dimension may differ"
            )
    backend = tensors[0]._backend
    y = run_kernel("gc.concat", backend, "concat", tensors[0]._dtype, [t._value for t in tensors], axis)
    if state.recording:
        record("ConcatV2", tuple(tensors), (y,), {"axis": axis})
    return y


@RegisterGradient("ConcatV2")
def _concat_grad(op, dy):
    """Each input gets its own slice of dy along the axis."""
    axis = op.get_attr("axis")
    return split(dy, [x.shape[axis] for x in op.inputs], axis)


def split(value, num_or_size_splits, axis=0, num=None, name=None):
    """Cut ``value`` along ``axis`` into ``n`` equal pieces (an int) or pieces of the given sizes.

    One size may be -1: it takes what the others leave. Returns a list of tensors.
    """
    x = to_tensor(value, op_name="gc.split")
    axis = normalize_single_axis("gc.split", axis, x.ndim)
    sizes = _split_sizes(num_or_size_splits, x.shape, axis)
    if num is not None and num != len(sizes):
        raise InvalidArgumentError(f"gc.split: num={num} but the split gives {len(sizes)} pieces")
    backend, head, start, pieces = x._backend, (slice(None),) * axis, 0, []
    for size in sizes:
        key = head + (slice(start, start + size, 1),)
        pieces.append(run_kernel("gc.split", backend, "slice", x._dtype, x._value, key))
        start += size
    if state.recording:
        record("SplitV", (x,), tuple(pieces), {"axis": axis})
    return pieces


def _split_sizes(spec, shape, axis):
    length = shape[axis]
    spec = spec.numpy().tolist() if hasattr(spec, "numpy") else spec
    if isinstance(spec, (int, np.integer)):
        if spec <= 0 or length % spec:
            raise InvalidArgumentError(
                f"gc.split: cannot split axis {axis} of shape {shape} (size {length}) into {spec} equal pieces"
            )
        return [length // spec] * int(spec)
    sizes = [int(n) for n in spec]
    if sizes.count(-1) > 1 or any(n < -1 for n in sizes):
        raise InvalidArgumentError(f"gc.split: sizes {sizes} may hold at most one -1 and no other negative")
    if -1 in sizes:
        sizes[sizes.index(-1)] = length - (sum(sizes) + 1)
    if sum(sizes) != length or min(sizes, default=0) < 0:
        raise InvalidArgumentError(
            f"gc.split: sizes {list(spec)} do not add up to {length}, the size of axis {axis} of shape {shape}"
        )
    return sizes


@RegisterGradient("SplitV")
def _split_grad(op, *dys):
    """The pieces' gradients joined back together (unused pieces arrive as zeros)."""
    return concat(dys, op.get_attr("axis"))


def stack(values, axis=0, name=None):
    """Join same-shaped tensors along a new ``axis``."""
    tensors = _tensor_list("gc.stack", values)
    shape = tensors[0].shape
    for t in tensors[1:]:
        if t.shape != shape:
            raise ShapeError(f"gc.stack: all tensors must have the same shape, got {shape} and {t.shape}")
    axis = normalize_single_axis("gc.stack", axis, len(shape) + 1)
    backend = tensors[0]._backend
    y = run_kernel("gc.stack", backend, "stack", tensors[0]._dtype, [t._value for t in tensors], axis)
    if state.recording:
        record("Pack", tuple(tensors), (y,), {"axis": axis})
    return y


@RegisterGradient("Pack")
def _stack_grad(op, dy):
    return unstack(dy, axis=op.get_attr("axis"))


def unstack(value, num=None, axis=0, name=None):
    """The slices of ``value`` along ``axis``, each without that axis: the inverse of ``stack``."""
    x = to_tensor(value, op_name="gc.unstack")
    axis = normalize_single_axis("gc.unstack", axis, x.ndim)
    count = x.shape[axis]
    if num is not None and num != count:
        raise InvalidArgumentError(f"gc.unstack: num={num} but axis {axis} of shape {x.shape} has size {count}")
    if count == 0:
        return []
    shape = x.shape[:axis] + x.shape[axis + 1:]
    return [reshape(piece, shape) for piece in split(x, count, axis)]


# ---- tiling and padding ---------------------------------------------------------------------


def tile(input, multiples, name=None):
    """``input`` repeated ``multiples[i]`` times along each axis i."""
    x = to_tensor(input, op_name="gc.tile")
    multiples = _shape_tuple("gc.tile", multiples)
    if len(multiples) != x.ndim or any(m < 0 for m in multiples):
        raise InvalidArgumentError(
            f"gc.tile: multiples {multiples} must hold one non-negative int per axis of the input, "
            f"which has shape {x.shape}"
        )
    backend = x._backend
    y = run_kernel("gc.tile", backend, "tile", x._dtype, x._value, multiples)
    if state.recording:
        record("Tile", (x,), (y,), {"multiples": multiples})
    return y


@RegisterGradient("Tile")
def _tile_grad(op, dy):
    """The copies' gradients summed: dy viewed as (m0, n0, m1, n1, ...), summed over the m axes."""
    shape = op.inputs[0].shape
    interleaved = [n for pair in zip(op.get_attr("multiples"), shape) for n in pair]
    return reduce_sum(reshape(dy, interleaved), axis=tuple(range(0, 2 * len(shape), 2)))


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    """``tensor`` with ``paddings[i] = [before, after]`` elements of ``constant_values`` around axis i."""
    x = to_tensor(tensor, op_name="gc.pad")
    if str(mode).upper() != "CONSTANT":
        raise InvalidArgumentError(
            f"gc.pad: mode {mode!r} is not supported; only mode='CONSTANT' is (REFLECT and SYMMETRIC are not)"
        )
    paddings = _paddings(paddings, x.shape)
    fill = _pad_value(constant_values, x)
    backend = x._backend
    y = run_kernel("gc.pad", backend, "pad", x._dtype, x._value, paddings, fill)
    if state.recording:
        record("PadV2", (x,), (y,), {"paddings": paddings})
    return y


def _paddings(paddings, shape):
    rows = np.asarray(paddings.numpy() if hasattr(paddings, "numpy") else paddings)
    if rows.size == 0 and not shape:
        return ()
    if rows.dtype.kind not in "iu" or rows.shape != (len(shape), 2) or (rows < 0).any():
        raise InvalidArgumentError(
            f"gc.pad: paddings must be non-negative ints of shape [{len(shape)}, 2] (one [before, after] "
            f"per axis of shape {shape}), got {rows.tolist()}"
        )
    return tuple((int(before), int(after)) for before, after in rows)


def _pad_value(value, x):
    fill = to_tensor(value, x._dtype if is_weak(value) else None, x._backend, "gc.pad")
    if fill._dtype is not x._dtype:
        raise DTypeError(
            f"gc.pad: constant_values has dtype {fill._dtype.name} but the tensor has dtype {x._dtype.name}; "
            f"cast it with gc.cast"
        )
    if fill.shape != ():
        raise InvalidArgumentError(f"gc.pad: constant_values must be a scalar, got shape {fill.shape}")
    return fill.numpy().item()


@RegisterGradient("PadV2")
def _pad_grad(op, dy):
    """The gradient is the un-padded middle of dy; none flows into constant_values."""
    paddings = op.get_attr("paddings")
    return getitem(dy, tuple(slice(before, before + n) for (before, _), n in zip(paddings, op.inputs[0].shape)))


# ---- one_hot (a kernel by default, else a composite: equal and where carry its gradient) --


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """``on_value`` where a new ``axis`` of size ``depth`` equals ``indices``, else ``off_value``.

    Indices outside [0, depth) give a row of ``off_value``, as ``tf.one_hot``. The
    dtype is ``dtype``, else that of ``on_value``/``off_value``, else float32.
    """
    idx = to_tensor(indices, op_name="gc.one_hot")
    if not idx._dtype.is_integer:
        raise DTypeError(f"gc.one_hot: indices must be integers, got dtype {idx._dtype.name}")
    depth = int(depth)
    if depth < 0:
        raise InvalidArgumentError(f"gc.one_hot: depth must be non-negative, got {depth}")
    dtype = _one_hot_dtype(on_value, off_value, dtype)
    axis = normalize_single_axis("gc.one_hot", -1 if axis is None else axis, idx.ndim + 1)
    backend = idx._backend
    if on_value is None and off_value is None and axis == idx.ndim:
        # One kernel; its contract gives indices out of range a row of zeros, as here.
        return run_kernel("gc.one_hot", backend, "one_hot", dtype, idx._value, depth, dtype)
    on = _one_hot_value("on_value", 1 if on_value is None else on_value, dtype, idx)
    off = _one_hot_value("off_value", 0 if off_value is None else off_value, dtype, idx)
    positions = run_kernel("gc.one_hot", backend, "arange", idx._dtype, 0, depth, 1, idx._dtype, backend.device_of(idx._value))
    positions = reshape(positions, [depth if i == axis else 1 for i in range(idx.ndim + 1)])
    return where(equal(expand_dims(idx, axis), positions), on, off)


def _one_hot_dtype(on_value, off_value, dtype):
    if dtype is not None:
        return dtypes.as_dtype(dtype)
    given = [v for v in (on_value, off_value) if v is not None]
    typed = [v for v in given if not is_weak(v)]
    if typed:
        return dtypes.as_dtype(typed[0].dtype)
    return infer_dtype(given[0]) if given else dtypes.float32


def _one_hot_value(label, value, dtype, idx):
    t = to_tensor(value, dtype if is_weak(value) else None, idx._backend, "gc.one_hot")
    if t._dtype is not dtype:
        raise DTypeError(f"gc.one_hot: {label} has dtype {t._dtype.name} but the result dtype is {dtype.name}")
    return t
