"""Finding where NaN and Inf come from, as ``tf.debugging``; gradient norms for training logs.

``check_numerics`` checks one tensor. ``enable_check_numerics`` installs an
interceptor at the kernel choke point (``gradcore.ops.kernels``) that checks
the float output of every op's kernel, in every thread, until
``disable_check_numerics``. When checking is off the per-op path is what it
always is.

Only the op's own kernel is checked, not the kernels a composite calls inside
it: those may pass through Inf on purpose (a log-softmax of a vanishing
probability) where the op's result is finite.
"""

import linecache
import sys

import numpy as np

from gradcore.engine.convert import to_tensor
from gradcore.engine.own_code import is_gradcore_module
from gradcore.errors import DTypeError, InvalidArgumentError
from gradcore.ops import kernels

# Kernels that convert or describe arrays rather than compute them: never checked.
_NOT_OPS = frozenset({"asarray", "to_numpy", "dtype_of", "device_of", "devices"})


def check_numerics(tensor, message, name=None):
    """``tensor`` itself if every value is finite, else InvalidArgumentError naming ``message``."""
    x = to_tensor(tensor, op_name="gc.debugging.check_numerics")
    if not x.dtype.is_floating:
        raise DTypeError(
            f"gc.debugging.check_numerics: expected a floating-point tensor, got dtype {x.dtype.name} "
            f"with shape {x.shape}"
        )
    found = _non_finite(x._backend, x._value)
    if found:
        raise InvalidArgumentError(
            f"gc.debugging.check_numerics: {message}: tensor of dtype {x.dtype.name} and shape {x.shape} had {found}"
        )
    return x


def _non_finite(backend, raw):
    """None if every value of the float array ``raw`` is finite, else e.g. '2 NaN and 1 Inf of 6 values'."""
    # x - x is 0 where x is finite and NaN where it is not: one reduction, one scalar to the host.
    total = backend.to_numpy(backend.reduce_sum(backend.subtract(raw, raw), None, False))
    if np.isfinite(float(total)):
        return None
    values = np.asarray(backend.to_numpy(raw), dtype=np.float64)
    nans, infs = int(np.isnan(values).sum()), int(np.isinf(values).sum())
    counts = [f"{n} {kind}" for n, kind in ((nans, "NaN"), (infs, "Inf")) if n]
    return f"{' and '.join(counts)} of {values.size} values"


# ---- checking every op ---------------------------------------------------------------------

def enable_check_numerics():
    """From now on, an op whose float output holds NaN or Inf raises, naming the op and the caller.

    Applies to every backend and every thread, as TensorFlow's does.
    """
    kernels.install(_check_outputs)


def disable_check_numerics():
    """Stop checking: ops run exactly as before ``enable_check_numerics``."""
    kernels.uninstall(_check_outputs)


def _check_outputs(call, proceed):
    result = proceed()
    if call.kernel in _NOT_OPS:
        return result
    backend = call.backend
    for output in _arrays(result):
        if backend.dtype_of(output).is_floating:
            found = _non_finite(backend, output)
            if found:
                raise InvalidArgumentError(_report(call, output, found))
    return result


def _arrays(result):
    """The arrays of a kernel's result: one array, or (nested) lists and tuples of them, as the
    optimizer update kernels return (None where a slot list is off)."""
    if isinstance(result, (list, tuple)):
        return [array for item in result for array in _arrays(item)]
    return [result] if hasattr(result, "shape") else []


def _report(call, output, found):
    """The error message: the op, its inputs, what it produced and the user's line that ran it."""
    backend = call.backend
    arrays = [a for arg in call.args for a in (arg if isinstance(arg, (list, tuple)) else (arg,)) if hasattr(a, "shape")]
    inputs = ", ".join(f"{backend.dtype_of(a).name}{tuple(a.shape)}" for a in arrays) or "none"
    return (
        f"gc.debugging.enable_check_numerics: {call.api} (kernel {call.kernel!r} of backend {backend.name!r}) "
        f"produced {found} in its {backend.dtype_of(output).name} output of shape {tuple(output.shape)}; "
        f"inputs: {inputs}; called from {_user_line(sys._getframe(1))}"
    )


def _in_gradcore(frame):
    return is_gradcore_module(frame.f_globals.get("__name__", ""))


def _user_line(frame):
    """'file:line in function: source' of the innermost frame outside gradcore."""
    while frame is not None and _in_gradcore(frame):
        frame = frame.f_back
    if frame is None:
        return "gradcore itself"
    where = f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
    source = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{where}: {source}" if source else where


# ---- gradient norms --------------------------------------------------------------------------

def gradient_norms(grads, variables):
    """``{variable name: L2 norm of its gradient}`` for logging; None where a gradient is None.

    Each norm is computed in float64 on the host, so call it on the steps you log, not every step.
    A name used twice gets a suffix (``_1``, ``_2`` ...) so no norm is lost.
    """
    grads, variables = list(grads), list(variables)
    if len(grads) != len(variables):
        raise InvalidArgumentError(
            f"gc.debugging.gradient_norms: {len(grads)} gradients for {len(variables)} variables"
        )
    norms = {}
    for grad, variable in zip(grads, variables):
        name, copies = variable.name, 0
        while name in norms:
            copies += 1
            name = f"{variable.name}_{copies}"
        norms[name] = None if grad is None else float(np.linalg.norm(np.asarray(grad, dtype=np.float64).ravel()))
    return norms
