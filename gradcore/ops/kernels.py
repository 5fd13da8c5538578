"""The kernel choke point: every op reaches its backend kernel through ``run_kernel``.

It is the one place that (a) turns a backend's own exception into a gradcore
error, the same class on every backend (docs/errors.md), (b) wraps the raw
result in a Tensor, and (c) lets interceptors see or replace a kernel call:
forcing the composite kernels, checking every output for NaN/Inf, and next
the ``gc.function`` tracer. Interceptors stack per thread (``intercepting``)
or for the whole process (``install``); none ever changes a Backend object.

When no interceptor is active anywhere, the cost over calling the kernel
directly is this function call and one global read: the per-op path is what
users feel (docs/architecture.md section 2).
"""

import contextlib
import os
import threading

import numpy as np

from gradcore.engine import thread_state
from gradcore.engine.recording import state
from gradcore.engine.tensor import Tensor
from gradcore.errors import GradcoreError, InvalidArgumentError, ResourceExhaustedError
from gradcore.plugin.contract import composite_view

# True while some interceptor is active in some thread; only then is the slow path consulted.
_intercepting = False
_process_interceptors = []
_count_lock = threading.Lock()
_thread_stacks = 0  # how many threads have a non-empty scoped stack


class _Scoped(threading.local):
    def __init__(self):
        self.stack = []


_scoped = _Scoped()


def run_kernel(api, backend, kernel, dtype, *args):
    """``backend.<kernel>(*args)`` as a Tensor of ``dtype``; a backend failure becomes a gradcore error.

    ``api`` is the public name of the op (``"gc.add"``) that errors and interceptors report.
    """
    try:
        if _intercepting:
            raw = _intercepted(api, backend, kernel, args)
        else:
            raw = getattr(backend, kernel)(*args)
    except GradcoreError:
        raise
    except Exception as exc:
        raise kernel_error(api, backend, kernel, args, exc) from exc
    return Tensor(raw, dtype, backend)


def run_unary_kernel(api, backend, kernel, dtype, x):
    """``run_kernel`` of one array: the elementwise hot path, without packing arguments."""
    if _intercepting:
        return run_kernel(api, backend, kernel, dtype, x)
    try:
        raw = getattr(backend, kernel)(x)
    except GradcoreError:
        raise
    except Exception as exc:
        raise kernel_error(api, backend, kernel, (x,), exc) from exc
    return Tensor(raw, dtype, backend)


def run_binary_kernel(api, backend, kernel, dtype, x, y):
    """``run_kernel`` of two arrays: the elementwise hot path, without packing arguments."""
    if _intercepting:
        return run_kernel(api, backend, kernel, dtype, x, y)
    try:
        raw = getattr(backend, kernel)(x, y)
    except GradcoreError:
        raise
    except Exception as exc:
        raise kernel_error(api, backend, kernel, (x, y), exc) from exc
    return Tensor(raw, dtype, backend)


def call_kernel(api, backend, kernel, *args):
    """``run_kernel`` for a kernel whose result is not one tensor (several arrays, or a raw one to convert)."""
    try:
        if _intercepting:
            return _intercepted(api, backend, kernel, args)
        return getattr(backend, kernel)(*args)
    except GradcoreError:
        raise
    except Exception as exc:
        raise kernel_error(api, backend, kernel, args, exc) from exc


def check_on_host(check, *tensors):
    """Call ``check(*values)`` on the tensors' values as NumPy arrays; ``check`` raises if they are bad.

    For what only the values can tell (an index out of range, a zero divisor) and backends
    disagree on. Inside ``gc.function`` the check also runs at every later call of the
    function, on that call's values (docs/function.md, "Host checks").
    """
    if state.tracer is not None and state.tracer.check_at_every_call(check, tensors):
        return  # the values are not known yet: the check runs with the program
    check(*_host_arrays(tensors))


def run_on_host(effect, *tensors):
    """Call ``effect(*values)`` on the tensors' values as NumPy arrays, for what it does on the host
    (a summary, a checkpoint write). Inside ``gc.function`` it runs at every call of the function,
    on that call's values, and never while tracing (docs/function.md, "Host effects")."""
    if state.tracer is not None:
        state.tracer.effect_at_every_call(effect, tensors)
        return
    effect(*_host_arrays(tensors))


def host_call(api, backend, fn, *raws):
    """``fn(*raws)``: a list of ``backend``'s arrays computed on the host from the arrays ``raws`` (a
    collective between worker processes). Inside ``gc.function`` the program calls ``fn`` at every call
    with that call's arrays, between the kernels around it (docs/function.md, "Host calls")."""
    if state.tracer is not None:
        return state.tracer.host_call(api, backend, fn, raws)
    return list(fn(*raws))


def _host_arrays(tensors):
    return [np.asarray(t._backend.to_numpy(t._value)) for t in tensors]


def host_values(api, backend, dtype, device, draw):
    """A tensor of the NumPy values ``draw()`` makes on the host (random numbers), moved to ``backend``.

    Inside ``gc.function`` ``draw`` runs again at every call, in the order the trace drew them,
    so a function gives the numbers the eager program gives (docs/function.md, "Random numbers").
    """
    if state.tracer is not None:
        return Tensor(state.tracer.feed(api, backend, dtype, device, draw), dtype, backend)
    return run_kernel(api, backend, "asarray", dtype, draw(), dtype, device)


class KernelCall:
    """What an interceptor sees: the op's public name, the backend, the kernel's name and its arguments."""

    __slots__ = ("api", "args", "backend", "kernel")

    def __init__(self, api, backend, kernel, args):
        self.api, self.backend, self.kernel, self.args = api, backend, kernel, args

    def run(self, backend=None):
        """Run the kernel itself, on ``backend`` if given (e.g. a composite view of this call's backend)."""
        return getattr(backend or self.backend, self.kernel)(*self.args)


def _intercepted(api, backend, kernel, args):
    chain = (*_process_interceptors, *_scoped.stack)
    call = KernelCall(api, backend, kernel, args)
    return _proceed(chain, 0, call)


def _proceed(chain, index, call):
    """Hand ``call`` to interceptor ``index``; the last one's ``proceed`` runs the kernel."""
    if index == len(chain):
        return call.run()
    return chain[index](call, lambda: _proceed(chain, index + 1, call))


# ---- interceptors ----------------------------------------------------------------------------
# An interceptor is a callable ``interceptor(call, proceed)``: ``proceed()`` runs the rest of the
# chain (the kernel, in the end) and returns its raw result; the interceptor returns the raw result
# the op gets. Process-wide ones run outside (before) the current thread's scoped ones.


@contextlib.contextmanager
def intercepting(interceptor):
    """Within the block, in this thread only, every kernel call passes through ``interceptor``."""
    global _intercepting, _thread_stacks
    stack = _scoped.stack
    stack.append(interceptor)
    if len(stack) == 1:
        with _count_lock:
            _thread_stacks += 1
            _intercepting = True
    try:
        yield interceptor
    finally:
        stack.remove(interceptor)
        if not stack:
            with _count_lock:
                _thread_stacks -= 1
                _intercepting = bool(_thread_stacks or _process_interceptors)



@contextlib.contextmanager
def _intercepting_all(interceptors):
    with contextlib.ExitStack() as stack:
        for interceptor in interceptors:
            stack.enter_context(intercepting(interceptor))
        yield


thread_state.inheritable(lambda: list(_scoped.stack), _intercepting_all)

def install(interceptor):
    """From now on, in every thread, every kernel call passes through ``interceptor``."""
    global _intercepting
    with _count_lock:
        if interceptor not in _process_interceptors:
            _process_interceptors.append(interceptor)
        _intercepting = True


def uninstall(interceptor):
    """Undo ``install``; a no-op if ``interceptor`` is not installed."""
    global _intercepting
    with _count_lock:
        if interceptor in _process_interceptors:
            _process_interceptors.remove(interceptor)
        _intercepting = bool(_thread_stacks or _process_interceptors)


def _use_composites(call, proceed):
    """Run the call's kernel on a composite view of its backend: the optional kernels' defaults.

    The call itself is redirected, so an interceptor further in (the gc.function tracer) sees
    and records the composite kernel.
    """
    call.backend = composite_view(call.backend)
    return proceed()


def force_composites():
    """A context manager: ops in this thread use the contract's composite kernels, so they stay tested.

    ``GRADCORE_FORCE_COMPOSITES=1`` does the same for a whole process, in every thread.
    """
    return intercepting(_use_composites)


if os.environ.get("GRADCORE_FORCE_COMPOSITES") == "1":
    install(_use_composites)


# ---- errors ----------------------------------------------------------------------------------

_OUT_OF_MEMORY_WORDS = ("out of memory", "outofmemory", "resource_exhausted", "unable to allocate", "cannot allocate memory")


def kernel_error(api, backend, kernel, args, exc):
    """The gradcore error for a kernel that raised: one class on every backend, naming the op.

    The core checks dtypes, shapes and sizes before it calls a kernel, so what is left is what only
    the backend can see: inputs on different devices, a dtype a device cannot compute, memory.
    """
    arrays = [a for arg in args for a in (arg if isinstance(arg, (list, tuple)) else (arg,)) if hasattr(a, "shape")]
    described = ", ".join(f"{_dtype_name(backend, a)}{tuple(a.shape)}" for a in arrays) or "no array inputs"
    devices = sorted({backend.device_of(a) for a in arrays}) or [backend.default_device()]
    if len(devices) > 1:
        return InvalidArgumentError(
            f"{api}: inputs {described} are on different devices ({', '.join(devices)}); put them on one "
            f"device first, e.g. with gc.device('{devices[0]}'): x = gc.identity(x)"
        )
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, MemoryError) or any(word in message.lower() for word in _OUT_OF_MEMORY_WORDS):
        return ResourceExhaustedError(
            f"{api}: backend {backend.name!r} ran out of memory on {devices[0]} (kernel {kernel!r}, inputs "
            f"{described}): {message}; use smaller tensors or batches"
        )
    return InvalidArgumentError(
        f"{api}: backend {backend.name!r} failed in kernel {kernel!r} on inputs {described} on {devices[0]}: "
        f"{message}"
    )


def _dtype_name(backend, array):
    try:
        return backend.dtype_of(array).name
    except (GradcoreError, KeyError, TypeError, ValueError):  # a dtype gradcore lacks: say the library's name
        return str(getattr(array, "dtype", "?"))
