"""gc.distribute's transport (gradcore/distribute/workers.py, docs/multi_worker.md) on the backend of $GRADCORE_BACKEND.

Multi-worker tests start real worker processes on 127.0.0.1: through `gradcore launch`
(torchrun), or directly with torchrun's or TF_CONFIG's environment. Every process has a
deadline and is killed in a finally block, so nothing outlives a test or hangs it.
"""

import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from gradcore.distribute import point_to_point, rendezvous, workers
from gradcore.errors import DTypeError, InvalidArgumentError
from gradcore.testing import assert_allclose
from tests.unit.envs import numpy_env_only

BACKEND = os.environ.get("GRADCORE_BACKEND") or "numpy"
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
WORKER_DEADLINE_S = 120  # a whole multi-worker run: imports, rendezvous, collectives
COLLECTIVE_TIMEOUT_S = 15  # the fault tests' workers fail by then at the latest
SUMMABLE = ["float16", "bfloat16", "float32", "float64", "int8", "int32", "int64", "uint8"]
MOVABLE = SUMMABLE + ["int16", "bool"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def worker_env(**variables):
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "TF_CONFIG", "LOCAL_RANK")}
    env.update(GRADCORE_BACKEND=BACKEND, PYTHONUNBUFFERED="1", GRADCORE_COLLECTIVE_TIMEOUT=str(COLLECTIVE_TIMEOUT_S))
    if sys.platform == "linux":
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")  # gloo's sockets on 127.0.0.1, whatever the host name says
    env.update({k: str(v) for k, v in variables.items()})
    return env


def torchrun_env(rank, world_size, port, **extra):
    return worker_env(RANK=rank, WORLD_SIZE=world_size, LOCAL_RANK=rank, MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=port, **extra)


def launch_command(nproc, script, *args):
    return [sys.executable, "-c", "from gradcore.cli import main; main()", "launch", "-n", str(nproc),
            "--timeout", str(COLLECTIVE_TIMEOUT_S), str(script), *args]


def start(command, tmp_path, name, env):
    """A process whose output goes to tmp_path/name.out and .err; its own session, to kill all it starts."""
    with open(tmp_path / f"{name}.out", "w") as out, open(tmp_path / f"{name}.err", "w") as err:
        return subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=tmp_path, start_new_session=True)


def output(tmp_path, name):
    return (tmp_path / f"{name}.out").read_text(), (tmp_path / f"{name}.err").read_text()


def kill_all(processes):
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)


def wait_for(predicate, deadline_s, what):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


# ---- the cluster from the environment (no torch needed) ----------------------------------


def test_join_returns_none_when_the_environment_names_no_cluster(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "TF_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert workers.join() is None


def test_tf_config_gives_rank_world_size_store_and_local_rank():
    config = {"cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222", "10.0.0.2:2223"]},
              "task": {"type": "worker", "index": 2}}
    cluster = rendezvous.cluster_from_environment({"TF_CONFIG": json.dumps(config)})
    assert cluster == rendezvous.Cluster(rank=2, world_size=3, local_rank=1, store_host="10.0.0.1",
                                         store_port=2222, agent_holds_store=False, source="TF_CONFIG")


def test_torchrun_variables_come_before_tf_config():
    env = {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500",
           "TORCHELASTIC_USE_AGENT_STORE": "True", "TF_CONFIG": "not even json"}
    cluster = rendezvous.cluster_from_environment(env)
    assert (cluster.rank, cluster.world_size, cluster.local_rank, cluster.store_port) == (1, 2, 0, 29500)
    assert cluster.agent_holds_store and cluster.source == "torchrun"


@pytest.mark.parametrize("config, fragment", [
    ("{not json", "is not valid JSON"),
    ('["worker"]', "is not a JSON object"),
    ('{"task": {"type": "worker", "index": 0}}', 'no "cluster"'),
    ('{"cluster": {"worker": []}, "task": {"type": "worker", "index": 0}}', 'no "cluster"'),
    ('{"cluster": {"worker": ["a:1"]}}', 'no "task"'),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "task type 'ps'"),
    ('{"cluster": {"worker": ["a:1"], "chief": ["b:1"]}, "task": {"type": "worker", "index": 0}}', '"chief"'),
    ('{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 2}}',
     "task index 2, not one of 0..1"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": "0"}}', "task index '0'"),
    ('{"cluster": {"worker": ["a"]}, "task": {"type": "worker", "index": 0}}', "'a', not host:port"),
])
def test_a_bad_tf_config_is_an_invalid_argument_naming_it(config, fragment):
    with pytest.raises(InvalidArgumentError, match="TF_CONFIG") as caught:
        rendezvous.cluster_from_environment({"TF_CONFIG": config})
    assert str(caught.value).startswith("gc.distribute.MultiWorkerMirroredStrategy: TF_CONFIG ")
    assert fragment in str(caught.value)


def test_partial_torchrun_variables_name_the_missing_ones():
    with pytest.raises(InvalidArgumentError, match="but not MASTER_ADDR, MASTER_PORT"):
        rendezvous.cluster_from_environment({"RANK": "0", "WORLD_SIZE": "2"})
    with pytest.raises(InvalidArgumentError, match="RANK=2 is outside"):
        rendezvous.cluster_from_environment({"RANK": "2", "WORLD_SIZE": "2", "MASTER_ADDR": "h", "MASTER_PORT": "1"})


def test_collective_timeout_comes_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv(workers.TIMEOUT_ENV, raising=False)
    assert workers.collective_timeout() == 300.0
    monkeypatch.setenv(workers.TIMEOUT_ENV, "12.5")
    assert workers.collective_timeout() == 12.5
    assert workers.collective_timeout(3) == 3.0
    monkeypatch.setenv(workers.TIMEOUT_ENV, "soon")
    with pytest.raises(InvalidArgumentError, match="GRADCORE_COLLECTIVE_TIMEOUT='soon'"):
        workers.collective_timeout()
    with pytest.raises(InvalidArgumentError, match="positive"):
        workers.collective_timeout(0)


def test_without_torch_joining_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # None: "import torch" fails
    monkeypatch.setitem(sys.modules, "torch.distributed", None)
    with pytest.raises(ImportError, match=r"pip install 'gradcore\[distribute\]'") as caught:
        rendezvous.torch_distributed()
    assert isinstance(caught.value, workers.TorchDistributedNotInstalledError)


# ---- a world of one, in this process -------------------------------------------------------


@pytest.fixture(scope="module")
def alone():
    """This process as a group of one: every collective runs, on the test's backend."""
    pytest.importorskip("torch")
    from gradcore.plugin.discovery import load_backend

    with pytest.MonkeyPatch.context() as patch:
        for name, value in torchrun_env(0, 1, free_port()).items():
            patch.setenv(name, value)
        group = workers.join(timeout_s=30)
        try:
            yield group, load_backend(BACKEND)
        finally:
            group.close()


def test_joining_twice_gives_the_same_group(alone):
    group, _ = alone
    assert workers.join() is group
    assert (group.rank, group.world_size, group.local_rank, group.device) == (0, 1, 0, "cpu")


@pytest.mark.parametrize("dtype", SUMMABLE)
def test_results_are_new_arrays_of_the_same_kind_and_the_inputs_stay(alone, dtype):
    group, backend = alone
    from gradcore.engine import dtypes

    values = np.arange(12).reshape(3, 4)
    inputs = [backend.asarray(values, dtypes.as_dtype(dtype)), backend.asarray(np.array(5), dtypes.as_dtype(dtype))]
    for results in (group.all_reduce(inputs, backend), group.broadcast(inputs, backend)):
        for given, result in zip(inputs, results):
            assert type(result) is type(given)
            assert backend.dtype_of(result).name == dtype
            assert tuple(result.shape) == tuple(given.shape)
            assert backend.device_of(result) == backend.device_of(given)
            np.testing.assert_array_equal(backend.to_numpy(result).astype(np.float64),
                                          backend.to_numpy(given).astype(np.float64))
    np.testing.assert_array_equal(backend.to_numpy(inputs[0]).astype(np.float64), values)


def test_results_come_back_on_each_host_device_of_the_inputs(alone):
    """all_reduce, broadcast and all_gather put each result on its input's host device, where the backend has
    several (jax in the tox env: "cpu", "cpu:1")."""
    group, backend = alone
    from gradcore.engine import dtypes

    hosts = [device for device in backend.devices() if device.split(":")[0] == "cpu"]
    inputs = [backend.asarray(np.full(n, i + 1), dtypes.float32, device=device)
              for i, (device, n) in enumerate(itertools.product(hosts, (3, 70_000)))]
    gathered = [group.all_gather(x, backend) for x in inputs]
    for results in (group.all_reduce(inputs, backend), group.broadcast(inputs, backend), gathered):
        assert [backend.device_of(r) for r in results] == [backend.device_of(x) for x in inputs]
        assert [backend.to_numpy(r).tolist() for r in results] == [backend.to_numpy(x).tolist() for x in inputs]


def address(array):
    """Where an array's data start: torch, jax or NumPy."""
    if hasattr(array, "data_ptr"):
        return array.data_ptr()
    if hasattr(array, "unsafe_buffer_pointer"):
        return array.unsafe_buffer_pointer()
    return np.asarray(array).__array_interface__["data"][0]


def test_all_reduce_returns_views_of_one_aligned_buffer_per_dtype(alone):
    """One copy in (the bucket), none out: on every backend the results lie in one buffer, 64-byte aligned."""
    group, backend = alone
    from gradcore.engine import dtypes

    arrays = [backend.asarray(np.full(n, n), dtypes.float32) for n in (3, 50, 7)]
    results = group.all_reduce(arrays + [backend.asarray(np.ones(2), dtypes.int64)], backend)
    assert [backend.to_numpy(r).tolist() for r in results] == [[3] * 3, [50] * 50, [7] * 7, [1, 1]]
    first = address(results[0])
    # 3 floats take one 64-byte line, 50 floats four; the int64 array has a buffer of its own.
    assert [address(r) - first for r in results[:3]] == [0, 64, 64 + 256]
    assert first % workers.ALIGN_BYTES == 0 and address(results[3]) % workers.ALIGN_BYTES == 0


@pytest.mark.parametrize("dtype, reason", [("bool", "SUM of booleans"), ("int16", "cast to int32")])
def test_all_reduce_refuses_what_it_cannot_sum(alone, dtype, reason):
    group, backend = alone
    from gradcore.engine import dtypes

    with pytest.raises(DTypeError, match=f"^WorkerGroup.all_reduce: cannot sum {dtype} arrays: ") as caught:
        group.all_reduce([backend.asarray(np.ones(2), dtypes.as_dtype(dtype))], backend)
    assert reason in str(caught.value)


def test_all_gather_checks_its_arguments(alone):
    group, backend = alone
    from gradcore.engine import dtypes

    with pytest.raises(InvalidArgumentError, match="cannot concatenate scalars"):
        group.all_gather(backend.asarray(np.array(1.0), dtypes.float32), backend)
    with pytest.raises(InvalidArgumentError, match=r"axis 2 is out of range for shape \[2, 3\]"):
        group.all_gather(backend.asarray(np.ones((2, 3)), dtypes.float32), backend, axis=2)
    gathered = group.all_gather(backend.asarray(np.ones((2, 3)), dtypes.int16), backend, axis=-1)
    assert tuple(gathered.shape) == (2, 3) and backend.dtype_of(gathered).name == "int16"
    with pytest.raises(InvalidArgumentError, match="source 1 is not a worker rank"):
        group.broadcast([], backend, source=1)


# ---- several workers -------------------------------------------------------------------------

COLLECTIVES_SCRIPT = """
    import json
    import numpy as np
    from gradcore.distribute.workers import join
    from gradcore.engine import dtypes
    from gradcore.plugin.discovery import get_backend

    SUMMABLE, MOVABLE = {summable}, {movable}
    group, backend = join(), get_backend()
    rank = group.rank

    def local(name, rows):
        values = np.arange(rows * 3).reshape(rows, 3) * (rank + 1) + rank
        return backend.asarray(values % 2 if name == "bool" else values, dtypes.as_dtype(name))

    def described(array, like):
        same = (type(array) is type(like) and backend.device_of(array) == backend.device_of(like)
                and backend.dtype_of(array) == backend.dtype_of(like))
        return {{"values": backend.to_numpy(array).astype(np.float64).tolist(), "same_kind": same}}

    inputs = [local(name, 2) for name in SUMMABLE]
    reduced = group.all_reduce(inputs, backend)
    report = {{"rank": rank, "world_size": group.world_size, "local_rank": group.local_rank,
               "reduced": {{n: described(r, a) for n, a, r in zip(SUMMABLE, inputs, reduced)}},
               "inputs_kept": all(np.array_equal(backend.to_numpy(a), backend.to_numpy(local(n, 2)))
                                  for n, a in zip(SUMMABLE, inputs))}}
    report["gathered"] = {{n: described(group.all_gather(local(n, rank + 1), backend), local(n, 1)) for n in MOVABLE}}
    columns = backend.asarray(np.full((2, rank + 1), rank + 1), dtypes.float32)
    report["gathered_axis1"] = backend.to_numpy(group.all_gather(columns, backend, axis=1)).tolist()
    sent = [local(n, 2) for n in MOVABLE]
    report["broadcast"] = {{n: described(b, a) for n, a, b in zip(MOVABLE, sent, group.broadcast(sent, backend, 1))}}
    group.barrier()
    with open(f"report-{{rank}}.json", "w") as out:  # one file each: torchrun interleaves the workers' stdout
        json.dump(report, out)
    group.close()
"""


def write_script(tmp_path, name, text, **values):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).format(**values) if values else textwrap.dedent(text))
    return path


def expected_local(name, rank, rows):
    values = np.arange(rows * 3).reshape(rows, 3) * (rank + 1) + rank
    return (values % 2 if name == "bool" else values).astype(np.float64)


def test_two_workers_under_launch_sum_gather_and_broadcast_every_dtype(tmp_path):
    pytest.importorskip("torch")
    script = write_script(tmp_path, "collectives.py", COLLECTIVES_SCRIPT, summable=SUMMABLE, movable=MOVABLE)
    done = subprocess.run(launch_command(2, script), check=False, capture_output=True, text=True, cwd=tmp_path,
                          env=worker_env(), timeout=WORKER_DEADLINE_S)
    assert done.returncode == 0, done.stderr[-3000:]
    reports = [json.loads((tmp_path / f"report-{rank}.json").read_text()) for rank in (0, 1)]
    assert [(r["rank"], r["world_size"], r["local_rank"]) for r in reports] == [(0, 2, 0), (1, 2, 1)]
    for report in reports:
        assert report["inputs_kept"]
        for name in SUMMABLE:
            assert report["reduced"][name] == {
                "values": (expected_local(name, 0, 2) + expected_local(name, 1, 2)).tolist(), "same_kind": True}
        for name in MOVABLE:
            assert report["gathered"][name] == {"values": np.concatenate(
                [expected_local(name, 0, 1), expected_local(name, 1, 2)]).tolist(), "same_kind": True}
            assert report["broadcast"][name] == {"values": expected_local(name, 1, 2).tolist(), "same_kind": True}
        assert report["gathered_axis1"] == [[1.0, 2.0, 2.0], [1.0, 2.0, 2.0]]


POINT_TO_POINT_SCRIPT = """
    import json, sys
    import numpy as np
    from gradcore.distribute import point_to_point, workers
    from gradcore.engine import dtypes
    from gradcore.plugin.discovery import get_backend

    # Small thresholds, so that small arrays go point to point, the ring's in segments of uneven length.
    route = sys.argv[1]
    workers.RING_MIN_BYTES = 64 if route == "ring" else 2**40
    workers.PAIR_MIN_BYTES, point_to_point.SEGMENT_BYTES = 64, 40
    sent = []
    def ring(dist, source, *args):
        sent.append(source.numel())
        return point_to_point.ring_all_reduce(dist, source, *args)
    def pair(dist, pairs, peer, meanwhile):
        sent.extend(source.numel() for source, _ in pairs)
        return point_to_point.pair_all_reduce(dist, pairs, peer, meanwhile)
    workers.ring_all_reduce, workers.pair_all_reduce = ring, pair

    group, backend = workers.join(), get_backend()
    rank, world_size = group.rank, group.world_size
    report = {{"exact": {{}}, "inputs_kept": True}}
    for name in {summable}:
        local = (np.arange(101 * 3) % 7 + 3 * rank).reshape(3, 101).T  # strided where the backend keeps views
        dtype = dtypes.as_dtype(name)
        big, small = backend.asarray(local, dtype), backend.asarray(np.full(3, rank + 1), dtype)
        summed = group.all_reduce([big, small, big], backend)
        report["exact"][name] = [backend.to_numpy(r).astype(np.float64).tolist() for r in summed]
        report["inputs_kept"] &= bool(np.array_equal(backend.to_numpy(big).astype(np.float64), local))
    point_to_point.SEGMENT_BYTES = 2**16  # a few segments, not ten thousand
    noisy = np.random.default_rng(rank).normal(size=100_003).astype(np.float32)
    summed = backend.to_numpy(group.all_reduce([backend.asarray(noisy, dtypes.float32)], backend)[0])
    report["noisy"] = summed.view(np.uint32).tolist()
    report["sent"] = sent
    with open(f"report-{{rank}}.json", "w") as out:
        json.dump(report, out)
    group.close()
"""


@pytest.mark.parametrize("route, world_size", [("ring", 2), ("pair", 2), pytest.param("ring", 3, marks=numpy_env_only)])
def test_large_arrays_are_summed_point_to_point_unwritten_and_every_worker_gets_the_same_bits(tmp_path, route,
                                                                                             world_size):
    """point_to_point.py: the ring on 2 and 3 workers (uneven chunks and segments) and the pair exchange."""
    pytest.importorskip("torch")
    script = write_script(tmp_path, "sums.py", POINT_TO_POINT_SCRIPT, summable=SUMMABLE)
    done = subprocess.run(launch_command(world_size, script, route), check=False, capture_output=True, text=True,
                          cwd=tmp_path, env=worker_env(), timeout=WORKER_DEADLINE_S)
    assert done.returncode == 0, done.stderr[-3000:]
    reports = [json.loads((tmp_path / f"report-{rank}.json").read_text()) for rank in range(world_size)]
    locals_ = [(np.arange(101 * 3) % 7 + 3 * rank).reshape(3, 101).T for rank in range(world_size)]
    expected = sum(local.astype(np.float64) for local in locals_).tolist()
    small = [world_size * (world_size + 1) / 2] * 3
    for report in reports:
        assert report["inputs_kept"]
        assert report["exact"] == {name: [expected, small, expected] for name in SUMMABLE}
        # Two large arrays per dtype and the noisy one went point to point; the small ones did not.
        assert report["sent"] == [303, 303] * len(SUMMABLE) + [100_003]
        assert report["noisy"] == reports[0]["noisy"]
    noisy = sum(np.random.default_rng(rank).normal(size=100_003).astype(np.float32).astype(np.float64)
                for rank in range(world_size))
    assert_allclose(np.array(reports[0]["noisy"], np.uint32).view(np.float32), noisy, dtype="float32")


def test_ring_segments_cover_each_chunk_once_in_pieces_of_about_the_segment_size():
    for count, itemsize, world_size in [(10, 4, 3), (2**20 + 7, 4, 2), (3 * 2**22, 2, 5), (4, 8, 4)]:
        chunks = point_to_point._segments(count, itemsize, world_size)
        assert len(chunks) == world_size
        bounds = [bound for chunk in chunks for bound in chunk]
        assert bounds[0][0] == 0 and bounds[-1][1] == count
        assert all(stop > start for start, stop in bounds)
        assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
        sizes = [(stop - start) * itemsize for start, stop in bounds]
        assert max(sizes) <= 1.5 * point_to_point.SEGMENT_BYTES or len(bounds) == world_size


def test_the_pair_exchange_completes_when_the_work_meant_to_overlap_it_fails():
    torch = pytest.importorskip("torch")
    waited = []

    class Posted:
        def wait(self):
            waited.append("swap")

    class FakeDist:
        @staticmethod
        def all_to_all_single(out, source, output_split_sizes, input_split_sizes, async_op):
            assert async_op and output_split_sizes == input_split_sizes == [0, source.numel()]  # nothing to itself
            return Posted()

    def failing():
        raise MemoryError("no room for the results")

    source, out = torch.ones(3), torch.full((3,), 2.0)
    with pytest.raises(MemoryError, match="no room"):
        point_to_point.pair_all_reduce(FakeDist, [(source, out)], peer=1, meanwhile=failing)
    assert waited == ["swap"]  # nothing left posted for the next collective to trip on
    assert point_to_point.pair_all_reduce(FakeDist, [(source, out)], peer=1, meanwhile=lambda: "made") == "made"
    assert out.tolist() == [4.0, 4.0, 4.0]  # the received 2s plus this worker's 1s, twice


RENDEZVOUS_SCRIPT = """
    import json, sys
    import numpy as np
    from gradcore.distribute.workers import join
    from gradcore.engine import dtypes
    from gradcore.plugin.discovery import get_backend

    group, backend = join(), get_backend()
    total = group.all_reduce([backend.asarray(np.array([group.rank + 1]), dtypes.int64)], backend)[0]
    print("RESULT " + json.dumps([group.rank, group.world_size, group.local_rank, group.timeout_s,
                                  backend.to_numpy(total).tolist()]), flush=True)
    group.close()
"""


@numpy_env_only
def test_two_workers_meet_through_tf_config(tmp_path):
    pytest.importorskip("torch")
    script = write_script(tmp_path, "meet.py", RENDEZVOUS_SCRIPT)
    cluster = {"worker": [f"127.0.0.1:{free_port()}", "127.0.0.1:0"]}
    processes = [start([sys.executable, str(script)], tmp_path, f"w{i}",
                       worker_env(TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})))
                 for i in range(2)]
    try:
        for process in processes:
            assert process.wait(timeout=WORKER_DEADLINE_S) == 0, output(tmp_path, "w0")[1][-3000:]
    finally:
        kill_all(processes)
    results = [json.loads(output(tmp_path, f"w{i}")[0].split("RESULT ")[1]) for i in range(2)]
    assert results == [[0, 2, 0, COLLECTIVE_TIMEOUT_S, [3]], [1, 2, 1, COLLECTIVE_TIMEOUT_S, [3]]]


# ---- faults: a lost worker is named, a late one times out --------------------------------------

TRAINING_SCRIPT = """
    import os, sys, time
    import numpy as np
    from gradcore.distribute.workers import join
    from gradcore.engine import dtypes
    from gradcore.plugin.discovery import get_backend

    group, backend = join(), get_backend()
    late_rank, late_by = int(sys.argv[1]), float(sys.argv[2])  # that rank sleeps so long after step 1
    gradient = backend.asarray(np.ones(int(sys.argv[3])), dtypes.float32)
    for step in range(100000):
        group.all_reduce([gradient], backend)
        print(f"rank {group.rank} pid {os.getpid()} step {step}", flush=True)
        time.sleep(late_by if (step == 1 and group.rank == late_rank) else 0.05)
"""


# Gradients summed in a bucket (in-place all_reduce), and by point_to_point.py's pair exchange and ring.
GRADIENT_SIZES = {"bucket": 256, "pair": 2**17, "ring": 2**20}


def started_steps(tmp_path, name, rank):
    return re.findall(rf"rank {rank} pid (\d+) step (\d+)", output(tmp_path, name)[0])


@numpy_env_only
@pytest.mark.parametrize("victim, gradient", [(1, "bucket"), (0, "bucket"), (1, "pair"), (1, "ring")],
                         ids=["worker", "store-host", "worker-in-pair", "worker-in-ring"])
def test_a_killed_worker_is_named_by_the_survivor_well_before_the_timeout(tmp_path, victim, gradient):
    pytest.importorskip("torch")
    script = write_script(tmp_path, "train.py", TRAINING_SCRIPT)
    port, survivor, size = free_port(), 1 - victim, str(GRADIENT_SIZES[gradient])
    processes = [start([sys.executable, str(script), "-1", "0", size], tmp_path, f"w{r}", torchrun_env(r, 2, port))
                 for r in range(2)]
    try:
        wait_for(lambda: len(started_steps(tmp_path, f"w{victim}", victim)) >= 3, WORKER_DEADLINE_S, "training")
        processes[victim].kill()
        killed_at = time.monotonic()
        returncode = processes[survivor].wait(timeout=60)
        elapsed = time.monotonic() - killed_at
    finally:
        kill_all(processes)
    stderr = output(tmp_path, f"w{survivor}")[1]
    assert returncode != 0 and elapsed < COLLECTIVE_TIMEOUT_S, (returncode, elapsed)
    assert "UnavailableError: gc.distribute.MultiWorkerMirroredStrategy: all_reduce failed: " in stderr
    named = "worker rank 1 of 2 is lost (no heartbeat for" if victim == 1 else "worker rank 0 of 2 (the store's host"
    assert named in stderr
    assert "restart all workers with the same command" in stderr


@numpy_env_only
@pytest.mark.parametrize("gradient", list(GRADIENT_SIZES))
def test_a_worker_that_does_not_come_makes_the_others_time_out_naming_it(tmp_path, gradient):
    pytest.importorskip("torch")
    script = write_script(tmp_path, "train.py", TRAINING_SCRIPT)
    port, timeout = free_port(), 3
    processes = [start([sys.executable, str(script), "1", "60", str(GRADIENT_SIZES[gradient])], tmp_path, f"w{r}",
                       torchrun_env(r, 2, port, GRADCORE_COLLECTIVE_TIMEOUT=timeout)) for r in range(2)]
    try:
        returncode = processes[0].wait(timeout=WORKER_DEADLINE_S)
    finally:
        kill_all(processes)
    stderr = output(tmp_path, "w0")[1]
    assert returncode != 0, stderr[-3000:]
    assert ("DeadlineExceededError: gc.distribute.MultiWorkerMirroredStrategy: all_reduce did not finish within "
            "the collective timeout of 3 s; worker rank(s) 1 of 2 had not started it") in stderr


@numpy_env_only
def test_under_launch_a_killed_worker_fails_the_launch_naming_its_rank(tmp_path):
    pytest.importorskip("torch")
    script = write_script(tmp_path, "train.py", TRAINING_SCRIPT)
    launcher = start(launch_command(2, script, "-1", "0", str(GRADIENT_SIZES["bucket"])), tmp_path, "launch",
                     worker_env())
    pids = []
    try:
        wait_for(lambda: len(started_steps(tmp_path, "launch", 1)) >= 3, WORKER_DEADLINE_S, "training")
        pids = {int(pid) for rank in (0, 1) for pid, _ in started_steps(tmp_path, "launch", rank)}
        os.kill(int(started_steps(tmp_path, "launch", 1)[0][0]), signal.SIGKILL)
        killed_at = time.monotonic()
        returncode = launcher.wait(timeout=60)
        elapsed = time.monotonic() - killed_at
    finally:
        kill_all([launcher])
        for pid in pids:  # torchrun's workers run in sessions of their own
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    stderr = output(tmp_path, "launch")[1]
    assert returncode != 0 and elapsed < COLLECTIVE_TIMEOUT_S, (returncode, elapsed)
    root_cause = stderr.split("Root Cause")[-1]
    assert re.search(r"rank\s*:\s*1 \(local_rank: 1\)", root_cause), stderr[-3000:]


# ---- the benchmark --------------------------------------------------------------------------


@numpy_env_only
def test_the_benchmark_runs_and_reports_every_size(tmp_path):
    pytest.importorskip("torch")
    done = subprocess.run([sys.executable, str(BENCHMARKS / "bench_distribute.py"), "--quick",
                           "--backends", BACKEND], check=False, capture_output=True, text=True, cwd=tmp_path,
                          env=worker_env(), timeout=WORKER_DEADLINE_S)
    assert done.returncode == 0, done.stderr[-3000:]
    all_reduce_table, scaling_table = done.stdout.split("\nscaling: ")
    rows = [line for line in all_reduce_table.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| all-reduce | torch.distributed ms |") and f"gradcore[{BACKEND}]" in rows[0]
    scaling = [[c.strip() for c in line.strip("|").split("|")] for line in scaling_table.splitlines()
               if line.startswith("| ")]
    assert [row[0] for row in scaling] == ["workers", "1", "2"], scaling_table
    assert all(float(cell) > 0 for row in scaling[1:] for cell in row), scaling_table
    sizes = [row.split("|")[1].strip() for row in rows[1:]]  # the separator row starts "|-"
    assert sizes[:3] == ["1 MB float32", "16 MB float32", "64 MB float32"], rows
    assert any("64 arrays" in size for size in sizes), rows
    for row in rows[1:]:  # two times, then "median ratio (ratio of fastest)", which one repeat makes equal
        times, ratio = [c.strip() for c in row.strip("|").split("|")][1:3], row.split("|")[-2]
        assert all(float(t) > 0 for t in times), row
        median, fastest = re.fullmatch(r" (\d+\.\d\d) \((\d+\.\d\d)\) ", ratio).groups()
        assert float(median) > 0 and median == fastest, row
