"""``gc.data.Dataset``: a re-iterable description of an input pipeline, as ``tf.data.Dataset``.

A Dataset wraps the last node of a chain (node.py); each method returns a new
Dataset around a new node that reads from this one. Iterating a Dataset starts
an epoch: each node asks its input for a fresh stream. Elements stay NumPy on
the host until they leave the pipeline or enter a map or filter function; then
they become Tensors of the backend active at that moment.
"""

import numpy as np

from gradcore.data import prefetch, sources, transforms
from gradcore.data.elements import structure, to_host
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
    def range(*args, dtype=dtypes.int64, name=None):
        """``range(stop)``, ``range(start, stop[, step])`` as scalar elements (int64 by default)."""
        return Dataset(sources.Range(args, dtypes.as_dtype(dtype)))

    # ---- transformations ----------------------------------------------------------------

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """Elements in random order: a buffer of ``buffer_size`` emits a random element and refills."""
        return Dataset(transforms.Shuffle(self._node, buffer_size, seed, reshuffle_each_iteration))

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        """Consecutive elements stacked along a new first axis; ``num_parallel_calls`` is accepted and unused."""
        return Dataset(transforms.Batch(self._node, batch_size, drop_remainder))

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """``map_func`` applied to each element (a tuple is spread over its arguments), in order.

        ``num_parallel_calls`` is accepted so TensorFlow code ports; calls run one at a time.
        """
        return Dataset(transforms.Map(self._node, map_func))

    def filter(self, predicate, name=None):
        """The elements for which ``predicate`` (called as in ``map``) is true."""
        return Dataset(transforms.Filter(self._node, predicate))

    def prefetch(self, buffer_size, name=None):
        """Elements produced ahead by a background thread, up to ``buffer_size`` (or ``AUTOTUNE``)."""
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

