"""Inverses, determinants and solves: inv, det, slogdet, solve, triangular_solve, cholesky.

Each is one optional kernel (gradcore/plugin/linalg_composites.py) with its
gradient rule beside it, written with gradcore ops (Giles 2008; Murray 2016 for
Cholesky), as TensorFlow's linalg_grad.py states them. Half-precision inputs are
computed in float32 and cast back (docs/linalg.md, "Dtypes").
"""

import functools

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import record, state
from gradcore.engine.registry import RegisterGradient
from gradcore.engine.tensor import Tensor
from gradcore.errors import InvalidArgumentError
from gradcore.ops.array_ops import broadcast_to, expand_dims
from gradcore.ops.kernels import call_kernel, check_on_host, run_kernel
from gradcore.ops.linalg_ops import band_part, check_square, constant_like, diag, diag_part, matmul, matrix_transpose
from gradcore.ops.math_ops import add, cast, log, multiply, negative, subtract
from gradcore.ops.operands import FLOAT, broadcast_shape, check_kind, operands
from gradcore.ops.reduction_ops import reduce_sum

HALF = (dtypes.float16, dtypes.bfloat16)


def float_matrices(api, *values):
    """The inputs as tensors of one float dtype, each a batch of matrices (rank >= 2)."""
    if len(values) == 1:
        x = to_tensor(values[0], op_name=api)
        check_kind(api, x, FLOAT)
        return (x,)
    x, y = operands(values[0], values[1], api)
    check_kind(api, x, FLOAT)
    return x, y


def in_float32(op):
    """Run ``op`` on float32 copies of half-precision inputs and cast its outputs back.

    LAPACK, cuSOLVER and XLA factor no half-precision matrix, so the core decides once for every
    backend (docs/linalg.md, "Dtypes"); the casts are ops, so gradients flow through them.
    """
    @functools.wraps(op)
    def wrapped(*tensors, **attrs):
        dtype = tensors[0]._dtype
        if dtype not in HALF:
            return op(*tensors, **attrs)
        result = op(*(cast(t, dtypes.float32) for t in tensors), **attrs)
        if isinstance(result, tuple):
            return tuple(None if r is None else cast(r, dtype) for r in result)
        return cast(result, dtype)

    return wrapped


def same_batch(api, a, b):
    """a [..., n, n] and b [..., n, k] broadcast to one batch shape (kernels never broadcast)."""
    if a.shape[-1] != b.shape[-2]:
        raise InvalidArgumentError(
            f"{api}: matrix has shape {a.shape} and rhs {b.shape}: rhs must have {a.shape[-1]} rows, "
            f"one per row of the matrix")
    batch = broadcast_shape(a.shape[:-2], b.shape[:-2], f"{api} (batch dimensions)")
    if a.shape[:-2] != batch:
        a = broadcast_to(a, batch + a.shape[-2:])
    if b.shape[:-2] != batch:
        b = broadcast_to(b, batch + b.shape[-2:])
    return a, b


def refuse_non_finite(api, problem, source, result):
    """Raise if ``result`` holds a NaN or an infinity that a finite ``source`` does not explain.

    Backends disagree on a singular or indefinite matrix (NumPy and torch raise, JAX returns NaN), so
    the core checks on the host, as TensorFlow's kernels do, and every backend raises the same error.
    """
    def check(source_values, result_values):
        if np.isfinite(source_values).all() and not np.isfinite(result_values).all():
            raise InvalidArgumentError(f"{api}: {problem} (input of shape {source_values.shape})")

    check_on_host(check, source, result)


# ---- inverse and solve ------------------------------------------------------------------------


def inv(input, adjoint=False, name=None):
    """The inverse of each square matrix of ``input`` (of its transpose with ``adjoint``)."""
    api = "gc.linalg.inv"
    (a,) = float_matrices(api, input)
    check_square(api, "input", a)
    return _inverse(matrix_transpose(a) if adjoint else a)


@in_float32
def _inverse(a):
    y = run_kernel("gc.linalg.inv", a._backend, "matrix_inverse", a._dtype, a._value)
    refuse_non_finite("gc.linalg.inv", "the matrix is not invertible", a, y)
    if state.recording:
        record("MatrixInverse", (a,), (y,))
    return y


@RegisterGradient("MatrixInverse")
def _inverse_grad(op, dy):
    """d a^-1 = -a^-T dy a^-T."""
    a_inv = op.outputs[0]
    return negative(matmul(a_inv, matmul(dy, a_inv, transpose_b=True), transpose_a=True))


def solve(matrix, rhs, adjoint=False, name=None):
    """x with ``matrix @ x = rhs`` (``matrix^T @ x = rhs`` with ``adjoint``); the batch axes broadcast."""
    api = "gc.linalg.solve"
    a, b = float_matrices(api, matrix, rhs)
    check_square(api, "matrix", a)
    if b.ndim < 2:
        raise InvalidArgumentError(f"{api}: rhs must have rank >= 2 ([..., n, k]), got shape {b.shape}")
    return _solve(*same_batch(api, matrix_transpose(a) if adjoint else a, b))


@in_float32
def _solve(a, b):
    x = run_kernel("gc.linalg.solve", a._backend, "matrix_solve", a._dtype, a._value, b._value)
    refuse_non_finite("gc.linalg.solve", "the matrix is not invertible", a, x)
    if state.recording:
        record("MatrixSolve", (a, b), (x,))
    return x


@RegisterGradient("MatrixSolve")
def _solve_grad(op, dy):
    """x = a^-1 b: db = a^-T dy, da = -db x^T."""
    a = op.inputs[0]
    x = op.outputs[0]
    db = solve(a, dy, adjoint=True)
    return negative(matmul(db, x, transpose_b=True)) if op.needs_gradient(0) else None, db


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """x with ``matrix @ x = rhs`` for triangular matrices, reading only the ``lower`` (or upper) triangle;
    with ``adjoint``, ``matrix^T @ x = rhs``. The batch axes broadcast."""
    api = "gc.linalg.triangular_solve"
    a, b = float_matrices(api, matrix, rhs)
    check_square(api, "matrix", a)
    if b.ndim < 2:
        raise InvalidArgumentError(f"{api}: rhs must have rank >= 2 ([..., n, k]), got shape {b.shape}")
    # a^T of a lower triangle is an upper one: one kernel serves both
    if adjoint:
        a, lower = matrix_transpose(a), not lower
    return _triangular_solve(*same_batch(api, a, b), lower=bool(lower))


@in_float32
def _triangular_solve(a, b, lower):
    x = run_kernel("gc.linalg.triangular_solve", a._backend, "triangular_solve", a._dtype, a._value, b._value,
                   lower)
    if state.recording:
        record("MatrixTriangularSolve", (a, b), (x,), {"lower": lower})
    return x


@RegisterGradient("MatrixTriangularSolve")
def _triangular_solve_grad(op, dy):
    """As MatrixSolve, with da kept to the triangle the op reads."""
    a = op.inputs[0]
    x = op.outputs[0]
    lower = op.get_attr("lower")
    db = triangular_solve(a, dy, lower=lower, adjoint=True)
    if not op.needs_gradient(0):
        return None, db
    da = negative(matmul(db, x, transpose_b=True))
    return band_part(da, -1, 0) if lower else band_part(da, 0, -1), db


# ---- determinants -------------------------------------------------------------------------------


def det(input, name=None):
    """The determinant of each square matrix of ``input`` [..., n, n]: [...]."""
    api = "gc.linalg.det"
    (a,) = float_matrices(api, input)
    check_square(api, "input", a)
    return _determinant(a)


@in_float32
def _determinant(a):
    y = run_kernel("gc.linalg.det", a._backend, "matrix_determinant", a._dtype, a._value)
    if state.recording:
        record("MatrixDeterminant", (a,), (y,))
    return y


@RegisterGradient("MatrixDeterminant")
def _determinant_grad(op, dy):
    """d det(a) = det(a) a^-T."""
    scale = multiply(dy, op.outputs[0])
    return multiply(expand_dims(expand_dims(scale, -1), -1), inv(op.inputs[0], adjoint=True))


def slogdet(input, name=None):
    """(sign, log|det|) of each square matrix of ``input``: stable where det itself over- or underflows."""
    api = "gc.linalg.slogdet"
    (a,) = float_matrices(api, input)
    check_square(api, "input", a)
    return _log_determinant(a)


@in_float32
def _log_determinant(a):
    sign, log_abs = call_kernel("gc.linalg.slogdet", a._backend, "log_matrix_determinant", a._value)
    sign, log_abs = Tensor(sign, a._dtype, a._backend), Tensor(log_abs, a._dtype, a._backend)
    if state.recording:
        record("LogMatrixDeterminant", (a,), (sign, log_abs))
    return sign, log_abs


@RegisterGradient("LogMatrixDeterminant")
def _log_determinant_grad(op, d_sign, d_log_abs):
    """d log|det a| = a^-T; the sign is piecewise constant."""
    return multiply(expand_dims(expand_dims(d_log_abs, -1), -1), inv(op.inputs[0], adjoint=True))


def logdet(matrix, name=None):
    """log det of each symmetric positive definite matrix: twice the log of the product of its Cholesky
    factor's diagonal, as ``tf.linalg.logdet`` computes it (a matrix that is not positive definite is
    gc.linalg.cholesky's InvalidArgumentError). Its gradient, through the factor's, is a^-1."""
    return multiply(reduce_sum(log(diag_part(cholesky(matrix))), -1), 2.0)


# ---- Cholesky -------------------------------------------------------------------------------------


def cholesky(input, name=None):
    """Lower-triangular L with L L^T = ``input`` for symmetric positive definite matrices; only the
    lower triangle of ``input`` is read."""
    api = "gc.linalg.cholesky"
    (a,) = float_matrices(api, input)
    check_square(api, "input", a)
    return _cholesky(a)


@in_float32
def _cholesky(a):
    y = run_kernel("gc.linalg.cholesky", a._backend, "cholesky", a._dtype, a._value)
    refuse_non_finite("gc.linalg.cholesky", "the matrix is not positive definite, so it has no Cholesky "
                      "factor", a, y)
    if state.recording:
        record("Cholesky", (a,), (y,))
    return y


@RegisterGradient("Cholesky")
def _cholesky_grad(op, dl):
    """Murray (2016): da = sym(L^-T Phi(L^T dL) L^-1), Phi the lower triangle with its diagonal halved.

    Symmetric, as TensorFlow's: the gradient of a function of a symmetric input (docs/linalg.md).
    """
    l = op.outputs[0]
    l_inv = triangular_solve(l, _identity_like(l), lower=True)
    middle = band_part(matmul(l, dl, transpose_a=True), -1, 0)
    middle = subtract(middle, multiply(diag(diag_part(middle)), 0.5))
    grad = matmul(matmul(l_inv, middle, transpose_a=True), l_inv)
    return multiply(add(grad, matrix_transpose(grad)), 0.5)


def _identity_like(a):
    n = a.shape[-1]
    return broadcast_to(constant_like(a, np.eye(n, dtype=a._dtype.as_numpy_dtype), a._dtype), a.shape)
