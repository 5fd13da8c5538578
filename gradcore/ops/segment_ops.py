"""Segment reductions: the sorted ``segment_*`` ops and the ``unsorted_segment_*`` ones beside the sum.

Sums are ``indexing_ops``' UnsortedSegmentSum; maxima are one op, UnsortedSegmentMax (an
optional kernel), and minima are maxima of the order-reversed values. Empty segments hold what
TensorFlow gives them: 0 for sums and means, 0 for the sorted ``segment_max``/``segment_min``,
and the dtype's lowest (highest) value for ``unsorted_segment_max`` (``min``).

The sorted ops take the number of segments from the values of ``segment_ids`` (the last id plus
one), so inside gc.function their ids must be constants (``indexing_ops.read_on_host``).
"""

import operator

import numpy as np

from gradcore.engine import dtypes
from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import record, state
from gradcore.engine.registry import RegisterGradient
from gradcore.errors import InvalidArgumentError, ShapeError
from gradcore.ops.array_ops import reshape
from gradcore.ops.indexing_ops import _gather, _indices, _segment_sum, read_on_host
from gradcore.ops.kernels import run_kernel
from gradcore.ops.math_ops import (
    abs, cast, divide, equal, floordiv, greater, maximum, multiply, negative, sign, subtract, where, zeros_like_raw,
)
from gradcore.ops.operands import NUMERIC, check_in_range, check_kind

# ---- unsorted: num_segments given ---------------------------------------------------------------


def _unsorted_arguments(api, data, segment_ids, num_segments):
    d = to_tensor(data, op_name=api)
    check_kind(api, d, NUMERIC)
    ids = _indices(api, segment_ids, d)
    num_segments = operator.index(num_segments)
    if d.shape[:ids.ndim] != ids.shape:
        raise ShapeError(f"{api}: segment_ids shape {ids.shape} must be a prefix of data shape {d.shape}")
    check_in_range(api, ids, num_segments, "segment id", f"num_segments is {num_segments}")
    return d, ids, num_segments


def unsorted_segment_max(data, segment_ids, num_segments, name=None):
    """The maximum of the rows of ``data`` in each segment; an empty one holds the dtype's lowest value
    (-3.4028235e38 for float32, not -inf), as ``tf.math.unsorted_segment_max``."""
    return _segment_max(*_unsorted_arguments("gc.math.unsorted_segment_max", data, segment_ids, num_segments))


def unsorted_segment_min(data, segment_ids, num_segments, name=None):
    """The minimum per segment; an empty one holds the dtype's highest value, as ``tf.math.unsorted_segment_min``."""
    d, ids, n = _unsorted_arguments("gc.math.unsorted_segment_min", data, segment_ids, num_segments)
    return _reversed_order(_segment_max(_reversed_order(d), ids, n))


def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    """The mean of the rows of ``data`` in each segment, 0 for an empty one, as ``tf.math.unsorted_segment_mean``."""
    d, ids, n = _unsorted_arguments("gc.math.unsorted_segment_mean", data, segment_ids, num_segments)
    return _mean(d, ids, n)


def _reversed_order(x):
    """A map that reverses the order of values and is its own inverse: -x for floats, and for integers
    ~x = -x - 1, which cannot overflow (the lowest value maps to the highest; integers wrap)."""
    return negative(x) if x.dtype.is_floating else subtract(negative(x), 1)


def _segment_max(d, ids, num_segments):
    backend = d._backend
    y = run_kernel("gc.math.unsorted_segment_max", backend, "unsorted_segment_max", d._dtype, d._value, ids._value,
                   num_segments)
    if state.recording:
        record("UnsortedSegmentMax", (d, ids), (y,), {"num_segments": num_segments})
    return y


@RegisterGradient("UnsortedSegmentMax")
def _segment_max_grad(op, dy):
    """dy of a segment goes to the rows that reached its maximum, shared equally among ties (as TF)."""
    data, ids = op.inputs
    n = op.get_attr("num_segments")
    chosen = equal(data, _gather(op.outputs[0], ids, 0))
    ties = _segment_sum(cast(chosen, dy.dtype), ids, n)
    share = divide(dy, maximum(ties, 1))
    return where(chosen, _gather(share, ids, 0), zeros_like_raw(data)), None


def _mean(d, ids, num_segments):
    """sum / count per segment, 0 for an empty one; integer means truncate toward zero, as TF's kernels."""
    total = _segment_sum(d, ids, num_segments)
    ones = run_kernel("gc.math.segment_mean", d._backend, "ones", d._dtype, ids.shape, d._dtype, d.device)
    count = _segment_sum(ones, ids, num_segments)
    count = reshape(maximum(count, 1), count.shape + (1,) * (d.ndim - ids.ndim))
    if d.dtype.is_floating:
        return divide(total, count)
    return multiply(sign(total), floordiv(abs(total), count))


# ---- sorted: the number of segments is the last id plus one ------------------------------------


def _sorted_arguments(api, data, segment_ids):
    d = to_tensor(data, op_name=api)
    check_kind(api, d, NUMERIC)
    ids = _indices(api, segment_ids, d)
    if ids.ndim != 1 or d.ndim == 0 or ids.shape[0] != d.shape[0]:
        raise ShapeError(
            f"{api}: segment_ids must be a vector as long as the first dimension of data; got shapes "
            f"{ids.shape} and {d.shape}"
        )
    values = read_on_host(api, ids, "segment_ids")
    _refuse_unsorted(api, values)
    return d, ids, int(values[-1]) + 1 if values.size else 0


def _refuse_unsorted(api, values):
    if values.size and values[0] < 0:
        raise InvalidArgumentError(f"{api}: segment id {values[0]} at position 0 is negative")
    falls = np.flatnonzero(np.diff(values) < 0)
    if falls.size:
        i = int(falls[0]) + 1
        raise InvalidArgumentError(
            f"{api}: segment ids are not increasing: {values[i]} at position {i} follows {values[i - 1]}; "
            f"sort them, or use the unsorted_segment_* op with num_segments"
        )


def segment_sum(data, segment_ids, name=None):
    """The sum of the rows of ``data`` in each segment of the sorted ``segment_ids``, as ``tf.math.segment_sum``."""
    return _segment_sum(*_sorted_arguments("gc.math.segment_sum", data, segment_ids))


def segment_mean(data, segment_ids, name=None):
    """The mean per segment of the sorted ``segment_ids``, 0 for an empty one, as ``tf.math.segment_mean``."""
    return _mean(*_sorted_arguments("gc.math.segment_mean", data, segment_ids))


def segment_max(data, segment_ids, name=None):
    """The maximum per segment of the sorted ``segment_ids``; an empty one holds 0, as ``tf.math.segment_max``."""
    d, ids, n = _sorted_arguments("gc.math.segment_max", data, segment_ids)
    return _zero_where_empty(_segment_max(d, ids, n), ids, n)


def segment_min(data, segment_ids, name=None):
    """The minimum per segment of the sorted ``segment_ids``; an empty one holds 0, as ``tf.math.segment_min``."""
    d, ids, n = _sorted_arguments("gc.math.segment_min", data, segment_ids)
    return _zero_where_empty(_reversed_order(_segment_max(_reversed_order(d), ids, n)), ids, n)


def _zero_where_empty(y, ids, num_segments):
    ones = run_kernel("gc.math.segment_max", ids._backend, "ones", dtypes.int32, ids.shape, dtypes.int32, ids.device)
    filled = greater(_segment_sum(ones, ids, num_segments), 0)
    return where(reshape(filled, filled.shape + (1,) * (y.ndim - 1)), y, zeros_like_raw(y))

