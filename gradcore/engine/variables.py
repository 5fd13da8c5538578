"""``gc.Variable``: mutable state in one storage slot.

A Variable holds its raw array in ``_value`` and nothing else holds it: every
read hands out a fresh Tensor snapshot (recorded on tapes as a
``ReadVariableOp``), and every assign replaces what the slot holds. That is
what lets tapes differentiate through reads taken before an assign, and what
lets ``gc.function`` swap the slot for a traced value (docs/architecture.md section 8).
"""

import enum
import weakref

import numpy as np

from gradcore.engine.convert import is_weak, to_tensor
from gradcore.engine.recording import record_variable_read, state
from gradcore.engine.registry import RegisterGradient
from gradcore.engine.tensor import Tensor, _Ref
from gradcore.errors import DTypeError, ShapeError
from gradcore.ops.creation_ops import constant
from gradcore.ops.kernels import call_kernel

_live_variables = {}  # id -> weak reference (Variables are unhashable: == is elementwise)


def live_variables():
    """Every Variable that exists now."""
    return [v for v in (ref() for ref in list(_live_variables.values())) if v is not None]


def _note_alive(variable):
    key = id(variable)
    _live_variables[key] = weakref.ref(variable, lambda _, key=key: _live_variables.pop(key, None))


class VariableSynchronization(enum.Enum):
    """When the copies of a distributed variable agree (``tf.VariableSynchronization``)."""

    AUTO = "auto"  # ON_WRITE: what a strategy does with AUTO
    NONE = "none"
    ON_WRITE = "on_write"  # every write updates every replica's copy: weights, optimizer slots
    ON_READ = "on_read"  # each replica writes its own copy; a read outside run() aggregates them: metrics


class VariableAggregation(enum.Enum):
    """How the replicas' copies or writes combine (``tf.VariableAggregation``)."""

    NONE = "none"
    SUM = "sum"
    MEAN = "mean"
    ONLY_FIRST_REPLICA = "only_first_replica"


def _enum_member(kind, value, api):
    if isinstance(value, kind):
        return value
    try:
        return kind(str(value).lower())
    except ValueError:
        choices = ", ".join(repr(m.value) for m in kind)
        raise ValueError(f"{api}: {value!r} is not a valid {kind.__name__}; use one of {choices}") from None


# gradcore.distribute sets this: (args, kwargs) -> the Variable subclass a strategy in scope makes
# instead of a plain Variable, or None (docs/distribute.md, "Variables").
distributed_class = None


class Variable:
    """A named, mutable tensor, as ``tf.Variable``. Trainable ones are watched by tapes."""

    __slots__ = ("__weakref__", "_aggregation", "_backend", "_dtype", "_name", "_synchronization", "_trainable",
                 "_value")
    __array_priority__ = 100

    def __new__(cls, *args, **kwargs):
        made = cls
        if cls is Variable and distributed_class is not None:
            made = distributed_class(args, kwargs) or cls
        return object.__new__(made)

    def __init__(self, initial_value=None, trainable=None, name=None, dtype=None, shape=None,
                 synchronization="auto", aggregation="none"):
        if initial_value is None:
            raise ValueError("gc.Variable: initial_value must be given")
        if callable(initial_value):
            initial_value = initial_value()
        initial = constant(initial_value, dtype=dtype)
        if shape is not None and tuple(shape) != initial.shape:
            raise ShapeError(f"gc.Variable: initial value has shape {initial.shape}, not the given shape {tuple(shape)}")
        self._value = initial._value
        self._dtype = initial._dtype
        self._backend = initial._backend
        self._name = f"{name or 'Variable'}:0"
        self._trainable = True if trainable is None else bool(trainable)
        self._synchronization = _enum_member(VariableSynchronization, synchronization, "gc.Variable")
        self._aggregation = _enum_member(VariableAggregation, aggregation, "gc.Variable")
        _note_alive(self)  # gc.function's trace finds the variables a function touches here
        if state.tracer is not None:
            state.tracer.created(self)  # refused outside a function's first call (docs/function.md)

    # ---- reading ---------------------------------------------------------------------

    def _read(self):
        snapshot = Tensor(self._value, self._dtype, self._backend)
        if state.recording or state.variable_watchers:
            record_variable_read(self, snapshot)
        return snapshot

    def read_value(self):
        """The current value as a Tensor (recorded on tapes that watch this variable)."""
        return self._read()

    value = read_value

    def numpy(self):
        """The current value as a new NumPy array (a copy: writing to it leaves the variable alone)."""
        if state.tracer is not None:
            state.tracer.refuse_host_read(self, "numpy")
        return np.array(self._backend.to_numpy(self._value))

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype, copy=False)

    # ---- writing ------------------------------------------------------------------------

    def _checked_raw(self, value, api):
        if isinstance(value, np.ndarray):
            value = value.copy()  # the slot must not share the caller's array (docs/architecture.md section 8)
        tensor = to_tensor(value, self._dtype if is_weak(value) else None, self._backend, api)
        if tensor._dtype is not self._dtype:
            raise DTypeError(
                f"{api}: variable {self._name!r} has dtype {self._dtype.name} but the value has dtype "
                f"{tensor._dtype.name}; cast it first with gc.cast(value, gc.{self._dtype.name})"
            )
        if tuple(tensor._value.shape) != self.shape:
            raise ShapeError(
                f"{api}: cannot assign to variable {self._name!r}: the variable shape {self.shape} "
                f"and the assigned value shape {tuple(tensor._value.shape)} are incompatible"
            )
        if tensor._backend is not self._backend:
            raise DTypeError(f"{api}: value is on backend {tensor._backend.name}, variable on {self._backend.name}")
        return tensor._value

    def assign(self, value, use_locking=False, name=None, read_value=True):
        """Replace the value (same shape and dtype). Not differentiable, as in TF: only later reads are recorded."""
        self._value = self._checked_raw(value, "Variable.assign")
        return self if read_value else None

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        self._value = call_kernel("Variable.assign_add", self._backend, "add", self._value,
                                  self._checked_raw(delta, "Variable.assign_add"))
        return self if read_value else None

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        self._value = call_kernel("Variable.assign_sub", self._backend, "subtract", self._value,
                                  self._checked_raw(delta, "Variable.assign_sub"))
        return self if read_value else None

    # ---- description ----------------------------------------------------------------------

    name = property(lambda self: self._name)
    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Layers freeze and unfreeze their weights through this (Keras 3's ``layer.trainable``)."""
        self._trainable = bool(value)

    dtype = property(lambda self: self._dtype)
    synchronization = property(lambda self: self._synchronization)
    aggregation = property(lambda self: self._aggregation)
    shape = property(lambda self: tuple(self._value.shape))
    ndim = property(lambda self: len(self._value.shape))
    device = property(lambda self: self._backend.device_of(self._value))
    backend = property(lambda self: self._backend)

    def ref(self):
        return _Ref(self)

    __hash__ = None  # == is elementwise; use .ref() as a dict key, as in TensorFlow

    def __len__(self):
        return self.shape[0]

    def __bool__(self):
        return bool(self._read())

    def __float__(self):
        return float(self._read())

    def __int__(self):
        return int(self._read())

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", threshold=64)
        return f"<gc.Variable {self._name!r} shape={self.shape} dtype={self._dtype.name}: {body}>"



@RegisterGradient("ReadVariableOp")
def _read_variable_grad(op, dy):
    """A read is the identity from the variable to its snapshot."""
    return dy
