"""Reduction kernels: sums, products, extrema, any/all, argmax/argmin (axis: a tuple, or None for all).

The scans (cumsum, cumprod) are the contract's composites.
"""


class ReductionKernels:
    """The standard's reductions; reduce_mean is the contract's composite (a sum over a count)."""

    # dtype= keeps integer sums and products in their own dtype, wrapping as TF does: the
    # standard would widen small integers to the default integer dtype.
    def reduce_sum(self, x, axis, keepdims):
        return self.xp.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    def reduce_prod(self, x, axis, keepdims):
        return self.xp.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    def reduce_max(self, x, axis, keepdims):
        return self.xp.max(x, axis=axis, keepdims=keepdims)

    def reduce_min(self, x, axis, keepdims):
        return self.xp.min(x, axis=axis, keepdims=keepdims)

    def reduce_any(self, x, axis, keepdims):
        return self.xp.any(x, axis=axis, keepdims=keepdims)

    def reduce_all(self, x, axis, keepdims):
        return self.xp.all(x, axis=axis, keepdims=keepdims)

    # The standard returns the first extremum in its default index dtype; the contract says int64.
    def argmax(self, x, axis):
        return self.xp.astype(self.xp.argmax(x, axis=axis), self.xp.int64)

    def argmin(self, x, axis):
        return self.xp.astype(self.xp.argmin(x, axis=axis), self.xp.int64)
