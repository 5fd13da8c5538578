"""``gc.data.Dataset``: a re-iterable description of an input pipeline, as ``tf.data.Dataset``.

A Dataset is a chain of nodes. Iterating one starts an epoch: each node asks
its input for a fresh stream. A node streams either elements or indices into
a row source (``from_tensor_slices``, ``range``). Nodes that only reorder or
cut a stream (shuffle, repeat, take, skip, cache) pass indices through, so a
``batch`` after them gathers a whole batch with one NumPy fancy-index instead
of stacking element by element. Elements stay NumPy on the host until they
leave the pipeline or enter a map or filter function; then they become
Tensors of the backend active at that moment.
"""

import numpy as np

from gradcore.data.elements import as_tensors, structure, to_host
from gradcore.engine import dtypes, nest
from gradcore.engine.convert import constant
from gradcore.engine.tensor import Tensor
from gradcore.plugin import discovery as plugins

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


class Dataset:
    """A sequence of elements (Tensors, or tuples and dicts of them); each ``for`` is a new epoch."""

    # ---- what a node provides: _stream where it can pass indices, else _elements ----------

    def _stream(self):
        """One epoch as ``(rows, items)``: items index into ``rows``, or are elements when rows is None."""
        return None, self._elements()

    def _elements(self):
        """One epoch of elements: host structures, or Tensors a map function made."""
        rows, items = self._stream()
        return items if rows is None else (rows.at(index) for index in items)

    def _cardinality(self):
        return UNKNOWN_CARDINALITY

    # ---- sources ------------------------------------------------------------------------

    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """One element per slice along the first axis of every component (arrays, tuples, dicts)."""
        return sources.TensorSlices(structure(tensors, to_host))

    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset of one element: ``tensors`` whole."""
        return sources.TensorSlices(structure(tensors, lambda value: to_host(value)[np.newaxis]))

    @staticmethod
    def range(*args, dtype=dtypes.int64, name=None):
        """``range(stop)``, ``range(start, stop[, step])`` as scalar elements (int64 by default)."""
        return sources.Range(args, dtypes.as_dtype(dtype))

    # ---- transformations ----------------------------------------------------------------

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """Elements in random order: a buffer of ``buffer_size`` emits a random element and refills."""
        return transforms.Shuffle(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        """Consecutive elements stacked along a new first axis; ``num_parallel_calls`` is accepted and unused."""
        return transforms.Batch(self, batch_size, drop_remainder)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """``map_func`` applied to each element (a tuple is spread over its arguments), in order.

        ``num_parallel_calls`` is accepted so TensorFlow code ports; calls run one at a time.
        """
        return transforms.Map(self, map_func)

    def filter(self, predicate, name=None):
        """The elements for which ``predicate`` (called as in ``map``) is true."""
        return transforms.Filter(self, predicate)

    def prefetch(self, buffer_size, name=None):
        """Elements produced ahead by a background thread, up to ``buffer_size`` (or ``AUTOTUNE``)."""
        return prefetch.Prefetch(self, buffer_size)

    def cache(self, filename="", name=None):
        """Elements kept in memory by the first complete epoch and replayed after it."""
        return transforms.Cache(self, filename)

    def repeat(self, count=None, name=None):
        """The dataset ``count`` times over (forever when ``count`` is None or -1)."""
        return transforms.Repeat(self, count)

    def take(self, count, name=None):
        """At most the first ``count`` elements (all of them when ``count`` is -1)."""
        return transforms.Take(self, count)

    def skip(self, count, name=None):
        """All but the first ``count`` elements (none when ``count`` is -1)."""
        return transforms.Skip(self, count)

    def enumerate(self, start=0, name=None):
        """``(index, element)`` pairs with an int64 index counting from ``start``."""
        return transforms.Enumerate(self, start)

    # ---- iteration and size -------------------------------------------------------------

    def __iter__(self):
        backend = plugins.get_backend()
        for element in self._elements():
            yield as_tensors(element, backend)

    def as_numpy_iterator(self):
        """The elements with every Tensor replaced by a NumPy array."""
        for element in self:
            yield nest.map_structure(Tensor.numpy, element)

    def cardinality(self):
        """The number of elements as an int64 scalar, or ``INFINITE_CARDINALITY`` / ``UNKNOWN_CARDINALITY``."""
        return constant(np.int64(self._cardinality()))

    def __len__(self):
        size = self._cardinality()
        if size == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if size == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return size

    def __bool__(self):
        return True  # a Dataset is truthy even where len() cannot tell its size

    def __repr__(self):
        return f"<gc.data.Dataset {type(self).__name__} cardinality={self._cardinality()}>"


# The nodes subclass Dataset, so they are imported once it exists.
from gradcore.data import prefetch, sources, transforms
