"""``gc.autodiff.ForwardAccumulator``: TensorFlow's forward mode (docs/forward_mode.md).

Rows cited are TF_SEMANTICS.md section 1.9. The last test checks the transposed-VJP
construction on every op case: jvp against a directional finite difference.
"""

import logging
import threading
import weakref

import numpy as np
import pytest

import gradcore as gc
from gradcore.engine import recording
from gradcore.testing import assert_allclose, assert_fd_close

from .cases import all_cases
from .harness import directional_derivative, reproduction, scalarized, setup, to_gradcore

ForwardAccumulator = gc.autodiff.ForwardAccumulator


# ---- TensorFlow's documented behaviour ------------------------------------------------------------


def test_nested_accumulators_see_the_inner_tangent_computation():
    """Row 117: the outer accumulator differentiates the inner one's jvp: 4.4417057, then 10.094786."""
    primal = gc.constant(1.1)
    with ForwardAccumulator(primal, gc.constant(1.0)) as outer:
        with ForwardAccumulator(primal, gc.constant(1.0)) as inner:
            primal_out = primal ** 3.5
    inner_jvp = inner.jvp(primal_out)
    assert_allclose(inner_jvp, 4.4417057)
    assert_allclose(outer.jvp(inner_jvp), 10.094786)
    assert outer.jvp(primal_out) is not None


def test_forward_over_backward_hessian_vector_product_of_the_docs():
    """Row 118: a tape inside the accumulator; the jvp of its gradient is H v: [3, 12] then [6, 0]."""
    v = gc.Variable([1.0, 2.0])
    with ForwardAccumulator(v, gc.constant([1.0, 0.0])) as acc:
        with gc.GradientTape() as tape:
            y = gc.reduce_sum(v ** 3.0)
        backward = tape.gradient(y, v)
    assert_allclose(backward, [3.0, 12.0])
    assert_allclose(acc.jvp(backward), [6.0, 0.0])


def test_jvp_is_a_lookup_of_what_was_computed_while_active():
    """Row 119: the primal's jvp is its tangent; an op inside gets one, an op after exit None; re-entry works."""
    x = gc.constant(0.5)
    acc = ForwardAccumulator(x, gc.constant(1.5))
    with acc:
        y = 4.0 * x
    z = 4.0 * x
    assert_allclose(acc.jvp(x), 1.5)
    assert_allclose(acc.jvp(y), 6.0)
    assert acc.jvp(z) is None
    with acc:
        w = 2.0 * x
    assert_allclose(acc.jvp(w), 3.0)
    assert recording.forward_pass is None  # no accumulator active: record() pays one global read


def test_unconnected_jvp_is_none_or_zeros():
    """Row 120: a tensor that does not depend on a primal has jvp None, or zeros of its shape and dtype."""
    x = gc.constant([1.0, 2.0])
    unrelated = gc.constant([[3, 4, 5]])
    with ForwardAccumulator(x, gc.constant([1.0, 1.0])) as acc:
        also_unrelated = unrelated * 2
    assert acc.jvp(unrelated) is None
    assert acc.jvp(also_unrelated) is None
    zeros = acc.jvp(also_unrelated, unconnected_gradients=gc.UnconnectedGradients.ZERO)
    assert zeros.shape == (1, 3) and zeros.dtype is gc.int32
    np.testing.assert_array_equal(zeros.numpy(), 0)
    with pytest.raises(ValueError, match="unconnected_gradients"):
        acc.jvp(x, unconnected_gradients="sometimes")


def test_a_primal_given_twice_is_refused():
    """Row 121: TensorFlow's ValueError, its "{}" left unformatted."""
    x = gc.constant(1.0)
    with pytest.raises(ValueError, match=r"Tensor \{\} was specified as a primal multiple times"):
        ForwardAccumulator([x, x], [1.0, 2.0])


def test_entering_an_active_accumulator_is_refused():
    """Row 122: ``with acc: with acc:`` is a ValueError."""
    acc = ForwardAccumulator(gc.constant(1.0), 1.0)
    with acc:
        with pytest.raises(ValueError, match="Accumulator is already recording."):
            acc.__enter__()
    assert acc not in recording.state.recording


def test_a_variable_primal_gives_tangents_to_its_reads():
    """Row 123: jvp(v) is its tangent, and x = v * 2 gets twice it."""
    v = gc.Variable([1.0, 2.0, 3.0])
    with ForwardAccumulator(v, gc.constant([0.1, -0.2, 0.3])) as acc:
        x = v * 2.0
    assert_allclose(acc.jvp(v), [0.1, -0.2, 0.3])
    assert_allclose(acc.jvp(x), [0.2, -0.4, 0.6])


def test_a_tangent_of_the_wrong_shape_fails_at_the_first_op():
    """Row 124: not validated in __init__; the first op that reads the primal raises (a ValueError)."""
    x = gc.constant([1.0, 2.0])
    acc = ForwardAccumulator(x, gc.constant([1.0, 2.0, 3.0]))
    with pytest.raises(gc.ShapeError, match=r"shape \(2,\).*shape \(3,\)") as caught:
        with acc:
            gc.sin(x)
    assert isinstance(caught.value, ValueError)
    assert acc not in recording.state.recording


def test_an_integer_primal_gets_no_tangent_and_a_warning(caplog):
    """Row 125: jvp of anything computed from an integer primal is None, and a warning is logged."""
    x = gc.constant(3)
    with caplog.at_level(logging.WARNING, logger="gradcore"):
        acc = ForwardAccumulator(x, 1)
    assert "must be floating" in caplog.text and "int32" in caplog.text
    with acc:
        y = x * 2
    assert acc.jvp(x) is None and acc.jvp(y) is None


def test_nested_structures_of_primals_tangents_and_jvps():
    """Section 2.1's signature: primals and tangents nested alike; jvp keeps its argument's structure."""
    a, b = gc.constant([1.0, 2.0]), gc.constant(3.0)
    with ForwardAccumulator({"a": a, "b": [b]}, {"a": [1.0, 0.5], "b": [2.0]}) as acc:
        out = {"sum": gc.reduce_sum(a) * b, "sq": (b * b,)}
    jvps = acc.jvp(out)
    assert_allclose(jvps["sum"], 1.5 * 3.0 + 3.0 * 2.0)
    assert_allclose(jvps["sq"][0], 12.0)
    with pytest.raises(ValueError, match="structure"):
        ForwardAccumulator([a, b], [1.0])
    with pytest.raises(TypeError, match="gc.Tensor or gc.Variable"):
        ForwardAccumulator(1.0, 1.0)


def test_the_accumulator_does_not_record_its_own_tangents():
    """The tangent computation is not a primal op of the accumulator that runs it (TF's ordering)."""
    x = gc.constant(0.3)
    with ForwardAccumulator(x, gc.constant(1.0)) as acc:
        y = gc.sin(x) * x
    assert_allclose(acc.jvp(y), np.cos(0.3) * 0.3 + np.sin(0.3), dtype=gc.float32)
    assert acc.jvp(acc.jvp(y)) is None


def test_the_accumulator_keeps_no_activations_alive():
    """Forward mode's point (docs/forward_mode.md, "The cost"): an intermediate the user drops is freed."""
    x = gc.constant([0.5, 1.0])
    with ForwardAccumulator(x, gc.constant([1.0, 0.0])) as acc:
        hidden = gc.sin(x)
        freed = weakref.ref(hidden)
        y = gc.exp(hidden)
        del hidden
    assert freed() is None
    assert_allclose(acc.jvp(y), [np.exp(np.sin(0.5)) * np.cos(0.5), 0.0], dtype=gc.float32)


def test_accumulators_are_per_thread():
    """As tapes: an op another thread runs while the accumulator is active gets no tangent."""
    x, results = gc.constant(1.0), {}
    with ForwardAccumulator(x, gc.constant(1.0)) as acc:
        worker = threading.Thread(target=lambda: results.update(y=x * 3.0))
        worker.start()
        worker.join()
        here = x * 3.0
    assert acc.jvp(results["y"]) is None
    assert_allclose(acc.jvp(here), 3.0)


def test_custom_gradient_tangents_come_from_the_custom_gradient():
    """Row 94's log1pexp: the custom VJP gives a finite tangent (1.0 at 100) where the plain one is nan."""

    @gc.custom_gradient
    def log1pexp(x):
        e = gc.exp(x)

        def grad(upstream):
            return upstream * (1 - 1 / (1 + e))

        return gc.math.log(1 + e), grad

    x = gc.constant(100.0)
    with np.errstate(over="ignore"), ForwardAccumulator(x, gc.constant(2.0)) as acc:  # exp(100) is inf in float32
        y = log1pexp(x)
    assert_allclose(acc.jvp(y), 2.0)


def test_a_function_called_under_the_accumulator_and_one_inside_a_function():
    """gc.function: a call whose input has a tangent runs op by op, and an accumulator inside a traced
    function is traced with it (docs/forward_mode.md, "gc.function")."""

    @gc.function
    def f(x):
        return gc.reduce_sum(gc.tanh(x) * x)

    @gc.function
    def value_and_jvp(x, t):
        with ForwardAccumulator(x, t) as acc:
            y = gc.reduce_sum(gc.tanh(x) * gc.sin(x))
        return y, acc.jvp(y)

    x_np, t_np = np.array([0.3, -0.7]), np.array([1.0, 2.0])
    x, t = gc.constant(x_np), gc.constant(t_np)
    f(x)
    with ForwardAccumulator(x, t) as acc:
        y = f(x)
    assert_allclose(acc.jvp(y), (np.tanh(x_np) + x_np * (1 - np.tanh(x_np) ** 2)) @ t_np)
    expected = (np.cos(x_np) * np.tanh(x_np) + np.sin(x_np) * (1 - np.tanh(x_np) ** 2)) @ t_np
    for scale in (1.0, 2.0):  # the second call runs the traced program
        _, jvp = value_and_jvp(x, t * scale)
        assert_allclose(jvp, scale * expected)
    assert value_and_jvp.experimental_get_tracing_count() == 1


# ---- Hessian-vector products ------------------------------------------------------------------------


def _network(w, x):
    """A small nonlinear function: matmul, tanh, softmax, logsumexp and a reduction."""
    h = gc.tanh(gc.matmul(x, w))
    return gc.reduce_sum(gc.nn.softmax(h) * h) + gc.reduce_sum(gc.reduce_logsumexp(h, axis=1))


@pytest.mark.gradcore_dtype("float64")
def test_forward_over_backward_equals_the_nested_tape_hessian_times_the_vector():
    rng = np.random.default_rng(0)
    w, x = gc.constant(rng.normal(size=(2, 3))), gc.constant(rng.normal(size=(2, 2)))
    v = rng.normal(size=(2, 3))
    with gc.GradientTape() as outer:
        outer.watch(w)
        with gc.GradientTape() as inner:
            inner.watch(w)
            loss = _network(w, x)
        grad = inner.gradient(loss, w)
    hessian = outer.jacobian(grad, w).numpy().reshape(6, 6)
    expected = (hessian @ v.reshape(6)).reshape(2, 3)

    with ForwardAccumulator(w, gc.constant(v)) as acc:
        with gc.GradientTape() as tape:
            tape.watch(w)
            loss = _network(w, x)
        grad = tape.gradient(loss, w)
    assert_allclose(acc.jvp(grad), expected)

    with gc.GradientTape() as tape:  # backward over forward: the gradient of the directional derivative
        tape.watch(w)
        with ForwardAccumulator(w, gc.constant(v)) as acc:
            loss = _network(w, x)
    assert_allclose(tape.gradient(acc.jvp(loss), w), expected)


# ---- every op: jvp against finite differences ----------------------------------------------------------

DIFFERENTIABLE = [pytest.param(c, id=c.name) for c in all_cases() if c.grad]


@pytest.mark.gradcore_dtype("float64")
@pytest.mark.parametrize("case", DIFFERENTIABLE)
def test_jvp_matches_finite_differences(case):
    """<w, J v> by forward mode (dedicated JVP rules, else the transposed VJP) against central differences."""
    arrays, weights, directions, _ = setup(case)
    values = to_gradcore(case, arrays, "float64")
    primals = [values[i] for i in case.grad]
    with ForwardAccumulator(primals, [gc.constant(d) for d in directions]) as acc:
        out = case.fn(*values)
    jvp = acc.jvp(out, unconnected_gradients="zero")
    assert jvp.shape == out.shape and jvp.dtype is out.dtype, reproduction(case, "float64 jvp")
    analytic = float(np.sum(jvp.numpy() * weights))
    numeric = directional_derivative(
        lambda arrs: float(scalarized(case, to_gradcore(case, arrs, "float64"), weights)), arrays, case, directions
    )
    assert_fd_close(analytic, numeric, err_msg=reproduction(case, "float64 jvp"))
