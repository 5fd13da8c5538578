"""gradcore's gradients against the framework's own autodiff, on the same composite functions.

When the suite runs on the torch backend, torch.autograd.grad is the oracle; on jax,
jax.grad; on a third-party backend, whichever of the two is installed. The composite is the same Python body (composites.py) run on each
framework's own functions, so the oracle shares no code with gradcore's rules.
"""

import importlib.util

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

from .composites import COMPOSITES
from .native_namespaces import gradcore_namespace, jax_namespace, torch_namespace

PARAMS = [pytest.param(c, id=c.name) for c in COMPOSITES]


def gradcore_value_and_grads(composite, floats, constants):
    ns = gradcore_namespace()
    inputs = [gc.constant(a) for a in floats]
    with gc.GradientTape() as tape:
        tape.watch(inputs)
        value = composite.fn(ns, *inputs, *[gc.constant(c) for c in constants])
    grads = tape.gradient(value, inputs, unconnected_gradients="zero")
    return float(value), [g.numpy() for g in grads]


def torch_value_and_grads(composite, floats, constants):
    import torch

    inputs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in floats]
    value = composite.fn(torch_namespace(), *inputs, *[torch.as_tensor(c) for c in constants])
    grads = torch.autograd.grad(value, inputs, allow_unused=True)
    return float(value.detach()), [np.zeros_like(a) if g is None else g.numpy() for a, g in zip(floats, grads)]


def jax_value_and_grads(composite, floats, constants):
    import jax
    import jax.numpy as jnp

    ns = jax_namespace()
    jax_constants = [jnp.asarray(c) for c in constants]

    def f(*xs):
        return composite.fn(ns, *xs, *jax_constants)

    xs = [jnp.asarray(a, dtype=jnp.float64) for a in floats]
    value, grads = jax.value_and_grad(f, argnums=tuple(range(len(xs))))(*xs)
    return float(value), [np.asarray(g) for g in grads]


ORACLES = {"torch": torch_value_and_grads, "jax": jax_value_and_grads}


def native_oracle():
    """The backend's own framework's autodiff, else any installed one's."""
    name = gc.get_backend().name
    if name in ORACLES:
        return ORACLES[name]
    installed = [n for n in ORACLES if importlib.util.find_spec(n) is not None]
    if not installed:
        pytest.skip("no native autodiff to compare with: install torch or jax next to this backend")
    return ORACLES[installed[0]]


@pytest.mark.parametrize("composite", PARAMS)
def test_gradient_matches_native_autodiff(composite):
    oracle = native_oracle()
    rng = np.random.default_rng(0)
    floats, constants = composite.make_inputs(rng), composite.constants(rng)
    value, grads = gradcore_value_and_grads(composite, floats, constants)
    expected_value, expected_grads = oracle(composite, floats, constants)
    reproduce = f"reproduce with: gradcore conformance --backend {gc.get_backend().name} -k 'native and {composite.name}'"
    assert_allclose(value, expected_value, dtype=gc.float64, err_msg=f"value; {reproduce}")
    for i, (g, e) in enumerate(zip(grads, expected_grads)):
        assert_allclose(g, e, dtype=gc.float64, err_msg=f"gradient of input {i}; {reproduce}")


def test_at_least_thirty_composites():
    assert len({c.name for c in COMPOSITES}) >= 30
