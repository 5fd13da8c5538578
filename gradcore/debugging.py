"""Finding where NaN and Inf come from, as ``tf.debugging``; gradient norms for training logs.

``check_numerics`` checks one tensor. ``enable_check_numerics`` checks the
float output of every op by wrapping each kernel of every loaded backend
object in a checker, as instance attributes that shadow the class's methods
(``force_composites`` rebinds kernels the same way); ``disable_check_numerics``
puts back what was there. So when checking is off the per-op path is exactly
what it always is: no flag to read, no call to skip.

Only the outermost kernel of an op is checked: the kernels a composite calls
may pass through Inf on purpose (a log-softmax of a vanishing probability)
where the op's result is finite.
"""

import linecache
import sys
import threading

import numpy as np

from gradcore.engine.convert import to_tensor
from gradcore.errors import DTypeError, InvalidArgumentError
from gradcore.plugin import discovery as plugins
from gradcore.plugin.contract import OPTIONAL_KERNELS, required_kernels

# Kernels that convert or describe arrays rather than compute them: not ops, never checked.
_NOT_OPS = frozenset({"asarray", "to_numpy", "dtype_of", "device_of", "devices"})
_ABSENT = object()


class _InKernel(threading.local):
    active = False  # set while a checked kernel runs, so kernels it calls run unchecked


_in_kernel = _InKernel()
_checked_backends = {}  # backend -> {kernel name: the instance attribute it shadowed, or _ABSENT}


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
    saved, _in_kernel.active = _in_kernel.active, True  # the check's own kernels are not checked
    try:
        # x - x is 0 where x is finite and NaN where it is not: one reduction, one scalar to the host.
        total = backend.to_numpy(backend.reduce_sum(backend.subtract(raw, raw), None, False))
    finally:
        _in_kernel.active = saved
    if np.isfinite(float(total)):
        return None
    values = np.asarray(backend.to_numpy(raw), dtype=np.float64)
    nans, infs = int(np.isnan(values).sum()), int(np.isinf(values).sum())
    counts = [f"{n} {kind}" for n, kind in ((nans, "NaN"), (infs, "Inf")) if n]
    return f"{' and '.join(counts)} of {values.size} values"


# ---- checking every op ---------------------------------------------------------------------

def enable_check_numerics():
    """From now on, an op whose float output holds NaN or Inf raises, naming the op and the caller.

    Applies to every backend loaded by now (the current one included) and to all threads.
    """
    plugins.get_backend()  # load the current backend, so it is among those checked
    for spec in plugins.discover().values():
        backend = spec.instance
        if backend is None or backend in _checked_backends:
            continue
        kernels = [k for k in (*required_kernels(), *OPTIONAL_KERNELS) if k not in _NOT_OPS]
        _checked_backends[backend] = {k: backend.__dict__.get(k, _ABSENT) for k in kernels}
        for kernel in kernels:
            setattr(backend, kernel, _checking(backend, kernel, getattr(backend, kernel)))


def disable_check_numerics():
    """Stop checking: every kernel is again what it was before ``enable_check_numerics``."""
    while _checked_backends:
        backend, shadowed = _checked_backends.popitem()
        for kernel, previous in shadowed.items():
            if previous is _ABSENT:
                delattr(backend, kernel)
            else:
                setattr(backend, kernel, previous)


def _checking(backend, name, kernel):
    def checked_kernel(*args, **kwargs):
        if _in_kernel.active:
            return kernel(*args, **kwargs)
        _in_kernel.active = True
        try:
            result = kernel(*args, **kwargs)
        finally:
            _in_kernel.active = False
        for output in result if isinstance(result, (list, tuple)) else (result,):
            if hasattr(output, "shape") and backend.dtype_of(output).is_floating:
                found = _non_finite(backend, output)
                if found:
                    raise InvalidArgumentError(_report(backend, name, args, output, found, sys._getframe(1)))
        return result

    checked_kernel.__name__ = name
    return checked_kernel


def _report(backend, kernel, args, output, found, caller):
    """The error message: the op, its inputs, what it produced and the user's line that ran it."""
    arrays = [a for arg in args for a in (arg if isinstance(arg, (list, tuple)) else (arg,)) if hasattr(a, "shape")]
    inputs = ", ".join(f"{backend.dtype_of(a).name}{tuple(a.shape)}" for a in arrays) or "none"
    return (
        f"gc.debugging.enable_check_numerics: {_op_name(caller)} (kernel {kernel!r} of backend {backend.name!r}) "
        f"produced {found} in its {backend.dtype_of(output).name} output of shape {tuple(output.shape)}; "
        f"inputs: {inputs}; called from {_user_line(caller)}"
    )


def _op_name(frame):
    """The public name of the op running in ``frame``: ops keep it in ``api``; else the function's own."""
    api = frame.f_locals.get("api")
    if isinstance(api, str):
        return api
    code = frame.f_code
    return f"{frame.f_globals.get('__name__', '?')}.{getattr(code, 'co_qualname', code.co_name)}"


def _in_gradcore(frame):
    module = frame.f_globals.get("__name__", "")
    return module == "gradcore" or module.startswith("gradcore.")


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
