"""Linear algebra kernels: the batched matrix product and the factorizations of jnp.linalg and lax.linalg."""

import jax
import jax.numpy as jnp


class LinalgKernels:
    """``jnp.matmul`` at HIGHEST precision, so GPUs and TPUs do not round float32 through TF32/bfloat16.

    A singular or indefinite matrix gives NaN or inf, which the core reports (gradcore/ops/solve_ops.py);
    cholesky and eigh read the lower triangle alone, as the contract says, so JAX's symmetrizing is off.
    """

    def matmul(self, a, b):
        return jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST)

    def matrix_inverse(self, a):
        return jnp.linalg.inv(a)

    def matrix_solve(self, a, b):
        return jnp.linalg.solve(a, b)

    def matrix_determinant(self, a):
        return jnp.linalg.det(a)

    def log_matrix_determinant(self, a):
        sign, log_abs = jnp.linalg.slogdet(a)
        return sign, log_abs

    def cholesky(self, a):
        return jnp.linalg.cholesky(a, symmetrize_input=False)

    def triangular_solve(self, a, b, lower):
        return jax.lax.linalg.triangular_solve(a, b, left_side=True, lower=lower)

    def qr(self, a, full_matrices):
        q, r = jnp.linalg.qr(a, mode="complete" if full_matrices else "reduced")
        return q, r

    def eigh(self, a):
        e, v = jnp.linalg.eigh(a, UPLO="L", symmetrize_input=False)
        return e, v

    def svd(self, a, full_matrices, compute_uv):
        if not compute_uv:
            return jnp.linalg.svd(a, compute_uv=False), None, None
        u, s, vh = jnp.linalg.svd(a, full_matrices=full_matrices)
        return s, u, jnp.swapaxes(vh, -1, -2)
