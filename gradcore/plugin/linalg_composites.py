"""Composite defaults of the optional kernels for linear algebra (solves, factorizations), for ``Backend``.

Written with the required kernels, so a backend that lacks a native kernel still
runs every op; fast backends override them (docs/writing-a-backend.md). Each
works on a batch of matrices (any leading axes; the core has broadcast the batch
axes of two operands to one shape) with a Python loop over one matrix dimension,
so it suits the small matrices a fallback meets. The contract of each kernel,
what it reads and returns, is in docs/linalg.md ("Kernels").
"""

import numpy as np

from gradcore.engine import dtypes

#: The optional kernels this mixin defines (the contract's OPTIONAL_KERNELS include them).
KERNELS = (
    "matrix_inverse", "matrix_solve", "matrix_determinant", "log_matrix_determinant",
    "cholesky", "triangular_solve", "qr", "eigh", "svd",
)


class LinalgComposites:
    """Mixin of ``Backend``: optional kernels built from its required kernels."""

    # ---- Gauss-Jordan elimination with partial pivoting: inverse, solve, determinants -------------

    def matrix_inverse(self, a):
        """a^-1; NaN everywhere for an exactly singular ``a`` (the core turns that into an error)."""
        n = a.shape[-1]
        eye = self.broadcast_to(self.eye(n, n, self.dtype_of(a), self.device_of(a)), tuple(a.shape))
        return self.matrix_solve(a, eye)

    def matrix_solve(self, a, b):
        """x with a x = b, for a [..., n, n] and b [..., n, k] of the same batch shape."""
        n = a.shape[-1]
        if n == 0:
            return b  # empty, as its solution
        reduced, pivots, _ = self._gauss_jordan(self.concat([a, b], len(a.shape) - 1), n)
        solution = self.slice(reduced, (Ellipsis, slice(None), slice(n, None)))
        pivots = self._joined(pivots, len(a.shape) - 2, a, tuple(a.shape[:-2]) + (n,))
        smallest = self.reduce_min(self.abs(pivots), (len(a.shape) - 2,), False)
        singular = self.equal(self.reshape(smallest, tuple(a.shape[:-2]) + (1, 1)), self._scalar(0, a))
        return self.where(singular, self._scalar(float("nan"), a), solution)

    def matrix_determinant(self, a):
        pivots, sign = self._pivots(a)
        return self.multiply(sign, self.reduce_prod(pivots, (len(pivots.shape) - 1,), False))

    def log_matrix_determinant(self, a):
        """(sign, log|det a|): (0, -inf) for a singular ``a``."""
        pivots, sign = self._pivots(a)
        last = (len(pivots.shape) - 1,)
        sign = self.multiply(sign, self.reduce_prod(self.sign(pivots), last, False))
        zero = self.equal(pivots, self._scalar(0, pivots))
        logs = self.log(self.where(zero, self._scalar(1, pivots), self.abs(pivots)))
        logs = self.where(zero, self._scalar(float("-inf"), pivots), logs)
        return sign, self.reduce_sum(logs, last, False)

    def _pivots(self, a):
        """The pivots of a's LU factorization [..., n] and the sign of its row permutation [...]."""
        n = a.shape[-1]
        _, pivots, sign = self._gauss_jordan(a, n)
        return self._joined(pivots, len(a.shape) - 2, a, tuple(a.shape[:-2]) + (n,)), sign

    def _gauss_jordan(self, m, n):
        """Reduce the first n columns of m [..., n, w] to the identity, picking the largest pivot of each.

        Returns (the reduced m, the pivots as [..., 1] arrays, the permutation's sign [...]). A zero
        pivot (a singular matrix) divides by 1 instead, so everything stays finite: the callers read
        the pivots to give 0 determinants or a NaN solution.
        """
        rank = len(m.shape)
        dtype, device = self.dtype_of(m), self.device_of(m)
        rows = self.arange(0, n, 1, dtypes.int64, device)  # argmax's dtype, to compare with its results
        row_axis = self.reshape(rows, (n, 1))
        sign = self.full(tuple(m.shape[:-2]), 1, dtype, device)
        zero, one = self._scalar(0, m), self._scalar(1, m)
        pivots = []
        for k in range(n):
            column = self.abs(self.slice(m, (Ellipsis, slice(k, n), k)))
            pivot_row = self.add(self.argmax(column, rank - 2), self._scalar(k, rows))
            sign = self.where(self.equal(pivot_row, self._scalar(k, rows)), sign, self.negative(sign))
            is_pivot = self.equal(row_axis, self.reshape(pivot_row, tuple(m.shape[:-2]) + (1, 1)))
            is_k = self.equal(row_axis, self._scalar(k, rows))
            chosen = self.reduce_sum(self.where(is_pivot, m, zero), (rank - 2,), True)
            row_k = self.slice(m, (Ellipsis, slice(k, k + 1), slice(None)))
            m = self.where(is_k, chosen, self.where(is_pivot, row_k, m))
            pivot = self.slice(chosen, (Ellipsis, slice(None), slice(k, k + 1)))
            pivots.append(self.reshape(pivot, tuple(m.shape[:-2]) + (1,)))
            normalized = self.divide(chosen, self.where(self.equal(pivot, zero), one, pivot))
            column_k = self.slice(m, (Ellipsis, slice(None), slice(k, k + 1)))
            m = self.where(is_k, normalized, self.subtract(m, self.multiply(column_k, normalized)))
        return m, pivots, sign

    # ---- Cholesky and triangular solves -------------------------------------------------------

    def cholesky(self, a):
        """Lower-triangular L with L L^T = a, reading a's lower triangle; NaN where a is not positive definite.

        Column by column: L[:, j] = (a[:, j] - L[:, :j] L[j, :j]^T) / sqrt(that at row j), rows above j zero.
        """
        n = a.shape[-1]
        rows = self.reshape(self.arange(0, n, 1, self.dtype_of(a), self.device_of(a)), (n, 1))
        columns = []
        for j in range(n):
            column = self.slice(a, (Ellipsis, slice(None), slice(j, j + 1)))
            if columns:
                done = self.concat(columns, len(a.shape) - 1)
                row_j = self.slice(done, (Ellipsis, slice(j, j + 1), slice(None)))
                column = self.subtract(column, self.matmul(done, self._swap_last(row_j)))
            square = self.slice(column, (Ellipsis, slice(j, j + 1), slice(None)))
            # NaN, not sqrt of a negative, where a is not positive definite: the core reports it
            root = self.sqrt(self.where(self.greater(square, self._scalar(0, a)), square,
                                        self._scalar(float("nan"), a)))
            below = self.greater_equal(rows, self._scalar(j, rows))
            columns.append(self.where(below, self.divide(column, root), self._scalar(0, a)))
        return self._joined(columns, len(a.shape) - 1, a, tuple(a.shape))

    def triangular_solve(self, a, b, lower):
        """x with a x = b for triangular a [..., n, n] (only that triangle is read), b [..., n, k]."""
        n = a.shape[-1]
        order = range(n) if lower else range(n - 1, -1, -1)
        solved = []  # rows of x in the order they are found
        for i in order:
            rest = self.slice(b, (Ellipsis, slice(i, i + 1), slice(None)))
            if solved:
                known = slice(0, i) if lower else slice(i + 1, n)
                coefficients = self.slice(a, (Ellipsis, slice(i, i + 1), known))
                rows = solved if lower else solved[::-1]
                rest = self.subtract(rest, self.matmul(coefficients, self.concat(rows, len(b.shape) - 2)))
            solved.append(self.divide(rest, self.slice(a, (Ellipsis, slice(i, i + 1), slice(i, i + 1)))))
        return self._joined(solved if lower else solved[::-1], len(b.shape) - 2, b, tuple(b.shape))

    # ---- QR by Householder reflections --------------------------------------------------------

    def qr(self, a, full_matrices):
        """(q, r) with a = q r, q orthonormal columns, r upper triangular; [m, m] and [m, n] when
        ``full_matrices``, else [m, k] and [k, n] with k = min(m, n)."""
        m, n = a.shape[-2:]
        dtype, device = self.dtype_of(a), self.device_of(a)
        rows = self.reshape(self.arange(0, m, 1, dtype, device), (m, 1))
        q = self.broadcast_to(self.eye(m, m, dtype, device), tuple(a.shape[:-2]) + (m, m))
        r = a
        for k in range(min(m - 1, n)):
            v = self._householder_vector(self.slice(r, (Ellipsis, slice(None), slice(k, k + 1))), rows, k)
            two = self._scalar(2, a)
            r = self.subtract(r, self.multiply(two, self.matmul(v, self.matmul(self._swap_last(v), r))))
            q = self.subtract(q, self.multiply(two, self.matmul(self.matmul(q, v), self._swap_last(v))))
        columns = self.reshape(self.arange(0, n, 1, dtype, device), (1, n))
        r = self.where(self.greater(rows, columns), self._scalar(0, a), r)
        if full_matrices:
            return q, r
        k = min(m, n)
        return self.slice(q, (Ellipsis, slice(None), slice(0, k))), self.slice(r, (Ellipsis, slice(0, k), slice(None)))

    def _householder_vector(self, column, rows, k):
        """Unit v [..., m, 1] whose reflection I - 2 v v^T zeroes ``column`` below row k (0 if it is already)."""
        zero = self._scalar(0, column)
        x = self.where(self.less(rows, self._scalar(k, rows)), zero, column)
        head = self.slice(x, (Ellipsis, slice(k, k + 1), slice(None)))
        norm = self.sqrt(self.reduce_sum(self.multiply(x, x), (len(x.shape) - 2,), True))
        # alpha = -sign(head) |x|, so v = x - alpha e_k never cancels
        alpha = self.where(self.less(head, zero), norm, self.negative(norm))
        v = self.subtract(x, self.where(self.equal(rows, self._scalar(k, rows)), alpha, zero))
        length = self.sqrt(self.reduce_sum(self.multiply(v, v), (len(v.shape) - 2,), True))
        nonzero = self.greater(length, zero)
        return self.where(nonzero, self.divide(v, self.where(nonzero, length, self._scalar(1, length))), zero)

    def _swap_last(self, x):
        rank = len(x.shape)
        return self.transpose(x, tuple(range(rank - 2)) + (rank - 1, rank - 2))

    # ---- eigen and singular value decompositions by Jacobi rotations ----------------------------
    # Cyclic Jacobi (Golub & Van Loan, Matrix Computations, 8.5): each rotation zeroes one off-diagonal
    # pair; a fixed number of sweeps (no data-dependent stop, so a gc.function trace is one program)
    # converges quadratically, far below float64's rounding for the small matrices a fallback meets.

    def eigh(self, a):
        """(e, v): ascending eigenvalues [..., n] and eigenvectors [..., n, n] of the symmetric matrix
        whose lower triangle is a's lower triangle."""
        n = a.shape[-1]
        lower = self._triangle(a, lower=True, strict=False)
        a = self.add(lower, self._swap_last(self._triangle(a, lower=True, strict=True)))
        v = self._batch_eye(a, n)
        for _ in range(_JACOBI_SWEEPS):
            for p in range(n - 1):
                for q in range(p + 1, n):
                    entry = lambda i, j: self.slice(a, (Ellipsis, slice(i, i + 1), slice(j, j + 1)))  # noqa: E731
                    rotation = self._rotation(n, p, q, entry(p, p), entry(q, q), entry(p, q), a)
                    a = self.matmul(self._swap_last(rotation), self.matmul(a, rotation))
                    v = self.matmul(v, rotation)
        values = self.reduce_sum(self.multiply(a, self._batch_eye(a, n)), (len(a.shape) - 1,), False)
        return self._sorted_columns(values, v, descending=False)

    def svd(self, a, full_matrices, compute_uv):
        """(s, u, v): singular values [..., k] in descending order and, if ``compute_uv``, u [..., m, k|m]
        and v [..., n, k|n] with a = u diag(s) v^T (else u and v are None); k = min(m, n).

        One-sided Jacobi (Hestenes) on the columns of a (of a^T when it is wide): rotations make them
        orthogonal; their norms are s, the rotations accumulate into v. u is completed to an orthonormal
        basis by QR, so zero singular values still get orthonormal singular vectors.
        """
        m, n = a.shape[-2:]
        if m < n:
            s, v, u = self.svd(self._swap_last(a), full_matrices, compute_uv)
            return s, u, v
        work, v = a, self._batch_eye(a, n)
        for _ in range(_JACOBI_SWEEPS):
            for p in range(n - 1):
                for q in range(p + 1, n):
                    column = lambda j: self.slice(work, (Ellipsis, slice(None), slice(j, j + 1)))  # noqa: E731
                    dot = lambda x, y: self.reduce_sum(self.multiply(x, y), (len(a.shape) - 2,), True)  # noqa: E731
                    up, uq = column(p), column(q)
                    rotation = self._rotation(n, p, q, dot(up, up), dot(uq, uq), dot(up, uq), a)
                    work = self.matmul(work, rotation)
                    v = self.matmul(v, rotation)
        norms = self.sqrt(self.reduce_sum(self.multiply(work, work), (len(a.shape) - 2,), False))
        s, columns = self._sorted_columns(norms, self.concat([work, v], len(a.shape) - 2), descending=True)
        if not compute_uv:
            return s, None, None
        work, v = self.slice(columns, (Ellipsis, slice(0, m), slice(None))), \
            self.slice(columns, (Ellipsis, slice(m, m + n), slice(None)))
        scale = self.reshape(s, tuple(s.shape[:-1]) + (1, n))
        positive = self.greater(scale, self._scalar(0, scale))
        u = self.where(positive, self.divide(work, self.where(positive, scale, self._scalar(1, scale))),
                       self._scalar(0, work))
        return s, self._orthonormal_completion(u, full_matrices), v

    def _orthonormal_completion(self, u, full_matrices):
        """u [..., m, k] (orthonormal columns, some maybe zero) with its zero columns replaced so that all
        are orthonormal, and with ``full_matrices`` extended to [..., m, m]: QR of [u | I]."""
        m, k = u.shape[-2:]
        q, r = self.qr(self.concat([u, self._batch_eye(u, m)], len(u.shape) - 1), True)
        rank = len(u.shape)
        diagonal = self.reduce_sum(self.multiply(self.slice(r, (Ellipsis, slice(0, m), slice(0, m))),
                                                 self._batch_eye(u, m)), (rank - 2,), True)
        # q's column j is +-u's column j where that is not zero: undo the reflection's sign
        flip = self.where(self.less(diagonal, self._scalar(0, diagonal)), self._scalar(-1, u), self._scalar(1, u))
        q = self.multiply(q, flip)
        return q if full_matrices else self.slice(q, (Ellipsis, slice(None), slice(0, k)))

    def _rotation(self, n, p, q, app, aqq, apq, like):
        """The Jacobi rotation J [..., n, n] in plane (p, q) that zeroes apq of J^T [[app, apq], [apq, aqq]] J."""
        c, sine = self._rotation_cosine_sine(self.subtract(aqq, app), self.multiply(self._scalar(2, like), apq))
        rotation = self._batch_eye(like, n)
        diagonal = self._unit(like, n, [(p, p), (q, q)], 1)
        off = self._unit(like, n, [(p, q)], 1)
        off_below = self._unit(like, n, [(q, p)], 1)
        rotation = self.add(rotation, self.multiply(self.subtract(c, self._scalar(1, like)), diagonal))
        return self.add(rotation, self.multiply(sine, self.subtract(off, off_below)))

    def _rotation_cosine_sine(self, d, e):
        """(c, s) of the rotation for tau = d / e, t = sign(tau) / (|tau| + sqrt(1 + tau^2)), c = 1 / sqrt(1 + t^2).

        Computed from whichever of d / e and e / d is at most 1 in magnitude, so nothing overflows
        when the off-diagonal entry e is tiny; t = 0 (no rotation) when e is 0.
        """
        zero, one = self._scalar(0, d), self._scalar(1, d)
        steep = self.greater(self.abs(d), self.abs(e))  # |tau| > 1: t = r / (1 + sqrt(1 + r^2)), r = e / d
        # each branch divides only its own entries (the other's could overflow when squared)
        r = self.divide(self.where(steep, e, zero), self.where(steep, d, one))
        t_steep = self.divide(r, self.add(one, self.sqrt(self.add(one, self.multiply(r, r)))))
        nonzero = self.not_equal(e, zero)
        tau = self.divide(self.where(steep, zero, d), self.where(nonzero, e, one))
        sign = self.where(self.less(tau, zero), self._scalar(-1, d), one)
        t_flat = self.divide(sign, self.add(self.abs(tau), self.sqrt(self.add(one, self.multiply(tau, tau)))))
        t = self.where(steep, t_steep, self.where(nonzero, t_flat, zero))
        c = self.divide(one, self.sqrt(self.add(one, self.multiply(t, t))))
        return c, self.multiply(t, c)

    def _unit(self, like, n, positions, value):
        matrix = np.zeros((n, n))
        for i, j in positions:
            matrix[i, j] = value
        return self.asarray(matrix, self.dtype_of(like), self.device_of(like))

    def _batch_eye(self, like, n):
        eye = self.eye(n, n, self.dtype_of(like), self.device_of(like))
        return self.broadcast_to(eye, tuple(like.shape[:-2]) + (n, n))

    def _triangle(self, a, lower, strict):
        n = a.shape[-1]
        keep = np.tril(np.ones((n, n), dtype=bool), -1 if strict else 0)
        mask = self.asarray(keep if lower else keep.T, dtypes.bool_, self.device_of(a))
        return self.where(mask, a, self._scalar(0, a))

    def _sorted_columns(self, values, columns, descending):
        """values [..., n] sorted, and the columns of ``columns`` [..., r, n] in the same order (selection by
        argmin, n passes: the required kernels have no sort)."""
        n = values.shape[-1]
        last = len(values.shape) - 1
        key = self.negative(values) if descending else values
        positions = self.arange(0, n, 1, dtypes.int64, self.device_of(values))
        taken = self._scalar(float("inf"), key)
        picked_values, picked_columns = [], []
        for _ in range(n):
            index = self.argmin(key, last)
            hit = self.equal(positions, self.reshape(index, tuple(index.shape) + (1,)))
            picked_values.append(self.reduce_sum(self.where(hit, values, self._scalar(0, values)), (last,), True))
            hit_columns = self.reshape(hit, tuple(hit.shape[:-1]) + (1, n))
            picked_columns.append(self.reduce_sum(self.where(hit_columns, columns, self._scalar(0, columns)),
                                                  (last + 1,), True))
            key = self.where(hit, taken, key)
        return (self._joined(picked_values, last, values, tuple(values.shape)),
                self._joined(picked_columns, last + 1, columns, tuple(columns.shape)))

    def _joined(self, parts, axis, like, empty_shape):
        """``parts`` concatenated along ``axis``, or zeros of ``empty_shape`` for an empty matrix (no parts)."""
        if parts:
            return self.concat(parts, axis)
        return self.zeros(empty_shape, self.dtype_of(like), self.device_of(like))


#: Sweeps of cyclic Jacobi: each squares the off-diagonal error once converging, so ten leave none.
_JACOBI_SWEEPS = 10
