"""The benchmark compares like with like: each gradcore column computes what its native peer computes.

Every system's steps return what they computed (benchmarks/bench_systems.py);
here each gradcore column and its peer run the same workloads, at small sizes,
and must agree within gradcore's float32 tolerance, in float32. A peer whose
library is missing from this environment is skipped, so each tox env checks
the pairs it can: numpy with autograd, torch with torch, jax with jax.
"""

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SMALL_MLP = {"sizes": (32, 16, 16, 4), "batch": 8}
SMALL_MATMUL = 64


def benchmark_module(name):
    """A module from benchmarks/, imported as the benchmark script imports its sibling."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCHMARKS))
        return importlib.import_module(name)


@pytest.fixture(scope="module")
def systems():
    return benchmark_module("bench_systems")


def as_float32_numpy(value):
    array = np.asarray(value.detach() if hasattr(value, "detach") else value)  # torch: leave the graph
    assert array.dtype == np.float32, f"the benchmark's math is float32, got {array.dtype}"
    return array


def assert_same(ours, theirs, scale=1.0):
    """Within the float32 table's tolerance, after dividing both by ``scale``."""
    assert_allclose(as_float32_numpy(ours) / scale, as_float32_numpy(theirs) / scale, dtype=gc.float32)


# (gradcore backend, peer class in bench_systems, library the peer needs): each eagerly and under gc.function
PAIRS = [("numpy", "Autograd", "autograd"), ("torch", "Torch", "torch"),
         ("jax", "Jax", "jax"), ("jax", "JaxJit", "jax")]
SYSTEM_PAIRS = [(backend, peer, library, kind) for backend, peer, library in PAIRS
                for kind in ("Gradcore", "GradcoreFunction")]


@pytest.fixture(params=SYSTEM_PAIRS,
                ids=[f"{kind}[{b}]-{peer}" for b, peer, _, kind in SYSTEM_PAIRS])
def pair(request, systems):
    backend, peer, library, kind = request.param
    pytest.importorskip(library)
    ours = getattr(systems, kind)(backend)
    reason = ours.available()
    if reason:
        pytest.skip(reason)
    return ours, getattr(systems, peer)()


def test_chain_gradients_agree(pair):
    ours, theirs = pair
    our_grad, their_grad = ours.chain_step()(), theirs.chain_step()()
    # The chain's gradient is tiny (~1e-10): scaled to order one, the tolerance means something.
    scale = float(np.abs(as_float32_numpy(their_grad)).max())
    assert scale > 0
    assert_same(our_grad, their_grad, scale)


def test_mlp_steps_agree_step_for_step(pair):
    """Three steps: the second and third losses agree only if the SGD updates did too."""
    steps = [system.mlp_step(**SMALL_MLP) for system in pair]
    our_losses, their_losses = ([step() for _ in range(3)] for step in steps)
    for ours, theirs in zip(our_losses, their_losses):
        assert_same(ours, theirs)
    assert float(our_losses[2]) < float(our_losses[0]), "SGD should lower the loss"


def test_mlp_adam_steps_agree_step_for_step(pair):
    """Three Adam steps; each system's own Adam where it has one (gradcore's adds epsilon as Keras does)."""
    steps = [system.mlp_adam_step(**SMALL_MLP) for system in pair]
    our_losses, their_losses = ([step() for _ in range(3)] for step in steps)
    for ours, theirs in zip(our_losses, their_losses):
        assert_same(ours, theirs)
    assert float(our_losses[2]) < float(our_losses[0]), "Adam should lower the loss"


def test_matmul_loss_and_gradients_agree(pair):
    ours, theirs = (system.matmul_step(SMALL_MATMUL)() for system in pair)
    assert len(ours) == len(theirs) == 3  # loss, d/da, d/db
    for our_value, their_value in zip(ours, theirs):
        assert_same(our_value, their_value)


def test_benchmark_prints_every_system_ratios_and_targets():
    """The script as a user runs it, one quick repeat: the table, its ratios, the target verdicts."""
    pytest.importorskip("threadpoolctl")  # the bench extra's, for the default one-thread pinning
    done = subprocess.run([sys.executable, str(BENCHMARKS / "bench_autodiff.py"), "--quick"], check=False,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    bench = benchmark_module("bench_autodiff")
    lines = done.stdout.splitlines()
    header = [c.strip() for c in next(line for line in lines if line.startswith("| workload")).strip("|").split("|")]
    ran = [s.name for s in bench.SYSTEMS if s.available() is None]
    ratios = bench.present_ratios(ran)
    assert header[2:] == ran + [f"{a}/{b}" for a, b in ratios]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines
            if line.startswith(("| chain", "| MLP", "| matmul"))]
    assert len(rows) == len(bench.WORKLOADS)
    for row in rows:
        values = dict(zip(header[2:], map(float, row[2:])))
        assert all(values[name] > 0 for name in ran)
        for a, b in ratios:
            assert values[f"{a}/{b}"] == pytest.approx(values[a] / values[b], abs=0.01)
    verdicts = [line for line in lines if line.startswith("target ")]
    expected = [key for key in bench.TARGETS if (key[0], key[1]) in ratios]
    assert len(verdicts) == len(expected)
    assert all(line.endswith((" met", " MISSED")) for line in verdicts)
