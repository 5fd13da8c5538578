"""Linear algebra kernels: the batched matrix product and the factorizations of torch.linalg."""

import torch


def _nan_where_failed(result, info):
    """NaN in each matrix whose factorization failed (``info`` != 0), for the core to report as singular or
    indefinite (gradcore/ops/solve_ops.py): the same error on every backend, and no host sync here."""
    failed = (info != 0).reshape(tuple(info.shape) + (1,) * (result.dim() - info.dim()))
    return torch.where(failed, torch.full((), float("nan"), dtype=result.dtype, device=result.device), result)


class LinalgKernels:
    """``torch.matmul``; float32 stays float32 on GPUs because CoreKernels switches TF32 off."""

    matmul = staticmethod(torch.matmul)

    def matrix_inverse(self, a):
        return _nan_where_failed(*torch.linalg.inv_ex(a))

    def matrix_solve(self, a, b):
        return _nan_where_failed(*torch.linalg.solve_ex(a, b))

    def matrix_determinant(self, a):
        return torch.linalg.det(a)

    def log_matrix_determinant(self, a):
        sign, log_abs = torch.linalg.slogdet(a)
        return sign, log_abs

    def cholesky(self, a):
        return _nan_where_failed(*torch.linalg.cholesky_ex(a))

    def triangular_solve(self, a, b, lower):
        return torch.linalg.solve_triangular(a, b, upper=not lower)

    def qr(self, a, full_matrices):
        q, r = torch.linalg.qr(a, mode="complete" if full_matrices else "reduced")
        return q, r

    def eigh(self, a):
        e, v = torch.linalg.eigh(a, UPLO="L")
        return e, v

    def svd(self, a, full_matrices, compute_uv):
        if not compute_uv:
            return torch.linalg.svdvals(a), None, None
        u, s, vh = torch.linalg.svd(a, full_matrices=full_matrices)
        return s, u, vh.transpose(-1, -2)
