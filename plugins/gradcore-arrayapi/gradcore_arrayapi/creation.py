"""Kernels that make new arrays: filled, ranges, identity matrices, on the namespace's device."""


def fill_value(value, dtype):
    """``value`` as a Python scalar of ``dtype``'s kind: the standard refuses, say, 2.5 for an
    int array, where gradcore (like NumPy) truncates it to 2."""
    if dtype.is_bool:
        return bool(value)
    if dtype.is_integer:
        return int(value)
    return float(value)


class CreationKernels:
    """Array creation with the standard's constructors."""

    def full(self, shape, value, dtype, device=None):
        return self.xp.full(tuple(shape), fill_value(value, dtype), dtype=self._to_xp[dtype],
                            device=self.namespace.device)

    def arange(self, start, limit, delta, dtype, device=None):
        return self.xp.arange(start, limit, delta, dtype=self._to_xp[dtype], device=self.namespace.device)

    def eye(self, num_rows, num_columns, dtype, device=None):
        return self.xp.eye(num_rows, num_columns, dtype=self._to_xp[dtype], device=self.namespace.device)
