"""Every op case, the same four ways.

1. forward in each dtype against a float64 NumPy reference on the same (rounded) inputs, with
   the table's rtol alone (no absolute floor) for cases marked ``relative`` (cases/tiny_cases.py:
   outputs far below 1, where the floor would accept a result with no correct digit);
2. the gradient against central finite differences in float64 (random directions,
   as JAX's check_grads);
3. the second derivative the same way, through nested tapes;
4. the float32 gradient against the float64 one.
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose, assert_fd_close

from .cases import all_cases, inputs_for
from .harness import (
    directional_derivative,
    first_gradients,
    inner,
    reproduction,
    rounded,
    scalarized,
    setup,
    to_gradcore,
)

CASES = all_cases()
FORWARD = [pytest.param(c, d, id=f"{c.name}-{d}") for c in CASES for d in c.dtypes]
DIFFERENTIABLE = [pytest.param(c, id=c.name) for c in CASES if c.grad]
SECOND_ORDER = [pytest.param(c, id=c.name) for c in CASES if c.grad and c.second_order]
FLOAT32_GRADS = [pytest.param(c, id=c.name) for c in CASES if c.grad and "float32" in c.dtypes]


def test_there_are_relative_cases():
    relative = [(c.name, d) for c in CASES if c.relative for d in c.dtypes]
    assert len(relative) >= 8  # log1p, expm1, sin and tanh, tiny and float16-small


@pytest.mark.parametrize("case, dtype", FORWARD)
def test_forward_matches_reference(case, dtype):
    arrays = inputs_for(case)
    out = case.fn(*to_gradcore(case, arrays, dtype))
    expected = np.asarray(case.reference(*rounded(arrays, dtype)))
    assert out.shape == expected.shape, reproduction(case, dtype)
    assert gc.get_backend().dtype_of(out._value) is out.dtype, "backend array dtype disagrees with the Tensor's"
    if expected.dtype.kind == "f":
        assert out.dtype.is_floating, reproduction(case, dtype)
        if case.relative:
            assert np.all(expected != 0), "a relative case needs non-zero reference values"
            assert out.dtype is gc.as_dtype(dtype), reproduction(case, dtype)
        assert_allclose(out, expected, dtype=out.dtype, err_msg=reproduction(case, dtype), relative=case.relative)
    else:
        assert out.dtype.kind == {"b": "bool", "u": "uint"}.get(expected.dtype.kind, "int") or (
            out.dtype.is_integer and expected.dtype.kind in "iu"
        ), reproduction(case, dtype)
        np.testing.assert_array_equal(out.numpy(), expected, err_msg=reproduction(case, dtype))


@pytest.mark.gradcore_dtype("float64")
@pytest.mark.parametrize("case", DIFFERENTIABLE)
def test_gradient_matches_finite_differences(case):
    arrays, weights, directions, _ = setup(case)
    values = to_gradcore(case, arrays, "float64")
    grads = first_gradients(case, values, weights)
    for i, g in zip(case.grad, grads):
        assert g.shape == values[i].shape and g.dtype is values[i].dtype, reproduction(case, "float64")
    numeric = directional_derivative(
        lambda arrs: float(scalarized(case, to_gradcore(case, arrs, "float64"), weights)), arrays, case, directions
    )
    assert_fd_close(inner(grads, directions), numeric, err_msg=reproduction(case, "float64"))


@pytest.mark.gradcore_dtype("float64")
@pytest.mark.parametrize("case", SECOND_ORDER)
def test_second_order_matches_finite_differences(case):
    arrays, weights, directions, rng = setup(case)
    probes = [rng.normal(size=np.shape(arrays[i])) for i in case.grad]

    def grad_dot_probe(values):
        grads = first_gradients(case, values, weights)
        return gc.add_n([gc.reduce_sum(g * gc.constant(p)) for g, p in zip(grads, probes)])

    values = to_gradcore(case, arrays, "float64")
    with gc.GradientTape() as outer:
        outer.watch([values[i] for i in case.grad])
        h = grad_dot_probe(values)
    second = outer.gradient(h, [values[i] for i in case.grad], unconnected_gradients="zero")
    numeric = directional_derivative(
        lambda arrs: float(grad_dot_probe(to_gradcore(case, arrs, "float64"))), arrays, case, directions
    )
    assert_fd_close(inner(second, directions), numeric, err_msg=reproduction(case, "float64 second order"))


@pytest.mark.gradcore_dtype("float32")
@pytest.mark.parametrize("case", FLOAT32_GRADS)
def test_float32_gradient_agrees_with_float64(case):
    arrays, weights, _, _ = setup(case)
    arrays = rounded(arrays, "float32")
    g32 = first_gradients(case, to_gradcore(case, arrays, "float32"), weights)
    g64 = first_gradients(case, to_gradcore(case, arrays, "float64"), weights)
    for a, b in zip(g32, g64):
        assert a.dtype is gc.float32
        assert_allclose(a, b.numpy(), dtype=gc.float32, err_msg=reproduction(case, "float32 gradient"))
