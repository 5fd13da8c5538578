"""Where pipelines start: row sources, whose element ``i`` is computed directly.

``at(index)`` takes an int (one element) or an index array (a batch of
elements, in one NumPy gather): that is what lets ``batch`` skip stacking.
"""

import operator

import numpy as np

from gradcore.data.node import Node
from gradcore.engine import dtypes, nest
from gradcore.errors import InvalidArgumentError
from gradcore.function.signature import TensorSpec


class RowSource(Node):
    """A node of ``self.cardinality()`` rows, streamed as indices 0, 1, 2 ..."""

    def stream(self):
        return self, iter(range(self.cardinality()))


class TensorSlices(RowSource):
    """Row ``i`` is every component sliced at ``i`` along its first axis."""

    def __init__(self, components):
        leaves = nest.flatten(components)
        if not leaves:
            raise InvalidArgumentError("Dataset.from_tensor_slices: needs at least one component, got an empty structure")
        for leaf in leaves:
            if leaf.ndim == 0:
                raise InvalidArgumentError(
                    "Dataset.from_tensor_slices: cannot slice a scalar component (shape ()); "
                    "every component needs a first dimension to slice along"
                )
            if leaf.shape[0] != leaves[0].shape[0]:
                raise InvalidArgumentError(
                    f"Dataset.from_tensor_slices: all components must have the same size in their first "
                    f"dimension, got shapes {leaves[0].shape} and {leaf.shape}"
                )
        self._components = components
        self._size = leaves[0].shape[0]

    def at(self, index):
        return nest.map_structure(lambda array: array[index], self._components)

    def cardinality(self):
        return self._size

    def element_spec(self):
        return nest.map_structure(
            lambda array: TensorSpec(array.shape[1:], dtypes.as_dtype(array.dtype)), self._components)


class Range(RowSource):
    """Row ``i`` is ``start + i * step``, never materialised as a whole."""

    def __init__(self, args, dtype):
        if not 1 <= len(args) <= 3:
            raise ValueError(
                f"Dataset.range: expected 1 to 3 arguments (stop; start, stop; or start, stop, step), "
                f"got {len(args)}")
        bounds = [_range_bound(arg) for arg in args]
        if len(bounds) == 3 and bounds[2] == 0:
            raise InvalidArgumentError("Dataset.range: step must be a non-zero integer, got 0")
        self._range = range(*bounds)
        self._dtype = dtype

    def at(self, index):
        return np.asarray(self._range.start + np.asarray(index) * self._range.step, self._dtype.as_numpy_dtype)

    def cardinality(self):
        return len(self._range)

    def element_spec(self):
        return TensorSpec((), self._dtype)


def _range_bound(value):
    """An int64 bound as TensorFlow converts one: an integer (Python, NumPy, Tensor), never a float."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"Dataset.range: start, stop and step must be integers (they are converted to int64), "
            f"got {value!r}") from None
