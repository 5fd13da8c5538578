"""Shape and indexing kernels: reshape, transpose, joins, padding, slices, gathers, segment reductions, sorting."""

import numpy as np

from gradcore.plugin.indexing_composites import lowest


class ShapeKernels:
    """Shapes and indexing with NumPy's array functions."""

    def reshape(self, x, shape):
        return np.reshape(x, shape)

    def transpose(self, x, perm):
        return np.transpose(x, perm)

    def broadcast_to(self, x, shape):
        return np.broadcast_to(x, shape)

    def concat(self, xs, axis):
        return np.concatenate(xs, axis=axis)

    def stack(self, xs, axis):
        return np.stack(xs, axis=axis)

    def tile(self, x, multiples):
        return np.tile(x, multiples)

    def pad(self, x, paddings, constant_value):
        return np.pad(x, paddings, constant_values=constant_value)

    def slice(self, x, key):
        return np.asarray(x)[key]

    def slice_into_zeros(self, update, shape, key):
        out = np.zeros(shape, dtype=update.dtype)
        out[key] = update
        return out

    def gather(self, params, indices, axis):
        return np.take(params, indices, axis=axis)

    def unsorted_segment_sum(self, data, segment_ids, num_segments):
        out = np.zeros((num_segments,) + data.shape[segment_ids.ndim:], dtype=data.dtype)
        np.add.at(out, segment_ids, data)
        return out

    def unsorted_segment_max(self, data, segment_ids, num_segments):
        out = np.full((num_segments,) + data.shape[segment_ids.ndim:], lowest(self.dtype_of(data)), dtype=data.dtype)
        np.maximum.at(out, segment_ids, data)
        return out

    def argsort(self, x, axis, descending):
        if not descending:
            return np.argsort(x, axis=axis, kind="stable").astype(np.int64)
        # A stable sort of the reversed axis, read backwards: descending, ties at the lower index first.
        n = x.shape[axis]
        flipped = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
        return (n - 1 - np.flip(flipped, axis)).astype(np.int64)
