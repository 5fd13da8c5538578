"""Input signatures: ``gc.TensorSpec`` and the key that picks a function's trace for a call.

A call's key holds, for each tensor, its shape and dtype; for each Variable, the variable
itself; for every other leaf, its type and value (TensorFlow keys Python values by value),
or its identity when it cannot be hashed; and the structure holding them (list, tuple,
dict keys). A tensor passed in two places is keyed as such, since the program then reads
one input for both.
"""

import numpy as np

from gradcore.engine import dtypes, nest
from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable


class TensorSpec:
    """The shape and dtype of a tensor argument, as ``tf.TensorSpec``; ``None`` marks any size."""

    __slots__ = ("_dtype", "_name", "_shape")

    def __init__(self, shape, dtype=dtypes.float32, name=None):
        self._shape = None if shape is None else tuple(None if n is None else int(n) for n in shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._name = name

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    name = property(lambda self: self._name)

    @classmethod
    def from_tensor(cls, tensor, name=None):
        return cls(tensor.shape, tensor.dtype, name)

    def is_compatible_with(self, value):
        """Whether ``value`` (a tensor or a TensorSpec) fits this spec."""
        shape, dtype = tuple(value.shape) if value.shape is not None else None, value.dtype
        if dtype != self._dtype:
            return False
        if self._shape is None or shape is None:
            return True
        return len(shape) == len(self._shape) and all(
            want is None or got is None or want == got for want, got in zip(self._shape, shape))

    def __eq__(self, other):
        return isinstance(other, TensorSpec) and (self._shape, self._dtype) == (other._shape, other._dtype)

    def __hash__(self):
        return hash((self._shape, self._dtype))

    def __repr__(self):
        return f"gc.TensorSpec(shape={self._shape}, dtype=gc.{self._dtype.name}, name={self._name!r})"


def call_key(args, kwargs):
    """The hashable key of a call (see the module doc), and whether it holds NumPy arrays."""
    seen = {}
    key = _key((args, kwargs), seen)
    return key, _ARRAYS in seen


_ARRAYS = object()  # marks, in the identities seen, that a NumPy array was found


def tensor_call_key(args):
    """``call_key(args, {})[0]`` for a call whose arguments are all plain tensors, the train_step's
    usual call, built without the walk over nested structures; None for any other call."""
    seen = {}
    keys = []
    for value in args:
        if type(value) is not Tensor:
            return None
        keys.append(("tensor", tuple(value._value.shape), value._dtype, value._backend.name,
                     seen.setdefault(id(value), len(seen))))
    return (tuple, ((tuple, tuple(keys)), (dict, ())))


def arrays_as_tensors(structure):
    """``structure`` with each NumPy array made a tensor, as TensorFlow converts them."""
    from gradcore.ops.creation_ops import constant

    return nest.map_structure(lambda leaf: constant(leaf) if isinstance(leaf, np.ndarray) else leaf, structure)


def _key(value, seen):
    if isinstance(value, Tensor):
        first = seen.setdefault(id(value), len(seen))
        return ("tensor", tuple(value._value.shape), value._dtype, value._backend.name, first)
    if isinstance(value, np.ndarray):
        seen[_ARRAYS] = True
        return ("tensor", value.shape, value.dtype.str)
    if isinstance(value, Variable):
        return ("variable", id(value))
    kind = type(value)
    if kind is tuple or kind is list or (isinstance(value, tuple) and hasattr(value, "_fields")):
        return (kind, tuple(_key(item, seen) for item in value))
    if kind is dict:
        return (kind, tuple((k, _key(value[k], seen)) for k in sorted(value)))
    if isinstance(value, nest.Composite):
        return (kind, tuple(_key(item, seen) for item in value._components()))
    if isinstance(value, TensorSpec):
        return ("tensor", value.shape, value.dtype)
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return (kind, value)


def check_signature(specs, args, kwargs):
    """Refuse a call that does not fit ``input_signature``, as TensorFlow does (a TypeError)."""
    flat_args = nest.flatten((args, kwargs))
    flat_specs = nest.flatten(specs)
    if kwargs or len(args) != len(specs) or len(flat_args) != len(flat_specs):
        raise TypeError(
            f"Binding inputs to gc.function failed: the call has {len(args)} positional and "
            f"{len(kwargs)} keyword arguments, the input_signature {len(specs)} entries: {specs}"
        )
    for position, (value, spec) in enumerate(zip(flat_args, flat_specs)):
        tensor = value if isinstance(value, (Tensor, Variable)) else _as_tensor_like(value)
        if tensor is None or not spec.is_compatible_with(tensor):
            described = (f"shape {tuple(tensor.shape)} and dtype {tensor.dtype.name}" if tensor is not None
                         else f"the {type(value).__name__} {value!r}")
            raise TypeError(
                f"Binding inputs to gc.function failed: argument {position} has {described}, which does "
                f"not fit {spec}"
            )


def _as_tensor_like(value):
    if isinstance(value, (np.ndarray, np.generic)):
        return TensorSpec(value.shape, dtypes.as_dtype(value.dtype))
    return None


def spec_placeholders(structure):
    """``structure`` with each TensorSpec replaced by a zero tensor of its shape (a None size as 1)."""
    from gradcore.ops.creation_ops import zeros

    def placeholder(leaf):
        if isinstance(leaf, TensorSpec):
            shape = () if leaf.shape is None else tuple(1 if n is None else n for n in leaf.shape)
            return zeros(shape, dtype=leaf.dtype)
        return leaf

    return nest.map_structure(placeholder, structure)


def spec_unknown_positions(structure):
    """(tensor ordinal, axis) of each None size of the TensorSpecs in ``structure``, counting the
    tensors a call would have (specs, tensors and NumPy arrays) in order."""
    tensors = [leaf for leaf in nest.flatten(structure) if isinstance(leaf, (TensorSpec, Tensor, np.ndarray))]
    return [(ordinal, axis) for ordinal, leaf in enumerate(tensors)
            if isinstance(leaf, TensorSpec) and leaf.shape is not None
            for axis, n in enumerate(leaf.shape) if n is None]
