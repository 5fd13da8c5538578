"""Shapes, coordinate indexing, scatters, segments and sorting: TensorFlow's edge cases and errors,
the same on every backend (the values and gradients themselves are op cases,
cases/indexing_more_cases.py).

Expected values come from TensorFlow's documentation of each op (quoted where it decides a
case) or from arithmetic.
"""

import numpy as np
import pytest

import gradcore as gc
from gradcore.testing import assert_allclose


def grad_of(fn, *sources):
    with gc.GradientTape() as tape:
        tape.watch(list(sources))
        y = fn(*sources)
    return tape.gradient(y, list(sources))


def equal(actual, expected, dtype=None):
    assert actual.dtype is (dtype or actual.dtype)
    np.testing.assert_array_equal(actual.numpy(), expected)


# ---- shape, size, rank, unstack -------------------------------------------------------------------


def test_shape_size_and_rank_are_int32_tensors_unless_out_type_says_otherwise():
    x = gc.zeros([2, 3, 4])
    equal(gc.shape(x), [2, 3, 4], gc.int32)
    equal(gc.shape(x, out_type=gc.int64), [2, 3, 4], gc.int64)
    equal(gc.size(x), 24, gc.int32)
    equal(gc.size(x, out_type=gc.int64), 24, gc.int64)
    equal(gc.rank(x), 3, gc.int32)
    equal(gc.size(gc.constant(1.0)), 1)
    with pytest.raises(gc.DTypeError, match="gc.size"):
        gc.size(x, out_type=gc.float32)


def test_unstack_checks_num_and_takes_negative_axes():
    x = gc.constant(np.arange(6.0).reshape(2, 3))
    pieces = gc.unstack(x, num=3, axis=-1)
    assert len(pieces) == 3
    equal(pieces[2], [2.0, 5.0])
    with pytest.raises(gc.InvalidArgumentError, match="num=2"):
        gc.unstack(x, num=2, axis=1)


# ---- reverse, roll, repeat, meshgrid ------------------------------------------------------------


def test_reverse_refuses_an_axis_named_twice():
    with pytest.raises(gc.InvalidArgumentError, match="gc.reverse"):
        gc.reverse(gc.zeros([2, 2]), [1, -1])


def test_roll_wraps_shifts_larger_than_the_axis():
    equal(gc.roll(gc.constant([0, 1, 2, 3, 4]), 7, 0), [3, 4, 0, 1, 2])
    equal(gc.roll(gc.constant([0, 1, 2]), -4, 0), [1, 2, 0])


def test_repeat_flattens_without_an_axis_and_refuses_bad_counts():
    """tf.repeat: 'If axis is None, then the input array is flattened before repeating'."""
    x = gc.constant([[1, 2], [3, 4]])
    equal(gc.repeat(x, 2), [1, 1, 2, 2, 3, 3, 4, 4])
    equal(gc.repeat(x, [1, 2], axis=0), [[1, 2], [3, 4], [3, 4]])
    with pytest.raises(gc.InvalidArgumentError, match="gc.repeat"):
        gc.repeat(x, [1, 2, 3], axis=0)
    with pytest.raises(gc.InvalidArgumentError, match="gc.repeat"):
        gc.repeat(x, -1)


def test_meshgrid_xy_swaps_the_first_two_grid_axes():
    """tf.meshgrid: with N inputs of lengths n1..nN, 'xy' gives shape (n2, n1, n3, ...), 'ij' (n1, n2, ...)."""
    a, b, c = gc.constant([1, 2]), gc.constant([3, 4, 5]), gc.constant([6, 7, 8, 9])
    assert [g.shape for g in gc.meshgrid(a, b, c)] == [(3, 2, 4)] * 3
    assert [g.shape for g in gc.meshgrid(a, b, c, indexing="ij")] == [(2, 3, 4)] * 3
    equal(gc.meshgrid(a, b)[0], [[1, 2]] * 3)


# ---- coordinates and scatters ---------------------------------------------------------------------


def test_gather_nd_picks_elements_or_slices():
    p = gc.constant([[1, 2], [3, 4]])
    equal(gc.gather_nd(p, [[1, 0], [0, 1]]), [3, 2])
    equal(gc.gather_nd(p, [[1]]), [[3, 4]])
    equal(gc.gather_nd(p, [1, 1]), 4)


@pytest.mark.parametrize("call", [
    lambda: gc.gather_nd(gc.zeros([2, 3]), [[1, 3]]),
    lambda: gc.gather_nd(gc.zeros([2, 3]), [[-1, 0]]),
    lambda: gc.scatter_nd([[2]], gc.ones([1]), [2]),
    lambda: gc.tensor_scatter_nd_update(gc.zeros([2, 2]), [[0, 2]], gc.ones([1])),
    lambda: gc.tensor_scatter_nd_add(gc.zeros([2]), [[5]], gc.ones([1])),
    lambda: gc.nn.embedding_lookup(gc.zeros([3, 2]), [0, 3]),
    lambda: gc.math.unsorted_segment_max(gc.zeros([2]), [0, 2], 2),
], ids=["gather_nd", "gather_nd-negative", "scatter_nd", "update", "add", "embedding_lookup", "segment_max"])
def test_an_index_out_of_range_is_an_invalid_argument_error_on_every_backend(call):
    """TF raises InvalidArgumentError on the CPU for an index out of range (its GPUs ignore or zero it)."""
    with pytest.raises(gc.InvalidArgumentError, match="out of range"):
        call()


def test_scatter_nd_adds_duplicates_and_checks_the_updates_shape():
    """tf.scatter_nd: 'If indices contains duplicates, then their updates are accumulated (summed)'."""
    equal(gc.scatter_nd([[1], [3], [1]], gc.constant([1, 2, 3]), [4]), [0, 4, 0, 2])
    with pytest.raises(gc.ShapeError, match="updates must have shape"):
        gc.scatter_nd([[1], [3]], gc.constant([1, 2, 3]), [4])


def test_tensor_scatter_nd_update_last_duplicate_wins_and_gradient_skips_what_was_overwritten():
    """tf.tensor_scatter_nd_update: 'If indices contains duplicates, then we pick the last update for the
    index'. d out / d tensor is 0 where an update landed; the beaten update gets no gradient."""
    t, u = gc.constant([1.0, 2.0, 3.0]), gc.constant([10.0, 20.0, 30.0])
    w = gc.constant([1.0, 2.0, 4.0])
    out = gc.tensor_scatter_nd_update(t, [[2], [0], [2]], u)
    equal(out, [20.0, 2.0, 30.0])
    dt, du = grad_of(lambda t, u: gc.reduce_sum(gc.tensor_scatter_nd_update(t, [[2], [0], [2]], u) * w), t, u)
    equal(dt, [0.0, 2.0, 0.0])
    equal(du, [0.0, 1.0, 4.0])
    equal(gc.tensor_scatter_nd_update(gc.constant([True, False]), [[1]], gc.constant([True])), [True, True])


def test_embedding_lookup_joins_shards_and_sums_the_gradient_of_repeated_ids():
    """TF_SEMANTICS rows 85 and 91: the gradient of a lookup is dense, repeated ids summed."""
    a, b = gc.constant([[1.0, 2.0], [3.0, 4.0]]), gc.constant([[5.0, 6.0]])
    equal(gc.nn.embedding_lookup([a, b], [2, 0]), [[5.0, 6.0], [1.0, 2.0]])
    p = gc.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    (g,) = grad_of(lambda p: gc.reduce_sum(gc.nn.embedding_lookup(p, [0, 2, 0])), p)
    equal(g, [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]])


# ---- masks ----------------------------------------------------------------------------------------


def test_boolean_mask_with_a_mask_over_several_dimensions():
    x = gc.constant(np.arange(12).reshape(2, 2, 3))
    mask = [[False, True], [True, True]]
    equal(gc.boolean_mask(x, mask), np.arange(12).reshape(2, 2, 3)[np.array(mask)])
    assert gc.boolean_mask(x, [[False, False], [False, False]]).shape == (0, 3)
    with pytest.raises(gc.ShapeError, match="gc.boolean_mask"):
        gc.boolean_mask(x, [True, False, True])


def test_boolean_mask_in_a_function_works_with_a_constant_mask_and_refuses_a_traced_one():
    """docs/function.md: a result's shape may not depend on values the function computes."""
    mask = gc.constant([True, False, True])

    @gc.function
    def constant_mask(x):
        return gc.boolean_mask(x, mask) * 2.0

    equal(constant_mask(gc.constant([1.0, 2.0, 3.0])), [2.0, 6.0])

    @gc.function
    def traced_mask(x):
        return gc.boolean_mask(x, x > 1.5)

    with pytest.raises(gc.OperatorNotAllowedInGraphError, match="gc.boolean_mask.*the mask"):
        traced_mask(gc.constant([1.0, 2.0, 3.0]))


def test_sequence_mask_defaults_to_the_longest_length_and_bool():
    equal(gc.sequence_mask([1, 3, 0]), [[True, False, False], [True, True, True], [False, False, False]], gc.bool)
    assert gc.sequence_mask(gc.constant([[2], [1]]), 4).shape == (2, 1, 4)


# ---- segments -------------------------------------------------------------------------------------


def test_sorted_segment_ids_must_increase():
    """TF on the CPU: InvalidArgumentError 'segment ids are not increasing'."""
    with pytest.raises(gc.InvalidArgumentError, match="not increasing"):
        gc.math.segment_sum(gc.ones([3]), [0, 2, 1])
    with pytest.raises(gc.InvalidArgumentError, match="negative"):
        gc.math.segment_max(gc.ones([2]), [-1, 0])


def test_empty_segments_hold_tensorflows_values():
    """tf.math.unsorted_segment_max: an empty segment is numeric_limits<T>::lowest(); _min its highest;
    the sorted segment_max/min and every sum and mean give 0."""
    data = gc.constant([5, 7], gc.int32)
    low, high = np.iinfo(np.int32).min, np.iinfo(np.int32).max
    equal(gc.math.unsorted_segment_max(data, [2, 2], 3), [low, low, 7])
    equal(gc.math.unsorted_segment_min(data, [2, 2], 3), [high, high, 5])
    equal(gc.math.segment_min(data, [1, 1]), [0, 5])
    equal(gc.math.segment_mean(gc.constant([-3, -4]), [1, 1]), [0, -3])  # integer means truncate


def test_an_empty_float_segment_holds_the_lowest_finite_value_not_minus_infinity():
    empty = gc.math.unsorted_segment_max(gc.constant([1.0], gc.float16), [0], 2)
    equal(empty, np.array([1.0, -65504.0], np.float16), gc.float16)
    assert gc.math.unsorted_segment_max(gc.constant([1.0]), [0], 2).numpy()[1] == np.finfo(np.float32).min


def test_segment_max_gradient_is_shared_among_ties():
    """TF's _UnsortedSegmentMinOrMaxGrad: dy split equally among the entries equal to the maximum."""
    x = gc.constant([1.0, 3.0, 3.0, 2.0])
    (g,) = grad_of(lambda x: gc.reduce_sum(gc.math.segment_max(x, [0, 0, 0, 1]) * gc.constant([4.0, 1.0])), x)
    assert_allclose(g, [0.0, 2.0, 2.0, 1.0])


def test_sorted_segments_in_a_function_need_constant_ids():
    @gc.function
    def f(data, ids):
        return gc.math.segment_sum(data, ids)

    with pytest.raises(gc.OperatorNotAllowedInGraphError, match="gc.math.segment_sum.*segment_ids"):
        f(gc.ones([2]), gc.constant([0, 1]))


# ---- sorting and searching ------------------------------------------------------------------------


def test_sort_argsort_and_top_k_dtypes_and_ties():
    """tf.argsort and tf.math.top_k return int32 indices; equal values come lower index first."""
    x = gc.constant([[3, 1, 3, 2]])
    equal(gc.sort(x), [[1, 2, 3, 3]], gc.int32)
    equal(gc.argsort(x), [[1, 3, 0, 2]], gc.int32)
    equal(gc.argsort(x, direction="DESCENDING", stable=True), [[0, 2, 3, 1]])
    values, indices = gc.math.top_k(x, k=2)
    equal(values, [[3, 3]])
    equal(indices, [[0, 2]], gc.int32)
    equal(gc.math.top_k(x, k=1, index_type=gc.int64)[1], [[0]], gc.int64)
    with pytest.raises(gc.InvalidArgumentError, match="k=5"):
        gc.math.top_k(x, k=5)
    with pytest.raises(gc.InvalidArgumentError, match="direction"):
        gc.sort(x, direction="UP")


def test_searchsorted_out_type_and_leading_dimensions():
    s = gc.constant([[0.0, 1.0, 2.0]])
    equal(gc.searchsorted(s, gc.constant([[1.0, 5.0]]), out_type=gc.int64), [[1, 3]], gc.int64)
    with pytest.raises(gc.ShapeError, match="leading dimensions"):
        gc.searchsorted(s, gc.constant([[1.0], [2.0]]))


# ---- linspace ---------------------------------------------------------------------------------------


def test_linspace_ends_and_dtypes():
    """tf.linspace: the first value is start, the last is stop; num=1 gives [start]."""
    equal(gc.linspace(0, 1, 3), [0.0, 0.5, 1.0], gc.float32)
    equal(gc.lin_space(2.0, 7.0, 1), [2.0])
    assert gc.linspace(gc.constant(0.0, gc.float64), 1.0, 4).dtype is gc.float64
    with pytest.raises(gc.DTypeError, match="gc.linspace"):
        gc.linspace(gc.constant(0), gc.constant(3), 4)
