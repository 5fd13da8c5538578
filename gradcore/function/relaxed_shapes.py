"""Relaxed traces: one program for every size of the ``None`` dimensions of a signature.

A relaxed trace comes from an ``input_signature`` with ``None`` sizes, from the generalised
second trace of ``reduce_retracing``, or from ``get_concrete_function`` given such a spec.
It runs the Python function once on stand-in inputs (the call's values, repeated along each
unknown dimension to the stand-in size, gradcore/engine/sizes.py) and records sizes as
expressions of the size the program reads off its input at run time (docs/function.md,
"Unknown sizes"). Every unknown dimension is taken to be one size: a call whose unknown
dimensions differ from each other, or that breaks a comparison the trace made (a guard),
gets a trace of its own shape instead.
"""

import contextlib
import sys
import threading

import numpy as np

from gradcore.engine import convert, dtypes, nest
from gradcore.engine.own_code import is_gradcore_module
from gradcore.engine.recording import state
from gradcore.engine.sizes import (
    UNKNOWN,
    NeedsKnownSizes,
    Size,
    expression_of,
    looks_like_a_size,
    relaxed_shape,
    stand_in_size,
)
from gradcore.engine.tensor import Tensor
from gradcore.ops.kernels import call_kernel


class Relaxation:
    """The unknown sizes of one relaxed trace: where they are, and the stand-in size they have."""

    def __init__(self, positions, stand_in):
        self.positions = positions  # (input ordinal, axis) of each unknown dimension
        self.stand_in = stand_in

    def first_unknown_axis(self, ordinal):
        """The axis of input ``ordinal`` the program reads the unknown size from, if it is the first."""
        first_ordinal, axis = self.positions[0]
        return axis if ordinal == first_ordinal else None

    def expression(self, value, in_shape):
        """The size expression of a kernel argument, or None when it is not an unknown size."""
        kind = type(value)
        if kind is Size:
            return value.expr
        if kind is int and in_shape:
            return expression_of(value, self.stand_in)
        if kind is slice and Size in (type(value.start), type(value.stop), type(value.step)):
            return f"slice({_source(value.start)}, {_source(value.stop)}, {_source(value.step)})"
        return None

    def shape(self, shape):
        return relaxed_shape(shape, self.stand_in)

    def refuse_baked_size(self, call):
        """Give the trace up when a number made into an array looks computed from the stand-in size
        (``float(n)``, ``1 / n``): one program could not serve every size with it baked in."""
        if call.kernel == "asarray":
            value = call.args[0]
            if isinstance(value, np.generic):
                value = value.item()
            if type(value) in (int, float) and looks_like_a_size(value, self.stand_in):
                raise NeedsKnownSizes(f"{call.api}: the number {value!r} looks computed from an unknown size")

    def has_unknown_size(self, shape):
        return any(expression_of(n, self.stand_in) is not None for n in shape)


def _source(part):
    return part.expr if type(part) is Size else repr(part)


# ---- the shape property ------------------------------------------------------------------------
# During a relaxed trace Tensor.shape gives gradcore's own code the Sizes, which carry the
# unknown size into the kernels' arguments, and everyone else None, as TensorFlow's static
# shape does. Swapping the property only while such a trace runs keeps eager reads free.

_plain_shape = Tensor.shape
_relaxed_traces = 0
_swap_lock = threading.Lock()


def _shape_in_a_relaxed_trace(tensor):
    tracer = state.tracer
    shape = tuple(tensor._value.shape) if tracer is None else tracer.shape_of(tensor)
    if is_gradcore_module(sys._getframe(1).f_globals.get("__name__", "")):
        return shape
    return tuple(None if type(n) is Size else n for n in shape)


@contextlib.contextmanager
def relaxed_shape_property(active):
    """Within the block (when ``active``) Tensor.shape shows unknown sizes, as the module doc says."""
    global _relaxed_traces
    if not active:
        yield
        return
    with _swap_lock:
        _relaxed_traces += 1
        Tensor.shape = property(_shape_in_a_relaxed_trace)
        convert.scalar_cache_on = False
    try:
        yield
    finally:
        with _swap_lock:
            _relaxed_traces -= 1
            if not _relaxed_traces:
                Tensor.shape = _plain_shape
                convert.scalar_cache_on = True


# ---- call keys with unknown sizes ------------------------------------------------------------------
# A tensor's part of a call key (gradcore/function/signature.py) is
# ("tensor", shape, dtype, backend name, first place); a pattern has None for unknown sizes.

def _is_tensor_entry(key):
    return type(key) is tuple and len(key) == 5 and key[0] == "tensor"


_DIFFERENT = object()


def generalised(old, new):
    """The pattern covering keys ``old`` and ``new``: their tensors' differing sizes made None.

    None when they differ in anything else (structure, rank, dtype, a Python value).
    """
    pattern = _generalised(old, new)
    return None if pattern is _DIFFERENT else pattern


def _generalised(old, new):
    if _is_tensor_entry(old) and _is_tensor_entry(new):
        if old[2:] != new[2:] or len(old[1]) != len(new[1]):
            return _DIFFERENT
        return ("tensor", tuple(a if a == b else None for a, b in zip(old[1], new[1])), *old[2:])
    if type(old) is tuple and type(new) is tuple and len(old) == len(new):
        parts = tuple(_generalised(a, b) for a, b in zip(old, new))
        return _DIFFERENT if any(p is _DIFFERENT for p in parts) else parts
    return old if old == new else _DIFFERENT


def fits(pattern, key):
    """Whether call key ``key`` fits ``pattern``."""
    if _is_tensor_entry(pattern) and _is_tensor_entry(key):
        return pattern[2:] == key[2:] and len(pattern[1]) == len(key[1]) and all(
            want is None or want == got for want, got in zip(pattern[1], key[1]))
    if type(pattern) is tuple and type(key) is tuple and len(pattern) == len(key):
        return all(fits(p, k) for p, k in zip(pattern, key))
    return pattern == key


def _tensor_entries(key):
    if _is_tensor_entry(key):
        yield key
    elif type(key) is tuple:
        for part in key:
            yield from _tensor_entries(part)


def unknown_positions(pattern):
    """(tensor ordinal, axis) of each None size of ``pattern``, in the order of the call's tensors."""
    return [(ordinal, axis) for ordinal, entry in enumerate(_tensor_entries(pattern))
            for axis, n in enumerate(entry[1]) if n is None]


def with_unknown_sizes(key, positions):
    """``key`` with the sizes at ``positions`` made None."""
    unknown = set(positions)
    ordinals = iter(range(len(list(_tensor_entries(key)))))

    def relax(part):
        if _is_tensor_entry(part):
            ordinal = next(ordinals)
            shape = tuple(None if (ordinal, axis) in unknown else n for axis, n in enumerate(part[1]))
            return ("tensor", shape, *part[2:])
        if type(part) is tuple:
            return tuple(relax(p) for p in part)
        return part

    return relax(key)


# ---- stand-in inputs ----------------------------------------------------------------------------------

def relaxation_for(structure, positions, variables):
    """The Relaxation of a call: its stand-in size avoids every known size of the call's tensors
    and of ``variables``, so a multiple of it is always an unknown size."""
    unknown = set(positions)
    known = [n for ordinal, tensor in enumerate(_tensors(structure))
             for axis, n in enumerate(tensor._value.shape) if (ordinal, axis) not in unknown]
    known.extend(n for v in variables for n in v._value.shape)
    return Relaxation(positions, stand_in_size(known))


def stand_in_inputs(structure, relaxation):
    """``structure`` with each tensor's unknown dimensions resized to the stand-in size, its values
    repeated along them (so host checks on the stand-ins see the call's own values)."""
    axes = {}
    for ordinal, axis in relaxation.positions:
        axes.setdefault(ordinal, []).append(axis)
    ordinals = iter(range(sys.maxsize))

    def stand_in(leaf):
        if not isinstance(leaf, Tensor):
            return leaf
        raw = leaf._value
        for axis in axes.get(next(ordinals), ()):
            raw = _resized(leaf, raw, axis, relaxation.stand_in)
        return Tensor(raw, leaf._dtype, leaf._backend)

    return nest.map_structure(stand_in, structure)


def _resized(tensor, raw, axis, size):
    backend, api = tensor._backend, "gc.function (stand-in inputs)"
    device = backend.device_of(raw)
    if raw.shape[axis] == 0:
        shape = tuple(size if i == axis else n for i, n in enumerate(raw.shape))
        return call_kernel(api, backend, "zeros", shape, tensor._dtype, device)
    rows = np.arange(size, dtype=np.int64) % raw.shape[axis]
    indices = call_kernel(api, backend, "asarray", rows, dtypes.int64, device)
    return call_kernel(api, backend, "gather", raw, indices, axis)


def _tensors(structure):
    return [leaf for leaf in nest.flatten(structure) if isinstance(leaf, Tensor)]


def unknown_size_of(structure, positions):
    """The call's size at the unknown positions, or None when they are not all one size."""
    tensors = _tensors(structure)
    sizes = {tensors[ordinal]._value.shape[axis] for ordinal, axis in positions}
    return sizes.pop() if len(sizes) == 1 else None


def guard_function(guards):
    """``d -> bool``: whether run-time size ``d`` keeps every comparison the trace made."""
    if not guards:
        return lambda d: True
    body = " and ".join(f"({source.replace(UNKNOWN, 'd')}) is {result!r}" for source, result in guards.items())
    return eval(f"lambda d: {body}")
