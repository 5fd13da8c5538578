"""Cases for rearranging, coordinate indexing, scatters, segment reductions, sorting and grids
(manipulation_ops, scatter_ops, segment_ops, sorting_ops, linspace, embedding_lookup).

References are NumPy written out plainly (loops where NumPy has no such function). Most cases
run in float64 only: they move values without arithmetic, so other dtypes prove nothing; the
sorts and segment maxima, whose kernels are dtype-specific, run in every float dtype.
Expected values for TF's edge cases (empty segments, duplicate coordinates, ties) are from
TensorFlow's documentation of each op.
"""

import numpy as np

import gradcore as gc
from gradcore.plugin.indexing_composites import lowest

from . import OpCase

F64 = ("float64",)
F32 = ("float32",)


def _with(*specs):
    """Inputs in order: a tuple is the shape of a random normal float array, anything else a fixed array."""
    return lambda rng: [np.asarray(rng.normal(size=s) if isinstance(s, tuple) else s) for s in specs]


def _np_gather_nd(p, idx):
    return p[tuple(np.moveaxis(idx, -1, 0))]


def _np_scatter_nd(idx, u, shape):
    out = np.zeros(shape)
    np.add.at(out, tuple(np.moveaxis(idx, -1, 0)), u)
    return out


def _np_scatter_update(t, idx, u):
    out = t.copy()
    for i, row in enumerate(idx):  # in order, so the last duplicate wins (tf.tensor_scatter_nd_update)
        out[tuple(row)] = u[i]
    return out


def _np_segments(reduce, data, ids, n, empty):
    return np.stack([reduce(data[ids == s], axis=0) if (ids == s).any() else np.full(data.shape[1:], empty)
                     for s in range(n)])


def _np_clip_rows(rows, max_norm):
    norms = np.sqrt((rows ** 2).sum(-1, keepdims=True))
    return rows * max_norm / np.maximum(norms, max_norm)


REARRANGING = [
    OpCase("reverse-two-axes", ("StridedSlice", "StridedSliceGrad"), lambda x: gc.reverse(x, [0, -1]),
           lambda x: x[::-1, ::-1], _with((2, 3)), dtypes=F64, second_order=False),
    OpCase("roll-shifts-add-per-axis", ("StridedSlice", "ConcatV2"), lambda x: gc.roll(x, [1, -2, 1], [0, 1, 0]),
           lambda x: np.roll(x, (2, -2), (0, 1)), _with((3, 4)), dtypes=F64, second_order=False),
    OpCase("repeat-per-entry-axis-1", ("GatherV2", "UnsortedSegmentSum"),
           lambda x: gc.repeat(x, [2, 0, 1], axis=1), lambda x: np.repeat(x, [2, 0, 1], axis=1),
           _with((2, 3)), dtypes=F64, second_order=False),
    OpCase("meshgrid-xy-and-ij", ("BroadcastTo", "Pack", "ConcatV2"),
           lambda a, b: gc.concat([gc.reshape(gc.stack(gc.meshgrid(a, b, indexing=i)), [-1]) for i in ("xy", "ij")], 0),
           lambda a, b: np.concatenate([np.stack(np.meshgrid(a, b, indexing=i)).ravel() for i in ("xy", "ij")]),
           _with((2,), (3,)), grad=(0, 1), dtypes=F64, second_order=False),
    OpCase("boolean_mask-axis-1", ("GatherV2", "Reshape"),
           lambda x, m: gc.boolean_mask(x, m, axis=1), lambda x, m: x[:, m], _with((2, 3), [True, False, True]),
           dtypes=F64, second_order=False),
    OpCase("sequence_mask-float", ("Less",), lambda n: gc.sequence_mask(n, 4, dtype=gc.float32),
           lambda n: (np.arange(4) < n[:, None]).astype(np.float32), _with([1, 3, 0]), grad=(), dtypes=F32),
    OpCase("linspace-tensor-ends-last-axis", ("ConcatV2", "Mul", "AddV2", "RealDiv", "Sub"),
           lambda a, b: gc.linspace(a, b, 4, axis=-1), lambda a, b: np.linspace(a, b, 4, axis=-1),
           _with((2,), (2,)), grad=(0, 1), second_order=False),
]

COORDINATES = [
    OpCase("gather_nd-elements-duplicates", ("GatherV2", "UnsortedSegmentSum"),
           lambda p, i: gc.gather_nd(p, i), _np_gather_nd, _with((2, 3), [[1, 0], [0, 2], [1, 0]]), dtypes=F64,
           second_order=False),
    OpCase("gather_nd-batch_dims-1", ("GatherV2", "UnsortedSegmentSum"),
           lambda p, i: gc.gather_nd(p, i, batch_dims=1),
           lambda p, i: np.stack([_np_gather_nd(p[b], i[b]) for b in range(len(p))]),
           _with((2, 3, 2), [[[2], [0]], [[1], [1]]]), dtypes=F64, second_order=False),
    OpCase("scatter_nd-duplicates-add", ("UnsortedSegmentSum", "GatherV2"),
           lambda i, u: gc.scatter_nd(i, u, [3, 2]), lambda i, u: _np_scatter_nd(i, u, (3, 2)),
           _with([[1], [0], [1]], (3, 2)), grad=(1,), dtypes=F64, second_order=False),
    OpCase("tensor_scatter_nd_add", ("AddV2", "UnsortedSegmentSum"),
           lambda t, i, u: gc.tensor_scatter_nd_add(t, i, u),
           lambda t, i, u: t + _np_scatter_nd(i, u, t.shape), _with((2, 3), [[0, 1], [0, 1], [1, 2]], (3,)),
           grad=(0, 2), dtypes=F64, second_order=False),
    # TF: "If indices contains duplicates, then we pick the last update for the index": row 0 gets u[2];
    # u[0] was overwritten, so its gradient is zero, and so is the tensor's where an update landed.
    OpCase("tensor_scatter_nd_update-last-duplicate-wins", ("SelectV2", "UnsortedSegmentSum", "GatherV2"),
           lambda t, i, u: gc.tensor_scatter_nd_update(t, i, u), _np_scatter_update,
           _with((3, 2), [[0], [2], [0]], (3, 2)), grad=(0, 2), dtypes=F64, second_order=False),
    OpCase("embedding_lookup-max_norm", ("GatherV2", "UnsortedSegmentSum"),
           lambda p, i: gc.nn.embedding_lookup(p, i, max_norm=1.0),
           lambda p, i: _np_clip_rows(p[i], 1.0), _with((4, 3), [[0, 3], [0, 1]]), dtypes=F64),
]

SEGMENTS = [
    OpCase("segment_sum-empty-segment", ("UnsortedSegmentSum",), lambda d, i: gc.math.segment_sum(d, i),
           lambda d, i: _np_segments(np.sum, d, i, 4, 0.0), _with((4, 2), [0, 0, 1, 3]), dtypes=F64,
           second_order=False),
    OpCase("segment_mean-empty-segment", ("UnsortedSegmentSum", "RealDiv"), lambda d, i: gc.math.segment_mean(d, i),
           lambda d, i: _np_segments(np.mean, d, i, 4, 0.0), _with((4, 2), [0, 0, 1, 3]), dtypes=F64),
    # tf.math.segment_max: "If the max is empty for a given segment ID i, output[i] = 0."
    OpCase("segment_max-empty-segment-is-zero", ("UnsortedSegmentMax", "SelectV2"),
           lambda d, i: gc.math.segment_max(d, i), lambda d, i: _np_segments(np.max, d, i, 4, 0.0),
           _with((4, 2), [0, 0, 1, 3]), dtypes=F64),
    OpCase("segment_min", ("UnsortedSegmentMax", "Neg"), lambda d, i: gc.math.segment_min(d, i),
           lambda d, i: _np_segments(np.min, d, i, 3, 0.0), _with((5,), [0, 0, 1, 2, 2]), dtypes=F64),
    OpCase("unsorted_segment_max", ("UnsortedSegmentMax",), lambda d, i: gc.math.unsorted_segment_max(d, i, 3),
           lambda d, i: _np_segments(np.max, d, i, 3, None), _with((2, 3, 2), [[2, 0, 2], [1, 0, 1]])),
    # tf.math.unsorted_segment_max: an empty segment holds numeric_limits<T>::lowest(), a finite number.
    OpCase("unsorted_segment_max-empty-is-lowest", ("UnsortedSegmentMax",),
           lambda d, i: gc.math.unsorted_segment_max(d, i, 3),
           lambda d, i: _np_segments(np.max, d, i, 3, lowest(gc.float32)),
           _with((2,), [2, 0]), grad=(), dtypes=F32),
    OpCase("unsorted_segment_min", ("UnsortedSegmentMax", "Neg"), lambda d, i: gc.math.unsorted_segment_min(d, i, 2),
           lambda d, i: _np_segments(np.min, d, i, 2, None), _with((4, 2), [1, 0, 1, 1]), dtypes=F64),
    OpCase("unsorted_segment_mean-empty", ("UnsortedSegmentSum", "RealDiv"),
           lambda d, i: gc.math.unsorted_segment_mean(d, i, 3), lambda d, i: _np_segments(np.mean, d, i, 3, 0.0),
           _with((3, 2), [2, 0, 2]), dtypes=F64),
]

SORTING = [
    OpCase("sort-descending-axis-0", ("GatherV2", "UnsortedSegmentSum", "Transpose"),
           lambda x: gc.sort(x, axis=0, direction="DESCENDING"), lambda x: -np.sort(-x, axis=0), _with((3, 2)),
           second_order=False),
    OpCase("argsort-ties-lower-index-first", (), lambda x: gc.argsort(x, direction="DESCENDING"),
           lambda x: np.argsort(-x, kind="stable").astype(np.int32),
           _with([[1.0, 3.0, 1.0, 3.0], [2.0, 2.0, 0.0, 2.0]]),
           grad=()),
    OpCase("top_k-values", ("GatherV2", "UnsortedSegmentSum"), lambda x: gc.math.top_k(x, 2)[0],
           lambda x: -np.sort(-x, axis=-1)[..., :2], _with((2, 4)), dtypes=F64, second_order=False),
    OpCase("top_k-indices-ties", (), lambda x: gc.nn.top_k(x, 3)[1],
           lambda x: np.argsort(-x, kind="stable")[..., :3].astype(np.int32), _with([[0.5, 2.0, 2.0, 0.5]]), grad=(),
           dtypes=F32),
    OpCase("searchsorted-left-right", ("Less", "LessEqual"),
           lambda s, v: gc.stack([gc.searchsorted(s, v), gc.searchsorted(s, v, side="right")]),
           lambda s, v: np.stack([[np.searchsorted(r, w, side) for r, w in zip(s, v)] for side in ("left", "right")]),
           _with([[0.0, 1.0, 1.0, 2.0], [-1.0, 0.0, 3.0, 3.0]], [[1.0, -0.5, 2.5], [3.0, 4.0, -1.0]]), grad=(),
           dtypes=F32),
]


CASES = REARRANGING + COORDINATES + SEGMENTS + SORTING
