"""Combining the replicas' tensors: in replica order on this machine, then across workers.

Local replicas' values are summed left to right in replica order, on the first
replica's device, so the bits do not depend on thread timing; the sum then goes
to the other workers through ``torch.distributed`` (gradcore/distribute/workers.py),
whose all-reduce hands every worker the same bits; then each replica gets a copy
on its own device. MEAN divides the sum by the number of replicas in sync.
"""

from gradcore.distribute.reduce_op import ReduceOp
from gradcore.engine.convert import device as placed_on
from gradcore.engine.recording import paused
from gradcore.engine.tensor import Tensor
from gradcore.errors import InvalidArgumentError
from gradcore.ops.array_ops import _copy_to, concat
from gradcore.ops.kernels import host_call
from gradcore.ops.math_ops import add, cast, divide


def on_device(tensor, device):
    """``tensor`` on ``device`` (the same tensor if it is there)."""
    return _copy_to(tensor, device)


def sum_in_order(tensors, device):
    """t0 + t1 + ... on ``device``."""
    total = on_device(tensors[0], device)
    for tensor in tensors[1:]:
        total = add(total, on_device(tensor, device))
    return total


def across_workers(workers, tensors):
    """The elementwise sum of each tensor over every worker (the tensors themselves when alone)."""
    if workers is None or not tensors:
        return list(tensors)
    backend = tensors[0]._backend
    raws = host_call("ReplicaContext.all_reduce", backend, lambda *arrays: workers.all_reduce(list(arrays), backend),
                     *(t._value for t in tensors))
    return [Tensor(raw, t._dtype, backend) for raw, t in zip(raws, tensors)]


def gathered_across_workers(workers, tensor, axis):
    if workers is None:
        return tensor
    backend = tensor._backend
    raw, = host_call("Strategy.gather", backend, lambda array: [workers.all_gather(array, backend, axis)],
                     tensor._value)
    return Tensor(raw, tensor._dtype, backend)


def mean_of(total, count):
    """``total / count`` in ``total``'s dtype (floor division for integers, as a sum of counts would need)."""
    if total.dtype.is_floating:
        return divide(total, cast(count, total.dtype))
    return total // count


def all_reduce(op, per_replica, devices, workers, replicas_in_sync):
    """``per_replica[r]`` is replica r's list of tensors; returns, for each replica, the list of
    reduced tensors on that replica's device."""
    # Paused: a collective's gradient is another collective (ReplicaContext.all_reduce). The reduction
    # happens on the first replica's device, whichever replica's thread runs it.
    with paused(), placed_on(devices[0]):
        columns = list(zip(*per_replica))
        totals = [sum_in_order(list(column), devices[0]) for column in columns]
        totals = across_workers(workers, totals)
        if op is ReduceOp.MEAN:
            totals = [mean_of(t, replicas_in_sync) for t in totals]
        return [[on_device(t, device) for t in totals] for device in devices]


def gather(per_replica, axis, device, workers, api):
    """The replicas' tensors concatenated along ``axis``, local replicas in order, then workers in rank order."""
    if per_replica[0].ndim == 0:
        raise InvalidArgumentError(f"{api}: cannot gather scalars along axis {axis}; gather tensors of rank >= 1")
    shapes = {tuple(t.shape[:axis] + t.shape[axis + 1:]) for t in per_replica}
    if len(shapes) > 1:
        raise InvalidArgumentError(f"{api}: the replicas' values differ in shape off axis {axis}: {sorted(shapes)}")
    with placed_on(device):
        local = concat([on_device(t, device) for t in per_replica], axis)
    return gathered_across_workers(workers, local, axis)
