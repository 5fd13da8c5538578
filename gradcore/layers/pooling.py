"""Keras 3's pooling layers over channels_last inputs: windowed pools on ``gc.nn``'s max/avg pools
(MaxPooling1D, AveragePooling1D over NWC; MaxPooling2D, AveragePooling2D over NHWC) and global
pools, a reduction over every step or pixel (GlobalAveragePooling1D/2D, GlobalMaxPooling1D/2D)."""

from gradcore.layers.base import InputSpec, Layer
from gradcore.layers.convolutional import check_channels_last, int_tuple, tf_padding
from gradcore.ops.array_ops import expand_dims
from gradcore.ops.conv_more_ops import avg_pool1d, max_pool1d
from gradcore.ops.conv_ops import avg_pool2d, max_pool2d
from gradcore.ops.math_ops import cast, divide, multiply
from gradcore.ops.reduction_ops import reduce_max, reduce_mean, reduce_sum


class _Pooling(Layer):
    _pool = None  # the gc.nn pooling op, set by each subclass
    _rank = None  # 1 (NWC) or 2 (NHWC)

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        check_channels_last(self, data_format)
        self.pool_size = int_tuple(self, "pool_size", pool_size, self._rank)
        # Keras: strides default to the pool size, so windows tile the input without overlap.
        self.strides = self.pool_size if strides is None else int_tuple(self, "strides", strides, self._rank)
        self.padding = tf_padding(self, padding)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def call(self, inputs):
        return self._pool(inputs, self.pool_size, self.strides, self.padding)


class _Pooling1D(_Pooling):
    _rank = 1

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _Pooling2D(_Pooling):
    _rank = 2

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling1D(_Pooling1D):
    """The maximum of each ``pool_size`` window of [N, W, C] steps, windows ``strides`` apart."""
    _pool = staticmethod(max_pool1d)


class AveragePooling1D(_Pooling1D):
    """The mean of each ``pool_size`` window of steps; with 'same' padding the padded steps are not counted (TF)."""
    _pool = staticmethod(avg_pool1d)


class MaxPooling2D(_Pooling2D):
    """The maximum of each ``pool_size`` window, windows ``strides`` apart."""
    _pool = staticmethod(max_pool2d)


class AveragePooling2D(_Pooling2D):
    """The mean of each ``pool_size`` window; with 'same' padding the padded cells are not counted (TF)."""
    _pool = staticmethod(avg_pool2d)


class _GlobalPooling(Layer):
    _reduce = None  # reduce_mean or reduce_max, set by each subclass
    _rank = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        check_channels_last(self, data_format)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def call(self, inputs):
        return self._reduce(inputs, list(range(1, self._rank + 1)), keepdims=self.keepdims)


class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over the steps of [N, W, C]: [N, C] ([N, 1, C] with keepdims).

    With a ``mask`` [N, W] (true for the steps to keep), the mean of the kept steps, as Keras.
    """
    _reduce, _rank = staticmethod(reduce_mean), 1

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        weights = expand_dims(cast(mask, inputs.dtype), 2)
        total = reduce_sum(multiply(inputs, weights), [1], keepdims=self.keepdims)
        return divide(total, reduce_sum(weights, [1], keepdims=self.keepdims))


class GlobalMaxPooling1D(_GlobalPooling):
    """The maximum over the steps of [N, W, C]: [N, C] ([N, 1, C] with keepdims)."""
    _reduce, _rank = staticmethod(reduce_max), 1


class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over the pixels of [N, H, W, C]: [N, C] ([N, 1, 1, C] with keepdims)."""
    _reduce, _rank = staticmethod(reduce_mean), 2


class GlobalMaxPooling2D(_GlobalPooling):
    """The maximum over the pixels of [N, H, W, C]: [N, C] ([N, 1, 1, C] with keepdims)."""
    _reduce, _rank = staticmethod(reduce_max), 2


# Keras' shorter spellings, and AveragePool2D to match MaxPool2D.
MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePool2D = AveragePooling2D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
