"""Reduction kernels: sums, means, extrema, products, logsumexp, argmax/argmin."""

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

    def argmax(self, x, axis):
        return jnp.argmax(x, axis=axis).astype(jnp.int64)

    def argmin(self, x, axis):
        return jnp.argmin(x, axis=axis).astype(jnp.int64)
