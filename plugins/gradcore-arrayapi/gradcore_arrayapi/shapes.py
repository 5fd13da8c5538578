"""Shape and indexing kernels: reshape, transpose, joins, padding, slices, gathers, segment sums.

The standard has no ``pad``, no adjoint of slicing, no multi-dimensional ``take`` and no
scatter; those are composed in composites.py.
"""

from gradcore_arrayapi import composites
from gradcore_arrayapi.creation import fill_value


class ShapeKernels:
    """Shapes with the standard's functions, indexing through composites.py."""

    def reshape(self, x, shape):
        return self.xp.reshape(x, tuple(shape))

    def transpose(self, x, perm):
        return self.xp.permute_dims(x, tuple(perm))

    def broadcast_to(self, x, shape):
        return self.xp.broadcast_to(x, tuple(shape))

    def concat(self, xs, axis):
        return self.xp.concat(list(xs), axis=axis)

    def stack(self, xs, axis):
        return self.xp.stack(list(xs), axis=axis)

    def tile(self, x, multiples):
        return self.xp.tile(x, tuple(multiples))

    def pad(self, x, paddings, constant_value):
        value = fill_value(constant_value, self.dtype_of(x))
        for axis, (before, after) in enumerate(paddings):
            x = composites.pad_axis(self.xp, x, axis, before, after, value)
        return x

    def slice(self, x, key):
        return composites.basic_slice(self.xp, x, key)

    def slice_into_zeros(self, update, shape, key):
        return composites.slice_into_zeros(self.xp, update, shape, key)

    def gather(self, params, indices, axis):
        return composites.gather(self.xp, params, indices, axis)

    def unsorted_segment_sum(self, data, segment_ids, num_segments):
        return composites.unsorted_segment_sum(self.xp, data, segment_ids, num_segments)

    def argsort(self, x, axis, descending):
        # The standard's stable sort keeps equal values in their order when descending too, as tf.argsort.
        return self.xp.astype(self.xp.argsort(x, axis=axis, descending=descending, stable=True), self.xp.int64)
