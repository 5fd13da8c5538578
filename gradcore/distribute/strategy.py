"""``Strategy``: TensorFlow's distribution API over local replicas and, optionally, workers.

A strategy has local replicas, each on a device of this process (several may
share the CPU: logical replicas, as TensorFlow's logical CPUs), and possibly a
group of workers, other processes running the same program (workers.py). The
subclasses only choose the devices and the workers (mirrored.py,
multi_worker.py); everything the API does is here (docs/distribute.md).
"""

import contextlib

from gradcore.distribute import collectives, context
from gradcore.distribute.reduce_op import ReduceOp
from gradcore.distribute.replica_context import ReplicaContext
from gradcore.distribute.replicas import ReplicaThreads
from gradcore.distribute.values import PerReplica, regroup, select_replica
from gradcore.engine import dtypes, nest
from gradcore.engine.convert import available_device, device, to_tensor
from gradcore.engine.recording import state
from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable
from gradcore.errors import InvalidArgumentError
from gradcore.ops.creation_ops import constant
from gradcore.ops.reduction_ops import reduce_sum
from gradcore.plugin.contract import NeedsConcreteValues


class StrategyExtended:
    """``strategy.extended``: where the replicas live."""

    def __init__(self, strategy):
        self._strategy = strategy

    @property
    def worker_devices(self):
        return tuple(self._strategy._device_names)

    parameter_devices = worker_devices

    @property
    def should_checkpoint(self):
        """Whether this worker writes checkpoints: only the chief does (the others' writes are skipped)."""
        workers = self._strategy._workers
        return workers is None or workers.rank == 0

    should_save_summary = should_checkpoint


class Strategy:
    """The API every strategy shares; ``devices`` are this process's replicas, ``workers`` a WorkerGroup or None."""

    def __init__(self, devices, workers=None):
        self._device_names = [str(d) for d in devices]
        self._devices = [_placement(d, type(self).__name__) for d in devices]
        self._workers = workers
        world = 1 if workers is None else workers.world_size
        self._replica_offset = 0 if workers is None else workers.rank * len(self._devices)
        self._num_replicas_in_sync = world * len(self._devices)
        self.extended = StrategyExtended(self)

    @property
    def num_replicas_in_sync(self):
        return self._num_replicas_in_sync

    @contextlib.contextmanager
    def scope(self):
        """Variables made inside are distributed (one copy per replica); ``get_strategy()`` returns this."""
        with context.entered(self):
            yield self

    # ---- running ---------------------------------------------------------------------------

    def run(self, fn, args=(), kwargs=None, options=None):
        """``fn(*args, **kwargs)`` once per local replica; PerReplica arguments give each replica its own
        value. Returns the result, with PerReplica where the replicas' results differ."""
        if not isinstance(args, (list, tuple)):
            raise ValueError(f"positional args must be a list or tuple, got {type(args)}")  # noqa: TRY004 - TF's
        context.check_same_strategy(self, "run()")
        kwargs = kwargs or {}
        count = len(self._devices)
        if count == 1:
            return self._run_replica(fn, args, kwargs, 0, None)
        if state.tracer is not None:
            if state.tracer.abstract:
                # jax's abstract tracing lives in this thread; the replicas' threads cannot add to it.
                raise NeedsConcreteValues("strategy.run with several local replicas traces on concrete values")
            if len(set(self._devices)) > 1:
                state.tracer.replay_only()  # one compiled computation cannot span devices the backend keeps apart
        threads = ReplicaThreads(count, f"{type(self).__name__}.run")
        results = threads.run([
            (lambda i=i: self._run_replica(fn, args, kwargs, i, threads)) for i in range(count)])
        return regroup(results)

    def _run_replica(self, fn, args, kwargs, index, threads):
        replica_device = self._devices[index]
        args, kwargs = select_replica((list(args), kwargs), index)
        args, kwargs = nest.map_structure(lambda x: _placed(x, replica_device), (args, kwargs))
        with context.in_replica(ReplicaContext(self, index, threads)), device(replica_device):
            return fn(*args, **kwargs)

    # ---- combining in cross-replica context ------------------------------------------------

    def reduce(self, reduce_op, value, axis):
        """The SUM or MEAN over all replicas of ``value``; with ``axis``, over that axis too (the MEAN
        divides by the number of elements along it, over every replica)."""
        op = ReduceOp.parse(reduce_op)
        api = f"{type(self).__name__}.reduce"
        self._cross_replica_only(api)
        locals_ = self._local_tensors(value, api, op)
        if axis is None:
            return self._combined(op, locals_)
        counts = [constant(t.shape[axis], dtype=dtypes.int64) if t.ndim else None for t in locals_]
        if counts[0] is None:
            raise InvalidArgumentError(f"{api}: axis {axis} is out of range for a scalar value")
        sums = [reduce_sum(t, axis=axis) for t in locals_]
        total = self._combined(ReduceOp.SUM, sums)
        if op is ReduceOp.SUM:
            return total
        count = self._combined(ReduceOp.SUM, counts)
        return collectives.mean_of(total, int(count.numpy()))

    def _combined(self, op, tensors):
        """The reduction of one tensor per local replica (and per worker) on the first device."""
        reduced = collectives.all_reduce(op, [[t] for t in tensors], self._devices[:1] * len(tensors),
                                         self._workers, self.num_replicas_in_sync)
        return reduced[0][0]

    def gather(self, value, axis):
        """Every replica's ``value`` concatenated along ``axis``: local replicas in order, then workers by rank."""
        api = f"{type(self).__name__}.gather"
        self._cross_replica_only(api)
        return collectives.gather(self._local_tensors(value, api), axis, self._devices[0], self._workers, api)

    def experimental_local_results(self, value):
        """The local replicas' values as a tuple (one element for a non-distributed value)."""
        if isinstance(value, PerReplica):
            return value.values
        components = getattr(value, "_components", None)
        if isinstance(value, Variable) and components is not None:
            return tuple(components)
        return (value,)

    def experimental_distribute_values_from_function(self, value_fn):
        """``value_fn(ValueContext)`` for each local replica, as a PerReplica (a plain value for one replica)."""
        values = [value_fn(ValueContext(self._replica_offset + i, self.num_replicas_in_sync))
                  for i in range(len(self._devices))]
        return values[0] if len(values) == 1 else PerReplica(values)

    def experimental_distribute_dataset(self, dataset, options=None):
        """Each global batch of ``dataset`` split between the replicas (docs/distribute.md, "Input")."""
        from gradcore.distribute.input import DistributedDataset  # imported here: the data package imports ops

        return DistributedDataset(self, dataset)

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        """``dataset_fn(InputContext)`` makes this worker's dataset of per-replica batches; the local
        replicas take its batches in turn."""
        from gradcore.distribute.input import DistributedDatasetsFromFunction

        return DistributedDatasetsFromFunction(self, dataset_fn)

    # ---- helpers ------------------------------------------------------------------------------

    def _initial_value(self, variable):
        """A new distributed variable's first array: with workers, worker 0's, as each may have drawn
        its own (inside a gc.function trace the value is the program's, made alike by every worker)."""
        if self._workers is None or state.tracer is not None:
            return variable._value
        return self._workers.broadcast([variable._value], variable._backend)[0]

    def _cross_replica_only(self, api):
        context.check_same_strategy(self, api)
        if context.current_replica() is not None:
            raise RuntimeError(f"{api} must be called in cross-replica context (outside strategy.run); in a "
                               "replica use gc.distribute.get_replica_context().all_reduce")

    def _local_tensors(self, value, api, op=None):
        """One tensor per local replica from a PerReplica, a distributed variable or a plain value."""
        values = self.experimental_local_results(value)
        if len(values) == len(self._devices):
            return [to_tensor(v, op_name=api) for v in values]
        if len(values) != 1:
            raise InvalidArgumentError(f"{api}: the value has {len(values)} per-replica values for "
                                       f"{len(self._devices)} local replicas")
        tensor = to_tensor(values[0], op_name=api)
        if op is ReduceOp.SUM and self.num_replicas_in_sync > 1:
            raise ValueError(f"{api}: a non-distributed value {tensor!r} cannot be reduced with SUM over "
                             f"{self.num_replicas_in_sync} replicas; return it from strategy.run to make it per-replica")
        return [tensor] * len(self._devices)

    def __repr__(self):
        return f"<gc.distribute.{type(self).__name__} on {self._device_names}>"


class ValueContext:
    """What ``experimental_distribute_values_from_function``'s function gets."""

    def __init__(self, replica_id_in_sync_group, num_replicas_in_sync):
        self.replica_id_in_sync_group = replica_id_in_sync_group
        self.num_replicas_in_sync = num_replicas_in_sync


class _DefaultDistributionStrategy(Strategy):
    """The strategy in force outside every scope: one replica, the code as it is."""

    _plain_variables = True

    def __init__(self):
        super().__init__(["cpu"])

    def _run_replica(self, fn, args, kwargs, index, threads):
        return fn(*args, **kwargs)  # no replica device: the caller's device scope stays in force


def _placement(name, api):
    """The backend device a replica named ``name`` runs on ("/cpu:1" ...: a logical CPU)."""
    return available_device(name, f"gc.distribute.{api}")


def _placed(value, replica_device):
    """A tensor argument on another device is copied to the replica's, as TensorFlow's mirrored inputs are."""
    if isinstance(value, Tensor) and value.device != replica_device:
        return collectives.on_device(value, replica_device)
    return value


context.set_default_factory(_DefaultDistributionStrategy)
