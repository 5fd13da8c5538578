"""Summary writers and the per-thread summary state: the default writer and the default step.

As in TensorFlow, the default writer, the default step and the recording condition
(``record_if``, in gradcore/summary/writing.py) belong to the thread that set them: another
thread starts with none (docs/summary.md, "Writers and steps").
"""

import os
import threading
import time
import weakref

from gradcore.engine import thread_state
from gradcore.summary.event_file import EventFile
from gradcore.summary.tensorboard_api import tensorboard_api

DEFAULT_MAX_QUEUE = 10
DEFAULT_FLUSH_MILLIS = 120_000
DEFAULT_FILENAME_SUFFIX = ".v2"


class _SummaryState(threading.local):
    def __init__(self):
        self.writer = None
        self.step = None  # a Python int, an integer gc tensor or Variable, or None
        self.is_recording = None  # record_if's condition; None: record


summary_state = _SummaryState()
for _name in ("writer", "step", "is_recording"):
    thread_state.attribute(summary_state, _name)


class SummaryWriter:
    """Writes summaries to one event file; ``gc.summary.create_file_writer`` makes one."""

    def __init__(self, logdir, max_queue, flush_millis, filename_suffix):
        self._logdir = logdir
        self._file = EventFile(logdir, max_queue, flush_millis, filename_suffix, "gc.summary.create_file_writer")
        # A writer nobody holds any more, and every writer at exit, flushes its file (TF deletes
        # the resource then, which flushes too).
        self._finalizer = weakref.finalize(self, self._file.close)

    def __repr__(self):
        return f"<gc.summary.SummaryWriter logdir={self._logdir!r}>"

    def _check_open(self, what):
        if self._file.closed:
            raise RuntimeError(f"{what}: SummaryWriter is already closed; create a new one with "
                               "gc.summary.create_file_writer")

    def set_as_default(self, step=None):
        """Make this the default writer of the current thread; ``step``, if given, the default step."""
        self._check_open("SummaryWriter.set_as_default")
        summary_state.writer = self
        if step is not None:
            summary_state.step = step

    def as_default(self, step=None):
        """A context manager making this the thread's default writer (and ``step``, if given, the
        default step) within the block; leaving it restores both and flushes this writer."""
        self._check_open("SummaryWriter.as_default")
        return _SummaryContextManager(self, step)

    def init(self):
        """Nothing to do: the event file is open from the start (TensorFlow's graph-mode hook)."""
        self._check_open("SummaryWriter.init")

    def flush(self):
        """Write every queued event to the disk; nothing on a closed writer, as in TensorFlow."""
        self._file.flush()

    def close(self):
        """Flush and close the event file; a second close does nothing."""
        self._finalizer()

    def write_summary(self, api, step, tag, tensor, metadata):
        """Queue an event holding one summary value: ``tensor`` (a TensorProto) under ``tag`` at ``step``."""
        self._check_open(api)
        tb = tensorboard_api(api)
        summary = tb.Summary(value=[tb.Summary.Value(tag=tag, metadata=metadata, tensor=tensor)])
        self._file.write(tb.Event(wall_time=time.time(), step=step, summary=summary))


class _SummaryContextManager:
    """What ``as_default`` returns; TensorFlow's ``_SummaryContextManager``."""

    def __init__(self, writer, step):
        self._writer = writer
        self._step = step
        self._saved = None

    def __enter__(self):
        self._saved = (summary_state.writer, summary_state.step)
        summary_state.writer = self._writer
        if self._step is not None:  # as_default() without a step leaves the step alone
            summary_state.step = self._step
        return self._writer

    def __exit__(self, *exc_info):
        self._writer.flush()
        summary_state.writer = self._saved[0]
        if self._step is not None:
            summary_state.step = self._saved[1]
        return False


def create_file_writer(logdir, max_queue=None, flush_millis=None, filename_suffix=None, name=None,
                       experimental_trackable=False, experimental_mesh=None):
    """A SummaryWriter writing a new event file in ``logdir`` (created if missing), as
    ``tf.summary.create_file_writer``: at most ``max_queue`` (10) events wait in memory and at most
    ``flush_millis`` (120000) pass between flushes; the file name ends in ``filename_suffix``
    (``.v2``). ``name`` and the ``experimental_*`` arguments are accepted and change nothing."""
    if logdir is None:
        raise ValueError("gc.summary.create_file_writer: Argument `logdir` cannot be None")
    if not isinstance(logdir, (str, os.PathLike)):
        raise TypeError(f"gc.summary.create_file_writer: logdir must be a path, got {logdir!r}")
    max_queue = _count("max_queue", DEFAULT_MAX_QUEUE if max_queue is None else max_queue)
    flush_millis = _count("flush_millis", DEFAULT_FLUSH_MILLIS if flush_millis is None else flush_millis)
    if filename_suffix is None:
        filename_suffix = DEFAULT_FILENAME_SUFFIX
    return SummaryWriter(os.fspath(logdir), max_queue, flush_millis, str(filename_suffix))


def _count(argument, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"gc.summary.create_file_writer: {argument} must be a non-negative int, got {value!r}")
    return value


def flush(writer=None, name=None):
    """Flush ``writer``, else the thread's default writer; with neither, do nothing. Returns None."""
    if writer is None:
        writer = summary_state.writer
    if writer is None:
        return
    if not isinstance(writer, SummaryWriter):
        raise ValueError(  # noqa: TRY004 - TensorFlow raises ValueError here
            f"gc.summary.flush: Invalid argument to flush(): {writer!r}; pass a SummaryWriter")
    writer.flush()


def set_step(step):
    """Set the thread's default summary step: an int, an integer gc tensor or Variable, or None to unset.

    A Variable is read each time a summary is written, also inside gc.function (docs/summary.md)."""
    summary_state.step = step


def get_step():
    """The thread's default summary step as it was set (a Variable stays a Variable), or None."""
    return summary_state.step
