"""gc.layers core layers against NumPy formulas: Dense, Activation, Flatten, Embedding, Dropout."""

import math

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

rng = np.random.default_rng(0)


def built_dense(kernel, bias, **kwargs):
    layer = gc.layers.Dense(kernel.shape[1], **kwargs)
    layer(np.zeros((1, kernel.shape[0]), np.float32))
    layer.set_weights([kernel, bias])
    return layer


# ---- Dense ------------------------------------------------------------------------------------


def test_dense_is_activation_of_x_times_kernel_plus_bias():
    x = rng.standard_normal((5, 4)).astype(np.float32)
    kernel, bias = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    layer = built_dense(kernel, bias, activation="tanh")
    assert_allclose(layer(x), np.tanh(x.astype(np.float64) @ kernel + bias), dtype=gc.float32)


def test_dense_builds_lazily_from_the_last_axis_and_acts_on_higher_rank_inputs():
    layer = gc.layers.Dense(3, use_bias=False)
    assert not layer.built and layer.weights == []
    x = rng.standard_normal((2, 6, 4)).astype(np.float32)
    y = layer(x)
    assert layer.built and [v.shape for v in layer.weights] == [(4, 3)]
    assert [v.name for v in layer.weights] == [f"{layer.name}/kernel:0"]
    assert_allclose(y, np.einsum("btk,ku->btu", x.astype(np.float64), layer.kernel.numpy()), dtype=gc.float32)


def test_a_layer_built_directly_keeps_its_weights():
    """Keras: build(input_shape) called by hand leaves the layer built, so its first call uses the
    weights that build made (TF's ForwardAccumulator example builds a Dense this way)."""
    layer = gc.layers.Dense(3)
    layer.build([None, 2])
    assert layer.built
    kernel = layer.kernel
    y = layer(np.ones((1, 2), np.float32))
    assert layer.kernel is kernel and len(layer.weights) == 2
    assert_allclose(y, np.ones((1, 2)) @ kernel.numpy(), dtype=gc.float32)


def test_dense_default_initializers_are_glorot_uniform_and_zeros():
    layer = gc.layers.Dense(50)
    layer(gc.ones((1, 30)))
    limit = math.sqrt(6 / (30 + 50))
    assert np.all(np.abs(layer.kernel.numpy()) <= limit) and np.abs(layer.kernel.numpy()).max() > 0.9 * limit
    np.testing.assert_array_equal(layer.bias.numpy(), np.zeros(50))


def test_floating_inputs_are_cast_to_the_layer_dtype():
    layer = gc.layers.Dense(2)
    assert layer(np.ones((1, 3), np.float64)).dtype is gc.float32  # Keras' autocast
    wide = gc.layers.Dense(2, dtype="float64")
    assert wide(np.ones((1, 3), np.float32)).dtype is gc.float64 and wide.kernel.dtype is gc.float64


def test_dense_on_a_wrong_input_after_build_names_the_layer_and_both_shapes():
    layer = gc.layers.Dense(3, name="classifier")
    layer(gc.ones((2, 4)))
    with pytest.raises(gc.ShapeError, match=r"'classifier'.*\(4,\).*rank >= 2.*\(2, 4\)"):
        layer(gc.ones((4,)))
    with pytest.raises(gc.ShapeError, match=r"'classifier'.*\(2, 5\).*axis -1 of size 4.*\(2, 4\)"):
        layer(gc.ones((2, 5)))


def test_dense_on_a_vector_before_build_says_what_rank_it_needs():
    with pytest.raises(gc.ShapeError, match=r"got an input of shape \(4,\); it expects rank >= 2"):
        gc.layers.Dense(3)(gc.ones((4,)))


@pytest.mark.parametrize("units", [0, -1, 2.5, None])
def test_dense_units_must_be_a_positive_integer(units):
    with pytest.raises(ValueError, match="units must be a positive integer"):
        gc.layers.Dense(units)


# ---- Activation -------------------------------------------------------------------------------


def numpy_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


ERF = np.vectorize(math.erf)


@pytest.mark.parametrize("name, reference", [
    ("relu", lambda x: np.maximum(x, 0)),
    ("tanh", np.tanh),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("softmax", numpy_softmax),
    ("linear", lambda x: x),
    ("gelu", lambda x: 0.5 * x * (1 + ERF(x / math.sqrt(2)))),  # Keras 3: exact (erf) gelu by default
    ("silu", lambda x: x / (1 + np.exp(-x))),
])
def test_activation_names_resolve_to_their_formulas(name, reference):
    x = rng.standard_normal((3, 4))
    layer = gc.layers.Activation(name, dtype=gc.float64)
    assert_allclose(layer(x), reference(x), dtype=gc.float64)
    assert_allclose(gc.layers.Dense(4, activation=name, dtype=gc.float64, kernel_initializer="ones")(x),
                    reference(x.sum(axis=1, keepdims=True) * np.ones((1, 4))), dtype=gc.float64)


def test_activation_accepts_a_callable_and_rejects_unknown_names():
    assert_allclose(gc.layers.Activation(lambda t: t * 3.0)(gc.constant([1.0, 2.0])), [3.0, 6.0])
    with pytest.raises(ValueError, match="unknown activation 'rleu'"):
        gc.layers.Activation("rleu")


# ---- Flatten ------------------------------------------------------------------------------------


def test_flatten_keeps_the_batch_axis():
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    np.testing.assert_array_equal(gc.layers.Flatten()(x).numpy(), x.reshape(2, 60))
    np.testing.assert_array_equal(gc.layers.Flatten()(np.arange(3.0, dtype=np.float32)).numpy(), [[0], [1], [2]])


def test_flatten_rejects_channels_first():
    with pytest.raises(ValueError, match="channels_last"):
        gc.layers.Flatten(data_format="channels_first")


# ---- Embedding ----------------------------------------------------------------------------------


def test_embedding_gathers_rows_and_sums_the_gradient_per_index():
    table = rng.standard_normal((5, 3)).astype(np.float32)
    layer = gc.layers.Embedding(5, 3)
    ids = np.array([[0, 2, 2], [4, 0, 1]], np.int32)
    layer(ids)
    layer.set_weights([table])
    weights = rng.standard_normal((2, 3, 3)).astype(np.float32)
    with gc.GradientTape() as tape:
        out = layer(ids)
        loss = gc.reduce_sum(out * weights)
    np.testing.assert_array_equal(out.numpy(), table[ids])
    expected = np.zeros((5, 3))
    np.add.at(expected, ids, weights)  # duplicate indices add up (dense gradient)
    assert_allclose(tape.gradient(loss, layer.embeddings), expected, dtype=gc.float32)


def test_embedding_casts_floating_indices_and_defaults_to_uniform_within_0_05():
    layer = gc.layers.Embedding(100, 20)
    out = layer(np.array([[1.0, 3.0]]))
    np.testing.assert_array_equal(out.numpy(), layer.embeddings.numpy()[[[1, 3]]])
    assert np.abs(layer.embeddings.numpy()).max() <= 0.05


def test_embedding_index_out_of_range_is_an_error():
    with pytest.raises(gc.InvalidArgumentError):
        gc.layers.Embedding(3, 2)(np.array([[3]]))


# ---- Dropout ------------------------------------------------------------------------------------

N = 20000


def test_dropout_is_the_identity_at_inference():
    x = rng.standard_normal((4, 5)).astype(np.float32)
    layer = gc.layers.Dropout(0.5, seed=1)
    for training in (False, None):
        np.testing.assert_array_equal(layer(x, training=training).numpy(), x)
    np.testing.assert_array_equal(layer(x).numpy(), x)


def test_dropout_zeroes_a_rate_fraction_and_scales_the_rest():
    rate = 0.3
    x = np.full((N,), 2.0, np.float32)
    y = gc.layers.Dropout(rate, seed=2)(x, training=True).numpy()
    kept = y != 0
    assert_allclose(y[kept], np.full(kept.sum(), 2.0 / (1 - rate)), dtype=gc.float32)
    # a Bernoulli(rate) fraction: within 5 standard errors sqrt(rate (1 - rate) / N)
    assert abs((~kept).mean() - rate) < 5 * math.sqrt(rate * (1 - rate) / N)


def test_dropout_gradient_is_the_scaled_mask():
    x = gc.constant(rng.standard_normal((50, 40)).astype(np.float32) + 5.0)  # no zeros in x
    layer = gc.layers.Dropout(0.25, seed=3)
    with gc.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
    mask = (y.numpy() != 0) / 0.75
    assert_allclose(tape.gradient(y, x), mask, dtype=gc.float32)


def test_seeded_dropout_draws_a_fresh_mask_per_call_and_repeats_the_sequence_on_every_backend():
    x = np.ones((8, 8), np.float32)

    def masks():
        layer = gc.layers.Dropout(0.5, seed=9)
        return [layer(x, training=True).numpy() for _ in range(2)]

    first, second = masks()
    assert not np.array_equal(first, second)
    again = masks()
    np.testing.assert_array_equal(again[0], first)
    np.testing.assert_array_equal(again[1], second)
    with gc.backend_scope("numpy"):
        reference = masks()
    np.testing.assert_array_equal(reference[0], first)
    np.testing.assert_array_equal(reference[1], second)


def test_unseeded_dropout_follows_the_global_seed():
    x = np.ones((8, 8), np.float32)
    layer = gc.layers.Dropout(0.5)
    gc.random.set_seed(5)
    first = layer(x, training=True).numpy()
    gc.random.set_seed(5)
    np.testing.assert_array_equal(layer(x, training=True).numpy(), first)


def test_dropout_noise_shape_shares_the_mask_along_size_one_axes():
    y = gc.layers.Dropout(0.5, noise_shape=(None, 1), seed=4)(np.ones((200, 6), np.float32), training=True).numpy()
    assert np.all((y == 0).all(axis=1) | (y != 0).all(axis=1))
    assert 0 < (y[:, 0] == 0).sum() < 200


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "half"])
def test_dropout_rate_must_be_in_zero_one(rate):
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\)"):
        gc.layers.Dropout(rate)
