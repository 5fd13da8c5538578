"""The iterator ``iter(dataset)`` returns: one pass over a pipeline that knows its position.

It is trackable (gradcore/engine/tracking.py): a checkpoint holding it saves how many elements
it has given, and for each shuffle in the pipeline the seed and the epoch the pass started at.
Restored, it starts the pass again from those and skips what was already given, so a resumed
run sees the elements an uninterrupted one would (docs/checkpoints.md, "Exact resume").
"""

import itertools

import numpy as np

from gradcore.data.elements import as_tensors
from gradcore.data.transforms import Shuffle
from gradcore.plugin import discovery as plugins


class DatasetIterator:
    """An iterator over a Dataset's elements, with its position saved by checkpoints."""

    def __init__(self, node):
        self._node = node
        self._shuffles = _shuffles_of(node)
        self._start_epochs = [s.epochs_started for s in self._shuffles]
        self._consumed = 0
        self._elements = None  # started on the first next(), so a restore can come first
        self._backend = None
        self._restored = {}

    def __iter__(self):
        return self

    def __next__(self):
        if self._elements is None:
            self._elements = self._start()
            self._backend = plugins.get_backend()  # the pass's elements become tensors of the backend it starts in
        element = next(self._elements)
        self._consumed += 1
        return as_tensors(element, self._backend)

    def get_next(self):
        """The next element, as ``tf.data.Iterator.get_next``."""
        return next(self)

    def _start(self):
        if self._restored:
            self._apply_restored()
        elements = iter(self._node.elements())
        return itertools.islice(elements, self._consumed, None)  # a restored position skips what was given

    # ---- checkpoints --------------------------------------------------------------------------

    def _trackable_children(self):
        return {}

    def _trackable_state(self):
        return {
            "consumed": np.asarray(self._consumed, np.int64),
            # uint64 seeds kept as int64 bits: a checkpoint holds gradcore's dtypes only
            "shuffle_seeds": np.asarray([s.seed for s in self._shuffles], np.uint64).view(np.int64),
            "shuffle_epochs": np.asarray(self._start_epochs, np.int64),
        }

    def _restore_trackable_state(self, name, value):
        self._restored[name] = np.asarray(value)
        self._elements = None  # the pass starts again from the restored position at the next element

    def _apply_restored(self):
        restored, self._restored = self._restored, {}
        if "consumed" in restored:
            self._consumed = int(restored["consumed"])
        if "shuffle_seeds" in restored and len(restored["shuffle_seeds"]) == len(self._shuffles):
            for shuffle, seed in zip(self._shuffles, restored["shuffle_seeds"].astype(np.int64).view(np.uint64)):
                shuffle.seed = int(seed)
        if "shuffle_epochs" in restored and len(restored["shuffle_epochs"]) == len(self._shuffles):
            self._start_epochs = [int(e) for e in restored["shuffle_epochs"]]
        for shuffle, epoch in zip(self._shuffles, self._start_epochs):
            shuffle.epochs_started = epoch


def _shuffles_of(node):
    shuffles = []
    while node is not None:
        if isinstance(node, Shuffle):
            shuffles.append(node)
        node = getattr(node, "_input", None)
    return shuffles
