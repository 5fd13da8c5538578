"""Matrix factorizations: qr, eigh, svd.

Each is one optional kernel with its gradient rule beside it, as TensorFlow's
linalg_grad.py states them: valid where the factors are unique and smooth, that
is for distinct eigenvalues and singular values (and a full-rank input for QR);
at a repeated value the rules divide by (nearly) zero (docs/linalg.md, "Gradients").
"""

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.recording import record, state
from gradcore.engine.registry import RegisterGradient
from gradcore.engine.tensor import Tensor
from gradcore.errors import InvalidArgumentError, UnimplementedError
from gradcore.ops.array_ops import concat, expand_dims
from gradcore.ops.kernels import call_kernel
from gradcore.ops.linalg_ops import band_part, check_square, constant_like, diag, diag_part, matmul, matrix_transpose
from gradcore.ops.math_ops import add, divide, multiply, reciprocal, square, subtract, where
from gradcore.ops.solve_ops import float_matrices, in_float32, triangular_solve


def _outputs(a, raws):
    return tuple(None if r is None else Tensor(r, a._dtype, a._backend) for r in raws)


# ---- QR ------------------------------------------------------------------------------------------


def qr(input, full_matrices=False, name=None):
    """(q, r) with ``input = q @ r``, q with orthonormal columns and r upper triangular.

    For input [..., m, n] and k = min(m, n): q [..., m, k] and r [..., k, n], or with
    ``full_matrices`` q [..., m, m] and r [..., m, n].
    """
    api = "gc.linalg.qr"
    (a,) = float_matrices(api, input)
    _check_rank(api, a)
    return _qr(a, full_matrices=bool(full_matrices))


@in_float32
def _qr(a, full_matrices):
    q, r = _outputs(a, call_kernel("gc.linalg.qr", a._backend, "qr", a._value, full_matrices))
    if state.recording:
        record("Qr", (a,), (q, r), {"full_matrices": full_matrices})
    return q, r


@RegisterGradient("Qr")
def _qr_grad(op, dq, dr):
    """Deep or square a: da = q (dr + tri(...) r^-T) + (dq - q q^T dq) r^-T; a wide a splits as TF does."""
    a = op.inputs[0]
    q, r = op.outputs
    m, n = a.shape[-2:]
    if op.get_attr("full_matrices") and m > n:
        raise UnimplementedError("gc.linalg.qr: no gradient with full_matrices=True for more rows than columns "
                                 f"(input shape {a.shape}), as in TensorFlow; use full_matrices=False")
    if m >= n:
        return _qr_grad_deep(q, r, dq, dr)
    y = a[..., :, m:]
    u, du, dv = r[..., :, :m], dr[..., :, :m], dr[..., :, m:]
    dx = _qr_grad_deep(q, u, add(dq, matmul(y, dv, transpose_b=True)), du)
    return concat([dx, matmul(q, dv)], axis=-1)


def _qr_grad_deep(q, r, dq, dr):
    qdq = matmul(q, dq, transpose_a=True)
    rdr = matmul(r, dr, transpose_b=True)
    lower = band_part(add(_antisymmetric(qdq), _antisymmetric(rdr)), -1, 0)
    through_r = matmul(q, add(dr, _times_inverse_transpose(lower, r)))
    through_q = _times_inverse_transpose(subtract(dq, matmul(q, qdq)), r)
    return add(through_r, through_q)


def _antisymmetric(x):
    return subtract(x, matrix_transpose(x))


def _times_inverse_transpose(x, r):
    """x r^-T for upper-triangular r."""
    return matrix_transpose(triangular_solve(r, matrix_transpose(x), lower=False))


# ---- symmetric eigendecomposition ---------------------------------------------------------------------


def eigh(tensor, name=None):
    """(e, v): the eigenvalues of each symmetric matrix in ascending order [..., n] and its eigenvectors,
    the columns of v [..., n, n]. Only the lower triangle of ``tensor`` is read."""
    api = "gc.linalg.eigh"
    (a,) = float_matrices(api, tensor)
    check_square(api, "tensor", a)
    return _eigh(a)


def eigvalsh(tensor, name=None):
    """The eigenvalues of each symmetric matrix, ascending, as ``tf.linalg.eigvalsh``: eigh's first output,
    so its gradient is v diag(de) v^T on the lower triangle, as TensorFlow's."""
    return eigh(tensor)[0]


@in_float32
def _eigh(a):
    e, v = _outputs(a, call_kernel("gc.linalg.eigh", a._backend, "eigh", a._value))
    if state.recording:
        record("SelfAdjointEigV2", (a,), (e, v))
    return e, v


@RegisterGradient("SelfAdjointEigV2")
def _eigh_grad(op, de, dv):
    """da = v (diag(de) + F * (v^T dv)) v^T, F[i, j] = 1 / (e_j - e_i) off the diagonal; kept to the lower
    triangle the op reads, as TF."""
    e, v = op.outputs
    f = _off_diagonal_reciprocal(subtract(expand_dims(e, -2), expand_dims(e, -1)))
    inner = add(diag(de), multiply(f, matmul(v, dv, transpose_a=True)))
    grad = matmul(v, matmul(inner, v, transpose_b=True))
    grad = band_part(add(grad, matrix_transpose(grad)), -1, 0)
    return subtract(grad, multiply(diag(diag_part(grad)), 0.5))


def _off_diagonal_reciprocal(x, safe=False):
    """1 / x off the diagonal, 0 on it; ``safe``: TF's x / (x^2 + 1e-20), so 0 rather than inf at x = 0."""
    n = x.shape[-1]
    on_diagonal = constant_like(x, np.eye(n, dtype=bool), dtypes.bool_)
    if safe:
        return where(on_diagonal, 0.0, divide(x, add(square(x), 1e-20)))
    return where(on_diagonal, 0.0, reciprocal(where(on_diagonal, 1.0, x)))


# ---- singular value decomposition ------------------------------------------------------------------------


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """(s, u, v) with ``tensor = u @ diag(s) @ v^T``: s [..., k] descending, k = min(m, n); u [..., m, k] and
    v [..., n, k], or u [..., m, m] and v [..., n, n] with ``full_matrices``. Just s when not ``compute_uv``.
    TensorFlow's order: s first, and v itself, not its transpose."""
    api = "gc.linalg.svd"
    (a,) = float_matrices(api, tensor)
    _check_rank(api, a)
    s, u, v = _svd(a, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv))
    return (s, u, v) if compute_uv else s


@in_float32
def _svd(a, full_matrices, compute_uv):
    s, u, v = _outputs(a, call_kernel("gc.linalg.svd", a._backend, "svd", a._value, full_matrices, compute_uv))
    if state.recording:
        outputs = (s, u, v) if compute_uv else (s,)
        record("Svd", (a,), outputs, {"full_matrices": full_matrices, "compute_uv": compute_uv})
    return s, u, v


@RegisterGradient("Svd")
def _svd_grad(op, ds, du=None, dv=None):
    """TensorFlow's rule (valid for distinct non-zero singular values): for m <= n,
    da = u (diag(ds) + (F*(u^T du) + its transpose) S + S (F*(v1^T dv1) + its transpose)) v1^T
    + u S^-1 (dv1^T - dv1^T v1 v1^T [- v1^T dv2 v2^T]), F[i, j] = 1 / (s_j^2 - s_i^2); m > n by transposing."""
    a = op.inputs[0]
    if not op.get_attr("compute_uv"):
        _, u, v = svd(a, compute_uv=True)
        return matmul(u, matmul(diag(ds), v, transpose_b=True))
    s, u, v = op.outputs
    full_matrices = op.get_attr("full_matrices")
    m, n = a.shape[-2:]
    transposed = m > n
    if transposed:
        m, n, u, v, du, dv = n, m, v, u, dv, du
    if full_matrices and n - m > 1:
        raise UnimplementedError("gc.linalg.svd: no gradient with full_matrices=True when the two matrix sizes "
                                 f"differ by more than 1 (input shape {a.shape}), as in TensorFlow; use "
                                 "full_matrices=False")
    s_matrix = diag(s)
    squares = square(s)
    f = _off_diagonal_reciprocal(subtract(expand_dims(squares, -2), expand_dims(squares, -1)), safe=True)
    v1, dv1 = v[..., :, :m], dv[..., :, :m]
    f_u = multiply(f, matmul(u, du, transpose_a=True))
    f_v = multiply(f, matmul(v1, dv1, transpose_a=True))
    middle = add(add(diag(ds), matmul(add(f_u, matrix_transpose(f_u)), s_matrix)),
                 matmul(s_matrix, add(f_v, matrix_transpose(f_v))))
    grad = matmul(u, matmul(middle, v1, transpose_b=True))
    if m != n:
        dv1_t = matrix_transpose(dv1)
        rest = subtract(dv1_t, matmul(matmul(dv1_t, v1), v1, transpose_b=True))
        if full_matrices:
            v2, dv2 = v[..., :, m:n], dv[..., :, m:n]
            rest = subtract(rest, matmul(matmul(v1, dv2, transpose_a=True), v2, transpose_b=True))
        grad = add(grad, matmul(divide(u, expand_dims(s, -2)), rest))
    return matrix_transpose(grad) if transposed else grad


def _check_rank(api, a):
    if a.ndim < 2:
        raise InvalidArgumentError(f"{api}: input must have rank >= 2 (a matrix or a batch of them), "
                                   f"got shape {a.shape}")
