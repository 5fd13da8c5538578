"""Distributed input: each global batch split between the replicas of every worker.

``experimental_distribute_dataset`` reads the dataset as one stream of global
batches; every worker reads the same stream (same seeds, same order) and each
replica takes its own rows of each batch: replica r of R gets rows
[r*k, (r+1)*k) with k = ceil(B / R) for the dataset's batch size B, so a short
final batch leaves the last replicas empty batches, as in TensorFlow. The rows
of all replicas together are the global batch, so a step sums to what one
device would compute on it (docs/distribute.md, "Input").
"""

import math

from gradcore.data.transforms import Batch
from gradcore.distribute import collectives
from gradcore.distribute.values import PerReplica
from gradcore.engine import nest
from gradcore.engine.tensor import Tensor


class InputContext:
    """What ``distribute_datasets_from_function``'s function learns about its input pipeline."""

    def __init__(self, num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=1):
        self.num_input_pipelines = num_input_pipelines
        self.input_pipeline_id = input_pipeline_id
        self.num_replicas_in_sync = num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size):
        """``global_batch_size`` divided by the number of replicas; it must divide evenly."""
        if global_batch_size % self.num_replicas_in_sync:
            raise ValueError(f"The `global_batch_size` {global_batch_size} is not divisible by "
                             f"`num_replicas_in_sync` {self.num_replicas_in_sync}")
        return global_batch_size // self.num_replicas_in_sync


class DistributedDataset:
    """``strategy.experimental_distribute_dataset(dataset)``: iterate it for per-replica batches."""

    def __init__(self, strategy, dataset):
        self._strategy = strategy
        self._dataset = dataset

    def __iter__(self):
        return DistributedIterator(self._strategy, iter(self._dataset), _declared_batch_size(self._dataset._node))


class DistributedIterator:
    """Per-replica batches: a PerReplica at each leaf, or the plain batch for one local replica.

    Checkpoints save the position of the dataset iterator underneath (``_trackable_children``)."""

    def __init__(self, strategy, iterator, batch_size):
        self._strategy = strategy
        self._iterator = iterator
        self._batch_size = batch_size

    def __iter__(self):
        return self

    def __next__(self):
        return self._split(next(self._iterator))

    def get_next(self):
        return next(self)

    def _trackable_children(self):
        return {"iterator": self._iterator}

    def _split(self, element):
        strategy = self._strategy
        replicas = strategy.num_replicas_in_sync
        leaves = nest.flatten(element)
        batch = self._batch_size or max((leaf.shape[0] for leaf in leaves if _batched(leaf)), default=0)
        rows = math.ceil(batch / replicas) if batch else 0
        per_replica = []
        for index, replica_device in enumerate(strategy._devices):
            start = (strategy._replica_offset + index) * rows
            per_replica.append([_rows(leaf, start, start + rows, replica_device) for leaf in leaves])
        if len(per_replica) == 1:
            return nest.pack_sequence_as(element, per_replica[0])
        return nest.pack_sequence_as(element, [PerReplica(values) for values in zip(*per_replica)])


class DistributedDatasetsFromFunction:
    """``strategy.distribute_datasets_from_function(fn)``: this worker's dataset of per-replica batches,
    its successive batches going to the local replicas in turn."""

    def __init__(self, strategy, dataset_fn):
        workers = strategy._workers
        self._strategy = strategy
        self._dataset = dataset_fn(InputContext(
            num_input_pipelines=1 if workers is None else workers.world_size,
            input_pipeline_id=0 if workers is None else workers.rank,
            num_replicas_in_sync=strategy.num_replicas_in_sync))

    def __iter__(self):
        return _TakingTurns(self._strategy, iter(self._dataset))


class _TakingTurns(DistributedIterator):
    def __init__(self, strategy, iterator):
        super().__init__(strategy, iterator, None)

    def __next__(self):
        devices = self._strategy._devices
        elements = [next(self._iterator) for _ in devices]
        placed = [nest.map_structure(lambda x, d=d: _moved(x, d), e) for e, d in zip(elements, devices)]
        if len(placed) == 1:
            return placed[0]
        return nest.pack_sequence_as(placed[0], [PerReplica(v) for v in zip(*map(nest.flatten, placed))])


def _declared_batch_size(node):
    """The batch size of the dataset's last ``batch``, if a chain of transforms leads to one."""
    while node is not None:
        if isinstance(node, Batch):
            return node._size
        node = getattr(node, "_input", None)
    return None


def _batched(leaf):
    return isinstance(leaf, Tensor) and leaf.ndim > 0


def _rows(leaf, start, stop, replica_device):
    if not _batched(leaf):
        return _moved(leaf, replica_device)  # an unbatched value goes to every replica whole
    size = leaf.shape[0]
    return _moved(leaf[min(start, size):min(stop, size)], replica_device)


def _moved(leaf, replica_device):
    return collectives.on_device(leaf, replica_device) if isinstance(leaf, Tensor) else leaf
