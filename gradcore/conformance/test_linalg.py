"""Linear algebra behaviour that op cases do not show: errors, triangles read, zeros, dtypes, return order.

Values follow TensorFlow 2's tf.linalg documentation; the op cases (cases/linalg_cases.py) check the
numbers and gradients.
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose

SPD = np.array([[4.0, 2.0, 0.4], [2.0, 3.0, 0.5], [0.4, 0.5, 2.0]])
SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])


@pytest.mark.parametrize("call", [
    lambda: gc.linalg.inv(SINGULAR),
    lambda: gc.linalg.solve(SINGULAR, np.ones((2, 1))),
], ids=["inv", "solve"])
def test_singular_matrix_is_an_error_on_every_backend(call):
    with pytest.raises(gc.InvalidArgumentError, match="not invertible"):
        call()


def test_indefinite_matrix_has_no_cholesky_factor():
    with pytest.raises(gc.InvalidArgumentError, match="gc.linalg.cholesky: .*not positive definite"):
        gc.linalg.cholesky(np.array([[1.0, 2.0], [2.0, 1.0]]))


def test_singularity_is_checked_at_every_call_of_a_function():
    inverse = gc.function(lambda a: gc.linalg.inv(a))
    assert_allclose(inverse(gc.constant(SPD)), np.linalg.inv(SPD), dtype=gc.float64)
    with pytest.raises(gc.InvalidArgumentError, match="not invertible"):
        inverse(gc.constant(np.diag([1.0, 0.0, 2.0])))


def test_singular_determinants_are_zero_not_errors():
    assert float(gc.linalg.det(SINGULAR)) == 0.0
    sign, log_abs = gc.linalg.slogdet(SINGULAR)
    assert float(sign) == 0.0 and float(log_abs) == -np.inf


@pytest.mark.parametrize("factor", [gc.linalg.cholesky, lambda a: gc.linalg.eigh(a)[0]], ids=["cholesky", "eigh"])
def test_only_the_lower_triangle_is_read(factor):
    garbage_above = np.tril(SPD) + np.triu(np.full((3, 3), 100.0), 1)
    assert_allclose(factor(garbage_above), factor(SPD).numpy(), dtype=gc.float64)


def test_triangular_solve_reads_only_its_triangle():
    a = np.tril(SPD) + np.triu(np.full((3, 3), 100.0), 1)
    b = np.array([[1.0], [2.0], [3.0]])
    assert_allclose(gc.linalg.triangular_solve(a, b), np.linalg.solve(np.tril(SPD), b), dtype=gc.float64)


def test_empty_matrices():
    empty = np.zeros((2, 0, 0))
    np.testing.assert_array_equal(gc.linalg.det(empty).numpy(), [1.0, 1.0])
    assert gc.linalg.inv(empty).shape == (2, 0, 0) and gc.linalg.cholesky(empty).shape == (2, 0, 0)
    assert gc.linalg.eigh(empty)[0].shape == (2, 0) and gc.linalg.svd(empty)[0].shape == (2, 0)


def test_svd_returns_s_u_v_in_tensorflows_order():
    a = np.arange(6.0).reshape(2, 3) + np.eye(2, 3)
    s, u, v = gc.linalg.svd(a)
    assert (s.shape, u.shape, v.shape) == ((2,), (2, 2), (3, 2))
    assert_allclose(gc.matmul(u * s[None, :], v, transpose_b=True), a, dtype=gc.float64)  # v, not v^T
    s, u, v = gc.linalg.svd(a, full_matrices=True)
    assert (u.shape, v.shape) == ((2, 2), (3, 3))
    only_s = gc.linalg.svd(a, compute_uv=False)
    assert isinstance(only_s, gc.Tensor) and only_s.shape == (2,)


def test_qr_shapes():
    a = np.arange(12.0).reshape(4, 3) + np.eye(4, 3)
    assert [t.shape for t in gc.linalg.qr(a)] == [(4, 3), (3, 3)]
    assert [t.shape for t in gc.linalg.qr(a, full_matrices=True)] == [(4, 4), (4, 3)]


def test_half_precision_is_computed_in_float32_and_returned_in_its_dtype():
    a = gc.constant(SPD, dtype=gc.float16)
    inverse = gc.linalg.inv(a)
    assert inverse.dtype is gc.float16
    assert_allclose(inverse, np.linalg.inv(SPD.astype(np.float16).astype(np.float64)), dtype=gc.float16)


def test_integer_matrices_are_refused():
    with pytest.raises(gc.InvalidArgumentError, match="gc.linalg.det"):
        gc.linalg.det(np.eye(2, dtype=np.int32))


def test_non_square_matrix_is_refused():
    with pytest.raises(gc.InvalidArgumentError, match=r"gc.linalg.inv: input must be square.*\(2, 3\)"):
        gc.linalg.inv(np.ones((2, 3)))


def test_solve_names_mismatched_rows():
    with pytest.raises(gc.InvalidArgumentError, match="rhs must have 3 rows"):
        gc.linalg.solve(SPD, np.ones((2, 1)))


def test_norm_gradient_at_zero_is_zero_not_nan():
    """TF's tf.norm gives NaN here (sqrt at 0); gradcore takes the subgradient 0 (docs/linalg.md)."""
    x = gc.constant([0.0, 0.0, 0.0], dtype=gc.float64)
    for ord in ("euclidean", 3):
        with gc.GradientTape() as tape:
            tape.watch(x)
            n = gc.norm(x, ord=ord)
        assert float(n) == 0.0
        np.testing.assert_array_equal(tape.gradient(n, x).numpy(), [0.0, 0.0, 0.0])


def test_l2_normalize_keeps_zero_vectors_at_zero():
    x = gc.constant([[0.0, 0.0], [3.0, 4.0]], dtype=gc.float64)
    with gc.GradientTape() as tape:
        tape.watch(x)
        y = gc.nn.l2_normalize(x, axis=1)
    np.testing.assert_allclose(y.numpy(), [[0.0, 0.0], [0.6, 0.8]])
    assert np.isfinite(tape.gradient(y, x).numpy()).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"ord": 3, "axis": [0, 1]}, "supported matrix norm"),
    ({"ord": "fro"}, "supported vector norm"),
    ({"ord": 0}, "supported vector norm"),
    ({"ord": -1.0, "axis": 0}, "supported vector norm"),
    ({"axis": [0, 0]}, "must differ"),
    ({"axis": [0, 1, 2]}, "'axis' must be None, an integer, or a tuple of 2"),
])
def test_norm_refuses_what_tensorflow_refuses(kwargs, message):
    with pytest.raises(gc.InvalidArgumentError, match=message):
        gc.norm(np.ones((2, 3, 4)), **kwargs)


def test_norm_keepdims_and_matrix_ords():
    x = np.arange(24.0).reshape(2, 3, 4) - 10
    assert gc.norm(x, axis=[1, 2], keepdims=True).shape == (2, 1, 1)
    assert_allclose(gc.linalg.norm(x, ord=np.inf, axis=[-2, -1]), np.linalg.norm(x, np.inf, axis=(1, 2)),
                    dtype=gc.float64)


@pytest.mark.parametrize("equation, shapes, message", [
    ("ij,jk->ik", [(2, 3), (4, 5)], "label 'j' has sizes 3 and 4"),
    ("ij,jk->ik", [(2, 3)], "names 2 inputs, got 1"),
    ("ij->k", [(2, 3)], "each output label"),
    ("ijk->i", [(2, 3)], "does not fit an input of shape"),
    ("i1->i", [(2, 3)], "labels must be letters"),
])
def test_einsum_errors_name_the_problem(equation, shapes, message):
    with pytest.raises(gc.InvalidArgumentError, match=message):
        gc.einsum(equation, *[np.ones(s) for s in shapes])


def test_einsum_matches_numpy_on_tensorflow_doc_examples():
    rng = np.random.default_rng(0)
    m0, m1, v = rng.normal(size=(2, 3)), rng.normal(size=(3, 5)), rng.normal(size=(3,))
    batch = rng.normal(size=(4, 2, 3))
    for equation, operands in [("ij,jk->ik", (m0, m1)), ("ij->ji", (m0,)), ("i,i->", (v, v)),
                               ("i,j->ij", (v, v)), ("bij,jk->bik", (batch, m1)), ("...ij->...ji", (batch,)),
                               ("ii", (m1[:, :3],)), ("bij->", (batch,))]:
        assert_allclose(gc.einsum(equation, *operands), np.einsum(equation, *operands), dtype=gc.float64,
                        err_msg=equation)


def test_tensordot_axes_forms():
    a, b = np.arange(24.0).reshape(2, 3, 4), np.arange(12.0).reshape(4, 3)
    assert_allclose(gc.tensordot(a, b, 1), np.tensordot(a, b, 1), dtype=gc.float64)
    assert_allclose(gc.linalg.tensordot(a, b, [[1, 2], [1, 0]]), np.tensordot(a, b, [[1, 2], [1, 0]]),
                    dtype=gc.float64)
    with pytest.raises(gc.InvalidArgumentError, match="sizes must match"):
        gc.tensordot(a, b, [[0], [0]])


def test_structure_ops_of_tf_linalg():
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(gc.linalg.band_part(x, 0, -1).numpy(), np.triu(x))
    np.testing.assert_array_equal(gc.linalg.band_part(x, -1, 0).numpy(), np.tril(x))
    np.testing.assert_array_equal(gc.linalg.diag_part(x).numpy(), [0.0, 5.0, 10.0])
    assert float(gc.linalg.trace(x)) == 15.0
    np.testing.assert_array_equal(gc.linalg.diag([1.0, 2.0]).numpy(), [[1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_array_equal(gc.linalg.diag_part(x, k=-2).numpy(), [8.0])
    np.testing.assert_array_equal(gc.linalg.diag_part(x, k=gc.constant(3)).numpy(), [3.0])
    np.testing.assert_array_equal(gc.linalg.diag([1.0, 2.0], k=(-1, -1), padding_value=7.0).numpy(),
                                  [[7.0, 7.0, 7.0], [1.0, 7.0, 7.0], [7.0, 2.0, 7.0]])
    assert gc.linalg.diag([1.0, 2.0], k=1, num_rows=gc.constant(4)).shape == (4, 3)
    assert gc.linalg.matvec(x, np.ones(4)).shape == (3,)
    assert gc.linalg.matrix_transpose(x).shape == (4, 3) and gc.linalg.matmul(x, x.T).shape == (3, 3)


@pytest.mark.parametrize("call, error, message", [
    (lambda: gc.linalg.diag_part(np.ones((2, 3)), k=3), gc.InvalidArgumentError,
     r"no diagonal k=3; k must lie in \(-2, 3\)"),
    (lambda: gc.linalg.diag_part(np.ones((2, 3)), k=-2), gc.InvalidArgumentError, "no diagonal k=-2"),
    (lambda: gc.linalg.diag([1.0, 2.0], k=(0, 1)), gc.UnimplementedError, r"bands of diagonals \(k=\(0, 1\)\)"),
    (lambda: gc.linalg.diag([1.0, 2.0], k=0.5), gc.InvalidArgumentError, "k must be an integer or a pair"),
    (lambda: gc.linalg.diag([1.0, 2.0], k=1, num_rows=1), gc.InvalidArgumentError, "needs 2 rows or 3 columns"),
    (lambda: gc.linalg.diag([1.0, 2.0], num_rows=3, num_cols=3), gc.InvalidArgumentError, "needs 2 rows or 2 columns"),
    (lambda: gc.linalg.diag([1.0, 2.0], num_rows=2.5), gc.InvalidArgumentError, "num_rows and num_cols must be int"),
])
def test_diagonals_that_do_not_fit_are_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- the backend's kernels against the contract's composites ----------------------------------------


def _np_outer_columns(x, y):
    return np.einsum("...ik,...jk->...kij", x, y)


def _sign_invariant(kernel, result):
    """The kernel's outputs as NumPy arrays that do not depend on the signs a library picks for columns."""
    arrays = [None if r is None else np.asarray(gc.get_backend().to_numpy(r)) for r in
              (result if isinstance(result, tuple) else (result,))]
    if kernel == "qr":
        q, r = arrays
        return [_np_outer_columns(q[..., :r.shape[-2]], np.swapaxes(r, -1, -2))]
    if kernel == "eigh":
        e, v = arrays
        return [e, _np_outer_columns(v, v)]
    if kernel == "svd" and arrays[1] is not None:
        s, u, v = arrays
        k = s.shape[-1]
        return [s, _np_outer_columns(u[..., :k], v[..., :k])] + [
            _np_outer_columns(x, x) for x in (u[..., k:], v[..., k:]) if x.shape[-1] == 1]
    return [a for a in arrays if a is not None]


def _kernel_inputs():
    # Small and mostly unbatched: on an eager backend (jax) each composite is hundreds of tiny kernel calls.
    rng = np.random.default_rng(3)
    square = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    rhs = rng.normal(size=(2, 3, 2))
    deep, wide = rng.normal(size=(3, 2)), rng.normal(size=(2, 3))
    return [
        ("matrix_inverse", [square], ()), ("matrix_solve", [np.stack([square, -square]), rhs], ()),
        ("matrix_determinant", [square], ()), ("log_matrix_determinant", [-square], ()),
        ("cholesky", [square @ square.T], ()),
        ("triangular_solve", [square, rhs[0]], (True,)), ("triangular_solve", [square, rhs[0]], (False,)),
        ("qr", [deep], (False,)), ("qr", [wide], (True,)), ("eigh", [square + square.T], ()),
        ("svd", [deep], (True, True)), ("svd", [wide], (False, True)), ("svd", [deep], (False, False)),
    ]


@pytest.mark.parametrize("kernel, arrays, extra", _kernel_inputs(),
                         ids=lambda v: v if isinstance(v, str) else str(v) if isinstance(v, tuple) else "")
def test_backend_kernels_agree_with_the_composites(kernel, arrays, extra):
    from gradcore.plugin.contract import composite_view

    backend = gc.get_backend()
    raws = [backend.asarray(a, gc.float64) for a in arrays]
    own = _sign_invariant(kernel, getattr(backend, kernel)(*raws, *extra))
    composite = _sign_invariant(kernel, getattr(composite_view(backend), kernel)(*raws, *extra))
    assert len(own) == len(composite)
    for mine, theirs in zip(own, composite):
        assert mine.shape == theirs.shape, kernel
        assert_allclose(mine, theirs, dtype=gc.float64, err_msg=f"{kernel}{extra} on {backend.name}")
