"""Variables made inside ``strategy.scope()``: one copy per local replica.

``gc.Variable(...)`` inside a scope makes a ``MirroredVariable`` (or, with
``synchronization=ON_READ``, a ``SyncOnReadVariable``): a Variable whose value is
the copy of the replica running now (gradcore/engine/variables.py's
``distributed_class`` hook). Each copy is a plain Variable of its own, so tapes,
``gc.function`` traces and checkpoints see ordinary variables.

- Mirrored (weights, optimizer slots): every replica's copy holds the same value.
  Outside ``run`` a write goes to every copy; inside, a replica writes its own copy,
  which stays equal to the others because the optimizer sums the gradients over
  the replicas first. A replica's ``assign`` with aggregation MEAN or SUM combines
  the replicas' values first; with NONE it is refused outside an optimizer step,
  as in TensorFlow (the copies would drift apart).
- SyncOnRead (metrics' totals and counts): each replica adds into its own copy;
  a read outside ``run`` combines them (SUM or MEAN) over replicas and workers.
  A write outside ``run`` makes the combined value equal what was written.
"""

import threading

import numpy as np

from gradcore.distribute import collectives, context
from gradcore.distribute.reduce_op import ReduceOp
from gradcore.engine import variables as engine_variables
from gradcore.engine.convert import device
from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable, VariableAggregation, VariableSynchronization
from gradcore.errors import InvalidArgumentError
from gradcore.ops.creation_ops import constant, zeros_like


class _Writes(threading.local):
    def __init__(self):
        self.in_sync = 0  # > 0 inside an optimizer step: every replica writes the same value


_writes = _Writes()


class writes_in_sync:
    """Within the block each replica's writes to its mirrored copies are known to agree (an optimizer step)."""

    def __enter__(self):
        _writes.in_sync += 1

    def __exit__(self, *exc):
        _writes.in_sync -= 1


class DistributedVariable(Variable):
    """A Variable with one component Variable per local replica of its strategy."""

    __slots__ = ("_components", "_strategy")

    def __init__(self, initial_value=None, trainable=None, name=None, dtype=None, shape=None,
                 synchronization="auto", aggregation="none"):
        strategy = context.current_strategy()
        if callable(initial_value):
            initial_value = initial_value()  # once: every replica starts from the same value
        with device(strategy._devices[0]):
            first = _plain(initial_value, trainable, name, dtype, shape, synchronization, aggregation)
        first._value = strategy._initial_value(first)
        snapshot = Tensor(first._value, first._dtype, first._backend)  # not a read: no tape should watch a copy
        self._components = [first] + [_plain(collectives.on_device(snapshot, d), trainable, name,
                                             first.dtype, shape, synchronization, aggregation)
                                      for d in strategy._devices[1:]]
        self._strategy = strategy
        for slot in ("_backend", "_dtype", "_name", "_trainable", "_synchronization", "_aggregation"):
            setattr(self, slot, getattr(first, slot))

    def _replica_index(self):
        """The local index of the replica running now, or None in cross-replica context."""
        replica = context.current_replica()
        if replica is not None and replica.strategy is self._strategy:
            return replica.local_index
        return None

    def _write_all(self, raw):
        """The same value into every copy, each on its own device."""
        value = Tensor(raw, self._dtype, self._backend)
        for component in self._components:
            component._value = collectives.on_device(value, component.device)._value

    def _restored_copies(self, array):
        """(copy, value) pairs that restore a checkpoint's ``array``: the value every copy starts from."""
        return [(component, array) for component in self._components]

    # What a read of the value would do (a combination, for SyncOnRead) is not needed to describe it.
    shape = property(lambda self: self._components[0].shape)
    ndim = property(lambda self: self._components[0].ndim)
    device = property(lambda self: self._components[0].device)

    @Variable.trainable.setter
    def trainable(self, value):
        Variable.trainable.fset(self, value)
        for component in self._components:
            component.trainable = value


class MirroredVariable(DistributedVariable):
    """The same value on every replica (``synchronization`` ON_WRITE)."""

    __slots__ = ()

    def _get(self):
        index = self._replica_index()
        return self._components[0 if index is None else index]._value

    def _set(self, raw):
        index = self._replica_index()
        if index is None:
            self._write_all(raw)
        else:
            self._components[index]._value = raw

    _value = property(_get, _set)

    def _agreed(self, value, api):
        """``value`` as every replica will write it: combined per the aggregation inside ``run``."""
        index = self._replica_index()
        if index is None or _writes.in_sync or self._strategy.num_replicas_in_sync == 1:
            return value
        aggregation = self._aggregation
        if aggregation is VariableAggregation.NONE:
            raise ValueError(
                f"{api}: variable {self._name!r} is mirrored, and a replica's write would make its copies differ; "
                "create it with aggregation='mean' or 'sum' (or 'only_first_replica'), or write it outside strategy.run")
        replica = context.current_replica()
        if aggregation is VariableAggregation.ONLY_FIRST_REPLICA:
            value = constant(value, dtype=self._dtype) if not isinstance(value, Tensor) else value
            return replica.all_reduce(ReduceOp.SUM, value if index == 0 and self._strategy._replica_offset == 0
                                      else zeros_like(value))
        return replica.all_reduce(ReduceOp.MEAN if aggregation is VariableAggregation.MEAN else ReduceOp.SUM, value)

    def assign(self, value, use_locking=False, name=None, read_value=True):
        return super().assign(self._agreed(value, "Variable.assign"), use_locking, name, read_value)

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        return super().assign_add(self._agreed(delta, "Variable.assign_add"), use_locking, name, read_value)

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        return super().assign_sub(self._agreed(delta, "Variable.assign_sub"), use_locking, name, read_value)


class SyncOnReadVariable(DistributedVariable):
    """Each replica's own value; read outside ``run``, their SUM or MEAN over every replica (``ON_READ``)."""

    __slots__ = ()

    def _get(self):
        index = self._replica_index()
        if index is not None:
            return self._components[index]._value
        aggregation = self._aggregation
        if aggregation in (VariableAggregation.NONE, VariableAggregation.ONLY_FIRST_REPLICA):
            return self._components[0]._value
        op = ReduceOp.MEAN if aggregation is VariableAggregation.MEAN else ReduceOp.SUM
        reduced = collectives.all_reduce(op, [[c.read_value()] for c in self._components],
                                         [self._strategy._devices[0]] * len(self._components),
                                         self._strategy._workers, self._strategy.num_replicas_in_sync)
        return reduced[0][0]._value

    def _set(self, raw):
        index = self._replica_index()
        if index is not None:
            self._components[index]._value = raw
        elif self._aggregation is VariableAggregation.SUM:
            # The combined read must give back what was written: it all goes into the first replica.
            self._write_all(zeros_like(Tensor(raw, self._dtype, self._backend))._value)
            if self._strategy._replica_offset == 0:
                self._components[0]._value = raw
        else:
            self._write_all(raw)

    _value = property(_get, _set)

    def _restored_copies(self, array):
        if self._aggregation is not VariableAggregation.SUM:
            return super()._restored_copies(array)
        first = array if self._strategy._replica_offset == 0 else np.zeros_like(array)  # the sum is the value
        return [(c, first if i == 0 else np.zeros_like(array)) for i, c in enumerate(self._components)]


def _plain(initial, trainable, name, dtype, shape, synchronization, aggregation):
    """A component: an ordinary Variable (made past the strategy's hook)."""
    component = object.__new__(Variable)
    Variable.__init__(component, initial, trainable=trainable, name=name, dtype=dtype, shape=shape,
                      synchronization=synchronization, aggregation=aggregation)
    return component


def _distributed_class(args, kwargs):
    """What ``gc.Variable(...)`` makes: a distributed variable inside a non-default strategy's scope."""
    strategy = context.strategy_in_scope()
    if strategy is None or getattr(strategy, "_plain_variables", False):
        return None
    synchronization = kwargs.get("synchronization", args[5] if len(args) > 5 else "auto")
    synchronization = engine_variables._enum_member(VariableSynchronization, synchronization, "gc.Variable")
    if synchronization is VariableSynchronization.ON_READ:
        return SyncOnReadVariable
    if synchronization is VariableSynchronization.NONE:
        raise InvalidArgumentError("gc.Variable: synchronization=NONE is not supported inside strategy.scope(); "
                                   "use ON_WRITE (the default) or ON_READ")
    return MirroredVariable


engine_variables.distributed_class = _distributed_class
