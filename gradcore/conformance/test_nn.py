"""gc.nn beyond the op cases: error paths, gradients at exact points, extreme logits, gelu's two forms.

Expected values come from TensorFlow's observed behaviour, its gradient kernels (quoted where used)
and closed-form derivatives evaluated in float64 NumPy/SciPy, never from gradcore itself.
"""

import math
import re

import numpy as np
import pytest
from scipy import special

import gradcore as gc
from gradcore.testing import assert_allclose

SPARSE = gc.nn.sparse_softmax_cross_entropy_with_logits
DENSE = gc.nn.softmax_cross_entropy_with_logits
SIGMOID = gc.nn.sigmoid_cross_entropy_with_logits


def gradient(fn, *inputs):
    """The gradients of sum(fn(*inputs)) with respect to every input."""
    with gc.GradientTape() as tape:
        tape.watch(list(inputs))
        y = gc.reduce_sum(fn(*inputs))
    return tape.gradient(y, list(inputs))


def f32(values):
    return gc.constant(np.asarray(values, np.float32))


def f64(values):
    return gc.constant(np.asarray(values, np.float64))


# ---- errors: the same class on every backend, naming the op and what is wrong ----------------


@pytest.mark.parametrize("op, api", [
    (DENSE, "gc.nn.softmax_cross_entropy_with_logits"),
    (SIGMOID, "gc.nn.sigmoid_cross_entropy_with_logits"),
])
def test_dense_cross_entropies_need_labels_shaped_like_logits(op, api):
    message = f"{api}: labels of shape (2, 3) and logits of shape (2, 4)"
    with pytest.raises(gc.ShapeError, match=re.escape(message)):
        op(labels=f32(np.zeros((2, 3))), logits=f32(np.zeros((2, 4))))


@pytest.mark.parametrize("labels, logits", [
    (np.zeros(3, np.int32), np.zeros((4, 5))),  # one label per row, but 3 labels for 4 rows
    (np.zeros((4, 5), np.int32), np.zeros((4, 5))),  # labels shaped like the logits, as a dense one would be
    (np.zeros((), np.int32), np.zeros(())),  # scalar logits have no class axis
])
def test_sparse_cross_entropy_needs_labels_shaped_like_logits_without_classes(labels, logits):
    message = f"gc.nn.sparse_softmax_cross_entropy_with_logits: labels of shape {labels.shape} do not fit " \
              f"logits of shape {logits.shape}"
    with pytest.raises(gc.ShapeError, match=re.escape(message)):
        SPARSE(labels=gc.constant(labels), logits=f32(logits))


def int_logits():
    return gc.constant(np.zeros((2, 3), np.int32))


@pytest.mark.parametrize("call, api", [
    (lambda: SPARSE(labels=gc.constant([0, 1]), logits=int_logits()), "gc.nn.sparse_softmax_cross_entropy_with_logits"),
    (lambda: DENSE(labels=int_logits(), logits=int_logits()), "gc.nn.softmax_cross_entropy_with_logits"),
    (lambda: SIGMOID(labels=int_logits(), logits=int_logits()), "gc.nn.sigmoid_cross_entropy_with_logits"),
    (lambda: gc.nn.softmax(int_logits()), "gc.nn.softmax"),
    (lambda: gc.nn.log_softmax(int_logits()), "gc.nn.log_softmax"),
])
def test_integer_logits_are_a_dtype_error(call, api):
    with pytest.raises(gc.DTypeError, match=re.escape(f"{api}: expected a floating-point tensor, got dtype int32")):
        call()


def test_sparse_labels_must_be_integers():
    with pytest.raises(gc.DTypeError, match="labels must be integer class indices, got dtype float32"):
        SPARSE(labels=f32([0.0, 1.0]), logits=f32(np.zeros((2, 3))))


@pytest.mark.parametrize("labels, bad, position", [
    ([0, 3, 1], 3, (1,)),  # == num_classes: one past the last class
    ([[0, 1], [2, -1]], -1, (1, 1)),  # negative: TF's CPU kernel rejects it too, no wrap-around
])
def test_sparse_labels_out_of_range_are_an_invalid_argument(labels, bad, position):
    labels = np.asarray(labels, np.int64)
    logits = f32(np.zeros(labels.shape + (3,)))
    message = f"label {bad} at position {position} is out of range: logits have 3 classes"
    with pytest.raises(gc.InvalidArgumentError, match=re.escape(message)):
        SPARSE(labels=gc.constant(labels), logits=logits)


@pytest.mark.parametrize("op", [gc.nn.softmax, gc.nn.log_softmax])
def test_softmax_axis_out_of_range(op):
    with pytest.raises(gc.InvalidArgumentError, match=f"gc.nn.{op.__name__}: axis 3 is out of range .* rank 3"):
        op(f32(np.zeros((2, 3, 4))), axis=3)


# ---- gradients at exact points ------------------------------------------------------------


def test_relu_gradient_at_zero_is_zero():  # TF: relu'(0) = 0
    x = f32([-1.5, 0.0, 2.0])
    (dx,) = gradient(gc.nn.relu, x)
    np.testing.assert_array_equal(dx.numpy(), [0.0, 0.0, 1.0])


def test_leaky_relu_slope_is_alpha_below_zero_and_at_zero():
    # TF's LeakyReluGrad: gradients * (features > 0 ? 1 : alpha), so the slope at 0 is alpha.
    x = f32([-3.0, -0.5, 0.0, 0.5, 4.0])
    (dx,) = gradient(lambda t: gc.nn.leaky_relu(t, alpha=0.1), x)
    assert_allclose(dx, [0.1, 0.1, 0.1, 1.0, 1.0])


def test_elu_gradient():
    # TF's EluGrad: gradients * (y < 0 ? y + 1 : 1) with y = elu(x). At x = 0, y = 0 is not < 0,
    # so elu'(0) = 1; both one-sided derivatives agree (e^0 = 1 from the left, 1 from the right).
    # Below 0, y + 1 = e^x.
    x = f64([-2.0, -0.5, 0.0, 0.5, 3.0])
    (dx,) = gradient(gc.nn.elu, x)
    assert_allclose(dx, [math.exp(-2.0), math.exp(-0.5), 1.0, 1.0, 1.0])


def test_sigmoid_cross_entropy_gradients_at_zero_logits():
    # d/dx [softplus(x) - x z] = sigmoid(x) - z, which is 0.5 - z at x = 0; d/dz = -x = 0 there.
    z = f32([0.0, 0.25, 1.0])
    x = f32([0.0, 0.0, 0.0])
    dz, dx = gradient(lambda labels, logits: SIGMOID(labels=labels, logits=logits), z, x)
    assert_allclose(dx, [0.5, 0.25, -0.5])
    assert_allclose(dz, [0.0, 0.0, 0.0])


# ---- softmax and log_softmax along an axis other than the last ----------------------------

X234 = np.random.default_rng(7).normal(size=(2, 3, 4))
W234 = np.random.default_rng(8).normal(size=(2, 3, 4))


def softmax_vjp(x, w, axis):
    """The VJP of softmax with weights w: p * (w - sum(w * p, axis)), p = softmax(x)."""
    p = special.softmax(x, axis=axis)
    return p * (w - np.sum(w * p, axis=axis, keepdims=True))


def log_softmax_vjp(x, w, axis):
    """The VJP of log_softmax with weights w: w - softmax(x) * sum(w, axis)."""
    return w - special.softmax(x, axis=axis) * np.sum(w, axis=axis, keepdims=True)


@pytest.mark.parametrize("op, reference, vjp", [
    (gc.nn.softmax, special.softmax, softmax_vjp),
    (gc.nn.log_softmax, special.log_softmax, log_softmax_vjp),
])
@pytest.mark.parametrize("axis", [0, 1, -2])
def test_softmax_along_a_first_or_middle_axis(op, reference, vjp, axis):
    x = f64(X234)
    with gc.GradientTape() as tape:
        tape.watch(x)
        y = op(x, axis=axis)
        weighted = gc.reduce_sum(y * f64(W234))
    assert_allclose(y, reference(X234, axis=axis))
    assert_allclose(tape.gradient(weighted, x), vjp(X234, W234, axis))


# ---- extreme logits (+-1e4 in float32): finite losses and gradients -----------------------

EXTREME = [[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]]
# Rows: softmax [1, 0, 0] (e^-1e4 underflows to 0) and [0, 1/2, 1/2]; labels 1 and 0.
EXTREME_LABELS = [1, 0]
EXTREME_LOSS = [2e4, 2e4 + math.log(2)]  # logsumexp - picked logit: 1e4 - (-1e4), (1e4 + log 2) - (-1e4)
EXTREME_DLOGITS = [[1.0, -1.0, 0.0], [-1.0, 0.5, 0.5]]  # softmax - one_hot(labels)


def assert_finite_and_close(actual, expected):
    assert np.all(np.isfinite(actual.numpy())), actual
    assert_allclose(actual, expected, dtype=gc.float32)


def test_sparse_cross_entropy_of_extreme_logits():
    logits = f32(EXTREME)
    labels = gc.constant(np.asarray(EXTREME_LABELS, np.int32))
    assert_finite_and_close(SPARSE(labels=labels, logits=logits), EXTREME_LOSS)
    (dlogits,) = gradient(lambda t: SPARSE(labels=labels, logits=t), logits)
    assert_finite_and_close(dlogits, EXTREME_DLOGITS)


def test_dense_cross_entropy_of_extreme_logits():
    logits = f32(EXTREME)
    labels = f32(np.eye(3)[EXTREME_LABELS])
    assert_finite_and_close(DENSE(labels=labels, logits=logits), EXTREME_LOSS)
    dlabels, dlogits = gradient(lambda z, t: DENSE(labels=z, logits=t), labels, logits)
    assert_finite_and_close(dlogits, EXTREME_DLOGITS)
    # d/dlabels = -log_softmax(logits): logsumexp minus each logit.
    assert_finite_and_close(dlabels, [[0.0, 2e4, 1e4], [2e4 + math.log(2), math.log(2), math.log(2)]])


def test_sigmoid_cross_entropy_of_extreme_logits():
    x = f32([1e4, -1e4, 1e4, -1e4])
    z = f32([1.0, 0.0, 0.0, 1.0])
    # max(x, 0) - x z + log(1 + e^-|x|): the last term is 0 in float32 at |x| = 1e4.
    assert_finite_and_close(SIGMOID(labels=z, logits=x), [0.0, 0.0, 1e4, 1e4])
    dz, dx = gradient(lambda labels, logits: SIGMOID(labels=labels, logits=logits), z, x)
    assert_finite_and_close(dx, [0.0, 0.0, 1.0, -1.0])  # sigmoid(x) - z
    assert_finite_and_close(dz, [-1e4, 1e4, -1e4, 1e4])  # -x


# ---- gelu: exact (normal CDF) and approximate (tanh) forms against SciPy -------------------

GELU_X = np.linspace(-4.0, 4.0, 17)
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def gelu_exact(x):
    """x * Phi(x), Phi the standard normal CDF (scipy.special.ndtr)."""
    return x * special.ndtr(x)


def gelu_exact_derivative(x):
    """Phi(x) + x * phi(x), phi the standard normal density."""
    return special.ndtr(x) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x**3)))


def gelu_tanh_derivative(x):
    """With u = sqrt(2/pi) (x + 0.044715 x^3): 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) du/dx."""
    t = np.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x**3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)


@pytest.mark.parametrize("approximate, value, derivative", [
    (False, gelu_exact, gelu_exact_derivative),
    (True, gelu_tanh, gelu_tanh_derivative),
])
def test_gelu_values_and_gradients(approximate, value, derivative):
    # The two forms differ by up to 4.4e-4 here (at |x| = 2.5), far above float64's tolerance,
    # so each check also tells the forms apart.
    x = f64(GELU_X)
    (dx,) = gradient(lambda t: gc.nn.gelu(t, approximate=approximate), x)
    assert_allclose(gc.nn.gelu(x, approximate=approximate), value(GELU_X))
    assert_allclose(dx, derivative(GELU_X))


# ---- one_hot of class labels ---------------------------------------------------------------


def test_one_hot_labels_out_of_range_give_zero_rows():
    # tf.one_hot: an index outside [0, depth) is a row of off_value; here the default on=1, off=0.
    y = gc.one_hot(gc.constant(np.asarray([[0, 3], [-1, 2]], np.int64)), 3)
    assert y.dtype is gc.float32
    np.testing.assert_array_equal(y.numpy(), [[[1, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 1]]])
