"""Linear algebra kernels: the batched matrix product and the factorizations of np.linalg."""

import numpy as np


def _nan_if_singular(solver, *arrays):
    """``solver(*arrays)``, or NaN where NumPy refuses a singular or indefinite matrix: the core reports it
    (gradcore/ops/solve_ops.py) with the same error on every backend."""
    try:
        return solver(*arrays)
    except np.linalg.LinAlgError:
        return np.full(arrays[-1].shape, np.nan, dtype=arrays[0].dtype)


class LinalgKernels:
    """``np.matmul`` keeping the input dtype, and np.linalg's LAPACK routines, batched."""

    def matmul(self, a, b):
        # NumPy multiplies ml_dtypes' bfloat16 in float32 and returns float32: keep the input dtype.
        return np.matmul(a, b).astype(a.dtype, copy=False)

    def matrix_inverse(self, a):
        return _nan_if_singular(np.linalg.inv, a)

    def matrix_solve(self, a, b):
        return _nan_if_singular(np.linalg.solve, a, b)

    def matrix_determinant(self, a):
        return np.linalg.det(a)

    def log_matrix_determinant(self, a):
        sign, log_abs = np.linalg.slogdet(a)
        return sign, log_abs

    def cholesky(self, a):
        return _nan_if_singular(np.linalg.cholesky, a)

    def triangular_solve(self, a, b, lower):
        # LAPACK's general solve on the triangle alone: NumPy has no batched triangular solver.
        return _nan_if_singular(np.linalg.solve, np.tril(a) if lower else np.triu(a), b)

    def qr(self, a, full_matrices):
        return np.linalg.qr(a, mode="complete" if full_matrices else "reduced")

    def eigh(self, a):
        return np.linalg.eigh(a, UPLO="L")

    def svd(self, a, full_matrices, compute_uv):
        if not compute_uv:
            return np.linalg.svd(a, compute_uv=False), None, None
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        return s, u, np.swapaxes(vh, -1, -2)
