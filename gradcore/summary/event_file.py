"""One TensorBoard event file, written the way TensorFlow's summary file writer writes it.

The records are tensorboard's own (``RecordWriter``: TFRecord framing with masked CRCs) holding
tensorboard's ``Event`` protos. The file is named as TensorFlow 2 names it,
``events.out.tfevents.<seconds>.<host>.<pid>.<uid><suffix>`` with suffix ``.v2`` by default,
and it starts with the ``brain.Event:2`` version event, so TensorBoard reads it as any TF run.

Events wait in a queue and reach the disk when more than ``max_queue`` are waiting, when
``flush_millis`` have passed since the last flush (checked at each write, as TensorFlow's C++
writer does, so no background thread), on ``flush()`` and on ``close()``.
"""

import itertools
import os
import socket
import threading
import time

from gradcore.summary.tensorboard_api import tensorboard_api

_uids = itertools.count(1)  # two writers opened in the same second get different files


class EventFile:
    """An open event file in ``logdir``; ``write(event)`` queues an Event proto."""

    def __init__(self, logdir, max_queue, flush_millis, filename_suffix, api):
        tb = tensorboard_api(api)
        os.makedirs(logdir, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}."
                f"{next(_uids)}{filename_suffix}")
        self.path = os.path.join(logdir, name)
        self._max_queue = max_queue
        self._flush_seconds = flush_millis / 1000.0
        self._queue = []
        self._lock = threading.Lock()  # writers are shared between threads, as in TensorFlow
        self._records = tb.RecordWriter(open(self.path, "wb"))  # noqa: SIM115 - open until close()
        self._closed = False
        self._last_flush = time.monotonic()
        self.write(tb.Event(wall_time=time.time(), file_version="brain.Event:2",
                            source_metadata=tb.SourceMetadata(writer="gradcore.summary")))
        self.flush()

    @property
    def closed(self):
        return self._closed

    def write(self, event):
        with self._lock:
            if self._closed:
                raise RuntimeError(f"gc.summary: the event file {self.path} is closed")
            self._queue.append(event.SerializeToString())
            overdue = time.monotonic() - self._last_flush > self._flush_seconds
            if len(self._queue) > self._max_queue or overdue:
                self._flush_locked()

    def flush(self):
        with self._lock:
            if not self._closed:
                self._flush_locked()

    def close(self):
        with self._lock:
            if self._closed:
                return
            self._flush_locked()
            self._records.close()
            self._closed = True

    def _flush_locked(self):
        for record in self._queue:
            self._records.write(record)
        self._queue.clear()
        self._records.flush()
        self._last_flush = time.monotonic()
