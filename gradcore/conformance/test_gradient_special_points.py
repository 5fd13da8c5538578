"""Gradients at the points where a formula would give 0 * inf or has to break a tie.

TensorFlow's rules, each written out in the test's docstring:
- Pow: d x^y / dy = x^y log x where x > 0 and 0 elsewhere (its gradient masks log x), so the
  exponent's gradient at x = 0 is exactly 0, never 0 * log 0 = NaN.
- Sqrt: the SqrtGrad kernel returns 0 wherever the upstream gradient is 0, even at x = 0 where
  1 / (2 sqrt x) is inf; where the upstream is not 0 the gradient at 0 is inf.
- MaxPool: each window's gradient goes to the window's first maximum in row-major order;
  windows that overlap add up. SAME padding never wins a window.
Expected values come from those formulas evaluated in NumPy float64, or from direct loops.
"""

import math

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

FLOATS = [gc.float32, gc.float64]


def _np(dtype):
    return dtype.as_numpy_dtype


# ---- pow: the exponent's gradient at base 0 ---------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("exponent", [0.5, 1.0, 2.0, 3.7])
def test_pow_gradients_at_base_zero_scalar(dtype, exponent):
    """At x = 0, y > 0: d/dy = 0 exactly; d/dx = y * 0^(y - 1), which is inf for y < 1, 1 for y = 1
    and 0 for y > 1."""
    x, y = gc.constant(0.0, dtype=dtype), gc.constant(exponent, dtype=dtype)
    with np.errstate(divide="ignore", invalid="ignore"), gc.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        z = gc.pow(x, y)
        dx, dy = tape.gradient(z, [x, y])
    assert dy.dtype is dtype and dx.dtype is dtype
    assert float(z.numpy()) == 0.0
    assert float(dy.numpy()) == 0.0, f"d(0^y)/dy at y={exponent} is {float(dy.numpy())}, TF gives 0"
    expected_dx = math.inf if exponent < 1 else (1.0 if exponent == 1 else 0.0)
    assert float(dx.numpy()) == expected_dx


def _pow_exponent_gradient(x, y, weights):
    """sum over the broadcast axes of w * x^y * log x, with log x taken as 0 where x <= 0 (TF's mask)."""
    with np.errstate(divide="ignore"):
        log_x = np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), 0.0)
    full = weights * np.power(x, y) * log_x
    leading = full.sum(axis=tuple(range(full.ndim - np.ndim(y))))  # axes y lacks
    return leading.sum(axis=tuple(i for i, n in enumerate(np.shape(y)) if n == 1), keepdims=True)  # axes y has as 1


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
@pytest.mark.parametrize("x_values, y_values", [
    ([[0.0], [0.5], [2.0]], [0.5, 1.0, 2.0, 3.0]),  # x (3, 1) against y (4,): a zero row
    ([0.0, 1.5, 0.0, 0.25], 2.5),  # zeros in x, a scalar exponent: dy sums over x
    ([[0.0, 0.0], [0.0, 0.0]], [[1.5], [0.25]]),  # every base 0: dy is exactly 0
], ids=["column-against-row", "vector-against-scalar", "all-zero-bases"])
def test_pow_exponent_gradient_with_zero_bases_and_broadcasting(dtype, x_values, y_values):
    x_np, y_np = np.array(x_values), np.array(y_values)
    weights = np.random.default_rng(5).uniform(0.5, 2.0, size=np.broadcast_shapes(x_np.shape, y_np.shape))
    x, y = gc.constant(x_np, dtype=dtype), gc.constant(y_np, dtype=dtype)
    with gc.GradientTape() as tape:
        tape.watch(y)
        loss = gc.reduce_sum((x**y) * gc.constant(weights, dtype=dtype))  # the ** operator path
    dy = tape.gradient(loss, y)
    assert dy.shape == y_np.shape and dy.dtype is dtype
    assert np.all(np.isfinite(dy.numpy())), dy.numpy()
    rounded = [a.astype(_np(dtype)).astype(np.float64) for a in (x_np, y_np, weights)]
    assert_allclose(dy, _pow_exponent_gradient(*rounded), dtype=dtype)


# ---- sqrt: zero upstream gives zero ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_sqrt_gradient_with_a_zero_upstream_is_zero_even_at_zero(dtype):
    """Explicit output_gradients: 0 upstream at x = 0 gives 0 (not 0 * inf = NaN), a non-zero
    upstream at x = 0 gives inf, and elsewhere dy / (2 sqrt x)."""
    x = gc.constant([0.0, 0.0, 1.0, 4.0], dtype=dtype)
    upstream = gc.constant([0.0, 3.0, 0.0, 2.0], dtype=dtype)
    with np.errstate(divide="ignore", invalid="ignore"), gc.GradientTape() as tape:
        tape.watch(x)
        y = gc.sqrt(x)
        grad = tape.gradient(y, x, output_gradients=upstream)
    assert grad.dtype is dtype
    np.testing.assert_array_equal(grad.numpy(), [0.0, np.inf, 0.0, 0.5])


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_sqrt_at_zero_masked_by_a_multiplication_has_zero_gradient(dtype):
    """A mask multiplied in (the reduce_std / norm pattern) sends 0 upstream to sqrt at x = 0."""
    values = np.array([[0.0, 9.0], [0.25, 0.0]])
    mask = (values > 0).astype(np.float64)
    x = gc.constant(values, dtype=dtype)
    with np.errstate(divide="ignore", invalid="ignore"), gc.GradientTape() as tape:
        tape.watch(x)
        loss = gc.reduce_sum(gc.sqrt(x) * gc.constant(mask, dtype=dtype))
        grad = tape.gradient(loss, x)
    assert grad.numpy()[0, 0] == 0.0 and grad.numpy()[1, 1] == 0.0  # exactly, not NaN
    assert_allclose(grad, [[0.0, 1.0 / 6.0], [1.0, 0.0]], dtype=dtype)  # 1 / (2 sqrt x) elsewhere


# ---- max pool: ties go to the window's first maximum ------------------------------------------------


def _pool_geometry(size, window, stride, padding):
    """(number of outputs, padding before) along one axis, by TF's formulas."""
    if padding == "VALID":
        return math.ceil((size - window + 1) / stride), 0
    out = math.ceil(size / stride)
    return out, max((out - 1) * stride + window - size, 0) // 2


def first_maximum_pool_gradient(x, upstream, ksize, strides, padding):
    """Direct loops: each window's upstream value added at its first maximum (row-major)."""
    n_batch, height, width, channels = x.shape
    (out_h, top), (out_w, left) = (_pool_geometry(height, ksize[0], strides[0], padding),
                                   _pool_geometry(width, ksize[1], strides[1], padding))
    pooled = np.empty((n_batch, out_h, out_w, channels))
    grad = np.zeros_like(x)
    for b in range(n_batch):
        for c in range(channels):
            for i in range(out_h):
                for j in range(out_w):
                    best = None
                    for r in range(i * strides[0] - top, i * strides[0] - top + ksize[0]):
                        for q in range(j * strides[1] - left, j * strides[1] - left + ksize[1]):
                            inside = 0 <= r < height and 0 <= q < width
                            if inside and (best is None or x[b, r, q, c] > x[b, best[0], best[1], c]):
                                best = (r, q)
                    pooled[b, i, j, c] = x[b, best[0], best[1], c]
                    grad[b, best[0], best[1], c] += upstream[b, i, j, c]
    return pooled, grad


@pytest.mark.parametrize("ksize, strides, padding", [
    ((2, 3), (2, 1), "VALID"),  # overlapping along the width only
    ((3, 3), (2, 2), "SAME"),  # padded windows at the edges; the pad must never be the maximum
    ((2, 2), (1, 1), "SAME"),  # every element in up to four windows
])
def test_max_pool_ties_go_to_the_first_maximum(ksize, strides, padding):
    rng = np.random.default_rng(11)
    x_np = rng.integers(0, 3, size=(2, 5, 6, 2)).astype(np.float64)  # three levels: ties everywhere
    x_np[1] -= 5.0  # all negative in the second image: a zero pad would win its edge windows
    x = gc.constant(x_np)
    with gc.GradientTape() as tape:
        tape.watch(x)
        y = gc.nn.max_pool2d(x, list(ksize), list(strides), padding)
        upstream = rng.uniform(0.5, 2.0, size=y.shape)
        loss = gc.reduce_sum(y * gc.constant(upstream))
    expected_y, expected_grad = first_maximum_pool_gradient(x_np, upstream, ksize, strides, padding)
    np.testing.assert_array_equal(y.numpy(), expected_y)
    assert_allclose(tape.gradient(loss, x), expected_grad, dtype=gc.float64)
