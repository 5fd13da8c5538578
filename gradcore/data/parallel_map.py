"""``map(num_parallel_calls=...)``: the map function runs on a thread pool.

The consumer's thread reads the input and submits one call per element, keeping
``Parallelism.limit`` calls in flight (autotune.py: ``num_parallel_calls``, or AUTOTUNE's
adaptive choice). Results leave in input order, so an error the function raised comes out
at its own element, after every element before it; ``deterministic=False`` lets a finished
result overtake one still running. Each call runs under the consumer's backend and device
(scopes.py). When the pass ends or is dropped, calls not started are cancelled and the pool
is shut down after the running ones return: no thread outlives its iterator.
"""

import collections
import concurrent.futures

from gradcore.data.autotune import AUTOTUNE, Parallelism
from gradcore.data.scopes import current_scopes, entered
from gradcore.data.transforms import Map, integer_argument
from gradcore.plugin import discovery as plugins


class ParallelMap(Map):
    def __init__(self, input_node, fn, num_parallel_calls, deterministic):
        super().__init__(input_node, fn)
        if num_parallel_calls != AUTOTUNE:
            integer_argument("Dataset.map: num_parallel_calls (or gc.data.AUTOTUNE)", num_parallel_calls, 1)
        self._num_parallel_calls = num_parallel_calls
        self._in_order = deterministic is not False  # None (the default) keeps the order, as TensorFlow
        self.parallelism = None  # the latest pass's: its `limit` and `waits` show AUTOTUNE at work

    def elements(self):
        parallelism = self.parallelism = Parallelism(self._num_parallel_calls)
        return self._results(parallelism)

    def _results(self, parallelism):
        backend, scopes = plugins.get_backend(), current_scopes()
        inputs = iter(self._input.elements())
        pool = concurrent.futures.ThreadPoolExecutor(parallelism.maximum, thread_name_prefix="gradcore-map")
        calls = collections.deque()
        try:
            while True:
                while len(calls) < parallelism.limit and (element := next(inputs, _END)) is not _END:
                    calls.append(pool.submit(self._applied_in, scopes, element, backend))
                if not calls:
                    return
                call = self._next_result(calls, parallelism)
                calls.remove(call)
                yield call.result()
        finally:
            for call in calls:
                call.cancel()
            pool.shutdown(wait=True)
            close = getattr(inputs, "close", None)
            if close is not None:
                close()

    def _next_result(self, calls, parallelism):
        """The call whose result leaves next; a wait for it is recorded."""
        if self._in_order:
            first = calls[0]
            if not first.done():
                parallelism.record_wait()
            return first
        finished = [call for call in calls if call.done()]
        if not finished:
            parallelism.record_wait()
            concurrent.futures.wait(calls, return_when=concurrent.futures.FIRST_COMPLETED)
            finished = [call for call in calls if call.done()]
        return finished[0]

    def _applied_in(self, scopes, element, backend):
        with entered(scopes):
            return self.applied(element, backend)


_END = object()
