"""Keras 3's convolution layers over channels_last inputs: Conv1D (NWC), Conv2D, Conv2DTranspose and
DepthwiseConv2D (NHWC), on ``gc.nn``'s convolutions."""

import numbers

from gradcore.layers.base import InputSpec
from gradcore.layers.core import KernelBiasLayer, positive_int
from gradcore.ops.conv_more_ops import conv1d, conv2d_transpose, depthwise_conv2d
from gradcore.ops.conv_ops import conv2d


def int_tuple(owner, what, value, rank, minimum=1):
    """An int or ``rank`` ints, each at least ``minimum``, as Keras' kernel_size, strides, pool_size ..."""
    values = (value,) * rank if isinstance(value, numbers.Integral) else tuple(value)
    if len(values) != rank or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= minimum for n in values):
        count = "an int" if rank == 1 else f"an int or {rank} of them"
        raise ValueError(f"{type(owner).__name__}: {what} must be {count}, each at least {minimum}, got {value!r}")
    return tuple(int(n) for n in values)


def int_pair(owner, what, value):
    """An int or a pair of positive ints (height, width)."""
    return int_tuple(owner, what, value, 2)


def tf_padding(owner, padding, causal=False):
    """Keras' 'valid' / 'same' (any case; 'causal' where the layer allows it) as TensorFlow's 'VALID' / 'SAME'."""
    spellings = ("valid", "same", "causal") if causal else ("valid", "same")
    if not isinstance(padding, str) or padding.lower() not in spellings:
        raise ValueError(f"{type(owner).__name__}: padding must be one of {spellings}, got {padding!r}")
    return padding.upper()


def check_dilation_at_stride_one(owner, strides, dilation_rate):
    """Keras 3 refuses strides > 1 together with dilation_rate > 1 (as TF's depthwise convolution)."""
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(f"{type(owner).__name__}: strides {strides} > 1 is not supported together with "
                         f"dilation_rate {dilation_rate} > 1")


def add_kernel_and_bias(layer, kernel_shape, bias_size):
    """``layer.kernel`` of ``kernel_shape`` and ``layer.bias`` of [bias_size] (None without use_bias)."""
    layer.kernel = layer.add_weight(kernel_shape, layer.kernel_initializer, regularizer=layer.kernel_regularizer,
                                    name="kernel")
    layer.bias = None
    if layer.use_bias:
        layer.bias = layer.add_weight((bias_size,), layer.bias_initializer, regularizer=layer.bias_regularizer,
                                      name="bias")


def check_channels_last(owner, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(
            f"{type(owner).__name__}: only data_format='channels_last' (NHWC) is supported, got {data_format!r}; "
            f"transpose NCHW inputs with gc.transpose(x, [0, 2, 3, 1])"
        )


class Conv2D(KernelBiasLayer):
    """``activation(conv2d(inputs, kernel) + bias)`` with inputs [N, H, W, C] and kernel [KH, KW, C, filters]."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        check_channels_last(self, data_format)
        self.filters = positive_int(self, "filters", filters)
        self.kernel_size = int_pair(self, "kernel_size", kernel_size)
        self.strides = int_pair(self, "strides", strides)
        self.dilation_rate = int_pair(self, "dilation_rate", dilation_rate)
        self.padding = tf_padding(self, padding)
        self._configure(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                        bias_regularizer)
        self.input_spec = InputSpec(ndim=4)

    def build(self, input_shape):
        channels = input_shape[-1]
        self._build_kernel_and_bias((*self.kernel_size, channels, self.filters))
        self.input_spec = InputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs):
        outputs = conv2d(inputs, self.kernel, self.strides, self.padding, dilations=self.dilation_rate)
        return self._add_bias_and_activate(outputs)


class Conv1D(KernelBiasLayer):
    """``activation(conv1d(inputs, kernel) + bias)`` with inputs [N, W, C] and kernel [KW, C, filters].

    padding 'causal' pads dilation_rate * (kernel_size - 1) zeros on the left only, so output t
    sees inputs up to t (Keras).
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        check_channels_last(self, data_format)
        self.filters = positive_int(self, "filters", filters)
        self.kernel_size = int_tuple(self, "kernel_size", kernel_size, 1)
        self.strides = int_tuple(self, "strides", strides, 1)
        self.dilation_rate = int_tuple(self, "dilation_rate", dilation_rate, 1)
        check_dilation_at_stride_one(self, self.strides, self.dilation_rate)
        self.padding = tf_padding(self, padding, causal=True)
        self._configure(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                        bias_regularizer)
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        channels = input_shape[-1]
        self._build_kernel_and_bias((*self.kernel_size, channels, self.filters))
        self.input_spec = InputSpec(ndim=3, axes={-1: channels})

    def call(self, inputs):
        padding = self.padding
        if padding == "CAUSAL":
            padding = [[0, 0], [self.dilation_rate[0] * (self.kernel_size[0] - 1), 0], [0, 0]]
        outputs = conv1d(inputs, self.kernel, self.strides, padding, dilations=self.dilation_rate)
        return self._add_bias_and_activate(outputs)


class Conv2DTranspose(KernelBiasLayer):
    """The transpose of Conv2D: inputs [N, H, W, C] to [N, H_out, W_out, filters], kernel [KH, KW, filters, C].

    H_out is Keras': H * stride for 'same', H * stride + max(span - stride, 0) for 'valid' (span
    the dilated kernel's extent); with ``output_padding`` p, (H - 1) * stride + span - 2 * pad + p,
    pad being span // 2 for 'same' and 0 for 'valid'.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        check_channels_last(self, data_format)
        self.filters = positive_int(self, "filters", filters)
        self.kernel_size = int_pair(self, "kernel_size", kernel_size)
        self.strides = int_pair(self, "strides", strides)
        self.dilation_rate = int_pair(self, "dilation_rate", dilation_rate)
        self.padding = tf_padding(self, padding)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = int_tuple(self, "output_padding", output_padding, 2, minimum=0)
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError(f"{type(self).__name__}: output_padding {self.output_padding} must be lower than "
                                 f"the strides {self.strides}")
        self._configure(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                        bias_regularizer)
        self.input_spec = InputSpec(ndim=4)

    def build(self, input_shape):
        channels = input_shape[-1]
        add_kernel_and_bias(self, (*self.kernel_size, self.filters, channels), self.filters)
        self.input_spec = InputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs):
        paddings = self.output_padding or (None, None)
        sizes = [self._output_length(*args) for args in
                 zip(inputs.shape[1:3], self.kernel_size, self.strides, self.dilation_rate, paddings)]
        output_shape = (inputs.shape[0], *sizes, self.filters)
        outputs = conv2d_transpose(inputs, self.kernel, output_shape, self.strides, self.padding,
                                   dilations=self.dilation_rate)
        return self._add_bias_and_activate(outputs)

    def _output_length(self, size, kernel, stride, dilation, output_padding):
        span = (kernel - 1) * dilation + 1
        if output_padding is None:
            return size * stride + (max(span - stride, 0) if self.padding == "VALID" else 0)
        pad = span // 2 if self.padding == "SAME" else 0
        return (size - 1) * stride + span - 2 * pad + output_padding


class DepthwiseConv2D(KernelBiasLayer):
    """``activation(depthwise_conv2d(inputs, kernel) + bias)``: inputs [N, H, W, C], kernel [KH, KW, C,
    depth_multiplier], outputs C * depth_multiplier channels (channel c * M + m from input channel c)."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        check_channels_last(self, data_format)
        self.kernel_size = int_pair(self, "kernel_size", kernel_size)
        self.strides = int_pair(self, "strides", strides)
        self.dilation_rate = int_pair(self, "dilation_rate", dilation_rate)
        check_dilation_at_stride_one(self, self.strides, self.dilation_rate)
        self.depth_multiplier = positive_int(self, "depth_multiplier", depth_multiplier)
        self.padding = tf_padding(self, padding)
        self._configure(activation, use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer,
                        bias_regularizer)
        # Keras' names for the kernel's initializer and regularizer.
        self.depthwise_initializer, self.depthwise_regularizer = self.kernel_initializer, self.kernel_regularizer
        self.input_spec = InputSpec(ndim=4)

    def build(self, input_shape):
        channels = input_shape[-1]
        multiplier = self.depth_multiplier
        add_kernel_and_bias(self, (*self.kernel_size, channels, multiplier), channels * multiplier)
        self.input_spec = InputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs):
        outputs = depthwise_conv2d(inputs, self.kernel, self.strides, self.padding, dilations=self.dilation_rate)
        return self._add_bias_and_activate(outputs)
