"""Devices, version, and conversion between ``torch.Tensor`` and gradcore's dtypes."""

import numpy as np
import torch

from gradcore.engine import dtypes

TO_TORCH = {
    dtypes.float16: torch.float16,
    dtypes.bfloat16: torch.bfloat16,
    dtypes.float32: torch.float32,
    dtypes.float64: torch.float64,
    dtypes.int8: torch.int8,
    dtypes.int16: torch.int16,
    dtypes.int32: torch.int32,
    dtypes.int64: torch.int64,
    dtypes.uint8: torch.uint8,
    dtypes.bool_: torch.bool,
}
FROM_TORCH = {v: k for k, v in TO_TORCH.items()}


class CoreKernels:
    """The CPU and every CUDA device torch sees; arrays are ``torch.Tensor``."""

    def __init__(self):
        # TF32 off, so float32 matmuls and convolutions on Ampere and later GPUs give float32
        # results, as on every other backend.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    def devices(self):
        return ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]

    def copy(self, x):
        return x.clone()

    def version(self):
        return torch.__version__

    def compile_function(self, fn, jit_compile):
        """``torch.compile`` of gc.function's recorded program on request; else gradcore's lean replay.

        On CPU torch.compile needs a C++ compiler; without one its first call fails and
        gc.function reports torch's error (docs/function.md, "Compiling").
        """
        return torch.compile(fn, dynamic=False) if jit_compile else fn

    def memory_capacity(self, device):
        if device == "cpu":
            return None
        return torch.cuda.get_device_properties(torch.device(device)).total_memory

    def asarray(self, value, dtype, device=None):
        target = TO_TORCH[dtype]
        if type(value) in (float, int, bool):  # the common case of a scalar operand: skip NumPy
            return torch.full((), value, dtype=target, device=device or "cpu")
        if isinstance(value, torch.Tensor):
            return value.to(device=device or value.device, dtype=target)
        array = np.asarray(value)
        if array.dtype == dtypes.bfloat16.as_numpy_dtype and target is torch.bfloat16:
            # Bit for bit, NaN payloads included (through float32 torch turns every NaN into 0xFFFF).
            return torch.from_numpy(np.ascontiguousarray(array).view(np.int16).copy()).view(torch.bfloat16).to(
                device or "cpu")
        if array.dtype.kind == "V" or array.dtype.name == "bfloat16":  # ml_dtypes: go through float32
            array = array.astype(np.float32)
        if array.dtype.kind in "fiub" and array.dtype.byteorder not in "=|":
            array = array.astype(array.dtype.newbyteorder("="))
        return torch.as_tensor(array, device=device or "cpu").to(target)

    def to_numpy(self, x):
        x = x.detach().cpu()
        if x.dtype is torch.bfloat16:  # bit for bit, as asarray
            return x.contiguous().view(torch.int16).numpy().view(dtypes.bfloat16.as_numpy_dtype)
        return x.numpy()

    def dtype_of(self, x):
        return FROM_TORCH[x.dtype]

    def device_of(self, x):
        return "cpu" if x.device.type == "cpu" else f"{x.device.type}:{x.device.index or 0}"

    def cast(self, x, dtype):
        return x.to(TO_TORCH[dtype])
