"""Linear algebra kernels: the batched matrix product."""

import numpy as np


class LinalgKernels:
    """``np.matmul``, keeping the input dtype."""

    def matmul(self, a, b):
        # NumPy multiplies ml_dtypes' bfloat16 in float32 and returns float32: keep the input dtype.
        return np.matmul(a, b).astype(a.dtype, copy=False)
