"""gc.random: determinism, distributions, dtypes and argument checks.

Distribution checks draw N = 20000 samples with a fixed seed, so each test is
deterministic; the bounds are 5 standard errors of the statistic, which a
correct generator meets with probability above 1 - 1e-6 for any seed, while a
wrong mean, scale or shape misses them by far.
"""

import math

import numpy as np
import pytest

import gradcore as gc

N = 20000
FLOATS = (gc.float16, gc.bfloat16, gc.float32, gc.float64)


def five_standard_errors(variance_of_one_draw):
    return 5 * math.sqrt(variance_of_one_draw / N)


# ---- determinism -----------------------------------------------------------------------------


@pytest.mark.parametrize("draw", [
    lambda seed: gc.random.normal((3, 4), seed=seed),
    lambda seed: gc.random.uniform((3, 4), seed=seed),
    lambda seed: gc.random.uniform((3, 4), minval=-5, maxval=5, dtype=gc.int32, seed=seed),
    lambda seed: gc.random.truncated_normal((3, 4), seed=seed),
])
def test_an_explicit_seed_alone_decides_the_values(draw):
    # Stateless on purpose (random_ops docstring): TF would give a new sequence per call.
    np.testing.assert_array_equal(draw(7).numpy(), draw(7).numpy())
    assert not np.array_equal(draw(7).numpy(), draw(8).numpy())


def test_set_seed_restarts_the_global_sequence():
    gc.random.set_seed(1234)
    first, second = gc.random.normal((5,)).numpy(), gc.random.normal((5,)).numpy()
    assert not np.array_equal(first, second)  # seed=None draws advance the global generator
    gc.random.set_seed(1234)
    np.testing.assert_array_equal(gc.random.normal((5,)).numpy(), first)
    np.testing.assert_array_equal(gc.random.normal((5,)).numpy(), second)


def test_every_backend_gets_the_numpy_backends_bits():
    here = [gc.random.normal((4,), seed=3), gc.random.uniform((4,), dtype=gc.bfloat16, seed=3),
            gc.random.uniform((4,), maxval=100, dtype=gc.int64, seed=3)]
    with gc.backend_scope("numpy"):
        reference = [gc.random.normal((4,), seed=3), gc.random.uniform((4,), dtype=gc.bfloat16, seed=3),
                     gc.random.uniform((4,), maxval=100, dtype=gc.int64, seed=3)]
    for a, b in zip(here, reference):
        assert a.dtype is b.dtype
        np.testing.assert_array_equal(a.numpy().astype(np.float64), b.numpy().astype(np.float64))


def test_random_ops_record_nothing():
    mean = gc.constant(2.0)
    with gc.GradientTape() as tape:
        tape.watch(mean)
        sample = gc.random.normal((3,), mean=mean, seed=0)
    assert tape.gradient(gc.reduce_sum(sample), mean) is None  # parameters are read as values


# ---- distributions ---------------------------------------------------------------------------


def test_normal_moments_and_shape():
    x = gc.random.normal((N,), mean=1.5, stddev=2.0, dtype=gc.float64, seed=11).numpy()
    assert abs(x.mean() - 1.5) < five_standard_errors(2.0**2)
    assert abs(x.var() - 4.0) < five_standard_errors(2 * 2.0**4)  # Var(s^2) ~ 2 sigma^4 / N
    p = math.erf(1 / math.sqrt(2))  # P(|x - mean| < stddev) = 0.6827 for a normal
    assert abs(np.mean(np.abs(x - 1.5) < 2.0) - p) < five_standard_errors(p * (1 - p))


def test_normal_parameters_broadcast_over_the_shape():
    x = gc.random.normal((N // 10, 3), mean=[0.0, 10.0, 100.0], stddev=[1.0, 0.0, 2.0], seed=5).numpy()
    np.testing.assert_array_equal(x[:, 1], 10.0)  # stddev 0: exactly the mean
    assert abs(x[:, 2].mean() - 100.0) < 5 * 2.0 / math.sqrt(N // 10)


def test_uniform_float_moments_and_range():
    low, high = -2.0, 3.0
    x = gc.random.uniform((N,), minval=low, maxval=high, dtype=gc.float64, seed=12).numpy()
    assert x.min() >= low and x.max() < high
    width = high - low
    assert abs(x.mean() - (low + high) / 2) < five_standard_errors(width**2 / 12)
    # Var(s^2) ~ (mu4 - sigma^4) / N with mu4 = width^4 / 80 for a uniform
    assert abs(x.var() - width**2 / 12) < five_standard_errors(width**4 / 80 - (width**2 / 12) ** 2)


def test_uniform_float16_never_rounds_up_to_maxval():
    # 1 - u rounds to 1.0 in float16 for u within 2^-12 of 1: about 24 of 100000 draws would.
    x = gc.random.uniform((100000,), dtype=gc.float16, seed=13).numpy()
    assert x.min() >= 0 and x.max() < 1


def test_uniform_int_is_flat_over_the_half_open_range():
    x = gc.random.uniform((N,), minval=-3, maxval=7, dtype=gc.int32, seed=14).numpy()
    assert x.dtype == np.int32
    counts = np.bincount(x + 3, minlength=10)
    assert len(counts) == 10  # nothing at or above maxval
    # each count is Binomial(N, 1/10)
    assert np.all(np.abs(counts - N / 10) < 5 * math.sqrt(N * 0.1 * 0.9))


def test_truncated_normal_is_redrawn_not_clipped():
    mean, stddev = 0.5, 3.0
    x = gc.random.truncated_normal((N,), mean=mean, stddev=stddev, dtype=gc.float64, seed=15).numpy()
    z = (x - mean) / stddev
    assert np.abs(z).max() <= 2 + 1e-12
    # Clipping would pile 4.6% of the draws onto +-2; re-drawing leaves about 0.1% in (1.99, 2].
    assert np.mean(np.abs(z) > 1.99) < 0.005
    # Moments of N(0, 1) truncated to [-a, a]: with Z = erf(a / sqrt 2) and phi the normal pdf,
    # m2 = 1 - 2 a phi(a) / Z and m4 = 3 m2 - 2 a^3 phi(a) / Z.
    a, phi = 2.0, math.exp(-2.0) / math.sqrt(2 * math.pi)
    big_z = math.erf(a / math.sqrt(2))
    m2 = 1 - 2 * a * phi / big_z
    m4 = 3 * m2 - 2 * a**3 * phi / big_z
    assert abs(z.mean()) < five_standard_errors(m2)
    assert abs(z.var() - m2) < five_standard_errors(m4 - m2**2)


# ---- dtypes and shapes ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("draw", [gc.random.normal, gc.random.uniform, gc.random.truncated_normal],
                         ids=["normal", "uniform", "truncated_normal"])
def test_float_dtypes(draw, dtype):
    x = draw((2, 3), dtype=dtype, seed=0)
    assert x.dtype is dtype and x.shape == (2, 3)
    assert gc.get_backend().dtype_of(x._value) is dtype


@pytest.mark.parametrize("dtype", (gc.int32, gc.int64, gc.uint8), ids=lambda d: d.name)
def test_uniform_integer_dtypes(dtype):
    x = gc.random.uniform((50,), minval=0, maxval=3, dtype=dtype, seed=0)
    assert x.dtype is dtype and gc.get_backend().dtype_of(x._value) is dtype
    assert set(np.unique(x.numpy())) == {0, 1, 2}


def test_scalar_and_empty_shapes():
    assert gc.random.normal((), seed=0).shape == ()
    assert gc.random.truncated_normal(4, seed=0).shape == (4,)
    assert gc.random.uniform((0, 3), seed=0).shape == (0, 3)


# ---- bad arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize("call, error, message", [
    (lambda: gc.random.normal((2, -1)), gc.InvalidArgumentError, "negative"),
    (lambda: gc.random.normal((2,), stddev=-1.0), gc.InvalidArgumentError, "stddev"),
    (lambda: gc.random.truncated_normal((2,), stddev=-0.5), gc.InvalidArgumentError, "stddev"),
    (lambda: gc.random.normal((2,), dtype=gc.int32), gc.DTypeError, "int32"),
    (lambda: gc.random.uniform((2,), dtype=gc.bool), gc.DTypeError, "bool"),
    (lambda: gc.random.uniform((2,), dtype=gc.int32), gc.InvalidArgumentError, "maxval"),
    (lambda: gc.random.uniform((2,), minval=3, maxval=3, dtype=gc.int32), gc.InvalidArgumentError, "minval < maxval"),
    (lambda: gc.random.uniform((2,), minval=2.0, maxval=1.0), gc.InvalidArgumentError, "minval < maxval"),
    (lambda: gc.random.uniform((2,), maxval=300, dtype=gc.uint8), gc.InvalidArgumentError, "uint8"),
    (lambda: gc.random.uniform((2,), maxval=2.5, dtype=gc.int32), gc.InvalidArgumentError, "whole numbers"),
    (lambda: gc.random.normal((3,), mean=[1.0, 2.0]), gc.ShapeError, "mean"),
    (lambda: gc.random.normal((2,), seed=1.5), gc.InvalidArgumentError, "seed"),
    (lambda: gc.random.set_seed("abc"), gc.InvalidArgumentError, "seed"),
])
def test_bad_arguments_name_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call()
