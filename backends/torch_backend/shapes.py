"""Shape and indexing kernels: reshape, transpose, joins, padding, slices, gathers, segment reductions, sorting."""

import torch
import torch.nn.functional as F

from gradcore.plugin.indexing_composites import lowest


class ShapeKernels:
    """Shapes and indexing with torch's tensor functions."""

    def reshape(self, x, shape):
        return torch.reshape(x, tuple(shape))

    def transpose(self, x, perm):
        return x.permute(*perm)

    def broadcast_to(self, x, shape):
        return torch.broadcast_to(x, tuple(shape))

    def concat(self, xs, axis):
        return torch.cat(list(xs), dim=axis)

    def stack(self, xs, axis):
        return torch.stack(list(xs), dim=axis)

    def tile(self, x, multiples):
        return torch.tile(x, tuple(multiples))

    def pad(self, x, paddings, constant_value):
        flat = [p for before_after in reversed(paddings) for p in before_after]
        return F.pad(x, flat, mode="constant", value=constant_value)

    def slice(self, x, key):
        flips, key = _positive_step_key(key, tuple(x.shape))
        return (torch.flip(x, flips) if flips else x)[key]

    def slice_into_zeros(self, update, shape, key):
        flips, key = _positive_step_key(key, tuple(shape))
        out = torch.zeros(tuple(shape), dtype=update.dtype, device=update.device)
        out[key] = update  # out is zeros, so writing into its flipped layout needs no flip first
        return torch.flip(out, flips) if flips else out

    def gather(self, params, indices, axis):
        flat = torch.index_select(params, axis, indices.reshape(-1).to(torch.int64))
        shape = tuple(params.shape[:axis]) + tuple(indices.shape) + tuple(params.shape[axis + 1:])
        return flat.reshape(shape)

    def unsorted_segment_sum(self, data, segment_ids, num_segments):
        rest = tuple(data.shape[segment_ids.ndim:])
        out = torch.zeros((num_segments,) + rest, dtype=data.dtype, device=data.device)
        return out.index_add_(0, segment_ids.reshape(-1).to(torch.int64), data.reshape((-1,) + rest))

    def unsorted_segment_max(self, data, segment_ids, num_segments):
        rest = tuple(data.shape[segment_ids.ndim:])
        rows = data.reshape((-1,) + rest)
        ids = segment_ids.reshape((-1,) + (1,) * len(rest)).to(torch.int64).expand(rows.shape)
        out = torch.full((num_segments,) + rest, lowest(self.dtype_of(data)), dtype=data.dtype, device=data.device)
        return out.scatter_reduce(0, ids, rows, "amax", include_self=True)

    def argsort(self, x, axis, descending):
        # stable=True keeps equal values in their order, for descending sorts too: ties at the lower index first.
        return torch.sort(x, dim=axis, descending=descending, stable=True).indices


# ---- basic indexing with negative steps, which torch's __getitem__ refuses ----------------------
# A slice with a negative step on axis d reads the same elements as a slice with the opposite
# step on flip(x, d); so flip those axes first and index with positive-step slices.


def _axes_of(key, ndim):
    """The input axis each key entry consumes (None for entries that add an axis)."""
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
    axes, axis = [], 0
    for k in key:
        if k is Ellipsis:
            axes.append(None)
            axis += ndim - consumed
        elif k is None:
            axes.append(None)
        else:
            axes.append(axis)
            axis += 1
    return axes


def _positive_step_key(key, shape):
    """(axes to flip, an equivalent key for the flipped array using only positive steps)."""
    flips, new_key = [], []
    for k, axis in zip(key, _axes_of(key, len(shape))):
        if isinstance(k, slice) and k.step is not None and k.step < 0:
            n = shape[axis]
            start, stop, step = k.indices(n)
            count = len(range(start, stop, step))
            first = n - 1 - start
            flips.append(axis)
            new_key.append(slice(first, first + count * -step if count else first, -step))
        else:
            new_key.append(k)
    return flips, tuple(new_key)
