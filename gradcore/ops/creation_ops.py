"""Tensors made from nothing but a shape: zeros, ones, fill, range, eye and the *_like ops; and linspace.

They record nothing: their outputs depend on no differentiable input. The exception is
``linspace``, whose ends may be tensors: it is composed of ops that record, so it is
differentiable in them.
"""

import builtins

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.convert import check_fits, current_device, infer_dtype, is_weak, to_tensor
from gradcore.engine.tensor import Tensor
from gradcore.errors import InvalidArgumentError
from gradcore.ops.array_ops import broadcast_to, concat, expand_dims, reshape
from gradcore.ops.kernels import run_kernel
from gradcore.ops.math_ops import add, cast, divide, multiply, subtract
from gradcore.ops.operands import (
    FLOAT, broadcast_shape, check_kind, new_shape, normalize_single_axis, operands, shape_tuple,
)
from gradcore.plugin import discovery as plugins


def constant(value, dtype=None, shape=None, name=None):
    """A Tensor holding ``value``, as ``tf.constant``: cast to ``dtype``, broadcast to ``shape``."""
    if isinstance(value, Tensor) or hasattr(value, "_read"):
        tensor = to_tensor(value, op_name="gc.constant")
        if dtype is not None:
            tensor = cast(tensor, dtype)
    else:
        target = None if dtype is None else dtypes.as_dtype(dtype)
        if target is not None and not is_weak(value) and isinstance(value, (np.ndarray, np.generic)):
            value = np.asarray(value).astype(target.as_numpy_dtype)
        elif isinstance(value, np.ndarray):
            value = value.copy()  # a tensor is immutable, so it must not share the caller's array
        elif target is not None and is_weak(value) and not target.is_floating:
            check_fits(value, target, "gc.constant")
        tensor = to_tensor(value, target, op_name="gc.constant")
    if shape is not None:
        shape = shape_tuple("gc.constant", shape)
        if tensor.shape != shape:
            tensor = broadcast_to(tensor, shape)
    return tensor


def fill(dims, value, name=None, dtype=None):
    """A tensor of shape ``dims`` filled with the scalar ``value`` (a number or scalar tensor)."""
    if np.ndim(value) != 0:
        raise InvalidArgumentError(f"gc.fill: value must be a scalar, got shape {np.shape(value)}")
    if dtype is None:
        dtype = dtypes.as_dtype(value.dtype) if hasattr(value, "dtype") else infer_dtype(value)
    return _filled("gc.fill", "full", dims, dtype, _scalar_of(value))


def zeros(shape, dtype=dtypes.float32, name=None):
    return _filled("gc.zeros", "zeros", shape, dtype)


def ones(shape, dtype=dtypes.float32, name=None):
    return _filled("gc.ones", "ones", shape, dtype)


def _filled(api, kernel, shape, dtype, *value):
    backend, dtype, device = plugins.get_backend(), dtypes.as_dtype(dtype), current_device()
    shape = new_shape(api, shape, dtype, backend, device)
    if kernel == "full":
        return run_kernel(api, backend, kernel, dtype, shape, *value, dtype, device)
    return run_kernel(api, backend, kernel, dtype, shape, dtype, device)


def _like(api, kernel, input, dtype):
    x = to_tensor(input, op_name=api)
    dtype = x._dtype if dtype is None else dtypes.as_dtype(dtype)
    backend = x._backend
    return run_kernel(api, backend, kernel, dtype, tuple(x._value.shape), dtype, backend.device_of(x._value))


def zeros_like(input, dtype=None, name=None):
    """Zeros with the shape (and by default dtype) of ``input``."""
    return _like("gc.zeros_like", "zeros", input, dtype)


def ones_like(input, dtype=None, name=None):
    """Ones with the shape (and by default dtype) of ``input``."""
    return _like("gc.ones_like", "ones", input, dtype)


def range(start, limit=None, delta=1, dtype=None, name="range"):
    """``[start, start+delta, ...)`` up to ``limit``; ``range(n)`` counts from 0, as ``tf.range``.

    Without ``dtype`` the widest argument dtype wins in TensorFlow's order int32 < int64 <
    float16 < bfloat16 < float32 < float64 (Python ints are int32, Python floats float32).
    """
    if limit is None:
        start, limit = 0, start
    args = (start, limit, delta)
    dtype = _range_dtype(args) if dtype is None else dtypes.as_dtype(dtype)
    start, limit, delta = (_scalar_of(v) for v in args)
    if delta == 0:
        raise InvalidArgumentError("gc.range: delta must not be 0")
    if (delta > 0 and start > limit) or (delta < 0 and start < limit):
        raise InvalidArgumentError(
            f"gc.range: start {start} is {'above' if delta > 0 else 'below'} limit {limit} but delta is "
            f"{delta}; the sequence would never reach the limit (as tf.range, this is an error)"
        )
    backend = plugins.get_backend()
    return run_kernel("gc.range", backend, "arange", dtype, start, limit, delta, dtype, current_device())


_RANGE_ORDER = (dtypes.int32, dtypes.int64, dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64)


def _range_dtype(args):
    found = [dtypes.as_dtype(v.dtype) if hasattr(v, "dtype") else infer_dtype(v) for v in args]
    unsupported = [d.name for d in found if d not in _RANGE_ORDER]
    if unsupported:
        raise InvalidArgumentError(f"gc.range: cannot infer a dtype from arguments of dtype {unsupported}; pass dtype=")
    return max(found, key=_RANGE_ORDER.index)


def _scalar_of(value):
    """A Python number from a Python number, NumPy scalar, or scalar Tensor/Variable."""
    return np.asarray(value).item()


def eye(num_rows, num_columns=None, batch_shape=None, dtype=dtypes.float32, name=None):
    """An identity matrix, ``num_rows`` x ``num_columns`` (square by default), repeated over ``batch_shape``."""
    num_columns = num_rows if num_columns is None else num_columns
    num_rows, num_columns = int(num_rows), int(num_columns)
    if num_rows < 0 or num_columns < 0:
        raise InvalidArgumentError(f"gc.eye: sizes must be non-negative, got {num_rows} x {num_columns}")
    backend, dtype = plugins.get_backend(), dtypes.as_dtype(dtype)
    matrix = run_kernel("gc.eye", backend, "eye", dtype, num_rows, num_columns, dtype, current_device())
    if batch_shape is None:
        return matrix
    return broadcast_to(matrix, shape_tuple("gc.eye", batch_shape) + (num_rows, num_columns))


def linspace(start, stop, num, name=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop``, both included, as ``tf.linspace``.

    ``start`` and ``stop`` are floats (Python numbers become float32) and may be tensors that
    broadcast: the values then run along a new ``axis`` of the result. As TensorFlow, the ends are
    ``start`` and ``stop`` exactly and the inside points ``start + i * (stop - start) / (num - 1)``;
    the result is differentiable in ``start`` and ``stop``.
    """
    api = "gc.linspace"
    if is_weak(start) and is_weak(stop):
        start = to_tensor(start, dtypes.float32, op_name=api)
    first, last = operands(start, stop, api)
    check_kind(api, first, FLOAT)
    num = int(num)
    if num < 0:
        raise InvalidArgumentError(f"{api}: num must be non-negative, got {num}")
    shape = broadcast_shape(first.shape, last.shape, api)
    first, last = broadcast_to(first, shape), broadcast_to(last, shape)
    axis = normalize_single_axis(api, axis, len(shape) + 1)
    first, last = expand_dims(first, axis), expand_dims(last, axis)
    if num <= 1:
        return first if num == 1 else first[(slice(None),) * axis + (slice(0, 0),)]
    backend, dtype = first._backend, first._dtype
    steps = run_kernel(api, backend, "arange", dtype, 1, num - 1, 1, dtype, first.device)
    steps = reshape(steps, [-1 if i == axis else 1 for i in builtins.range(len(shape) + 1)])
    inside = add(first, multiply(steps, divide(subtract(last, first), num - 1)))
    return concat([first, inside, last], axis)


lin_space = linspace
