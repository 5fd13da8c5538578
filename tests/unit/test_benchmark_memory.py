"""A non-persistent tape frees what it saved once gradient() returns, so training loops stay flat.

A non-persistent tape drops its nodes, and so the arrays they saved, when
gradient() returns. Checked directly with weak references, and
over many steps of the benchmark's own workloads with tracemalloc.
"""

import weakref

import numpy as np
import pytest

import gradcore as gc

from .test_benchmark_agreement import benchmark_module


@pytest.fixture(scope="module")
def bench():
    return benchmark_module("bench_autodiff")


@pytest.fixture(scope="module")
def systems():
    return benchmark_module("bench_systems")


def _tape_with_saved_intermediate(persistent):
    x = gc.constant(np.linspace(-1.0, 1.0, 16, dtype=np.float32))
    with gc.GradientTape(persistent=persistent) as tape:
        tape.watch(x)
        hidden = gc.tanh(x)  # saved by the tape: Tanh's rule needs its output, Mul its inputs
        loss = gc.reduce_sum(hidden * hidden)
    return tape, x, loss, weakref.ref(hidden)


def test_non_persistent_tape_frees_saved_intermediates_when_gradient_returns():
    tape, x, loss, hidden = _tape_with_saved_intermediate(persistent=False)
    assert hidden() is not None, "the tape should hold the intermediate until gradient()"
    grad = tape.gradient(loss, x)
    assert hidden() is None, "gradient() returned but the tape still holds a saved tensor"
    x_np = np.linspace(-1.0, 1.0, 16, dtype=np.float32)
    t = np.tanh(x_np)
    np.testing.assert_allclose(grad.numpy(), 2 * t * (1 - t * t), rtol=1e-5)


def test_persistent_tape_keeps_saved_intermediates_until_it_is_dropped():
    tape, x, loss, hidden = _tape_with_saved_intermediate(persistent=True)
    tape.gradient(loss, x)
    assert hidden() is not None, "a persistent tape must keep what a second gradient() needs"
    del tape
    assert hidden() is None


def test_chain_steps_do_not_grow_memory(bench, systems):
    traced_kib, _ = bench.memory_growth(systems.Gradcore("numpy").chain_step(), steps=200)
    assert traced_kib < bench.MEMORY_BOUND_KIB


def test_mlp_train_steps_do_not_grow_memory(bench, systems):
    step = systems.Gradcore("numpy").mlp_step(sizes=(32, 16, 16, 4), batch=8)
    first_loss = float(step().numpy())
    traced_kib, _ = bench.memory_growth(step, steps=200)
    assert traced_kib < bench.MEMORY_BOUND_KIB
    assert float(step().numpy()) < first_loss, "the SGD steps should lower the loss"
