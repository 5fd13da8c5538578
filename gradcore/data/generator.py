"""``Dataset.from_generator``: elements a Python generator yields, checked against a signature.

Each pass calls ``generator(*args)`` anew. Every value it yields is converted to the
signature's dtypes as TensorFlow converts it (NumPy's conversion: a Python float into an
integer spec truncates) and must have the signature's structure and a shape the spec
allows; an element that does not is refused with TensorFlow's message, as a
``gc.InvalidArgumentError`` at that element (TensorFlow raises its InvalidArgumentError
there too). Lists in a signature are values, not structures, as everywhere in tf.data.
"""

import numpy as np

from gradcore.data.elements import to_host
from gradcore.data.node import UNKNOWN_CARDINALITY, Node
from gradcore.engine import dtypes
from gradcore.engine.tensor import Tensor
from gradcore.errors import InvalidArgumentError
from gradcore.function.signature import TensorSpec


class FromGenerator(Node):
    def __init__(self, generator, output_types, output_shapes, args, output_signature):
        if not callable(generator):
            raise TypeError(f"Dataset.from_generator: `generator` must be a Python callable, got {generator!r}")
        self._generator = generator
        self._signature = _signature(output_types, output_shapes, output_signature)
        self._args = () if args is None else tuple(_generator_argument(arg) for arg in args)

    def elements(self):
        for value in self._generator(*self._args):
            yield _checked(value, self._signature)

    def cardinality(self):
        return UNKNOWN_CARDINALITY

    def element_spec(self):
        return self._signature


def _signature(output_types, output_shapes, output_signature):
    """The TensorSpec structure, from ``output_signature`` or the deprecated types and shapes."""
    if output_signature is not None:
        for name, given in (("output_types", output_types), ("output_shapes", output_shapes)):
            if given is not None:
                raise TypeError(
                    f"Dataset.from_generator: the `{name}` argument can not be used together with the "
                    f"`output_signature` argument")
        for spec in _leaves(output_signature):
            if not isinstance(spec, TensorSpec):
                raise TypeError(
                    f"Dataset.from_generator: `output_signature` must contain gc.TensorSpec objects, but found "
                    f"{type(spec).__name__} ({spec!r}); a list is a value in tf.data, use a tuple")
        return output_signature
    if output_types is None:
        raise TypeError(
            "Dataset.from_generator: to specify the output signature you need to provide either the "
            "`output_signature` argument or the `output_types` argument")
    return _specs_of_types(output_types, output_shapes)


def _specs_of_types(types, shapes):
    """TensorSpecs for the deprecated ``output_types`` / ``output_shapes`` (shapes follow the types'
    structure; a missing one is unknown, even in rank)."""
    if isinstance(types, dict):
        return type(types)((key, _specs_of_types(item, None if shapes is None else shapes[key]))
                           for key, item in types.items())
    if isinstance(types, tuple):
        shapes = (None,) * len(types) if shapes is None else shapes
        if not isinstance(shapes, (tuple, list)) or len(shapes) != len(types):
            raise ValueError(
                f"Dataset.from_generator: `output_shapes` {shapes!r} does not match the structure of "
                f"`output_types` {types!r}")
        return tuple(_specs_of_types(item, shape) for item, shape in zip(types, shapes))
    return TensorSpec(None if shapes is None else _shape(shapes), dtypes.as_dtype(types))


def _shape(shape):
    if isinstance(shape, TensorSpec):
        return shape.shape
    return tuple(None if n is None or n == -1 else int(n) for n in shape)


def _leaves(structure):
    if isinstance(structure, dict):
        return [leaf for key in structure for leaf in _leaves(structure[key])]
    if isinstance(structure, tuple):
        return [leaf for item in structure for leaf in _leaves(item)]
    return [structure]


def _generator_argument(arg):
    """What the generator receives for one of ``args``: a NumPy value, as TensorFlow passes them
    (strings as bytes, TensorFlow's string tensors)."""
    if isinstance(arg, str):
        return arg.encode()
    return arg if isinstance(arg, bytes) else to_host(arg)


def _checked(value, signature):
    """``value`` as a host element of ``signature``'s structure, dtypes and shapes (module doc)."""
    try:
        return _fitted(value, signature)
    except _StructureMismatch:
        raise InvalidArgumentError(
            f"Dataset.from_generator: `generator` yielded an element that did not match the expected "
            f"structure. The expected structure was {signature}, but the yielded element was {value!r}"
        ) from None


class _StructureMismatch(Exception):
    pass


def _fitted(value, signature):
    if isinstance(signature, dict):
        if not isinstance(value, dict) or set(value) != set(signature):
            raise _StructureMismatch
        return type(signature)((key, _fitted(value[key], spec)) for key, spec in signature.items())
    if isinstance(signature, tuple):
        if not isinstance(value, tuple) or len(value) != len(signature):
            raise _StructureMismatch
        items = [_fitted(item, spec) for item, spec in zip(value, signature)]
        return type(signature)(*items) if hasattr(signature, "_fields") else tuple(items)
    return _fitted_component(value, signature)


def _fitted_component(value, spec):
    if isinstance(value, Tensor):
        value = value.numpy()
    try:
        array = np.array(value, dtype=spec.dtype.as_numpy_dtype)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"Dataset.from_generator: `generator` yielded {value!r}, which cannot be converted to "
            f"{spec.dtype.name} as {spec} asks: {exc}") from None
    if not spec.is_compatible_with(TensorSpec(array.shape, spec.dtype)):
        raise InvalidArgumentError(
            f"Dataset.from_generator: `generator` yielded an element of shape {array.shape} where an element "
            f"of shape {spec.shape} was expected")
    return array
