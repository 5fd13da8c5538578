"""Element specs: the structure of ``gc.TensorSpec`` that ``Dataset.element_spec`` reports.

Sources know their specs; reordering transforms keep their input's; batching adds or
removes an outer dimension. A function-made dataset (map, flat_map, interleave) cannot
know its function's output without running it: TensorFlow traces the function once with
symbolic inputs, gc.data calls it on two stand-in elements built from the input spec
(sizes 1 and 2 for an unknown size, values 0 and 1) and reports ``None`` for every size
that differs between the two results (docs/data.md, "element_spec").
"""

import contextlib
import threading

import numpy as np

from gradcore.data.elements import host_or_tensor, structure
from gradcore.engine import dtypes, nest
from gradcore.engine.tensor import Tensor
from gradcore.errors import InvalidArgumentError
from gradcore.function.signature import TensorSpec
from gradcore.ops.creation_ops import fill


def spec_of(leaf):
    """The TensorSpec of one element component: a NumPy value or a Tensor."""
    if isinstance(leaf, Tensor):
        return TensorSpec(leaf.shape, leaf.dtype)
    return TensorSpec(np.shape(leaf), dtypes.as_dtype(np.asarray(leaf).dtype))


def element_spec_of(element):
    """The spec of an element, or of what a function returned (lists are values, as in ``map``)."""
    return structure(element, lambda leaf: spec_of(host_or_tensor(leaf)))


def with_outer_dim(specs, size):
    """Each spec with a new first dimension of ``size`` (None: unknown), as a batch's."""
    return nest.map_structure(
        lambda spec: TensorSpec(None if spec.shape is None else (size, *spec.shape), spec.dtype), specs)


def without_outer_dim(specs):
    """Each spec with its first dimension removed, as unbatch's elements."""
    return nest.map_structure(
        lambda spec: TensorSpec(None if spec.shape is None else spec.shape[1:], spec.dtype), specs)


def known_outer_dim(specs):
    """The first dimension all specs share, if every one knows it; else None."""
    sizes = {None if spec.shape is None or not spec.shape else spec.shape[0] for spec in nest.flatten(specs)}
    return sizes.pop() if len(sizes) == 1 else None


class NeedsFunctionCall(Exception):
    """A spec asked for under ``without_function_calls`` needs to call a dataset's function."""


_calls = threading.local()


@contextlib.contextmanager
def without_function_calls():
    """Specs asked for in the block come from what is known without calling a dataset function
    (cardinality uses them: asking for a size must not run user code)."""
    _calls.refused = getattr(_calls, "refused", 0) + 1
    try:
        yield
    finally:
        _calls.refused -= 1


def function_spec(api, fn_of_stand_in, input_spec):
    """The spec of what ``fn_of_stand_in`` returns for stand-ins of ``input_spec`` (module doc)."""
    if getattr(_calls, "refused", 0):
        raise NeedsFunctionCall(api)
    results = []
    for size, value in ((1, 0), (2, 1)):
        try:
            results.append(fn_of_stand_in(_stand_in(input_spec, size, value)))
        except Exception as exc:  # noqa: BLE001 - said with the API's name, the cause kept
            raise InvalidArgumentError(
                f"{api}: element_spec calls the function on a stand-in element of spec {input_spec} "
                f"(zeros, then ones) and it raised {type(exc).__name__}: {exc}"
            ) from exc
    return merged_specs(api, *results)


def merged_specs(api, first, second):
    """One spec structure covering both: sizes that differ become None."""
    first_leaves, second_leaves = nest.flatten(first), nest.flatten(second)
    if len(first_leaves) != len(second_leaves):
        raise InvalidArgumentError(
            f"{api}: the function returned elements of different structures: {first} and {second}")
    return nest.pack_sequence_as(first, [_merged(a, b) for a, b in zip(first_leaves, second_leaves)])


def _merged(first, second):
    if first.shape is None or second.shape is None or len(first.shape) != len(second.shape):
        return TensorSpec(None, first.dtype)
    return TensorSpec([a if a == b else None for a, b in zip(first.shape, second.shape)], first.dtype)


def _stand_in(specs, size, value):
    def tensor(spec):
        shape = () if spec.shape is None else tuple(size if n is None else n for n in spec.shape)
        return fill(shape, value, dtype=spec.dtype)

    return nest.map_structure(tensor, specs)
