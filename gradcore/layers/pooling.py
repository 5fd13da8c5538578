"""MaxPooling2D and AveragePooling2D over NHWC images, on ``gc.nn.max_pool2d`` / ``avg_pool2d``."""

from gradcore.layers.base import InputSpec, Layer
from gradcore.layers.convolutional import check_channels_last, int_pair, tf_padding
from gradcore.ops.conv_ops import avg_pool2d, max_pool2d


class _Pooling2D(Layer):
    _pool = None  # the gc.nn pooling op, set by each subclass

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        check_channels_last(self, data_format)
        self.pool_size = int_pair(self, "pool_size", pool_size)
        # Keras: strides default to the pool size, so windows tile the image without overlap.
        self.strides = self.pool_size if strides is None else int_pair(self, "strides", strides)
        self.padding = tf_padding(self, padding)
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs):
        return self._pool(inputs, self.pool_size, self.strides, self.padding)


class MaxPooling2D(_Pooling2D):
    """The maximum of each ``pool_size`` window, windows ``strides`` apart."""

    _pool = staticmethod(max_pool2d)


class AveragePooling2D(_Pooling2D):
    """The mean of each ``pool_size`` window; with 'same' padding the padded cells are not counted (TF)."""

    _pool = staticmethod(avg_pool2d)


# Keras' shorter spellings, and AveragePool2D to match MaxPool2D.
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePool2D = AveragePooling2D
