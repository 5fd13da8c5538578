"""An optimizer step inside ``strategy.run``: the gradients summed over every replica first.

Keras' optimizers under a TensorFlow strategy add up the replicas' gradients
before the update (each replica's loss is already divided by the global batch
size: gc.nn.compute_average_loss), then every replica applies the same update to
its own copy of each variable and slot, which therefore stay equal. A variable
made outside ``scope()`` has one copy that every replica would update in turn:
refused, as TensorFlow refuses it.
"""

from gradcore.distribute import context
from gradcore.distribute.reduce_op import ReduceOp
from gradcore.distribute.variables import DistributedVariable
from gradcore.errors import InvalidArgumentError


def summed_over_replicas(grads, variables, own_variables, api):
    """``grads`` summed over the replicas when a replica of several runs this step, else as given."""
    replica = context.current_replica()
    if replica is None or replica.num_replicas_in_sync == 1:
        return grads
    for variable in [*variables, *own_variables]:
        if not isinstance(variable, DistributedVariable):
            raise InvalidArgumentError(
                f"{api}: variable {variable.name!r} was not created under strategy.scope(), so the "
                f"{replica.num_replicas_in_sync} replicas would each update its one copy; create the model and "
                "the optimizer inside `with strategy.scope():`")
    return replica.all_reduce(ReduceOp.SUM, list(grads))

