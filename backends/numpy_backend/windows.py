"""Convolution and pooling kernels over NHWC images, with their backward kernels."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class WindowKernels:
    """im2col as strided views (no copy) of every window; col2im as one strided add per filter tap."""

    def conv2d(self, x, filters, strides, dilations, padding):
        kh, kw, c, o = filters.shape
        cols = _im2col(_padded(x, padding, 0), (kh, kw), strides, dilations)
        y = _matmul(cols.reshape(-1, kh * kw * c), filters.reshape(kh * kw * c, o))
        return y.reshape(cols.shape[:3] + (o,))

    def conv2d_backprop_input(self, filters, dy, input_shape, strides, dilations, padding):
        kh, kw, c, o = filters.shape
        cols = _matmul(dy.reshape(-1, o), filters.reshape(kh * kw * c, o).T)
        return _col2im(cols.reshape(dy.shape[:3] + (kh, kw, c)), input_shape, strides, dilations, padding)

    def conv2d_backprop_filter(self, x, dy, filter_shape, strides, dilations, padding):
        kh, kw, c, o = filter_shape
        cols = _im2col(_padded(x, padding, 0), (kh, kw), strides, dilations)
        return _matmul(cols.reshape(-1, kh * kw * c).T, dy.reshape(-1, o)).reshape(filter_shape)

    def depthwise_conv2d(self, x, filters, strides, dilations, padding):
        kh, kw, c, m = filters.shape
        windows = _windows(_padded(x, padding, 0), (kh, kw), strides, dilations)  # [N, Ho, Wo, C, KH, KW]
        y = np.einsum("nhwcij,ijcm->nhwcm", _wide(windows), _wide(filters), optimize=True)
        return y.reshape(y.shape[:3] + (c * m,)).astype(x.dtype, copy=False)

    def depthwise_conv2d_backprop_input(self, filters, dy, input_shape, strides, dilations, padding):
        kh, kw, c, m = filters.shape
        per_channel = dy.reshape(dy.shape[:3] + (c, m))
        cols = np.einsum("nhwcm,ijcm->nhwijc", _wide(per_channel), _wide(filters), optimize=True)
        return _col2im(cols.astype(dy.dtype, copy=False), input_shape, strides, dilations, padding)

    def depthwise_conv2d_backprop_filter(self, x, dy, filter_shape, strides, dilations, padding):
        kh, kw, c, m = filter_shape
        windows = _windows(_padded(x, padding, 0), (kh, kw), strides, dilations)
        per_channel = dy.reshape(dy.shape[:3] + (c, m))
        dw = np.einsum("nhwcij,nhwcm->ijcm", _wide(windows), _wide(per_channel), optimize=True)
        return dw.astype(x.dtype, copy=False)

    def max_pool2d(self, x, ksize, strides, padding):
        return _windows(_padded(x, padding, -np.inf), ksize, strides, (1, 1)).max(axis=(4, 5))

    def max_pool2d_grad(self, x, dy, ksize, strides, padding):
        hits = _first_max(x, ksize, strides, padding)  # [N, Ho, Wo, C, KH, KW]
        cols = np.where(hits, dy[..., None, None], np.zeros((), dy.dtype)).transpose(0, 1, 2, 4, 5, 3)
        return _col2im(cols, x.shape, strides, (1, 1), padding)

    def max_pool2d_grad_grad(self, x, g, ksize, strides, padding):
        windows = _windows(_padded(g, padding, 0), ksize, strides, (1, 1))
        return np.sum(windows, axis=(4, 5), where=_first_max(x, ksize, strides, padding), dtype=g.dtype)

    def avg_pool2d(self, x, ksize, strides, padding):
        total = _windows(_padded(x, padding, 0), ksize, strides, (1, 1)).sum(axis=(4, 5), dtype=x.dtype)
        return total / _window_counts(x.shape, ksize, strides, padding, x.dtype)

    def avg_pool2d_grad(self, dy, input_shape, ksize, strides, padding):
        share = dy / _window_counts(input_shape, ksize, strides, padding, dy.dtype)
        cols = np.broadcast_to(share[:, :, :, None, None, :], share.shape[:3] + tuple(ksize) + share.shape[3:])
        return _col2im(cols, input_shape, strides, (1, 1), padding)


# ---- window helpers of the convolution and pooling kernels ---------------------------------


def _padded(x, padding, fill):
    if padding == ((0, 0), (0, 0)):
        return x
    return np.pad(x, ((0, 0),) + tuple(padding) + ((0, 0),), constant_values=fill)


def _windows(x, ksize, strides, dilations):
    """[N, Ho, Wo, C, KH, KW]: a view (no copy) of every window of the padded NHWC x."""
    span = tuple((k - 1) * d + 1 for k, d in zip(ksize, dilations))
    view = sliding_window_view(x, span, axis=(1, 2))
    return view[:, :: strides[0], :: strides[1], :, :: dilations[0], :: dilations[1]]


def _im2col(x, ksize, strides, dilations):
    """[N, Ho, Wo, KH*KW*C], contiguous: windows laid out taps outer, channels inner, as the filters."""
    windows = _windows(x, ksize, strides, dilations).transpose(0, 1, 2, 4, 5, 3)
    return windows.reshape(windows.shape[:3] + (-1,))


def _col2im(cols, input_shape, strides, dilations, padding):
    """The adjoint of _windows for cols [N, Ho, Wo, KH, KW, C]: one strided add per filter tap."""
    (top, bottom), (left, right) = padding
    n, h, w, c = input_shape
    out = np.zeros((n, h + top + bottom, w + left + right, c), dtype=cols.dtype)
    _, ho, wo, kh, kw, _ = cols.shape
    for i in range(kh):
        rows = slice(i * dilations[0], i * dilations[0] + (ho - 1) * strides[0] + 1, strides[0])
        for j in range(kw):
            columns = slice(j * dilations[1], j * dilations[1] + (wo - 1) * strides[1] + 1, strides[1])
            out[:, rows, columns] += cols[:, :, :, i, j]
    return out[:, top : top + h, left : left + w]


def _first_max(x, ksize, strides, padding):
    """[N, Ho, Wo, C, KH, KW] bool, True at the first (row-major) maximum of each window."""
    windows = _windows(_padded(x, padding, -np.inf), ksize, strides, (1, 1))
    flat = windows.reshape(windows.shape[:4] + (-1,))
    first = np.argmax(flat, axis=-1)[..., None] == np.arange(flat.shape[-1])
    return first.reshape(windows.shape)


def _window_counts(input_shape, ksize, strides, padding, dtype):
    """[Ho, Wo, 1]: how many input (not padding) elements each pooling window covers."""
    ones = _padded(np.ones((1,) + tuple(input_shape[1:3]) + (1,), dtype), padding, 0)
    return _windows(ones, ksize, strides, (1, 1)).sum(axis=(4, 5), dtype=dtype)[0]


def _matmul(a, b):
    """a @ b, half precisions computed in float32 (NumPy has no fast float16/bfloat16 product)."""
    return np.matmul(_wide(a), _wide(b)).astype(a.dtype, copy=False)


def _wide(a):
    """``a`` in float32 if it is a half precision, else as it is: products sum in at least float32."""
    return a.astype(np.promote_types(a.dtype, np.float32), copy=False)
