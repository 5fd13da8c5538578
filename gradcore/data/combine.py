"""Nodes that read several streams: ``zip``, and ``interleave`` / ``flat_map`` over datasets a
function makes from each input element.

``interleave`` follows TensorFlow's cycle exactly: ``cycle_length`` slots, each holding the
dataset made from one input element; ``block_length`` elements are taken from a slot before
moving to the next; a slot whose dataset ends takes the next input element when the cycle
comes back to it. ``flat_map`` is the cycle of one slot. With ``num_parallel_calls`` every
open slot has a producer thread (prefetch.py) that fetches ahead, at most
``num_parallel_calls`` of them computing at once; the output order stays the sequential one.
"""

import threading

from gradcore.data.autotune import AUTOTUNE, Buffer, available_cpus
from gradcore.data.elements import as_tensors, call
from gradcore.data.node import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Node
from gradcore.data.prefetch import buffered
from gradcore.data.specs import function_spec
from gradcore.data.transforms import Transform, integer_argument
from gradcore.engine import nest
from gradcore.errors import InvalidArgumentError
from gradcore.plugin import discovery as plugins


class Zip(Node):
    """Elements of several datasets side by side, in their structure, until the shortest ends."""

    def __init__(self, nodes):
        self._nodes = nodes  # a structure (tuples, dicts) of nodes

    def elements(self):
        streams = [node.elements() for node in nest.flatten(self._nodes)]
        try:
            for items in zip(*streams):
                yield nest.pack_sequence_as(self._nodes, list(items))
        finally:
            _close_all(streams)

    def cardinality(self):
        # TensorFlow's rule: unknown if any input's is; else the smallest finite one, else infinite
        sizes = [node.cardinality() for node in nest.flatten(self._nodes)]
        if UNKNOWN_CARDINALITY in sizes:
            return UNKNOWN_CARDINALITY
        finite = [size for size in sizes if size != INFINITE_CARDINALITY]
        return min(finite) if finite else INFINITE_CARDINALITY

    def element_spec(self):
        return nest.map_structure(lambda node: node.element_spec(), self._nodes)


class Interleave(Transform):
    """``map_func``'s datasets taken in turns (module doc); ``node_of`` checks a result is a Dataset."""

    def __init__(self, input_node, fn, node_of, api, cycle_length=1, block_length=1, num_parallel_calls=None):
        super().__init__(input_node)
        self._fn, self._node_of, self._api = fn, node_of, api
        self._cycle_length = (available_cpus() if cycle_length in (None, AUTOTUNE)
                              else integer_argument(f"{api}: cycle_length", cycle_length, 1))
        self._block_length = 1 if block_length is None else integer_argument(f"{api}: block_length", block_length, 1)
        self._parallel_calls = _parallel_calls(api, num_parallel_calls, self._cycle_length)
        self._spec = None

    def elements(self):
        backend = plugins.get_backend()
        gate = threading.BoundedSemaphore(self._parallel_calls) if self._parallel_calls else None
        inputs = self._input.elements()
        slots = [None] * self._cycle_length
        try:
            yield from self._cycle(inputs, slots, lambda element: self._opened(element, backend, gate))
        finally:
            _close_all([inputs, *slots])

    def _cycle(self, inputs, slots, opened):
        index, taken, open_slots, exhausted = 0, 0, 0, False
        while not exhausted or open_slots:
            if slots[index] is not None:
                item = next(slots[index], _END)
                if item is not _END:
                    yield item
                    taken += 1
                    if taken < self._block_length:
                        continue
                else:
                    _close_all([slots[index]])
                    slots[index] = None
                    open_slots -= 1
            elif not exhausted:
                element = next(inputs, _END)
                exhausted = element is _END
                if not exhausted:
                    slots[index] = opened(element)
                    open_slots += 1
                continue  # a newly opened slot is read at once, as TensorFlow's cycle does
            index, taken = (index + 1) % self._cycle_length, 0

    def _opened(self, element, backend, gate):
        node = self._dataset_node(call(self._fn, as_tensors(element, backend)))
        if gate is None:
            return node.elements()
        return buffered(_gated(node.elements, gate), Buffer(self._block_length), "gradcore-interleave")

    def _dataset_node(self, result):
        node = self._node_of(result)
        if node is None:
            raise TypeError(f"{self._api}: `map_func` must return a gc.data.Dataset, got {type(result).__name__}")
        return node

    def cardinality(self):
        return UNKNOWN_CARDINALITY  # as TensorFlow: the datasets' sizes are known only by making them

    def element_spec(self):
        if self._spec is None:
            self._spec = function_spec(
                self._api, lambda element: self._dataset_node(call(self._fn, element)).element_spec(),
                self._input.element_spec())
        return self._spec


_END = object()


def _parallel_calls(api, num_parallel_calls, cycle_length):
    """How many slots may compute at once: None for the sequential cycle."""
    if num_parallel_calls is None:
        return None
    if num_parallel_calls == AUTOTUNE:
        return cycle_length
    calls = integer_argument(f"{api}: num_parallel_calls (or gc.data.AUTOTUNE)", num_parallel_calls, 1)
    if calls > cycle_length:
        raise InvalidArgumentError(
            f"{api}: num_parallel_calls must be less than or equal to cycle_length, got {calls} > {cycle_length}")
    return calls


def _gated(make_elements, gate):
    """``make_elements`` whose elements are each computed holding ``gate``."""
    def elements():
        stream = make_elements()
        try:
            while True:
                with gate:
                    item = next(stream, _END)
                if item is _END:
                    return
                yield item
        finally:
            _close_all([stream])
    return elements


def _close_all(streams):
    for stream in streams:
        if stream is not None and hasattr(stream, "close"):
            stream.close()
