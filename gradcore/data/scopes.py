"""The consumer's backend and device, carried into the threads that work for it.

Backend and device scopes are thread-local: a prefetch producer or a parallel map worker
takes the scopes of the thread that started the pass, so its elements are made where an
element computed in that thread would be.
"""

import contextlib

from gradcore.engine.convert import current_device, device
from gradcore.plugin import discovery as plugins


def current_scopes():
    """This thread's (backend, device name or None)."""
    return plugins.get_backend(), current_device()


@contextlib.contextmanager
def entered(scopes):
    """Run the block under ``scopes`` (from ``current_scopes`` in another thread)."""
    backend, device_name = scopes
    with plugins.backend_scope(backend.name), (device(device_name) if device_name else contextlib.nullcontext()):
        yield
