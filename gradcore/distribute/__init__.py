"""gc.distribute: TensorFlow's distribution strategies on every backend (docs/distribute.md)."""

from gradcore.distribute import variables as _variables  # noqa: F401 - installs the variable hook of scope()
from gradcore.distribute.context import current_replica as _current_replica
from gradcore.distribute.context import current_strategy, has_strategy
from gradcore.distribute.input import InputContext
from gradcore.distribute.mirrored import MirroredStrategy, OneDeviceStrategy
from gradcore.distribute.multi_worker import CollectiveAllReduceStrategy, MultiWorkerMirroredStrategy, is_chief
from gradcore.distribute.reduce_op import ReduceOp
from gradcore.distribute.replica_context import ReplicaContext
from gradcore.distribute.strategy import Strategy, ValueContext
from gradcore.distribute.values import PerReplica
from gradcore.distribute.variables import DistributedVariable, MirroredVariable, SyncOnReadVariable

__all__ = [
    "CollectiveAllReduceStrategy", "DistributedVariable", "InputContext", "MirroredStrategy", "MirroredVariable",
    "MultiWorkerMirroredStrategy", "OneDeviceStrategy", "PerReplica", "ReduceOp", "ReplicaContext", "Strategy",
    "SyncOnReadVariable", "ValueContext", "get_replica_context", "get_strategy", "has_strategy",
    "in_cross_replica_context", "is_chief",
]


def get_strategy():
    """The strategy of the innermost ``scope()`` (or ``run``), else the default strategy."""
    return current_strategy()


def get_replica_context():
    """The running replica's context; None in cross-replica context (in a scope, outside ``run``);
    outside every scope, the default strategy's single replica."""
    replica = _current_replica()
    if replica is not None:
        return replica
    if has_strategy():
        return None
    return _default_replica()


def in_cross_replica_context():
    return has_strategy() and _current_replica() is None


def _default_replica():
    return ReplicaContext(current_strategy(), 0)
