"""The further tf.nn activations, dropout and normalization beyond their op cases: derivatives at
the kinks, extreme inputs, dropout's randomness and arguments, moments' and batch_normalization's
dtypes, the Keras activation names, compute_average_loss.

Expected values come from TensorFlow's documented behaviour and gradient kernels (quoted where
used) and from closed forms in float64 NumPy, never from gradcore itself.
"""

import math

import numpy as np
import pytest

import gradcore as gc
from gradcore.ops.nn_ops import SELU_ALPHA, SELU_SCALE
from gradcore.testing import assert_allclose


def gradient(fn, x):
    """d sum(fn(x)) / dx."""
    with gc.GradientTape() as tape:
        tape.watch(x)
        y = gc.reduce_sum(fn(x))
    return tape.gradient(y, x)


def f32(values):
    return gc.constant(np.asarray(values, np.float32))


# ---- activations at their kinks and extremes -------------------------------------------------


def test_relu6_gradient_is_one_strictly_inside_zero_six():
    """TF's Relu6Grad: dy * (y > 0 & y < 6), so 0 at both kinks."""
    x = f32([-1.0, 0.0, 3.0, 6.0, 7.0])
    np.testing.assert_array_equal(gc.nn.relu6(x).numpy(), [0, 0, 3, 6, 6])
    np.testing.assert_array_equal(gradient(gc.nn.relu6, x).numpy(), [0, 0, 1, 0, 0])


def test_relu6_keeps_integer_dtypes():
    y = gc.nn.relu6(gc.constant(np.array([-3, 2, 9], np.int32)))
    assert y.dtype is gc.int32
    np.testing.assert_array_equal(y.numpy(), [0, 2, 6])


def test_selu_gradient_at_zero_is_scale_and_large_negative_inputs_stay_finite():
    """TF's SeluGrad takes the linear piece where the output is not negative (scale at 0); far below
    zero selu saturates at -scale * alpha with a zero gradient, not NaN."""
    x = f32([0.0, -1000.0, 1000.0])
    assert_allclose(gc.nn.selu(x), [0.0, -SELU_SCALE * SELU_ALPHA, SELU_SCALE * 1000.0])
    assert_allclose(gradient(gc.nn.selu, x), [SELU_SCALE, 0.0, SELU_SCALE])


def test_selu_constants_are_tensorflows():
    assert SELU_ALPHA == pytest.approx(1.6732632423543772, rel=1e-15)
    assert SELU_SCALE == pytest.approx(1.0507009873554805, rel=1e-15)


def test_silu_default_beta_and_swish_alias():
    x = f32([-2.0, 0.5, 3.0])
    assert gc.nn.swish is gc.nn.silu
    expected = np.array([-2.0, 0.5, 3.0]) / (1 + np.exp(-np.array([-2.0, 0.5, 3.0])))
    assert_allclose(gc.nn.silu(x), expected)
    assert_allclose(gc.nn.silu(x, beta=2.0), np.array([-2.0, 0.5, 3.0]) / (1 + np.exp(-2 * np.array([-2.0, 0.5, 3.0]))))


def test_softsign_in_both_namespaces_with_slope_one_at_zero():
    assert gc.math.softsign is gc.nn.softsign
    x = f32([0.0, -3.0])
    assert_allclose(gc.nn.softsign(x), [0.0, -0.75])
    assert_allclose(gradient(gc.nn.softsign, x), [1.0, 1 / 16])


def test_log_sigmoid_is_exact_where_sigmoid_rounds_to_zero_in_float32():
    """log(sigmoid(-100)) is log(0) = -inf in float32; -softplus(100) is -100, slope 1."""
    x = f32([-100.0, 100.0])
    assert_allclose(gc.math.log_sigmoid(x), [-100.0, -math.exp(-100.0)])
    g = gradient(gc.math.log_sigmoid, x).numpy()
    assert np.all(np.isfinite(g))
    assert_allclose(g, [1.0, 0.0])


@pytest.mark.parametrize("fn", [gc.nn.selu, gc.nn.silu, gc.nn.softsign, gc.math.log_sigmoid])
def test_float_activations_refuse_integers(fn):
    with pytest.raises(gc.DTypeError, match="floating-point"):
        fn(gc.constant([1, 2]))


# ---- dropout -----------------------------------------------------------------------------------

N = 20000


def test_dropout_zeroes_a_rate_fraction_and_scales_the_rest():
    rate = 0.3
    y = gc.nn.dropout(gc.constant(np.full((N,), 2.0, np.float32)), rate, seed=2).numpy()
    kept = y != 0
    assert_allclose(y[kept], np.full(kept.sum(), 2.0 / (1 - rate)), dtype=gc.float32)
    # a Bernoulli(rate) fraction: within 5 standard errors sqrt(rate (1 - rate) / N)
    assert abs((~kept).mean() - rate) < 5 * math.sqrt(rate * (1 - rate) / N)


def test_dropout_seed_alone_decides_the_mask_on_every_backend():
    x = gc.ones([8, 8])
    first = gc.nn.dropout(x, 0.5, seed=11).numpy()
    np.testing.assert_array_equal(gc.nn.dropout(x, 0.5, seed=11).numpy(), first)
    assert not np.array_equal(gc.nn.dropout(x, 0.5, seed=12).numpy(), first)
    with gc.backend_scope("numpy"):
        np.testing.assert_array_equal(gc.nn.dropout(gc.ones([8, 8]), 0.5, seed=11).numpy(), first)


def test_unseeded_dropout_follows_the_global_seed():
    x = gc.ones([8, 8])
    gc.random.set_seed(5)
    first = gc.nn.dropout(x, 0.5).numpy()
    gc.random.set_seed(5)
    np.testing.assert_array_equal(gc.nn.dropout(x, 0.5).numpy(), first)


def test_dropout_under_gc_function_draws_the_eager_mask():
    x = gc.ones([4, 6])
    traced = gc.function(lambda v: gc.nn.dropout(v, 0.5, seed=3))
    np.testing.assert_array_equal(traced(x).numpy(), gc.nn.dropout(x, 0.5, seed=3).numpy())


def test_dropout_rate_zero_returns_x_itself():
    """TF's documented fast path: tf.nn.dropout(x, rate=0.0) is x."""
    x = gc.ones([2, 3])
    assert gc.nn.dropout(x, 0.0) is x


def test_dropout_rate_may_be_a_scalar_tensor():
    x = gc.ones([6, 6])
    np.testing.assert_array_equal(gc.nn.dropout(x, gc.constant(0.5), seed=4).numpy(),
                                  gc.nn.dropout(x, 0.5, seed=4).numpy())


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, True, "half"])
def test_dropout_rate_outside_zero_one_is_a_value_error(rate):
    """TF: ValueError "rate must be a scalar tensor or a float in the range [0, 1)"."""
    with pytest.raises(ValueError, match=r"gc.nn.dropout: rate must be a number in \[0, 1\)"):
        gc.nn.dropout(gc.ones([2]), rate)


def test_dropout_refuses_integer_inputs():
    """TF: ValueError, x must be floating point since it is scaled."""
    with pytest.raises(ValueError, match="floating-point"):
        gc.nn.dropout(gc.constant([1, 2, 3]), 0.5)


def test_dropout_noise_shape_shares_the_draw_along_size_one_axes():
    """TF's example: x of shape [3, 10] with noise_shape [1, 10] keeps or drops whole columns."""
    y = gc.nn.dropout(gc.ones([3, 10]), 2 / 3, noise_shape=[1, 10], seed=1).numpy()
    assert np.all(y == y[0])
    assert set(np.unique(y)) <= {0.0, 3.0}
    rows = gc.nn.dropout(gc.ones([200, 6]), 0.5, noise_shape=[None, 1], seed=4).numpy()
    assert np.all((rows == 0).all(axis=1) | (rows != 0).all(axis=1))
    assert 0 < (rows[:, 0] == 0).sum() < 200


@pytest.mark.parametrize("noise_shape", [[2, 10], [3, 10, 1], [None]])
def test_dropout_noise_shape_must_broadcast_to_x(noise_shape):
    with pytest.raises(gc.ShapeError, match="noise_shape"):
        gc.nn.dropout(gc.ones([3, 10]), 0.5, noise_shape=noise_shape)


def test_dropout_layer_shares_the_op():
    """layers.Dropout draws through gc.nn.dropout: the same argument checks."""
    with pytest.raises(gc.ShapeError, match="noise_shape"):
        gc.layers.Dropout(0.5, noise_shape=(2, 10), seed=1)(gc.ones([3, 10]), training=True)
    with pytest.raises(ValueError, match=r"Dropout: rate must be a number in \[0, 1\)"):
        gc.layers.Dropout(1.0)


# ---- moments and batch_normalization -----------------------------------------------------------


def test_moments_documented_example_keepdims():
    """TF's example: x of shape [2, 2, 2] (1..8), axes=0, keepdims=True."""
    x = gc.constant(np.arange(1, 9, dtype=np.float32).reshape(2, 2, 2))
    mean, variance = gc.nn.moments(x, axes=0, keepdims=True)
    np.testing.assert_array_equal(mean.numpy(), [[[3, 4], [5, 6]]])
    np.testing.assert_array_equal(variance.numpy(), np.full((1, 2, 2), 4.0))


def test_moments_negative_axes_and_shapes():
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    mean, variance = gc.nn.moments(gc.constant(x), axes=[0, -1])
    assert mean.shape == variance.shape == (3,)
    assert_allclose(mean, x.mean(axis=(0, 2)))
    assert_allclose(variance, x.var(axis=(0, 2)))


def test_moments_of_float16_are_float16():
    x = np.array([1000.5, 1001.5, 1000.5, 1001.5], np.float16)
    mean, variance = gc.nn.moments(gc.constant(x), axes=[0])
    assert mean.dtype is variance.dtype is gc.float16
    assert float(mean) == 1001.0
    assert float(variance) == 0.25


def test_moments_refuse_integers():
    with pytest.raises(gc.DTypeError, match="gc.nn.moments"):
        gc.nn.moments(gc.constant([1, 2, 3]), axes=[0])


def test_batch_normalization_without_offset_and_scale():
    x = np.array([[1.0, 2.0], [3.0, 6.0]], np.float32)
    mean, variance = np.array([2.0, 4.0]), np.array([1.0, 4.0])
    y = gc.nn.batch_normalization(gc.constant(x), f32(mean), f32(variance), None, None, 1e-3)
    assert_allclose(y, (x - mean) / np.sqrt(variance + 1e-3))


def test_batch_normalization_casts_float32_statistics_to_a_float16_input():
    x = gc.constant(np.array([[1.0, 2.0], [3.0, 6.0]], np.float16))
    y = gc.nn.batch_normalization(x, f32([2.0, 4.0]), f32([1.0, 4.0]), f32([0.5, 0.5]), f32([2.0, 1.0]), 0.0)
    assert y.dtype is gc.float16
    assert_allclose(y, [[-1.5, -0.5], [2.5, 1.5]])


def test_moments_and_batch_normalization_give_the_batchnorm_layer_in_training():
    x = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    layer = gc.layers.BatchNormalization()
    expected = layer(gc.constant(x), training=True)
    mean, variance = gc.nn.moments(gc.constant(x), axes=[0])
    y = gc.nn.batch_normalization(gc.constant(x), mean, variance, layer.beta, layer.gamma, layer.epsilon)
    assert_allclose(y, expected.numpy())


# ---- Keras activation names and compute_average_loss -------------------------------------------


@pytest.mark.parametrize("name, fn", [("relu6", gc.nn.relu6), ("selu", gc.nn.selu), ("silu", gc.nn.silu),
                                      ("swish", gc.nn.silu), ("softsign", gc.nn.softsign),
                                      ("log_sigmoid", gc.math.log_sigmoid)])
def test_layers_look_up_the_activation_names(name, fn):
    x = f32([[-7.0, -0.5, 0.5, 7.0]])
    np.testing.assert_array_equal(gc.layers.Activation(name)(x).numpy(), fn(x).numpy())


def test_compute_average_loss_divides_the_weighted_sum_by_the_global_batch():
    """TF: sum(per_example_loss * sample_weight) / global_batch_size; its gradient is weight / batch."""
    losses = f32([1.0, 2.0, 3.0, 4.0])
    weights = f32([1.0, 0.0, 2.0, 1.0])
    assert_allclose(gc.nn.compute_average_loss(losses, sample_weight=weights, global_batch_size=8), 11.0 / 8)
    grad = gradient(lambda v: gc.nn.compute_average_loss(v, sample_weight=weights, global_batch_size=8), losses)
    assert_allclose(grad, [1 / 8, 0.0, 2 / 8, 1 / 8])


@pytest.mark.parametrize("losses, weights, expected", [
    ([[2.0] * 3] * 3, [1.0, 0.0, 0.0], 2.0),  # one weight per row of per-element losses
    ([1.0, 2.0], [[1.0], [0.0]], 0.5),  # weights with a trailing axis of 1
])
def test_compute_average_loss_brings_weights_to_the_losses_rank(losses, weights, expected):
    """TF reshapes sample_weight to the losses' rank (a trailing axis added or a trailing 1 dropped)
    before weighing; broadcasting instead would give 4.0 and 1.5 here."""
    assert_allclose(gc.nn.compute_average_loss(f32(losses), sample_weight=f32(weights),
                                                global_batch_size=len(losses)), expected)
