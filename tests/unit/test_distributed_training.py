"""One seeded training program, three scales: the same parameters (issue: distribution strategies).

examples/distributed_training.py runs on one device with the global batch, as two replicas of
MirroredStrategy on this CPU, and as two workers of MultiWorkerMirroredStrategy started by
``gradcore launch -n 2`` on 127.0.0.1, on the backend GRADCORE_BACKEND names. Every run is a
subprocess with a time bound, as a user would start it.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose
from tests.unit.envs import numpy_env_only

pytest.importorskip("torch")  # MultiWorkerMirroredStrategy runs on torch.distributed

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "distributed_training.py"
BOUND_S = 240


CUDA = [d for d in gc.get_backend().devices() if d.startswith("cuda")]


def run(tmp_path, strategy, *args, name=None, workers=2):
    """The parameters the example saved, as a list of arrays."""
    saved = tmp_path / f"{name or strategy}.npz"
    command = [sys.executable, str(EXAMPLE), "--strategy", strategy, "--save", str(saved), *args]
    if strategy == "multi-worker":
        command = [sys.executable, "-m", "gradcore.cli.main", "launch", "-n", str(workers), "--timeout", "60",
                   *command[1:]]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=BOUND_S, cwd=tmp_path)
    assert done.returncode == 0, f"{strategy} failed:\n{done.stdout}\n{done.stderr}"
    with np.load(saved) as arrays:
        return [arrays[f"arr_{i}"] for i in range(len(arrays.files))]


def test_one_device_two_replicas_and_two_workers_end_with_the_same_parameters(tmp_path):
    one = run(tmp_path, "one-device", "--epochs", "2")
    for scaled in (run(tmp_path, "mirrored", "--epochs", "2"), run(tmp_path, "multi-worker", "--epochs", "2")):
        assert len(scaled) == len(one) == 4
        for got, want in zip(scaled, one):
            assert_allclose(got, want, gc.float32)
    assert not np.allclose(one[0], run(tmp_path, "one-device", "--epochs", "1", name="short")[0])  # it trains


@pytest.mark.skipif(not CUDA, reason="the backend lists no CUDA device here (CI has no GPU)")
def test_workers_on_cuda_devices_train_as_the_cpu_does(tmp_path):
    """One worker per GPU (two at most), collectives on NCCL: the CPU's parameters."""
    cpu = run(tmp_path, "one-device", "--epochs", "2")
    gpus = run(tmp_path, "multi-worker", "--epochs", "2", name="cuda", workers=min(2, len(CUDA)))
    for got, want in zip(gpus, cpu):
        assert_allclose(got, want, gc.float32)


@numpy_env_only  # the same code on every backend; test_resume.py resumes each backend
def test_workers_restarted_with_the_same_command_resume_from_the_last_checkpoint(tmp_path):
    whole = run(tmp_path, "multi-worker", "--epochs", "3", name="whole")
    checkpoints = str(tmp_path / "checkpoints")
    run(tmp_path, "multi-worker", "--epochs", "2", "--checkpoint-dir", checkpoints, name="first")
    resumed = run(tmp_path, "multi-worker", "--epochs", "3", "--checkpoint-dir", checkpoints, name="resumed")
    for got, want in zip(resumed, whole):
        np.testing.assert_array_equal(got, want)  # the same steps on the same values: the same bits


@numpy_env_only
def test_a_killed_worker_makes_the_other_fail_naming_it(tmp_path):
    """SIGKILL one of two workers mid-training: the other exits non-zero within the collective timeout,
    naming the lost rank; nothing hangs."""
    timeout_s = 20
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()), "WORLD_SIZE": "2",
           "GRADCORE_COLLECTIVE_TIMEOUT": str(timeout_s), "PYTHONUNBUFFERED": "1"}
    workers = [subprocess.Popen([sys.executable, str(EXAMPLE), "--strategy", "multi-worker", "--epochs", "1000"],
                                env={**env, "RANK": str(rank), "LOCAL_RANK": str(rank)}, cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for rank in (0, 1)]
    try:
        _wait_for_line(workers[0], "epoch 2:", BOUND_S)
        workers[1].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        _, stderr = workers[0].communicate(timeout=timeout_s + 30)
        took = time.monotonic() - killed_at
        assert workers[0].returncode != 0
        assert took <= timeout_s + 10, f"the survivor took {took:.0f} s to fail"
        assert "rank 1" in stderr, stderr[-2000:]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.communicate()


def _wait_for_line(process, text, bound_s):
    deadline = time.monotonic() + bound_s
    for line in process.stdout:
        if text in line:
            return
        assert time.monotonic() < deadline, f"no {text!r} within {bound_s} s"
    raise AssertionError(f"the worker exited before printing {text!r}: {process.stderr.read()[-2000:]}")


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
