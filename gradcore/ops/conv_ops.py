"""2-D convolution and pooling over NHWC images, as ``tf.nn``, with TensorFlow's backward ops.

The core resolves TF's window arguments (``strides`` as 2, [2, 2] or [1, 2, 2, 1],
``padding`` as "SAME" / "VALID") into (height, width) pairs and explicit
((top, bottom), (left, right)) padding before it calls a kernel, so every backend
computes the same windows and no kernel needs TF's SAME arithmetic.

The gradients are dedicated backward ops, as in TensorFlow (the backward kernels of
``windows.py``, docs/architecture.md section 4):
Conv2DBackpropInput, Conv2DBackpropFilter, MaxPoolGrad, AvgPoolGrad, and
MaxPoolGradGrad. Each is an op with a kernel and a rule of its own; the rules are
again convolutions and pools, so derivatives of every order work. A convolution
is linear in each input, so its backprops are its adjoints: the rules follow from
<conv(x, w), dy> = <x, backprop_input(w, dy)> = <w, backprop_filter(x, dy)>.
``register_conv_rules`` writes those rules once for any such family (conv_more_ops' depthwise
convolution registers its own with it; its ops run through ``_run``'s table here too).
"""

import math
import operator

from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import record, state
from gradcore.engine.registry import RegisterGradient
from gradcore.errors import InvalidArgumentError, ShapeError
from gradcore.ops.array_ops import _shape_tuple
from gradcore.ops.kernels import run_kernel
from gradcore.ops.operands import FLOAT, check_kind, operands

_CONV = ("strides", "dilations", "padding")  # a convolution's window attrs, in kernel argument order
_POOL = ("ksize", "strides", "padding")  # a pool's

# op type -> (kernel, the name its errors give)
_KERNELS = {
    "Conv2D": ("conv2d", "gc.nn.conv2d"),
    "Conv2DBackpropInput": ("conv2d_backprop_input", "gc.nn.conv2d_backprop_input"),
    "Conv2DBackpropFilter": ("conv2d_backprop_filter", "gc.nn.conv2d_backprop_filter"),
    "DepthwiseConv2dNative": ("depthwise_conv2d", "gc.nn.depthwise_conv2d"),
    "DepthwiseConv2dNativeBackpropInput": ("depthwise_conv2d_backprop_input", "gc.nn.depthwise_conv2d_backprop_input"),
    "DepthwiseConv2dNativeBackpropFilter": ("depthwise_conv2d_backprop_filter",
                                            "gc.nn.depthwise_conv2d_backprop_filter"),
    "MaxPool": ("max_pool2d", "gc.nn.max_pool2d"),
    "MaxPoolGrad": ("max_pool2d_grad", "gc.nn.max_pool2d (gradient, MaxPoolGrad)"),
    "MaxPoolGradGrad": ("max_pool2d_grad_grad", "gc.nn.max_pool2d (second gradient, MaxPoolGradGrad)"),
    "AvgPool": ("avg_pool2d", "gc.nn.avg_pool2d"),
    "AvgPoolGrad": ("avg_pool2d_grad", "gc.nn.avg_pool2d (gradient, AvgPoolGrad)"),
}


def _run(op_type, inputs, **attrs):
    """``backend.<kernel>(*raw inputs, *attrs)`` (attrs in the kernel's argument order), wrapped and recorded."""
    kernel, api = _KERNELS[op_type]
    backend = inputs[0]._backend
    y = run_kernel(api, backend, kernel, inputs[0]._dtype, *[t._value for t in inputs], *attrs.values())
    if state.recording:
        record(op_type, inputs, (y,), attrs)
    return y


def _window(op, names):
    return {name: op.attrs[name] for name in names}


# ---- convolution -------------------------------------------------------------------------------


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None, name=None):
    """The 2-D cross-correlation of ``input`` [N, H, W, C] with ``filters`` [KH, KW, C, O], as ``tf.nn.conv2d``.

    ``strides`` and ``dilations``: an int, [h, w] or [1, h, w, 1]. ``padding``: "VALID", "SAME"
    (TF's: ceil(H / stride) output rows, the odd padded pixel at the bottom/right) or explicit
    [[0, 0], [top, bottom], [left, right], [0, 0]]. Returns [N, H_out, W_out, O].
    """
    api = "gc.nn.conv2d"
    x, w = _floats(api, input, filters)
    window, _ = _conv_window(api, x.shape, w.shape, strides, padding, data_format, dilations)
    return _run("Conv2D", (x, w), **window)


def conv2d_backprop_input(input_sizes, filters, out_backprop, strides, padding, data_format="NHWC",
                          dilations=None, name=None):
    """The gradient of ``conv2d`` with respect to its input of shape ``input_sizes``, as TF's op of that name."""
    api = "gc.nn.conv2d_backprop_input"
    w, dy = _floats(api, filters, out_backprop)
    input_shape = _shape_tuple(api, input_sizes)
    window, out_shape = _conv_window(api, input_shape, w.shape, strides, padding, data_format, dilations)
    _check_out_backprop(api, dy, out_shape)
    return _run("Conv2DBackpropInput", (w, dy), input_shape=input_shape, **window)


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding, data_format="NHWC",
                           dilations=None, name=None):
    """The gradient of ``conv2d`` with respect to its filters of shape ``filter_sizes``, as TF's op of that name."""
    api = "gc.nn.conv2d_backprop_filter"
    x, dy = _floats(api, input, out_backprop)
    filter_shape = _shape_tuple(api, filter_sizes)
    window, out_shape = _conv_window(api, x.shape, filter_shape, strides, padding, data_format, dilations)
    _check_out_backprop(api, dy, out_shape)
    return _run("Conv2DBackpropFilter", (x, dy), filter_shape=filter_shape, **window)


def register_conv_rules(forward, backprop_input, backprop_filter):
    """The rules of a convolution op type and its two backprop op types (Conv2D's, the depthwise ones).

    conv(x, w) is bilinear, with adjoints <conv(x, w), dy> = <x, B_in(w, dy)> = <w, B_filter(x, dy)>;
    each backprop is linear in its two inputs too, so its gradients are again the family's ops.
    """

    @RegisterGradient(forward)
    def _forward_grad(op, dy):
        x, w = op.inputs
        window = _window(op, _CONV)
        return (
            _run(backprop_input, (w, dy), input_shape=x.shape, **window) if op.needs_gradient(0) else None,
            _run(backprop_filter, (x, dy), filter_shape=w.shape, **window) if op.needs_gradient(1) else None,
        )

    @RegisterGradient(backprop_input)
    def _backprop_input_grad(op, g):
        """dx = B_in(w, dy) has <B_in(w, dy), g> = <dy, conv(g, w)> = <w, B_filter(g, dy)>."""
        w, dy = op.inputs
        window = _window(op, _CONV)
        return (
            _run(backprop_filter, (g, dy), filter_shape=w.shape, **window) if op.needs_gradient(0) else None,
            _run(forward, (g, w), **window) if op.needs_gradient(1) else None,
        )

    @RegisterGradient(backprop_filter)
    def _backprop_filter_grad(op, g):
        """dw = B_filter(x, dy) has <B_filter(x, dy), g> = <dy, conv(x, g)> = <x, B_in(g, dy)>."""
        x, dy = op.inputs
        window = _window(op, _CONV)
        return (
            _run(backprop_input, (g, dy), input_shape=x.shape, **window) if op.needs_gradient(0) else None,
            _run(forward, (x, g), **window) if op.needs_gradient(1) else None,
        )


register_conv_rules("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter")


def _conv_window(api, input_shape, filter_shape, strides, padding, data_format, dilations, depthwise=False):
    """The kernels' window attrs of a convolution and its output shape, or an error saying what to fix.

    ``depthwise``: filters are [height, width, in_channels, channel_multiplier] and the output has
    in_channels * channel_multiplier channels, as tf.nn.depthwise_conv2d.
    """
    _check_format(api, data_format)
    layout = f"[height, width, in_channels, {'channel_multiplier' if depthwise else 'out_channels'}]"
    _check_rank(api, "input", input_shape, "[batch, height, width, channels] (NHWC)")
    _check_rank(api, "filters", filter_shape, layout)
    if input_shape[3] != filter_shape[2]:
        raise ShapeError(
            f"{api}: input of shape {tuple(input_shape)} has {input_shape[3]} channels but filters of shape "
            f"{tuple(filter_shape)} expect {filter_shape[2]} (filters are {layout})"
        )
    strides = _pair(api, "strides", strides)
    dilations = _pair(api, "dilations", 1 if dilations is None else dilations)
    pads, out_hw = _padding(api, input_shape, filter_shape[:2], strides, dilations, padding, explicit=True)
    window = {"strides": strides, "dilations": dilations, "padding": pads}
    channels = filter_shape[2] * filter_shape[3] if depthwise else filter_shape[3]
    return window, (input_shape[0], *out_hw, channels)


def _check_out_backprop(api, dy, out_shape):
    if dy.shape != out_shape:
        raise ShapeError(
            f"{api}: out_backprop has shape {dy.shape}, but the convolution's output has shape {out_shape}; "
            f"pass the gradient of that output"
        )


# ---- pooling -------------------------------------------------------------------------------------


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """The maximum of each ``ksize`` window of ``input`` [N, H, W, C], as ``tf.nn.max_pool2d``.

    The gradient goes to the first maximum of a window (row-major), as TensorFlow's.
    """
    x = _float("gc.nn.max_pool2d", input)
    window, _ = _pool_window("gc.nn.max_pool2d", x.shape, ksize, strides, padding, data_format)
    return _run("MaxPool", (x,), **window)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """The mean of each ``ksize`` window of ``input``, as ``tf.nn.avg_pool2d``: SAME padding is not counted."""
    x = _float("gc.nn.avg_pool2d", input)
    window, _ = _pool_window("gc.nn.avg_pool2d", x.shape, ksize, strides, padding, data_format)
    return _run("AvgPool", (x,), **window)


max_pool = max_pool2d
avg_pool = avg_pool2d


def max_pool_grad(orig_input, grad, ksize, strides, padding, data_format="NHWC"):
    """TF's MaxPoolGrad: ``grad`` (shaped like the pooled output) sent to each window's first maximum."""
    api = "gc.nn.max_pool2d (gradient, MaxPoolGrad)"
    x, dy = _floats(api, orig_input, grad)
    window, out_shape = _pool_window(api, x.shape, ksize, strides, padding, data_format)
    _check_shape(api, "grad", dy, out_shape, "the pooled output's")
    return _run("MaxPoolGrad", (x, dy), **window)


def max_pool_grad_grad(orig_input, grad, ksize, strides, padding, data_format="NHWC"):
    """TF's MaxPoolGradGrad: ``grad`` (shaped like the input) read at each window's first maximum."""
    api = "gc.nn.max_pool2d (second gradient, MaxPoolGradGrad)"
    x, g = _floats(api, orig_input, grad)
    window, _ = _pool_window(api, x.shape, ksize, strides, padding, data_format)
    _check_shape(api, "grad", g, x.shape, "the input's")
    return _run("MaxPoolGradGrad", (x, g), **window)


def avg_pool_grad(orig_input_shape, grad, ksize, strides, padding, data_format="NHWC"):
    """TF's AvgPoolGrad: each window's ``grad`` shared among the input elements it averaged."""
    api = "gc.nn.avg_pool2d (gradient, AvgPoolGrad)"
    dy = _float(api, grad)
    input_shape = _shape_tuple(api, orig_input_shape)
    window, out_shape = _pool_window(api, input_shape, ksize, strides, padding, data_format)
    _check_shape(api, "grad", dy, out_shape, "the pooled output's")
    return _run("AvgPoolGrad", (dy,), input_shape=input_shape, **window)


@RegisterGradient("MaxPool")
def _max_pool_grad(op, dy):
    return _run("MaxPoolGrad", (op.inputs[0], dy), **_window(op, _POOL))


@RegisterGradient("MaxPoolGrad")
def _max_pool_grad_grad(op, g):
    """Linear in dy; in x piecewise constant (the argmax moves only at ties), so no gradient for x."""
    return None, _run("MaxPoolGradGrad", (op.inputs[0], g), **_window(op, _POOL))


@RegisterGradient("MaxPoolGradGrad")
def _max_pool_grad_grad_grad(op, h):
    """Linear in g, its adjoint is MaxPoolGrad; piecewise constant in x."""
    return None, _run("MaxPoolGrad", (op.inputs[0], h), **_window(op, _POOL))


@RegisterGradient("AvgPool")
def _avg_pool_grad(op, dy):
    return _run("AvgPoolGrad", (dy,), input_shape=op.inputs[0].shape, **_window(op, _POOL))


@RegisterGradient("AvgPoolGrad")
def _avg_pool_grad_grad(op, g):
    """AvgPoolGrad is the adjoint of the (linear) AvgPool, so its own adjoint is AvgPool."""
    return _run("AvgPool", (g,), **_window(op, _POOL))


def _pool_window(api, input_shape, ksize, strides, padding, data_format):
    """The kernels' window attrs of a pool and its output shape, or an error saying what to fix."""
    _check_format(api, data_format)
    _check_rank(api, "input", input_shape, "[batch, height, width, channels] (NHWC)")
    ksize, strides = _pair(api, "ksize", ksize), _pair(api, "strides", strides)
    pads, out_hw = _padding(api, input_shape, ksize, strides, (1, 1), padding, explicit=False)
    return {"ksize": ksize, "strides": strides, "padding": pads}, (input_shape[0], *out_hw, input_shape[3])


# ---- argument checks -------------------------------------------------------------------------------


def _float(api, value):
    x = to_tensor(value, op_name=api)
    check_kind(api, x, FLOAT)
    return x


def _floats(api, a, b):
    a, b = operands(a, b, api)
    check_kind(api, a, FLOAT)
    return a, b


def _check_format(api, data_format):
    if data_format not in ("NHWC", None):
        raise InvalidArgumentError(
            f"{api}: data_format {data_format!r} is not supported; gradcore convolves and pools NHWC only: "
            f"transpose NCHW images with gc.transpose(x, [0, 2, 3, 1])"
        )


def _check_rank(api, label, shape, layout):
    if len(shape) != 4:
        raise ShapeError(f"{api}: {label} must have rank 4, {layout}, got shape {tuple(shape)}")


def _check_shape(api, label, t, expected, whose):
    if t.shape != tuple(expected):
        raise ShapeError(f"{api}: {label} has shape {t.shape}, but must have {whose} shape {tuple(expected)}")


def _pair(api, what, value):
    """TF's spellings of a per-axis window argument, k, [k], [kh, kw] or [1, kh, kw, 1], as (kh, kw)."""
    try:
        values = [operator.index(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    except TypeError:
        values = []
    if len(values) == 4 and values[0] == values[3] == 1:
        values = values[1:3]
    if len(values) not in (1, 2) or min(values) < 1:
        raise InvalidArgumentError(
            f"{api}: {what} must be a positive int, [height, width] or [1, height, width, 1] "
            f"(nothing along batch or channels), got {value!r}"
        )
    return (values[0], values[-1])


def _padding(api, input_shape, window_hw, strides, dilations, padding, explicit):
    """((top, bottom), (left, right)) for TF's ``padding``, and the output's (height, width)."""
    spans = [(k - 1) * d + 1 for k, d in zip(window_hw, dilations)]  # a dilated window's extent
    in_hw = input_shape[1:3]
    if padding == "VALID":
        pads = ((0, 0), (0, 0))
    elif padding == "SAME":  # TF: ceil(n / s) outputs; the odd padded pixel goes at the end
        totals = [max((math.ceil(n / s) - 1) * s + span - n, 0) for n, s, span in zip(in_hw, strides, spans)]
        pads = tuple((t // 2, t - t // 2) for t in totals)
    else:
        pads = _explicit_padding(api, padding) if explicit else None
        if pads is None:
            spellings = "'SAME', 'VALID'" + (" or [[0, 0], [top, bottom], [left, right], [0, 0]]" if explicit else "")
            raise InvalidArgumentError(f"{api}: padding must be {spellings}, got {padding!r}")
    out_hw = []
    for axis, n, span, s, (before, after) in zip(("height", "width"), in_hw, spans, strides, pads):
        if n + before + after < span:
            raise ShapeError(
                f"{api}: the window spans {span} along {axis} but the input of shape {tuple(input_shape)} "
                f"has only {n + before + after} there after padding {padding!r}; use padding='SAME', a smaller "
                f"window or a larger input"
            )
        out_hw.append((n + before + after - span) // s + 1)
    return pads, tuple(out_hw)


def _explicit_padding(api, padding):
    """TF's explicit NHWC padding [[0, 0], [top, bottom], [left, right], [0, 0]] as pairs, else None."""
    try:
        pairs = [tuple(operator.index(p) for p in pair) for pair in padding]
    except TypeError:
        return None
    if len(pairs) != 4 or any(len(p) != 2 or min(p) < 0 for p in pairs) or (0, 0) != pairs[0] or (0, 0) != pairs[3]:
        return None
    return (pairs[1], pairs[2])
