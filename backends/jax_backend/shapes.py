"""Shape and indexing kernels: reshape, transpose, joins, padding, slices, gathers, segment reductions, sorting."""

import jax
import jax.numpy as jnp

from gradcore.plugin.indexing_composites import lowest


class ShapeKernels:
    """Shapes and indexing with jax.numpy; writes go through ``.at[]``, never in place."""

    def reshape(self, x, shape):
        return jnp.reshape(x, tuple(shape))

    def transpose(self, x, perm):
        return jnp.transpose(x, perm)

    def broadcast_to(self, x, shape):
        return jnp.broadcast_to(x, tuple(shape))

    def concat(self, xs, axis):
        return jnp.concatenate(list(xs), axis=axis)

    def stack(self, xs, axis):
        return jnp.stack(list(xs), axis=axis)

    def tile(self, x, multiples):
        return jnp.tile(x, tuple(multiples))

    def pad(self, x, paddings, constant_value):
        return jnp.pad(x, paddings, constant_values=constant_value)

    def slice(self, x, key):
        return x[key]

    def slice_into_zeros(self, update, shape, key):
        return jnp.zeros(tuple(shape), update.dtype).at[key].set(update)

    def gather(self, params, indices, axis):
        return jnp.take(params, indices, axis=axis)

    def unsorted_segment_sum(self, data, segment_ids, num_segments):
        rest = tuple(data.shape[segment_ids.ndim:])
        return jax.ops.segment_sum(data.reshape((-1,) + rest), segment_ids.reshape(-1), num_segments)

    def unsorted_segment_max(self, data, segment_ids, num_segments):
        rest = tuple(data.shape[segment_ids.ndim:])
        rows, ids = data.reshape((-1,) + rest), segment_ids.reshape(-1)
        peak = jax.ops.segment_max(rows, ids, num_segments)
        # jax fills an empty segment with -inf (floats); TensorFlow with the lowest finite value.
        filled = jax.ops.segment_sum(jnp.ones(ids.shape, jnp.int32), ids, num_segments) > 0
        filled = filled.reshape((num_segments,) + (1,) * len(rest))
        return jnp.where(filled, peak, jnp.asarray(lowest(self.dtype_of(data)), data.dtype))

    def argsort(self, x, axis, descending):
        # jnp's stable descending sort keeps equal values in their order: ties at the lower index first.
        return jnp.argsort(x, axis=axis, stable=True, descending=descending).astype(jnp.int64)
