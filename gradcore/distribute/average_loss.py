"""``gc.nn.compute_average_loss`` and ``gc.nn.scale_regularization_loss``: losses a replica returns so
that the gradients summed over the replicas are those of the global batch's mean loss."""

from gradcore.distribute import context
from gradcore.engine.convert import to_tensor
from gradcore.errors import InvalidArgumentError
from gradcore.ops.array_ops import reshape
from gradcore.ops.math_ops import cast, multiply
from gradcore.ops.reduction_ops import reduce_sum


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """sum(per_example_loss * sample_weight) / global_batch_size, in the loss's dtype.

    Without ``global_batch_size``: this replica's batch size times ``num_replicas_in_sync``."""
    api = "gc.nn.compute_average_loss"
    losses = to_tensor(per_example_loss, op_name=api)
    if losses.ndim == 0:
        raise ValueError("Invalid value passed for `per_example_loss`. Expected a tensor with at least rank 1.")
    if sample_weight is not None:
        weights = _to_rank_of(cast(to_tensor(sample_weight, op_name=api), losses.dtype), losses)
        losses = cast(multiply(losses, weights), losses.dtype)
    if global_batch_size is None:
        _in_replica_only(api)
        global_batch_size = losses.shape[0] * context.current_strategy().num_replicas_in_sync
    else:
        global_batch_size = _positive_integer(global_batch_size, api)
    return reduce_sum(losses) / cast(global_batch_size, losses.dtype)


def _to_rank_of(weights, losses):
    """``weights`` given one axis fewer gain a trailing axis, one more a trailing 1 dropped, as TF's
    losses do before they weigh (per-example weights of per-element losses mean weights per row)."""
    if weights.ndim == losses.ndim - 1:
        return reshape(weights, tuple(weights.shape) + (1,))
    if weights.ndim == losses.ndim + 1 and weights.shape[-1] == 1:
        return reshape(weights, tuple(weights.shape)[:-1])
    return weights


def scale_regularization_loss(regularization_loss):
    """sum(regularization_loss) / num_replicas_in_sync: each replica adds its share."""
    _in_replica_only("gc.nn.scale_regularization_loss")
    return reduce_sum(regularization_loss) / context.current_strategy().num_replicas_in_sync


def _in_replica_only(api):
    if context.has_strategy() and context.current_replica() is None:
        raise RuntimeError(f"You are calling `{api.rsplit('.', 1)[-1]}` in cross replica context, while it was "
                           "expected to be called in replica context.")


def _positive_integer(value, api):
    tensor = to_tensor(value, op_name=api)
    if tensor.ndim != 0:
        raise InvalidArgumentError(f"{api}: global_batch_size must be scalar, got shape {tensor.shape}")
    if not tensor.dtype.is_integer:
        raise InvalidArgumentError(f"{api}: global_batch_size must be an integer, got dtype {tensor.dtype.name}")
    if int(tensor) <= 0:
        raise InvalidArgumentError(f"{api}: global_batch_size must be positive, got {int(tensor)}")
    return tensor
