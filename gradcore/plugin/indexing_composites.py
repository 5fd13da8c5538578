"""Composite defaults of the optional kernels for shapes, indexing, scatter, segments and sorting, for ``Backend``.

Written with the required kernels, so a backend that lacks a native kernel still
runs every op; fast backends override them (docs/writing-a-backend.md).
"""

import numpy as np

from gradcore.engine.dtypes import int64 as _INT64

#: The optional kernels this mixin defines (the contract's OPTIONAL_KERNELS include them).
KERNELS = ("argsort", "unsorted_segment_max")


def lowest(dtype):
    """The smallest finite value of gradcore dtype ``dtype``: TensorFlow's ``numeric_limits<T>::lowest()``,
    what an empty segment's maximum is (a finite number, not -inf)."""
    if dtype.is_floating:
        import ml_dtypes  # its finfo knows bfloat16 as well as NumPy's floats

        return float(ml_dtypes.finfo(dtype.as_numpy_dtype).min)
    return int(np.iinfo(dtype.as_numpy_dtype).min)


class IndexingComposites:
    """Mixin of ``Backend``: optional kernels built from its required kernels."""

    def argsort(self, x, axis, descending):
        """int64 indices that sort ``x`` along ``axis`` (an int), ascending or descending; equal values
        keep their order (stable, so ties go to the lower index first either way, as ``tf.argsort``).

        Composite: each element's rank is how many elements go before it (smaller, or larger when
        descending, or equal at a lower index); the sorting indices invert that permutation. It costs
        n^2 comparisons along the axis, which native sorts avoid.
        """
        ndim = len(x.shape)
        perm = tuple(i for i in range(ndim) if i != axis) + (axis,)
        moved = self.transpose(x, perm)
        n = moved.shape[-1]
        mine = self.reshape(moved, tuple(moved.shape) + (1,))  # element i along axis -2
        other = self.reshape(moved, tuple(moved.shape[:-1]) + (1, n))  # element j along axis -1
        positions = self.arange(0, n, 1, _INT64, self.device_of(x))
        lower_index = self.less(self.reshape(positions, (1, n)), self.reshape(positions, (n, 1)))
        goes_first = self.greater(other, mine) if descending else self.less(other, mine)
        before = self.logical_or(goes_first, self.logical_and(self.equal(other, mine), lower_index))
        rank = self.reduce_sum(self.cast(before, _INT64), (ndim,), False)  # rank of element i
        # order[..., k] = the i whose rank is k
        placed = self.equal(self.reshape(rank, tuple(rank.shape) + (1,)), positions)
        order = self.reduce_sum(self.multiply(self.cast(placed, _INT64), self.reshape(positions, (n, 1))),
                                (ndim - 1,), False)
        inverse = [0] * ndim
        for i, p in enumerate(perm):
            inverse[p] = i
        return self.transpose(order, tuple(inverse))

    def unsorted_segment_max(self, data, segment_ids, num_segments):
        """The maximum of the rows of ``data`` in each of ``num_segments`` segments (ids in range, their
        shape a prefix of data's); an empty segment holds the dtype's lowest finite value, as TensorFlow."""
        rest = tuple(data.shape[len(segment_ids.shape):])
        dtype = self.dtype_of(data)
        floor = self.full((), lowest(dtype), dtype, self.device_of(data))
        count = int(np.prod(segment_ids.shape, dtype=np.int64))
        if count == 0:
            return self.broadcast_to(floor, (num_segments,) + rest)
        rows = self.reshape(data, (count, 1) + rest)
        ids = self.reshape(segment_ids, (count,))
        segments = self.arange(0, num_segments, 1, self.dtype_of(ids), self.device_of(ids))
        hits = self.equal(self.reshape(ids, (count, 1)), self.reshape(segments, (1, num_segments)))
        hits = self.reshape(hits, (count, num_segments) + (1,) * len(rest))
        return self.reduce_max(self.where(hits, rows, floor), (0,), False)

