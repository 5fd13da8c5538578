"""Linear algebra kernels: the batched matrix product, and the factorizations of the standard's
``linalg`` extension where the namespace has it (the contract's composites where it does not)."""


def _is_linalg_error(exc):
    # NumPy-backed namespaces raise numpy.linalg.LinAlgError; the standard names no exception to catch.
    return any(cls.__name__ == "LinAlgError" for cls in type(exc).__mro__)


class LinalgKernels:
    """The standard's ``matmul`` broadcasts the batch dimensions as NumPy does, as the contract asks.

    The standard has no triangular solve, so ``triangular_solve`` stays the contract's composite.
    """

    def matmul(self, a, b):
        return self.xp.matmul(a, b)

    def _linalg(self):
        return getattr(self.xp, "linalg", None)

    def _nan_if_singular(self, solve, like, *arrays):
        """``solve(*arrays)``, or NaN shaped like ``like`` where the library refuses a singular or indefinite
        matrix: the core reports that with the same error on every backend (gradcore/ops/solve_ops.py)."""
        try:
            return solve(*arrays)
        except Exception as exc:
            if not _is_linalg_error(exc):
                raise
            return self.xp.full(like.shape, float("nan"), dtype=like.dtype)

    def _symmetric_from_lower(self, a):
        """The symmetric matrix of a's lower triangle: the standard's cholesky and eigh may read either
        triangle, the contract's read the lower one."""
        return self.xp.add(self.xp.tril(a), self.xp.matrix_transpose(self.xp.tril(a, k=-1)))

    def matrix_inverse(self, a):
        linalg = self._linalg()
        if linalg is None:
            return super().matrix_inverse(a)
        return self._nan_if_singular(linalg.inv, a, a)

    def matrix_solve(self, a, b):
        linalg = self._linalg()
        if linalg is None:
            return super().matrix_solve(a, b)
        return self._nan_if_singular(linalg.solve, b, a, b)

    def matrix_determinant(self, a):
        linalg = self._linalg()
        return super().matrix_determinant(a) if linalg is None else linalg.det(a)

    def log_matrix_determinant(self, a):
        linalg = self._linalg()
        if linalg is None:
            return super().log_matrix_determinant(a)
        sign, log_abs = linalg.slogdet(a)
        return sign, log_abs

    def cholesky(self, a):
        linalg = self._linalg()
        if linalg is None:
            return super().cholesky(a)
        return self._nan_if_singular(linalg.cholesky, a, self._symmetric_from_lower(a))

    def qr(self, a, full_matrices):
        linalg = self._linalg()
        if linalg is None:
            return super().qr(a, full_matrices)
        q, r = linalg.qr(a, mode="complete" if full_matrices else "reduced")
        return q, r

    def eigh(self, a):
        linalg = self._linalg()
        if linalg is None:
            return super().eigh(a)
        e, v = linalg.eigh(self._symmetric_from_lower(a))
        return e, v

    def svd(self, a, full_matrices, compute_uv):
        linalg = self._linalg()
        if linalg is None:
            return super().svd(a, full_matrices, compute_uv)
        if not compute_uv:
            return linalg.svdvals(a), None, None
        u, s, vh = linalg.svd(a, full_matrices=full_matrices)
        return s, u, self.xp.matrix_transpose(vh)
