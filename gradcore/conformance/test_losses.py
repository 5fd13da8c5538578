"""gc.losses against Keras 3's documented examples, NumPy formulas, finite differences and analytic gradients.

Expected values come from three places, never from running gradcore: the examples in
Keras 3's docstrings (printed there to 3 or 4 decimals, so compared at that precision),
the loss formulas written out in NumPy below (compared with THE tolerance table), and
for gradients central finite differences in float64 or the closed forms
softmax(x) - y and sigmoid(x) - y.
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import FD_STEP, assert_allclose, assert_fd_close

EPS = 1e-7
rng = np.random.default_rng(7)

# ---- NumPy references (float64) ------------------------------------------------------------


def np_mse(y, p):
    return np.mean((y - p) ** 2, axis=-1)


def np_mae(y, p):
    return np.mean(np.abs(y - p), axis=-1)


def np_huber(y, p, delta=1.0):
    e = np.abs(p - y)
    return np.mean(np.where(e <= delta, 0.5 * e**2, delta * e - 0.5 * delta**2), axis=-1)


def np_bce(y, p, from_logits=False, smoothing=0.0):
    y = y * (1 - smoothing) + 0.5 * smoothing
    if from_logits:  # log sigmoid(x) = -logaddexp(0, -x), exact for any x
        return np.mean(y * np.logaddexp(0, -p) + (1 - y) * np.logaddexp(0, p), axis=-1)
    p = np.clip(p, EPS, 1 - EPS)
    return np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)), axis=-1)


def np_log_softmax(x):
    shifted = x - x.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def np_cce(y, p, from_logits=False, smoothing=0.0):
    y = y * (1 - smoothing) + smoothing / y.shape[-1]
    log_p = np_log_softmax(p) if from_logits else np.log(np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS))
    return -np.sum(y * log_p, axis=-1)


def np_scce(labels, p, from_logits=False):
    return np_cce(np.eye(p.shape[-1])[labels], p, from_logits)


def np_softmax(x):
    return np.exp(np_log_softmax(x))


def probabilities(shape):
    p = rng.uniform(0.05, 1.0, size=shape)
    return p / p.sum(-1, keepdims=True)


# ---- Keras's documented examples -------------------------------------------------------------

Y2 = [[0.0, 1.0], [0.0, 0.0]]
CCE_TRUE, CCE_PRED = [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]


def assert_printed(value, expected):
    """``value`` rounds to each number as Keras's docstring prints it (to that number's decimals)."""
    value, expected = np.ravel(np.asarray(value, np.float64)), np.ravel(expected)
    assert value.shape == expected.shape
    for v, e in zip(value, expected):
        decimals = len(repr(float(e)).split(".")[1])
        assert round(float(v), decimals) == e, (value, expected)


@pytest.mark.parametrize("loss, y_true, y_pred, kwargs, expected", [
    (gc.losses.MeanSquaredError(), Y2, [[1.0, 1.0], [1.0, 0.0]], {}, 0.5),
    (gc.losses.MeanSquaredError(), Y2, [[1.0, 1.0], [1.0, 0.0]], {"sample_weight": [0.7, 0.3]}, 0.25),
    (gc.losses.MeanSquaredError(reduction="sum"), Y2, [[1.0, 1.0], [1.0, 0.0]], {}, 1.0),
    (gc.losses.MeanSquaredError(reduction="none"), Y2, [[1.0, 1.0], [1.0, 0.0]], {}, [0.5, 0.5]),
    (gc.losses.MeanAbsoluteError(), Y2, [[1.0, 1.0], [1.0, 0.0]], {}, 0.5),
    (gc.losses.MeanAbsoluteError(), Y2, [[1.0, 1.0], [1.0, 0.0]], {"sample_weight": [0.7, 0.3]}, 0.25),
    (gc.losses.Huber(), [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], {}, 0.155),
    (gc.losses.Huber(), [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], {"sample_weight": [1, 0]}, 0.09),
    (gc.losses.Huber(reduction="sum"), [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], {}, 0.31),
    (gc.losses.Huber(reduction="none"), [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], {}, [0.18, 0.13]),
    (gc.losses.BinaryCrossentropy(), [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], {}, 0.815),
    (gc.losses.BinaryCrossentropy(from_logits=True), [0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8], {}, 0.865),
    (gc.losses.CategoricalCrossentropy(), CCE_TRUE, CCE_PRED, {}, 1.177),
    (gc.losses.CategoricalCrossentropy(), CCE_TRUE, CCE_PRED, {"sample_weight": [0.3, 0.7]}, 0.814),
    (gc.losses.CategoricalCrossentropy(reduction="sum"), CCE_TRUE, CCE_PRED, {}, 2.354),
    (gc.losses.CategoricalCrossentropy(reduction="none"), CCE_TRUE, CCE_PRED, {}, [0.0513, 2.303]),
    (gc.losses.SparseCategoricalCrossentropy(), [1, 2], CCE_PRED, {}, 1.177),
    (gc.losses.SparseCategoricalCrossentropy(), [1, 2], CCE_PRED, {"sample_weight": [0.3, 0.7]}, 0.814),
    (gc.losses.SparseCategoricalCrossentropy(reduction="none"), [1, 2], CCE_PRED, {}, [0.0513, 2.303]),
])
def test_keras_documented_examples(loss, y_true, y_pred, kwargs, expected):
    assert_printed(loss(y_true, y_pred, **kwargs), expected)


@pytest.mark.parametrize("fn, expected", [
    (gc.losses.binary_crossentropy, [0.916, 0.714]),
    (gc.losses.huber, [0.18, 0.13]),
])
def test_keras_documented_function_examples(fn, expected):
    assert_printed(fn([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]), expected)


# ---- values against the NumPy formulas -----------------------------------------------------------

B, C = 5, 4


def regression_case():
    return rng.normal(size=(B, C)), rng.normal(size=(B, C))


def binary_case(from_logits):
    y = rng.integers(0, 2, size=(B, C)).astype(np.float64)
    return y, rng.normal(scale=3, size=(B, C)) if from_logits else rng.uniform(0.02, 0.98, size=(B, C))


def categorical_case(from_logits):
    labels = rng.integers(0, C, size=B)
    return labels, rng.normal(scale=3, size=(B, C)) if from_logits else probabilities((B, C))


@pytest.mark.parametrize("dtype", [gc.float32, gc.float64])
def test_per_sample_values_match_numpy(dtype):
    np_dtype = dtype.as_numpy_dtype
    y, p = regression_case()
    y, p = y.astype(np_dtype).astype(np.float64), p.astype(np_dtype).astype(np.float64)
    cast = lambda a: gc.constant(a, dtype=dtype)
    for fn, ref in [(gc.losses.mean_squared_error, np_mse), (gc.losses.mean_absolute_error, np_mae),
                    (gc.losses.huber, np_huber)]:
        out = fn(cast(y), cast(p))
        assert out.dtype is dtype
        assert_allclose(out, ref(y, p), dtype, err_msg=fn.__name__)
    assert_allclose(gc.losses.huber(cast(y), cast(p), delta=0.3), np_huber(y, p, 0.3), dtype)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropies_match_numpy(from_logits, smoothing):
    y, p = binary_case(from_logits)
    out = gc.losses.binary_crossentropy(y, p, from_logits=from_logits, label_smoothing=smoothing)
    assert_allclose(out, np_bce(y, p, from_logits, smoothing), gc.float64)

    labels, p = categorical_case(from_logits)
    one_hot = np.eye(C)[labels]
    out = gc.losses.categorical_crossentropy(one_hot, p, from_logits=from_logits, label_smoothing=smoothing)
    assert_allclose(out, np_cce(one_hot, p, from_logits, smoothing), gc.float64)
    if not smoothing:
        out = gc.losses.sparse_categorical_crossentropy(labels, p, from_logits=from_logits)
        assert_allclose(out, np_scce(labels, p, from_logits), gc.float64)


def test_categorical_crossentropy_along_another_axis():
    labels, logits = categorical_case(from_logits=True)
    one_hot = np.eye(C)[labels]
    out = gc.losses.categorical_crossentropy(one_hot.T, logits.T, from_logits=True, axis=0)
    assert_allclose(out, np_cce(one_hot, logits, from_logits=True), gc.float64)
    p = probabilities((B, C))
    assert_allclose(gc.losses.categorical_crossentropy(one_hot.T, p.T, axis=0), np_cce(one_hot, p), gc.float64)


def test_probabilities_are_rescaled_to_sum_to_one_before_the_log():
    p = probabilities((B, C))
    one_hot = np.eye(C)[rng.integers(0, C, size=B)]
    assert_allclose(gc.losses.categorical_crossentropy(one_hot, 3 * p), np_cce(one_hot, p), gc.float64)


def test_sparse_labels_may_carry_a_trailing_axis_or_be_floats():
    labels, p = categorical_case(from_logits=False)
    expected = np_scce(labels, p)
    for given in (labels[:, None], labels.astype(np.float64), labels.astype(np.int64)):
        assert_allclose(gc.losses.sparse_categorical_crossentropy(given, p), expected, gc.float64)


def test_labels_of_shape_batch_fit_predictions_of_shape_batch_by_1():
    y, p = rng.normal(size=B), rng.normal(size=(B, 1))
    assert_allclose(gc.losses.MeanSquaredError()(y, p), np.mean((y - p[:, 0]) ** 2), gc.float64)
    assert_allclose(gc.losses.MeanSquaredError()(y[:, None], p[:, 0]), np.mean((y - p[:, 0]) ** 2), gc.float64)


# ---- reductions and sample weights -------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "auto", "mean", "sum", "none", None])
def test_reductions(reduction):
    y, p = regression_case()
    per_sample = np_mse(y, p)
    expected = {"sum": per_sample.sum(), "none": per_sample, None: per_sample}.get(reduction, per_sample.mean())
    out = gc.losses.MeanSquaredError(reduction=reduction)(y, p)
    assert out.shape == np.shape(expected)
    assert_allclose(out, expected, gc.float64)


@pytest.mark.parametrize("weights", [
    rng.uniform(size=B),  # one per sample
    rng.uniform(size=(B, 1)),  # one per sample, with a trailing axis
    np.float64(2.5),  # one for the batch
])
def test_sample_weights_multiply_per_sample_losses_then_divide_by_the_batch_size(weights):
    y, p = regression_case()
    expected = np.mean(np_mse(y, p) * np.reshape(weights, -1))
    assert_allclose(gc.losses.MeanSquaredError()(y, p, sample_weight=weights), expected, gc.float64)
    expected_sum = np.sum(np_mse(y, p) * np.reshape(weights, -1))
    assert_allclose(gc.losses.MeanSquaredError(reduction="sum")(y, p, sample_weight=weights), expected_sum, gc.float64)


def test_weight_zero_masks_a_sample_but_it_still_counts_in_the_batch_size():
    y, p = regression_case()
    weights = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    expected = np.sum(np_mse(y, p) * weights) / B
    assert_allclose(gc.losses.MeanSquaredError()(y, p, sample_weight=weights), expected, gc.float64)


def test_per_element_weights_on_a_sequence_loss():
    labels, logits = rng.integers(0, C, size=(B, 3)), rng.normal(size=(B, 3, C))
    weights = rng.uniform(size=(B, 3))
    loss = gc.losses.SparseCategoricalCrossentropy(from_logits=True)
    assert_allclose(loss(labels, logits, sample_weight=weights), np.mean(np_scce(labels, logits, True) * weights),
                    gc.float64)


def test_invalid_reduction_is_a_value_error():
    with pytest.raises(ValueError, match=r"invalid reduction 'average'.*sum_over_batch_size"):
        gc.losses.MeanSquaredError(reduction="average")


def test_sample_weight_that_does_not_broadcast_is_a_shape_error():
    y, p = regression_case()
    with pytest.raises(gc.ShapeError, match=r"MeanSquaredError.*sample_weight of shape \(3,\).*\(5,\)"):
        gc.losses.MeanSquaredError()(y, p, sample_weight=[1.0, 2.0, 3.0])


# ---- dtypes and configuration ------------------------------------------------------------------------


def test_float64_stays_float64_and_integers_or_half_precision_compute_in_float32():
    assert gc.losses.MeanSquaredError()(np.ones((2, 2)), np.zeros((2, 2))).dtype is gc.float64
    assert gc.losses.MeanSquaredError()([[1, 2]], [[1, 3]]).dtype is gc.float32
    half = gc.constant(np.full((2, 2), 1.0, np.float16))
    out = gc.losses.BinaryCrossentropy()(gc.ones((2, 2)), half)
    assert out.dtype is gc.float32
    # Clipped to 1 - 1e-7, not log(0); in float32 that bound rounds to 1 - 2^-23, so the loss is
    # -log(1 - 2^-23) = 1.19e-7, not 1e-7. A value this small is compared relatively.
    clipped = np.float64(np.float32(1 - 1e-7))
    assert_allclose(out, -np.log(clipped), gc.float32, relative=True)
    assert gc.losses.MeanSquaredError(dtype="float32")(np.ones((2, 2)), np.zeros((2, 2))).dtype is gc.float32


@pytest.mark.parametrize("loss", [
    gc.losses.MeanSquaredError(reduction="sum"),
    gc.losses.Huber(delta=0.5),
    gc.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    gc.losses.CategoricalCrossentropy(axis=0),
    gc.losses.SparseCategoricalCrossentropy(from_logits=True, name="xent"),
])
def test_config_round_trips(loss):
    config = loss.get_config()
    clone = type(loss).from_config(config)
    assert clone.get_config() == config
    assert config["name"] == loss.name


def test_default_names_are_keras_names():
    assert gc.losses.Huber().name == "huber_loss"
    assert gc.losses.SparseCategoricalCrossentropy().name == "sparse_categorical_crossentropy"


# ---- gradients ---------------------------------------------------------------------------------


def fd_check(loss, y_true, y_pred, **call_kwargs):
    """<d loss / d y_pred, v> against the central difference along a random direction v, in float64."""
    y_pred = np.asarray(y_pred, np.float64)
    x = gc.constant(y_pred)
    with gc.GradientTape() as tape:
        tape.watch(x)
        value = loss(y_true, x, **call_kwargs)
    grad = tape.gradient(value, x).numpy()
    direction = rng.normal(size=y_pred.shape)
    numeric = (float(loss(y_true, y_pred + FD_STEP * direction, **call_kwargs))
               - float(loss(y_true, y_pred - FD_STEP * direction, **call_kwargs))) / (2 * FD_STEP)
    assert_fd_close(np.sum(grad * direction), numeric, err_msg=repr(loss))


def away_from(values, points, margin=0.05):
    """``values`` moved off the kinks at ``points`` (finite differences need a smooth neighbourhood)."""
    for point in points:
        close = np.abs(values - point) < margin
        values = np.where(close, point + np.sign(values - point + 1e-12) * margin, values)
    return values


@pytest.mark.parametrize("from_logits", [False, True])
def test_cross_entropy_gradients_match_finite_differences(from_logits):
    weights = rng.uniform(size=B)
    y, p = binary_case(from_logits)
    fd_check(gc.losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=0.1), y, p, sample_weight=weights)
    labels, p = categorical_case(from_logits)
    fd_check(gc.losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=0.1), np.eye(C)[labels], p,
             sample_weight=weights)
    fd_check(gc.losses.SparseCategoricalCrossentropy(from_logits=from_logits), labels, p, sample_weight=weights)


def test_regression_gradients_match_finite_differences():
    y, p = regression_case()
    error = away_from(p - y, [0.0, 1.0, -1.0])  # MAE kinks at 0, Huber's switch at |e| = delta
    fd_check(gc.losses.MeanSquaredError(), y, y + error, sample_weight=rng.uniform(size=B))
    fd_check(gc.losses.MeanAbsoluteError(reduction="sum"), y, y + error)
    fd_check(gc.losses.Huber(), y, y + error)


def test_softmax_cross_entropy_gradient_is_softmax_minus_labels_over_batch():
    labels, logits = categorical_case(from_logits=True)
    x = gc.constant(logits)
    with gc.GradientTape(persistent=True) as tape:
        tape.watch(x)
        dense = gc.losses.CategoricalCrossentropy(from_logits=True)(np.eye(C)[labels], x)
        sparse = gc.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, x)
    expected = (np_softmax(logits) - np.eye(C)[labels]) / B
    assert_allclose(tape.gradient(dense, x), expected, gc.float64)
    assert_allclose(tape.gradient(sparse, x), expected, gc.float64)


# ---- stability ----------------------------------------------------------------------------------

EXTREME = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]])


@pytest.mark.parametrize("dtype", [gc.float32, gc.float64])
def test_extreme_logits_give_exact_finite_losses_and_gradients(dtype):
    x = gc.constant(EXTREME, dtype=dtype)
    labels = np.array([1, 0])
    one_hot = np.eye(3)[labels]
    binary = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    with gc.GradientTape(persistent=True) as tape:
        tape.watch(x)
        losses = {
            "sparse": gc.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(labels, x),
            "dense": gc.losses.CategoricalCrossentropy(from_logits=True, reduction="none")(one_hot, x),
            "binary": gc.losses.BinaryCrossentropy(from_logits=True, reduction="none")(binary, x),
        }
    # log softmax at +-1e4 is -2e4 or 0 up to exp(-1e4) = 0; log sigmoid(x) = -softplus(-x)
    assert_allclose(losses["sparse"], [2e4, 2e4], dtype)
    assert_allclose(losses["dense"], [2e4, 2e4], dtype)
    assert_allclose(losses["binary"], np_bce(binary, EXTREME, from_logits=True), dtype)
    for name, value in losses.items():
        grad = tape.gradient(value, x).numpy()
        assert np.all(np.isfinite(grad)), name
    assert_allclose(tape.gradient(losses["sparse"], x), np_softmax(EXTREME) - one_hot, dtype)
    sigmoid = 1 / (1 + np.exp(-np.clip(EXTREME, -500, 500)))
    assert_allclose(tape.gradient(losses["binary"], x), (sigmoid - binary) / 3, dtype)


def test_probabilities_of_zero_and_one_are_clipped_to_finite_values_and_gradients():
    y, p = np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    x = gc.constant(p)
    with gc.GradientTape(persistent=True) as tape:
        tape.watch(x)
        binary = gc.losses.BinaryCrossentropy(reduction="none")(y, x)
        dense = gc.losses.CategoricalCrossentropy(reduction="none")(y, x)
    assert_allclose(binary, np_bce(y, p), gc.float64)  # row 0 is -log(1e-7) twice: about 16.1
    assert_allclose(dense, np_cce(y, p), gc.float64)
    for value in (binary, dense):
        assert np.all(np.isfinite(tape.gradient(value, x).numpy()))


# ---- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss, name", [
    (gc.losses.MeanSquaredError(), "mean_squared_error"),
    (gc.losses.Huber(), "huber"),
    (gc.losses.BinaryCrossentropy(from_logits=True), "binary_crossentropy"),
    (gc.losses.CategoricalCrossentropy(from_logits=True), "categorical_crossentropy"),
])
def test_mismatched_shapes_name_the_loss_and_both_shapes(loss, name):
    pattern = rf"gc.losses.{name}: y_true of shape \(4, 3\) and y_pred of shape \(4, 2\)"
    with pytest.raises(gc.ShapeError, match=pattern):
        loss(np.zeros((4, 3)), np.zeros((4, 2)))


def test_sparse_labels_of_the_wrong_shape_are_a_shape_error():
    with pytest.raises(gc.ShapeError, match=r"sparse_categorical_crossentropy: labels of shape \(3,\).*\(4, 5\)"):
        gc.losses.SparseCategoricalCrossentropy(from_logits=True)([0, 1, 2], np.zeros((4, 5)))


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("bad", [3, -1])
def test_sparse_labels_out_of_range_name_the_loss(from_logits, bad):
    loss = gc.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    pattern = rf"sparse_categorical_crossentropy: label {bad} at position \(1,\).*\[0, 3\)"
    with pytest.raises(gc.InvalidArgumentError, match=pattern):
        loss([0, bad], probabilities((2, 3)))
