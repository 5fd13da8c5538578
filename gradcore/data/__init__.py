"""``gc.data``: input pipelines with ``tf.data``'s semantics.

A pipeline keeps its data on the host as NumPy and hands out gradcore Tensors
of the backend that is active where it is iterated. The code lives in:
``dataset`` (the ``Dataset`` API and element conversion), ``sources``
(from_tensor_slices, from_tensors, range), ``transforms`` (shuffle, batch, map
...) and ``prefetch`` (the background producer thread).
"""

from gradcore.data.dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Dataset"]
