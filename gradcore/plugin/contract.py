"""The kernel contract every backend implements.

A backend is a ``Backend`` subclass: one object whose methods are the array
kernels. Kernels take and return the backend's raw arrays (``np.ndarray``,
``torch.Tensor``, ``jax.Array``) plus plain Python values; they never see a
gradcore Tensor, never record anything, and never decide a dtype or a shape
rule: the core has done that before it calls them. Raw arrays must expose a
``.shape`` that compares equal to a tuple of ints. Kernels never modify an
input array in place: the core shares raw arrays between tensors (a variable's
reads, cached scalar constants) on that promise.

Required kernels are abstract. Optional kernels have composite defaults here,
written with the required ones; a backend overrides them only for speed. The
composites stay tested: ``gc.force_composites()`` (or GRADCORE_FORCE_COMPOSITES=1)
runs every op on them, through a ``CompositeView`` of the backend.

A backend that cannot provide a kernel or a dtype says so instead of failing at
random: ``unsupported_kernels`` names the kernels it lacks and ``dtypes`` the
dtypes it has. Calling a declared-missing kernel, or making an array of an
undeclared dtype, raises ``UnimplementedError`` with the gap attached, which the
conformance suite counts as unsupported (docs/writing-a-backend.md).
"""

import abc
import types

import numpy as np

from gradcore.errors import UnimplementedError
from gradcore.plugin import indexing_composites, linalg_composites, math_composites, nn_composites
from gradcore.plugin.indexing_composites import IndexingComposites
from gradcore.plugin.linalg_composites import LinalgComposites
from gradcore.plugin.math_composites import MathComposites
from gradcore.plugin.nn_composites import NNComposites
from gradcore.plugin.optimizer_composites import OptimizerComposites
from gradcore.plugin.window_composites import WindowComposites


class NeedsConcreteValues(Exception):
    """Raised by ``Backend.trace_abstractly`` when the traced code needs values an abstract trace lacks."""


ALL_DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")

#: The kernels that make an array of a dtype they are given: where an undeclared dtype is refused.
_DTYPE_MAKERS = {"asarray": 1, "full": 2, "arange": 3, "eye": 2, "cast": 1, "zeros": 1, "ones": 1}


class Backend(
    MathComposites, LinalgComposites, IndexingComposites, NNComposites, WindowComposites, OptimizerComposites, abc.ABC
):
    """Base class of backends. Subclasses set ``name`` and implement the kernels."""

    name = "abstract"
    #: dtype names this backend supports; making an array of another raises UnimplementedError.
    dtypes = ALL_DTYPES
    #: kernels (required or optional) this backend does not provide; calling one raises UnimplementedError.
    unsupported_kernels = ()

    def __init_subclass__(cls, **kwargs):
        """Install the declared gaps: done once per class, so a backend without gaps pays nothing per call."""
        super().__init_subclass__(**kwargs)
        for kernel in cls.unsupported_kernels:
            setattr(cls, kernel, _missing_kernel(kernel))
        missing_dtypes = frozenset(ALL_DTYPES) - frozenset(cls.dtypes)
        if missing_dtypes:
            for kernel, position in _DTYPE_MAKERS.items():
                method = getattr(cls, kernel)
                if not getattr(method, "_refuses_dtypes", False) and kernel not in cls.unsupported_kernels:
                    setattr(cls, kernel, _refusing_dtypes(method, kernel, position, missing_dtypes))

    # ---- capabilities ---------------------------------------------------------------

    @abc.abstractmethod
    def devices(self):
        """The devices this backend can place arrays on, e.g. ``["cpu", "cuda:0"]``."""

    def default_device(self):
        """The device new arrays go to when no ``gc.device`` scope says otherwise."""
        return self.devices()[0]

    def version(self):
        """The version of the array library behind this backend."""
        return "unknown"

    def memory_capacity(self, device):
        """Bytes an array on ``device`` may take at most, or None if unknown."""
        return

    def compile_function(self, fn, jit_compile):
        """A faster equivalent of ``fn``, a pure function of this backend's arrays that gc.function
        recorded (``jit_compile`` is the user's request: None, True or False); ``fn`` itself when
        the backend has no compiler, which then runs as gradcore's lean replay (docs/function.md)."""
        return fn

    def trace_abstractly(self, fn, arrays):
        """Call ``fn(*stand_ins)``, each stand-in an abstract value with the shape and dtype of the
        matching array but no data, on which kernels compute nothing (jax's tracers); return
        NotImplemented when the backend has no such values. gc.function traces this way where
        it can (docs/function.md, "Tracing"). Raise ``NeedsConcreteValues`` if ``fn`` asked a
        stand-in for data."""
        return NotImplemented

    def copy(self, x):
        """A new array object holding ``x``'s values (gc.function gives each traced value its own)."""
        return self.asarray(np.array(self.to_numpy(x)), self.dtype_of(x), self.device_of(x))

    def if_then_else(self, pred, true_fn, false_fn):
        """``true_fn()`` if the 0-d bool array ``pred`` is true, else ``false_fn()``; both return a
        tuple of arrays of the same shapes and dtypes. A compiler's own conditional goes here."""
        return true_fn() if bool(self.to_numpy(pred)) else false_fn()

    def while_loop(self, cond_fn, body_fn, loop_vars, maximum_iterations):
        """``loop_vars = body_fn(*loop_vars)`` while ``cond_fn(*loop_vars)`` (a 0-d bool array), at most
        ``maximum_iterations`` times (None: no limit); the body keeps every shape and dtype."""
        iterations = 0
        while (maximum_iterations is None or iterations < maximum_iterations) and bool(
                self.to_numpy(cond_fn(*loop_vars))):
            loop_vars = body_fn(*loop_vars)
            iterations += 1
        return loop_vars

    # ---- conversion and creation --------------------------------------------------------

    @abc.abstractmethod
    def asarray(self, value, dtype, device=None):
        """A raw array of ``dtype`` (a gradcore DType) from a scalar, nested list, NumPy or raw array."""

    @abc.abstractmethod
    def to_numpy(self, x):
        """``x`` as a NumPy array (a copy when the array lives elsewhere)."""

    @abc.abstractmethod
    def dtype_of(self, x):
        """The gradcore DType of raw array ``x``."""

    @abc.abstractmethod
    def device_of(self, x):
        """The device ``x`` lives on, spelled as in ``devices()``."""

    @abc.abstractmethod
    def full(self, shape, value, dtype, device=None):
        """An array of ``shape`` filled with the Python scalar ``value``."""

    @abc.abstractmethod
    def arange(self, start, limit, delta, dtype, device=None):
        """``[start, start+delta, ...)`` up to ``limit``, like ``tf.range``."""

    @abc.abstractmethod
    def eye(self, num_rows, num_columns, dtype, device=None):
        """An identity matrix of ``num_rows`` x ``num_columns``."""

    @abc.abstractmethod
    def cast(self, x, dtype):
        """``x`` converted to ``dtype`` (float to int truncates toward zero)."""

    def zeros(self, shape, dtype, device=None):
        return self.full(shape, 0, dtype, device)

    def ones(self, shape, dtype, device=None):
        return self.full(shape, 1, dtype, device)

    # ---- elementwise, one input -------------------------------------------------------

    @abc.abstractmethod
    def negative(self, x): ...
    @abc.abstractmethod
    def abs(self, x): ...
    @abc.abstractmethod
    def sign(self, x): ...
    @abc.abstractmethod
    def sqrt(self, x): ...
    @abc.abstractmethod
    def exp(self, x): ...
    @abc.abstractmethod
    def log(self, x): ...
    @abc.abstractmethod
    def log1p(self, x): ...
    @abc.abstractmethod
    def expm1(self, x): ...
    @abc.abstractmethod
    def sin(self, x): ...
    @abc.abstractmethod
    def cos(self, x): ...
    @abc.abstractmethod
    def tan(self, x): ...
    @abc.abstractmethod
    def tanh(self, x): ...
    @abc.abstractmethod
    def erf(self, x): ...
    @abc.abstractmethod
    def floor(self, x): ...
    @abc.abstractmethod
    def ceil(self, x): ...
    @abc.abstractmethod
    def round(self, x):
        """Round half to even, as ``tf.round``."""
    @abc.abstractmethod
    def logical_not(self, x): ...
    @abc.abstractmethod
    def isfinite(self, x): ...
    @abc.abstractmethod
    def isnan(self, x): ...

    # ---- elementwise, two inputs (same dtype; shapes broadcast as NumPy) -----------

    @abc.abstractmethod
    def add(self, x, y): ...
    @abc.abstractmethod
    def subtract(self, x, y): ...
    @abc.abstractmethod
    def multiply(self, x, y): ...
    @abc.abstractmethod
    def divide(self, x, y):
        """True division for floats; for integers the core uses floor_divide."""
    @abc.abstractmethod
    def floor_divide(self, x, y): ...
    @abc.abstractmethod
    def floor_mod(self, x, y):
        """Remainder with the sign of the divisor (Python's ``%``)."""
    @abc.abstractmethod
    def power(self, x, y): ...
    @abc.abstractmethod
    def maximum(self, x, y): ...
    @abc.abstractmethod
    def minimum(self, x, y): ...
    @abc.abstractmethod
    def equal(self, x, y): ...
    @abc.abstractmethod
    def not_equal(self, x, y): ...
    @abc.abstractmethod
    def less(self, x, y): ...
    @abc.abstractmethod
    def less_equal(self, x, y): ...
    @abc.abstractmethod
    def greater(self, x, y): ...
    @abc.abstractmethod
    def greater_equal(self, x, y): ...
    @abc.abstractmethod
    def logical_and(self, x, y): ...
    @abc.abstractmethod
    def logical_or(self, x, y): ...
    @abc.abstractmethod
    def where(self, condition, x, y): ...

    # ---- reductions (axis is a tuple of non-negative ints or None) -----------------

    @abc.abstractmethod
    def reduce_sum(self, x, axis, keepdims): ...
    @abc.abstractmethod
    def reduce_max(self, x, axis, keepdims): ...
    @abc.abstractmethod
    def reduce_min(self, x, axis, keepdims): ...
    @abc.abstractmethod
    def reduce_prod(self, x, axis, keepdims): ...
    @abc.abstractmethod
    def argmax(self, x, axis):
        """Index of the first maximum along ``axis`` (an int), as int64."""
    @abc.abstractmethod
    def argmin(self, x, axis): ...

    # ---- shapes and indexing --------------------------------------------------------

    @abc.abstractmethod
    def reshape(self, x, shape): ...
    @abc.abstractmethod
    def transpose(self, x, perm): ...
    @abc.abstractmethod
    def broadcast_to(self, x, shape): ...
    @abc.abstractmethod
    def concat(self, xs, axis): ...
    @abc.abstractmethod
    def tile(self, x, multiples): ...
    @abc.abstractmethod
    def pad(self, x, paddings, constant_value):
        """Constant padding; ``paddings`` is a tuple of (before, after) per axis."""
    @abc.abstractmethod
    def slice(self, x, key):
        """Basic indexing: ``key`` is a tuple of ints, slices, None and Ellipsis, already checked."""
    @abc.abstractmethod
    def slice_into_zeros(self, update, shape, key):
        """Zeros of ``shape`` with ``update`` written at ``key``: the adjoint of ``slice``."""
    @abc.abstractmethod
    def gather(self, params, indices, axis):
        """``params`` indexed by the integer array ``indices`` along ``axis`` (indices are in range)."""
    @abc.abstractmethod
    def unsorted_segment_sum(self, data, segment_ids, num_segments):
        """Rows of ``data`` summed into ``num_segments`` rows by ``segment_ids`` (duplicates add)."""

    # ---- linear algebra -------------------------------------------------------------

    @abc.abstractmethod
    def matmul(self, a, b):
        """Batched matrix product with NumPy's broadcasting of the batch dimensions."""

    # ---- optional kernels: composite defaults -----------------------------------------

    def _scalar(self, value, like):
        return self.full((), value, self.dtype_of(like))

    def square(self, x):
        return self.multiply(x, x)

    def rsqrt(self, x):
        return self.divide(self._scalar(1, x), self.sqrt(x))

    def reciprocal(self, x):
        return self.divide(self._scalar(1, x), x)

    def sigmoid(self, x):
        one = self._scalar(1, x)
        return self.divide(one, self.add(one, self.exp(self.negative(x))))

    def relu(self, x):
        return self.maximum(x, self._scalar(0, x))

    def softplus(self, x):
        """log(1 + e^x) = max(x, 0) + log1p(e^-|x|), stable for large |x|."""
        return self.add(self.relu(x), self.log1p(self.exp(self.negative(self.abs(x)))))

    def reduce_mean(self, x, axis, keepdims):
        total = self.reduce_sum(x, axis, keepdims)
        count = _count(x.shape, axis)
        return self.divide(total, self._scalar(count, total))

    def reduce_logsumexp(self, x, axis, keepdims):
        peak = self.reduce_max(x, axis, True)
        peak = self.where(self.isfinite(peak), peak, self._scalar(0, peak))
        total = self.reduce_sum(self.exp(self.subtract(x, peak)), axis, True)
        result = self.add(self.log(total), peak)
        if not keepdims:
            result = self.reshape(result, _reduced_shape(x.shape, axis))
        return result

    def softmax(self, x, axis):
        shifted = self.subtract(x, self.reduce_max(x, (axis,), True))
        e = self.exp(shifted)
        return self.divide(e, self.reduce_sum(e, (axis,), True))

    def log_softmax(self, x, axis):
        shifted = self.subtract(x, self.reduce_max(x, (axis,), True))
        return self.subtract(shifted, self.log(self.reduce_sum(self.exp(shifted), (axis,), True)))

    def stack(self, xs, axis):
        expanded = [self.reshape(x, _expanded_shape(x.shape, axis)) for x in xs]
        return self.concat(expanded, axis)

    def tanh_grad(self, y, dy):
        """dy * (1 - y^2), the derivative of tanh from its output."""
        return self.multiply(dy, self.subtract(self._scalar(1, y), self.multiply(y, y)))

    def sigmoid_grad(self, y, dy):
        """dy * y * (1 - y), the derivative of sigmoid from its output."""
        return self.multiply(dy, self.multiply(y, self.subtract(self._scalar(1, y), y)))

    def relu_grad(self, x, dy):
        """dy where x > 0, else 0."""
        return self.where(self.greater(x, self._scalar(0, x)), dy, self._scalar(0, dy))

    def one_hot(self, indices, depth, dtype):
        """1 where the position along a new last axis of size ``depth`` equals ``indices``, else 0.

        Indices outside [0, depth) match no position: their rows are all 0, as in ``tf.one_hot``.
        """
        return self.cast(self._hits(indices, depth), dtype)

    def sparse_softmax_cross_entropy(self, logits, labels):
        """-log_softmax(logits)[..., labels] along the last axis; every label is in range."""
        axis = len(logits.shape) - 1
        log_p = self.log_softmax(logits, axis)
        # where, not a product with a one-hot: 0 * -inf (a vanishing probability) would be NaN.
        picked = self.where(self._hits(labels, logits.shape[axis]), log_p, self._scalar(0, log_p))
        return self.negative(self.reduce_sum(picked, (axis,), False))

    def _hits(self, indices, depth):
        positions = self.arange(0, depth, 1, self.dtype_of(indices), self.device_of(indices))
        return self.equal(self.reshape(indices, tuple(indices.shape) + (1,)), positions)


OPTIONAL_KERNELS = (
    "zeros", "ones", "square", "rsqrt", "reciprocal", "sigmoid", "relu", "softplus",
    "reduce_mean", "reduce_logsumexp", "softmax", "log_softmax", "stack",
    "tanh_grad", "sigmoid_grad", "relu_grad",
    "one_hot", "sparse_softmax_cross_entropy",
    "conv2d", "conv2d_backprop_input", "conv2d_backprop_filter",
    "max_pool2d", "max_pool2d_grad", "max_pool2d_grad_grad", "avg_pool2d", "avg_pool2d_grad",
    "sgd_update", "adam_update", "rmsprop_update", "adagrad_update", "weight_decay_update",
) + math_composites.KERNELS + linalg_composites.KERNELS + indexing_composites.KERNELS + nn_composites.KERNELS


def required_kernels():
    """Names of the kernels every backend must implement."""
    return sorted(Backend.__abstractmethods__)


class CompositeView:
    """``backend`` seen with every optional kernel replaced by the contract's composite default.

    Composites call other kernels through ``self``, so inside the view they meet composites
    too; required kernels and everything else are the backend's own. The backend object itself
    is never changed (interceptors, not patches: docs/architecture.md).
    """

    def __init__(self, backend):
        self.backend = backend

    def __getattr__(self, name):
        if name in OPTIONAL_KERNELS or (name.startswith("_") and callable(getattr(Backend, name, None))):
            return types.MethodType(getattr(Backend, name), self)
        return getattr(self.backend, name)


def composite_view(backend):
    """A view of ``backend`` whose optional kernels are the composite defaults (see CompositeView)."""
    return CompositeView(backend)


def _missing_kernel(kernel):
    def missing(self, *args, **kwargs):
        raise UnimplementedError(
            f"backend {self.name!r} does not provide the kernel {kernel!r} (its unsupported_kernels say "
            f"so); run this op on another backend", gap=("kernel", kernel))

    missing.__name__ = kernel
    missing.__isabstractmethod__ = False
    return missing


def _refusing_dtypes(method, kernel, position, missing_dtypes):
    """``method`` that first refuses a dtype argument (at ``position`` after self) the backend lacks."""
    def refusing(self, *args, **kwargs):
        dtype = args[position] if len(args) > position else kwargs.get("dtype")
        if dtype is not None and dtype.name in missing_dtypes:
            raise UnimplementedError(
                f"backend {self.name!r} has no {dtype.name} arrays (kernel {kernel!r}); it supports "
                f"{', '.join(self.dtypes)}. Use one of those, or another backend", gap=("dtype", dtype.name))
        return method(self, *args, **kwargs)

    refusing._refuses_dtypes = True
    refusing.__name__ = kernel
    return refusing


def _count(shape, axis):
    count = 1
    for i, n in enumerate(shape):
        if axis is None or i in axis:
            count *= n
    return count


def _reduced_shape(shape, axis):
    return tuple(n for i, n in enumerate(shape) if axis is not None and i not in axis)


def _expanded_shape(shape, axis):
    shape = tuple(shape)
    return shape[:axis] + (1,) + shape[axis:]
