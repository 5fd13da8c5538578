"""What ops check before any kernel runs: operand conversion, dtype kinds, shapes, axes, index ranges.

The core, not the backend, decides every dtype and shape rule (NumPy, PyTorch and JAX
disagree), so these checks give the same answer and the same error on every backend.
"""

import functools
import operator
import os

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.convert import is_weak, to_tensor
from gradcore.engine.sizes import Size
from gradcore.engine.tensor import Tensor
from gradcore.errors import BackendError, DTypeError, InvalidArgumentError, ResourceExhaustedError, ShapeError
from gradcore.ops.kernels import check_on_host

FLOAT = frozenset({"float"})
NUMERIC = frozenset({"float", "int", "uint"})
ANY = frozenset({"float", "int", "uint", "bool"})
BOOL = frozenset({"bool"})
_KIND_WORDS = {FLOAT: "floating-point", NUMERIC: "numeric", BOOL: "bool", ANY: "any"}


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
        if not -ndim <= a < ndim:
            raise InvalidArgumentError(f"{api}: axis {a} is out of range for a tensor of rank {ndim}")
        result.append(a % ndim)
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


def dimension(n):
    """``n`` as a size: an int, or a Size (an unknown size of a gc.function trace) kept as it is."""
    return n if type(n) is Size else operator.index(n)


def shape_tuple(api, shape):
    """``shape`` (an int, a sequence of ints or an integer Tensor) as a tuple of non-negative ints."""
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(map(dimension, shape.numpy().tolist() if hasattr(shape, "numpy") else shape))
    except TypeError:
        raise InvalidArgumentError(f"{api}: shape must be an int or a sequence of ints, got {shape!r}") from None
    if any(n < 0 for n in shape):
        raise InvalidArgumentError(f"{api}: shape {shape} has a negative dimension")
    return shape


def check_in_range(api, indices, size, noun, meaning):
    """Every value of integer tensor ``indices`` in [0, size), checked on the host.

    Backends disagree about bad indices (jax clamps silently, torch and NumPy raise their
    own errors), so the core checks and every backend raises this same error; inside
    ``gc.function`` the check runs at every call (docs/function.md, "Host checks").
    """
    check_on_host(functools.partial(_refuse_out_of_range, api, size, noun, meaning), indices)


def _refuse_out_of_range(api, size, noun, meaning, values):
    bad = (values < 0) | (values >= size)
    if bad.any():
        position = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidArgumentError(
            f"{api}: {noun} {values[position]} at position {position} is out of range: {meaning}, "
            f"so it must be in [0, {size})"
        )


def new_shape(api, shape, dtype, backend, device, itemsize=None):
    """``shape_tuple(api, shape)`` for a tensor about to be made, refused if it cannot fit in memory.

    Asking a backend for an absurd size can abort the process (XLA does) instead of raising,
    so the core refuses first wherever it knows the device's capacity. ``itemsize`` is the bytes
    per element when the values are made in another dtype first (random draws: float64 on the host).
    """
    shape = shape_tuple(api, shape)
    size = 1
    for n in shape:
        size *= n
    nbytes = size * (itemsize or dtype.itemsize)
    device = device or backend.default_device()
    capacity = _capacity(backend, device)
    if capacity is not None and nbytes > capacity:
        raise ResourceExhaustedError(
            f"{api}: a {dtype.name} tensor of shape {shape} needs {nbytes / 2**30:.4g} GiB, more than the "
            f"{capacity / 2**30:.4g} GiB of {device} memory ({backend.name} backend); use a smaller shape"
        )
    return shape


def _capacity(backend, device):
    capacity = backend.memory_capacity(device)
    if capacity is None and device == "cpu":
        return _host_memory()
    return capacity


@functools.lru_cache(maxsize=1)
def _host_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: no limit the core can know
        return None
