"""Cases for 1-D convolution and pooling, transposed and depthwise convolution (gradcore/ops/conv_more_ops.py).

The depthwise references loop over output pixels and window taps in float64 NumPy, from
TF's definition: output[b, i, j, c * M + m] = sum over taps of input[b, ..., c] * filter[di, dj, c, m].
The 1-D ops are checked against conv_cases' 2-D references on a height of 1, and the transposed
convolution against the 2-D input backprop, which TF documents it to be.

Only the depthwise forward case runs every dtype: the other ops reuse 2-D kernels that
conv_cases already checks in each.
"""

import numpy as np

import gradcore as gc

from . import OpCase, normal
from .conv_cases import CONV_OPS, _conv_loops, _crop, _pad, distinct, explicit, reference_avg_pool2d
from .conv_cases import reference_conv2d, reference_conv2d_backprop_input, reference_max_pool2d, window_pair

WIDE = ("float32", "float64")
DEPTHWISE_OPS = ("DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput", "DepthwiseConv2dNativeBackpropFilter")


def reference_depthwise_conv2d(x, w, strides, dilations, padding):
    n, (kh, kw, c, m) = x.shape[0], w.shape
    xp = _pad(x, padding)
    (ho, wo), loops = _conv_loops(x.shape, w.shape, strides, dilations, padding)
    y = np.zeros((n, ho, wo, c * m))
    for r, q, i, j, a, b in loops:
        y[:, r, q] += (xp[:, a, b, :, None] * w[i, j]).reshape(n, c * m)
    return y


def reference_depthwise_conv2d_backprop_input(w, dy, input_shape, strides, dilations, padding):
    n, h, wd, c = input_shape
    dxp = np.zeros((n, h + sum(padding[0]), wd + sum(padding[1]), c))
    for r, q, i, j, a, b in _conv_loops(input_shape, w.shape, strides, dilations, padding)[1]:
        dxp[:, a, b] += (dy[:, r, q].reshape(n, c, -1) * w[i, j]).sum(axis=-1)
    return _crop(dxp, padding)


def reference_depthwise_conv2d_backprop_filter(x, dy, filter_shape, strides, dilations, padding):
    n, c = x.shape[0], x.shape[3]
    xp = _pad(x, padding)
    dw = np.zeros(filter_shape)
    for r, q, i, j, a, b in _conv_loops(x.shape, filter_shape, strides, dilations, padding)[1]:
        dw[i, j] += (xp[:, a, b, :, None] * dy[:, r, q].reshape(n, c, -1)).sum(axis=0)
    return dw


def single(value):
    """TF's spellings of a 1-D window argument (k, [k], [1, k, 1]) as k."""
    values = [value] if isinstance(value, int) else list(value)
    return values[1] if len(values) == 3 else values[0]


def _height_one(reference):
    """A 2-D reference run on [N, W, C] arrays seen as [N, 1, W, C] (filters [KW, C, O] as [1, KW, C, O])."""
    def run(x, *rest):
        return reference(x[:, None], *rest)[:, 0]
    return run


# ---- the cases --------------------------------------------------------------------------------


def conv1d_case(name, x_shape, w_shape, stride, padding, dilations=1):
    s, d = single(stride), single(dilations)
    pads = explicit(padding if isinstance(padding, str) else [[0, 0], [0, 0], *padding[1:]],
                    (1, x_shape[1]), (1, w_shape[0]), (1, s), (1, d))

    def reference(x, w):
        return reference_conv2d(x[:, None], w[None], (1, s), (1, d), pads)[:, 0]

    return OpCase(name, CONV_OPS, lambda x, w: gc.nn.conv1d(x, w, stride, padding, dilations=dilations), reference,
                  normal(x_shape, w_shape), grad=(0, 1), dtypes=WIDE)


def transpose_case(name, x_shape, w_shape, output_shape, strides, padding, dilations=1):
    """conv2d_transpose(x, w): Conv2DBackpropInput with x as out_backprop, differentiated in both."""
    s, d = window_pair(strides), window_pair(dilations)
    pads = explicit(padding, output_shape[1:3], w_shape[:2], s, d)

    def fn(x, w):
        return gc.nn.conv2d_transpose(x, w, output_shape, strides, padding, dilations=dilations)

    def reference(x, w):
        return reference_conv2d_backprop_input(w, x, output_shape, s, d, pads)

    return OpCase(name, CONV_OPS, fn, reference, normal(x_shape, w_shape), grad=(0, 1), dtypes=WIDE)


def depthwise_case(name, x_shape, w_shape, strides, padding, dilations=1, dtypes=WIDE):
    s, d = window_pair(strides), window_pair(dilations)
    pads = explicit(padding, x_shape[1:3], w_shape[:2], s, d)
    return OpCase(name, DEPTHWISE_OPS, lambda x, w: gc.nn.depthwise_conv2d(x, w, strides, padding, dilations=dilations),
                  lambda x, w: reference_depthwise_conv2d(x, w, s, d, pads), normal(x_shape, w_shape), grad=(0, 1),
                  dtypes=dtypes)


def depthwise_backprop_case(name, wrt, x_shape, w_shape, strides, padding):
    """A depthwise backprop op called as an op, differentiated in both inputs: its rule, to second order."""
    s = window_pair(strides)
    pads = explicit(padding, x_shape[1:3], w_shape[:2], s)
    out = reference_depthwise_conv2d(np.zeros(x_shape), np.zeros(w_shape), s, (1, 1), pads).shape
    if wrt == "input":
        return OpCase(name, DEPTHWISE_OPS,
                      lambda w, dy: gc.nn.depthwise_conv2d_backprop_input(x_shape, w, dy, strides, padding),
                      lambda w, dy: reference_depthwise_conv2d_backprop_input(w, dy, x_shape, s, (1, 1), pads),
                      normal(w_shape, out), grad=(0, 1), dtypes=WIDE)
    return OpCase(name, DEPTHWISE_OPS,
                  lambda x, dy: gc.nn.depthwise_conv2d_backprop_filter(x, w_shape, dy, strides, padding),
                  lambda x, dy: reference_depthwise_conv2d_backprop_filter(x, dy, w_shape, s, (1, 1), pads),
                  normal(x_shape, out), grad=(0, 1), dtypes=WIDE)


def pool1d_case(name, kind, x_shape, ksize, strides, padding):
    k, s = single(ksize), single(strides)
    pads = explicit(padding, (1, x_shape[1]), (1, k), (1, s))
    pool, reference, ops, inputs = {
        "max": (gc.nn.max_pool1d, reference_max_pool2d, ("MaxPool", "MaxPoolGrad"), distinct(x_shape)),
        "avg": (gc.nn.avg_pool1d, reference_avg_pool2d, ("AvgPool", "AvgPoolGrad"), normal(x_shape)),
    }[kind]
    return OpCase(name, ops, lambda x: pool(x, ksize, strides, padding),
                  lambda x: _height_one(reference)(x, (1, k), (1, s), pads), inputs, dtypes=WIDE)


CASES = [
    # 7 steps, stride 2, width 3: SAME pads 1 left and 1 right; ceil(7 / 2) = 4 outputs.
    conv1d_case("conv1d-same-stride2", (2, 7, 3), (3, 3, 2), 2, "SAME"),
    conv1d_case("conv1d-explicit-dilation2", (1, 8, 2), (2, 2, 3), [1, 1, 1], [[0, 0], [2, 1], [0, 0]], dilations=2),
    # 6x5 at stride 2 SAME convolves to 3x3: the transpose maps 3x3 back to 6x5 (odd pixel right).
    transpose_case("conv2d-transpose-same-stride2", (2, 3, 3, 3), (3, 3, 2, 3), (2, 6, 5, 2), 2, "SAME"),
    depthwise_case("depthwise-conv2d-same-stride2", (2, 7, 6, 3), (3, 3, 3, 2), [1, 2, 2, 1], "SAME",
                   dtypes=("float16", "bfloat16", "float32", "float64")),
    depthwise_case("depthwise-conv2d-valid-dilation2", (1, 7, 6, 2), (2, 3, 2, 1), 1, "VALID", dilations=2),
    # (Explicit padding reaches the kernels resolved, as SAME's uneven split above does.)
    depthwise_backprop_case("depthwise-backprop-input-same-stride2", "input", (1, 7, 6, 2), (3, 3, 2, 2), 2, "SAME"),
    depthwise_backprop_case("depthwise-backprop-filter-same-stride2", "filter", (1, 7, 6, 2), (3, 3, 2, 2), 2,
                            "SAME"),
    pool1d_case("max-pool1d-same-3-stride2", "max", (2, 7, 3), 3, 2, "SAME"),
    pool1d_case("avg-pool1d-same-3-stride2", "avg", (2, 7, 3), [1, 3, 1], [2], "SAME"),
]
