"""What a thread started to work for another inherits from it.

gradcore keeps its scopes per thread, as TensorFlow does: the backend and device
scopes, the name scope, the kernel interceptors, the gc.function trace running,
the summary writer, a layer call's training flag. A distribution strategy runs
each replica's function in a thread of its own (docs/distribute.md, "Replicas"),
and that function must see what the caller's thread had set up around
``strategy.run``. Each module that keeps such state registers here how to read
it in the caller's thread and how to set it up in the worker thread; tapes are
not inherited (they stay with the thread that opened them, as in TensorFlow).
"""

import contextlib

_inheritable = []  # (capture() -> value, enter(value) -> context manager)


def inheritable(capture, enter):
    """Register one piece of per-thread state: ``capture()`` reads it in the parent thread, and
    ``enter(value)`` is a context manager that holds it in a child thread."""
    _inheritable.append((capture, enter))


def attribute(local, name, copy=lambda value: value):
    """Register ``local.<name>`` (an attribute of a ``threading.local``), copied with ``copy``."""

    @contextlib.contextmanager
    def enter(value):
        saved = getattr(local, name)
        setattr(local, name, copy(value))
        try:
            yield
        finally:
            setattr(local, name, saved)

    inheritable(lambda: getattr(local, name), enter)


def capture():
    """This thread's inheritable state, for ``inherited`` in another thread."""
    return [(enter, read()) for read, enter in _inheritable]


@contextlib.contextmanager
def inherited(captured):
    """Within the block, this thread has the state ``capture()`` read in another thread."""
    with contextlib.ExitStack() as stack:
        for enter, value in captured:
            stack.enter_context(enter(value))
        yield
