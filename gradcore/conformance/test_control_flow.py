"""gc.cond and gc.while_loop, as tf.cond and tf.while_loop behave in eager TensorFlow 2.

Expected values come from arithmetic (a loop squaring x three times computes x**8, so its
derivative is 8 x**7), never from the code under test.
"""

import collections

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

Pair = collections.namedtuple("Pair", "j, k")


def close(actual, expected, dtype=gc.float32):
    assert actual is not None, "expected a tensor, got None"
    assert_allclose(actual, np.asarray(expected, dtype=np.float64), dtype=dtype)


def equal(actual, expected, dtype):
    assert isinstance(actual, gc.Tensor), f"expected a Tensor, got {type(actual).__name__}"
    assert actual.dtype is dtype, (actual.dtype, dtype)
    np.testing.assert_array_equal(actual.numpy(), np.asarray(expected))


# ---- cond ------------------------------------------------------------------------------------


def test_cond_runs_the_true_branch_for_a_true_tensor():
    """TF's docstring: x=2, y=5, tf.cond(x < y, lambda: x * 7, lambda: y + 3) is 14."""
    x, y = gc.constant(2), gc.constant(5)
    equal(gc.cond(gc.less(x, y), lambda: x * 7, lambda: y + 3), 14, gc.int32)


def test_cond_runs_the_false_branch_for_a_false_tensor():
    """tf.cond returns false_fn() when pred is a false scalar bool tensor."""
    x, y = gc.constant(6), gc.constant(5)
    equal(gc.cond(x < y, lambda: x * 7, lambda: y + 3), 8, gc.int32)


def test_cond_takes_a_python_bool():
    """Eager tf.cond accepts a Python bool as pred and calls the matching branch."""
    assert gc.cond(True, lambda: "yes", lambda: "no") == "yes"
    assert gc.cond(False, lambda: "yes", lambda: "no") == "no"
    assert gc.cond(np.bool_(True), lambda: 1, lambda: 2) == 1


def test_cond_takes_a_bool_variable():
    """A scalar bool tf.Variable is read and used as the predicate."""
    flag = gc.Variable(False)
    assert gc.cond(flag, lambda: 1, lambda: 2) == 2
    flag.assign(True)
    assert gc.cond(flag, lambda: 1, lambda: 2) == 1


def test_cond_returns_the_branch_result_unchanged():
    """Eager tf.cond returns exactly what the chosen branch returns: nested dicts, tuples, lists
    and non-tensor values keep their types (strict mode: no singleton unpacking)."""
    a, b = gc.constant(1.0), gc.constant([2.0, 3.0])
    marker = object()
    out = gc.cond(a > 0, lambda: {"pair": (a, [b]), "n": 3, "obj": marker}, lambda: None)
    assert isinstance(out, dict) and set(out) == {"pair", "n", "obj"}
    assert isinstance(out["pair"], tuple) and isinstance(out["pair"][1], list)
    assert out["pair"][0] is a and out["pair"][1][0] is b
    assert out["n"] == 3 and out["obj"] is marker
    single = gc.cond(True, lambda: [a], lambda: [b])
    assert isinstance(single, list) and len(single) == 1 and single[0] is a
    pair = gc.cond(False, lambda: Pair(a, a), lambda: Pair(b, b))
    assert type(pair) is Pair and pair.j is b


def test_cond_runs_only_the_chosen_branch():
    """tf.cond in eager mode calls only the selected branch function; the other's ops never run."""
    calls = []

    def true_fn():
        calls.append("true")
        return gc.constant(1.0)

    def false_fn():
        calls.append("false")
        return gc.constant(0.0)

    gc.cond(gc.constant(True), true_fn, false_fn)
    gc.cond(gc.constant(False), true_fn, false_fn)
    gc.cond(True, true_fn, false_fn)
    assert calls == ["true", "false", "true"]


def test_cond_pred_must_be_a_scalar_bool():
    """tf.cond's pred is documented as a scalar boolean; gradcore refuses anything else,
    naming gc.cond (a shape-[2] bool, a float tensor, a Python int)."""
    with pytest.raises(gc.InvalidArgumentError, match="gc.cond.*scalar"):
        gc.cond(gc.constant([True, False]), lambda: 1, lambda: 2)
    with pytest.raises(gc.DTypeError, match="gc.cond.*bool"):
        gc.cond(gc.constant(1.0), lambda: 1, lambda: 2)
    with pytest.raises(gc.DTypeError, match="gc.cond"):
        gc.cond(1, lambda: 1, lambda: 2)
    with pytest.raises(TypeError, match="gc.cond"):
        gc.cond(None, lambda: 1, lambda: 2)


def test_cond_branches_must_be_callable():
    """tf.cond raises TypeError "'true_fn' must be callable." (and the same for false_fn), and a
    TypeError when a branch is missing."""
    with pytest.raises(TypeError, match="'true_fn' must be callable"):
        gc.cond(True, 1, lambda: 2)
    with pytest.raises(TypeError, match="'false_fn' must be callable"):
        gc.cond(True, lambda: 1, gc.constant(2))
    with pytest.raises(TypeError, match="true_fn"):
        gc.cond(True, false_fn=lambda: 2)
    with pytest.raises(TypeError, match="false_fn"):
        gc.cond(True, lambda: 1)


def piecewise(x):
    """x**3 where x > 0, else -x."""
    return gc.cond(x > 0, lambda: x * x * x, lambda: -x)


def test_cond_gradients_follow_the_chosen_branch_to_second_order():
    """A tape around eager tf.cond differentiates the ops of the branch that ran: d(x^3) = 3x^2,
    d2 = 6x at x = 2; d(-x) = -1 and no second derivative at x = -1.5 (nested tapes)."""
    for value, first, second in ((2.0, 12.0, 12.0), (-1.5, -1.0, None)):
        x = gc.constant(value)
        with gc.GradientTape() as outer:
            outer.watch(x)
            with gc.GradientTape() as inner:
                inner.watch(x)
                y = piecewise(x)
            dy = inner.gradient(y, x)
        close(dy, first)
        d2y = outer.gradient(dy, x)
        if second is None:
            assert d2y is None
        else:
            close(d2y, second)


def test_cond_gradient_reaches_variables_read_in_the_branch():
    """Variables read inside the chosen branch are watched and get gradients; those read only in
    the other branch do not."""
    v, w = gc.Variable(3.0), gc.Variable(5.0)
    x = gc.constant(2.0)
    with gc.GradientTape() as tape:
        y = gc.cond(x > 1, lambda: v * v * x, lambda: w * x)
    dv, dw = tape.gradient(y, [v, w])
    close(dv, 2 * 3.0 * 2.0)
    assert dw is None


# ---- while_loop ------------------------------------------------------------------------------


def test_while_loop_counts():
    """TF's docstring: i = tf.constant(0), cond i < 10, body (i + 1,), loop_vars [i]: the result
    has loop_vars' structure, a list of one int32 tensor 10."""
    i = gc.constant(0)
    r = gc.while_loop(lambda i: gc.less(i, 10), lambda i: (gc.add(i, 1),), [i])
    assert isinstance(r, list) and len(r) == 1
    equal(r[0], 10, gc.int32)


def test_while_loop_converts_python_numbers():
    """tf.while_loop(lambda i: i < 3, lambda i: i + 1, [0]) returns [<tf.Tensor 3 int32>]: Python
    numbers become tensors and a single value from body stands for a one-element list."""
    r = gc.while_loop(lambda i: i < 3, lambda i: i + 1, [0])
    assert isinstance(r, list) and len(r) == 1
    equal(r[0], 3, gc.int32)


def test_while_loop_with_zero_iterations_returns_the_inputs_converted():
    """When cond is false at once, body never runs and tf.while_loop returns loop_vars converted
    to tensors (Python int -> int32, float -> float32, a Variable read), structure kept."""
    v = gc.Variable([1.0, 2.0])

    def body(*args):
        raise AssertionError("body must not run")

    r = gc.while_loop(lambda i, x, w: i < 3, body, (5, 2.5, v))
    assert isinstance(r, tuple) and len(r) == 3
    equal(r[0], 5, gc.int32)
    equal(r[1], 2.5, gc.float32)
    equal(r[2], [1.0, 2.0], gc.float32)


def test_while_loop_stops_on_a_data_dependent_condition():
    """The trip count comes from the data: doubling acc from 3 while acc < 100 runs six times
    (3, 6, 12, 24, 48, 96 -> 192)."""
    i, acc = gc.while_loop(lambda i, acc: acc < 100.0, lambda i, acc: (i + 1, acc * 2.0), (0, gc.constant(3.0)))
    equal(i, 6, gc.int32)
    close(acc, 192.0)


def test_while_loop_maximum_iterations_caps_the_loop():
    """maximum_iterations ANDs an iteration bound with cond: an always-true cond stops after it;
    a cond that ends sooner still ends sooner; a scalar int tensor is accepted."""
    counts = []

    def body(i):
        counts.append(1)
        return i + 1

    r = gc.while_loop(lambda i: True, body, [0], maximum_iterations=4)
    equal(r[0], 4, gc.int32)
    assert len(counts) == 4
    r = gc.while_loop(lambda i: i < 2, lambda i: i + 1, [0], maximum_iterations=10)
    equal(r[0], 2, gc.int32)
    r = gc.while_loop(lambda i: i < 100, lambda i: i + 1, [0], maximum_iterations=gc.constant(7))
    equal(r[0], 7, gc.int32)
    r = gc.while_loop(lambda i: i < 100, lambda i: i + 1, [0], maximum_iterations=np.int64(2))
    equal(r[0], 2, gc.int32)


def test_while_loop_maximum_iterations_zero_or_negative_runs_nothing():
    """TensorFlow compares the iteration counter (0) with maximum_iterations before each
    iteration, so 0 or a negative bound runs no iteration and returns loop_vars converted."""
    for bound in (0, -3):
        r = gc.while_loop(lambda i: True, lambda i: i + 1, [5], maximum_iterations=bound)
        equal(r[0], 5, gc.int32)


def test_while_loop_maximum_iterations_must_be_a_scalar_integer():
    """tf.while_loop raises ValueError when maximum_iterations is not a scalar; gradcore also
    wants an integer (not a float or a bool), naming gc.while_loop."""
    with pytest.raises(gc.InvalidArgumentError, match="gc.while_loop.*scalar"):
        gc.while_loop(lambda i: i < 3, lambda i: i + 1, [0], maximum_iterations=gc.constant([1, 2]))
    with pytest.raises(gc.DTypeError, match="gc.while_loop.*integer"):
        gc.while_loop(lambda i: i < 3, lambda i: i + 1, [0], maximum_iterations=gc.constant(2.0))
    with pytest.raises(gc.DTypeError, match="gc.while_loop.*integer"):
        gc.while_loop(lambda i: i < 3, lambda i: i + 1, [0], maximum_iterations=True)


def test_while_loop_with_a_namedtuple():
    """TF's docstring: ijk_0 = (0, Pair(1, 2)), body (i + 1, Pair(j + k, j - k)), ten times, gives
    Pair(32, 64)."""
    ijk_0 = (gc.constant(0), Pair(gc.constant(1), gc.constant(2)))
    i, p = gc.while_loop(lambda i, p: i < 10, lambda i, p: (i + 1, Pair(p.j + p.k, p.j - p.k)), ijk_0)
    assert type(p) is Pair
    equal(i, 10, gc.int32)
    equal(p.j, 32, gc.int32)
    equal(p.k, 64, gc.int32)


def test_while_loop_with_a_tensor_and_a_dict():
    """Nested loop_vars (a tensor and a dict holding a list) go to body as they were given and
    come back in the same structure: a doubles 1 -> 8 in three steps, b sums 1 + 2 + 4."""
    state = (gc.constant(0), {"a": gc.constant(1.0), "b": [gc.constant(0.0)]})
    seen = []

    def body(i, d):
        seen.append((type(d), type(d["b"])))
        return i + 1, {"b": [d["b"][0] + d["a"]], "a": d["a"] * 2.0}

    i, d = gc.while_loop(lambda i, d: i < 3, body, state)
    assert seen == [(dict, list)] * 3
    equal(i, 3, gc.int32)
    assert isinstance(d, dict) and set(d) == {"a", "b"} and isinstance(d["b"], list)
    close(d["a"], 8.0)
    close(d["b"][0], 7.0)


def test_while_loop_lists_and_tuples_are_the_same_sequence():
    """TensorFlow treats a body returning a tuple for list loop_vars (and the reverse, nested too)
    as the same structure; the result keeps loop_vars' types."""
    r = gc.while_loop(lambda i, xs: i < 2, lambda i, xs: [i + 1, (xs[0] + 1.0,)], [0, [gc.constant(0.0)]])
    assert isinstance(r, list) and isinstance(r[1], list)
    equal(r[0], 2, gc.int32)
    close(r[1][0], 2.0)


def test_while_loop_single_tensor_loop_var():
    """A single tensor as loop_vars is passed as the only argument and a tensor comes back:
    [1, 2] doubles while its sum is under 10, to [4, 8]."""
    x = gc.constant([1.0, 2.0])
    r = gc.while_loop(lambda x: gc.reduce_sum(x) < 10.0, lambda x: x * 2.0, x)
    assert isinstance(r, gc.Tensor)
    close(r, [4.0, 8.0])


def test_while_loop_structure_mismatch():
    """tf.while_loop raises ValueError ("The two structures don't have the same nested
    structure") when body's result does not nest like loop_vars."""
    with pytest.raises(ValueError, match="gc.while_loop.*same nested structure"):
        gc.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x, x), (0, gc.constant(1.0)))
    with pytest.raises(ValueError, match="gc.while_loop.*same nested structure"):
        gc.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, [x]), (0, gc.constant(1.0)))
    with pytest.raises(ValueError, match="gc.while_loop.*same nested structure"):
        gc.while_loop(lambda i, d: i < 3, lambda i, d: (i + 1, {"z": d["a"]}), (0, {"a": gc.constant(1.0)}))
    with pytest.raises(ValueError, match="gc.while_loop.*same nested structure"):
        gc.while_loop(lambda x: x < 3, lambda x: (x + 1,), gc.constant(0))


def test_while_loop_argument_errors():
    """tf.while_loop: TypeError "'cond' must be callable." / "'body' must be callable.",
    ValueError for empty loop_vars, TypeError for parallel_iterations < 1."""
    with pytest.raises(TypeError, match="'cond' must be callable"):
        gc.while_loop(True, lambda i: i + 1, [0])
    with pytest.raises(TypeError, match="'body' must be callable"):
        gc.while_loop(lambda i: i < 3, 1, [0])
    with pytest.raises(ValueError, match="loop_vars"):
        gc.while_loop(lambda: True, lambda: (), [])
    with pytest.raises(TypeError, match="parallel_iterations"):
        gc.while_loop(lambda i: i < 3, lambda i: i + 1, [0], parallel_iterations=0)


def test_while_loop_cond_must_return_a_scalar_bool():
    """cond must return a boolean scalar; a float or a shape-[2] bool is refused, naming
    gc.while_loop."""
    with pytest.raises(gc.DTypeError, match="gc.while_loop"):
        gc.while_loop(lambda x: x, lambda x: x - 1.0, [gc.constant(2.0)])
    with pytest.raises(gc.InvalidArgumentError, match="gc.while_loop.*scalar"):
        gc.while_loop(lambda x: x > 0.0, lambda x: x - 1.0, [gc.constant([2.0, 1.0])])


def test_while_loop_shapes_may_change_eagerly():
    """Eager tf.while_loop runs a Python loop and checks no shape invariant: m doubles its rows
    each iteration ([2, 2] -> [16, 2] after three), shape_invariants given or not."""
    for invariants in (None, [(), (None, 2)]):
        i, m = gc.while_loop(
            lambda i, m: i < 3,
            lambda i, m: [i + 1, gc.concat([m, m], axis=0)],
            [gc.constant(0), gc.ones([2, 2])],
            shape_invariants=invariants,
        )
        equal(i, 3, gc.int32)
        assert m.shape == (16, 2)
        close(m, np.ones((16, 2)))


def test_while_loop_python_numbers_from_body_keep_the_loop_dtype():
    """A Python number returned by body is weakly typed: it takes the dtype of the float64 loop
    variable it replaces."""
    (x,) = gc.while_loop(lambda x: x < 1.0, lambda x: 5.0, [gc.constant(0.0, dtype=gc.float64)])
    equal(x, 5.0, gc.float64)


def squaring_loop(x):
    """x squared three times: x**8."""
    return gc.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * x), (0, x))[1]


def test_while_loop_gradients_to_second_order():
    """A tape around eager tf.while_loop differentiates every iteration's ops: x**8 at x = 2 has
    derivative 8 x**7 = 1024 and second derivative 56 x**6 = 3584 (nested tapes)."""
    x = gc.constant(2.0)
    with gc.GradientTape() as outer:
        outer.watch(x)
        with gc.GradientTape() as inner:
            inner.watch(x)
            y = squaring_loop(x)
        dy = inner.gradient(y, x)
    close(y, 256.0)
    close(dy, 1024.0)
    close(outer.gradient(dy, x), 3584.0)


def test_control_flow_gradients_on_a_persistent_tape():
    """A persistent tape can differentiate several results of control flow: the loop (x**8) and a
    cond (x**3 at x > 0) at x = 1.5, each as many times as asked."""
    x = gc.constant(1.5)
    with gc.GradientTape(persistent=True) as tape:
        tape.watch(x)
        loop = squaring_loop(x)
        branch = piecewise(x)
    close(tape.gradient(loop, x), 8 * 1.5**7)
    close(tape.gradient(branch, x), 3 * 1.5**2)
    close(tape.gradient(loop, x), 8 * 1.5**7)


def test_while_loop_gradient_with_a_data_dependent_trip_count():
    """Squaring x while x < 100 runs a number of times that depends on x: 3 iterations from 3
    (3 -> 9 -> 81 -> 6561 = x**8, derivative 8 x**7), 4 from 1.5 (x**16, derivative 16 x**15)."""
    for value, power in ((3.0, 8), (1.5, 16)):
        x = gc.constant(value)
        with gc.GradientTape() as tape:
            tape.watch(x)
            y = gc.while_loop(lambda x: x < 100.0, lambda x: x * x, [x])[0]
        close(y, value**power)
        close(tape.gradient(y, x), power * value ** (power - 1))


def test_gradient_through_a_cond_inside_a_while_loop():
    """tf.cond inside a tf.while_loop body, tape outside (as inside a tf.function): while
    acc < 100, even steps add v and odd steps multiply by v. From acc = 1, v = 4: 5, 20, 24, 96,
    100, five steps, so acc = ((1 + v) v + v) v + v = v^3 + 2 v^2 + v and d/dv = 3 v^2 + 4 v + 1 = 65."""
    v = gc.Variable(4.0)

    def body(i, acc):
        return i + 1, gc.cond(i % 2 == 0, lambda: acc + v, lambda: acc * v)

    with gc.GradientTape() as tape:
        i, acc = gc.while_loop(lambda i, acc: acc < 100.0, body, (0, gc.constant(1.0)))
    equal(i, 5, gc.int32)
    close(acc, 100.0)
    close(tape.gradient(acc, v), 3 * 16 + 4 * 4 + 1)


def test_while_loop_back_prop_false_stops_gradients():
    """back_prop=False (deprecated in TF for tf.stop_gradient on the results) leaves the results
    unconnected: the gradient is None."""
    x = gc.constant(2.0)
    with gc.GradientTape() as tape:
        tape.watch(x)
        (y,) = gc.while_loop(lambda x: x < 10.0, lambda x: x * x, [x], back_prop=False)
    close(y, 16.0)
    assert tape.gradient(y, x) is None
