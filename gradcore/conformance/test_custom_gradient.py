"""gc.custom_gradient, as tf.custom_gradient behaves in eager TensorFlow (its docstring examples included)."""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose


def close(actual, expected, dtype=gc.float32):
    assert actual is not None, "expected a gradient, got None"
    assert_allclose(actual, np.asarray(expected, dtype=np.float64), dtype=dtype)


def grad_of(fn, *xs):
    """The gradient of fn(*xs) (summed) with respect to each x, on a fresh tape."""
    with gc.GradientTape() as t:
        t.watch(list(xs))
        y = fn(*xs)
    return t.gradient(y, list(xs))


def test_custom_gradient_fixes_an_unstable_gradient():
    @gc.custom_gradient
    def log1pexp(x):
        e = gc.exp(x)

        def grad(upstream):
            return upstream * (1 - 1 / (1 + e))

        return gc.math.log(1 + e), grad

    x = gc.constant(100.0)
    with np.errstate(over="ignore", invalid="ignore"):
        (plain,) = grad_of(lambda v: gc.math.log(1 + gc.exp(v)), x)
        (custom,) = grad_of(log1pexp, x)
        value = log1pexp(x)
    assert np.isnan(plain.numpy())  # TF: inf * 0 in the plain chain rule
    close(custom, 1.0)
    assert np.isinf(value.numpy())


def test_two_inputs():
    @gc.custom_gradient
    def bar(x, y):
        def grad(upstream):
            return upstream * y, upstream * x

        return x * y, grad

    x, y = gc.constant(2.0), gc.constant(3.0)
    close(bar(x, y), 6.0)  # TF's docstring example
    dx, dy = grad_of(bar, x, y)
    close(dx, 3.0)
    close(dy, 2.0)


def test_grad_fn_receives_the_upstream_gradient():
    received = []

    @gc.custom_gradient
    def f(x):
        def grad(dy):
            received.append(dy.numpy())
            return dy * 2

        return gc.identity(x), grad

    x = gc.constant([1.0, 1.0])
    (g,) = grad_of(lambda v: gc.reduce_sum(f(v) * [3.0, 5.0]), x)
    np.testing.assert_array_equal(received, [[3.0, 5.0]])  # TF: grad_fn gets the upstream dy
    close(g, [6.0, 10.0])


def test_variables_read_inside_get_gradients_from_grad_fn():
    weights = gc.Variable(gc.ones([2]))
    seen = []

    @gc.custom_gradient
    def linear_poly(x):  # TensorFlow's docstring example, word for word
        poly = weights[1] * x + weights[0]

        def grad_fn(dpoly, variables):
            seen.append(variables)
            grad_xs = dpoly * weights[1]
            # stack([x**1, x**0]) puts d/dw1 first: grad_fn's answer is used as given, so [6, 3].
            dy_dw = dpoly * gc.stack([x**1, x**0])
            return grad_xs, [gc.reduce_sum(gc.reshape(dy_dw, [2, -1]), axis=1)]

        return poly, grad_fn

    x = gc.constant([1.0, 2.0, 3.0])
    with gc.GradientTape(persistent=True) as tape:
        tape.watch(x)
        poly = linear_poly(x)
    close(poly, [2.0, 3.0, 4.0])  # TF's values
    close(tape.gradient(poly, x), [1.0, 1.0, 1.0])
    close(tape.gradient(poly, weights), [6.0, 3.0])
    assert len(seen[0]) == 1 and seen[0][0] is weights


def test_grad_fn_without_variables_parameter_fails_at_call_time():
    v = gc.Variable(2.0)

    @gc.custom_gradient
    def f(x):
        return x * v, lambda dy: dy * v

    with pytest.raises(TypeError, match="grad_fn must accept keyword argument 'variables', since function uses"):
        f(gc.constant(1.0))  # TF: even with no tape active


def test_wrong_number_of_input_gradients():
    @gc.custom_gradient
    def f(x):
        return x * 2, lambda dy: []

    x = gc.constant(1.0)
    with gc.GradientTape() as t:
        t.watch(x)
        y = f(x)  # no error yet: the check happens at gradient() time
    with pytest.raises(ValueError, match="custom_gradient function expected to return 1 gradients, but returned 0"):
        t.gradient(y, x)  # TF's ValueError


def test_missing_variable_gradients():
    v = gc.Variable(2.0)

    @gc.custom_gradient
    def f(x):
        return x * v, lambda dy, variables: (dy * v, [])

    x = gc.constant(1.0)
    with gc.GradientTape() as t:
        t.watch(x)
        y = f(x)
    with pytest.raises(ValueError, match="Must return gradient for each variable from @custom_gradient grad_fn."):
        t.gradient(y, x)  # TF's ValueError


def test_variable_argument_is_an_input_not_a_captured_variable():
    received = []

    @gc.custom_gradient
    def f(w):
        def grad(dy, variables=None):
            received.append(variables)
            return dy * 7.0

        return w * 2, grad

    w = gc.Variable(3.0)
    with gc.GradientTape() as t:
        y = f(w)
    close(t.gradient(y, w), 7.0)  # TF: grad_fn gets variables=None
    assert received == [None]


def test_none_input_gradient():
    @gc.custom_gradient
    def f(x, y):
        return x * y, lambda dy: (dy * y, None)

    x, y = gc.constant(2.0), gc.constant(3.0)
    dx, dy = grad_of(f, x, y)
    close(dx, 3.0)
    assert dy is None  # TF: a None from grad_fn stays None


def test_multiple_outputs():
    received = []

    @gc.custom_gradient
    def f(x):
        def grad(da, db):
            received.append((da.numpy(), db.numpy()))
            return da * 10 + db * 100

        return (x * 1, x * 2), grad

    x = gc.constant(1.0)
    (both,) = grad_of(lambda v: gc.add(*f(v)), x)
    close(both, 110.0)  # TF: one dy per output
    (first_only,) = grad_of(lambda v: f(v)[0], x)
    close(first_only, 10.0)
    assert received[-1] == (1.0, 0.0)  # the unused output's gradient is zeros, not None


def test_keyword_arguments_are_allowed_but_get_no_gradient():
    @gc.custom_gradient
    def f(x, scale=1.0):
        return x * scale, lambda dy: dy * scale

    x = gc.constant(1.0)
    (g,) = grad_of(lambda v: f(v, scale=3.0), x)
    close(g, 3.0)  # TF: keyword arguments are allowed in eager


def test_second_order_through_a_custom_gradient():
    @gc.custom_gradient
    def cube(x):
        return x * x * x, lambda dy: dy * 3 * x * x

    x = gc.constant(2.0)
    with gc.GradientTape() as outer:
        outer.watch(x)
        with gc.GradientTape() as inner:
            inner.watch(x)
            y = cube(x)
        first = inner.gradient(y, x)
    close(first, 12.0)  # TF: the outer tape records grad_fn's ops, d(3x^2) = 6x
    close(outer.gradient(first, x), 12.0)


def test_gradient_clipping_identity():
    @gc.custom_gradient
    def clip_gradients(y):
        def backward(dy):
            return dy * 0.5 / gc.maximum(gc.abs(dy), 0.5)  # clip_by_norm(dy, 0.5) for a scalar

        return y, backward

    v = gc.Variable(2.0)
    with gc.GradientTape() as t:
        output = clip_gradients(v * v)
    close(t.gradient(output, v), 2.0)  # TF's guide: 0.5 * 2v


def test_several_variables_are_matched_by_identity():
    a, b = gc.Variable(2.0), gc.Variable(5.0)

    @gc.custom_gradient
    def f(x):
        def grad(dy, variables):
            # TF: the order of `variables` is unspecified, so match by identity.
            assert {id(v) for v in variables} == {id(a), id(b)}
            return dy, [dy * 10.0 if v is a else dy * 100.0 for v in variables]

        return x + a * b, grad

    x = gc.constant(1.0)
    with gc.GradientTape() as t:
        t.watch(x)
        y = f(x)
    dx, da, db = t.gradient(y, [x, a, b])
    close(dx, 1.0)
    close(da, 10.0)
    close(db, 100.0)


def test_forward_runs_with_tapes_paused():
    @gc.custom_gradient
    def f(x):
        return gc.sin(x), lambda dy: dy * 0.0 + 42.0

    x = gc.constant(0.5)
    (g,) = grad_of(f, x)
    close(g, 42.0)  # only grad_fn decides: sin's own rule is never used
