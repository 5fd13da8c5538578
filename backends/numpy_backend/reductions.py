"""Reduction kernels: sums, means, extrema, products, any/all, argmax/argmin, and scans along an axis."""

import numpy as np


class ReductionKernels:
    """Reductions over a tuple of axes (or all of them for None)."""

    # dtype= keeps integer sums and products in their own dtype, wrapping modulo 2^bits as TF
    # does (NumPy would widen int8/int16/int32/uint8 to 64 bits).
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

    def reduce_any(self, x, axis, keepdims):
        return np.any(x, axis=axis, keepdims=keepdims)

    def reduce_all(self, x, axis, keepdims):
        return np.all(x, axis=axis, keepdims=keepdims)

    def cumsum(self, x, axis, exclusive, reverse):
        return _scan(np.cumsum, x, axis, exclusive, reverse, 0)

    def cumprod(self, x, axis, exclusive, reverse):
        return _scan(np.cumprod, x, axis, exclusive, reverse, 1)


def _scan(scan, x, axis, exclusive, reverse, identity):
    """``scan`` with TensorFlow's options: reversed by flipping, exclusive by shifting in ``identity``."""
    if reverse:
        x = np.flip(x, axis)
    y = scan(x, axis=axis, dtype=x.dtype)  # integers keep their dtype and wrap, as TF
    if exclusive and x.shape[axis]:
        first = np.full_like(np.take(y, [0], axis=axis), identity)
        y = np.concatenate([first, np.delete(y, -1, axis=axis)], axis=axis)
    return np.flip(y, axis) if reverse else y
