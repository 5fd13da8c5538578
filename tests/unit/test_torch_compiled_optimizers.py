"""A training step under gc.function(jit_compile=True) on torch compiles into one graph.

jit_compile=True on torch hands the recorded step to torch.compile. A kernel that reads a
tensor's value on the host (``.item()``) breaks that graph, and Adam's bias-corrected step size,
computed in the step, then recompiles at every step until torch.compile gives up: the compiled
Adam step once ran hundreds of times slower than the uncompiled one that way
(backends/torch_backend/optimizers.py, ``_step_down``).
"""

import os

import numpy as np
import pytest

import gradcore as gc

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.skipif(os.environ.get("GRADCORE_BACKEND", "numpy") != "torch",
                                reason="a torch-backend claim: the torch env runs it")

OPTIMIZERS = {"SGD": lambda: gc.optimizers.SGD(0.1, momentum=0.9), "Adam": lambda: gc.optimizers.Adam(0.01),
              "RMSprop": lambda: gc.optimizers.RMSprop(0.01), "Adagrad": lambda: gc.optimizers.Adagrad(0.1)}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_compiled_training_step_is_one_graph_compiled_once(name):
    from torch._dynamo.utils import counters

    rng = np.random.default_rng(0)
    model = gc.Sequential([gc.layers.Dense(8, activation="relu"), gc.layers.Dense(3)])
    optimizer = OPTIMIZERS[name]()
    loss_fn = gc.losses.SparseCategoricalCrossentropy(from_logits=True)
    x = gc.constant(rng.normal(size=(4, 5)).astype(np.float32))
    y = gc.constant(rng.integers(0, 3, size=4))

    @gc.function(jit_compile=True)
    def step(x, y):
        with gc.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    torch._dynamo.reset()
    counters.clear()
    losses = [float(step(x, y)) for _ in range(4)]  # the step size changes at every step
    assert dict(counters["graph_break"]) == {}
    assert counters["stats"]["unique_graphs"] == 1
    assert losses[-1] < losses[0]
