"""Tensors made from nothing but a shape: zeros, ones, fill, range, eye and the *_like ops.

They record nothing: their outputs depend on no differentiable input.
"""

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.convert import current_device, infer_dtype, to_tensor
from gradcore.errors import InvalidArgumentError
from gradcore.ops.array_ops import broadcast_to
from gradcore.ops.dispatch import shape_tuple, wrap
from gradcore.plugin import discovery as plugins


def fill(dims, value, name=None, dtype=None):
    """A tensor of shape ``dims`` filled with the scalar ``value`` (a number or scalar tensor)."""
    if np.ndim(value) != 0:
        raise InvalidArgumentError(f"gc.fill: value must be a scalar, got shape {np.shape(value)}")
    if dtype is None:
        dtype = dtypes.as_dtype(value.dtype) if hasattr(value, "dtype") else infer_dtype(value)
    backend, dtype = plugins.get_backend(), dtypes.as_dtype(dtype)
    return wrap(backend.full(shape_tuple("gc.fill", dims), _scalar_of(value), dtype, current_device()), dtype, backend)


def zeros(shape, dtype=dtypes.float32, name=None):
    backend, dtype = plugins.get_backend(), dtypes.as_dtype(dtype)
    return wrap(backend.zeros(shape_tuple("gc.zeros", shape), dtype, current_device()), dtype, backend)


def ones(shape, dtype=dtypes.float32, name=None):
    backend, dtype = plugins.get_backend(), dtypes.as_dtype(dtype)
    return wrap(backend.ones(shape_tuple("gc.ones", shape), dtype, current_device()), dtype, backend)


def _like(api, kernel, input, dtype):
    x = to_tensor(input, op_name=api)
    dtype = x._dtype if dtype is None else dtypes.as_dtype(dtype)
    backend = x._backend
    return wrap(getattr(backend, kernel)(tuple(x._value.shape), dtype, backend.device_of(x._value)), dtype, backend)


def zeros_like(input, dtype=None, name=None):  # noqa: A002 - TensorFlow's name
    """Zeros with the shape (and by default dtype) of ``input``."""
    return _like("gc.zeros_like", "zeros", input, dtype)


def ones_like(input, dtype=None, name=None):  # noqa: A002 - TensorFlow's name
    """Ones with the shape (and by default dtype) of ``input``."""
    return _like("gc.ones_like", "ones", input, dtype)


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001 - TensorFlow's name
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
    return wrap(backend.arange(start, limit, delta, dtype, current_device()), dtype, backend)


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
    matrix = wrap(backend.eye(num_rows, num_columns, dtype, current_device()), dtype, backend)
    if batch_shape is None:
        return matrix
    return broadcast_to(matrix, shape_tuple("gc.eye", batch_shape) + (num_rows, num_columns))
