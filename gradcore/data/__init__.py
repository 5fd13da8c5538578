"""``gc.data``: input pipelines with ``tf.data``'s semantics.

A pipeline keeps its data on the host as NumPy and hands out gradcore Tensors
of the backend that is active where it is iterated. The code lives in:
``dataset`` (the ``Dataset`` API, a wrapper around a pipeline node), ``node``
(the node base class and the cardinality values), ``elements`` (element
conversion), ``sources`` (from_tensor_slices, from_tensors, range),
``generator`` (from_generator), ``transforms`` (shuffle, batch, map ...),
``padding`` (padded_batch, unbatch), ``combine`` (zip, interleave, flat_map),
``parallel_map``, ``prefetch`` (the background producer thread), ``autotune``
(what AUTOTUNE adapts), ``specs`` (element_spec) and ``scopes`` (backend and
device scopes for worker threads); docs/data.md is the guide. Imports run one
way: ``dataset`` builds nodes, and no node module imports ``dataset``.
"""

from gradcore.data.dataset import Dataset
from gradcore.data.node import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY
from gradcore.data.autotune import AUTOTUNE

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Dataset"]
