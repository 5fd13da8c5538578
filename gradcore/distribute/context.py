"""Which strategy is in scope and which replica is running, per thread.

A thread is in *cross-replica* context (the code around ``strategy.run``) or in the
*replica* context of one replica (inside the function ``run`` calls). Outside every
``scope()`` the default strategy is in force: one replica, the code as it is.
Entering the scope of one strategy inside another's is an error, as in
TensorFlow; re-entering the same one is fine. Replica threads inherit the caller's
scopes (gradcore/engine/thread_state.py).
"""

import contextlib
import threading

from gradcore.engine import thread_state


class _Context(threading.local):
    def __init__(self):
        self.strategies = []  # the strategies whose scope() is entered, innermost last
        self.replica = None  # the ReplicaContext of the replica this thread runs, else None


_context = _Context()
thread_state.attribute(_context, "strategies", list)
_default = None  # the default strategy, made on first use
_default_factory = None  # gradcore/distribute/strategy.py's default strategy class


def set_default_factory(factory):
    global _default_factory
    _default_factory = factory


def default_strategy():
    global _default
    if _default is None:
        _default = _default_factory()
    return _default


def current_strategy():
    """The innermost strategy in scope, else the default strategy."""
    return _context.strategies[-1] if _context.strategies else default_strategy()


def strategy_in_scope():
    """The innermost strategy in scope, or None outside every scope."""
    return _context.strategies[-1] if _context.strategies else None


def has_strategy():
    """Whether a strategy other than the default is in scope."""
    strategy = strategy_in_scope()
    return strategy is not None and strategy is not _default


def current_replica():
    """The ReplicaContext this thread runs in, or None in cross-replica context."""
    return _context.replica


def check_same_strategy(strategy, api):
    """TensorFlow's error for using ``strategy`` inside another strategy's scope."""
    inner = strategy_in_scope()
    if inner is not None and inner is not strategy:
        raise RuntimeError(f"Mixing different tf.distribute.Strategy objects: {strategy!r} is not {inner!r} "
                           f"({api} was called inside the scope of the other strategy)")


@contextlib.contextmanager
def entered(strategy):
    """The block runs in ``strategy``'s scope."""
    check_same_strategy(strategy, "scope()")
    _context.strategies.append(strategy)
    try:
        yield strategy
    finally:
        _context.strategies.pop()


@contextlib.contextmanager
def in_replica(replica_context):
    """The block runs as one replica (in the strategy's scope, as TensorFlow's replica functions do)."""
    saved = _context.replica
    _context.replica = replica_context
    _context.strategies.append(replica_context.strategy)
    try:
        yield replica_context
    finally:
        _context.strategies.pop()
        _context.replica = saved


@contextlib.contextmanager
def cross_replica():
    """The block runs in cross-replica context (a merge_call's function), in the same thread."""
    saved, _context.replica = _context.replica, None
    try:
        yield
    finally:
        _context.replica = saved
