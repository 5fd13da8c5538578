"""How a worker finds its peers, and later tells which of them are gone (docs/multi_worker.md).

The cluster comes from the environment, tried in order: torchrun's variables (RANK,
WORLD_SIZE, MASTER_ADDR, MASTER_PORT, LOCAL_RANK), then TensorFlow's TF_CONFIG. The
workers meet at a torch.distributed TCPStore: torchrun's agent holds it when torchrun
started them, else worker 0 does, at MASTER_ADDR:MASTER_PORT or at its own TF_CONFIG
address.

The same store carries heartbeats: a daemon thread in every worker writes the time and
how many collectives the worker has started to ``gradcore/alive/<rank>`` each second.
When a collective fails, ``survey`` reads them to say which peer stopped beating (a
lost worker), which one closed its group, and which ones never started the collective
that timed out.

Nothing here imports torch at module load: ``import gradcore`` must work without it.
"""

import json
import os
import threading
import time
from datetime import timedelta
from typing import NamedTuple

from gradcore.errors import GradcoreError, InvalidArgumentError

API = "gc.distribute.MultiWorkerMirroredStrategy"
TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
HEARTBEAT_INTERVAL_S = 1.0
# A peer whose heartbeat has not changed for this long is lost: three missed beats, so a
# worker busy in a long kernel (which still lets the heartbeat thread run) is not mistaken.
LOST_AFTER_S = 3 * HEARTBEAT_INTERVAL_S
# How long a survey waits to reach the store: short, as it runs after a failure already.
SURVEY_CONNECT_TIMEOUT_S = 5.0
LEFT = "left"


class TorchDistributedNotInstalledError(GradcoreError, ImportError):
    """Multi-worker training needs torch.distributed, and torch is not installed."""


def torch_distributed(api=API):
    """The torch.distributed module, imported on first use."""
    try:
        import torch.distributed as dist
    except ImportError as exc:
        raise TorchDistributedNotInstalledError(
            f"{api}: multi-worker training runs on torch.distributed, and torch is not installed; "
            f"install it with: pip install 'gradcore[distribute]'") from exc
    if not dist.is_available():
        raise TorchDistributedNotInstalledError(
            f"{api}: this torch build has no torch.distributed; install the PyPI build: "
            f"pip install 'gradcore[distribute]'")
    return dist


# ---- the cluster, from the environment ----------------------------------------------------


class Cluster(NamedTuple):
    """Where this worker stands and where the store is."""

    rank: int
    world_size: int
    local_rank: int
    store_host: str
    store_port: int
    agent_holds_store: bool  # torchrun's agent: the store outlives every worker
    source: str  # "torchrun" or "TF_CONFIG", for messages

    @property
    def store_holder(self):
        return "the torchrun agent" if self.agent_holds_store else "rank 0"


def cluster_from_environment(environ=None):
    """The Cluster the environment describes, or None when this process runs alone."""
    environ = os.environ if environ is None else environ
    if any(name in environ for name in ("RANK", "WORLD_SIZE")):
        return _from_torchrun(environ)
    if environ.get("TF_CONFIG", "").strip():
        return _from_tf_config(environ["TF_CONFIG"])
    return None


def _from_torchrun(environ):
    missing = [name for name in TORCHRUN_VARIABLES if not environ.get(name)]
    if missing:
        raise InvalidArgumentError(
            f"{API}: the environment sets {', '.join(n for n in TORCHRUN_VARIABLES if n not in missing)} "
            f"but not {', '.join(missing)}; start the workers with torchrun or `gradcore launch`, which set "
            f"all of {', '.join(TORCHRUN_VARIABLES)}")
    rank = _integer(environ, "RANK")
    world_size = _integer(environ, "WORLD_SIZE")
    if not 0 <= rank < world_size:
        raise InvalidArgumentError(f"{API}: RANK={rank} is outside 0..WORLD_SIZE-1 (WORLD_SIZE={world_size})")
    local_rank = _integer(environ, "LOCAL_RANK") if environ.get("LOCAL_RANK") else rank
    # torchrun tells its workers to use the store its agent holds (torch.distributed.rendezvous).
    agent = environ.get("TORCHELASTIC_USE_AGENT_STORE", "").lower() == "true"
    return Cluster(rank, world_size, local_rank, environ["MASTER_ADDR"], _integer(environ, "MASTER_PORT"),
                   agent, "torchrun")


def _integer(environ, name):
    try:
        return int(environ[name])
    except ValueError:
        raise InvalidArgumentError(f"{API}: {name}={environ[name]!r} is not an integer") from None


def _from_tf_config(text):
    def bad(what):
        return InvalidArgumentError(
            f"{API}: TF_CONFIG {what}; expected JSON like "
            '{"cluster": {"worker": ["host0:port", "host1:port"]}, "task": {"type": "worker", "index": 0}}')

    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad(f"is not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise bad("is not a JSON object")
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not isinstance(cluster.get("worker"), list) or not cluster["worker"]:
        raise bad('has no "cluster" with a non-empty "worker" list')
    if set(cluster) & {"chief", "ps"}:
        raise bad('names "chief" or "ps" tasks, which MultiWorkerMirroredStrategy does not use: list every '
                  'process under "worker" (worker 0 plays the chief)')
    if not isinstance(task, dict):
        raise bad('has no "task" object')
    if task.get("type") != "worker":
        raise bad(f'has task type {task.get("type")!r}; only "worker" tasks take part')
    workers, index = cluster["worker"], task.get("index")
    if type(index) is not int or not 0 <= index < len(workers):
        raise bad(f"has task index {index!r}, not one of 0..{len(workers) - 1} for its {len(workers)} workers")
    hosts = [_host_and_port(address, bad) for address in workers]
    # Workers that share a host share its devices: the i-th of them on a host uses cuda:i.
    local_rank = [host for host, _ in hosts[:index]].count(hosts[index][0])
    return Cluster(index, len(workers), local_rank, hosts[0][0], hosts[0][1], False, "TF_CONFIG")


def _host_and_port(address, bad):
    host, _, port = str(address).rpartition(":")
    if not host or not port.isdigit():
        raise bad(f"lists worker address {address!r}, not host:port")
    return host.strip("[]"), int(port)


# ---- the store -----------------------------------------------------------------------------


def open_store(cluster, timeout_s):
    """This worker's client of the cluster's store; worker 0 starts the store unless torchrun's agent holds it."""
    dist = torch_distributed()
    holds = cluster.rank == 0 and not cluster.agent_holds_store
    return dist.TCPStore(cluster.store_host, cluster.store_port, cluster.world_size, is_master=holds,
                         timeout=timedelta(seconds=timeout_s))


def client(cluster, timeout_s=SURVEY_CONNECT_TIMEOUT_S):
    """A connection of its own to the store: its user never waits behind another thread's store calls."""
    return torch_distributed().TCPStore(cluster.store_host, cluster.store_port, is_master=False,
                                        timeout=timedelta(seconds=timeout_s), wait_for_workers=False)


def _heartbeat_key(rank):
    return f"gradcore/alive/{rank}"


# ---- heartbeats ----------------------------------------------------------------------------


class Heartbeat:
    """A daemon thread that writes ``<time> <collectives started>`` to the store every second."""

    def __init__(self, cluster, collectives_started):
        self._store = client(cluster)
        self._key = _heartbeat_key(cluster.rank)
        self._collectives_started = collectives_started
        self._stopped = threading.Event()
        self._beat()  # before the group forms, so every peer's key exists once it has
        self._thread = threading.Thread(target=self._run, name=f"gradcore-heartbeat-{cluster.rank}", daemon=True)
        self._thread.start()

    def _beat(self):
        self._store.set(self._key, f"{time.time():.3f} {self._collectives_started()}")

    def _run(self):
        while not self._stopped.wait(HEARTBEAT_INTERVAL_S):
            try:
                self._beat()
            except RuntimeError:  # the store is gone; the next collective fails and says so
                return

    def stop(self, left=True):
        """Stop beating; ``left`` tells the peers this worker closed its group rather than died."""
        self._stopped.set()
        self._thread.join(timeout=2 * HEARTBEAT_INTERVAL_S)
        if left:
            try:
                self._store.set(self._key, LEFT)
            except RuntimeError:
                pass  # the store went first: nobody is left to tell


# ---- who is still there --------------------------------------------------------------------


class Peer(NamedTuple):
    rank: int
    state: str  # "alive"; "lost": its heartbeat stopped or never came; "left": it closed its group
    silent_s: float  # seconds since its last heartbeat (inf: none ever came)
    collectives_started: int  # at its last heartbeat; -1 when there is none


class StoreUnreachable(Exception):
    """The store cannot be read: its holder (rank 0, or the torchrun agent) is gone."""


def survey(store, cluster, wait_s=LOST_AFTER_S):
    """Every other worker's state, watching the heartbeats for ``wait_s`` to tell the stopped from the beating.

    ``store`` is a client connected while the store was there (``client``): connecting only now
    would spend its whole timeout retrying when the store's holder is gone. Raises
    StoreUnreachable then.
    """
    try:
        first = _read_heartbeats(store, cluster)
        deadline = time.monotonic() + wait_s
        unchanged = {r for r, beat in first.items() if beat not in (LEFT, None)}
        while unchanged and time.monotonic() < deadline:
            time.sleep(HEARTBEAT_INTERVAL_S / 4)
            now = _read_heartbeats(store, cluster, unchanged)
            unchanged = {r for r in unchanged if now[r] == first[r]}
        last = _read_heartbeats(store, cluster)
    except RuntimeError as exc:  # torch's DistStoreError / DistNetworkError: no store to read
        raise StoreUnreachable(str(exc)) from exc
    return [_peer(rank, last[rank], rank in unchanged) for rank in sorted(last)]


def _read_heartbeats(store, cluster, ranks=None):
    ranks = [r for r in range(cluster.world_size) if r != cluster.rank] if ranks is None else ranks
    # check() first: get() of a key a peer never wrote would wait for the store's timeout.
    return {r: store.get(key).decode() if store.check([key]) else None
            for r, key in ((r, _heartbeat_key(r)) for r in ranks)}


def _peer(rank, beat, stopped):
    if beat == LEFT:
        return Peer(rank, "left", 0.0, -1)
    if beat is None:
        return Peer(rank, "lost", float("inf"), -1)
    written, started = beat.split()
    silent = max(0.0, time.time() - float(written))
    return Peer(rank, "lost" if stopped else "alive", silent, int(started))
