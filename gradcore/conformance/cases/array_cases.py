"""Cases for shape, joining, indexing and matrix ops (array_ops, indexing_ops, linalg_ops).

References are NumPy's own functions. Cases that use only some outputs of a
multi-output op (split, unstack) check that the tape fills zeros for the rest.
"""

import numpy as np

import gradcore as gc

from . import OpCase, normal


def _with(*specs):
    """Inputs in order: a tuple is the shape of a random normal float array, anything else a fixed array."""
    return lambda rng: [np.asarray(rng.normal(size=s) if isinstance(s, tuple) else s) for s in specs]


def _np_split(x, sizes, axis):
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


def _np_segment_sum(data, ids, n):
    out = np.zeros((n,) + data.shape[ids.ndim:])
    np.add.at(out, ids, data)
    return out


def _np_one_hot(idx, depth, on, off):
    return np.where(idx[..., None] == np.arange(depth), on, off)


SHAPES = [
    OpCase("reshape-infer", ("Reshape",), lambda x: gc.reshape(x, [4, -1]),
           lambda x: x.reshape(4, -1), normal((2, 3, 4))),
    OpCase("expand_dims-negative", ("Reshape",), lambda x: gc.expand_dims(x, -2),
           lambda x: np.expand_dims(x, -2), normal((2, 3))),
    OpCase("squeeze-axis", ("Reshape",), lambda x: gc.squeeze(x, [0, -1]),
           lambda x: np.squeeze(x, (0, 3)), normal((1, 2, 1, 1))),
    OpCase("transpose-default", ("Transpose",), gc.transpose, np.transpose, normal((2, 3, 4))),
    OpCase("transpose-negative-perm", ("Transpose",), lambda x: gc.transpose(x, [-1, 0, 1]),
           lambda x: np.transpose(x, (2, 0, 1)), normal((2, 3, 4))),
    OpCase("broadcast_to", ("BroadcastTo",), lambda x: gc.broadcast_to(x, [2, 3, 4]),
           lambda x: np.broadcast_to(x, (2, 3, 4)), normal((3, 1))),
    OpCase("identity", ("Identity",), gc.identity, lambda x: x, normal((2, 3))),
]

JOINING = [
    OpCase("concat-negative-axis", ("ConcatV2",), lambda a, b, c: gc.concat([a, b, c], axis=-1),
           lambda a, b, c: np.concatenate([a, b, c], axis=-1), normal((2, 1), (2, 3), (2, 2)), grad=(0, 1, 2)),
    OpCase("concat-same-input-twice", ("ConcatV2",), lambda a: gc.concat([a, a * 2.0], axis=0),
           lambda a: np.concatenate([a, 2 * a], axis=0), normal((2, 3))),
    OpCase("concat-python-values", ("ConcatV2",), lambda a: gc.concat([a, [[1.0, 2.0]]], axis=0),
           lambda a: np.concatenate([a, [[1.0, 2.0]]], axis=0), normal((3, 2))),
    OpCase("stack-axis-1", ("Pack", "SplitV", "Reshape"), lambda a, b: gc.stack([a, b], axis=1),
           lambda a, b: np.stack([a, b], axis=1), normal((2, 3), (2, 3)), grad=(0, 1)),
    OpCase("stack-negative-axis", ("Pack",), lambda a, b, c: gc.stack([a, b, c], axis=-1),
           lambda a, b, c: np.stack([a, b, c], axis=-1), normal((4,), (4,), (4,)), grad=(0, 1, 2)),
    OpCase("unstack-one-used", ("SplitV", "Reshape"), lambda x: gc.unstack(x, axis=1)[1] * 3.0,
           lambda x: x[:, 1] * 3, normal((2, 3, 2))),
    OpCase("split-sizes-reversed", ("SplitV", "ConcatV2"),
           lambda x: gc.concat(gc.split(x, [1, -1, 1], axis=1)[::-1], axis=1),
           lambda x: np.concatenate(_np_split(x, [1, 2, 1], 1)[::-1], axis=1), normal((2, 4))),
    OpCase("split-equal-middle-only", ("SplitV",), lambda x: gc.split(x, 3, axis=-1)[1],
           lambda x: np.split(x, 3, axis=-1)[1], normal((2, 6))),
    OpCase("tile-2d", ("Tile",), lambda x: gc.tile(x, [2, 3]), lambda x: np.tile(x, (2, 3)), normal((2, 3))),
    OpCase("tile-3d-with-ones", ("Tile",), lambda x: gc.tile(x, [1, 3, 2]),
           lambda x: np.tile(x, (1, 3, 2)), normal((2, 1, 3))),
    OpCase("pad-zeros", ("PadV2",), lambda x: gc.pad(x, [[1, 0], [2, 1]]),
           lambda x: np.pad(x, ((1, 0), (2, 1))), normal((2, 3))),
    OpCase("pad-constant", ("PadV2",), lambda x: gc.pad(x, [[0, 2], [1, 1], [0, 0]], constant_values=1.5),
           lambda x: np.pad(x, ((0, 2), (1, 1), (0, 0)), constant_values=1.5), normal((1, 2, 2))),
]

INDEXING = [
    OpCase("getitem-slice-newaxis-ellipsis-int", ("StridedSlice", "StridedSliceGrad"),
           lambda x: x[1:3, None, ..., -1], lambda x: x[1:3, None, ..., -1], normal((4, 2, 3))),
    OpCase("getitem-negative-step", ("StridedSlice", "StridedSliceGrad"),
           lambda x: x[::-1, 1], lambda x: x[::-1, 1], normal((3, 4))),
    OpCase("getitem-negative-step-bounds", ("StridedSlice", "StridedSliceGrad"),
           lambda x: x[-1:0:-2, ..., ::2], lambda x: x[-1:0:-2, ..., ::2], normal((5, 2, 5))),
    # Squared, so the second-order check differentiates StridedSliceGrad's own rule (for a bare
    # slice the gradient does not depend on x and that rule is never reached).
    OpCase("getitem-then-square", ("StridedSlice", "StridedSliceGrad", "Square"),
           lambda x: gc.square(x[1:, ::-2]), lambda x: x[1:, ::-2] ** 2, normal((3, 4))),
    OpCase("getitem-int-only", ("StridedSlice",), lambda x: x[-1, 0], lambda x: x[-1, 0], normal((3, 4))),
    OpCase("gather-axis0-duplicates", ("GatherV2", "UnsortedSegmentSum"),
           lambda p, i: gc.gather(p, i), lambda p, i: p[i], _with((3, 2), [0, 2, 0])),  # TF: duplicates add up
    OpCase("gather-axis1-2d-indices", ("GatherV2", "UnsortedSegmentSum"),
           lambda p, i: gc.gather(p, i, axis=1), lambda p, i: np.take(p, i, axis=1),
           _with((2, 3, 4), [[1, 1], [0, 2]])),  # TF: a dense gradient for axis 1
    OpCase("gather-then-square", ("GatherV2", "UnsortedSegmentSum", "Square"),
           lambda p, i: gc.square(gc.gather(p, i, axis=1)), lambda p, i: np.take(p, i, axis=1) ** 2,
           _with((2, 3), [2, 2, 0])),
    OpCase("gather-last-axis-scalar-index", ("GatherV2",), lambda p, i: gc.gather(p, i, axis=-1),
           lambda p, i: np.take(p, i, axis=-1), _with((2, 3), 2)),
    OpCase("unsorted_segment_sum", ("UnsortedSegmentSum", "GatherV2"),
           lambda d, i: gc.math.unsorted_segment_sum(d, i, 3), lambda d, i: _np_segment_sum(d, i, 3),
           _with((4, 2), [0, 2, 0, 1])),
    OpCase("unsorted_segment_sum-2d-ids", ("UnsortedSegmentSum",),
           lambda d, i: gc.math.unsorted_segment_sum(d, i, 4), lambda d, i: _np_segment_sum(d, i, 4),
           _with((2, 3, 2), [[3, 0, 3], [1, 1, 0]])),
    OpCase("one_hot-values", ("Equal", "SelectV2"),
           lambda i, on, off: gc.one_hot(i, 4, on_value=on, off_value=off),
           lambda i, on, off: _np_one_hot(i, 4, on, off), _with([[0, 3], [5, -1]], (), ()), grad=(1, 2)),
    OpCase("one_hot-axis-0", ("Equal", "SelectV2"), lambda i: gc.one_hot(i, 3, axis=0),
           lambda i: np.moveaxis(_np_one_hot(i, 3, 1.0, 0.0), -1, 0), _with([2, 0, 1, 2]), grad=()),
]

LINALG = [
    OpCase("matmul", ("BatchMatMulV2",), gc.matmul, np.matmul, normal((3, 4), (4, 2)), grad=(0, 1)),
    OpCase("matmul-operator", ("BatchMatMulV2",), lambda a, b: a @ b, np.matmul, normal((2, 3), (3, 3)),
           grad=(0, 1)),
    OpCase("matmul-broadcast-batch", ("BatchMatMulV2",), gc.matmul, np.matmul,
           normal((2, 1, 3, 4), (5, 4, 2)), grad=(0, 1)),
    OpCase("matmul-transpose-a-adjoint-b", ("BatchMatMulV2", "Transpose"),
           lambda a, b: gc.matmul(a, b, transpose_a=True, adjoint_b=True),
           lambda a, b: np.swapaxes(a, -1, -2) @ np.swapaxes(b, -1, -2), normal((2, 4, 3), (1, 2, 4)),
           grad=(0, 1)),
    OpCase("matmul-int", ("BatchMatMulV2",), gc.matmul, np.matmul,
           lambda rng: [rng.integers(-5, 5, size=(2, 3)), rng.integers(-5, 5, size=(3, 2))], grad=()),
    OpCase("linalg-matrix_transpose", ("Transpose",), gc.linalg.matrix_transpose,
           lambda x: np.swapaxes(x, -1, -2), normal((2, 3, 4))),
    OpCase("linalg-adjoint", ("Transpose",), gc.linalg.adjoint, lambda x: np.swapaxes(x, -1, -2), normal((2, 3, 4))),
]

CASES = SHAPES + JOINING + INDEXING + LINALG
