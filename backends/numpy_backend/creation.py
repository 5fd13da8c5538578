"""Kernels that make new arrays: filled, ranges, identity matrices."""

import numpy as np


class CreationKernels:
    """Array creation with NumPy's constructors."""

    def full(self, shape, value, dtype, device=None):
        return np.full(shape, value, dtype=dtype.as_numpy_dtype)

    def arange(self, start, limit, delta, dtype, device=None):
        return np.arange(start, limit, delta, dtype=dtype.as_numpy_dtype)

    def eye(self, num_rows, num_columns, dtype, device=None):
        return np.eye(num_rows, num_columns, dtype=dtype.as_numpy_dtype)
