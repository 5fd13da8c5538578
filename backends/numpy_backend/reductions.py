"""Reduction kernels: sums, means, extrema, products, argmax/argmin."""

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
