"""The shared machinery of ops: operand conversion, shape rules, op factories.

Every op does the same four things: convert its inputs, apply the core's
dtype and shape rules (never the backend's), call ONE backend kernel, wrap the
result and, only if some tape is recording, note the op. The factories here
build the common shapes of op so each op is one line; ``unbroadcast`` is the
one helper every broadcasting rule uses to undo broadcasting.
"""

import functools
import operator

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.convert import is_weak, to_tensor
from gradcore.engine.recording import record, state
from gradcore.engine.tensor import Tensor
from gradcore.errors import BackendError, DTypeError, GradcoreError, InvalidArgumentError, ShapeError

FLOAT = frozenset({"float"})
NUMERIC = frozenset({"float", "int", "uint"})
ANY = frozenset({"float", "int", "uint", "bool"})
BOOL = frozenset({"bool"})
_KIND_WORDS = {FLOAT: "floating-point", NUMERIC: "numeric", BOOL: "bool", ANY: "any"}


def wrap(raw, dtype, backend):
    return Tensor(raw, dtype, backend)


def check_kind(api, tensor, kinds):
    if tensor._dtype.kind not in kinds:
        raise DTypeError(
            f"{api}: expected a {_KIND_WORDS.get(kinds, 'supported')} tensor, got dtype "
            f"{tensor._dtype.name} with shape {tensor.shape}; cast it with gc.cast"
        )


def operands(x, y, api):
    """Two op inputs as Tensors of one dtype and backend; weak Python values adapt."""
    if type(x) is Tensor and type(y) is Tensor:
        if x._dtype is not y._dtype:
            _mismatch(api, x, y)
        if x._backend is not y._backend:
            _mixed_backends(api, x, y)
        return x, y
    if is_weak(x) and not is_weak(y):
        y = to_tensor(y, op_name=api)
        x = to_tensor(x, y._dtype, y._backend, api)
    else:
        x = to_tensor(x, op_name=api)
        y = to_tensor(y, x._dtype if is_weak(y) else None, x._backend, api)
    if x._dtype is not y._dtype:
        _mismatch(api, x, y)
    if x._backend is not y._backend:
        _mixed_backends(api, x, y)
    return x, y


def same_backend(api, tensors):
    backend = tensors[0]._backend
    for t in tensors[1:]:
        if t._backend is not backend:
            _mixed_backends(api, tensors[0], t)
    return backend


def _mismatch(api, x, y):
    dtypes.result_dtype(f"{api} (shapes {x.shape} and {y.shape})", x._dtype, y._dtype)


def _mixed_backends(api, x, y):
    raise BackendError(
        f"{api}: inputs live on different backends ({x._backend.name} and {y._backend.name}); "
        f"move one with gc.constant(x.numpy()) inside gc.backend_scope(...)"
    )


@functools.lru_cache(maxsize=4096)
def broadcast_shape(a, b, api):
    """NumPy's broadcast of shapes ``a`` and ``b``, or a ShapeError naming the op."""
    result = []
    for i in range(1, max(len(a), len(b)) + 1):
        m = a[-i] if i <= len(a) else 1
        n = b[-i] if i <= len(b) else 1
        if m != n and m != 1 and n != 1:
            raise ShapeError(f"{api}: incompatible shapes {a} and {b} (dimension {-i}: {m} vs {n})")
        result.append(n if m == 1 else m)
    return tuple(reversed(result))


def normalize_axis(api, axis, ndim):
    """``axis`` (None, int or sequence) as a sorted tuple of non-negative ints, or None."""
    if axis is None:
        return None
    # A scalar (int, NumPy or Tensor) is one axis; anything else, a vector Tensor too, a sequence.
    # operator.index, not int(): an axis of 1.5 is an error, not axis 1.
    try:
        if isinstance(axis, int) or (hasattr(axis, "__index__") and getattr(axis, "ndim", 0) == 0):
            axes = (operator.index(axis),)
        else:
            axes = [operator.index(a) for a in axis]
    except TypeError:
        raise DTypeError(f"{api}: axis must be an int or a sequence of ints, got {axis!r}") from None
    result = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise InvalidArgumentError(f"{api}: axis {a} is out of range for a tensor of rank {ndim}")
        result.append(a % ndim if ndim else 0)
    if len(set(result)) != len(result):
        raise InvalidArgumentError(f"{api}: repeated axis in {axis}")
    return tuple(sorted(result))


def normalize_single_axis(api, axis, ndim):
    try:
        axis = operator.index(axis)
    except TypeError:
        raise DTypeError(f"{api}: axis must be an int, got {axis!r}") from None
    if not -ndim <= axis < ndim:
        raise InvalidArgumentError(f"{api}: axis {axis} is out of range for a tensor of rank {ndim}")
    return axis % ndim


def kernel_failed(api, inputs, exc):
    """The gradcore error for a kernel that raised: one class on every backend, naming the op.

    The core checks dtypes and shapes before it calls a kernel, so what is left is
    what only the backend can see: inputs on different devices, a dtype a device
    cannot compute, an array too large for memory.
    """
    backend = inputs[0]._backend
    devices = sorted({backend.device_of(t._value) for t in inputs})
    described = ", ".join(f"{t._dtype.name}{tuple(t._value.shape)}" for t in inputs)
    if len(devices) > 1:
        return InvalidArgumentError(
            f"{api}: inputs {described} are on different devices ({', '.join(devices)}); put them on one "
            f"device first, e.g. with gc.device('{devices[0]}'): x = gc.identity(x)"
        )
    return InvalidArgumentError(
        f"{api}: backend {backend.name!r} failed on inputs {described} on {devices[0]}: "
        f"{type(exc).__name__}: {exc}"
    )


class kernel_errors:
    """Context manager: a backend exception inside becomes ``kernel_failed``'s gradcore error."""

    __slots__ = ("api", "inputs")

    def __init__(self, api, *inputs):
        self.api = api
        self.inputs = inputs

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is not None and issubclass(exc_type, Exception) and not issubclass(exc_type, GradcoreError):
            raise kernel_failed(self.api, self.inputs, exc) from exc
        return False


def unary_op(op_type, kernel, kinds=FLOAT, result_dtype=None, api=None, doc=None):
    """An elementwise op of one input whose kernel is ``backend.<kernel>``."""
    api = api or f"gc.{kernel}"

    def op(x, name=None):
        if type(x) is not Tensor:
            x = to_tensor(x, op_name=api)
        if x._dtype.kind not in kinds:
            check_kind(api, x, kinds)
        backend = x._backend
        try:  # free unless a kernel raises (zero-cost exceptions, Python 3.11)
            raw = getattr(backend, kernel)(x._value)
        except GradcoreError:  # already ours (e.g. from gc.debugging's checks): keep it
            raise
        except Exception as exc:
            raise kernel_failed(api, (x,), exc) from exc
        y = Tensor(raw, result_dtype or x._dtype, backend)
        if state.recording:
            record(op_type, (x,), (y,))
        return y

    op.__name__ = op.__qualname__ = api.rsplit(".", 1)[-1]
    op.__doc__ = doc
    return op


def binary_op(op_type, kernel, kinds=NUMERIC, result_dtype=None, api=None, doc=None):
    """An elementwise op of two broadcasting inputs whose kernel is ``backend.<kernel>``."""
    api = api or f"gc.{kernel}"

    def op(x, y, name=None):
        x, y = operands(x, y, api)
        if x._dtype.kind not in kinds:
            check_kind(api, x, kinds)
        xv, yv = x._value, y._value
        if xv.shape != yv.shape:
            broadcast_shape(tuple(xv.shape), tuple(yv.shape), api)
        backend = x._backend
        try:
            raw = getattr(backend, kernel)(xv, yv)
        except GradcoreError:  # already ours (e.g. from gc.debugging's checks): keep it
            raise
        except Exception as exc:
            raise kernel_failed(api, (x, y), exc) from exc
        z = Tensor(raw, result_dtype or x._dtype, backend)
        if state.recording:
            record(op_type, (x, y), (z,))
        return z

    op.__name__ = op.__qualname__ = api.rsplit(".", 1)[-1]
    op.__doc__ = doc
    return op


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the adjoint of broadcasting ``shape`` up to grad's shape."""
    grad_shape = tuple(grad._value.shape)
    shape = tuple(shape)
    if grad_shape == shape:
        return grad
    from gradcore.ops.array_ops import reshape
    from gradcore.ops.reduction_ops import reduce_sum

    lead = len(grad_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and grad_shape[i + lead] != 1
    )
    summed = reduce_sum(grad, axes) if axes else grad
    return reshape(summed, shape)


def backward_op(op_type, kernel):
    """A backward op f(y, dy): a derivative computed from the forward output by one kernel (DESIGN.md 2)."""

    def op(y, dy):
        backend = y._backend
        z = Tensor(getattr(backend, kernel)(y._value, dy._value), dy._dtype, backend)
        if state.recording:
            record(op_type, (y, dy), (z,))
        return z

    op.__name__ = op.__qualname__ = kernel
    return op


def shape_tuple(api, shape):
    """``shape`` (an int, a sequence of ints or an integer Tensor) as a tuple of non-negative ints."""
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(operator.index(n) for n in (shape.numpy().tolist() if hasattr(shape, "numpy") else shape))
    except TypeError:
        raise InvalidArgumentError(f"{api}: shape must be an int or a sequence of ints, got {shape!r}") from None
    if any(n < 0 for n in shape):
        raise InvalidArgumentError(f"{api}: shape {shape} has a negative dimension")
    return shape


def check_in_range(api, indices, size, noun, meaning):
    """Every value of integer tensor ``indices`` in [0, size), checked on the host.

    Backends disagree about bad indices (jax clamps silently, torch and NumPy raise their
    own errors), so the core checks and every backend raises this same error.
    """
    values = indices.numpy()
    bad = (values < 0) | (values >= size)
    if bad.any():
        position = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidArgumentError(
            f"{api}: {noun} {values[position]} at position {position} is out of range: {meaning}, "
            f"so it must be in [0, {size})"
        )
