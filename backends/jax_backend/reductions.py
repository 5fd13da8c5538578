"""Reduction kernels: sums, means, extrema, products, logsumexp, any/all, argmax/argmin, and scans along an axis."""

import jax
import jax.numpy as jnp


class ReductionKernels:
    """Reductions over a tuple of axes (or all of them for None)."""

    # dtype= keeps integer sums and products in their own dtype, wrapping modulo 2^bits as TF
    # does (with x64 on, jax would widen int8/int16/int32/uint8 to 64 bits).
    def reduce_sum(self, x, axis, keepdims):
        return jnp.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    def reduce_mean(self, x, axis, keepdims):
        return jnp.mean(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    def reduce_max(self, x, axis, keepdims):
        return jnp.max(x, axis=axis, keepdims=keepdims)

    def reduce_min(self, x, axis, keepdims):
        return jnp.min(x, axis=axis, keepdims=keepdims)

    def reduce_prod(self, x, axis, keepdims):
        return jnp.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype)

    def reduce_logsumexp(self, x, axis, keepdims):
        return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims)

    def reduce_any(self, x, axis, keepdims):
        return jnp.any(x, axis=axis, keepdims=keepdims)

    def reduce_all(self, x, axis, keepdims):
        return jnp.all(x, axis=axis, keepdims=keepdims)

    def cumsum(self, x, axis, exclusive, reverse):
        return _scan(jax.lax.cumsum, x, axis, exclusive, reverse, 0)

    def cumprod(self, x, axis, exclusive, reverse):
        return _scan(jax.lax.cumprod, x, axis, exclusive, reverse, 1)

    def argmax(self, x, axis):
        return jnp.argmax(x, axis=axis).astype(jnp.int64)

    def argmin(self, x, axis):
        return jnp.argmin(x, axis=axis).astype(jnp.int64)


def _scan(scan, x, axis, exclusive, reverse, identity):
    """lax's scan (it runs from the end itself) in x's dtype; exclusive by shifting in ``identity``."""
    y = scan(x, axis=axis, reverse=reverse)
    if exclusive and x.shape[axis]:
        n = x.shape[axis]
        kept = jax.lax.slice_in_dim(y, 1, n, axis=axis) if reverse else jax.lax.slice_in_dim(y, 0, n - 1, axis=axis)
        pads = [(0, 0)] * x.ndim
        pads[axis] = (0, 1) if reverse else (1, 0)
        y = jnp.pad(kept, pads, constant_values=identity)
    return y
