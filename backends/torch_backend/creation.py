"""Kernels that make new arrays: filled, ranges, identity matrices."""

import torch
from gradcore.backends.torch_backend.core import TO_TORCH


class CreationKernels:
    """Array creation with torch's constructors, on the CPU unless a device is given."""

    def full(self, shape, value, dtype, device=None):
        return torch.full(tuple(shape), value, dtype=TO_TORCH[dtype], device=device or "cpu")

    def arange(self, start, limit, delta, dtype, device=None):
        return torch.arange(start, limit, delta, dtype=TO_TORCH[dtype], device=device or "cpu")

    def eye(self, num_rows, num_columns, dtype, device=None):
        return torch.eye(num_rows, num_columns, dtype=TO_TORCH[dtype], device=device or "cpu")
