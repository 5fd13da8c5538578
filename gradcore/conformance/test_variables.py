"""gc.Variable as tf.Variable behaves: dtype inference, assign and its checks, and how tapes see
variables through their reads (ReadVariableOp).

Left out: ``synchronization=ON_READ`` (which makes TF's variables non-trainable by default):
gc.Variable takes no synchronization argument until gc.distribute needs one.
"""

import inspect

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose


def close(actual, expected, dtype=gc.float32):
    assert actual is not None, "expected a gradient, got None"
    assert_allclose(actual, np.asarray(expected, dtype=np.float64), dtype=dtype)


# ---- construction --------------------------------------------------------------------------


@pytest.mark.parametrize("initial, dtype", [
    (1, gc.int32),
    (1.0, gc.float32),
    (np.float64(1), gc.float64),
    ([1, 2.0], gc.float32),
    (True, gc.bool),
])
def test_dtype_inference_and_trainable_default(initial, dtype):
    v = gc.Variable(initial)
    assert v.dtype is dtype  # TF's inference: int32, float32, NumPy's own
    assert v.trainable is True  # for every dtype, bool included


def test_explicit_dtype_name_shape_and_trainable():
    v = gc.Variable(1.0, dtype=gc.float64, name="w", trainable=False)
    assert v.dtype is gc.float64 and v.name == "w:0" and v.trainable is False
    assert gc.Variable([[1.0, 2.0]]).shape == (1, 2)
    assert gc.Variable(0.0).name == "Variable:0"
    assert gc.Variable(lambda: gc.ones([2])).shape == (2,)  # a callable initial value is called


def test_bad_construction():
    with pytest.raises(ValueError, match="initial_value must be given"):
        gc.Variable()
    with pytest.raises(gc.ShapeError, match=r"initial value has shape \(2,\), not the given shape \(3,\)"):
        gc.Variable([1.0, 2.0], shape=[3])


def test_variable_from_a_numpy_array_does_not_alias_it():
    # docs/architecture.md section 8: nothing holds a Variable's array behind its back (tf.Variable copies too).
    array = np.ones(2, np.float32)
    v = gc.Variable(array)
    array[0] = 5.0
    np.testing.assert_array_equal(v.numpy(), [1.0, 1.0])
    v.numpy()[1] = 7.0  # numpy() is a copy, as TensorFlow's
    np.testing.assert_array_equal(v.numpy(), [1.0, 1.0])
    update = np.zeros(2, np.float32)
    v.assign(update)
    update[0] = 3.0
    np.testing.assert_array_equal(v.numpy(), [0.0, 0.0])


def test_tensors_do_not_alias_numpy_arrays():
    array = np.ones(2, np.float32)
    t = gc.constant(array)
    array[0] = 5.0
    t.numpy()[1] = 7.0
    np.testing.assert_array_equal(t.numpy(), [1.0, 1.0])  # tensors are immutable


# ---- assign --------------------------------------------------------------------------------


def test_assign_of_another_shape_is_refused():
    v = gc.Variable([1.0, 2.0])
    with pytest.raises(ValueError, match=r"variable shape \(2,\).*assigned value shape \(3,\) are incompatible"):
        v.assign([1.0, 2.0, 3.0])  # TF: a ValueError, shape mismatch
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def test_assign_of_another_dtype_is_refused_but_python_ints_fit():
    v = gc.Variable([1.0, 2.0])
    with pytest.raises(ValueError, match="dtype float32 but the value has dtype int32"):
        v.assign(gc.constant([1, 2]))  # TF: a ValueError (here a DTypeError, which is one)
    v.assign([3, 4])
    assert v.dtype is gc.float32
    np.testing.assert_array_equal(v.numpy(), [3.0, 4.0])


def test_assign_results_read_the_current_value():
    v = gc.Variable(1.0)
    a = v.assign_add(0.5)
    np.testing.assert_array_equal(gc.identity(a).numpy(), 1.5)
    b = v.assign_sub(2.0)
    c = v.assign(7.0, read_value=False)
    assert c is None  # TF: read_value=False returns None in eager
    for view in (a, b):
        np.testing.assert_array_equal((view * 1.0).numpy(), 7.0)  # both read the current value


def test_arithmetic_on_variables_gives_tensors():
    v = gc.Variable(2.0)
    for result in (v + 1.0, v * v):
        assert type(result) is gc.Tensor  # TF: a Tensor, not a Variable


@pytest.mark.parametrize("method, first", [("assign", "value"), ("assign_add", "delta"), ("assign_sub", "delta")])
def test_assign_signatures(method, first):
    parameters = inspect.signature(getattr(gc.Variable, method)).parameters
    assert list(parameters) == ["self", first, "use_locking", "name", "read_value"]  # TF's signature
    assert parameters["read_value"].default is True and parameters["use_locking"].default is False


def test_reads_taken_before_an_assign_keep_their_value():
    v = gc.Variable([1.0, 2.0])
    before = v.read_value()
    v.assign([5.0, 6.0])
    np.testing.assert_array_equal(before.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(v.read_value().numpy(), [5.0, 6.0])


# ---- ReadVariableOp: reads are what tapes record ----------------------------------------------


def test_variable_replaced_by_a_tensor_is_no_longer_watched():
    x = gc.Variable(2.0)
    grads = []
    for _ in range(2):
        with gc.GradientTape() as tape:
            y = x + 1
        grads.append(tape.gradient(y, x))
        x = x + 1  # should be x.assign_add(1): x is now a Tensor, which tapes do not watch
    close(grads[0], 1.0)  # TF: the Variable is watched, the Tensor is not
    assert grads[1] is None


def test_assign_add_is_not_differentiable():
    x0, x1 = gc.Variable(3.0), gc.Variable(0.0)
    with gc.GradientTape() as tape:
        x1.assign_add(x0)
        y = x1**2
    d0, d1 = tape.gradient(y, [x0, x1])
    assert d0 is None  # TF: assign_add is not differentiable
    close(d1, 6.0)  # the read after the assign starts a new path


def test_assign_from_a_watched_tensor_is_not_differentiable():
    x = gc.constant(2.0)
    v = gc.Variable(0.0)
    with gc.GradientTape() as tape:
        tape.watch(x)
        v.assign(x * 3.0)
        y = v * 1.0
    assert tape.gradient(y, x) is None  # TF: nothing flows through assign


def test_the_read_after_an_assign_is_recorded():
    v = gc.Variable(1.0)
    with gc.GradientTape() as tape:
        v.assign(5.0)
        y = v * v
    close(tape.gradient(y, v), 10.0)  # TF: the read after assign is recorded


def test_reads_before_and_after_an_assign_both_reach_the_variable():
    v = gc.Variable(2.0)
    with gc.GradientTape() as tape:
        a = v * v  # read while v == 2
        v.assign(5.0)
        b = v * v  # read while v == 5
        total = a + b
    close(tape.gradient(total, v), 2 * 2.0 + 2 * 5.0)  # each read keeps its own value


def test_read_variable_gradient_is_the_identity_with_higher_orders():
    v = gc.Variable([1.0, 2.0])
    with gc.GradientTape() as outer:
        with gc.GradientTape() as inner:
            y = gc.reduce_sum(v.read_value() ** 3)
        g = inner.gradient(y, v)
    close(g, [3.0, 12.0])  # 3 v^2
    close(outer.gradient(g, v), [6.0, 12.0])  # 6 v


def test_non_trainable_variable_reads_are_not_recorded_unless_watched():
    v = gc.Variable(2.0, trainable=False)
    with gc.GradientTape(persistent=True) as tape:
        y = v * v
        tape.watch(v)
        z = v * v
    assert tape.gradient(y, v) is None
    close(tape.gradient(z, v), 4.0)
    assert tape.watched_variables() == (v,)
