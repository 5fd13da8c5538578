"""``gc.data.Dataset``: a re-iterable description of an input pipeline, as ``tf.data.Dataset``.

A Dataset wraps the last node of a chain (node.py); each method returns a new
Dataset around a new node that reads from this one. Iterating a Dataset starts
an epoch: each node asks its input for a fresh stream. Elements stay NumPy on
the host until they leave the pipeline or enter a map or filter function; then
they become Tensors of the backend active at that moment.
"""

import numpy as np

from gradcore.data import combine, padding, parallel_map, prefetch, sources, transforms
from gradcore.data.elements import structure, to_host
from gradcore.data.generator import FromGenerator
from gradcore.data.iterator import DatasetIterator
from gradcore.data.node import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY
from gradcore.engine import dtypes, nest
from gradcore.engine.tensor import Tensor
from gradcore.ops.creation_ops import constant


class Dataset:
    """A sequence of elements (Tensors, or tuples and dicts of them); each ``for`` is a new epoch."""

    def __init__(self, node):
        self._node = node  # built by the methods below; users start from a source method

    # ---- sources ------------------------------------------------------------------------

    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """One element per slice along the first axis of every component (arrays, tuples, dicts)."""
        return Dataset(sources.TensorSlices(structure(tensors, to_host)))

    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset of one element: ``tensors`` whole."""
        return Dataset(sources.TensorSlices(structure(tensors, lambda value: to_host(value)[np.newaxis])))

    @staticmethod
    def range(*args, output_type=dtypes.int64, name=None, dtype=None):
        """``range(stop)``, ``range(start, stop[, step])`` as scalar elements of ``output_type``
        (int64 by default; ``dtype`` is accepted as another name for it)."""
        return Dataset(sources.Range(args, dtypes.as_dtype(output_type if dtype is None else dtype)))

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None, output_signature=None,
                       name=None):
        """The elements ``generator(*args)`` yields, checked against ``output_signature`` (a structure
        of ``gc.TensorSpec``) or the deprecated ``output_types`` / ``output_shapes`` (generator.py)."""
        return Dataset(FromGenerator(generator, output_types, output_shapes, args, output_signature))

    @staticmethod
    def zip(*args, datasets=None, name=None):
        """Elements of several datasets side by side: ``zip(a, b)``, ``zip((a, (b, c)))``,
        ``zip({"x": a, "y": b})``; as long as the shortest."""
        if args and datasets is not None:
            raise TypeError("Dataset.zip: both `*args` and `datasets` cannot be set")
        if datasets is None:
            if not args:
                raise TypeError("Dataset.zip: must pass at least one dataset")
            datasets = args[0] if len(args) == 1 else args
        nodes = structure(datasets, _zipped_node)
        if not nest.flatten(nodes):
            raise TypeError(f"Dataset.zip: must pass at least one dataset, got {datasets!r}")
        return Dataset(combine.Zip(nodes))

    # ---- transformations ----------------------------------------------------------------

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """Elements in random order: a buffer of ``buffer_size`` emits a random element and refills."""
        return Dataset(transforms.Shuffle(self._node, buffer_size, seed, reshuffle_each_iteration))

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        """Consecutive elements stacked along a new first axis; ``num_parallel_calls`` is accepted and unused."""
        return Dataset(transforms.Batch(self._node, batch_size, drop_remainder))

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None):
        """Consecutive elements padded to common shapes and stacked (padding.py)."""
        return Dataset(padding.PaddedBatch(self._node, batch_size, padded_shapes, padding_values, drop_remainder))

    def unbatch(self, name=None):
        """Each element split along its first axis into that many elements."""
        return Dataset(padding.Unbatch(self._node))

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """``map_func`` applied to each element (a tuple is spread over its arguments).

        With ``num_parallel_calls`` (a count or ``AUTOTUNE``) calls run on a thread pool; the
        order stays the input's unless ``deterministic=False`` (parallel_map.py).
        """
        if num_parallel_calls is None:
            return Dataset(transforms.Map(self._node, map_func))
        return Dataset(parallel_map.ParallelMap(self._node, map_func, num_parallel_calls, deterministic))

    def flat_map(self, map_func, name=None):
        """The datasets ``map_func`` makes from each element, one after the other."""
        return Dataset(combine.Interleave(self._node, map_func, _node_of, "Dataset.flat_map"))

    def interleave(self, map_func, cycle_length=None, block_length=None, num_parallel_calls=None,
                   deterministic=None, name=None):
        """The datasets ``map_func`` makes, ``cycle_length`` at a time, ``block_length`` elements from
        each in turn (combine.py); ``num_parallel_calls`` fetches from them on threads, in the same order."""
        return Dataset(combine.Interleave(
            self._node, map_func, _node_of, "Dataset.interleave", cycle_length, block_length, num_parallel_calls))

    def filter(self, predicate, name=None):
        """The elements for which ``predicate`` (called as in ``map``) is true."""
        return Dataset(transforms.Filter(self._node, predicate))

    def prefetch(self, buffer_size, name=None):
        """Elements produced ahead by a background thread, up to ``buffer_size``; ``AUTOTUNE``: a
        bound that grows while a bursty consumer waits (autotune.py); 0: no prefetching."""
        return Dataset(prefetch.Prefetch(self._node, buffer_size))

    def cache(self, filename="", name=None):
        """Elements kept in memory by the first complete epoch and replayed after it."""
        return Dataset(transforms.Cache(self._node, filename))

    def repeat(self, count=None, name=None):
        """The dataset ``count`` times over (forever when ``count`` is None or -1)."""
        return Dataset(transforms.Repeat(self._node, count))

    def take(self, count, name=None):
        """At most the first ``count`` elements (all of them when ``count`` is -1)."""
        return Dataset(transforms.Take(self._node, count))

    def skip(self, count, name=None):
        """All but the first ``count`` elements (none when ``count`` is -1)."""
        return Dataset(transforms.Skip(self._node, count))

    def enumerate(self, start=0, name=None):
        """``(index, element)`` pairs with an int64 index counting from ``start``."""
        return Dataset(transforms.Enumerate(self._node, start))

    # ---- iteration and size -------------------------------------------------------------

    def __iter__(self):
        """A new pass over the elements; the iterator's position can be checkpointed (iterator.py)."""
        return DatasetIterator(self._node)

    def as_numpy_iterator(self):
        """The elements with every Tensor replaced by a NumPy array."""
        for element in self:
            yield nest.map_structure(Tensor.numpy, element)

    @property
    def element_spec(self):
        """The structure of ``gc.TensorSpec`` that describes every element (``None`` sizes vary).

        A map, flat_map or interleave function is called on stand-in elements to find it (specs.py).
        """
        return self._node.element_spec()

    def cardinality(self):
        """The number of elements as an int64 scalar, or ``INFINITE_CARDINALITY`` / ``UNKNOWN_CARDINALITY``."""
        return constant(np.int64(self._node.cardinality()))

    def __len__(self):
        size = self._node.cardinality()
        if size == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if size == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return size

    def __bool__(self):
        return True  # a Dataset is truthy even where len() cannot tell its size

    def __repr__(self):
        return f"<gc.data.Dataset {type(self._node).__name__} cardinality={self._node.cardinality()}>"


def _node_of(value):
    """The node of a Dataset, or None for anything else."""
    return value._node if isinstance(value, Dataset) else None


def _zipped_node(value):
    if isinstance(value, Dataset):
        return value._node
    if isinstance(value, list):
        raise TypeError(
            "Dataset.zip: inputs are (nested) structures of gc.data.Dataset objects; a Python list is not "
            "supported, use a tuple instead")
    raise TypeError(
        f"Dataset.zip: inputs are (nested) structures of gc.data.Dataset objects, but found an object of "
        f"type {type(value).__name__}")

