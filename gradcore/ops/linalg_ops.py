"""Matrix products and structure: matmul (batched, broadcasting), matvec, matrix_transpose, diagonals,
trace and band_part. All but matmul are compositions of other ops, so their gradients come free."""

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import record, state
from gradcore.errors import InvalidArgumentError, ShapeError, UnimplementedError
from gradcore.ops.array_ops import expand_dims, pad, reshape, squeeze, transpose
from gradcore.ops.kernels import run_kernel
from gradcore.ops.math_ops import where, zeros_like_raw
from gradcore.ops.operands import NUMERIC, broadcast_shape, check_kind, operands
from gradcore.ops.reduction_ops import reduce_sum
from gradcore.ops.rules import broadcasting_rule


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """``a`` with its last two axes swapped (a batch of transposed matrices).

    ``conjugate`` is TensorFlow's; it changes nothing for the real dtypes gradcore supports.
    """
    x = to_tensor(a, op_name="gc.linalg.matrix_transpose")
    _check_matrix("gc.linalg.matrix_transpose", "a", x)
    perm = list(range(x.ndim))
    perm[-2:] = perm[-1], perm[-2]
    return transpose(x, perm)


def adjoint(matrix, name=None):
    """The conjugate transpose of each matrix, as ``tf.linalg.adjoint``: the transpose for real dtypes."""
    return matrix_transpose(matrix, conjugate=True)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False, name=None):
    """``a @ b`` over the last two axes; the leading (batch) axes broadcast.

    ``adjoint_*`` equals ``transpose_*`` for the real dtypes gradcore supports.
    """
    api = "gc.linalg.matmul"
    a, b = operands(a, b, api)
    check_kind(api, a, NUMERIC)
    for label, t in (("a", a), ("b", b)):
        _check_matrix(api, label, t)
    given = a, b  # as the caller gave them, for the message
    a, b = _transposed(api, "a", a, transpose_a, adjoint_a), _transposed(api, "b", b, transpose_b, adjoint_b)
    if a.shape[-1] != b.shape[-2]:
        shapes = (f"{_described('a', given[0], transpose_a or adjoint_a)}, "
                  f"{_described('b', given[1], transpose_b or adjoint_b)}")
        raise ShapeError(
            f"{api}: inner dimensions do not match: {shapes}, so {a.shape[-1]} columns meet "
            f"{b.shape[-2]} rows; matmul needs a[..., m, k] and b[..., k, n]"
        )
    broadcast_shape(a.shape[:-2], b.shape[:-2], f"{api} (batch dimensions)")
    backend = a._backend
    y = run_kernel(api, backend, "matmul", a._dtype, a._value, b._value)
    if state.recording:
        record("BatchMatMulV2", (a, b), (y,))
    return y


def _check_matrix(api, label, t):
    if t.ndim < 2:
        raise InvalidArgumentError(
            f"{api}: {label} must have rank >= 2 (a matrix or a batch of them), got shape {t.shape}; "
            f"reshape a vector to [1, n] or [n, 1]"
        )


def _described(label, t, flipped):
    return f"{label} has shape {t.shape}{' (transposed)' if flipped else ''}"


def _transposed(api, label, t, transpose, adjoint):
    if transpose and adjoint:
        raise InvalidArgumentError(f"{api}: only one of transpose_{label} and adjoint_{label} can be True")
    return matrix_transpose(t) if transpose or adjoint else t


# d(a @ b) = dy @ b^T for a and a^T @ dy for b, each summed over broadcast batch axes.
broadcasting_rule("BatchMatMulV2", lambda dy, a, b, z: matmul(dy, b, transpose_b=True),
                  lambda dy, a, b, z: matmul(a, dy, transpose_a=True))


def matvec(a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False, b_is_sparse=False, name=None):
    """``a @ b`` for matrices a [..., m, n] and vectors b [..., n]: a [..., m] (the batch axes broadcast)."""
    b = to_tensor(b, op_name="gc.linalg.matvec")
    if b.ndim < 1:
        raise InvalidArgumentError(f"gc.linalg.matvec: b must be a vector or a batch of them, got shape {b.shape}")
    return squeeze(matmul(a, expand_dims(b, -1), transpose_a=transpose_a, adjoint_a=adjoint_a), [-1])


def diag_part(input, name="diag_part", k=0, padding_value=0, align="RIGHT_LEFT"):
    """Diagonal ``k`` of each matrix of ``input`` [..., m, n]: [..., its length].

    ``k`` = 0 is the main diagonal, k > 0 one above it and k < 0 one below, as in TensorFlow.
    ``padding_value`` and ``align`` place the shorter diagonals of a band; one diagonal needs neither.
    """
    api = "gc.linalg.diag_part"
    x = to_tensor(input, op_name=api)
    _check_matrix(api, "input", x)
    k = _one_diagonal(api, k)
    rows, cols = x.shape[-2:]
    if not -rows < k < cols:
        raise InvalidArgumentError(f"{api}: matrices of shape {rows} x {cols} have no diagonal k={k}; "
                                   f"k must lie in ({-rows}, {cols})")
    top, left = max(-k, 0), max(k, 0)
    size = min(rows - top, cols - left)
    square = x[..., top:top + size, left:left + size]  # diagonal k is this square's main diagonal
    # Every (size + 1)-th element of the flattened square is on its diagonal: a slice, not a masked sum.
    return reshape(square, x.shape[:-2] + (size * size,))[..., ::size + 1]


def diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0, align="RIGHT_LEFT"):
    """Matrices [..., num_rows, num_cols] with ``diagonal`` [..., n] as their diagonal ``k`` and
    ``padding_value`` everywhere else.

    Sizes left at -1 are inferred as TensorFlow does: with both unset, the smallest square that holds
    the diagonal (n + |k|); with one set, the smallest other size that does. ``align`` places the
    diagonals of a band; one diagonal needs none.
    """
    api = "gc.linalg.diag"
    v = to_tensor(diagonal, op_name=api)
    if v.ndim < 1:
        raise InvalidArgumentError(f"{api}: diagonal must have rank >= 1, got shape {v.shape}")
    k = _one_diagonal(api, k)
    n = v.shape[-1]
    top, left = max(-k, 0), max(k, 0)
    rows, cols = _diag_matrix_shape(api, n, top, left, num_rows, num_cols)
    on_diagonal = np.zeros((rows, cols), dtype=bool)
    on_diagonal[np.arange(n) + top, np.arange(n) + left] = True
    # Above the main diagonal, row i holds element i; below it, column i does. As a column (or a row)
    # padded to the matrix's height (or width), the diagonal broadcasts across the matrix.
    axis, length = (-1, rows) if k >= 0 else (-2, cols)
    if length > n:
        v = pad(v, [[0, 0]] * (v.ndim - 1) + [[0, length - n]])
    return where(constant_like(v, on_diagonal, dtypes.bool_), expand_dims(v, axis), padding_value)


def _one_diagonal(api, k):
    """``k`` as one int: TensorFlow's k is an int or a (low, high) pair, and a pair gives a band."""
    values = np.asarray(k.numpy() if hasattr(k, "numpy") else k).reshape(-1)
    if values.size not in (1, 2) or values.dtype.kind not in "iu":
        raise InvalidArgumentError(f"{api}: k must be an integer or a pair of them, got {k!r}")
    low, high = int(values[0]), int(values[-1])
    if low != high:
        raise UnimplementedError(f"{api}: bands of diagonals (k=({low}, {high})) are not supported; "
                                 f"take one diagonal at a time")
    return low


def _diag_matrix_shape(api, n, top, left, num_rows, num_cols):
    """(rows, cols) of the matrices gc.linalg.diag makes: the given sizes, else the smallest that hold the diagonal."""
    least_rows, least_cols = n + top, n + left
    rows, cols = (_host_int(api, "num_rows and num_cols", size) for size in (num_rows, num_cols))
    if rows == -1 and cols == -1:
        return (max(least_rows, least_cols),) * 2
    rows, cols = least_rows if rows == -1 else rows, least_cols if cols == -1 else cols
    if rows < least_rows or cols < least_cols or (rows != least_rows and cols != least_cols):
        raise InvalidArgumentError(
            f"{api}: a diagonal of {n} elements at k={left - top} needs {least_rows} rows or {least_cols} "
            f"columns exactly (and at least that many of both), got num_rows={num_rows}, num_cols={num_cols}")
    return rows, cols


def trace(x, name=None):
    """The sum of the main diagonal of each matrix of ``x`` [..., m, n]: [...]."""
    return reduce_sum(diag_part(x), -1)


def band_part(input, num_lower, num_upper, name=None):
    """``input`` with every element more than ``num_lower`` below or ``num_upper`` above the diagonal
    zeroed; a negative count keeps that whole triangle (``band_part(x, -1, 0)`` is the lower triangle)."""
    api = "gc.linalg.band_part"
    x = to_tensor(input, op_name=api)
    _check_matrix(api, "input", x)
    lower, upper = (_host_int(api, "num_lower and num_upper", count) for count in (num_lower, num_upper))
    rows, cols = np.indices(x.shape[-2:])
    keep = ((lower < 0) | (rows - cols <= lower)) & ((upper < 0) | (cols - rows <= upper))
    return where(constant_like(x, keep, dtypes.bool_), x, zeros_like_raw(x))


def _host_int(api, what, value):
    """An integer argument that may come as a gradcore Tensor (a count, a size), as a Python int."""
    number = int(value.numpy()) if hasattr(value, "numpy") else value
    if not isinstance(number, (int, np.integer)):
        raise InvalidArgumentError(f"{api}: {what} must be integers, got {value!r}")
    return int(number)


def constant_like(x, array, dtype):
    """The NumPy ``array`` as a constant of ``dtype`` on x's backend and device (a mask, an identity)."""
    backend = x._backend
    return run_kernel("gc.constant", backend, "asarray", dtype, array, dtype, backend.device_of(x._value))


def check_square(api, label, t):
    """``t`` must be a batch of square matrices."""
    _check_matrix(api, label, t)
    if t.shape[-1] != t.shape[-2]:
        raise InvalidArgumentError(f"{api}: {label} must be square matrices [..., n, n], got shape {t.shape}")
