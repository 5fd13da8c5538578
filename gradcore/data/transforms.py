"""The transformations: each node streams its input's next epoch, changed.

Shuffle, repeat, take, skip and cache only reorder or cut a stream, so they
work on whatever their input streams, row indices included; batch gathers
indices in one go; map, filter and enumerate need elements.
"""

import itertools
import operator

import numpy as np

from gradcore.data.elements import as_tensors, call, host_or_tensor, stacked, structure
from gradcore.data.node import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Node
from gradcore.data.specs import element_spec_of, function_spec, spec_of, with_outer_dim
from gradcore.errors import InvalidArgumentError
from gradcore.ops.random_ops import derived_seed
from gradcore.plugin import discovery as plugins


def integer_argument(api, value, minimum):
    """``value`` (an int, NumPy or Tensor integer) as a Python int of at least ``minimum``."""
    try:
        number = operator.index(value)
    except TypeError:
        raise InvalidArgumentError(f"{api}: expected an integer, got {value!r}") from None
    if number < minimum:
        raise InvalidArgumentError(f"{api}: expected an integer >= {minimum}, got {number}")
    return number


class Transform(Node):
    """A node with one input; by default it has as many elements as its input."""

    def __init__(self, input_node):
        self._input = input_node

    def cardinality(self):
        return self._input.cardinality()

    def element_spec(self):
        return self._input.element_spec()


# ---- reordering and cutting: these pass row indices through -----------------------------

class Shuffle(Transform):
    def __init__(self, input_node, buffer_size, seed, reshuffle_each_iteration):
        super().__init__(input_node)
        self._buffer_size = integer_argument("Dataset.shuffle: buffer_size", buffer_size, 1)
        # Without a seed: one derived from the global seed (random without one), drawn now, so the
        # dataset is repeatable when asked not to reshuffle.
        self._seed = derived_seed() if seed is None else operator.index(seed) % 2**64
        self._reshuffle = reshuffle_each_iteration
        self.epochs_started = 0  # the next epoch's order is drawn from (seed, epochs_started)

    def stream(self):
        rows, items = self._input.stream()
        epoch = self.epochs_started if self._reshuffle else 0
        self.epochs_started += 1
        return rows, _buffer_shuffled(items, self._buffer_size, np.random.default_rng([self._seed, epoch]))

    @property
    def seed(self):
        return self._seed

    @seed.setter
    def seed(self, seed):
        """Set by a restored iterator (gradcore/data/iterator.py): a seed drawn by another process."""
        self._seed = int(seed)


def _buffer_shuffled(items, buffer_size, rng):
    """tf.data's shuffle: hold ``buffer_size`` items; emit a random one and put the next item in its place."""
    buffer = list(itertools.islice(items, buffer_size))
    for item, slot in zip(items, _random_slots(rng, len(buffer))):
        yield buffer[slot]
        buffer[slot] = item
    rng.shuffle(buffer)  # the input is spent: emitting random buffer items until none are left is a permutation
    yield from buffer


def _random_slots(rng, size, chunk=1024):
    """Endless uniform ints in [0, size), drawn a chunk at a time: one rng call per item would be slow."""
    while True:
        yield from rng.integers(0, size, chunk).tolist()


class Repeat(Transform):
    def __init__(self, input_node, count):
        super().__init__(input_node)
        self._count = -1 if count is None else integer_argument("Dataset.repeat: count", count, -1)

    def stream(self):
        rows, items = self._input.stream()
        return rows, self._epochs(items)

    def _epochs(self, items):
        done = 0
        while done != self._count:
            empty = True
            for item in items:
                empty = False
                yield item
            done += 1
            if empty:  # repeating an empty dataset forever would never yield
                return
            items = self._input.stream()[1]

    def cardinality(self):
        size = self._input.cardinality()
        if self._count < 0:
            return 0 if size == 0 else INFINITE_CARDINALITY
        if self._count == 0:
            return 0
        return size if size < 0 else size * self._count


class Take(Transform):
    def __init__(self, input_node, count):
        super().__init__(input_node)
        self._count = integer_argument("Dataset.take: count", count, -1)

    def stream(self):
        rows, items = self._input.stream()
        return rows, items if self._count < 0 else itertools.islice(items, self._count)

    def cardinality(self):
        size = self._input.cardinality()
        if self._count < 0 or size == UNKNOWN_CARDINALITY:
            return size
        return self._count if size == INFINITE_CARDINALITY else min(size, self._count)


class Skip(Transform):
    def __init__(self, input_node, count):
        super().__init__(input_node)
        self._count = integer_argument("Dataset.skip: count", count, -1)

    def stream(self):
        rows, items = self._input.stream()
        return rows, iter(()) if self._count < 0 else itertools.islice(items, self._count, None)

    def cardinality(self):
        size = self._input.cardinality()
        if size < 0:
            return size
        return 0 if self._count < 0 else max(0, size - self._count)


class Cache(Transform):
    """The first complete epoch's stream, kept in memory; an epoch left early keeps nothing."""

    def __init__(self, input_node, filename):
        if filename:
            raise InvalidArgumentError(
                f"Dataset.cache: only the in-memory cache is supported; call cache() without a filename, "
                f"got {filename!r}"
            )
        super().__init__(input_node)
        self._kept = None  # (rows, items) once an epoch ran to its end

    def stream(self):
        if self._kept is not None:
            rows, items = self._kept
            return rows, iter(items)
        rows, items = self._input.stream()
        return rows, self._filling(rows, items)

    def _filling(self, rows, items):
        seen = []
        for item in items:
            seen.append(item)
            yield item
        self._kept = (rows, seen)


# ---- nodes that need elements ------------------------------------------------------------

class Batch(Transform):
    def __init__(self, input_node, batch_size, drop_remainder):
        super().__init__(input_node)
        self._size = integer_argument("Dataset.batch: batch_size", batch_size, 1)
        self._drop_remainder = bool(drop_remainder)

    def elements(self):
        rows, items = self._input.stream()
        while chunk := list(itertools.islice(items, self._size)):
            if len(chunk) < self._size and self._drop_remainder:
                return
            yield stacked(chunk) if rows is None else rows.at(np.asarray(chunk))

    def cardinality(self):
        size = self._input.cardinality()
        if size < 0:
            return size
        return size // self._size if self._drop_remainder else -(-size // self._size)

    def element_spec(self):
        # a known batch size only when no short last batch can come, as in TensorFlow
        return with_outer_dim(self._input.element_spec(), self._size if self._drop_remainder else None)


class Map(Transform):
    def __init__(self, input_node, fn):
        super().__init__(input_node)
        self._fn = fn
        self._spec = None  # computed when first asked for: it calls the function (specs.py)

    def elements(self):
        backend = plugins.get_backend()
        for element in self._input.elements():
            yield self.applied(element, backend)

    def applied(self, element, backend):
        """The function's result for one host element, its components host values or Tensors."""
        return structure(call(self._fn, as_tensors(element, backend)), host_or_tensor)

    def element_spec(self):
        if self._spec is None:
            self._spec = function_spec(
                "Dataset.map", lambda element: element_spec_of(call(self._fn, element)), self._input.element_spec())
        return self._spec


class Filter(Transform):
    def __init__(self, input_node, predicate):
        super().__init__(input_node)
        self._predicate = predicate

    def elements(self):
        backend = plugins.get_backend()
        for element in self._input.elements():
            if bool(call(self._predicate, as_tensors(element, backend))):
                yield element

    def cardinality(self):
        return UNKNOWN_CARDINALITY


class Enumerate(Transform):
    def __init__(self, input_node, start):
        super().__init__(input_node)
        self._start = integer_argument("Dataset.enumerate: start", start, -(2**63))

    def elements(self):
        for index, element in enumerate(self._input.elements(), self._start):
            yield np.int64(index), element

    def element_spec(self):
        return spec_of(np.int64(0)), self._input.element_spec()

