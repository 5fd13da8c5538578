"""Conv2D over NHWC images (Keras 3's channels_last), on ``gc.nn.conv2d``."""

import numbers

from gradcore.layers.base import InputSpec
from gradcore.layers.core import KernelBiasLayer, positive_int
from gradcore.ops.conv_ops import conv2d


def int_pair(owner, what, value):
    """An int or a pair of ints (height, width), as Keras' kernel_size, strides, pool_size ..."""
    pair = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
    if len(pair) != 2 or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n > 0 for n in pair):
        raise ValueError(f"{type(owner).__name__}: {what} must be a positive int or a pair of them, got {value!r}")
    return tuple(int(n) for n in pair)


def tf_padding(owner, padding):
    """Keras' 'valid' / 'same' (any case) as TensorFlow's 'VALID' / 'SAME'."""
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{type(owner).__name__}: padding must be 'valid' or 'same', got {padding!r}")
    return padding.upper()


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
