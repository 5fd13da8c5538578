"""Composite defaults of the convolution and pooling kernels (NHWC), for ``Backend``.

Written with the required kernels only (pad, strided slices, concat, matmul,
argmax, ``slice_into_zeros``), so a backend without native convolutions still
runs every conv and pooling op; fast backends override them.
"""

import math


class WindowComposites:
    """Mixin of ``Backend``: sliding-window kernels built from its required kernels."""

    # ---- convolution and pooling over NHWC images ---------------------------------------
    # The core resolves the window arguments first: ksize, strides and dilations are
    # (height, width) pairs and padding is ((top, bottom), (left, right)), so no kernel
    # needs TF's "SAME" arithmetic. The composites cut the padded input into one slice per
    # window tap (im2col); the backward ones add such slices back (col2im).

    def conv2d(self, x, filters, strides, dilations, padding):
        """The cross-correlation of x [N, H, W, C] with filters [KH, KW, C, O], as tf.nn.conv2d."""
        kh, kw, c, o = filters.shape
        cols = self._im2col(x, (kh, kw), strides, dilations, padding)
        return self.matmul(cols, self.reshape(filters, (kh * kw * c, o)))

    def conv2d_backprop_input(self, filters, dy, input_shape, strides, dilations, padding):
        """The gradient of conv2d with respect to its input, of shape ``input_shape``."""
        kh, kw, c, o = filters.shape
        cols = self.matmul(dy, self.transpose(self.reshape(filters, (kh * kw * c, o)), (1, 0)))
        taps = [self.slice(cols, (Ellipsis, slice(t * c, (t + 1) * c))) for t in range(kh * kw)]
        return self._col2im(taps, input_shape, (kh, kw), strides, dilations, padding)

    def conv2d_backprop_filter(self, x, dy, filter_shape, strides, dilations, padding):
        """The gradient of conv2d with respect to its filters, of shape ``filter_shape``."""
        kh, kw, c, o = filter_shape
        cols = self._im2col(x, (kh, kw), strides, dilations, padding)
        rows = math.prod(cols.shape[:3])
        cols = self.transpose(self.reshape(cols, (rows, kh * kw * c)), (1, 0))
        return self.reshape(self.matmul(cols, self.reshape(dy, (rows, o))), tuple(filter_shape))

    def max_pool2d(self, x, ksize, strides, padding):
        """The maximum of each window; padding (-inf) never wins."""
        return self.reduce_max(self._window_stack(x, ksize, strides, padding, float("-inf")), (4,), False)

    def max_pool2d_grad(self, x, dy, ksize, strides, padding):
        """dy sent to the first maximum of its window (TF's pick among ties), summed where windows overlap."""
        first = self._first_max(x, ksize, strides, padding)
        zero = self._scalar(0, dy)
        taps = [self.where(self.slice(first, (Ellipsis, t)), dy, zero) for t in range(ksize[0] * ksize[1])]
        return self._col2im(taps, x.shape, ksize, strides, (1, 1), padding)

    def max_pool2d_grad_grad(self, x, g, ksize, strides, padding):
        """g read at the first maximum of each window: the adjoint of max_pool2d_grad in dy."""
        windows = self._window_stack(g, ksize, strides, padding, 0)
        picked = self.where(self._first_max(x, ksize, strides, padding), windows, self._scalar(0, g))
        return self.reduce_sum(picked, (4,), False)

    def avg_pool2d(self, x, ksize, strides, padding):
        """The mean of each window over its input elements only (padding is not counted), as TF."""
        total = self.reduce_sum(self._window_stack(x, ksize, strides, padding, 0), (4,), False)
        return self.divide(total, self._window_counts(x, x.shape, ksize, strides, padding))

    def avg_pool2d_grad(self, dy, input_shape, ksize, strides, padding):
        """Each window's dy shared equally among the input elements it averaged."""
        share = self.divide(dy, self._window_counts(dy, input_shape, ksize, strides, padding))
        return self._col2im([share] * (ksize[0] * ksize[1]), input_shape, ksize, strides, (1, 1), padding)

    def _taps(self, x, ksize, strides, dilations, padding, fill):
        """One [N, Ho, Wo, C] slice of the padded x per window tap, row-major over the window."""
        x = self.pad(x, ((0, 0),) + tuple(padding) + ((0, 0),), fill)
        return [self.slice(x, key) for key in _tap_keys(x.shape, ksize, strides, dilations)]

    def _im2col(self, x, ksize, strides, dilations, padding):
        """[N, Ho, Wo, KH*KW*C]: each output position's window, taps outer and channels inner."""
        return self.concat(self._taps(x, ksize, strides, dilations, padding, 0), 3)

    def _window_stack(self, x, ksize, strides, padding, fill):
        """[N, Ho, Wo, C, KH*KW]: the pooling windows along a new last axis."""
        return self.stack(self._taps(x, ksize, strides, (1, 1), padding, fill), 4)

    def _first_max(self, x, ksize, strides, padding):
        """[N, Ho, Wo, C, KH*KW], True at the first maximum of each window."""
        windows = self._window_stack(x, ksize, strides, padding, float("-inf"))
        return self._hits(self.argmax(windows, 4), ksize[0] * ksize[1])

    def _window_counts(self, like, input_shape, ksize, strides, padding):
        """[1, Ho, Wo, 1]: how many input (not padding) elements each window holds."""
        ones = self.ones((1, input_shape[1], input_shape[2], 1), self.dtype_of(like), self.device_of(like))
        return self.reduce_sum(self._window_stack(ones, ksize, strides, padding, 0), (4,), False)

    def _col2im(self, taps, input_shape, ksize, strides, dilations, padding):
        """The adjoint of _taps: every tap added back where it was cut from, the padding cut off."""
        (top, bottom), (left, right) = padding
        n, h, w, c = input_shape
        padded = (n, h + top + bottom, w + left + right, c)
        keys = _tap_keys(padded, ksize, strides, dilations)
        placed = self.stack([self.slice_into_zeros(t, padded, k) for t, k in zip(taps, keys)], 0)
        inside = (slice(None), slice(top, top + h), slice(left, left + w))
        return self.slice(self.reduce_sum(placed, (0,), False), inside)


def _tap_keys(padded_shape, ksize, strides, dilations):
    """Per window tap (row-major), the key slicing that tap of every window from a padded NHWC array."""
    per_axis = []
    for n, k, s, d in zip(padded_shape[1:3], ksize, strides, dilations):
        last = (n - (k - 1) * d - 1) // s * s  # offset of the last window
        per_axis.append([slice(t * d, t * d + last + 1, s) for t in range(k)])
    return [(slice(None), rows, cols) for rows in per_axis[0] for cols in per_axis[1]]
