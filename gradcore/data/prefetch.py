"""``prefetch``: a background thread produces elements while the training step runs.

The producer fills a bounded buffer (autotune.py; ``AUTOTUNE`` lets its bound adapt); the
consumer re-raises whatever the producer raised. When the consumer stops early (a
``break``, or its iterator is garbage-collected) it closes the buffer: a producer waiting
for room returns at once, one busy computing an element stops at its next put, and the
consumer joins it. No thread outlives its iterator.
"""

import threading

from gradcore.data.autotune import AUTOTUNE, Buffer
from gradcore.data.scopes import current_scopes, entered
from gradcore.data.transforms import Transform, integer_argument

__all__ = ["AUTOTUNE", "Prefetch", "buffered"]


class Prefetch(Transform):
    def __init__(self, input_node, buffer_size):
        super().__init__(input_node)
        # None: the bound adapts; 0: no prefetching, as TensorFlow's buffer_size=0
        self._limit = None if buffer_size == AUTOTUNE else integer_argument(
            "Dataset.prefetch: buffer_size (or gc.data.AUTOTUNE)", buffer_size, 0)
        self.buffer = None  # the latest pass's buffer: its `limit` and `waits` show AUTOTUNE at work

    def elements(self):
        if self._limit == 0:
            return self._input.elements()
        self.buffer = Buffer(self._limit)
        return buffered(self._input.elements, self.buffer, "gradcore-prefetch")


def buffered(make_elements, buffer, thread_name):
    """The elements ``make_elements()`` yields, produced ahead into ``buffer`` by a thread that
    works under the caller's backend and device (scopes.py)."""
    producer = threading.Thread(
        target=_produce, args=(make_elements, current_scopes(), buffer), name=thread_name, daemon=True)
    producer.start()
    try:
        while (item := buffer.get()) is not _END:
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        buffer.close()
        producer.join()


_END = object()


class _Failure:
    """What the producer raised, carried to the consumer."""

    def __init__(self, error):
        self.error = error


def _produce(make_elements, scopes, buffer):
    try:
        with entered(scopes):
            for element in make_elements():
                if not buffer.put(element):
                    return
        buffer.put(_END)
    except BaseException as error:  # noqa: BLE001 - handed over, the consumer raises it
        buffer.put(_Failure(error))
