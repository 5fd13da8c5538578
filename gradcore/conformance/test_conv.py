"""Convolution and pooling beyond the op cases: TF's documented numbers, TF's SAME split and tie
rule, direct-loop references for values and gradients, native autodiff as an oracle, errors,
the composites on this backend, and a float32 training-size sanity check.
"""

import math

import numpy as np
import pytest

import gradcore as gc
from gradcore.ops import conv_ops
from gradcore.plugin.contract import composite_view
from gradcore.testing import assert_allclose

from .cases import conv_cases as ref

KERNELS = ("conv2d", "conv2d_backprop_input", "conv2d_backprop_filter", "max_pool2d", "max_pool2d_grad",
           "max_pool2d_grad_grad", "avg_pool2d", "avg_pool2d_grad")


def image(rows):
    """A [1, H, W, 1] float32 image from a nested list of rows."""
    return gc.constant(np.array(rows, np.float32)[None, :, :, None])


def pixels(t):
    return t.numpy()[0, :, :, 0].tolist()


def value_and_grads(fn, arrays, weights):
    """fn(*arrays) and the gradient of sum(weights * fn) for each input, all float64."""
    inputs = [gc.constant(a) for a in arrays]
    with gc.GradientTape() as tape:
        tape.watch(inputs)
        y = fn(*inputs)
        loss = gc.reduce_sum(y * gc.constant(weights))
    return y.numpy(), [g.numpy() for g in tape.gradient(loss, inputs)]


# ---- TensorFlow's documented numbers ----------------------------------------------------------

# The examples of tf.keras.layers.MaxPooling2D / AveragePooling2D (pool 2x2), which run tf.nn's ops.
THREE_BY_THREE = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
THREE_BY_FOUR = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]


@pytest.mark.parametrize("pool, rows, strides, padding, expected", [
    (gc.nn.max_pool2d, THREE_BY_THREE, 1, "VALID", [[5, 6], [8, 9]]),
    (gc.nn.max_pool2d, THREE_BY_THREE, 1, "SAME", [[5, 6, 6], [8, 9, 9], [8, 9, 9]]),
    (gc.nn.max_pool2d, THREE_BY_FOUR, 2, "VALID", [[6, 8]]),
    (gc.nn.avg_pool2d, THREE_BY_THREE, 1, "VALID", [[3, 4], [6, 7]]),
    # SAME averages over the input elements of a window only: 4.5 = (3 + 6) / 2, not (3 + 6) / 4.
    (gc.nn.avg_pool2d, THREE_BY_THREE, 1, "SAME", [[3, 4, 4.5], [6, 7, 7.5], [7.5, 8.5, 9]]),
    (gc.nn.avg_pool2d, THREE_BY_FOUR, 2, "VALID", [[3.5, 5.5]]),
])
def test_tf_documented_pooling_examples(pool, rows, strides, padding, expected):
    assert pixels(pool(image(rows), 2, strides, padding)) == expected


def test_same_padding_puts_the_odd_pixel_at_the_bottom_and_right():
    """TF's docs: "when pad_along_height is 5, we pad 2 pixels at the top and 3 pixels at the bottom".

    A 6x6 filter at stride 1 needs 5 padded rows and columns. A filter that is 1 at one tap (i, j)
    reads x[r + i - top, q + j - left], so it reveals the split.
    """
    x = np.arange(1.0, 65.0).reshape(1, 8, 8, 1)
    padded = np.pad(x[0, :, :, 0], ((2, 3), (2, 3)))
    for i, j in [(0, 0), (2, 2), (5, 5), (1, 4)]:
        w = np.zeros((6, 6, 1, 1))
        w[i, j] = 1.0
        y = gc.nn.conv2d(gc.constant(x), gc.constant(w), 1, "SAME")
        np.testing.assert_array_equal(y.numpy()[0, :, :, 0], padded[i : i + 8, j : j + 8])


@pytest.mark.parametrize("size, window, stride", [(1, 1, 1), (5, 3, 2), (6, 3, 2), (7, 2, 3), (8, 4, 3), (9, 1, 2)])
def test_output_sizes_follow_tf_formulas(size, window, stride):
    """SAME: ceil(in / stride); VALID: ceil((in - window + 1) / stride)."""
    x = gc.constant(np.ones((1, size, size + 1, 1)))
    w = gc.constant(np.ones((window, window, 1, 2)))
    same = gc.nn.conv2d(x, w, stride, "SAME").shape
    valid = gc.nn.avg_pool2d(x, window, stride, "VALID").shape
    assert same == (1, math.ceil(size / stride), math.ceil((size + 1) / stride), 2)
    assert valid == (1, math.ceil((size - window + 1) / stride), math.ceil((size + 2 - window) / stride), 1)


def test_max_pool_gradient_goes_to_the_first_maximum_as_tf():
    """Ties: TF routes a window's gradient to its first maximum in row-major order; overlaps add."""
    x = image([[0, 3, 3], [0, 3, 3], [0, 0, 0]])  # four 2x2 windows, each with tied maxima
    with gc.GradientTape() as tape:
        tape.watch(x)
        y = gc.nn.max_pool2d(x, 2, 1, "VALID")
    assert pixels(tape.gradient(y, x)) == [[0, 2, 0], [0, 2, 0], [0, 0, 0]]
    # The second-order op reads the same positions: g at the first maximum of each window.
    g = image([[10, 11, 12], [13, 14, 15], [16, 17, 18]])
    assert pixels(conv_ops.max_pool_grad_grad(x, g, 2, 1, "VALID")) == [[11, 11], [14, 14]]


# ---- direct-loop references for values and gradients --------------------------------------------

CONVS = [  # x shape, filter shape, strides, padding, dilations
    ((2, 9, 8, 3), (3, 3, 3, 4), [1, 2, 2, 1], "SAME", 1),
    ((1, 9, 10, 2), (2, 3, 2, 3), [2, 3], "SAME", [2, 1]),  # stride and dilation together, per axis
    ((2, 6, 7, 2), (3, 2, 2, 2), 1, "VALID", 2),
    ((1, 5, 6, 2), (2, 2, 2, 3), 3, [[0, 0], [1, 2], [3, 0], [0, 0]], 1),
]


@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations", CONVS)
def test_conv2d_and_its_gradients_match_direct_loops(x_shape, w_shape, strides, padding, dilations):
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    s, d = ref.window_pair(strides), ref.window_pair(dilations)
    pads = ref.explicit(padding, x_shape[1:3], w_shape[:2], s, d)
    expected = ref.reference_conv2d(x, w, s, d, pads)
    weights = rng.normal(size=expected.shape)
    y, (dx, dw) = value_and_grads(lambda *xw: gc.nn.conv2d(*xw, strides, padding, dilations=dilations), [x, w], weights)
    assert_allclose(y, expected, dtype=gc.float64)
    assert_allclose(dx, ref.reference_conv2d_backprop_input(w, weights, x_shape, s, d, pads), dtype=gc.float64)
    assert_allclose(dw, ref.reference_conv2d_backprop_filter(x, weights, w_shape, s, d, pads), dtype=gc.float64)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("x_shape, ksize, strides, padding", [
    ((2, 9, 8, 3), 3, 2, "SAME"),
    ((1, 7, 9, 2), [1, 2, 4, 1], [3, 2], "SAME"),
    ((2, 8, 7, 1), [3, 2], 1, "VALID"),
])
def test_pools_and_their_gradients_match_direct_loops(kind, x_shape, ksize, strides, padding):
    rng = np.random.default_rng(1)
    x = ref.distinct(x_shape)(rng)[0]
    k, s = ref.window_pair(ksize), ref.window_pair(strides)
    pads = ref.explicit(padding, x_shape[1:3], k, s)
    pool, reference = {"max": (gc.nn.max_pool2d, ref.reference_max_pool2d),
                       "avg": (gc.nn.avg_pool2d, ref.reference_avg_pool2d)}[kind]
    expected = reference(x, k, s, pads)
    weights = rng.normal(size=expected.shape)
    y, (dx,) = value_and_grads(lambda x: pool(x, ksize, strides, padding), [x], weights)
    assert_allclose(y, expected, dtype=gc.float64)
    expected_dx = (ref.reference_max_pool2d_grad(x, weights, k, s, pads) if kind == "max"
                   else ref.reference_avg_pool2d_grad(weights, x_shape, k, s, pads))
    assert_allclose(dx, expected_dx, dtype=gc.float64)


# ---- native autodiff as an oracle ------------------------------------------------------------------


def torch_oracle(x, w, weights, strides, padding, dilations):
    """torch.nn.functional and torch.autograd on NHWC arrays; TF's SAME split spelled out with F.pad."""
    import torch
    import torch.nn.functional as F

    (top, bottom), (left, right) = ref.explicit(padding, x.shape[1:3], w.shape[:2], strides, dilations)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    padded = F.pad(xt.permute(0, 3, 1, 2), (left, right, top, bottom))
    y = F.conv2d(padded, wt.permute(3, 2, 0, 1), stride=strides, dilation=dilations).permute(0, 2, 3, 1)
    grads = torch.autograd.grad((y * torch.tensor(weights)).sum(), [xt, wt])
    return y.detach().numpy(), [g.numpy() for g in grads]


def jax_oracle(x, w, weights, strides, padding, dilations):
    import jax

    def loss(x, w):
        y = jax.lax.conv_general_dilated(x, w, strides, padding, rhs_dilation=dilations,
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                         precision=jax.lax.Precision.HIGHEST)
        return (y * weights).sum(), y

    with jax.enable_x64(True):
        (_, y), grads = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(x, w)
        return np.asarray(y), [np.asarray(g) for g in grads]


@pytest.mark.parametrize("oracle", ["torch", "jax"])
@pytest.mark.parametrize("strides, padding, dilations", [((2, 2), "SAME", (1, 1)), ((1, 2), "VALID", (2, 1))])
def test_conv2d_gradients_match_native_autodiff(oracle, strides, padding, dilations):
    pytest.importorskip(oracle)
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(2, 7, 8, 3)), rng.normal(size=(3, 2, 3, 4))

    def conv(x, w):
        return gc.nn.conv2d(x, w, list(strides), padding, dilations=list(dilations))

    weights = rng.normal(size=conv(gc.constant(x), gc.constant(w)).shape)
    y, grads = value_and_grads(conv, [x, w], weights)
    expected_y, expected_grads = {"torch": torch_oracle, "jax": jax_oracle}[oracle](
        x, w, weights, strides, padding, dilations)
    assert_allclose(y, expected_y, dtype=gc.float64)
    for g, e in zip(grads, expected_grads):
        assert_allclose(g, e, dtype=gc.float64)


# ---- errors ----------------------------------------------------------------------------------------


@pytest.fixture
def no_kernel_runs(monkeypatch):
    backend = gc.get_backend()
    for name in KERNELS:
        def kernel(*args, _name=name):
            raise AssertionError(f"kernel {_name} ran although the core should have refused the input")

        monkeypatch.setattr(backend, name, kernel)


def zeros(*shape, dtype=np.float32):
    return gc.constant(np.zeros(shape, dtype))


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: gc.nn.conv2d(zeros(1, 3, 5, 5), zeros(3, 3, 3, 2), 1, "SAME", data_format="NCHW"),
     gc.InvalidArgumentError, r"gc.nn.conv2d: data_format 'NCHW' is not supported.*NHWC"),
    (lambda: gc.nn.conv2d(zeros(5, 5, 3), zeros(3, 3, 3, 2), 1, "SAME"),
     gc.ShapeError, r"gc.nn.conv2d: input must have rank 4.*got shape \(5, 5, 3\)"),
    (lambda: gc.nn.conv2d(zeros(1, 5, 5, 3), zeros(3, 3, 2, 4), 1, "SAME"),
     gc.ShapeError, r"input of shape \(1, 5, 5, 3\) has 3 channels but filters of shape \(3, 3, 2, 4\) expect 2"),
    (lambda: gc.nn.conv2d(zeros(1, 2, 5, 1), zeros(3, 3, 1, 1), 1, "VALID"),
     gc.ShapeError, r"window spans 3 along height.*\(1, 2, 5, 1\) has only 2.*padding='SAME'"),
    (lambda: gc.nn.conv2d(zeros(1, 4, 4, 1), zeros(2, 2, 1, 1), 1, "VALID", dilations=4),
     gc.ShapeError, r"window spans 5 along height"),
    (lambda: gc.nn.conv2d(zeros(1, 4, 4, 1), zeros(2, 2, 1, 1), 1, "same"),
     gc.InvalidArgumentError, r"padding must be 'SAME', 'VALID' or \[\[0, 0\], \[top, bottom\]"),
    (lambda: gc.nn.conv2d(zeros(1, 4, 4, 1), zeros(2, 2, 1, 1), 1, [[1, 1], [1, 1], [1, 1], [1, 1]]),
     gc.InvalidArgumentError, r"padding must be"),
    (lambda: gc.nn.conv2d(zeros(1, 4, 4, 1), zeros(2, 2, 1, 1), [2, 1, 1, 1], "SAME"),
     gc.InvalidArgumentError, r"strides must be .*nothing along batch or channels.*got \[2, 1, 1, 1\]"),
    (lambda: gc.nn.conv2d(zeros(1, 4, 4, 1), zeros(2, 2, 1, 1), 0, "SAME"),
     gc.InvalidArgumentError, r"strides must be a positive int"),
    (lambda: gc.nn.conv2d(zeros(1, 4, 4, 1, dtype=np.int32), zeros(2, 2, 1, 1, dtype=np.int32), 1, "SAME"),
     gc.DTypeError, r"gc.nn.conv2d: expected a floating-point tensor"),
    (lambda: gc.nn.conv2d(zeros(1, 4, 4, 1), zeros(2, 2, 1, 1, dtype=np.float64), 1, "SAME"),
     gc.DTypeError, r"gc.nn.conv2d"),
    (lambda: gc.nn.conv2d_backprop_input([1, 5, 5, 2], zeros(3, 3, 2, 4), zeros(1, 5, 5, 3), 1, "SAME"),
     gc.ShapeError, r"out_backprop has shape \(1, 5, 5, 3\), but the convolution's output has shape \(1, 5, 5, 4\)"),
    (lambda: gc.nn.max_pool2d(zeros(1, 4, 4, 1), 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]),
     gc.InvalidArgumentError, r"gc.nn.max_pool2d: padding must be 'SAME', 'VALID', got"),
    (lambda: gc.nn.max_pool2d(zeros(1, 4, 4, 2), [1, 2, 2, 2], 2, "VALID"),
     gc.InvalidArgumentError, r"gc.nn.max_pool2d: ksize must be"),
    (lambda: gc.nn.avg_pool2d(zeros(1, 1, 4, 4, 1), 2, 2, "VALID"),
     gc.ShapeError, r"gc.nn.avg_pool2d: input must have rank 4"),
    (lambda: gc.nn.avg_pool2d(zeros(1, 4, 4, 1), 5, 1, "VALID"),
     gc.ShapeError, r"gc.nn.avg_pool2d: the window spans 5 along height"),
    (lambda: conv_ops.max_pool_grad(zeros(1, 4, 4, 1), zeros(1, 3, 3, 1), 2, 2, "VALID"),
     gc.ShapeError, r"grad has shape \(1, 3, 3, 1\), but must have the pooled output's shape \(1, 2, 2, 1\)"),
])
def test_bad_arguments_raise_naming_the_op_before_any_kernel_runs(call, error, pattern, no_kernel_runs):
    with pytest.raises(error, match=pattern):
        call()


def test_backprop_filter_rejects_a_mismatched_out_backprop(no_kernel_runs):
    with pytest.raises(gc.ShapeError, match=r"out_backprop has shape \(1, 5, 5, 4\).*output has shape \(1, 3, 3, 4\)"):
        gc.nn.conv2d_backprop_filter(zeros(1, 5, 5, 2), [3, 3, 2, 4], zeros(1, 5, 5, 4), 2, "SAME")


def test_aliases():
    assert gc.nn.max_pool is gc.nn.max_pool2d and gc.nn.avg_pool is gc.nn.avg_pool2d


# ---- the composites on this backend -----------------------------------------------------------------

COMPOSITE_INPUTS = {  # kernel -> (input shapes, extra arguments); 3x3 windows, SAME at stride 2 of 7x6
    "conv2d": ([(2, 7, 6, 3), (3, 3, 3, 2)], ((2, 2), (1, 1), ((1, 1), (0, 1)))),
    "conv2d_backprop_input": ([(3, 3, 3, 2), (2, 4, 3, 2)], ((2, 7, 6, 3), (2, 2), (1, 1), ((1, 1), (0, 1)))),
    "conv2d_backprop_filter": ([(2, 7, 6, 3), (2, 4, 3, 2)], ((3, 3, 3, 2), (2, 2), (1, 1), ((1, 1), (0, 1)))),
    "max_pool2d": ([(2, 7, 6, 3)], ((3, 3), (2, 2), ((1, 1), (0, 1)))),
    "max_pool2d_grad": ([(2, 7, 6, 3), (2, 4, 3, 3)], ((3, 3), (2, 2), ((1, 1), (0, 1)))),
    "max_pool2d_grad_grad": ([(2, 7, 6, 3), (2, 7, 6, 3)], ((3, 3), (2, 2), ((1, 1), (0, 1)))),
    "avg_pool2d": ([(2, 7, 6, 3)], ((3, 3), (2, 2), ((1, 1), (0, 1)))),
    "avg_pool2d_grad": ([(2, 4, 3, 3)], ((2, 7, 6, 3), (3, 3), (2, 2), ((1, 1), (0, 1)))),
}


@pytest.mark.parametrize("kernel", KERNELS)
def test_composite_kernels_agree_with_this_backends_own(kernel):
    """The composite defaults a third-party backend inherits, run on this backend's required kernels."""
    backend = gc.get_backend()
    composite = composite_view(backend)
    shapes, extra = COMPOSITE_INPUTS[kernel]
    rng = np.random.default_rng(3)
    raws = [backend.asarray(ref.distinct(shape)(rng)[0], gc.float64) for shape in shapes]
    own = backend.to_numpy(getattr(backend, kernel)(*raws, *extra))
    assert_allclose(backend.to_numpy(getattr(composite, kernel)(*raws, *extra)), own, dtype=gc.float64)


# ---- float32 at a training size -------------------------------------------------------------------------


def test_float32_conv_forward_and_backward_run_one_kernel_each(monkeypatch):
    """A 32x8x8x16 batch through a 3x3x16x16 conv: one kernel forward, one per gradient, float32 accurate.

    Not a timing test: what keeps it fast is that the rule calls the dedicated backward kernels
    once each, never a composite of many small ops.
    """
    backend = gc.get_backend()
    calls = []

    def counted(name, kernel):
        def run(*args):
            calls.append(name)
            return kernel(*args)
        return run

    for name in ("conv2d", "conv2d_backprop_input", "conv2d_backprop_filter"):
        monkeypatch.setattr(backend, name, counted(name, getattr(backend, name)))
    rng = np.random.default_rng(4)
    # Scaled so y, dx and dw are O(1), where the table's float32 tolerance is ~100 ulps: y sums
    # 3*3*16 products, dw sums 32*8*8 of them.
    x = rng.normal(size=(32, 8, 8, 16)).astype(np.float32)
    w = (rng.normal(size=(3, 3, 16, 16)) / 12).astype(np.float32)
    weights = (rng.normal(size=(32, 8, 8, 16)) / 45).astype(np.float32)
    xt, wt = gc.constant(x), gc.Variable(w)
    with gc.GradientTape(persistent=True) as tape:
        tape.watch(xt)
        y = gc.nn.conv2d(xt, wt, 1, "SAME")
        loss = gc.reduce_sum(y * gc.constant(weights))
    dx, dw = tape.gradient(loss, [xt, wt])
    assert calls == ["conv2d", "conv2d_backprop_input", "conv2d_backprop_filter"]
    assert y.dtype is dx.dtype is dw.dtype is gc.float32
    pads, x64, w64, weights64 = ((1, 1), (1, 1)), x.astype(np.float64), w.astype(np.float64), weights.astype(np.float64)
    assert_allclose(y, ref.reference_conv2d(x64, w64, (1, 1), (1, 1), pads), dtype=gc.float32)
    assert_allclose(dx, ref.reference_conv2d_backprop_input(w64, weights64, x.shape, (1, 1), (1, 1), pads),
                    dtype=gc.float32)
    assert_allclose(dw, ref.reference_conv2d_backprop_filter(x64, weights64, w.shape, (1, 1), (1, 1), pads),
                    dtype=gc.float32)
    calls.clear()
    tape.gradient(loss, wt)  # only the filters asked for: the input's backprop is skipped
    assert calls == ["conv2d_backprop_filter"]
