"""1-D convolution and pooling, transposed and depthwise 2-D convolution, as ``tf.nn``.

TensorFlow builds most of these from its 2-D ops, and so does gradcore:

- ``conv1d``, ``max_pool1d`` and ``avg_pool1d`` run the 2-D op on [N, 1, W, C], as TF's
  (its docs: the input is reshaped to a height of 1 and back); their gradients are the 2-D ops'.
- ``conv2d_transpose`` *is* Conv2DBackpropInput, with the roles of input and output swapped.
- ``depthwise_conv2d`` is an op family of its own, DepthwiseConv2dNative with its two
  backprops, whose rules are conv_ops' (a convolution is bilinear whatever its channel
  pattern: ``register_conv_rules``).

The window arguments are resolved by conv_ops' helpers, so every backend sees the same
(height, width) pairs and explicit padding.
"""

import math
import operator

from gradcore.errors import InvalidArgumentError, ShapeError
from gradcore.ops.array_ops import _shape_tuple, reshape
from gradcore.ops.conv_ops import (
    _check_out_backprop,
    _check_rank,
    _conv_window,
    _float,
    _floats,
    _pool_window,
    _run,
    register_conv_rules,
)

# ---- 1-D convolution and pooling over NWC sequences ------------------------------------------------


def conv1d(input, filters, stride, padding, data_format="NWC", dilations=None, name=None):
    """The 1-D cross-correlation of ``input`` batch_shape + [W, C] with ``filters`` [KW, C, O], as ``tf.nn.conv1d``.

    ``stride`` and ``dilations``: an int, [k] or [1, k, 1]. ``padding``: "VALID", "SAME" or explicit
    [[0, 0], [left, right], [0, 0]]. Returns batch_shape + [W_out, O].
    """
    api = "gc.nn.conv1d"
    x, w = _floats(api, input, filters)
    _check_nwc(api, data_format)
    if len(x.shape) < 3:
        raise ShapeError(f"{api}: input must have rank at least 3, batch_shape + [width, channels] (NWC), "
                         f"got shape {x.shape}")
    if len(w.shape) != 3:
        raise ShapeError(f"{api}: filters must have rank 3, [width, in_channels, out_channels], got shape {w.shape}")
    *batch, width, channels = x.shape
    if channels != w.shape[1]:
        raise ShapeError(f"{api}: input of shape {x.shape} has {channels} channels but filters of shape {w.shape} "
                         f"expect {w.shape[1]} (filters are [width, in_channels, out_channels])")
    rows = math.prod(batch)
    image, filters2d = (rows, 1, width, channels), (1, *w.shape)
    window, out = _conv_window(api, image, filters2d, (1, _single(api, "stride", stride)),
                               _padding_2d(api, padding), "NHWC",
                               (1, _single(api, "dilations", 1 if dilations is None else dilations)))
    y = _run("Conv2D", (reshape(x, image), reshape(w, filters2d)), **window)
    return reshape(y, (*batch, out[2], out[3]))


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):
    """The maximum of each ``ksize`` window of ``input`` [N, W, C], as ``tf.nn.max_pool1d``.

    The gradient goes to the first maximum of a window, as TensorFlow's.
    """
    return _pool1d("gc.nn.max_pool1d", "MaxPool", input, ksize, strides, padding, data_format)


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):
    """The mean of each ``ksize`` window of ``input`` [N, W, C], as ``tf.nn.avg_pool1d``: padding is not counted."""
    return _pool1d("gc.nn.avg_pool1d", "AvgPool", input, ksize, strides, padding, data_format)


def _pool1d(api, op_type, input, ksize, strides, padding, data_format):
    x = _float(api, input)
    _check_nwc(api, data_format)
    if len(x.shape) != 3:
        raise ShapeError(f"{api}: input must have rank 3, [batch, width, channels] (NWC), got shape {x.shape}")
    n, width, channels = x.shape
    image = (n, 1, width, channels)
    window, out = _pool_window(api, image, (1, _single(api, "ksize", ksize)), (1, _single(api, "strides", strides)),
                               padding, "NHWC")
    return reshape(_run(op_type, (reshape(x, image),), **window), (n, out[2], channels))


def _check_nwc(api, data_format):
    if data_format not in ("NWC", None):
        raise InvalidArgumentError(
            f"{api}: data_format {data_format!r} is not supported; gradcore convolves and pools NWC only: "
            f"transpose NCW sequences with gc.transpose(x, [0, 2, 1])"
        )


def _single(api, what, value):
    """TF's spellings of a 1-D window argument, k, [k] or [1, k, 1], as k."""
    try:
        values = [operator.index(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    except TypeError:
        values = []
    if len(values) == 3 and values[0] == values[2] == 1:
        values = values[1:2]
    if len(values) != 1 or values[0] < 1:
        raise InvalidArgumentError(
            f"{api}: {what} must be a positive int, [width] or [1, width, 1] (nothing along batch or channels), "
            f"got {value!r}"
        )
    return values[0]


def _padding_2d(api, padding):
    """A 1-D ``padding`` ("SAME", "VALID", [[0, 0], [left, right], [0, 0]]) as conv2d's over a height of 1."""
    if isinstance(padding, str):
        return padding
    try:
        pairs = [tuple(operator.index(p) for p in pair) for pair in padding]
    except TypeError:
        pairs = []
    if len(pairs) != 3 or pairs[0] != (0, 0) or pairs[2] != (0, 0) or len(pairs[1]) != 2 or min(pairs[1]) < 0:
        raise InvalidArgumentError(
            f"{api}: padding must be 'SAME', 'VALID' or [[0, 0], [left, right], [0, 0]], got {padding!r}")
    return [(0, 0), (0, 0), pairs[1], (0, 0)]


# ---- transposed convolution ----------------------------------------------------------------------------


def conv2d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NHWC", dilations=None,
                     name=None):
    """The transpose (adjoint) of ``conv2d``, as ``tf.nn.conv2d_transpose``: TF's Conv2DBackpropInput.

    ``input`` [N, H, W, C_in], ``filters`` [KH, KW, C_out, C_in] (a conv2d's filters from C_out to
    C_in channels), ``output_shape`` [N, H_out, W_out, C_out]: the shape whose conv2d with these
    strides, padding and dilations has the input's shape.
    """
    api = "gc.nn.conv2d_transpose"
    w, x = _floats(api, filters, input)
    out_shape = _shape_tuple(api, output_shape)
    _check_rank(api, "input", x.shape, "[batch, height, width, in_channels] (NHWC)")
    _check_rank(api, "filters", w.shape, "[height, width, output_channels, in_channels]")
    _check_rank(api, "output_shape", out_shape, "[batch, height, width, output_channels]")
    if x.shape[3] != w.shape[3]:
        raise ShapeError(f"{api}: input of shape {x.shape} has {x.shape[3]} channels but filters of shape {w.shape} "
                         f"expect {w.shape[3]} (filters are [height, width, output_channels, in_channels])")
    if min(out_shape) < 0 or out_shape[0] != x.shape[0] or out_shape[3] != w.shape[2]:
        raise ShapeError(f"{api}: output_shape {list(out_shape)} must be [{x.shape[0]} (the input's batch), height, "
                         f"width, {w.shape[2]} (the filters' output_channels)]")
    window, conv_shape = _conv_window(api, out_shape, w.shape, strides, padding, data_format, dilations)
    if conv_shape != x.shape:
        raise ShapeError(
            f"{api}: output_shape {list(out_shape)} does not fit the input of shape {x.shape}: conv2d of that shape "
            f"with these strides, padding and dilations has shape {conv_shape}; pass the output_shape whose "
            f"convolution has the input's shape"
        )
    return _run("Conv2DBackpropInput", (w, x), input_shape=out_shape, **window)


# ---- depthwise convolution ----------------------------------------------------------------------------


def depthwise_conv2d(input, filter, strides, padding, data_format=None, dilations=None, name=None):
    """Each channel of ``input`` [N, H, W, C] convolved with its own filters, as ``tf.nn.depthwise_conv2d``.

    ``filter`` [KH, KW, C, M]: output channel c * M + m is input channel c convolved with
    filter[:, :, c, m]. ``strides``, ``padding`` and ``dilations`` as conv2d's; as in TF,
    dilations above 1 need strides of 1. Returns [N, H_out, W_out, C * M].
    """
    api = "gc.nn.depthwise_conv2d"
    x, w = _floats(api, input, filter)
    window, _ = _conv_window(api, x.shape, w.shape, strides, padding, data_format, dilations, depthwise=True)
    if max(window["strides"]) > 1 and max(window["dilations"]) > 1:
        raise InvalidArgumentError(
            f"{api}: strides {list(window['strides'])} with dilations {list(window['dilations'])}: TensorFlow's "
            f"depthwise convolution dilates only at stride 1; use strides=1, or dilations=1"
        )
    return _run("DepthwiseConv2dNative", (x, w), **window)


def depthwise_conv2d_backprop_input(input_sizes, filter, out_backprop, strides, padding, data_format="NHWC",
                                    dilations=None, name=None):
    """The gradient of ``depthwise_conv2d`` with respect to its input of shape ``input_sizes``, as TF's op."""
    api = "gc.nn.depthwise_conv2d_backprop_input"
    w, dy = _floats(api, filter, out_backprop)
    input_shape = _shape_tuple(api, input_sizes)
    window, out_shape = _conv_window(api, input_shape, w.shape, strides, padding, data_format, dilations,
                                     depthwise=True)
    _check_out_backprop(api, dy, out_shape)
    return _run("DepthwiseConv2dNativeBackpropInput", (w, dy), input_shape=input_shape, **window)


def depthwise_conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding, data_format="NHWC",
                                     dilations=None, name=None):
    """The gradient of ``depthwise_conv2d`` with respect to its filter of shape ``filter_sizes``, as TF's op."""
    api = "gc.nn.depthwise_conv2d_backprop_filter"
    x, dy = _floats(api, input, out_backprop)
    filter_shape = _shape_tuple(api, filter_sizes)
    window, out_shape = _conv_window(api, x.shape, filter_shape, strides, padding, data_format, dilations,
                                     depthwise=True)
    _check_out_backprop(api, dy, out_shape)
    return _run("DepthwiseConv2dNativeBackpropFilter", (x, dy), filter_shape=filter_shape, **window)


register_conv_rules("DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
                    "DepthwiseConv2dNativeBackpropFilter")
