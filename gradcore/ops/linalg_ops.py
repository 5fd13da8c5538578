"""Matrix products: matmul (batched, broadcasting) and matrix_transpose."""

from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import record, state
from gradcore.errors import InvalidArgumentError, ShapeError
from gradcore.ops.array_ops import transpose
from gradcore.ops.kernels import run_kernel
from gradcore.ops.operands import NUMERIC, broadcast_shape, check_kind, operands
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
