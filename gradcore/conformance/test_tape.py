"""GradientTape semantics, as TF 2's eager tape: what it watches, its lifecycle, targets and
sources, output_gradients and unconnected gradients, blocking gradients, jacobian and batch_jacobian.

Left out here: a string target (gradcore has no string dtype); a Variable replaced by a tensor and
gradients through assign (test_variables.py: test_variable_replaced_by_a_tensor_is_no_longer_watched,
test_assign_add_is_not_differentiable, test_assign_from_a_watched_tensor_is_not_differentiable,
test_the_read_after_an_assign_is_recorded); an op with no registered gradient (test_registry.py:
test_unregistered_op_is_a_lookup_error_at_gradient_time).
"""

import logging
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradcore as gc
from gradcore.engine.recording import state
from gradcore.testing import assert_allclose


def close(actual, expected, dtype=gc.float32):
    assert actual is not None, "expected a gradient, got None"
    assert_allclose(actual, np.asarray(expected, dtype=np.float64), dtype=dtype)


# ---- what the tape watches -------------------------------------------------------------


def test_watched_constant_gets_a_gradient():
    x = gc.constant(3.0)
    with gc.GradientTape() as g:
        g.watch(x)
        y = x * x
    close(g.gradient(y, x), 6.0)  # a watched constant is differentiable


def test_constants_are_not_watched_automatically():
    x = gc.constant(3.0)
    with gc.GradientTape() as g:
        y = x * x
    assert g.gradient(y, x) is None  # TF never watches constants by itself


def test_only_trainable_variables_are_watched_automatically():
    x0 = gc.Variable(3.0, name="x0")
    x1 = gc.Variable(3.0, trainable=False)
    x2 = gc.Variable(2.0) + 1.0
    x3 = gc.constant(3.0)
    with gc.GradientTape() as tape:
        y = x0**2 + x1**2 + x2**2
    grads = tape.gradient(y, [x0, x1, x2, x3])
    close(grads[0], 6.0)  # non-trainable Variables and tensors made from Variables are not watched
    assert grads[1:] == [None, None, None]
    assert [v.name for v in tape.watched_variables()] == ["x0:0"]


def test_watch_accessed_variables_false_watches_only_what_is_asked():
    x0, x1 = gc.Variable(0.0), gc.Variable(10.0)
    with gc.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x1)
        ys = gc.reduce_sum(gc.sin(x0) + gc.nn.softplus(x1))
    grads = tape.gradient(ys, {"x0": x0, "x1": x1})
    assert grads["x0"] is None  # TF: only what is watched; watched_variables is a tuple
    close(grads["x1"], 0.9999546)
    watched = tape.watched_variables()
    assert isinstance(watched, tuple) and len(watched) == 1 and watched[0] is x1


def test_auto_watching_off_leaves_a_read_variable_to_an_outer_tape():
    """TF's testSelectivelyWatchVariables rule on another path: a trainable Variable read inside a
    tape made with watch_accessed_variables=False is not watched by it (no gradient, not listed),
    while an enclosing tape that watches accessed variables records the same read."""
    v = gc.Variable(np.array([1.0, -2.0]))
    c = gc.constant(3.0, dtype=gc.float64)
    with gc.GradientTape() as outer, gc.GradientTape(watch_accessed_variables=False, persistent=True) as inner:
        inner.watch(c)
        y = gc.reduce_sum(v * v) * c
    assert inner.watched_variables() == ()
    dv, dc = inner.gradient(y, [v, c])
    assert dv is None
    close(dc, 5.0, gc.float64)  # sum(v * v)
    zero = inner.gradient(y, v, unconnected_gradients="zero")
    assert zero.dtype is gc.float64
    np.testing.assert_array_equal(zero.numpy(), [0.0, 0.0])
    assert len(outer.watched_variables()) == 1 and outer.watched_variables()[0] is v
    close(outer.gradient(y, v), [6.0, -12.0], gc.float64)  # 2 v c


def test_explicit_watch_works_for_non_trainable_variables():
    v = gc.Variable(2.0, trainable=False)
    with gc.GradientTape() as t:
        t.watch(v)
        y = v**3
    close(t.gradient(y, v), 12.0)  # TF: an explicit watch works for a non-trainable Variable


def test_watching_an_integer_tensor_logs_a_warning_and_gives_none(caplog):
    x = gc.constant(10)
    with caplog.at_level(logging.WARNING, logger="gradcore"), gc.GradientTape() as g:
        g.watch(x)
        y = x * x
    assert g.gradient(y, x) is None  # TF logs a warning (logging, not warnings) and gives None
    messages = [r.getMessage() for r in caplog.records if r.name == "gradcore"]
    assert any("The dtype of the watched tensor must be floating" in m and "int32" in m for m in messages)


def test_integer_variable_ops_are_not_recorded():
    v = gc.Variable(3)
    assert v.trainable and v.dtype is gc.int32
    with gc.GradientTape(persistent=True) as g:
        y = v * v
    assert g.gradient(y, v) is None  # TF records no op whose inputs are all integers
    zero = g.gradient(y, v, unconnected_gradients="zero")  # TF: zeros in the source dtype, int32 here
    assert zero.dtype is gc.int32 and zero.numpy() == 0


@pytest.mark.parametrize("thing, type_name", [(np.array(1.0), "ndarray"), (1.0, "float")])
def test_watching_something_that_is_not_a_tensor_is_a_value_error(thing, type_name):
    with pytest.raises(ValueError, match=f"Passed in object .* of type '{type_name}'"):  # TF's class and message
        gc.GradientTape().watch(thing)


def test_watching_is_not_retroactive():
    x = gc.constant(3.0)
    with gc.GradientTape() as t:
        y = x * x
        t.watch(x)
    assert t.gradient(y, x) is None  # TF: watching is not retroactive


def test_integer_target_that_is_its_source_gives_integer_one():
    x = gc.constant(3)
    with gc.GradientTape() as t:
        t.watch(x)
    g = t.gradient(x, x)
    assert g.dtype is gc.int32 and g.numpy() == 1  # TF seeds ones even for an int target


def test_watch_flattens_nested_structures():
    a = gc.Variable(1.0, trainable=False)
    b = gc.constant(2.0)
    with gc.GradientTape() as t:
        t.watch({"a": a, "b": [b]})
        y = a * b
    grads = t.gradient(y, {"a": a, "b": b})
    close(grads["a"], 2.0)  # TF flattens what watch is given
    close(grads["b"], 1.0)


def test_variables_read_but_unused_are_watched_in_order():
    v, w = gc.Variable(1.0), gc.Variable(2.0)
    with gc.GradientTape() as t:
        y = v * 2
        _ = w.read_value()
    watched = t.watched_variables()
    assert len(watched) == 2 and watched[0] is v and watched[1] is w  # TF: every read counts, in order
    dv, dw = t.gradient(y, [v, w])
    close(dv, 2.0)
    assert dw is None


# ---- tape lifecycle -----------------------------------------------------------------------

NON_PERSISTENT = "A non-persistent GradientTape can only be used to compute one set of gradients"


def _used_tape():
    x = gc.constant(3.0)
    with gc.GradientTape() as g:
        g.watch(x)
        y = x * x
        z = y * y
    g.gradient(z, x)
    return g, x, y


def test_non_persistent_tape_gives_one_set_of_gradients():
    g, x, y = _used_tape()
    with pytest.raises(RuntimeError, match=NON_PERSISTENT):  # TF's class and message
        g.gradient(y, x)


@pytest.mark.parametrize("method", ["jacobian", "batch_jacobian"])
def test_non_persistent_tape_refuses_a_jacobian_after_a_gradient(method):
    x = gc.constant([[1.0, 2.0]])
    with gc.GradientTape() as g:
        g.watch(x)
        y = x * x
    g.gradient(y, x)
    with pytest.raises(RuntimeError, match=NON_PERSISTENT):  # TF: the same RuntimeError
        getattr(g, method)(y, x)


def test_persistent_tape_gives_any_number_of_gradients():
    x = gc.constant(3.0)
    with gc.GradientTape(persistent=True) as g:
        g.watch(x)
        y = x * x
        z = y * y
    close(g.gradient(z, x), 108.0)  # TF: a persistent tape answers any number of calls
    close(g.gradient(y, x), 6.0)
    close(g.gradient(z, y), 18.0)
    close(g.gradient(z, x), 108.0)


def test_persistent_tape_on_a_vector():
    x = gc.constant([1.0, 3.0])
    with gc.GradientTape(persistent=True) as g:
        g.watch(x)
        y = x * x
        z = y * y
    close(g.gradient(z, x), [4.0, 108.0])  # elementwise, as TF
    close(g.gradient(y, x), [2.0, 6.0])


def test_nested_tapes_give_second_derivatives():
    x = gc.constant(5.0)
    with gc.GradientTape() as g:
        g.watch(x)
        with gc.GradientTape() as gg:
            gg.watch(x)
            y = x * x
        dy_dx = gg.gradient(y, x)
    close(dy_dx, 10.0)  # TF: the outer tape records the inner gradient
    close(g.gradient(dy_dx, x), 2.0)


def test_nested_tapes_on_a_variable():
    x = gc.Variable(1.0)
    with gc.GradientTape() as t2:
        with gc.GradientTape() as t1:
            y = x * x * x
        dy_dx = t1.gradient(y, x)
    close(dy_dx, 3.0)  # TF: the same through a Variable
    close(t2.gradient(dy_dx, x), 6.0)


def test_persistent_tape_records_its_own_gradients_inside_its_context(caplog):
    x = gc.constant(3.0)
    with caplog.at_level(logging.WARNING, logger="gradcore"):
        with gc.GradientTape(persistent=True) as g:
            g.watch(x)
            y = x**3
            d1 = g.gradient(y, x)
            d2 = g.gradient(d1, x)
        d3 = g.gradient(d2, x)
    close(d1, 27.0)  # TF records the gradient ops on a persistent tape inside its context
    close(d2, 18.0)
    close(d3, 6.0)
    warnings = [r for r in caplog.records if "persistent tape inside its context" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING  # logged once


def test_non_persistent_gradient_inside_the_block_stops_recording(caplog):
    v = gc.Variable(1.0)
    with caplog.at_level(logging.WARNING, logger="gradcore"), gc.GradientTape() as t:
        y = v * 2
        close(t.gradient(y, v), 2.0)  # TF pops the tape first, silently
        assert t not in state.recording  # later ops in the block are not recorded
        _ = v * 3
    assert not [r for r in caplog.records if r.name == "gradcore"]
    with pytest.raises(RuntimeError, match=NON_PERSISTENT):
        t.gradient(y, v)


def test_gradient_inside_a_non_persistent_block_ends_the_recording():
    """TF's testGradientWithinTapeBlock rule on another path: a non-persistent tape's gradient called
    inside its block pops the tape, so it is no longer recording (reset() then raises TF's
    "Tape is not recording." ValueError), the ops after it are not recorded, and a later jacobian
    is refused with the one-set-of-gradients RuntimeError."""
    x = gc.constant([1.0, 2.0], dtype=gc.float64)
    with gc.GradientTape() as t:
        t.watch(x)
        y = x * x * x
        dy = t.gradient(y, x)
        after = dy * x
        with pytest.raises(ValueError, match="Tape is not recording."):
            t.reset()
    close(dy, [3.0, 12.0], gc.float64)
    close(after, [3.0, 24.0], gc.float64)
    with pytest.raises(RuntimeError, match=NON_PERSISTENT):
        t.jacobian(after, x)


def test_inner_gradient_is_recorded_by_an_outer_tape():
    x = gc.constant(3.0)
    with gc.GradientTape() as outer:
        outer.watch(x)
        with gc.GradientTape() as t:
            t.watch(x)
            y = x * x
        g1 = t.gradient(y, x)
    close(g1, 6.0)  # TF: an outer tape records an inner non-persistent gradient
    close(outer.gradient(g1, x), 2.0)


def test_entering_an_active_tape_is_an_error():
    t = gc.GradientTape()
    # TF's class and message; the second `with t` re-enters the recording tape
    with t, pytest.raises(ValueError, match="Tape is still recording, This can happen if you try to re-enter"), t:
        pass


def test_re_entering_a_tape_continues_recording():
    g = gc.GradientTape()
    with g:
        x = gc.constant(3.0)
        g.watch(x)
        y = 2 * x
    with g:
        z = 2 * y
    grads = g.gradient(z, [x])
    assert isinstance(grads, list) and len(grads) == 1
    close(grads[0], 4.0)  # TF: the same tape goes on recording


def test_reset_forgets_what_was_recorded():
    v = gc.Variable(1.0)
    with gc.GradientTape() as t:
        loss = v * v
        assert len(t.watched_variables()) == 1
        t.reset()
        assert len(t.watched_variables()) == 0  # TF: reset forgets watched variables too
        loss += v * v
    close(t.gradient(loss, v), 2.0)


@pytest.mark.parametrize("action", ["reset", "stop_recording"])
def test_reset_or_stop_recording_on_an_exited_tape_is_an_error(action):
    t = gc.GradientTape()
    with t:
        pass
    with pytest.raises(ValueError, match="Tape is not recording."):  # TF's class and message
        if action == "reset":
            t.reset()
        else:
            with t.stop_recording():
                pass


def test_stop_recording_on_a_never_entered_tape_is_an_error():
    with (
        pytest.raises(RuntimeError, match="Trying to stop recording a tape which is not recording."),  # TF's
        gc.GradientTape().stop_recording(),
    ):
        pass


def test_watched_variables_survive_a_non_persistent_gradient():
    v = gc.Variable(1.0)
    with gc.GradientTape() as t:
        y = v * v
    t.gradient(y, v)
    watched = t.watched_variables()
    assert len(watched) == 1 and watched[0] is v  # TF keeps them after the tape is dropped


def test_two_tapes_in_one_block_watch_separately():
    x0, x1 = gc.constant(0.0), gc.constant(0.0)
    with gc.GradientTape() as tape0, gc.GradientTape() as tape1:
        tape0.watch(x0)
        tape1.watch(x1)
        ys = gc.reduce_sum(gc.sin(x0) + gc.sigmoid(x1))
    close(tape0.gradient(ys, x0), 1.0)  # TF: each tape has its own watch list
    close(tape1.gradient(ys, x1), 0.25)


def test_watching_is_tape_local():
    x1 = gc.Variable(2.0, trainable=False)
    x2 = gc.Variable(2.0, trainable=False)
    with gc.GradientTape() as tape1:
        with gc.GradientTape() as tape2:
            tape1.watch(x1)
            tape2.watch([x1, x2])
            y = x1**3
            z = x2**2
            dy, dz = tape2.gradient([y, z], [x1, x2])
        d2y, d2z = tape1.gradient([dy, dz], [x1, x2])
    close(dy, 12.0)  # TF's testWatchingIsTapeLocal
    close(dz, 4.0)
    close(d2y, 12.0)
    assert d2z is None


def test_tapes_are_thread_local():
    x = gc.constant(2.0)
    result = {}

    def other_thread():
        result["y"] = x * x  # the tape below is active in the main thread only

    with gc.GradientTape(persistent=True) as t:
        t.watch(x)
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        z = x * 3.0
    assert t.gradient(result["y"], x) is None
    close(t.gradient(z, x), 3.0)


# ---- targets, sources, output_gradients, unconnected gradients -----------------------------


def test_list_targets_are_summed():
    x, y = gc.constant(3.0), gc.constant(5.0)
    with gc.GradientTape() as t:
        t.watch([x, y])
        xx, yy = 2 * x, 3 * y
    dx, dy = t.gradient([xx, yy], [x, y])
    close(dx, 2.0)  # TF sums the targets
    close(dy, 3.0)


def test_dict_target():
    x = gc.Variable(2.0)
    with gc.GradientTape() as t:
        y = {"y0": x**2, "y1": 1 / x}
    close(t.gradient(y, x), 3.75)  # TF sums a dict's values: 2x - 1/x^2


def test_non_scalar_target_is_summed():
    x = gc.Variable(2.0)
    with gc.GradientTape() as t:
        y = x * [3.0, 4.0]
    close(t.gradient(y, x), 7.0)  # TF seeds ones: the gradient of the sum


def test_target_list_containing_the_source():
    x = gc.constant(2.0)
    with gc.GradientTape() as t:
        t.watch(x)
        y = x * x
    close(t.gradient([x, y], x), 5.0)  # TF: 1 + 2x


def test_target_that_is_the_source():
    x = gc.constant(2.0)
    with gc.GradientTape() as t:
        t.watch(x)
        y = x
    close(t.gradient(y, x), 1.0)  # TF: no op in between gives ones


def test_variable_as_target():
    v0, v1 = gc.Variable(2.0), gc.Variable(3.0)
    x = gc.constant(1.0)
    with gc.GradientTape() as tape:
        result = v0 if x > 0 else v1**2
    d0, d1 = tape.gradient(result, [v0, v1])
    close(d0, 1.0)  # TF allows a Variable target
    assert d1 is None


def test_nested_sources_keep_their_structure():
    x1, x2, x3 = gc.Variable(2.0), gc.Variable(3.0), gc.Variable(4.0)
    with gc.GradientTape(persistent=True) as t:
        y = x1 + 2 * x2 + 3 * x3
    close(t.gradient(y, x1), 1.0)  # TF keeps tuples, lists and dicts of sources
    single = t.gradient(y, (x1,))
    assert isinstance(single, tuple) and len(single) == 1
    close(single[0], 1.0)
    pairs = t.gradient(y, [(x1, x2), (x2, x3)])
    assert isinstance(pairs, list) and all(isinstance(p, tuple) for p in pairs)
    close([[float(g) for g in p] for p in pairs], [[1.0, 2.0], [2.0, 3.0]])
    mixed = t.gradient(y, [x1, {"x2": x2, "x3": x3}])
    assert isinstance(mixed, list) and isinstance(mixed[1], dict) and sorted(mixed[1]) == ["x2", "x3"]
    close(mixed[0], 1.0)
    close(mixed[1]["x2"], 2.0)
    close(mixed[1]["x3"], 3.0)


def test_repeated_source():
    x = gc.constant(1.0)
    with gc.GradientTape() as t:
        t.watch(x)
        y = 2 * x
    grads = t.gradient(y, [x, x])
    close(grads[0], 2.0)  # TF answers each occurrence in full
    close(grads[1], 2.0)


def test_nested_target_leaves_are_summed():
    x = gc.constant(2.0)
    with gc.GradientTape() as t:
        t.watch(x)
        a, b = 3 * x, x * x
    close(t.gradient((a, [b, {"k": a}]), x), 10.0)  # TF sums every leaf


def test_a_target_listed_twice_counts_twice():
    """TF sums the targets (testTwoTargets): the same tensor listed n times is n times its gradient,
    in any container, and output_gradients weight each occurrence separately."""
    values = np.array([0.5, -1.0, 2.0])
    derivative = np.cos(values) * values + np.sin(values)  # d (x sin x) / dx
    x = gc.constant(values)
    w = gc.Variable(2.0)
    with gc.GradientTape(persistent=True) as t:
        t.watch(x)
        y = gc.sin(x) * x
    close(t.gradient([y, y], x), 2 * derivative, gc.float64)
    close(t.gradient((y, [y, {"again": y}]), x), 3 * derivative, gc.float64)
    weights = [np.array([1.0, 0.0, -2.0]), np.array([0.5, 3.0, 1.0])]
    weighted = t.gradient([y, y], x, output_gradients=[gc.constant(a) for a in weights])
    close(weighted, (weights[0] + weights[1]) * derivative, gc.float64)
    close(t.gradient([w, w, w], w), 3.0)  # a Variable target listed three times


def test_output_gradients_weight_each_target():
    x, y = gc.constant(3.0), gc.constant(2.0)
    with gc.GradientTape() as t:
        t.watch([x, y])
        loss = x * y
    (dx,) = t.gradient([loss, x], [x], output_gradients=[1.0, 2.0])
    close(dx, 4.0)  # TF: y * 1 + 2


def test_output_gradients_give_a_vector_jacobian_product():
    x = gc.constant([1.0, 2.0, 3.0])
    with gc.GradientTape() as t:
        t.watch(x)
        y = x * x
    # A Tensor, as in TF: a Python list would be flattened into one entry per target.
    vjp = t.gradient(y, x, output_gradients=gc.constant([1.0, 0.0, 10.0]))
    close(vjp, [2.0, 0.0, 60.0])  # TF: a vector-Jacobian product


def test_output_gradients_of_the_wrong_shape():
    x = gc.constant([1.0, 2.0, 3.0])
    with gc.GradientTape() as t:
        t.watch(x)
        y = x * x
    with pytest.raises(gc.InvalidArgumentError, match=r"\(2,\).*\(3,\)"):  # TF: InvalidArgumentError, shapes [2] vs [3]
        t.gradient(y, x, output_gradients=gc.constant([1.0, 0.0]))


def test_none_in_output_gradients_is_refused():
    x = gc.constant(3.0)
    with gc.GradientTape() as t:
        t.watch(x)
        y = x * x
    with pytest.raises(ValueError, match=r"Attempt to convert a value \(None\)"):  # eager TF's message
        t.gradient([y, x], x, output_gradients=[None, gc.constant(10.0)])


def test_unconnected_gradient_is_none_by_default():
    x, y = gc.constant(1.0), gc.constant(2.0)
    with gc.GradientTape() as g:
        g.watch([x, y])
        z = y * 2
    assert g.gradient(z, x) is None  # TF's default


@pytest.mark.parametrize("zero", ["zero", gc.UnconnectedGradients.ZERO])
def test_unconnected_gradient_as_zeros(zero):
    x = gc.constant(np.ones((2, 2), np.float32))
    v = gc.Variable(np.ones((2, 2), np.float32))
    y = gc.constant(2.0)
    with gc.GradientTape() as g:
        g.watch([x, y])
        z = y * 2
    gx, gv = g.gradient(z, [x, v], unconnected_gradients=zero)
    for grad in (gx, gv):  # TF: zeros of the source's shape and dtype, also for Variable sources
        assert grad.dtype is gc.float32 and grad.shape == (2, 2)
        np.testing.assert_array_equal(grad.numpy(), np.zeros((2, 2)))


def test_unknown_unconnected_gradients_value():
    x = gc.constant(1.0)
    with gc.GradientTape() as g:
        g.watch(x)
        y = x * 2
    with pytest.raises(ValueError, match="Unknown value for unconnected_gradients: 'nonsense'"):
        g.gradient(y, x, unconnected_gradients="nonsense")  # TF's class and message


def test_none_target_is_a_type_error():
    x = gc.constant(1.0)
    with gc.GradientTape() as g:
        g.watch(x)
    with pytest.raises(TypeError, match="Argument `target` should be a list or nested structure"):
        g.gradient(None, x)  # TF's class and message


@pytest.mark.parametrize("bad", [2.0, np.array(2.0)])
def test_non_tensor_source_is_a_type_error(bad):
    # TensorFlow raises AttributeError; gradcore deliberately raises a TypeError that names the
    # offending value (docs/deviations.md, "Bad arguments raise builtin-compatible errors").
    x = gc.constant(1.0)
    with gc.GradientTape() as t:
        t.watch(x)
        y = x * 2
    with pytest.raises(TypeError, match="source must be a gc.Tensor or gc.Variable"):
        t.gradient(y, [x, bad])


def test_unconnected_gradients_members():
    assert gc.UnconnectedGradients.NONE.value == "none"  # TF's members; strings accepted
    assert gc.UnconnectedGradients.ZERO.value == "zero"
    assert gc.UnconnectedGradients("zero") is gc.UnconnectedGradients.ZERO


# ---- sources that are computed from one another ----------------------------------------------------
# TF differentiates with respect to every source in one reverse pass, whether or not one source is
# computed from another: the gradient of z = (2x)^2 with respect to [x, y = 2x] is [8x, 2y].

X_VALUES = np.array([1.0, -2.0, 0.5])


def _doubled_then_squared(persistent):
    x = gc.constant(X_VALUES)
    tape = gc.GradientTape(persistent=persistent)
    with tape:
        tape.watch(x)
        y = 2 * x
        z = y * y
    return tape, x, y, z


@pytest.mark.parametrize("persistent", [False, True], ids=["non-persistent", "persistent"])
@pytest.mark.parametrize("intermediate_first", [False, True], ids=["ancestor-first", "intermediate-first"])
def test_gradient_for_an_intermediate_and_its_ancestor(persistent, intermediate_first):
    tape, x, y, z = _doubled_then_squared(persistent)
    if intermediate_first:
        dy, dx = tape.gradient(z, [y, x])
    else:
        dx, dy = tape.gradient(z, [x, y])
    close(dx, 8 * X_VALUES, gc.float64)
    close(dy, 2 * (2 * X_VALUES), gc.float64)


def test_intermediate_and_ancestor_in_every_source_structure():
    tape, x, y, z = _doubled_then_squared(persistent=True)
    dx, dy = 8 * X_VALUES, 4 * X_VALUES
    by_name = tape.gradient(z, {"y": y, "x": x})
    close(by_name["x"], dx, gc.float64)
    close(by_name["y"], dy, gc.float64)
    nested = tape.gradient(z, (y, [x, {"again": y}]))
    assert isinstance(nested, tuple) and isinstance(nested[1], list)
    close(nested[0], dy, gc.float64)
    close(nested[1][0], dx, gc.float64)
    close(nested[1][1]["again"], dy, gc.float64)
    close(tape.gradient(z, y), dy, gc.float64)  # and each alone, after the joint calls
    close(tape.gradient(z, x), dx, gc.float64)
    jx, jy = tape.jacobian(z, [x, y])
    close(jx, np.diag(dx), gc.float64)
    close(jy, np.diag(dy), gc.float64)


def test_chain_of_three_sources_with_a_skip_connection():
    """d = sum(c * b) with c = b^2 and b = 3a: the total derivatives are dd/dc = b,
    dd/db = c + 2b^2 = 3b^2 (through c and directly), dd/da = 3 * 3b^2."""
    a = gc.Variable(np.array([0.5, -1.0]))
    with gc.GradientTape() as tape:
        b = a * 3.0
        c = b * b
        d = gc.reduce_sum(c * b)
    dc, da, db = tape.gradient(d, [c, a, b])
    b_values = 3 * np.array([0.5, -1.0])
    close(dc, b_values, gc.float64)
    close(db, 3 * b_values**2, gc.float64)
    close(da, 9 * b_values**2, gc.float64)


def test_intermediate_that_is_also_a_target():
    """Targets are summed and a target that is a source seeds ones (TF's
    testTapeGradientMultiTargetOneIsSource): d(z + y)/dx = 8x + 2, d(z + y)/dy = 2y + 1."""
    tape, x, y, z = _doubled_then_squared(persistent=False)
    dx, dy = tape.gradient([z, y], [x, y])
    close(dx, 8 * X_VALUES + 2, gc.float64)
    close(dy, 4 * X_VALUES + 1, gc.float64)


def test_a_source_computed_after_the_target_is_unconnected():
    """z is computed from y, so y does not depend on z: None, or zeros with 'zero'."""
    tape, x, y, z = _doubled_then_squared(persistent=True)
    dx, dz = tape.gradient(y, [x, z])
    close(dx, [2.0, 2.0, 2.0], gc.float64)
    assert dz is None
    zero = tape.gradient(y, [z, x], unconnected_gradients="zero")[0]
    np.testing.assert_array_equal(zero.numpy(), np.zeros(3))


# ---- blocking gradients ---------------------------------------------------------------------


def _two_variables():
    return gc.Variable(2.0), gc.Variable(3.0)


def test_stop_gradient_blocks():
    x, y = _two_variables()
    with gc.GradientTape() as t:
        z = x**2 + gc.stop_gradient(y**2)
    grads = t.gradient(z, {"x": x, "y": y})
    close(grads["x"], 4.0)  # TF: stop_gradient blocks y
    assert grads["y"] is None


def test_stop_recording_blocks():
    x, y = _two_variables()
    with gc.GradientTape() as t:
        x_sq = x * x
        with t.stop_recording():
            y_sq = y * y
        z = x_sq + y_sq
    grads = t.gradient(z, {"x": x, "y": y})
    close(grads["x"], 4.0)  # TF: nothing recorded inside stop_recording
    assert grads["y"] is None


def test_recording_resumes_after_stop_recording():
    x = gc.constant(1.0)
    with gc.GradientTape(persistent=True) as t:
        t.watch(x)
        x2 = x * 2
        with t.stop_recording():
            y = x2 * x2
        z = x2 * x2
    assert t.gradient(y, x2) is None  # TF: recording resumes when stop_recording exits
    close(t.gradient(z, x2), 4.0)


def test_reset_mid_block_blocks():
    x, y = _two_variables()
    with gc.GradientTape() as t:
        y_sq = y * y
        t.reset()
        z = x * x + y_sq
    grads = t.gradient(z, {"x": x, "y": y})
    close(grads["x"], 4.0)  # TF: reset forgets y_sq
    assert grads["y"] is None


def test_python_control_flow_picks_the_recorded_branch():
    x = gc.constant(1.0)
    v0, v1 = gc.Variable(2.0), gc.Variable(2.0)
    with gc.GradientTape(persistent=True) as tape:
        tape.watch(x)
        result = v0 if x > 0.0 else v1**2
    d0, d1 = tape.gradient(result, [v0, v1])
    close(d0, 1.0)  # TF records only the branch Python ran
    assert d1 is None
    assert tape.gradient(result, x) is None


def test_python_while_loop():
    x = gc.constant(2.0)
    with gc.GradientTape() as t:
        t.watch(x)
        y = x
        for _ in range(3):
            y = y * x
    close(t.gradient(y, x), 32.0)  # TF records each iteration: d x^4 = 4x^3


def test_python_max_of_variables():
    a, b, c = gc.Variable(2.0), gc.Variable(3.0), gc.Variable(5.0)
    with gc.GradientTape() as t:
        result = max([a, b, c])
    ga, gb, gc_ = t.gradient(result, [a, b, c])
    assert ga is None and gb is None  # TF: Python's max returns one Variable
    close(gc_, 1.0)


def test_round_trip_through_numpy_loses_the_gradient():
    x = gc.Variable([[1.0, 2.0], [3.0, 4.0]])
    with gc.GradientTape() as t:
        y = gc.reduce_mean(np.mean(x**2, axis=0))
    assert t.gradient(y, x) is None  # TF: NumPy is off the tape


def test_non_differentiable_ops_give_none():
    x = gc.constant([2.5, 3.5])
    with gc.GradientTape(persistent=True) as t:
        t.watch(x)
        rounded, floored, compared = gc.round(x), gc.floor(x), x > 2
        index = gc.cast(gc.argmax(x), gc.float32)
        signs = gc.sign(x)
    for target in (rounded, floored, compared, index):
        assert t.gradient(target, x) is None  # TF registers these as not differentiable
    np.testing.assert_array_equal(t.gradient(signs, x).numpy(), [0.0, 0.0])  # a registered zero gradient


def test_cast_to_int_and_back_contributes_nothing():
    x = gc.constant(3.0)
    with gc.GradientTape() as t:
        t.watch(x)
        y = gc.cast(gc.cast(x, gc.int32), gc.float32) * x
    close(t.gradient(y, x), 3.0)  # TF: a cast to int gives no gradient


@pytest.mark.parametrize("fn, expected", [
    (gc.nn.relu, 0.0),
    (gc.abs, 0.0),
    (gc.sqrt, np.inf),
    (lambda x: gc.maximum(x, 0.0), 1.0),  # ties go to the first argument
    (lambda x: gc.minimum(x, 0.0), 1.0),
])
def test_gradients_at_zero(fn, expected):
    x = gc.constant(0.0)
    with np.errstate(divide="ignore"), gc.GradientTape() as t:
        t.watch(x)
        y = fn(x)
        grad = t.gradient(y, x)
    np.testing.assert_array_equal(grad.numpy(), expected)  # TF's values at 0


@pytest.mark.parametrize("fn, values, expected", [
    (gc.math.log, [0.0, 2.0], [np.nan, 0.5]),
    (lambda x: 1 / x, [0.0, 2.0], [np.nan, -0.25]),
    # TF's SqrtGrad gives 0 where the upstream gradient is 0. TF's 0.25 is d sqrt at 4
    # (at 2 it would be 1/(2 sqrt 2)), so this uses x=[0, 4].
    (gc.sqrt, [0.0, 4.0], [0.0, 0.25]),
])
def test_where_does_not_stop_nan_gradients(fn, values, expected):
    x = gc.constant(values)
    with np.errstate(divide="ignore", invalid="ignore"), gc.GradientTape() as t:
        t.watch(x)
        y = gc.where(x > 0, fn(x), 0.0)
        grad = t.gradient(y, x)
    np.testing.assert_allclose(grad.numpy(), expected)  # TF: NaN leaks through where (NaN equals NaN here)


def test_pow_gradients_at_a_negative_base():
    x = gc.constant(-2.0)
    with np.errstate(invalid="ignore"), gc.GradientTape(persistent=True) as t:
        t.watch(x)
        y0 = x**0
        y_half = gc.pow(x, 0.5)
        g0, g_half = t.gradient(y0, x), t.gradient(y_half, x)
    assert g0.numpy() == 0.0 and np.signbit(g0.numpy())  # TF: -0.0, and NaN for x^0.5
    assert np.isnan(g_half.numpy())


def test_broadcasting_sums_gradients_back():
    b = gc.constant([1.0, 2.0])
    with gc.GradientTape() as t:
        t.watch(b)
        y = gc.reduce_sum(gc.ones([3, 2]) + b)
    close(t.gradient(y, b), [3.0, 3.0])  # TF sums over broadcast axes


@st.composite
def broadcastable_shapes(draw):
    """Two shapes that broadcast together: a full shape, and a suffix of it with some sizes set to 1."""
    full = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))
    suffix = full[len(full) - draw(st.integers(0, len(full))):]
    ones = draw(st.lists(st.booleans(), min_size=len(suffix), max_size=len(suffix)))
    return tuple(full), tuple(1 if one else n for n, one in zip(suffix, ones))


@settings(max_examples=25, deadline=None)
@given(broadcastable_shapes(), st.booleans())
def test_broadcast_gradients_sum_over_the_broadcast_axes(shapes, swap):
    full, small = shapes
    rng = np.random.default_rng(0)
    weights = rng.normal(size=full)
    x, y = gc.constant(np.ones(full)), gc.constant(np.ones(small))
    with gc.GradientTape() as t:
        t.watch([x, y])
        z = gc.reduce_sum((y + x if swap else x + y) * gc.constant(weights))  # TF sums over broadcast axes
    gx, gy = t.gradient(z, [x, y])
    assert gx.shape == full and gy.shape == small
    leading = weights.sum(axis=tuple(range(len(full) - len(small))))  # axes y lacks
    expected = leading.sum(axis=tuple(i for i, n in enumerate(small) if n == 1), keepdims=True)  # axes y has as 1
    close(gx, weights, dtype=gc.float64)
    close(gy, expected, dtype=gc.float64)


# ---- jacobian / batch_jacobian ----------------------------------------------------------------


def test_jacobian_of_a_vector():
    x = gc.constant([1.0, 2.0])
    with gc.GradientTape() as g:
        g.watch(x)
        y = x * x
    j = g.jacobian(y, x)
    assert j.shape == (2, 2)  # TF: target.shape + source.shape
    close(j, [[2.0, 0.0], [0.0, 4.0]])


@pytest.mark.parametrize("use_pfor", [True, False])
def test_jacobian_with_several_sources(use_pfor):
    x, y = gc.constant([1.0, 2.0]), gc.constant([3.0, 4.0])
    with gc.GradientTape(persistent=True) as g:
        g.watch([x, y])
        z = x * x * y
    jx, jy = g.jacobian(z, [x, y], experimental_use_pfor=use_pfor)
    close(jx, [[6.0, 0.0], [0.0, 16.0]])  # TF: the same with and without pfor
    close(jy, [[1.0, 0.0], [0.0, 4.0]])


def test_jacobian_for_a_scalar_source():
    delta = gc.constant(0.1)
    grid = np.linspace(-10.0, 10.0, 201)
    with gc.GradientTape() as g:
        g.watch(delta)
        y = gc.sigmoid(gc.constant(grid.astype(np.float32)) + delta)
    j = g.jacobian(y, delta)
    assert j.shape == (201,)  # TF: a scalar source adds no axes
    s = 1 / (1 + np.exp(-(grid + 0.1)))
    close(j, s * (1 - s))


def test_jacobian_shape_is_target_then_source():
    w = gc.Variable(np.ones((5, 10), np.float32))
    x = gc.constant(np.arange(35, dtype=np.float32).reshape(7, 5))
    with gc.GradientTape() as g:
        y = x @ w
    j = g.jacobian(y, w)
    assert j.shape == (7, 10, 5, 10)  # TF: target axes, then source axes
    expected = np.einsum("ij,kl->ikjl", x.numpy(), np.eye(10))  # d y[i,k] / d w[j,l] = x[i,j] [k == l]
    close(j, expected)


def test_jacobian_of_a_scalar_is_the_gradient():
    x = gc.constant([1.0, 2.0])
    with gc.GradientTape(persistent=True) as g:
        g.watch(x)
        y = gc.reduce_sum(x * x)
    close(g.jacobian(y, x), [2.0, 4.0])  # TF: equal to the gradient
    close(g.gradient(y, x), [2.0, 4.0])


def test_jacobian_without_pfor_needs_a_persistent_tape():
    x = gc.constant([1.0, 2.0])
    with gc.GradientTape() as g:
        g.watch(x)
        y = x * x
    with pytest.raises(RuntimeError, match="persistent=True to compute the jacobian with eager execution "
                                           "enabled and with  experimental_use_pfor set to False."):
        g.jacobian(y, x, experimental_use_pfor=False)  # TF's message (the double space is TF's)


def test_non_persistent_jacobian_inside_the_tape_context():
    x = gc.constant(3.0)
    with gc.GradientTape() as g:
        g.watch(x)
        z = x * x * x * x
        j = g.jacobian(z, x)
    close(j, 108.0)  # TF allows it once: 4x^3


def test_jacobian_of_an_unconnected_source():
    x, u = gc.constant([1.0, 2.0]), gc.constant(np.ones((3,), np.float32))
    with gc.GradientTape(persistent=True) as g:
        g.watch([x, u])
        y = x * x
    assert g.jacobian(y, u) is None  # TF: None, or zeros with 'zero'
    zeros = g.jacobian(y, u, unconnected_gradients="zero")
    assert zeros.shape == (2, 3) and zeros.dtype is gc.float32
    np.testing.assert_array_equal(zeros.numpy(), np.zeros((2, 3)))


def test_jacobian_unconnected_sources_of_other_shapes_and_dtypes():
    """TF's jacobian: a source the target does not reach gives None by default, and with
    unconnected_gradients='zero' zeros of shape target.shape + source.shape in the source's dtype;
    target elements that do not reach a connected source give zero rows."""
    x = gc.constant([1.0, 2.0], dtype=gc.float64)
    u = gc.constant(np.ones((3, 1), np.float32))
    v = gc.Variable(np.ones((4,)))
    with gc.GradientTape(persistent=True) as g:
        g.watch([x, u])
        y = gc.reshape(gc.concat([x * x, gc.constant([5.0, 6.0], dtype=gc.float64)], axis=0), [2, 2])
    default = g.jacobian(y, {"x": x, "u": u, "v": v})
    assert default["u"] is None and default["v"] is None
    close(default["x"], [[[2.0, 0.0], [0.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]]], gc.float64)
    zeros = g.jacobian(y, [u, v], unconnected_gradients="zero")
    for j, shape, dtype in zip(zeros, [(2, 2, 3, 1), (2, 2, 4)], [gc.float32, gc.float64]):
        assert j.shape == shape and j.dtype is dtype
        np.testing.assert_array_equal(j.numpy(), np.zeros(shape))


def test_batch_jacobian():
    x = gc.constant([[1.0, 2.0], [3.0, 4.0]])
    with gc.GradientTape() as g:
        g.watch(x)
        y = x * x
    j = g.batch_jacobian(y, x)
    assert j.shape == (2, 2, 2)  # TF: [b, y1..yn, x1..xm]
    close(j, [[[2.0, 0.0], [0.0, 4.0]], [[6.0, 0.0], [0.0, 8.0]]])


def test_batch_jacobian_and_jacobian_shapes():
    x = gc.constant(np.arange(35, dtype=np.float32).reshape(7, 5) / 10)
    c = np.arange(1, 7, dtype=np.float32)
    with gc.GradientTape(persistent=True) as g:
        g.watch(x)
        y = gc.reduce_sum(x * x, axis=1, keepdims=True) * gc.constant(c)  # [7, 6]
    batch = g.batch_jacobian(y, x)
    full = g.jacobian(y, x)
    assert batch.shape == (7, 6, 5)  # TF: [b, target axes, source axes]
    assert full.shape == (7, 6, 7, 5)
    expected = 2 * x.numpy()[:, None, :] * c[None, :, None]  # d y[b,k] / d x[b,j] = 2 x[b,j] c[k]
    close(batch, expected)
    close(full, np.einsum("bkj,bd->bkdj", expected, np.eye(7)))


def test_batch_jacobian_needs_matching_batch_dimensions():
    x = gc.constant(np.ones((2, 3), np.float32))
    with gc.GradientTape() as g:
        g.watch(x)
        y = gc.reduce_sum(x) * gc.ones([4, 3])
    with pytest.raises(ValueError, match=r"Need first dimension of target shape \(\(4, 3\)\) and source shape "
                                         r"\(\(2, 3\)\) to match."):
        g.batch_jacobian(y, x)  # TF's message


@pytest.mark.parametrize("source_rank_1", [True, False])
def test_batch_jacobian_needs_rank_two(source_rank_1):
    x = gc.constant([1.0, 2.0]) if source_rank_1 else gc.constant([[1.0, 2.0]])
    with gc.GradientTape() as g:
        g.watch(x)
        y = x * x if source_rank_1 else gc.reshape(x, [2])
    with pytest.raises(ValueError, match=r"Shape \(2,\) must have rank at least 2"):
        g.batch_jacobian(y, x)  # TF's message


def test_batch_jacobian_of_an_unconnected_target_is_zeros_of_the_target_dtype():
    x = gc.constant([[2.0]], dtype=gc.float64)
    with gc.GradientTape() as g:
        g.watch(x)
        y = gc.constant([[1.0]])
    j = g.batch_jacobian(y, x)
    assert j.dtype is gc.float32 and j.shape == (1, 1, 1)  # TF: zeros, never None
    np.testing.assert_array_equal(j.numpy(), [[[0.0]]])


def test_batch_jacobian_without_pfor_needs_a_persistent_tape():
    x = gc.constant([[1.0, 2.0]])
    with gc.GradientTape() as g:
        g.watch(x)
        y = x * x
    with pytest.raises(RuntimeError, match="persistent=True to compute the batch_jacobian with eager "
                                           "execution enabled and  with experimental_use_pfor set to False."):
        g.batch_jacobian(y, x, experimental_use_pfor=False)  # TF's message (its double space)


def test_parallel_iterations_does_not_change_results():
    x = gc.constant([[1.0, 2.0], [3.0, 4.0]])
    with gc.GradientTape(persistent=True) as g:
        g.watch(x)
        y = gc.sin(x) * x
    for method in ("jacobian", "batch_jacobian"):
        a = getattr(g, method)(y, x, parallel_iterations=2)
        b = getattr(g, method)(y, x, parallel_iterations=3)
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # TF: it only changes scheduling
