"""Cases for linear algebra: solves, determinants, factorizations, einsum, norms.

Inputs keep away from the points where these functions are not smooth: matrices
are well conditioned (a random one plus 3 I), positive definite for Cholesky, with
well-separated eigenvalues and singular values for eigh and svd. Factors are unique
only up to the signs of their columns, and backends pick different signs, so the
factorization cases compare sign-invariant quantities: outer products of matching
columns (q_k r_k^T, v_k v_k^T, u_k v_k^T), which determine the factors up to those signs.
Only the symmetric part of the input reaches cholesky and eigh (their rules give a
symmetric gradient, as TensorFlow's), so those cases symmetrize first.
"""

import numpy as np

import gradcore as gc

from . import FLOATS, OpCase, normal

REAL = ("float32", "float64")


def _conditioned(*shapes):
    """Random matrices plus 3 I (or random arrays, for a non-matrix shape): far from singular."""
    return lambda rng: [rng.normal(size=s) + (3 * np.eye(*s[-2:]) if len(s) >= 2 else 0) for s in shapes]


def _positive_definite(n):
    def make(rng):
        b = rng.normal(size=(n, n))
        return [b @ b.T + n * np.eye(n)]
    return make


def _orthonormal(rng, n, k):
    return np.linalg.qr(rng.normal(size=(n, n)))[0][:, :k]


def _distinct_eigenvalues(n):
    def make(rng):
        q = _orthonormal(rng, n, n)
        return [q @ np.diag(np.arange(n) * 1.5 - 1 + rng.uniform(0, 0.3, n)) @ q.T]
    return make


def _distinct_singular_values(m, n):
    def make(rng):
        k = min(m, n)
        s = np.arange(k, 0, -1) * 1.2 + rng.uniform(0, 0.3, k)
        return [_orthonormal(rng, m, k) @ np.diag(s) @ _orthonormal(rng, n, k).T]
    return make


def _stacked_on_axis_1(make, count):
    return lambda rng: [np.stack([make(rng)[0] for _ in range(count)], axis=1)]


# ---- sign-invariant views of factors, in gradcore and in NumPy ----------------------------------------


def _np_diag(v, k, rows, cols):
    """Matrices [..., rows, cols] with v [..., n] on diagonal k and zeros elsewhere."""
    out = np.zeros(v.shape[:-1] + (rows, cols))
    index = np.arange(v.shape[-1])
    out[..., index + max(-k, 0), index + max(k, 0)] = v
    return out


def _outer_columns(x, y):
    """[..., k, m, n]: the outer product of column k of x [..., m, k] with column k of y [..., n, k]."""
    xt, yt = gc.linalg.matrix_transpose(x), gc.linalg.matrix_transpose(y)
    return gc.expand_dims(xt, -1) * gc.expand_dims(yt, -2)


def _np_outer_columns(x, y):
    return np.einsum("...ik,...jk->...kij", x, y)


def _flat(*tensors):
    return gc.concat([gc.reshape(t, [-1]) for t in tensors], axis=0)


def _np_flat(*arrays):
    return np.concatenate([np.reshape(a, -1) for a in arrays])


def _symmetric(x):
    return (x + gc.linalg.matrix_transpose(x)) * 0.5


def _np_symmetric(x):
    return (x + np.swapaxes(x, -1, -2)) / 2


def _qr_view(a, full_matrices=False):
    q, r = gc.linalg.qr(a, full_matrices=full_matrices)
    return _flat(_outer_columns(q, gc.linalg.matrix_transpose(r)))


def _np_qr_view(a):
    q, r = np.linalg.qr(a)
    return _np_flat(_np_outer_columns(q, np.swapaxes(r, -1, -2)))


def _eigh_view(a):
    e, v = gc.linalg.eigh(_symmetric(a))
    return _flat(e, _outer_columns(v, v))


def _np_eigh_view(a):
    e, v = np.linalg.eigh(_np_symmetric(a))
    return _np_flat(e, _np_outer_columns(v, v))


def _svd_view(a, full_matrices=False):
    s, u, v = gc.linalg.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]
    views = [s, _outer_columns(u[..., :k], v[..., :k])]
    for extra in (u[..., k:], v[..., k:]):  # full_matrices: the completion, unique up to sign when one column
        if extra.shape[-1]:
            views.append(_outer_columns(extra, extra))
    return _flat(*views)


def _np_svd_view(a, full_matrices=False):
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    v, k = np.swapaxes(vh, -1, -2), s.shape[-1]
    views = [s, _np_outer_columns(u[..., :k], v[..., :k])]
    for extra in (u[..., k:], v[..., k:]):
        if extra.shape[-1]:
            views.append(_np_outer_columns(extra, extra))
    return _np_flat(*views)


def _np_slogdet(a):
    return np.stack(np.linalg.slogdet(a))


SOLVES = [
    OpCase("linalg-inv", ("MatrixInverse",), gc.linalg.inv, np.linalg.inv, _conditioned((2, 3, 3))),
    OpCase("linalg-solve-broadcast", ("MatrixSolve", "BroadcastTo"), gc.linalg.solve, np.linalg.solve,
           _conditioned((3, 3), (2, 3, 2)), grad=(0, 1), dtypes=REAL),
    OpCase("linalg-solve-adjoint", ("MatrixSolve", "Transpose"), lambda a, b: gc.linalg.solve(a, b, adjoint=True),
           lambda a, b: np.linalg.solve(np.swapaxes(a, -1, -2), b), _conditioned((2, 3, 3), (2, 3, 1)),
           grad=(0, 1), dtypes=REAL),
    OpCase("linalg-triangular_solve-lower", ("MatrixTriangularSolve",), gc.linalg.triangular_solve,
           lambda a, b: np.linalg.solve(np.tril(a), b), _conditioned((2, 3, 3), (2, 3, 2)), grad=(0, 1),
           dtypes=REAL),
    OpCase("linalg-triangular_solve-upper-adjoint", ("MatrixTriangularSolve", "Transpose"),
           lambda a, b: gc.linalg.triangular_solve(a, b, lower=False, adjoint=True),
           lambda a, b: np.linalg.solve(np.swapaxes(np.triu(a), -1, -2), b), _conditioned((3, 3), (3, 2)),
           grad=(0, 1), dtypes=REAL),
    OpCase("linalg-det", ("MatrixDeterminant", "MatrixInverse", "Transpose"), gc.linalg.det, np.linalg.det,
           _conditioned((2, 3, 3)), dtypes=REAL),
    OpCase("linalg-slogdet-negative", ("LogMatrixDeterminant", "MatrixInverse", "Pack"),
           lambda a: gc.stack(gc.linalg.slogdet(-a)), lambda a: _np_slogdet(-a), _conditioned((3, 3)),
           dtypes=REAL),
    OpCase("linalg-cholesky", ("Cholesky", "MatrixTriangularSolve"), lambda a: gc.linalg.cholesky(_symmetric(a)),
           lambda a: np.linalg.cholesky(_np_symmetric(a)), _positive_definite(3), dtypes=FLOATS),
    OpCase("linalg-logdet", ("Cholesky", "Log", "Sum"), lambda a: gc.linalg.logdet(_symmetric(a)),
           lambda a: np.linalg.slogdet(_np_symmetric(a))[1], _positive_definite(3), dtypes=REAL),
]

FACTORIZATIONS = [
    OpCase("linalg-qr-deep", ("Qr", "MatrixTriangularSolve"), _qr_view, _np_qr_view, _conditioned((4, 3)),
           dtypes=REAL),
    OpCase("linalg-qr-wide", ("Qr",), _qr_view, _np_qr_view, _conditioned((2, 3, 4)), dtypes=REAL),
    OpCase("linalg-qr-square-full", ("Qr",), lambda a: _qr_view(a, full_matrices=True), _np_qr_view,
           _conditioned((3, 3)), dtypes=REAL, second_order=False),
    OpCase("linalg-eigh", ("SelfAdjointEigV2",), _eigh_view, _np_eigh_view, _distinct_eigenvalues(3),
           dtypes=REAL),
    OpCase("linalg-eigvalsh", ("SelfAdjointEigV2",), lambda a: gc.linalg.eigvalsh(_symmetric(a)),
           lambda a: np.linalg.eigvalsh(_np_symmetric(a)), _distinct_eigenvalues(3), dtypes=REAL),
    OpCase("linalg-svd-deep", ("Svd",), _svd_view, _np_svd_view, _distinct_singular_values(4, 3), dtypes=REAL),
    OpCase("linalg-svd-wide-full", ("Svd",), lambda a: _svd_view(a, full_matrices=True),
           lambda a: _np_svd_view(a, full_matrices=True), _distinct_singular_values(2, 3), dtypes=REAL,
           second_order=False),
]

PRODUCTS = [
    OpCase("einsum-batched-ellipsis", ("BatchMatMulV2", "Transpose", "Reshape", "BroadcastTo"),
           lambda a, b: gc.einsum("...ij,...kj->...ik", a, b), lambda a, b: np.einsum("...ij,...kj->...ik", a, b),
           normal((2, 1, 2, 3), (3, 4, 3)), grad=(0, 1), dtypes=REAL),
    OpCase("einsum-three-operands-implicit", ("BatchMatMulV2", "Sum"),
           lambda a, b, c: gc.einsum("ij,jk,k", a, b, c), lambda a, b, c: np.einsum("ij,jk,k", a, b, c),
           normal((2, 3), (3, 4), (4,)), grad=(0, 1, 2), dtypes=REAL),
    OpCase("einsum-diagonal-and-sum", ("StridedSlice", "Sum"), lambda a: gc.einsum("bii->i", a),
           lambda a: np.einsum("bii->i", a), normal((2, 3, 3)), dtypes=REAL),
    OpCase("tensordot-axis-lists", ("BatchMatMulV2", "Transpose"), lambda a, b: gc.tensordot(a, b, [[0, 2], [2, 0]]),
           lambda a, b: np.tensordot(a, b, [[0, 2], [2, 0]]), normal((2, 3, 4), (4, 2, 2)), grad=(0, 1),
           dtypes=REAL),
    OpCase("linalg-matvec", ("BatchMatMulV2",), gc.linalg.matvec,
           lambda a, b: np.einsum("...ij,...j->...i", a, b), normal((2, 3, 4), (4,)), grad=(0, 1), dtypes=REAL),
    OpCase("linalg-diag-diag_part-trace", ("SelectV2", "StridedSlice", "Sum"),
           lambda v, a: gc.linalg.diag(v) * gc.linalg.trace(a)[..., None, None] + gc.linalg.diag_part(a)[..., None],
           lambda v, a: (np.einsum("...i,ij->...ij", v, np.eye(3)) * np.trace(a, axis1=-2, axis2=-1)[..., None, None]
                         + np.einsum("...ii->...i", a[..., :3, :3])[..., None]),
           normal((2, 3), (2, 3, 4)), grad=(0, 1), dtypes=REAL),
    OpCase("linalg-diag-diag_part-off-the-main-diagonal", ("SelectV2", "PadV2", "StridedSlice", "Reshape"),
           lambda v, a: (gc.linalg.diag(v, k=1, padding_value=0.5) + gc.linalg.diag(gc.linalg.diag_part(a, k=-1), k=-1)
                         + gc.linalg.diag_part(a, k=1)[..., None, :]),
           lambda v, a: (np.where(np.eye(4, k=1, dtype=bool), _np_diag(v, 1, 4, 4), 0.5)
                         + _np_diag(np.diagonal(a, -1, -2, -1), -1, 4, 4) + np.diagonal(a, 1, -2, -1)[..., None, :]),
           normal((2, 3), (2, 4, 5)), grad=(0, 1), dtypes=REAL),
    OpCase("linalg-diag-given-sizes", ("SelectV2", "PadV2"), lambda v: gc.linalg.diag(v, k=-1, num_rows=4, num_cols=6),
           lambda v: _np_diag(v, -1, 4, 6), normal((2, 3)), dtypes=REAL),
    OpCase("linalg-band_part", ("SelectV2",), lambda a: gc.linalg.band_part(a, 1, 0),
           lambda a: np.tril(np.triu(a, -1)), normal((2, 3, 4)), dtypes=REAL),
]

NORMS = [
    OpCase("norm-euclidean-all", ("Sqrt", "Square", "Sum"), gc.norm, lambda x: np.linalg.norm(x.ravel()),
           normal((2, 3))),
    OpCase("norm-p3-axis-keepdims", ("Pow", "Abs", "Sum"), lambda x: gc.norm(x, 3, axis=-1, keepdims=True),
           lambda x: np.linalg.norm(x, 3, axis=-1, keepdims=True), normal((2, 3)), dtypes=REAL),
    OpCase("norm-matrix-1-and-inf", ("Max", "Abs", "Sum", "Pack"),
           lambda x: gc.stack([gc.norm(x, 1, axis=[1, 2]), gc.norm(x, np.inf, axis=(2, 1))]),
           lambda x: np.stack([np.linalg.norm(x, 1, axis=(1, 2)), np.linalg.norm(x, np.inf, axis=(2, 1))]),
           normal((2, 3, 4)), dtypes=REAL),
    OpCase("norm-matrix-2", ("Svd", "Max", "Transpose"), lambda x: gc.norm(x, 2, axis=[0, 2]),
           lambda x: np.linalg.norm(x, 2, axis=(0, 2)), _stacked_on_axis_1(_distinct_singular_values(3, 4), 2),
           dtypes=REAL),
    OpCase("l2_normalize-axis", ("Rsqrt", "Maximum", "Sum"), lambda x: gc.math.l2_normalize(x, axis=-1),
           lambda x: x / np.sqrt(np.maximum(np.sum(x * x, axis=-1, keepdims=True), 1e-12)), normal((2, 3))),
]

CASES = SOLVES + FACTORIZATIONS + PRODUCTS + NORMS
