"""``AUTOTUNE``: sizes gc.data chooses while a pass runs, from what it observes.

Two things adapt, each on a counter a test (or a user) can read (docs/data.md, "AUTOTUNE"):

- ``prefetch(AUTOTUNE)``'s buffer bound starts at 1. Once the buffer has been full, a
  consumer that finds it empty (it has to wait) doubles the bound, then grows it by
  ``_LINEAR_STEP`` past that size, up to ``MAX_AUTOTUNED_BUFFER`` elements: a bursty
  consumer gets a deeper buffer, a steady one keeps a shallow one. This is the rule of
  TensorFlow's prefetch autotuner.
- ``map(num_parallel_calls=AUTOTUNE)`` keeps one call in flight at first and one more each
  time the consumer has to wait for a result (the calls' latency shows), up to the number
  of CPUs this process may use; its thread pool grows with it.
"""

import collections
import os
import threading

AUTOTUNE = -1  # as tf.data.AUTOTUNE: let the library choose
MAX_AUTOTUNED_BUFFER = 64  # elements: an autotuned prefetch never holds more (bounded memory)
_LINEAR_STEP = 16  # past this bound the buffer grows by this many elements instead of doubling


def available_cpus():
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class Buffer:
    """A bounded queue from one producer thread to one consumer, which may close it.

    ``limit=None`` autotunes the bound (module doc); ``waits`` counts the times the consumer
    found the buffer empty.
    """

    def __init__(self, limit=None):
        self._items = collections.deque()
        self._changed = threading.Condition()
        self._autotune = limit is None
        self.limit = 1 if limit is None else limit
        self.waits = 0
        self._has_been_full = False
        self._closed = False

    def __len__(self):
        return len(self._items)

    def put(self, item):
        """Wait for room, then add ``item``; False (and nothing added) once the buffer is closed."""
        with self._changed:
            while len(self._items) >= self.limit and not self._closed:
                self._changed.wait()
            if self._closed:
                return False
            self._items.append(item)
            self._changed.notify_all()
            return True

    def get(self):
        """The oldest item, waiting for one if need be."""
        with self._changed:
            if not self._items:
                self.waits += 1
                if self._autotune and self._has_been_full:
                    self._grow()
                while not self._items:
                    self._changed.wait()
            if len(self._items) >= self.limit:
                self._has_been_full = True
            item = self._items.popleft()
            self._changed.notify_all()
            return item

    def close(self):
        """Drop what is held and refuse more: a producer waiting in ``put`` returns at once."""
        with self._changed:
            self._closed = True
            self._items.clear()
            self._changed.notify_all()

    def _grow(self):
        step = self.limit if self.limit < _LINEAR_STEP else _LINEAR_STEP
        self.limit = min(MAX_AUTOTUNED_BUFFER, self.limit + step)
        self._has_been_full = False  # the next growth needs the bigger buffer to fill first
        self._changed.notify_all()


class Parallelism:
    """How many calls a parallel map keeps in flight: ``num_parallel_calls``, or AUTOTUNE's choice.

    ``waits`` counts the results the consumer had to wait for; under AUTOTUNE each one adds
    a call in flight, up to ``maximum`` (the CPU count).
    """

    def __init__(self, num_parallel_calls):
        autotune = num_parallel_calls == AUTOTUNE
        self.maximum = available_cpus() if autotune else num_parallel_calls
        self.limit = 1 if autotune else num_parallel_calls
        self.waits = 0

    def record_wait(self):
        self.waits += 1
        self.limit = min(self.maximum, self.limit + 1)
