"""What a dataset element is, and how it moves between the host and a backend.

An element is a structure of tuples (namedtuples too) and dicts whose leaves
are NumPy values (host data) or gradcore Tensors (what a map function
returned). Lists are values, not structures, as in tf.data:
``from_tensor_slices([1, 2, 3])`` slices one array. Once built, an element
holds no lists, so ``gradcore.engine.nest`` walks it the way tf.data would.
"""

import numpy as np

from gradcore.engine import nest
from gradcore.engine.convert import infer_dtype, to_tensor
from gradcore.engine.tensor import Tensor
from gradcore.errors import InvalidArgumentError
from gradcore.ops.array_ops import stack


def structure(value, leaf):
    """``value`` rebuilt with ``leaf`` applied to each component; only tuples and dicts nest."""
    if isinstance(value, dict):
        return type(value)((key, structure(item, leaf)) for key, item in value.items())
    if isinstance(value, tuple):
        items = [structure(item, leaf) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    return leaf(value)


def to_host(value):
    """A private NumPy copy of ``value``, with the dtype ``gc.constant`` would give it."""
    if isinstance(value, Tensor) or hasattr(value, "_read"):  # Variables too
        return value.numpy()
    return np.array(value, dtype=infer_dtype(value).as_numpy_dtype)


def host_or_tensor(value):
    """A component a map function returned: Tensors stay where they are, the rest goes to the host."""
    return value if isinstance(value, Tensor) else to_host(value)


def as_tensors(element, backend):
    """``element`` with every leaf a Tensor on ``backend``."""
    return nest.map_structure(lambda leaf: _tensor_on(leaf, backend), element)


def _tensor_on(leaf, backend):
    if isinstance(leaf, Tensor):
        if leaf._backend is backend:
            return leaf
        leaf = leaf.numpy()  # made under another backend (a cache filled there): go through the host
    return to_tensor(leaf, backend=backend)


def call(fn, element):
    """``fn`` applied as tf.data applies it: a tuple element is spread over its arguments."""
    return fn(*element) if type(element) is tuple else fn(element)


def stacked(elements):
    """Elements of one structure joined leaf by leaf along a new first axis, as ``batch`` does."""
    flat = [nest.flatten(element) for element in elements]
    for index, leaves in enumerate(flat):
        if len(leaves) != len(flat[0]):
            raise InvalidArgumentError(
                f"Dataset.batch: element {index} has {len(leaves)} components but element 0 has {len(flat[0])}"
            )
    columns = [_stacked_column(component, leaves) for component, leaves in enumerate(zip(*flat))]
    return nest.pack_sequence_as(elements[0], columns)


def _stacked_column(component, leaves):
    shape = np.shape(leaves[0])
    for index, leaf in enumerate(leaves):
        if np.shape(leaf) != shape:
            raise InvalidArgumentError(
                f"Dataset.batch: cannot batch elements with different shapes in component {component}: "
                f"element 0 has shape {shape} and element {index} has shape {np.shape(leaf)}"
            )
    if any(isinstance(leaf, Tensor) for leaf in leaves):
        return stack(leaves)
    return np.stack(leaves)
