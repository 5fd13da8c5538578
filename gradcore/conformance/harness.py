"""Helpers shared by the op-case tests: building inputs, scalarizing outputs, differentiating."""

import numpy as np

import gradcore as gc
from gradcore.testing import FD_STEP

from .cases import inputs_for


def to_gradcore(case, arrays, dtype):
    """Inputs as gradcore values: float arrays cast to ``dtype``, others kept; some as Variables."""
    values = []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        t = gc.constant(a.astype(gc.as_dtype(dtype).as_numpy_dtype)) if a.dtype.kind == "f" else gc.constant(a)
        values.append(gc.Variable(t) if i in case.variables else t)
    return values


def rounded(arrays, dtype):
    """The float64 values the op really sees after casting to ``dtype``."""
    np_dtype = gc.as_dtype(dtype).as_numpy_dtype
    return [np.asarray(a).astype(np_dtype).astype(np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a)
            for a in arrays]


def reproduction(case, dtype):
    return f"case {case.name!r} ({dtype}) on backend {gc.get_backend().name}; inputs: inputs_for(case, seed=0)"


def scalarized(case, values, weights):
    """sum(weights * fn(values)): a scalar whose gradient is the VJP with ``weights``."""
    out = case.fn(*values)
    return gc.reduce_sum(out * gc.constant(weights.astype(out.dtype.as_numpy_dtype)))


def first_gradients(case, values, weights):
    with gc.GradientTape() as tape:
        tape.watch([values[i] for i in case.grad])
        scalar = scalarized(case, values, weights)
    return tape.gradient(scalar, [values[i] for i in case.grad], unconnected_gradients="zero")


def directional_derivative(fn, arrays, case, directions):
    """(fn(x + h v) - fn(x - h v)) / 2h for the inputs in ``case.grad``."""
    def shifted(sign):
        moved = list(arrays)
        for i, v in zip(case.grad, directions):
            moved[i] = arrays[i] + sign * FD_STEP * v
        return fn(moved)

    return (shifted(+1) - shifted(-1)) / (2 * FD_STEP)


def setup(case, seed=1):
    rng = np.random.default_rng(seed)
    arrays = inputs_for(case)
    out_shape = case.fn(*to_gradcore(case, arrays, "float64")).shape
    weights = rng.normal(size=out_shape)
    directions = [rng.normal(size=np.shape(arrays[i])) for i in case.grad]
    return arrays, weights, directions, rng


def inner(grads, directions):
    return sum(float(np.sum(g.numpy() * v)) for g, v in zip(grads, directions))
