"""BatchNormalization and LayerNormalization against NumPy formulas (Keras 3 semantics).

Both normalize as (x - mean) / sqrt(variance + epsilon) * gamma + beta with the biased
variance. BatchNormalization uses batch statistics and updates its moving ones only when
training; the update is moving * momentum + batch * (1 - momentum).
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

rng = np.random.default_rng(1)


def normalized(x, mean, variance, gamma, beta, epsilon):
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def batch_norm(momentum=0.9, epsilon=1e-3, features=3, axis=-1, rank=2):
    """A built BatchNormalization with random gamma, beta and moving statistics."""
    layer = gc.layers.BatchNormalization(axis=axis, momentum=momentum, epsilon=epsilon, dtype=gc.float64)
    shape = [2] * rank
    shape[axis] = features
    layer(np.zeros(shape))
    layer.set_weights([rng.standard_normal(features), rng.standard_normal(features),
                       rng.standard_normal(features), rng.uniform(0.5, 2.0, features)])
    return layer


def test_batch_norm_weights_gamma_beta_trainable_moving_statistics_not():
    layer = gc.layers.BatchNormalization()
    layer(np.zeros((2, 3), np.float32))
    short = [v.name.split("/")[-1] for v in layer.weights]
    assert short == ["gamma:0", "beta:0", "moving_mean:0", "moving_variance:0"]
    assert [v.name.split("/")[-1] for v in layer.trainable_weights] == ["gamma:0", "beta:0"]
    assert [v.name.split("/")[-1] for v in layer.non_trainable_weights] == ["moving_mean:0", "moving_variance:0"]
    np.testing.assert_array_equal(layer.get_weights()[0], np.ones(3))  # gamma starts at 1, the rest at Keras' defaults
    np.testing.assert_array_equal(layer.get_weights()[3], np.ones(3))
    np.testing.assert_array_equal(layer.get_weights()[2], np.zeros(3))


def test_batch_norm_training_uses_batch_statistics_and_updates_the_moving_ones():
    layer = batch_norm(momentum=0.9, epsilon=1e-3)
    gamma, beta, moving_mean, moving_variance = layer.get_weights()
    x = rng.standard_normal((16, 3)) * 3 + 1
    y = layer(x, training=True)
    mean, variance = x.mean(axis=0), x.var(axis=0)  # biased variance, as Keras
    assert_allclose(y, normalized(x, mean, variance, gamma, beta, 1e-3), dtype=gc.float64)
    assert_allclose(layer.moving_mean, moving_mean * 0.9 + mean * 0.1, dtype=gc.float64)
    assert_allclose(layer.moving_variance, moving_variance * 0.9 + variance * 0.1, dtype=gc.float64)


@pytest.mark.parametrize("training", [False, None])
def test_batch_norm_inference_uses_the_moving_statistics_and_changes_nothing(training):
    layer = batch_norm()
    before = layer.get_weights()
    gamma, beta, moving_mean, moving_variance = before
    x = rng.standard_normal((5, 3))
    assert_allclose(layer(x, training=training), normalized(x, moving_mean, moving_variance, gamma, beta, 1e-3),
                    dtype=gc.float64)
    for now, then in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(now, then)


def test_batch_norm_over_a_middle_axis_of_images():
    layer = batch_norm(features=4, axis=1, rank=4)
    gamma, beta, _, _ = layer.get_weights()
    x = rng.standard_normal((3, 4, 5, 2))
    mean, variance = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    along = (1, 4, 1, 1)
    assert_allclose(layer(x, training=True),
                    normalized(x, mean, variance, gamma.reshape(along), beta.reshape(along), 1e-3), dtype=gc.float64)


def test_a_frozen_batch_norm_runs_in_inference_mode_even_when_training():
    layer = batch_norm()
    layer.trainable = False
    gamma, beta, moving_mean, moving_variance = layer.get_weights()
    x = rng.standard_normal((6, 3))
    assert_allclose(layer(x, training=True), normalized(x, moving_mean, moving_variance, gamma, beta, 1e-3),
                    dtype=gc.float64)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), moving_mean)


def test_the_moving_statistics_update_records_nothing_on_the_tape():
    layer = batch_norm()
    x = gc.constant(rng.standard_normal((8, 3)))
    with gc.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
    # Every recorded op must lie on a path to y; the moving-average arithmetic would not.
    needed = {id(y)}
    for node in reversed(tape._nodes):
        assert any(id(out) in needed for out in node.outputs), f"{node.type} does not lead to the output"
        needed.update(id(t) for t in node.inputs)
    assert {v.name for v in tape.watched_variables()} == {layer.gamma.name, layer.beta.name}


def test_batch_norm_gradient_flows_through_the_batch_statistics():
    layer = batch_norm()
    x = gc.constant(rng.standard_normal((6, 3)))
    with gc.GradientTape() as tape:
        tape.watch(x)
        total = gc.reduce_sum(layer(x, training=True))
    # sum over the batch of (x - mean) is 0 whatever x: the batch mean takes the gradient away
    assert_allclose(tape.gradient(total, x), np.zeros((6, 3)), dtype=gc.float64)


# ---- LayerNormalization -----------------------------------------------------------------------


def test_layer_norm_normalizes_each_example_over_the_last_axis():
    layer = gc.layers.LayerNormalization(epsilon=1e-3, dtype=gc.float64)
    x = rng.standard_normal((4, 6)) * 2 + 3
    layer(x)
    gamma, beta = rng.standard_normal(6), rng.standard_normal(6)
    layer.set_weights([gamma, beta])
    expected = normalized(x, x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True), gamma, beta, 1e-3)
    assert_allclose(layer(x), expected, dtype=gc.float64)
    assert_allclose(layer(x, training=True), expected, dtype=gc.float64)  # no training behaviour


def test_layer_norm_over_several_axes_without_center_and_scale():
    layer = gc.layers.LayerNormalization(axis=[1, 2], center=False, scale=False, dtype=gc.float64)
    x = rng.standard_normal((2, 3, 4))
    mean, variance = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    assert_allclose(layer(x), (x - mean) / np.sqrt(variance + 1e-3), dtype=gc.float64)
    assert layer.weights == []


def test_layer_norm_parameters_have_the_normalized_axes_shape():
    layer = gc.layers.LayerNormalization(axis=[-2, -1])
    layer(np.zeros((2, 3, 4), np.float32))
    assert [v.shape for v in layer.weights] == [(3, 4), (3, 4)]


def test_normalization_axis_out_of_range_is_an_error():
    with pytest.raises(ValueError, match="axis 3 is out of range for inputs of rank 2"):
        gc.layers.BatchNormalization(axis=3)(np.zeros((2, 3), np.float32))
