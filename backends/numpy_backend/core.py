"""Devices, version, and conversion between ``np.ndarray`` and gradcore's dtypes."""

import numpy as np

from gradcore.engine import dtypes


class CoreKernels:
    """The host is the only device; arrays are ``np.ndarray`` of the gradcore dtype's NumPy dtype."""

    def devices(self):
        return ["cpu"]

    def copy(self, x):
        return np.array(x, copy=True)  # an array even for a NumPy scalar, which may be shared

    def version(self):
        return np.__version__

    def asarray(self, value, dtype, device=None):
        return np.asarray(value, dtype=dtype.as_numpy_dtype)

    def to_numpy(self, x):
        return np.asarray(x)

    def dtype_of(self, x):
        return dtypes.as_dtype(x.dtype)

    def device_of(self, x):
        return "cpu"

    def cast(self, x, dtype):
        return np.asarray(x).astype(dtype.as_numpy_dtype)
