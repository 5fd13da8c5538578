"""``prefetch``: a background thread produces elements while the training step runs.

The producer fills a bounded queue; the consumer re-raises whatever the
producer raised. When the consumer stops early (a ``break``, or its iterator
is garbage-collected) it sets a stop flag and empties the queue: the producer
puts at most one more element before it sees the flag, so it never blocks
again, and the consumer joins it. No thread outlives its iterator.
"""

import contextlib
import queue
import threading

from gradcore.data.transforms import Transform, integer_argument
from gradcore.engine.convert import current_device, device
from gradcore.plugin import discovery as plugins

AUTOTUNE = -1  # as tf.data.AUTOTUNE: let the library choose
AUTOTUNE_BUFFER_SIZE = 4  # AUTOTUNE's fixed depth: enough to hide a step's jitter, little memory


class Prefetch(Transform):
    def __init__(self, input_node, buffer_size):
        super().__init__(input_node)
        if buffer_size == AUTOTUNE:
            buffer_size = AUTOTUNE_BUFFER_SIZE
        self._buffer_size = integer_argument("Dataset.prefetch: buffer_size", buffer_size, 1)

    def elements(self):
        elements = queue.Queue(self._buffer_size)
        stop = threading.Event()
        # Backend and device scopes are thread-local: the producer works under the consumer's.
        scopes = (plugins.get_backend(), current_device())
        producer = threading.Thread(
            target=_produce, args=(self._input, scopes, elements, stop), name="gradcore-prefetch", daemon=True
        )
        producer.start()
        try:
            while (item := elements.get()) is not _END:
                if isinstance(item, _Failure):
                    raise item.error
                yield item
        finally:
            stop.set()
            _drain(elements)
            producer.join()


_END = object()


class _Failure:
    """What the producer raised, carried to the consumer."""

    def __init__(self, error):
        self.error = error


def _produce(node, scopes, elements, stop):
    backend, device_name = scopes
    try:
        with plugins.backend_scope(backend.name), (device(device_name) if device_name else contextlib.nullcontext()):
            for element in node.elements():
                elements.put(element)
                if stop.is_set():
                    return
        elements.put(_END)
    except BaseException as error:  # noqa: BLE001 - handed over, the consumer raises it
        elements.put(_Failure(error))


def _drain(elements):
    while True:
        try:
            elements.get_nowait()
        except queue.Empty:
            return
