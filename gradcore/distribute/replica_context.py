"""``ReplicaContext``: what the function ``strategy.run`` calls sees of its replica."""

from gradcore.distribute import collectives, context
from gradcore.distribute.reduce_op import ReduceOp
from gradcore.distribute.values import regroup
from gradcore.engine import dtypes, nest
from gradcore.engine.convert import to_tensor
from gradcore.engine.custom_gradient import custom_gradient
from gradcore.ops.creation_ops import constant


class ReplicaContext:
    """One replica's view: its id, the number in sync, and collectives with the other replicas.

    Every replica must make the same collective calls in the same order (docs/distribute.md).
    """

    def __init__(self, strategy, local_index, threads=None):
        self.strategy = strategy
        self.local_index = local_index
        self._threads = threads  # the ReplicaThreads of this run, None for a single local replica

    @property
    def replica_id_in_sync_group(self):
        """This replica's id among all replicas of all workers, as an int32 scalar tensor."""
        return constant(self.strategy._replica_offset + self.local_index, dtype=dtypes.int32)

    @property
    def num_replicas_in_sync(self):
        return self.strategy.num_replicas_in_sync

    @property
    def devices(self):
        return (self.strategy._devices[self.local_index],)

    def all_reduce(self, reduce_op, value, options=None):
        """Every replica gets the SUM or MEAN of ``value`` (a tensor or a nested structure of them)
        over all replicas. Differentiable: the gradient is the same reduction of the gradients."""
        op = ReduceOp.parse(reduce_op)
        flat = [to_tensor(x, op_name="ReplicaContext.all_reduce") for x in nest.flatten(value)]
        if not flat:
            return value
        return nest.pack_sequence_as(value, self._differentiable_all_reduce(op, flat))

    def _differentiable_all_reduce(self, op, tensors):
        @custom_gradient
        def all_reduce(*xs):
            def gradient(*dys):
                return self._collective("all_reduce gradient", op, list(dys))

            return self._collective("all_reduce", op, list(xs)), gradient

        return list(all_reduce(*tensors))

    def _collective(self, name, op, tensors):
        strategy = self.strategy

        def combine(per_replica):
            return collectives.all_reduce(op, per_replica, strategy._devices, strategy._workers,
                                          strategy.num_replicas_in_sync)

        if self._threads is None:
            return combine([tensors])[0]
        return self._threads.combine(self.local_index, name, tensors, combine)

    def merge_call(self, merge_fn, args=(), kwargs=None):
        """``merge_fn(strategy, *args, **kwargs)`` once, in cross-replica context, with each argument
        that differs between replicas as a PerReplica; every replica gets its result."""
        kwargs = kwargs or {}

        def merge(per_replica):
            grouped_args, grouped_kwargs = regroup(per_replica) if len(per_replica) > 1 else per_replica[0]
            with context.cross_replica():
                result = merge_fn(self.strategy, *grouped_args, **grouped_kwargs)
            return [result] * len(per_replica)

        if self._threads is None:
            return merge([(args, kwargs)])[0]
        return self._threads.combine(self.local_index, "merge_call", (args, kwargs), merge)

    def __repr__(self):
        return f"<ReplicaContext of replica {self.local_index} of {self.strategy!r}>"


