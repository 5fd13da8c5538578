"""Turning Python values, NumPy arrays and Variables into Tensors.

Python scalars and nested lists of them are *weakly typed*: when an op meets
one beside a tensor it takes that tensor's dtype (``x * 2.0`` stays float32).
On their own they get TensorFlow's defaults: float32, int32, bool. NumPy
arrays and scalars keep their dtype (``np.float64(1)`` is float64).
"""

import contextlib
import re
import threading

import numpy as np

from gradcore.engine import dtypes, thread_state
from gradcore.engine.tensor import Tensor
from gradcore.errors import DTypeError, InvalidArgumentError
from gradcore.ops.kernels import call_kernel, run_kernel
from gradcore.plugin import discovery as plugins


def is_weak(value):
    """Python scalars and lists/tuples of them: they adapt to the other operand's dtype."""
    if isinstance(value, (bool, int, float)) and not isinstance(value, np.generic):
        return True
    if isinstance(value, (list, tuple)):
        return all(is_weak(v) for v in value)
    return False


def infer_dtype(value, op_name="gc.constant"):
    """The dtype ``gc.constant(value)`` gives when no dtype is asked for."""
    if isinstance(value, (np.ndarray, np.generic)):
        return dtypes.as_dtype(value.dtype)
    if isinstance(value, (list, tuple)):
        kinds = {infer_dtype(v, op_name) for v in _leaves(value)}
        for candidate in (dtypes.float32, dtypes.int64, dtypes.int32, dtypes.bool_):
            if candidate in kinds:
                return candidate
        return dtypes.float32 if not kinds else kinds.pop()
    dtype = dtypes.default_dtype_of_python(value)
    if dtype is None:
        raise DTypeError(
            f"{op_name}: cannot convert {value!r} (of type {type(value).__name__!r}) to a gradcore Tensor; "
            f"pass a Python number, a (nested) list of numbers, a NumPy array or a Tensor "
            f"(gradcore has no string tensors)"
        )
    if dtype is dtypes.int64 and not -2**63 <= value < 2**63:
        raise InvalidArgumentError(f"{op_name}: the Python int {value} does not fit in int64, the widest integer dtype")
    return dtype


def _leaves(value):
    for v in value:
        if isinstance(v, (list, tuple)):
            yield from _leaves(v)
        else:
            yield v


def check_fits(value, dtype, op_name):
    """A weak Python value may adopt ``dtype`` only if it keeps its meaning: no float to int, no wrap-around."""
    if dtype.is_floating:
        return
    for v in _leaves(value) if isinstance(value, (list, tuple)) else (value,):
        if isinstance(v, float):
            raise DTypeError(f"{op_name}: cannot convert {v!r} to a tensor of dtype {dtype.name}")
        if dtype.is_bool and not isinstance(v, bool):
            raise DTypeError(f"{op_name}: cannot convert {v!r} to a tensor of dtype bool")
        if dtype.is_integer:
            low, high = dtypes.integer_range(dtype)
            if not low <= v <= high:
                raise DTypeError(
                    f"{op_name}: cannot convert {v!r} to a tensor of dtype {dtype.name}: out of its range "
                    f"[{low}, {high}]"
                )


# Raw arrays of Python scalars met by ops (the 2.0 in x * 2.0), per dtype, backend and device.
# Sharing them is safe because nothing mutates a raw array in place (the kernel contract, gradcore/plugin/contract.py).
_scalar_arrays = {}
_SCALAR_CACHE_SIZE = 1024
# Off while a gc.function relaxed trace runs: there every number must reach the kernel that makes
# its array, for the tracer to see (gradcore/function/relaxed_shapes.py).
scalar_cache_on = True


def _scalar_tensor(value, dtype, backend, op_name):
    t = type(value)
    if dtype is None:
        dtype = infer_dtype(value, op_name)
    elif not dtype.is_floating:
        check_fits(value, dtype, op_name)
    device = current_device()
    # 0.0 and -0.0 are equal as keys but not as values; NaN never equals itself: don't cache them.
    cacheable = scalar_cache_on and value == value and (value or t is not float)
    key = (t, value, dtype, backend, device)
    raw = _scalar_arrays.get(key) if cacheable else None
    if raw is None:
        raw = call_kernel(op_name, backend, "asarray", value, dtype, device)
        if cacheable:
            if len(_scalar_arrays) >= _SCALAR_CACHE_SIZE:
                _scalar_arrays.clear()
            _scalar_arrays[key] = raw
    return Tensor(raw, dtype, backend)


def _check_rectangular(value, op_name):
    """Nested lists must form a box: every list at one depth of the same length, as TensorFlow requires."""
    if not _has_box_shape(value):
        raise InvalidArgumentError(
            f"{op_name}: cannot convert {value!r} to a tensor: the nested lists are ragged (lists at one "
            f"depth differ in length, or mix lists and numbers); gradcore has no ragged tensors"
        )


def _has_box_shape(value):
    if not isinstance(value, (list, tuple)):
        return True
    nested = [isinstance(v, (list, tuple)) for v in value]
    if not any(nested):
        return True
    if not all(nested) or len({len(v) for v in value}) != 1:
        return False
    return all(_has_box_shape(v) for v in value)


def to_tensor(value, dtype=None, backend=None, op_name="convert_to_tensor"):
    """The op-side conversion: Tensor unchanged, Variable read, anything else made constant."""
    t = type(value)
    if t is Tensor:
        return value
    if t is float or t is int or t is bool:
        return _scalar_tensor(value, dtype, backend or plugins.get_backend(), op_name)
    read = getattr(value, "_read", None)
    if read is not None:
        return read()
    if isinstance(value, Tensor):
        return value
    backend = backend or plugins.get_backend()
    if isinstance(value, (list, tuple)):
        _check_rectangular(value, op_name)
    if dtype is None:
        dtype = infer_dtype(value, op_name)
    elif is_weak(value):
        check_fits(value, dtype, op_name)
    elif isinstance(value, (np.ndarray, np.generic)) and dtypes.as_dtype(value.dtype) is not dtype:
        raise DTypeError(
            f"{op_name}: NumPy value of dtype {value.dtype} where {dtype.name} is needed; "
            f"convert it explicitly with gc.constant(value, dtype=gc.{dtype.name})"
        )
    return run_kernel(op_name, backend, "asarray", dtype, value, dtype, current_device())


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """``tf.convert_to_tensor``: a Tensor of ``value`` without copying tensors."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
        tensor = to_tensor(value, dtype if is_weak(value) else None)
        if tensor.dtype is not dtype:
            raise DTypeError(
                f"convert_to_tensor: requested dtype {dtype.name} for a value of dtype "
                f"{tensor.dtype.name}; use gc.cast to change dtypes"
            )
        return tensor
    if dtype_hint is not None and is_weak(value):
        hint = dtypes.as_dtype(dtype_hint)
        try:
            check_fits(value, hint, "convert_to_tensor")
            return to_tensor(value, hint)
        except DTypeError:
            pass
    return to_tensor(value)


# ---- devices ---------------------------------------------------------------------------

class _DeviceScopes(threading.local):
    def __init__(self):
        self.stack = []


_device_scopes = _DeviceScopes()
thread_state.attribute(_device_scopes, "stack", list)
_TF_SPELLING = re.compile(r"^/?(?:job:[^/]+/)?(?:replica:\d+/)?(?:task:\d+/)?(?:device:)?(cpu|gpu|tpu)(?::(\d+))?$", re.IGNORECASE)


def canonical_device(name):
    """'/GPU:0', 'gpu:0', 'cuda' and 'cuda:0' all name 'cuda:0'; 'CPU:0' is 'cpu', 'CPU:1' 'cpu:1'."""
    text = str(name).strip()
    match = _TF_SPELLING.match(text)
    if match:
        kind, index = match.group(1).lower(), int(match.group(2) or 0)
        if kind == "cpu":
            return "cpu" if index == 0 else f"cpu:{index}"
        return f"{'cuda' if kind == 'gpu' else 'tpu'}:{index}"
    lowered = text.lower()
    if lowered in ("cuda", "tpu"):
        return f"{lowered}:0"
    return lowered


def available_device(name, api):
    """The current backend's device that ``name`` names. "/cpu:1" ... are logical CPUs, as in TensorFlow:
    a backend's extra host device where it has one (jax with several host devices), else the host."""
    canonical = canonical_device(name)
    backend = plugins.get_backend()
    available = backend.devices()
    if canonical not in available and canonical.startswith("cpu:"):
        canonical = "cpu"
    if canonical not in available:
        raise InvalidArgumentError(
            f"{api}: backend {backend.name!r} has no device {name!r} (read as {canonical!r}); its devices "
            f"are {available}")
    return canonical


def current_device():
    """The device named by the innermost ``gc.device`` scope, else None (backend default)."""
    return _device_scopes.stack[-1] if _device_scopes.stack else None


@contextlib.contextmanager
def device(name):
    """Place tensors created inside the block on ``name`` ("cpu", "cuda:0", "/GPU:0" ...)."""
    canonical = available_device(name, "gc.device")
    _device_scopes.stack.append(canonical)
    try:
        yield canonical
    finally:
        _device_scopes.stack.pop()
