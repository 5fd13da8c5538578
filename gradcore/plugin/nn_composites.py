"""Composite defaults of the optional kernels for neural-network ops (1-D and transposed convolutions, depthwise convolution, pooling), for ``Backend``.

Written with the required kernels, so a backend that lacks a native kernel still
runs every op; fast backends override them (docs/writing-a-backend.md).
"""

#: The optional kernels this mixin defines (the contract's OPTIONAL_KERNELS include them).
KERNELS = (
    "depthwise_conv2d", "depthwise_conv2d_backprop_input", "depthwise_conv2d_backprop_filter",
)


class NNComposites:
    """Mixin of ``Backend``: optional kernels built from its required kernels."""

    # ---- depthwise convolution over NHWC images (windows resolved by the core, as conv2d's) ----
    # Filters [KH, KW, C, M]: output channel c * M + m convolves input channel c alone. Each
    # output position's windows, [C, 1, taps], meet the filters as [C, taps, M] in one batched
    # matmul; the window helpers are WindowComposites' (_taps, _col2im).

    def depthwise_conv2d(self, x, filters, strides, dilations, padding):
        """tf.nn.depthwise_conv2d: x [N, H, W, C] and filters [KH, KW, C, M] to [N, Ho, Wo, C * M]."""
        kh, kw, c, m = filters.shape
        windows = self.stack(self._taps(x, (kh, kw), strides, dilations, padding, 0), 4)  # [N, Ho, Wo, C, T]
        n, ho, wo = windows.shape[:3]
        y = self.matmul(self.reshape(windows, (n * ho * wo, c, 1, kh * kw)), self._per_channel(filters))
        return self.reshape(y, (n, ho, wo, c * m))

    def depthwise_conv2d_backprop_input(self, filters, dy, input_shape, strides, dilations, padding):
        """The gradient of depthwise_conv2d with respect to its input, of shape ``input_shape``."""
        kh, kw, c, m = filters.shape
        n, ho, wo = dy.shape[:3]
        per_tap = self.transpose(self._per_channel(filters), (0, 2, 1))  # [C, M, T]
        cols = self.matmul(self.reshape(dy, (n * ho * wo, c, 1, m)), per_tap)
        cols = self.reshape(cols, (n, ho, wo, c, kh * kw))
        taps = [self.slice(cols, (Ellipsis, t)) for t in range(kh * kw)]
        return self._col2im(taps, input_shape, (kh, kw), strides, dilations, padding)

    def depthwise_conv2d_backprop_filter(self, x, dy, filter_shape, strides, dilations, padding):
        """The gradient of depthwise_conv2d with respect to its filters, of shape ``filter_shape``."""
        kh, kw, c, m = filter_shape
        windows = self.stack(self._taps(x, (kh, kw), strides, dilations, padding, 0), 4)  # [N, Ho, Wo, C, T]
        rows = windows.shape[0] * windows.shape[1] * windows.shape[2]
        windows = self.transpose(self.reshape(windows, (rows, c, kh * kw)), (1, 2, 0))  # [C, T, rows]
        dy = self.transpose(self.reshape(dy, (rows, c, m)), (1, 0, 2))  # [C, rows, M]
        dw = self.transpose(self.matmul(windows, dy), (1, 0, 2))  # [T, C, M]
        return self.reshape(dw, tuple(filter_shape))

    def _per_channel(self, filters):
        """Filters [KH, KW, C, M] as [C, KH*KW, M]: each channel's taps (row-major) by multiplier."""
        kh, kw, c, m = filters.shape
        return self.transpose(self.reshape(filters, (kh * kw, c, m)), (1, 0, 2))
