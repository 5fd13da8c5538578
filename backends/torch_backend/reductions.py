"""Reduction kernels: sums, means, extrema, products, logsumexp, argmax/argmin."""

import torch


def _all_axes(x, axis):
    # torch reads dim=None or an empty tuple as "every axis"; the core means None = all, () = none.
    return tuple(range(x.ndim)) if axis is None else axis


class ReductionKernels:
    """Reductions over a tuple of axes (or all of them for None)."""

    # dtype= keeps integer sums and products in their own dtype, wrapping modulo 2^bits as TF
    # does (torch would widen every integer dtype to int64).
    def reduce_sum(self, x, axis, keepdims):
        if axis == ():
            return x
        return torch.sum(x, dim=_all_axes(x, axis), keepdim=keepdims, dtype=x.dtype)

    def reduce_mean(self, x, axis, keepdims):
        if axis == ():
            return x
        return torch.mean(x, dim=_all_axes(x, axis), keepdim=keepdims)

    def reduce_max(self, x, axis, keepdims):
        if axis == ():
            return x
        return torch.amax(x, dim=_all_axes(x, axis), keepdim=keepdims)

    def reduce_min(self, x, axis, keepdims):
        if axis == ():
            return x
        return torch.amin(x, dim=_all_axes(x, axis), keepdim=keepdims)

    def reduce_prod(self, x, axis, keepdims):
        # torch.prod takes one dim at a time; reduce the highest axes first so indices stay valid.
        for a in sorted(_all_axes(x, axis), reverse=True):
            x = torch.prod(x, dim=a, keepdim=keepdims, dtype=x.dtype)
        return x

    def reduce_logsumexp(self, x, axis, keepdims):
        if axis == ():
            return x
        return torch.logsumexp(x, dim=_all_axes(x, axis), keepdim=keepdims)

    def argmax(self, x, axis):
        return torch.argmax(x, dim=axis)

    def argmin(self, x, axis):
        return torch.argmin(x, dim=axis)
