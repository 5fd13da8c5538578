"""The backend under test gives the NumPy backend's values and gradients.

Collected only when the suite runs on a backend other than numpy (see conftest.py).
Inputs are random: hypothesis draws the seed of every case's input generator, and
draws broadcasting shape pairs for the binary elementwise ops, within a bounded
example budget. A failure message is a command that reproduces it.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradcore as gc
from gradcore.testing import assert_allclose

from .cases import all_cases
from .harness import first_gradients, to_gradcore

CASES = [pytest.param(c, id=c.name) for c in all_cases()]
BUDGET = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def evaluate(case, arrays, dtype, weights):
    """(value, gradients) of ``case`` on the current backend, as NumPy arrays."""
    values = to_gradcore(case, arrays, dtype)
    out = case.fn(*values)
    grads = first_gradients(case, values, weights) if case.grad else []
    return out.numpy(), [g.numpy() for g in grads]


def compare_with_numpy(case, arrays, dtype, weights, reproduce):
    here = evaluate(case, arrays, dtype, weights)
    with gc.backend_scope("numpy"):
        reference = evaluate(case, arrays, dtype, weights)
    tolerance_dtype = dtype if np.asarray(reference[0]).dtype.kind in "fV" else reference[0].dtype
    assert_allclose(here[0], reference[0], dtype=tolerance_dtype, err_msg=f"value differs; {reproduce}")
    for i, (a, b) in zip(case.grad, zip(here[1], reference[1])):
        assert_allclose(a, b, dtype=dtype, err_msg=f"gradient of input {i} differs; {reproduce}")


def reproduce_command(case_name, seed, dtype):
    backend = gc.get_backend().name
    return (
        f"reproduce with: gradcore conformance --backend {backend} -k 'cross_backend and {case_name}' "
        f"--hypothesis-seed=0  (case {case_name!r}, input seed {seed}, {dtype})"
    )


@pytest.mark.parametrize("case", CASES)
@BUDGET
@given(seed=st.integers(0, 2**32 - 1))
def test_case_matches_numpy_backend(case, seed):
    rng = np.random.default_rng(seed)
    arrays = case.inputs(rng)
    weights_shape = case.fn(*to_gradcore(case, arrays, "float64")).shape
    weights = rng.normal(size=weights_shape)
    for dtype in ("float32", "float64"):
        if dtype in case.dtypes:
            compare_with_numpy(case, arrays, dtype, weights, reproduce_command(case.name, seed, dtype))


BINARY = {
    "add": gc.add,
    "subtract": gc.subtract,
    "multiply": gc.multiply,
    "divide": gc.divide,
    "maximum": gc.maximum,
    "minimum": gc.minimum,
    "pow": gc.pow,
    "squared_difference": gc.math.squared_difference,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@BUDGET
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4), seed=st.integers(0, 2**32 - 1))
def test_binary_broadcasting_matches_numpy_backend(name, shapes, seed):
    from .cases import OpCase

    rng = np.random.default_rng(seed)
    # Positive inputs keep pow and divide differentiable; ties in max/min have probability 0.
    arrays = [rng.uniform(0.5, 2.0, size=s) for s in shapes.input_shapes]
    case = OpCase(f"broadcast-{name}", (), BINARY[name], None, None, grad=(0, 1))
    weights = rng.normal(size=shapes.result_shape)
    for dtype in ("float32", "float64"):
        reproduce = reproduce_command(f"{name}", seed, dtype) + f" shapes {shapes.input_shapes}"
        compare_with_numpy(case, arrays, dtype, weights, reproduce)
