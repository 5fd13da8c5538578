"""``gc.linalg``: TensorFlow's ``tf.linalg`` names."""

from gradcore.ops.clip_ops import global_norm
from gradcore.ops.decomposition_ops import eigh, eigvalsh, qr, svd
from gradcore.ops.einsum_ops import einsum, tensordot
from gradcore.ops.linalg_ops import adjoint, band_part, diag, diag_part, matmul, matrix_transpose, matvec, trace
from gradcore.ops.norm_ops import l2_normalize, norm
from gradcore.ops.solve_ops import cholesky, det, inv, logdet, slogdet, solve, triangular_solve
