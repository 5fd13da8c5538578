"""gc.optimizers against torch.optim and optax where their update rules coincide with Keras 3's.

Keras 3 and the other libraries place epsilon differently and keep different momentum
buffers, so each comparison picks parameters under which the formulas are the same
function: epsilon 0 where one library adds it outside the square root and Keras inside
(or Keras' Adam "epsilon hat" on the uncorrected root), a constant learning rate where a
momentum buffer holds lr * g in Keras and g elsewhere, and learning rate, momentum, betas,
weight decay and initial accumulator exactly representable in float32 (Keras rounds them
through float32, the others do not). Each library is skipped cleanly when absent.
"""

import numpy as np
import pytest

import gradcore as gc

from .test_optim_trajectories import ATOL, problem, run

# ---- torch.optim ----------------------------------------------------------------------------------

TORCH_CASES = [
    ("SGD", {"learning_rate": 0.25, "weight_decay": 0.125},  # no momentum: L2 == decoupled decay
     "SGD", {"lr": 0.25, "weight_decay": 0.125}),
    ("SGD", {"learning_rate": 0.25, "momentum": 0.75}, "SGD", {"lr": 0.25, "momentum": 0.75}),
    ("SGD", {"learning_rate": 0.25, "momentum": 0.75, "nesterov": True},
     "SGD", {"lr": 0.25, "momentum": 0.75, "nesterov": True}),
    ("Adam", {"learning_rate": 0.125, "beta_1": 0.5, "beta_2": 0.75, "epsilon": 0.0},
     "Adam", {"lr": 0.125, "betas": (0.5, 0.75), "eps": 0.0}),
    ("Adam", {"learning_rate": 0.125, "beta_1": 0.5, "beta_2": 0.75, "epsilon": 0.0, "amsgrad": True},
     "Adam", {"lr": 0.125, "betas": (0.5, 0.75), "eps": 0.0, "amsgrad": True}),
    ("AdamW", {"learning_rate": 0.125, "weight_decay": 0.25, "beta_1": 0.5, "beta_2": 0.75, "epsilon": 0.0},
     "AdamW", {"lr": 0.125, "weight_decay": 0.25, "betas": (0.5, 0.75), "eps": 0.0}),
    ("AdamW", {"learning_rate": 0.125, "weight_decay": 0.25, "beta_1": 0.5, "beta_2": 0.75, "epsilon": 0.0, "amsgrad": True},
     "AdamW", {"lr": 0.125, "weight_decay": 0.25, "betas": (0.5, 0.75), "eps": 0.0, "amsgrad": True}),
    ("RMSprop", {"learning_rate": 0.125, "rho": 0.75, "epsilon": 0.0}, "RMSprop", {"lr": 0.125, "alpha": 0.75, "eps": 0.0}),
    ("RMSprop", {"learning_rate": 0.125, "rho": 0.75, "epsilon": 0.0, "centered": True, "momentum": 0.5},
     "RMSprop", {"lr": 0.125, "alpha": 0.75, "eps": 0.0, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"learning_rate": 0.25, "initial_accumulator_value": 0.5, "epsilon": 0.0},
     "Adagrad", {"lr": 0.25, "initial_accumulator_value": 0.5, "eps": 0.0}),
]


def torch_trajectory(name, options, w0s, grad_steps):
    torch = pytest.importorskip("torch")
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in w0s]
    optimizer = getattr(torch.optim, name)(params, foreach=False, **options)
    for grads in grad_steps:
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
    return [p.detach().numpy() for p in params]


def case_id(case):
    name, options = case[:2]
    return "-".join([name, *(k for k in options if k != "learning_rate")])


@pytest.mark.parametrize("case", TORCH_CASES, ids=case_id)
def test_matches_torch_optim(case):
    name, options, torch_name, torch_options = case
    w0s, grad_steps = problem(4)
    expected = torch_trajectory(torch_name, torch_options, w0s, grad_steps)
    actual = run(getattr(gc.optimizers, name)(**options), w0s, grad_steps)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=0, atol=ATOL)


# ---- optax ------------------------------------------------------------------------------------------

OPTAX_CASES = [
    ("SGD", {"learning_rate": 0.25, "momentum": 0.75}, "sgd", {"learning_rate": 0.25, "momentum": 0.75}),
    ("SGD", {"learning_rate": 0.25, "momentum": 0.75, "nesterov": True},
     "sgd", {"learning_rate": 0.25, "momentum": 0.75, "nesterov": True}),
    # optax's eps_in_sqrt (its default) is Keras' placement, so Keras' default epsilon is fine here.
    ("RMSprop", {"learning_rate": 0.125}, "rmsprop", {"learning_rate": 0.125, "decay": 0.9, "eps": 1e-7}),
    ("RMSprop", {"learning_rate": 0.125, "rho": 0.8, "centered": True, "momentum": 0.5},
     "rmsprop", {"learning_rate": 0.125, "decay": 0.8, "eps": 1e-7, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"learning_rate": 0.25, "initial_accumulator_value": 0.5},
     "adagrad", {"learning_rate": 0.25, "initial_accumulator_value": 0.5, "eps": 1e-7}),
    ("AdamW", {"learning_rate": 0.125, "weight_decay": 0.25, "beta_1": 0.5, "beta_2": 0.75, "epsilon": 0.0},
     "adamw", {"learning_rate": 0.125, "weight_decay": 0.25, "b1": 0.5, "b2": 0.75, "eps": 0.0}),
]


def optax_trajectory(name, options, w0s, grad_steps):
    optax = pytest.importorskip("optax")
    import jax

    with jax.enable_x64(True):  # float64 for this block only, whatever backend the suite runs on
        transform = getattr(optax, name)(**options)
        params = [jax.numpy.asarray(w) for w in w0s]
        state = transform.init(params)

        @jax.jit
        def step(grads, state, params):
            updates, state = transform.update(grads, state, params)
            return optax.apply_updates(params, updates), state

        for grads in grad_steps:
            params, state = step([jax.numpy.asarray(g) for g in grads], state, params)
        return [np.asarray(p) for p in params]


@pytest.mark.parametrize("case", OPTAX_CASES, ids=case_id)
def test_matches_optax(case):
    name, options, optax_name, optax_options = case
    w0s, grad_steps = problem(5)
    expected = optax_trajectory(optax_name, optax_options, w0s, grad_steps)
    assert expected[0].dtype == np.float64
    actual = run(getattr(gc.optimizers, name)(**options), w0s, grad_steps)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=0, atol=ATOL)
