"""``padded_batch`` and ``unbatch``: batches of elements whose shapes differ, and batches undone.

``padded_batch`` pads each component at the end of every axis, to the size its
``padded_shapes`` entry fixes or, where that is ``None`` / -1 or no shape is given, to the
largest in the batch; padding values default to zero (False for bool). As in TensorFlow a
padding value is a scalar of exactly the component's dtype (a Python int is int32, so an
int64 component needs an int64 value), and one value given for a structure pads every
component. Shapes and values follow the element's structure up to its components: a
component's shape is a list or tuple of sizes.
"""

import itertools

import numpy as np

from gradcore.data.elements import to_host
from gradcore.data.node import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY
from gradcore.data.specs import (
    NeedsFunctionCall,
    known_outer_dim,
    with_outer_dim,
    without_function_calls,
    without_outer_dim,
)
from gradcore.data.transforms import Batch, Transform
from gradcore.engine import dtypes, nest
from gradcore.engine.convert import infer_dtype
from gradcore.engine.tensor import Tensor
from gradcore.errors import InvalidArgumentError
from gradcore.function.signature import TensorSpec

_API = "Dataset.padded_batch"


class PaddedBatch(Batch):
    def __init__(self, input_node, batch_size, padded_shapes, padding_values, drop_remainder):
        super().__init__(input_node, batch_size, drop_remainder)
        self._padded_shapes = padded_shapes
        self._padding_values = padding_values
        for value in _up_to_leaves(padding_values):
            if value is not None and np.ndim(value) != 0:
                raise ValueError(f"{_API}: padding values must be scalars, got one of shape {np.shape(value)}")

    def elements(self):
        items = self._input.elements()
        while chunk := list(itertools.islice(items, self._size)):
            if len(chunk) < self._size and self._drop_remainder:
                return
            yield self._padded(chunk)

    def _padded(self, chunk):
        template = chunk[0]
        shapes = _flat_up_to(template, self._padded_shapes, "padded_shapes")
        values = _flat_up_to(template, self._padding_values, "padding_values")
        columns = zip(*(nest.flatten(element) for element in chunk))
        padded = [_padded_column(index, [_host(leaf) for leaf in column], shape, value)
                  for index, (column, shape, value) in enumerate(zip(columns, shapes, values))]
        return nest.pack_sequence_as(template, padded)

    def element_spec(self):
        specs = self._input.element_spec()
        shapes = _flat_up_to(specs, self._padded_shapes, "padded_shapes")
        flat = [spec if shape is None else TensorSpec(_sizes(shape), spec.dtype)
                for spec, shape in zip(nest.flatten(specs), shapes)]
        return with_outer_dim(nest.pack_sequence_as(specs, flat), self._size if self._drop_remainder else None)


def _host(leaf):
    return leaf.numpy() if isinstance(leaf, Tensor) else leaf


def _sizes(shape):
    """A padded shape's sizes, None where it pads to the batch's largest."""
    if isinstance(shape, TensorSpec):
        shape = shape.shape
    return tuple(None if n is None or int(n) == -1 else int(n) for n in shape)


def _padded_column(component, arrays, padded_shape, padding_value):
    rank = arrays[0].ndim
    if any(array.ndim != rank for array in arrays):
        raise InvalidArgumentError(
            f"{_API}: component {component} has elements of different ranks: "
            f"{sorted({array.shape for array in arrays}, key=len)}")
    sizes = (None,) * rank if padded_shape is None else _sizes(padded_shape)
    if len(sizes) != rank:
        raise InvalidArgumentError(
            f"{_API}: the padded shape {tuple(sizes)} is not compatible with the shape "
            f"{arrays[0].shape} of component {component}: their ranks differ")
    largest = np.max([array.shape for array in arrays], axis=0) if rank else ()
    target = tuple(int(big) if want is None else want for want, big in zip(sizes, largest))
    for array in arrays:
        if any(have > want for have, want in zip(array.shape, target)):
            raise InvalidArgumentError(
                f"{_API}: attempted to pad to a smaller size than the input element: component {component} "
                f"has shape {array.shape}, the padded shape is {target}")
    batch = np.full((len(arrays), *target), _padding(component, padding_value, arrays[0].dtype), arrays[0].dtype)
    for row, array in enumerate(arrays):
        batch[(row, *(slice(0, n) for n in array.shape))] = array
    return batch


def _padding(component, value, dtype):
    """The fill value: zero of ``dtype`` by default, else ``value`` if its dtype is exactly ``dtype``."""
    if value is None:
        return np.zeros((), dtype)
    have = value.dtype if isinstance(value, Tensor) else infer_dtype(value, _API)
    want = dtypes.as_dtype(dtype)
    if have != want:
        raise TypeError(
            f"{_API}: padding value type {have.name} does not match type {want.name} of component "
            f"{component}; give a value of that dtype, e.g. gc.constant(value, gc.{want.name})")
    return to_host(value)


def _flat_up_to(template, values, what):
    """``values`` flattened up to ``template``'s components (tuples and dicts): one entry each."""
    count = len(nest.flatten(template))
    if values is None:
        return [None] * count
    if not isinstance(template, (tuple, dict)):
        return [values]  # a single component: the entry is ``values`` whole
    if what == "padding_values" and not isinstance(values, (tuple, dict)):
        return [values] * count  # one padding value pads every component, as in TensorFlow
    return list(_matched(template, values, what))


def _matched(template, values, what):
    if isinstance(template, dict):
        if not isinstance(values, dict) or set(values) != set(template):
            raise ValueError(f"{_API}: `{what}` {values!r} does not match the structure of the elements {template!r}")
        for key in sorted(template):
            yield from _matched(template[key], values[key], what)
    elif isinstance(template, tuple):
        if not isinstance(values, tuple) or len(values) != len(template):
            raise ValueError(f"{_API}: `{what}` {values!r} does not match the structure of the elements {template!r}")
        for item, value in zip(template, values):
            yield from _matched(item, value, what)
    else:
        yield values


def _up_to_leaves(values):
    """The scalar candidates in ``padding_values`` (its tuples and dicts opened)."""
    if isinstance(values, dict):
        return [leaf for key in values for leaf in _up_to_leaves(values[key])]
    if isinstance(values, tuple):
        return [leaf for item in values for leaf in _up_to_leaves(item)]
    return [values]


class Unbatch(Transform):
    """Each element split along its first axis into that many elements."""

    def elements(self):
        for element in self._input.elements():
            leaves = nest.flatten(element)
            for index in range(_batch_size(leaves)):
                yield nest.pack_sequence_as(element, [leaf[index] for leaf in leaves])

    def cardinality(self):
        size = self._input.cardinality()
        if size in (INFINITE_CARDINALITY, UNKNOWN_CARDINALITY):
            return size
        try:
            with without_function_calls():  # a size never runs a dataset's function
                batch = known_outer_dim(self._input.element_spec())
        except NeedsFunctionCall:
            batch = None
        return UNKNOWN_CARDINALITY if batch is None else size * batch

    def element_spec(self):
        return without_outer_dim(self._input.element_spec())


def _batch_size(leaves):
    sizes = [_outer_size(component, leaf) for component, leaf in enumerate(leaves)]
    for component, size in enumerate(sizes):
        if size != sizes[0]:
            raise InvalidArgumentError(
                f"Dataset.unbatch: input element must have the same batch size in each component. "
                f"Component 0 had size {sizes[0]} but component {component} had size {size}")
    return sizes[0]


def _outer_size(component, leaf):
    if not leaf.shape:
        raise InvalidArgumentError(
            f"Dataset.unbatch: cannot unbatch an element with a scalar component (component {component}); "
            f"every component needs a first dimension to split along")
    return leaf.shape[0]
