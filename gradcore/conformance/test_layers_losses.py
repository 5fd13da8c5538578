"""gc.regularizers and ``layer.losses``: Keras 3's penalties, recomputed from the current weights.

Keras' formulas have no factor 1/2: L1(l1)(w) = l1 * sum|w|, L2(l2)(w) = l2 * sum(w^2).
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

rng = np.random.default_rng(3)


# ---- regularizers -------------------------------------------------------------------------------


@pytest.mark.parametrize("regularizer, formula", [
    (gc.regularizers.L1(0.3), lambda w: 0.3 * np.abs(w).sum()),
    (gc.regularizers.L2(0.3), lambda w: 0.3 * np.square(w).sum()),
    (gc.regularizers.L1L2(l1=0.1, l2=0.2), lambda w: 0.1 * np.abs(w).sum() + 0.2 * np.square(w).sum()),
    (gc.regularizers.L1L2(), lambda w: 0.0),
])
def test_penalties_follow_keras_formulas(regularizer, formula):
    w = rng.standard_normal((3, 4))
    penalty = regularizer(gc.constant(w))
    assert penalty.shape == () and penalty.dtype is gc.float64
    assert_allclose(penalty, formula(w), dtype=gc.float64)


def test_keras_default_factors_and_lookup_by_name():
    assert gc.regularizers.L1().l1 == 0.01 and gc.regularizers.L2().l2 == 0.01
    assert type(gc.regularizers.get("l2")) is gc.regularizers.L2
    assert type(gc.regularizers.get("l1")) is gc.regularizers.L1
    assert type(gc.regularizers.get("l1_l2")) is gc.regularizers.L1L2
    reg = gc.regularizers.L2(0.5)
    assert gc.regularizers.get(reg) is reg and gc.regularizers.get(None) is None
    with pytest.raises(ValueError, match="unknown regularizer 'l3'"):
        gc.regularizers.get("l3")


@pytest.mark.parametrize("bad", [-0.1, "0.1", None])
def test_factors_must_be_non_negative_numbers(bad):
    with pytest.raises(ValueError, match="l2 must be a non-negative number"):
        gc.regularizers.L2(bad)


def test_a_penalty_on_a_variable_is_differentiable():
    w = gc.Variable(rng.standard_normal((2, 3)))
    with gc.GradientTape() as tape:
        penalty = gc.regularizers.L1L2(l1=0.1, l2=0.2)(w)
    assert_allclose(tape.gradient(penalty, w), 0.1 * np.sign(w.numpy()) + 0.4 * w.numpy(), dtype=gc.float64)


# ---- layer.losses -------------------------------------------------------------------------------


def regularized_model():
    return gc.Sequential([
        gc.layers.Dense(3, kernel_regularizer=gc.regularizers.L2(0.1), bias_initializer="ones",
                        bias_regularizer="l1", dtype=gc.float64),
        gc.layers.Dense(2, dtype=gc.float64),
        gc.layers.Dense(2, kernel_regularizer=gc.regularizers.L1(0.2), dtype=gc.float64),
    ])


def expected_penalties(model):
    first, _, last = model.layers
    return [0.1 * np.square(first.kernel.numpy()).sum(), 0.01 * np.abs(first.bias.numpy()).sum(),
            0.2 * np.abs(last.kernel.numpy()).sum()]


def test_model_losses_collect_the_penalties_of_nested_layers_from_current_weights():
    model = regularized_model()
    model(np.ones((1, 4)))
    assert len(model.losses) == 3
    for got, want in zip(model.losses, expected_penalties(model)):
        assert_allclose(got, want, dtype=gc.float64)
    model.layers[0].kernel.assign(np.full((4, 3), 2.0))
    assert_allclose(model.losses[0], 0.1 * 4 * 12, dtype=gc.float64)  # recomputed, not cached


def test_penalties_inside_a_tape_give_their_gradients():
    model = regularized_model()
    model(np.ones((1, 4)))
    first = model.layers[0]
    with gc.GradientTape() as tape:
        total = sum(model.losses)
    grad_kernel, grad_bias = tape.gradient(total, [first.kernel, first.bias])
    assert_allclose(grad_kernel, 0.2 * first.kernel.numpy(), dtype=gc.float64)
    assert_allclose(grad_bias, 0.01 * np.sign(first.bias.numpy()), dtype=gc.float64)


def test_a_frozen_layer_adds_no_penalty():
    model = regularized_model()
    model(np.ones((1, 4)))
    model.layers[0].trainable = False
    assert len(model.losses) == 1  # only the last layer's kernel penalty is left


class ActivityPenalty(gc.layers.Layer):
    def call(self, inputs):
        self.add_loss(gc.reduce_sum(gc.abs(inputs)))
        return inputs


def test_add_loss_keeps_only_the_latest_calls_losses():
    penalty = ActivityPenalty()
    model = gc.Sequential([penalty, gc.layers.Dense(2, kernel_regularizer=gc.regularizers.L2(0.1))])
    model(np.array([[1.0, -2.0]], np.float32))
    assert len(model.losses) == 2
    assert_allclose(model.losses[0], 3.0, dtype=gc.float32)
    model(np.array([[1.0, 1.0]], np.float32))
    assert len(model.losses) == 2  # the first call's activity loss is gone
    assert_allclose(model.losses[0], 2.0, dtype=gc.float32)
    penalty(np.array([[5.0]], np.float32))
    assert len(penalty.losses) == 1
    assert_allclose(penalty.losses[0], 5.0, dtype=gc.float32)
