"""Devices, version, and moving values between the host (NumPy) and the namespace's arrays."""

import numpy as np


class CoreKernels:
    """One device, the namespace's default, which gradcore calls "cpu"."""

    def devices(self):
        return ["cpu"]

    def device_of(self, x):
        return "cpu"

    def version(self):
        return self.namespace.version

    def asarray(self, value, dtype, device=None):
        if isinstance(value, self.namespace.array_type) and not isinstance(value, np.ndarray):
            return self.xp.astype(value, self._to_xp[dtype])  # already ours: a converted copy
        # Host values go through NumPy, so scalars and lists convert exactly as on the numpy
        # backend (a float into an integer dtype truncates); the standard's asarray then copies
        # the buffer. C order, because a buffer must be contiguous.
        host = np.asarray(value, dtype=dtype.as_numpy_dtype, order="C")
        return self.xp.asarray(host, dtype=self._to_xp[dtype], device=self.namespace.device, copy=True)

    def to_numpy(self, x):
        # DLPack is the standard's way out; copy, so the caller never shares memory with ``x``.
        try:
            return np.array(np.from_dlpack(x), copy=True)
        except (AttributeError, TypeError, BufferError, RuntimeError):
            # No DLPack for this value: NumPy's own scalars (its wrapped namespace returns them
            # from full reductions) or a library without it. NumPy's array protocol takes those.
            return np.array(x, copy=True)

    def copy(self, x):
        return self.xp.asarray(x, copy=True)

    def dtype_of(self, x):
        try:
            return self._from_xp[x.dtype]
        except KeyError:
            for dtype, xp_dtype in self._to_xp.items():
                if x.dtype == xp_dtype:
                    self._from_xp[x.dtype] = dtype
                    return dtype
            raise TypeError(f"arrays of {x.dtype} have no gradcore dtype on backend {self.name!r}") from None

    def cast(self, x, dtype):
        return self.xp.astype(x, self._to_xp[dtype])  # float to int truncates toward zero
