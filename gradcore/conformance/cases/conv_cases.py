"""Cases for convolution and pooling (gradcore/ops/conv_ops.py), and their direct-loop references.

The references loop over output pixels and window taps in float64 NumPy, straight
from the definitions: a convolution sums input times filter over each window, its
input and filter gradients scatter those products back, pooling reads each window's
input (not padding) elements. ``same_padding`` is TF's documented SAME arithmetic,
written here again so the references do not borrow gradcore's. They take padding as
((top, bottom), (left, right)), as the kernels do; ``test_conv.py`` and
``tests/unit/test_composites.py`` use them too.

Max-pool inputs are distinct values spaced far apart, so no window has a tie and
central differences see the derivative of one fixed argmax.
"""

import math

import numpy as np

import gradcore as gc
from gradcore.ops import conv_ops

from . import OpCase, normal


def same_padding(size, window, stride, dilation=1):
    """TF: out = ceil(size / stride); pad the shortfall, the odd pixel at the bottom/right."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (window - 1) * dilation + 1 - size, 0)
    return (total // 2, total - total // 2)


def window_pair(value):
    """TF's spellings of a window argument (k, [kh, kw], [1, kh, kw, 1]) as (kh, kw)."""
    values = [value] if isinstance(value, int) else list(value)
    return tuple(values[1:3]) if len(values) == 4 else (values[0], values[-1])


def explicit(padding, input_hw, window_hw, strides, dilations=(1, 1)):
    """TF's ``padding`` argument as ((top, bottom), (left, right))."""
    if padding == "VALID":
        return ((0, 0), (0, 0))
    if padding == "SAME":
        return tuple(same_padding(*args) for args in zip(input_hw, window_hw, strides, dilations))
    return tuple(tuple(pair) for pair in padding[1:3])  # [[0, 0], [top, bottom], [left, right], [0, 0]]


def _out_size(padded, window, stride, dilation):
    return (padded - (window - 1) * dilation - 1) // stride + 1


def _conv_loops(input_shape, filter_shape, strides, dilations, padding):
    """(output size, [(out row, out col, tap row, tap col, padded row, padded col)]) of a convolution."""
    (kh, kw), (sh, sw), (dh, dw) = filter_shape[:2], strides, dilations
    ho = _out_size(input_shape[1] + sum(padding[0]), kh, sh, dh)
    wo = _out_size(input_shape[2] + sum(padding[1]), kw, sw, dw)
    loops = [(r, q, i, j, r * sh + i * dh, q * sw + j * dw)
             for r in range(ho) for q in range(wo) for i in range(kh) for j in range(kw)]
    return (ho, wo), loops


def _pad(x, padding):
    return np.pad(x, ((0, 0), *padding, (0, 0)))


def _crop(x, padding):
    (top, bottom), (left, right) = padding
    return x[:, top : x.shape[1] - bottom, left : x.shape[2] - right]


def reference_conv2d(x, w, strides, dilations, padding):
    xp = _pad(x, padding)
    (ho, wo), loops = _conv_loops(x.shape, w.shape, strides, dilations, padding)
    y = np.zeros((x.shape[0], ho, wo, w.shape[3]))
    for r, q, i, j, a, b in loops:
        y[:, r, q] += xp[:, a, b] @ w[i, j]
    return y


def reference_conv2d_backprop_input(w, dy, input_shape, strides, dilations, padding):
    n, h, wd, c = input_shape
    dxp = np.zeros((n, h + sum(padding[0]), wd + sum(padding[1]), c))
    for r, q, i, j, a, b in _conv_loops(input_shape, w.shape, strides, dilations, padding)[1]:
        dxp[:, a, b] += dy[:, r, q] @ w[i, j].T
    return _crop(dxp, padding)


def reference_conv2d_backprop_filter(x, dy, filter_shape, strides, dilations, padding):
    xp = _pad(x, padding)
    dw = np.zeros(filter_shape)
    for r, q, i, j, a, b in _conv_loops(x.shape, filter_shape, strides, dilations, padding)[1]:
        dw[i, j] += xp[:, a, b].T @ dy[:, r, q]
    return dw


def _pool_windows(input_shape, ksize, strides, padding):
    """(out row, out col, rows, cols): each window's input (not padding) rows and columns as slices."""
    h, w = input_shape[1:3]
    (kh, kw), (sh, sw), ((top, bottom), (left, right)) = ksize, strides, padding
    for r in range(_out_size(h + top + bottom, kh, sh, 1)):
        for q in range(_out_size(w + left + right, kw, sw, 1)):
            a, b = r * sh - top, q * sw - left
            yield r, q, slice(max(a, 0), min(a + kh, h)), slice(max(b, 0), min(b + kw, w))


def _pooled(x, ksize, strides, padding, reduce):
    windows = list(_pool_windows(x.shape, ksize, strides, padding))
    ho, wo = windows[-1][0] + 1, windows[-1][1] + 1
    y = np.zeros((x.shape[0], ho, wo, x.shape[3]))
    for r, q, rows, cols in windows:
        y[:, r, q] = reduce(x[:, rows, cols])
    return y


def reference_max_pool2d(x, ksize, strides, padding):
    return _pooled(x, ksize, strides, padding, lambda window: window.max(axis=(1, 2)))


def reference_avg_pool2d(x, ksize, strides, padding):
    return _pooled(x, ksize, strides, padding, lambda window: window.mean(axis=(1, 2)))


def _first_max_positions(x, ksize, strides, padding):
    """Per window: (r, q, batch index, row index, col index, channel index) of its first (row-major) maximum."""
    n, c = x.shape[0], x.shape[3]
    batch, channel = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    for r, q, rows, cols in _pool_windows(x.shape, ksize, strides, padding):
        window = x[:, rows, cols]
        first = window.reshape(n, -1, c).argmax(axis=1)
        i, j = np.divmod(first, window.shape[2])
        yield r, q, batch, rows.start + i, cols.start + j, channel


def reference_max_pool2d_grad(x, dy, ksize, strides, padding):
    dx = np.zeros(x.shape)
    for r, q, *position in _first_max_positions(x, ksize, strides, padding):
        np.add.at(dx, tuple(position), dy[:, r, q])
    return dx


def reference_max_pool2d_grad_grad(x, g, ksize, strides, padding):
    y = reference_max_pool2d(x, ksize, strides, padding)
    for r, q, *position in _first_max_positions(x, ksize, strides, padding):
        y[:, r, q] = g[tuple(position)]
    return y


def reference_avg_pool2d_grad(dy, input_shape, ksize, strides, padding):
    dx = np.zeros(input_shape)
    for r, q, rows, cols in _pool_windows(input_shape, ksize, strides, padding):
        count = (rows.stop - rows.start) * (cols.stop - cols.start)
        dx[:, rows, cols] += dy[:, r, q, None, None, :] / count
    return dx


def distinct(*shapes):
    """Float arrays of distinct values 0.05 apart in random order: no max-pool window has a tie."""
    def make(rng):
        arrays = []
        for shape in shapes:
            size = math.prod(shape)
            arrays.append((rng.permutation(size) - size / 2).reshape(shape) * 0.05)
        return arrays
    return make


# ---- the cases --------------------------------------------------------------------------------

CONV_OPS = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter")


def conv_case(name, x_shape, w_shape, strides, padding, dilations=1):
    """conv2d(x, w) and, through the harness's first and second order, both backprop ops."""
    s, d = window_pair(strides), window_pair(dilations)
    pads = explicit(padding, x_shape[1:3], w_shape[:2], s, d)

    def fn(x, w):
        return gc.nn.conv2d(x, w, strides, padding, dilations=dilations)

    def reference(x, w):
        return reference_conv2d(x, w, s, d, pads)

    return OpCase(name, CONV_OPS, fn, reference, normal(x_shape, w_shape), grad=(0, 1))


def backprop_case(name, wrt, x_shape, w_shape, strides, padding, dilations=1):
    """conv2d_backprop_input (wrt "input") or conv2d_backprop_filter called as ops: their rules, to second order."""
    s, d = window_pair(strides), window_pair(dilations)
    pads = explicit(padding, x_shape[1:3], w_shape[:2], s, d)
    out = reference_conv2d(np.zeros(x_shape), np.zeros(w_shape), s, d, pads).shape
    if wrt == "input":  # differentiated in (filters, out_backprop)
        def call(w, dy):
            return gc.nn.conv2d_backprop_input(x_shape, w, dy, strides, padding, dilations=dilations)

        def reference(w, dy):
            return reference_conv2d_backprop_input(w, dy, x_shape, s, d, pads)

        return OpCase(name, CONV_OPS, call, reference, normal(w_shape, out), grad=(0, 1))

    def call(x, dy):  # differentiated in (input, out_backprop)
        return gc.nn.conv2d_backprop_filter(x, w_shape, dy, strides, padding, dilations=dilations)

    def reference(x, dy):
        return reference_conv2d_backprop_filter(x, dy, w_shape, s, d, pads)

    return OpCase(name, CONV_OPS, call, reference, normal(x_shape, out), grad=(0, 1))


def pool_case(name, kind, x_shape, ksize, strides, padding):
    """max_pool2d or avg_pool2d of x; the harness's gradients run the pool's backward op and its rule."""
    k, s = window_pair(ksize), window_pair(strides)
    pool, reference, ops, inputs = {
        "max": (gc.nn.max_pool2d, reference_max_pool2d, ("MaxPool", "MaxPoolGrad"), distinct(x_shape)),
        "avg": (gc.nn.avg_pool2d, reference_avg_pool2d, ("AvgPool", "AvgPoolGrad"), normal(x_shape)),
    }[kind]
    return OpCase(name, ops, lambda x: pool(x, ksize, strides, padding),
                  lambda x: reference(x, k, s, explicit(padding, x.shape[1:3], k, s)), inputs)


def pool_grad_case(name, kind, x_shape, ksize, strides, padding):
    """A pooling backward op itself, differentiated in every tensor input: its own rule, to second order."""
    k, s = window_pair(ksize), window_pair(strides)
    pads = explicit(padding, x_shape[1:3], k, s)
    out_shape = reference_max_pool2d(np.zeros(x_shape), k, s, pads).shape
    if kind == "max":  # MaxPoolGrad(x, dy) -> dx; its rule runs MaxPoolGradGrad, whose rule runs MaxPoolGrad
        return OpCase(name, ("MaxPoolGrad", "MaxPoolGradGrad"),
                      lambda x, dy: conv_ops.max_pool_grad(x, dy, ksize, strides, padding),
                      lambda x, dy: reference_max_pool2d_grad(x, dy, k, s, pads),
                      lambda rng: distinct(x_shape)(rng) + [rng.normal(size=out_shape)], grad=(0, 1))
    if kind == "max-grad":  # MaxPoolGradGrad(x, g) -> like the pooled output
        return OpCase(name, ("MaxPoolGradGrad", "MaxPoolGrad"),
                      lambda x, g: conv_ops.max_pool_grad_grad(x, g, ksize, strides, padding),
                      lambda x, g: reference_max_pool2d_grad_grad(x, g, k, s, pads),
                      lambda rng: distinct(x_shape)(rng) + [rng.normal(size=x_shape)], grad=(0, 1))
    return OpCase(name, ("AvgPoolGrad", "AvgPool"),
                  lambda dy: conv_ops.avg_pool_grad(x_shape, dy, ksize, strides, padding),
                  lambda dy: reference_avg_pool2d_grad(dy, x_shape, k, s, pads), normal(out_shape))


CASES = [
    conv_case("conv2d-valid", (2, 5, 6, 3), (3, 2, 3, 4), 1, "VALID"),
    conv_case("conv2d-same", (2, 5, 5, 2), (3, 3, 2, 3), [1, 1, 1, 1], "SAME"),
    # 7 rows, stride 2, 3x3: SAME pads 1 on each side; 6 columns: 0 left, 1 right (TF's odd pixel).
    conv_case("conv2d-same-stride2-odd", (1, 7, 6, 2), (3, 3, 2, 2), 2, "SAME"),
    # VALID, stride 2 over 8 rows with a 3-row filter: the last input row lies in no window.
    conv_case("conv2d-valid-stride2-unused-rows", (2, 8, 7, 2), (3, 2, 2, 3), [2, 2], "VALID"),
    conv_case("conv2d-same-dilation2", (1, 7, 6, 2), (3, 2, 2, 2), 1, "SAME", dilations=2),
    conv_case("conv2d-valid-dilation2-stride-1x2", (1, 7, 8, 1), (2, 3, 1, 2), [1, 2], "VALID", dilations=[2, 2]),
    conv_case("conv2d-same-even-filter", (1, 4, 5, 2), (2, 4, 2, 2), 1, "SAME"),
    conv_case("conv2d-explicit-padding", (1, 4, 5, 2), (3, 3, 2, 2), 2, [[0, 0], [2, 0], [1, 3], [0, 0]]),
    backprop_case("conv2d-backprop-input-same-stride2", "input", (2, 7, 6, 2), (3, 3, 2, 3), 2, "SAME"),
    backprop_case("conv2d-backprop-input-valid-dilation2", "input", (1, 8, 7, 2), (2, 3, 2, 2), 1, "VALID", 2),
    backprop_case("conv2d-backprop-filter-same-stride2", "filter", (2, 7, 6, 2), (3, 3, 2, 3), 2, "SAME"),
    backprop_case("conv2d-backprop-filter-valid-dilation2", "filter", (1, 8, 7, 2), (2, 3, 2, 2), 1, "VALID", 2),
    pool_case("max-pool-valid-2x2-stride2", "max", (2, 6, 6, 3), 2, 2, "VALID"),
    pool_case("max-pool-same-3x3-stride2-odd", "max", (1, 7, 6, 2), 3, 2, "SAME"),
    pool_case("max-pool-same-3x2-stride1", "max", (2, 5, 4, 2), [1, 3, 2, 1], 1, "SAME"),
    pool_case("max-pool-valid-3x3-stride-2x1", "max", (1, 7, 5, 2), [3, 3], [2, 1], "VALID"),
    pool_case("avg-pool-valid-2x2-stride2", "avg", (2, 6, 6, 3), 2, 2, "VALID"),
    # SAME with an odd size and stride 2: edge windows average fewer than 9 elements.
    pool_case("avg-pool-same-3x3-stride2-odd", "avg", (1, 7, 6, 2), 3, 2, "SAME"),
    pool_case("avg-pool-same-2x3-stride1", "avg", (2, 5, 4, 2), [2, 3], 1, "SAME"),
    pool_grad_case("max-pool-grad-same-3x3-stride2", "max", (1, 7, 6, 2), 3, 2, "SAME"),
    pool_grad_case("max-pool-grad-valid-2x2-stride1", "max", (2, 5, 5, 2), 2, 1, "VALID"),
    pool_grad_case("max-pool-grad-grad-same-3x3-stride2", "max-grad", (1, 7, 6, 2), 3, 2, "SAME"),
    pool_grad_case("avg-pool-grad-same-3x3-stride2", "avg", (1, 7, 6, 2), 3, 2, "SAME"),
    pool_grad_case("avg-pool-grad-valid-2x2-stride1", "avg", (2, 5, 5, 2), 2, 1, "VALID"),
]
