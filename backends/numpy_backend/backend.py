"""Kernels on ``np.ndarray``. Every method is one NumPy call or close to it."""

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gradcore.engine import dtypes
from gradcore.plugin.contract import Backend

try:  # SciPy's erf is vectorised C; without SciPy fall back to math.erf per element.
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - exercised only where SciPy is absent
    _erf_scalar = np.frompyfunc(math.erf, 1, 1)

    def _erf(x):
        return _erf_scalar(x).astype(x.dtype)


class NumpyBackend(Backend):
    name = "numpy"

    def devices(self):
        return ["cpu"]

    def version(self):
        return np.__version__

    # ---- conversion and creation ---------------------------------------------------

    def asarray(self, value, dtype, device=None):
        return np.asarray(value, dtype=dtype.as_numpy_dtype)

    def to_numpy(self, x):
        return np.asarray(x)

    def dtype_of(self, x):
        return dtypes.as_dtype(x.dtype)

    def device_of(self, x):
        return "cpu"

    def full(self, shape, value, dtype, device=None):
        return np.full(shape, value, dtype=dtype.as_numpy_dtype)

    def arange(self, start, limit, delta, dtype, device=None):
        return np.arange(start, limit, delta, dtype=dtype.as_numpy_dtype)

    def eye(self, num_rows, num_columns, dtype, device=None):
        return np.eye(num_rows, num_columns, dtype=dtype.as_numpy_dtype)

    def cast(self, x, dtype):
        return np.asarray(x).astype(dtype.as_numpy_dtype)

    # ---- elementwise ------------------------------------------------------------------

    negative = staticmethod(np.negative)
    abs = staticmethod(np.abs)
    sign = staticmethod(np.sign)
    sqrt = staticmethod(np.sqrt)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    log1p = staticmethod(np.log1p)
    expm1 = staticmethod(np.expm1)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    tan = staticmethod(np.tan)
    tanh = staticmethod(np.tanh)
    floor = staticmethod(np.floor)
    ceil = staticmethod(np.ceil)
    round = staticmethod(np.round)
    logical_not = staticmethod(np.logical_not)
    isfinite = staticmethod(np.isfinite)
    isnan = staticmethod(np.isnan)
    square = staticmethod(np.square)
    reciprocal = staticmethod(np.reciprocal)

    def erf(self, x):
        return np.asarray(_erf(x), dtype=x.dtype)

    add = staticmethod(np.add)
    subtract = staticmethod(np.subtract)
    multiply = staticmethod(np.multiply)
    divide = staticmethod(np.divide)
    floor_divide = staticmethod(np.floor_divide)
    floor_mod = staticmethod(np.mod)
    power = staticmethod(np.power)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    equal = staticmethod(np.equal)
    not_equal = staticmethod(np.not_equal)
    less = staticmethod(np.less)
    less_equal = staticmethod(np.less_equal)
    greater = staticmethod(np.greater)
    greater_equal = staticmethod(np.greater_equal)
    logical_and = staticmethod(np.logical_and)
    logical_or = staticmethod(np.logical_or)
    where = staticmethod(np.where)

    def rsqrt(self, x):
        return np.reciprocal(np.sqrt(x))

    def sigmoid(self, x):
        # Split by sign so exp never overflows: e^x/(1+e^x) for x<0, 1/(1+e^-x) otherwise.
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    def relu(self, x):
        return np.maximum(x, 0)

    def tanh_grad(self, y, dy):
        return dy * (1 - y * y)

    def sigmoid_grad(self, y, dy):
        return dy * (y * (1 - y))

    def relu_grad(self, x, dy):
        return np.where(x > 0, dy, np.zeros((), dy.dtype))

    def one_hot(self, indices, depth, dtype):
        return (indices[..., None] == np.arange(depth)).astype(dtype.as_numpy_dtype)

    def sparse_softmax_cross_entropy(self, logits, labels):
        shifted = logits - np.max(logits, axis=-1, keepdims=True)
        picked = np.take_along_axis(shifted, labels[..., None].astype(np.intp), axis=-1)[..., 0]
        return np.log(np.sum(np.exp(shifted), axis=-1)) - picked

    # ---- reductions --------------------------------------------------------------------

    # dtype= keeps integer sums in their own dtype (NumPy would widen int32 to int64).
    def reduce_sum(self, x, axis, keepdims):
        return np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    def reduce_mean(self, x, axis, keepdims):
        return np.mean(x, axis=axis, keepdims=keepdims)

    def reduce_max(self, x, axis, keepdims):
        return np.max(x, axis=axis, keepdims=keepdims)

    def reduce_min(self, x, axis, keepdims):
        return np.min(x, axis=axis, keepdims=keepdims)

    def reduce_prod(self, x, axis, keepdims):
        return np.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    def argmax(self, x, axis):
        return np.argmax(x, axis=axis).astype(np.int64)

    def argmin(self, x, axis):
        return np.argmin(x, axis=axis).astype(np.int64)

    # ---- shapes and indexing -----------------------------------------------------------

    def reshape(self, x, shape):
        return np.reshape(x, shape)

    def transpose(self, x, perm):
        return np.transpose(x, perm)

    def broadcast_to(self, x, shape):
        return np.broadcast_to(x, shape)

    def concat(self, xs, axis):
        return np.concatenate(xs, axis=axis)

    def stack(self, xs, axis):
        return np.stack(xs, axis=axis)

    def tile(self, x, multiples):
        return np.tile(x, multiples)

    def pad(self, x, paddings, constant_value):
        return np.pad(x, paddings, constant_values=constant_value)

    def slice(self, x, key):
        return np.asarray(x)[key]

    def slice_into_zeros(self, update, shape, key):
        out = np.zeros(shape, dtype=update.dtype)
        out[key] = update
        return out

    def gather(self, params, indices, axis):
        return np.take(params, indices, axis=axis)

    def unsorted_segment_sum(self, data, segment_ids, num_segments):
        out = np.zeros((num_segments,) + data.shape[segment_ids.ndim:], dtype=data.dtype)
        np.add.at(out, segment_ids, data)
        return out

    # ---- linear algebra -----------------------------------------------------------------

    def matmul(self, a, b):
        # NumPy multiplies ml_dtypes' bfloat16 in float32 and returns float32: keep the input dtype.
        return np.matmul(a, b).astype(a.dtype, copy=False)

    # ---- convolution and pooling: im2col views and col2im by filter tap ------------------

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
    wide = np.promote_types(a.dtype, np.float32)
    return np.matmul(a.astype(wide, copy=False), b.astype(wide, copy=False)).astype(a.dtype, copy=False)
