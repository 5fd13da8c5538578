"""gc.initializers: Keras 3's fan computation, distributions, seeding and lookup by name.

Statistics are taken over tens of thousands of draws with fixed seeds; a mean or a variance
must lie within 5 standard errors of its target (a correct initializer misses that with
probability below 1e-6), while a wrong fan, scale or distribution misses it by far. Bounds
(|w| <= limit) are exact.
"""

import math

import numpy as np
import pytest

import gradcore as gc
from gradcore.initializers import compute_fans


def within_five_standard_errors(samples, target_mean, variance_of_one_draw, what):
    error = 5 * math.sqrt(variance_of_one_draw / samples.size)
    assert abs(samples.mean() - target_mean) < error, f"{what}: {samples.mean()} vs {target_mean} +- {error}"


def truncated_normal_moment(k, bound=2.0):
    """E[Z^k] for a standard normal truncated to [-bound, bound], by midpoint quadrature."""
    edges = np.linspace(-bound, bound, 400_001)
    z = (edges[1:] + edges[:-1]) / 2
    density = np.exp(-z * z / 2)
    return float(np.sum(z**k * density) / np.sum(density))


# ---- fans ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, fans", [
    ((), (1, 1)),
    ((5,), (5, 5)),
    ((7, 9), (7, 9)),  # Dense kernel [in, out]
    ((3, 3, 16, 32), (3 * 3 * 16, 3 * 3 * 32)),  # Conv2D kernel [KH, KW, in, out]
])
def test_fans_as_keras(shape, fans):
    assert compute_fans(shape) == fans


# ---- distributions ----------------------------------------------------------------------------


def test_glorot_uniform_is_uniform_within_the_glorot_limit():
    shape = (200, 300)
    limit = math.sqrt(6 / (200 + 300))
    w = gc.initializers.GlorotUniform(seed=1)(shape).numpy().astype(np.float64)
    assert w.shape == shape and np.all(np.abs(w) <= limit)
    assert np.abs(w).max() > 0.999 * limit  # the range is used, not a narrower one
    # U(-a, a): mean 0, variance a^2/3, Var(w^2) = a^4/5 - a^4/9 = 4a^4/45
    within_five_standard_errors(w, 0.0, limit**2 / 3, "mean")
    within_five_standard_errors(w**2, limit**2 / 3, 4 * limit**4 / 45, "variance")


def test_glorot_uniform_on_a_convolution_kernel_uses_the_receptive_field():
    limit = math.sqrt(6 / (3 * 3 * 8 + 3 * 3 * 16))
    w = gc.initializers.get("glorot_uniform")((3, 3, 8, 16)).numpy()
    assert np.all(np.abs(w) <= limit) and np.abs(w).max() > 0.99 * limit


def test_he_normal_is_truncated_with_variance_two_over_fan_in():
    fan_in = 400
    w = gc.initializers.HeNormal(seed=2)((fan_in, 100)).numpy().astype(np.float64)
    # Keras divides the stddev by 0.8796..., the stddev of a standard normal truncated at 2.
    second, fourth = truncated_normal_moment(2), truncated_normal_moment(4)
    assert math.isclose(math.sqrt(second), 0.87962566103423978, rel_tol=1e-8)
    stddev_before_truncation = math.sqrt(2 / fan_in) / 0.87962566103423978
    assert np.all(np.abs(w) <= 2 * stddev_before_truncation)
    within_five_standard_errors(w, 0.0, 2 / fan_in, "mean")
    within_five_standard_errors(w**2, 2 / fan_in, stddev_before_truncation**4 * (fourth - second**2), "variance")


@pytest.mark.parametrize("mode, fan", [("fan_in", 60), ("fan_out", 90), ("fan_avg", 75)])
def test_variance_scaling_modes_pick_the_fan(mode, fan):
    init = gc.initializers.VarianceScaling(scale=3.0, mode=mode, distribution="uniform", seed=3)
    w = init((60, 90)).numpy()
    limit = math.sqrt(3 * 3.0 / fan)
    assert np.all(np.abs(w) <= limit) and np.abs(w).max() > 0.99 * limit


def test_untruncated_normal_and_the_defaults_of_the_plain_random_initializers():
    w = gc.initializers.VarianceScaling(2.0, "fan_in", "untruncated_normal", seed=4)((100, 300)).numpy()
    within_five_standard_errors(w.astype(np.float64) ** 2, 2 / 100, 2 * (2 / 100) ** 2, "variance")
    assert np.abs(w).max() > 2 * math.sqrt(2 / 100)  # not truncated
    u = gc.initializers.RandomUniform(seed=5)((10000,)).numpy()
    assert u.min() >= -0.05 and u.max() < 0.05  # Keras default range [-0.05, 0.05)
    n = gc.initializers.RandomNormal(seed=6)((20000,)).numpy().astype(np.float64)
    within_five_standard_errors(n**2, 0.05**2, 2 * 0.05**4, "RandomNormal variance (stddev 0.05)")


def test_constant_zeros_and_ones():
    np.testing.assert_array_equal(gc.initializers.Zeros()((2, 3)).numpy(), np.zeros((2, 3)))
    ones = gc.initializers.Ones()((4,), dtype=gc.int32)
    assert ones.dtype is gc.int32 and ones.numpy().tolist() == [1, 1, 1, 1]
    row = gc.initializers.Constant([1.0, 2.0, 3.0])((2, 3), dtype=gc.float64)
    assert row.dtype is gc.float64
    np.testing.assert_array_equal(row.numpy(), [[1, 2, 3], [1, 2, 3]])


def test_dtype_defaults_to_float32():
    assert gc.initializers.GlorotNormal(seed=0)((2, 2)).dtype is gc.float32
    assert gc.initializers.HeUniform(seed=0)((2, 2), dtype=gc.float64).dtype is gc.float64


# ---- seeds ------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda seed: gc.initializers.GlorotUniform(seed=seed),
    lambda seed: gc.initializers.HeNormal(seed=seed),
    lambda seed: gc.initializers.RandomNormal(seed=seed),
    lambda seed: gc.initializers.LecunUniform(seed=seed),
])
def test_a_seeded_initializer_repeats_its_values_on_every_backend(make):
    here = make(11)((4, 5)).numpy()
    np.testing.assert_array_equal(make(11)((4, 5)).numpy(), here)
    np.testing.assert_array_equal(make(11)((4, 5)).numpy(), make(11)((4, 5)).numpy())
    assert not np.array_equal(make(12)((4, 5)).numpy(), here)
    with gc.backend_scope("numpy"):
        np.testing.assert_array_equal(make(11)((4, 5)).numpy(), here)


def test_unseeded_initializers_differ_per_call_and_set_seed_makes_them_reproducible():
    init = gc.initializers.GlorotUniform()
    assert not np.array_equal(init((3, 3)).numpy(), init((3, 3)).numpy())

    def model_weights():
        model = gc.Sequential([gc.layers.Dense(4, activation="relu"), gc.layers.Dense(2)])
        model(np.ones((1, 3), np.float32))
        return model.get_weights()

    gc.random.set_seed(42)
    first = model_weights()
    second = model_weights()
    gc.random.set_seed(42)
    again = model_weights()
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], second[0])


def test_a_seeded_layer_has_the_numpy_backends_weights():
    def kernel():
        layer = gc.layers.Dense(3, kernel_initializer=gc.initializers.GlorotUniform(seed=7))
        layer(gc.ones((1, 4)))
        return layer.kernel.numpy()

    here = kernel()
    with gc.backend_scope("numpy"):
        np.testing.assert_array_equal(kernel(), here)


def test_a_non_integer_seed_is_rejected():
    with pytest.raises(ValueError, match="seed must be an int"):
        gc.initializers.HeNormal(seed=1.5)


# ---- lookup -----------------------------------------------------------------------------------


@pytest.mark.parametrize("identifier, cls", [
    ("glorot_uniform", gc.initializers.GlorotUniform),
    ("GlorotUniform", gc.initializers.GlorotUniform),
    ("he_normal", gc.initializers.HeNormal),
    ("zeros", gc.initializers.Zeros),
    ("ones", gc.initializers.Ones),
    ("uniform", gc.initializers.RandomUniform),
    ("truncated_normal", gc.initializers.TruncatedNormal),
    (gc.initializers.LecunNormal, gc.initializers.LecunNormal),
])
def test_get_by_name_or_class(identifier, cls):
    assert type(gc.initializers.get(identifier)) is cls


def test_get_passes_instances_callables_and_none_through():
    init = gc.initializers.HeNormal(seed=1)
    assert gc.initializers.get(init) is init
    fn = lambda shape, dtype=None: gc.zeros(shape, dtype)
    assert gc.initializers.get(fn) is fn
    assert gc.initializers.get(None) is None


def test_get_rejects_unknown_names_and_settings():
    with pytest.raises(ValueError, match="unknown initializer 'glorot'"):
        gc.initializers.get("glorot")
    with pytest.raises(ValueError, match="mode"):
        gc.initializers.VarianceScaling(mode="fan_sideways")
    with pytest.raises(ValueError, match="scale"):
        gc.initializers.VarianceScaling(scale=0)
