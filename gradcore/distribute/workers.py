"""The workers of a multi-worker job and the collectives between them (docs/multi_worker.md).

``join()`` forms the group the environment describes (gradcore/distribute/rendezvous.py).
A WorkerGroup sums, gathers and broadcasts a backend's raw arrays over torch.distributed,
whatever the backend: gloo carries arrays in host memory, NCCL arrays on CUDA devices.

torch.distributed works in place and gradcore's arrays are immutable, so each collective
copies its inputs once, into one flat buffer per dtype and device (as DDP's buckets: one
collective per buffer, not per array). Arrays cross into torch by DLPack or NumPy's buffer
without a copy, and the results go back the same way as views of that buffer (exchange.py). Large host
arrays are summed without that copy, over point-to-point sends that read them where they lie
(point_to_point.py).

When a collective fails, the heartbeats in the store tell why: a peer that stopped beating
is named as lost, one that closed its group as gone; a timeout names the ranks that had not
started the collective.
"""

import atexit
import contextlib
import math
import os
import re
import threading
import zlib
from datetime import timedelta

from gradcore.distribute import rendezvous
from gradcore.distribute.exchange import exchange_for
from gradcore.distribute.exchange import torch_module as _torch  # torch is imported on first use
from gradcore.distribute.point_to_point import pair_all_reduce, ring_all_reduce
from gradcore.distribute.rendezvous import TorchDistributedNotInstalledError  # noqa: F401  (re-exported)
from gradcore.engine import dtypes
from gradcore.errors import DeadlineExceededError, DTypeError, GradcoreError, InvalidArgumentError, UnavailableError

API = rendezvous.API
TIMEOUT_ENV = "GRADCORE_COLLECTIVE_TIMEOUT"
DEFAULT_TIMEOUT_S = 300.0
# Results are views into the collective's buffer; jax adopts a DLPack buffer without a copy
# only when it is 64-byte aligned, so every array starts on such a boundary.
ALIGN_BYTES = 64
# Neither gloo nor NCCL has summing kernels for these; moving their bytes works for all dtypes.
NOT_SUMMABLE = {"bool": "SUM of booleans has no single meaning; cast to an integer dtype with gc.cast first",
                "int16": "neither gloo nor NCCL can sum int16; cast to int32 with gc.cast first"}
DTYPE_CODES = {d.name: i for i, d in enumerate(dtypes.ALL)}
MAX_GATHERED_RANK = 32
# Host arrays from RING_MIN_BYTES are summed by point_to_point.py's ring, and on two workers those
# from PAIR_MIN_BYTES up by its single exchange; neither copies them into a bucket. Below 2 MB
# the ring's two dependent exchanges take longer than gloo's all_reduce; below 256 KB an array
# shares a bucket, where one collective for many arrays saves more than the copy costs
# (docs/multi_worker.md, "Large arrays").
RING_MIN_BYTES = 2 * 2**20
PAIR_MIN_BYTES = 256 * 2**10
TIMED_OUT = re.compile(r"timed? ?out|timeout", re.IGNORECASE)

_joined = None
_join_lock = threading.Lock()


def join(timeout_s=None):
    """The WorkerGroup this process belongs to, or None when it runs alone.

    The cluster comes from torchrun's environment, else from TF_CONFIG (rendezvous.py).
    Joining again returns the same group until it is closed. ``timeout_s`` bounds every
    collective: default $GRADCORE_COLLECTIVE_TIMEOUT, else 300 s.
    """
    global _joined
    with _join_lock:
        if _joined is None or _joined.closed:
            cluster = rendezvous.cluster_from_environment()
            if cluster is None:
                return None
            _joined = WorkerGroup(cluster, collective_timeout(timeout_s))
        return _joined


def collective_timeout(timeout_s=None):
    """Seconds a collective may take: the argument, else $GRADCORE_COLLECTIVE_TIMEOUT, else 300."""
    if timeout_s is None:
        text = os.environ.get(TIMEOUT_ENV, "").strip()
        if not text:
            return DEFAULT_TIMEOUT_S
        try:
            timeout_s = float(text)
        except ValueError:
            raise InvalidArgumentError(f"{API}: {TIMEOUT_ENV}={text!r} is not a number of seconds") from None
    if not (timeout_s > 0 and math.isfinite(timeout_s)):
        raise InvalidArgumentError(f"{API}: the collective timeout must be a positive number of seconds, "
                                   f"got {timeout_s!r}")
    return float(timeout_s)


class WorkerGroup:
    """This worker's place in the group, and the collectives over torch.distributed's default group."""

    def __init__(self, cluster, timeout_s):
        self._dist = rendezvous.torch_distributed()
        self._cluster = cluster
        self.rank, self.world_size, self.local_rank = cluster.rank, cluster.world_size, cluster.local_rank
        self.timeout_s = timeout_s
        self.device = _worker_device(cluster.local_rank)
        self.closed = False
        self._started = 0  # collectives started, written with each heartbeat (see _failure)
        self._store, self._heartbeat = self._rendezvous()
        self._survey_client = rendezvous.client(cluster)  # for _failure, connected while the store is there
        atexit.register(self.close)  # peers then read "left", not "lost", when this process ends

    def _rendezvous(self):
        cluster, heartbeat = self._cluster, None
        try:
            store = rendezvous.open_store(cluster, self.timeout_s)
            heartbeat = rendezvous.Heartbeat(cluster, lambda: self._started)
            # Gloo moves host-memory tensors; NCCL, where this worker computes on CUDA, the device's.
            backend = "cpu:gloo,cuda:nccl" if self.device.startswith("cuda") else "gloo"
            self._dist.init_process_group(backend, store=store, rank=self.rank, world_size=self.world_size,
                                          timeout=timedelta(seconds=self.timeout_s))
        except RuntimeError as exc:
            if heartbeat is not None:
                heartbeat.stop(left=True)
            raise DeadlineExceededError(
                f"{API}: worker rank {self.rank} of {self.world_size} could not meet the others at the store on "
                f"{cluster.store_host}:{cluster.store_port} (from {cluster.source}) within {self.timeout_s:g} s: "
                f"{_first_line(exc)}. Start all {self.world_size} workers with the same cluster settings, or "
                f"allow more time with {TIMEOUT_ENV}") from exc
        return store, heartbeat

    # ---- collectives ---------------------------------------------------------------------

    def all_reduce(self, arrays, backend):
        """New arrays, each the elementwise SUM over all workers of the array at its position."""
        arrays = list(arrays)
        self._check_open("all_reduce")
        exchange = exchange_for(backend)
        specs = [_spec(backend, a) for a in arrays]
        for dtype, _, _ in specs:
            if dtype in NOT_SUMMABLE:
                raise DTypeError(f"WorkerGroup.all_reduce: cannot sum {dtype} arrays: {NOT_SUMMABLE[dtype]}")
        routes = [self._route(spec, exchange) for spec in specs]
        direct = {"pair": [], "ring": []}  # (the input read where it lies, the output) of each route
        outputs = {}  # the output of each array summed point to point, by index
        for index, route in enumerate(routes):
            if route:
                source = _flat(exchange.read(arrays[index], specs[index][2]))
                outputs[index] = _host_buffers.take(source.numel(), source.dtype, "cpu")
                direct[route].append((source, outputs[index]))
        buckets = _buckets(specs, exchange, as_bytes=False, skip=outputs) if len(outputs) < len(arrays) else []
        _fill(buckets, arrays, exchange)

        def wrap_direct():  # results are views of the outputs, so they can be made before the sums land
            return {index: exchange.wrap(_shaped(out, specs[index][1]), specs[index][0], specs[index][2])
                    for index, out in outputs.items()}

        with self._collective("all_reduce"):
            for bucket in buckets:
                self._dist.all_reduce(bucket.tensor)
            # Wrapping waits for the pairs' bytes rather than adding its time (jax's import of a
            # buffer costs ~0.1 ms, a tenth of a 1 MB exchange; docs/multi_worker.md, "Large arrays").
            direct_results = pair_all_reduce(self._dist, direct["pair"], peer=1 - self.rank, meanwhile=wrap_direct)
            for source, out in direct["ring"]:
                ring_all_reduce(self._dist, source, out, self.rank, self.world_size)
        results = _unpack(buckets, exchange, specs)
        for index, result in direct_results.items():
            results[index] = result
        return results

    def _route(self, spec, exchange):
        """How all_reduce sums an array: "ring" or "pair" (point_to_point.py), or None for a bucket."""
        dtype, shape, device = spec
        count = math.prod(shape)
        if self.world_size == 1 or exchange.bucket_device(device) != "cpu" or count < self.world_size:
            return None
        size = count * _torch_dtype(dtype).itemsize
        if size >= RING_MIN_BYTES:
            return "ring"
        return "pair" if self.world_size == 2 and size >= PAIR_MIN_BYTES else None

    def all_gather(self, array, backend, axis=0):
        """One array: every worker's ``array`` concatenated along ``axis`` in rank order.

        Sizes along ``axis`` may differ between workers; the other dimensions and the dtype may not.
        """
        self._check_open("all_gather")
        exchange = exchange_for(backend)
        dtype, shape, device = _spec(backend, array)
        axis = _normalize_axis(axis, shape)
        shapes = self._gather_shapes(dtype, shape, axis)
        torch = _torch()
        sizes = [s[axis] for s in shapes]
        padded = shape[:axis] + (max(sizes),) + shape[axis + 1:]
        send = torch.empty(padded, dtype=_torch_dtype(dtype), device=exchange.bucket_device(device))
        exchange.fill(send.narrow(axis, 0, shape[axis]), array)
        received = torch.empty((self.world_size, *padded), dtype=send.dtype, device=send.device)
        with self._collective("all_gather"):
            # As bytes: gloo has no int16 kernels, and moving bytes needs none.
            self._dist.all_gather(list(_as_bytes(received).unbind(0)), _as_bytes(send))
        if axis == 0 and len(set(sizes)) == 1:
            gathered = received.reshape((-1, *padded[1:]))  # already in place: no copy
        else:
            gathered = torch.cat([received[r].narrow(axis, 0, n) for r, n in enumerate(sizes)], dim=axis)
        return exchange.wrap(gathered, dtype, device)

    def broadcast(self, arrays, backend, source=0):
        """New arrays equal to worker ``source``'s; every worker passes arrays of the same dtypes and shapes."""
        arrays = list(arrays)
        self._check_open("broadcast")
        if type(source) is not int or not 0 <= source < self.world_size:
            raise InvalidArgumentError(f"WorkerGroup.broadcast: source {source!r} is not a worker rank "
                                       f"(0..{self.world_size - 1})")
        exchange = exchange_for(backend)
        specs = [_spec(backend, a) for a in arrays]
        self._check_same_arrays(specs, source)
        buckets = _buckets(specs, exchange, as_bytes=True)
        if self.rank == source:  # the others' buffers are overwritten: no copy to make
            _fill(buckets, arrays, exchange)
        with self._collective("broadcast"):
            for bucket in buckets:
                self._dist.broadcast(bucket.tensor, src=source)
        return _unpack(buckets, exchange, specs)

    def barrier(self):
        """Return once every worker has called barrier()."""
        self._check_open("barrier")
        with self._collective("barrier"):
            # A summed host-memory scalar rather than dist.barrier, which picks a device of its own.
            self._dist.all_reduce(_torch().zeros(1))

    def close(self):
        """Leave the group: stop the heartbeat, telling the peers this worker left, and destroy the group."""
        if self.closed:
            return
        self.closed = True
        atexit.unregister(self.close)
        self._heartbeat.stop(left=True)
        with contextlib.suppress(RuntimeError, ValueError):  # a group broken by a lost peer
            self._dist.destroy_process_group()
        self._store = self._survey_client = None

    def __repr__(self):
        state = "closed" if self.closed else self.device
        return f"<WorkerGroup rank {self.rank} of {self.world_size}, {state}>"

    # ---- checks that need the other workers ------------------------------------------------

    def _gather_shapes(self, dtype, shape, axis):
        """Every worker's shape; raises on every worker alike when dtypes or other dimensions differ."""
        torch = _torch()
        if len(shape) > MAX_GATHERED_RANK:
            raise InvalidArgumentError(f"WorkerGroup.all_gather: arrays of rank {len(shape)} are not supported "
                                       f"(at most {MAX_GATHERED_RANK})")
        mine = torch.full((2 + MAX_GATHERED_RANK,), -1, dtype=torch.int64)
        mine[:2 + len(shape)] = torch.tensor([DTYPE_CODES[dtype], len(shape), *shape], dtype=torch.int64)
        everyone = torch.empty((self.world_size, mine.numel()), dtype=torch.int64)
        with self._collective("all_gather"):
            self._dist.all_gather(list(everyone.unbind(0)), mine)
        names = list(DTYPE_CODES)
        described = [(names[row[0]], tuple(row[2:2 + row[1]])) for row in everyone.tolist()]
        fits = all(d == dtype and len(s) == len(shape) and s[:axis] + s[axis + 1:] == shape[:axis] + shape[axis + 1:]
                   for d, s in described)
        if not fits:
            listing = ", ".join(f"rank {r}: {d}{list(s)}" for r, (d, s) in enumerate(described))
            raise InvalidArgumentError(
                f"WorkerGroup.all_gather: the workers' arrays must have one dtype and the same dimensions "
                f"except axis {axis}; got {listing}")
        return [s for _, s in described]

    def _check_same_arrays(self, specs, source):
        torch = _torch()
        signature = zlib.crc32(repr([(d, s) for d, s, _ in specs]).encode())
        everyone = torch.empty((self.world_size, 1), dtype=torch.int64)
        with self._collective("broadcast"):
            self._dist.all_gather(list(everyone.unbind(0)), torch.tensor([signature], dtype=torch.int64))
        signatures = [s for (s,) in everyone.tolist()]
        differ = [r for r, s in enumerate(signatures) if s != signatures[source]]
        if differ:
            raise InvalidArgumentError(
                f"WorkerGroup.broadcast: the arrays of worker rank(s) {', '.join(map(str, differ))} differ in "
                f"number, dtype or shape from those of the source, rank {source}; every worker must pass "
                f"arrays of the same dtypes and shapes")

    # ---- failures ------------------------------------------------------------------------

    def _check_open(self, name):
        if self.closed:
            raise InvalidArgumentError(f"WorkerGroup.{name}: this WorkerGroup is closed; call "
                                       f"gc.distribute.workers.join() for a new one")

    @contextlib.contextmanager
    def _collective(self, name):
        self._started += 1
        try:
            yield
        except RuntimeError as exc:  # torch.distributed's DistError family
            if isinstance(exc, GradcoreError):
                raise
            raise self._failure(name, exc) from exc

    def _failure(self, name, exc):
        """The gradcore error that says why collective ``name`` failed, from the peers' heartbeats."""
        cluster, whole = self._cluster, f"of {self.world_size}"
        restart = "restart all workers with the same command to resume from the last checkpoint"
        said = f"(torch.distributed: {_first_line(exc)})"
        try:
            peers = rendezvous.survey(self._survey_client, cluster)
        except rendezvous.StoreUnreachable:
            holder = (f"the torchrun agent that holds the store on {cluster.store_host}:{cluster.store_port} is gone"
                      if cluster.agent_holds_store else
                      f"worker rank 0 {whole} (the store's host, {cluster.store_host}:{cluster.store_port}) is lost")
            return UnavailableError(f"{API}: {name} failed: {holder}; {restart} {said}")
        gone = [_describe_gone(p, whole) for p in peers if p.state != "alive"]
        if gone:
            return UnavailableError(f"{API}: {name} failed: {'; '.join(gone)}; {restart} {said}")
        if TIMED_OUT.search(str(exc)):
            behind = [p.rank for p in peers if p.collectives_started < self._started]
            who = (f"worker rank(s) {', '.join(map(str, behind))} {whole} had not started it (alive, but busy or "
                   f"in other collectives)" if behind else "every worker had started it")
            return DeadlineExceededError(
                f"{API}: {name} did not finish within the collective timeout of {self.timeout_s:g} s; {who}. "
                f"Check that every worker calls the same collectives in the same order, or allow more time with "
                f"{TIMEOUT_ENV} (gradcore launch --timeout) {said}")
        return UnavailableError(f"{API}: {name} failed, though every worker's heartbeat goes on; {restart} {said}")


def _describe_gone(peer, whole):
    if peer.state == "left":
        return f"worker rank {peer.rank} {whole} has left (its process ended or it closed its group; see its output)"
    if math.isinf(peer.silent_s):
        return f"worker rank {peer.rank} {whole} is lost (it never sent a heartbeat)"
    return f"worker rank {peer.rank} {whole} is lost (no heartbeat for {peer.silent_s:.1f} s)"


def _first_line(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _torch_dtype(name):
    return getattr(_torch(), name)  # gradcore's dtype names are torch's


def _worker_device(local_rank):
    """cuda:<local_rank> when torch sees CUDA and the current backend computes there, else cpu."""
    from gradcore.plugin.discovery import get_backend

    torch = _torch()
    if not torch.cuda.is_available() or not any(d.startswith("cuda") for d in get_backend().devices()):
        return "cpu"
    if local_rank >= torch.cuda.device_count():
        raise InvalidArgumentError(
            f"{API}: worker local rank {local_rank} has no CUDA device of its own ({torch.cuda.device_count()} "
            f"visible); start at most one worker per device on each machine")
    torch.cuda.set_device(local_rank)  # NCCL's communicators live on the current device
    return f"cuda:{local_rank}"


def _spec(backend, array):
    """(gradcore dtype name, shape, device) of a raw array."""
    return backend.dtype_of(array).name, tuple(array.shape), backend.device_of(array)


def _flat(tensor):
    return tensor if tensor.dim() == 1 else tensor.reshape(-1)


def _shaped(tensor, shape):
    return tensor if tensor.shape == shape else tensor.view(shape)


def _normalize_axis(axis, shape):
    if not shape:
        raise InvalidArgumentError("WorkerGroup.all_gather: cannot concatenate scalars; give arrays of rank >= 1")
    if type(axis) is not int or not -len(shape) <= axis < len(shape):
        raise InvalidArgumentError(f"WorkerGroup.all_gather: axis {axis!r} is out of range for shape {list(shape)}")
    return axis % len(shape)


# ---- buckets: one flat buffer per dtype and device -------------------------------------------------


class _Bucket:
    """A flat torch buffer and where each array lives in it: (index, start, stop, dtype name, shape)."""

    def __init__(self, wire_dtype, device):
        self.wire_dtype, self.device = wire_dtype, device
        self.slots, self.size, self.tensor = [], 0, None

    def place(self, index, dtype, shape):
        wire_itemsize = self.wire_dtype.itemsize
        start = -(-self.size // (ALIGN_BYTES // wire_itemsize)) * (ALIGN_BYTES // wire_itemsize)
        length = math.prod(shape) * _torch_dtype(dtype).itemsize // wire_itemsize
        self.slots.append((index, start, start + length, dtype, shape))
        self.size = start + length

    def segment(self, slot):
        _, start, stop, dtype, shape = slot
        return self.tensor[start:stop].view(_torch_dtype(dtype)).view(shape)


def _buckets(specs, exchange, as_bytes, skip=()):
    """Buckets keyed by wire dtype and device: the array's own dtype to be summed, bytes to be moved.

    The arrays at the positions in ``skip`` get no place in them.
    """
    torch, buckets, skip = _torch(), {}, set(skip)
    for index, (dtype, shape, device) in enumerate(specs):
        if index in skip:
            continue
        wire = torch.uint8 if as_bytes else _torch_dtype(dtype)
        bucket_device = exchange.bucket_device(device)
        bucket = buckets.setdefault((wire, bucket_device), _Bucket(wire, bucket_device))
        bucket.place(index, dtype, shape)
    for bucket in buckets.values():
        # Uninitialized: the gaps left for alignment are summed or moved but never read back.
        bucket.tensor = _host_buffers.take(bucket.size, bucket.wire_dtype, bucket.device)
    return list(buckets.values())


class _BufferPool:
    """Host buffers of earlier collectives, reused once no array made from them is left.

    Each collective hands back views of its buffer (gradcore never writes an array in place), and
    the first touch of fresh memory, page by page, costs more than the copy into it: a new 64 MB
    buffer takes ~38 ms to fill where a reused one takes ~8 ms (docs/multi_worker.md). A buffer is
    free when its storage has no user but the pool: every torch view, NumPy view (its base is a
    torch view) and DLPack export (jax's arrays) holds the storage. CUDA buffers come from torch's
    caching allocator, which reuses memory already.
    """

    PER_SIZE = 2  # buffers kept per (size, dtype): a step's results and the next step's

    def __init__(self):
        self._buffers = {}
        self._lock = threading.Lock()

    def take(self, size, dtype, device):
        torch = _torch()
        if device != "cpu" or not hasattr(torch._C, "_storage_Use_Count"):
            return torch.empty(size, dtype=dtype, device=device)
        with self._lock:
            kept = self._buffers.setdefault((size, dtype), [])
            for buffer in kept:
                if _storage_users(buffer) == 1:
                    return buffer[:]  # a view: the buffer counts as in use until the collective's views are gone
            buffer = torch.empty(size, dtype=dtype)
            kept.append(buffer)
            del kept[:-self.PER_SIZE]  # the oldest, still in use, is forgotten: its arrays keep it alive
            return buffer[:]


def _storage_users(tensor):
    """How many tensors, views and exports hold ``tensor``'s memory (the storage object asked counts one)."""
    return _torch()._C._storage_Use_Count(tensor.untyped_storage()._cdata) - 1


_host_buffers = _BufferPool()


def _fill(buckets, arrays, exchange):
    for bucket in buckets:
        for slot in bucket.slots:
            exchange.fill(bucket.segment(slot), arrays[slot[0]])


def _unpack(buckets, exchange, specs):
    results = [None] * len(specs)
    for bucket in buckets:
        for slot in bucket.slots:
            dtype, _, device = specs[slot[0]]
            results[slot[0]] = exchange.wrap(bucket.segment(slot), dtype, device)
    return results


def _as_bytes(tensor):
    return tensor.view(_torch().uint8)
