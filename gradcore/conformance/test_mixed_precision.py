"""Mixed precision: losses of half-precision predictions, a loss's dtype argument, loss scaling.

What Keras 3 (tf.keras) does, and so gradcore:
- A loss given float16 predictions and no dtype computes in float32 (Keras's floatx), so a
  squared error of 300 (90,000, past float16's largest finite 65,504) is finite.
- ``Loss(dtype=...)`` casts the predictions to that dtype first, so the loss is computed in it
  and has it. Keras converts the per-sample losses to that dtype too before weighting and reducing
  them, so ``dtype="float16"`` gives a float16 loss; gradcore's loss functions still compute half
  precision in float32 and round the per-sample values to float16 there (Keras computes them in
  float16, so where float16 arithmetic overflows Keras gives inf and gradcore a finite value).
- ``Optimizer(loss_scale_factor=s)``: ``scale_loss(loss)`` is ``loss * s``; ``apply`` divides the
  gradients by ``s`` first of all, before clipping and the update (the order inside Keras's
  ``apply``: filter None, unscale, clip, weight decay, update_step).
Expected values are NumPy float64 formulas on the inputs as the dtype rounds them, or, for the
optimizer, Keras's SGD-with-momentum update written out by hand.
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

EPSILON = 1e-7  # Keras's backend.epsilon(): predicted probabilities are clipped to [EPSILON, 1 - EPSILON]


def rounded(values, dtype):
    return np.asarray(values).astype(dtype.as_numpy_dtype).astype(np.float64)


# ---- half-precision predictions compute in float32 ---------------------------------------------------


def test_float16_mean_squared_error_is_computed_in_float32():
    """(0 - 300)^2 = 90,000 overflows float16: computed there it would be inf."""
    y_true = np.zeros((2, 3))
    y_pred = np.array([[300.0, 0.5, -2.0], [1.25, 0.0, 250.0]])
    half = gc.constant(y_pred, dtype=gc.float16)
    expected = np.mean((y_true - rounded(y_pred, gc.float16)) ** 2, axis=-1)
    per_sample = gc.losses.mean_squared_error(y_true, half)
    assert per_sample.dtype is gc.float32
    assert_allclose(per_sample, expected, dtype=gc.float32)
    reduced = gc.losses.MeanSquaredError()(y_true, half)
    assert reduced.dtype is gc.float32
    assert_allclose(reduced, np.mean(expected), dtype=gc.float32)


def test_float16_categorical_crossentropy_is_computed_in_float32():
    """Probabilities in float16, labels as a float64 array: the loss is float32 and matches the
    float64 formula on the float16-rounded probabilities to float32's tolerance (float16's
    rounding of the logs would be ~1e-3 off)."""
    probabilities = np.array([[0.1, 0.7, 0.2], [0.333, 0.333, 0.334], [0.05, 0.05, 0.9]])
    labels = np.eye(3)[[1, 0, 2]]
    p = rounded(probabilities, gc.float16)
    p = np.clip(p / p.sum(-1, keepdims=True), EPSILON, 1 - EPSILON)
    expected = -np.sum(labels * np.log(p), axis=-1)
    loss = gc.losses.CategoricalCrossentropy(reduction="none")(labels, gc.constant(probabilities, dtype=gc.float16))
    assert loss.dtype is gc.float32
    assert_allclose(loss, expected, dtype=gc.float32)


# ---- Loss(dtype=) -----------------------------------------------------------------------------------


def test_loss_dtype_float64_computes_float32_predictions_in_float64():
    """BinaryCrossentropy of a prediction 1 for label 0 is -log(1 - clip(1)) = -log(EPSILON) computed
    in float64 (16.118...); in float32 1 - EPSILON rounds to 1 - 1.19e-7 and gives 15.94."""
    y_true = np.zeros((2, 1), np.float32)
    y_pred = gc.constant(np.ones((2, 1), np.float32))
    loss = gc.losses.BinaryCrossentropy(dtype="float64")(y_true, y_pred)
    assert loss.dtype is gc.float64
    assert_allclose(loss, -np.log(1.0 - (1.0 - EPSILON)), dtype=gc.float64)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("make", [
    lambda dtype: gc.losses.Huber(delta=0.5, dtype=dtype),
    lambda dtype: gc.losses.MeanAbsoluteError(reduction="sum", dtype=dtype),
    lambda dtype: gc.losses.SparseCategoricalCrossentropy(from_logits=True, dtype=dtype),
], ids=["Huber", "MeanAbsoluteError", "SparseCategoricalCrossentropy"])
def test_loss_result_dtype_follows_the_dtype_argument_for_any_input_dtype(make, dtype):
    loss = make(dtype)
    for input_dtype in (gc.float16, gc.float32, gc.float64):
        if isinstance(loss, gc.losses.SparseCategoricalCrossentropy):
            y_true, y_pred = np.array([0, 2]), gc.constant([[1.0, -1.0, 0.5], [0.0, 2.0, 1.0]], dtype=input_dtype)
        else:
            y_true, y_pred = np.array([[0.0, 1.0]]), gc.constant([[0.25, 3.0]], dtype=input_dtype)
        assert loss(y_true, y_pred).dtype is gc.as_dtype(dtype), f"{loss.name} of {input_dtype.name} predictions"


@pytest.mark.parametrize("input_dtype", [gc.float16, gc.float32, gc.float64])
def test_loss_dtype_float16_gives_float16(input_dtype):
    """Keras 3's Loss.__call__ converts the inputs to the loss's dtype (its dtype policy's compute
    dtype) and the per-sample losses to it again before weighting and reducing: a float16 result,
    whatever the predictions' dtype. The per-sample squared errors, 30,001 and 20,834, fit float16;
    gradcore computes them in float32 and rounds them (Keras, squaring in float16, would overflow
    300^2 = 90,000 to inf), then weights and reduces in float16."""
    y_true = np.zeros((2, 3))
    y_pred = np.array([[300.0, 0.5, -2.0], [1.25, 0.0, 250.0]])
    per_sample = rounded(np.mean((y_true - rounded(y_pred, gc.float16)) ** 2, axis=-1), gc.float16)
    predictions = gc.constant(y_pred, dtype=input_dtype)

    unreduced = gc.losses.MeanSquaredError(reduction="none", dtype="float16")(y_true, predictions)
    assert unreduced.dtype is gc.float16
    assert_allclose(unreduced, per_sample, dtype=gc.float16)

    weights = np.array([1.0, 0.5])
    weighted = gc.losses.MeanSquaredError(dtype="float16")(y_true, predictions, sample_weight=weights)
    assert weighted.dtype is gc.float16
    assert_allclose(weighted, np.mean(per_sample * weights), dtype=gc.float16)

    # The clip still happens in float32: a prediction of 1 for label 1 gives -log(1 - 2^-23) = 2^-23,
    # which float16 holds exactly (a subnormal), not log(0) of 1 - EPSILON rounded to 1.
    certain = gc.constant(np.ones((2, 1)), dtype=input_dtype)
    bce = gc.losses.BinaryCrossentropy(dtype="float16")(np.ones((2, 1)), certain)
    assert bce.dtype is gc.float16
    assert_allclose(bce, -np.log(np.float64(np.float32(1 - EPSILON))), dtype=gc.float16, relative=True)


# ---- loss scaling ------------------------------------------------------------------------------------


def test_scaled_loss_gradients_are_unscaled_before_clipping_and_momentum():
    """loss = sum(c * w), so the true gradient is c = [0.25, -3]; the tape sees 64 c. Keras's SGD
    (lr 0.1, momentum 0.5, clipvalue 1): g = clip(64 c / 64) = [0.25, -1]; m <- 0.5 m - 0.1 g;
    w <- w + m, for two steps (one through apply, one through apply_gradients). Clipping before
    unscaling, or not unscaling, moves w elsewhere."""
    c = np.array([0.25, -3.0])
    w0 = np.array([1.0, -2.0])
    w = gc.Variable(w0)
    optimizer = gc.optimizers.SGD(0.1, momentum=0.5, clipvalue=1.0, loss_scale_factor=64.0)
    for step in range(2):
        with gc.GradientTape() as tape:
            loss = gc.reduce_sum(gc.constant(c) * w)
            scaled = optimizer.scale_loss(loss)
        assert scaled.dtype is gc.float64
        assert float(scaled.numpy()) == 64.0 * float(loss.numpy())  # a power of two: exact
        grads = tape.gradient(scaled, [w])
        if step == 0:
            optimizer.apply(grads, [w])
        else:
            optimizer.apply_gradients(zip(grads, [w]))
    g = np.clip(c, -1.0, 1.0)
    m1 = -0.1 * g
    m2 = 0.5 * m1 - 0.1 * g
    assert_allclose(w, w0 + m1 + m2, dtype=gc.float64)
    assert int(optimizer.iterations.numpy()) == 2
