"""Reduction kernels: sums, means, extrema, products, logsumexp, any/all, argmax/argmin, and scans along an axis."""

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

    def reduce_any(self, x, axis, keepdims):
        if axis == ():
            return x
        return torch.any(x, dim=_all_axes(x, axis), keepdim=keepdims)

    def reduce_all(self, x, axis, keepdims):
        if axis == ():
            return x
        return torch.all(x, dim=_all_axes(x, axis), keepdim=keepdims)

    def cumsum(self, x, axis, exclusive, reverse):
        return _scan(torch.cumsum, x, axis, exclusive, reverse, 0)

    def cumprod(self, x, axis, exclusive, reverse):
        return _scan(torch.cumprod, x, axis, exclusive, reverse, 1)

    def argmax(self, x, axis):
        return torch.argmax(x, dim=axis)

    def argmin(self, x, axis):
        return torch.argmin(x, dim=axis)


def _scan(scan, x, axis, exclusive, reverse, identity):
    """``scan`` with TensorFlow's options: reversed by flipping, exclusive by shifting in ``identity``."""
    if reverse:
        x = torch.flip(x, (axis,))
    y = scan(x, axis, dtype=x.dtype)  # integers keep their dtype and wrap, as TF (torch would widen to int64)
    if exclusive and x.shape[axis]:
        first = torch.full_like(y.narrow(axis, 0, 1), identity)
        y = torch.cat([first, y.narrow(axis, 0, y.shape[axis] - 1)], axis)
    return torch.flip(y, (axis,)) if reverse else y
