"""An optimizer's update rule as one backend kernel call per step and variable dtype.

Op by op, an Adam step is about ten gradcore ops per variable, each paying the
core's Python overhead. Each rule in ``gc.optimizers`` also names an optional
kernel of the plugin contract (``adam_update``, ``sgd_update`` ...; composite
defaults in gradcore/plugin/optimizer_composites.py) that takes the arrays of all
the variables, gradients and slots at once and returns their new arrays, which
are then assigned to the variables and slots. The kernel goes through the kernel
choke point like any other, so ``gc.force_composites()``, check-numerics and
tracing see it.

The fused path is taken only where it computes exactly what ``update_step`` does:
the class's ``update_step`` is the one its ``_fused_rule`` describes (a subclass
that overrides ``update_step`` keeps its own), the variables are float32 or
float64 (XLA may keep a fused half-precision computation in float32 between
operations, which op by op would round), and no variable appears twice in the step.
"""

from gradcore.engine import dtypes
from gradcore.engine.recording import state
from gradcore.errors import BackendError
from gradcore.ops.kernels import call_kernel

FUSED_DTYPES = frozenset((dtypes.float32, dtypes.float64))

_described_update_step = {}  # optimizer class -> whether its _fused_rule describes its update_step


def fused_rule(optimizer, dtype, variables):
    """The optimizer's ``(kernel, slot lists, hyperparameters)`` if this step may run fused, else None."""
    if dtype not in FUSED_DTYPES or not _describes_update_step(type(optimizer)):
        return None
    if len({id(v) for v in variables}) != len(variables):
        return None  # a variable listed twice is updated twice, one update after the other
    return optimizer._fused_rule()


def _describes_update_step(cls):
    described = _described_update_step.get(cls)
    if described is None:
        described = _described_update_step[cls] = _owner(cls, "_fused_rule") is _owner(cls, "update_step")
    return described


def _owner(cls, name):
    """The class in ``cls``'s MRO whose own body defines ``name``."""
    return next(c for c in cls.__mro__ if name in vars(c))


def fused_update(optimizer, rule, variables, gradients, decay, step_size):
    """One step for ``variables`` (one dtype): weight decay, then the rule's kernel, then the assigns.

    ``gradients`` are Tensors already in the variables' dtype; ``decay`` (lr * weight_decay, or
    None) and ``step_size`` are the 0-d Tensors the op-by-op path would use.
    """
    kernel, all_slots, hyperparameters = rule
    backend = variables[0]._backend
    api = f"gc.optimizers.{type(optimizer).__name__}"
    indices = [optimizer._indices[id(v)] for v in variables]
    values = _raws(variables)
    if decay is not None:
        decayed = [k for k, i in enumerate(indices) if optimizer._decayed[i]]
        if decayed:
            new = call_kernel(api, backend, "weight_decay_update", [values[k] for k in decayed], decay._value)
            for k, value in zip(decayed, new):
                values[k] = value
    slots = [None if s is None else [s[i] for i in indices] for s in all_slots]
    slot_values = [None if s is None else _raws(s) for s in slots]
    results = call_kernel(api, backend, kernel, values, [g._value for g in gradients], *slot_values,
                          step_size._value, *hyperparameters)
    for targets, arrays in zip([variables, *slots], results):
        if targets is not None:
            _store(api, kernel, targets, arrays)


def _raws(variables):
    """The variables' arrays, read as an op reads a variable when anything watches reads (a tape,
    custom_gradient's watchers); else straight from their slots: the step's hot path."""
    if state.recording or state.variable_watchers:
        return [v.read_value()._value for v in variables]
    return [v._value for v in variables]


def _store(api, kernel, variables, arrays):
    """Put a kernel's new arrays in the variables' slots. The arrays come from the backend with the
    variables' dtype (the kernel's contract); only their shapes are checked, cheaply, as
    ``Variable.assign`` would, so a faulty kernel cannot reshape a variable."""
    for variable, array in zip(variables, arrays):
        if array.shape != variable._value.shape:
            raise BackendError(
                f"{api}: the backend's {kernel} returned shape {tuple(array.shape)} for variable "
                f"{variable.name!r} of shape {tuple(variable._value.shape)}; the backend's kernel is faulty")
        variable._value = array
