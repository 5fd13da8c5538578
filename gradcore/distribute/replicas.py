"""Running a function once per local replica: each in a thread of its own, one thread at a time.

``MirroredStrategy.run(fn)`` calls ``fn`` once per replica, and a replica may stop
half-way to combine values with the others (``ReplicaContext.all_reduce``, the
optimizer's gradient sum, a synchronized batch norm): so each replica needs a
stack of its own, a thread, as in TensorFlow. Unlike TensorFlow's replica
threads, ours take turns: replica 0 runs until its first collective, then
replica 1 until the same collective, and so on; the last to arrive combines the
values, and replica 0 goes on. Only one thread runs gradcore code at any
moment, so the order of every kernel call, every random draw and every
recorded op is the same at each call, and a ``gc.function`` trace records the
replicas one after the other (docs/distribute.md, "Replicas").

A replica that raises stops the others at their next collective; ``run``
raises the first error. Replicas that make different collective calls (one
returns while another waits in ``all_reduce``) are an error, not a hang.
"""

import threading

from gradcore.engine import thread_state
from gradcore.errors import InvalidArgumentError


class _Stopped(BaseException):
    """Unwinds a replica whose run failed elsewhere (BaseException: user code's ``except Exception`` lets it pass)."""


class ReplicaThreads:
    """One ``run`` of ``count`` replicas: ``run(functions)``, and ``combine`` from inside them."""

    def __init__(self, count, api):
        self.count = count
        self._api = api
        self._condition = threading.Condition()
        self._turn = 0  # the replica that may run now
        self._finished = [False] * count
        self._waiting_in = [None] * count  # the collective each replica waits in
        self._values = [None] * count
        self._combiner = None
        self._combined = None
        self._failure = None

    def run(self, functions):
        """Each function's result, in replica order; raises the first replica's error."""
        captured = thread_state.capture()
        results = [None] * self.count
        threads = [threading.Thread(target=self._replica, args=(i, f, captured, results), daemon=True,
                                    name=f"gradcore-replica-{i}") for i, f in enumerate(functions)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self._failure is not None:
            raise self._failure
        return results

    def combine(self, index, collective, value, combiner):
        """Called by replica ``index``: wait until every replica has brought its ``value`` to the
        collective named ``collective``; the last one calls ``combiner(values)``, which returns one
        result per replica; this replica's is returned."""
        with self._condition:
            if self._failure is not None:
                raise _Stopped()
            self._waiting_in[index], self._values[index], self._combiner = collective, value, combiner
            self._hand_over(index)
            self._wait_for_turn(index)
            self._waiting_in[index] = self._values[index] = None
            if self._failure is not None:
                raise _Stopped()
            return self._combined[index]

    # ---- the baton --------------------------------------------------------------------------

    def _replica(self, index, function, captured, results):
        with self._condition:
            self._wait_for_turn(index)
        try:
            if self._failure is None:
                with thread_state.inherited(captured):
                    results[index] = function()
        except _Stopped:
            pass
        except BaseException as error:  # noqa: BLE001 - handed to the caller of run, which raises it
            self._fail(error)
        finally:
            with self._condition:
                self._finished[index] = True
                self._hand_over(index)

    def _fail(self, error):
        with self._condition:
            if self._failure is None:
                self._failure = error

    def _wait_for_turn(self, index):
        while self._turn != index:
            self._condition.wait()

    def _hand_over(self, index):
        """Replica ``index`` stopped (at a collective, or done): the next running replica goes on, or,
        after the last, the collective is combined and the first running replica goes on."""
        later = [i for i in range(index + 1, self.count) if not self._finished[i]]
        if later:
            self._turn = later[0]
        else:
            self._end_round()
        self._condition.notify_all()

    def _end_round(self):
        running = [i for i in range(self.count) if not self._finished[i]]
        if not running:
            self._turn = None
            return
        if self._failure is None:
            self._failure = self._mismatch(running)
        if self._failure is None:
            try:
                self._combined = self._combiner(list(self._values))
            except BaseException as error:  # noqa: BLE001 - every replica stops; run raises it
                self._failure = error
        self._turn = running[0]

    def _mismatch(self, running):
        """The error for replicas that did not all reach the same collective, else None."""
        places = {self._waiting_in[i] for i in running}
        if len(running) == self.count and len(places) == 1:
            return None
        where = ", ".join(f"replica {i}: {self._waiting_in[i] or 'returned'}" for i in range(self.count))
        return InvalidArgumentError(
            f"{self._api}: the replicas made different collective calls ({where}); every replica must "
            "make the same all_reduce and merge_call calls in the same order, or they would wait forever")
