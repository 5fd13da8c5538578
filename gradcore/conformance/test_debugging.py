"""gc.debugging: check_numerics, enable/disable_check_numerics and gradient_norms.

As in tf.debugging: check_numerics names its message and what it found;
with checking enabled the first op whose float output holds NaN or Inf raises,
naming that op, its inputs and the user's line; disabled, nothing is left behind.
"""

import sys

import numpy as np
import pytest

import gradcore as gc

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns on log(0), 1/0


@pytest.fixture
def checking():
    gc.debugging.enable_check_numerics()
    try:
        yield
    finally:
        gc.debugging.disable_check_numerics()


def next_line():
    return sys._getframe(1).f_lineno + 1


# ---- check_numerics ------------------------------------------------------------------------


def test_check_numerics_returns_a_finite_tensor():
    x = gc.constant([[1.0, -2.0], [0.0, 3.5]])
    checked = gc.debugging.check_numerics(x, "weights")
    np.testing.assert_array_equal(checked.numpy(), x.numpy())


@pytest.mark.parametrize("bad, found, absent", [
    (np.nan, "1 NaN", "Inf"),
    (np.inf, "1 Inf", "NaN"),
    (-np.inf, "1 Inf", "NaN"),
])
def test_check_numerics_names_the_message_the_shape_and_what_it_found(bad, found, absent):
    values = np.ones((2, 3), np.float32)
    values[1, 2] = bad
    with pytest.raises(gc.InvalidArgumentError) as info:
        gc.debugging.check_numerics(gc.constant(values), "logits of layer 3")
    message = str(info.value)
    assert "logits of layer 3" in message and "(2, 3)" in message and found in message
    assert absent not in message


def test_check_numerics_counts_both_kinds():
    with pytest.raises(gc.InvalidArgumentError, match="2 NaN and 1 Inf of 4 values"):
        gc.debugging.check_numerics(gc.constant([np.nan, 1.0, np.inf, np.nan], dtype=gc.float64), "x")


def test_check_numerics_wants_a_float_tensor():
    with pytest.raises(TypeError, match="floating-point"):
        gc.debugging.check_numerics(gc.constant([1, 2]), "ints")


def test_check_numerics_passes_gradients_through():
    x = gc.Variable([1.0, 2.0])
    with gc.GradientTape() as tape:
        y = gc.reduce_sum(gc.debugging.check_numerics(x * x, "square"))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0])


# ---- enable_check_numerics -------------------------------------------------------------------


def test_finite_ops_and_gradients_run_as_usual(checking):
    x = gc.Variable([0.5, 1.0, 2.0])
    with gc.GradientTape() as tape:
        y = gc.reduce_sum(gc.tanh(x) * gc.exp(x))
    expected = (1 - np.tanh([0.5, 1.0, 2.0]) ** 2) * np.exp([0.5, 1.0, 2.0]) + np.tanh([0.5, 1.0, 2.0]) * np.exp([0.5, 1.0, 2.0])
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), expected, rtol=1e-5)


def test_the_first_op_that_makes_inf_is_named_with_its_inputs_and_line(checking):
    x = gc.constant(np.array([[1.0, 0.0, 2.0]], np.float32))
    with pytest.raises(gc.InvalidArgumentError) as info:
        line = next_line()
        y = gc.divide(1.0, x)  # Inf here ...
        gc.multiply(y, 0.0)  # ... would become NaN here
    message = str(info.value)
    assert "gc.divide" in message and "multiply" not in message
    assert "1 Inf of 3 values" in message and "(1, 3)" in message
    assert f"test_debugging.py:{line}" in message and "gc.divide(1.0, x)" in message


def test_nan_from_an_op_is_named(checking):
    with pytest.raises(gc.InvalidArgumentError, match=r"log.*1 NaN"):
        gc.math.log(gc.constant([-1.0, 1.0]))


def test_inputs_may_hold_inf_when_the_output_is_finite(checking):
    x = gc.constant([-np.inf, 0.0])
    assert float(gc.reduce_logsumexp(x)) == pytest.approx(0.0)
    np.testing.assert_array_equal(gc.exp(x).numpy(), [0.0, 1.0])


def test_a_gradient_op_that_makes_inf_is_named(checking):
    x = gc.Variable([0.0, 4.0])
    with gc.GradientTape() as tape:
        y = gc.reduce_sum(gc.sqrt(x))  # d sqrt(x) = 1 / (2 sqrt(x)) is Inf at 0
    with pytest.raises(gc.InvalidArgumentError, match="Inf"):
        tape.gradient(y, x)


def test_enabling_and_disabling_never_touch_the_backend_object():
    backend = gc.get_backend()
    before = dict(vars(backend))
    gc.debugging.enable_check_numerics()
    try:
        assert vars(backend) == before, "checking patched the shared backend object"
    finally:
        gc.debugging.disable_check_numerics()
    assert vars(backend) == before
    assert float(gc.divide(1.0, gc.constant(0.0))) == np.inf  # no check any more


def test_a_kernel_patched_before_enabling_is_still_the_one_checked(monkeypatch):
    backend = gc.get_backend()
    original = backend.exp
    calls = []
    monkeypatch.setattr(backend, "exp", lambda x: calls.append(1) or original(x))
    gc.debugging.enable_check_numerics()
    try:
        with pytest.raises(gc.InvalidArgumentError, match="gc.exp"):
            gc.exp(gc.constant([1000.0]))
    finally:
        gc.debugging.disable_check_numerics()
    assert calls == [1]


def test_checking_covers_threads_started_before_it_was_enabled():
    import threading

    errors = []
    ready, go = threading.Event(), threading.Event()

    def worker():
        ready.set()
        go.wait(timeout=30)
        try:
            gc.exp(gc.constant([1000.0]))
        except gc.InvalidArgumentError as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=worker)
    thread.start()
    ready.wait(timeout=30)
    gc.debugging.enable_check_numerics()
    try:
        go.set()
        thread.join(timeout=30)
    finally:
        gc.debugging.disable_check_numerics()
    assert len(errors) == 1 and "gc.exp" in errors[0]


def test_enabling_twice_is_harmless(checking):
    gc.debugging.enable_check_numerics()
    with pytest.raises(gc.InvalidArgumentError, match="1 Inf"):
        gc.exp(gc.constant([1000.0]))


# ---- gradient_norms --------------------------------------------------------------------------


def test_gradient_norms_by_variable_name():
    kernel = gc.Variable(np.ones((2, 2), np.float32), name="dense/kernel")
    bias = gc.Variable(np.zeros(2, np.float32), name="dense/bias")
    frozen = gc.Variable(1.0, name="frozen")
    grads = [gc.constant([[3.0, 0.0], [0.0, 4.0]]), gc.constant([1.0, -1.0]), None]
    norms = gc.debugging.gradient_norms(grads, [kernel, bias, frozen])
    assert list(norms) == ["dense/kernel:0", "dense/bias:0", "frozen:0"]
    assert norms["dense/kernel:0"] == pytest.approx(5.0)
    assert norms["dense/bias:0"] == pytest.approx(np.sqrt(2.0))
    assert norms["frozen:0"] is None


def test_gradient_norms_keep_variables_that_share_a_name():
    a, b = gc.Variable([3.0, 4.0], name="w"), gc.Variable([1.0], name="w")
    norms = gc.debugging.gradient_norms([gc.constant([3.0, 4.0]), gc.constant([2.0])], [a, b])
    assert norms == {"w:0": pytest.approx(5.0), "w:0_1": pytest.approx(2.0)}


def test_gradient_norms_need_one_gradient_per_variable():
    with pytest.raises(gc.InvalidArgumentError, match="1 gradients for 2 variables"):
        gc.debugging.gradient_norms([gc.constant(1.0)], [gc.Variable(1.0), gc.Variable(2.0)])
