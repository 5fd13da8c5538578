"""Kernels that make new arrays: filled, ranges, identity matrices."""

import jax.numpy as jnp


class CreationKernels:
    """Array creation with jax.numpy's constructors, placed on the device asked for."""

    def full(self, shape, value, dtype, device=None):
        return self._place(jnp.full(tuple(shape), value, dtype=dtype.as_numpy_dtype), device)

    def arange(self, start, limit, delta, dtype, device=None):
        return self._place(jnp.arange(start, limit, delta, dtype=dtype.as_numpy_dtype), device)

    def eye(self, num_rows, num_columns, dtype, device=None):
        return self._place(jnp.eye(num_rows, num_columns, dtype=dtype.as_numpy_dtype), device)
