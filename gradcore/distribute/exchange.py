"""A backend's raw arrays as torch tensors for torch.distributed, and torch buffers back as raw arrays.

Each backend has an exchange: ``read`` a raw array on a device as a torch tensor over the
same memory, ``fill`` a segment of a collective's buffer with it, ``wrap`` a segment of the
buffer as a raw array again, and ``bucket_device``, where the buffer for arrays on a device
lives. NumPy arrays cross by NumPy's buffer, torch tensors are themselves, jax arrays are read
by NumPy's view of them on the host and by DLPack elsewhere and come back by DLPack; none of
these copies. Other backends go through their ``to_numpy`` and ``asarray``, which may
(docs/multi_worker.md, "At most one copy").
"""

import functools
import threading
import warnings

from gradcore.engine import dtypes


def exchange_for(backend):
    """How ``backend``'s raw arrays are read as torch tensors, copied into a buffer and handed back as views of it."""
    exchange = _EXCHANGES.get(backend.name)
    return exchange() if exchange else _ThroughNumpy(backend)


def torch_module():
    import torch

    return torch


def numpy_view(tensor):
    """A host tensor as an np.ndarray sharing its memory (torch's numpy() knows no bfloat16)."""
    if tensor.dtype is torch_module().bfloat16:
        return tensor.view(torch_module().int16).numpy().view(dtypes.bfloat16.as_numpy_dtype)
    return tensor.numpy()


def from_numpy(array):
    """A contiguous torch tensor over an np.ndarray's memory (copied first only if it is strided), to be read."""
    import numpy as np

    torch = torch_module()
    if not array.flags.c_contiguous:  # (np.ascontiguousarray alone would also make a scalar 1-D)
        array = np.ascontiguousarray(array)
    bfloat16 = array.dtype == dtypes.bfloat16.as_numpy_dtype
    if bfloat16:
        array = array.view(np.int16)
    if array.flags.writeable or _read_only_warned.is_set():
        tensor = torch.from_numpy(array)
    else:  # jax's host buffers, for one: fine, the tensor is only read
        # torch warns of a read-only array once a process; silencing that once silences it for good,
        # and catch_warnings costs more than the rest of this function.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            tensor = torch.from_numpy(array)
        _read_only_warned.set()
    return tensor.view(torch.bfloat16) if bfloat16 else tensor


_read_only_warned = threading.Event()


class _NumpyArrays:
    def bucket_device(self, device):
        return "cpu"

    def read(self, array, device):
        return from_numpy(array)

    def fill(self, segment, array):
        import numpy as np

        np.copyto(numpy_view(segment), array, casting="no")

    def wrap(self, tensor, dtype, device):
        return numpy_view(tensor)


class _TorchArrays:
    def bucket_device(self, device):
        return device

    def read(self, array, device):
        return array.contiguous()

    def fill(self, segment, array):
        segment.copy_(array)

    def wrap(self, tensor, dtype, device):
        return tensor


class _JaxArrays:
    def bucket_device(self, device):
        return "cpu" if device.startswith("cpu") else device  # jax's host devices ("cpu:1" ...) share the host's memory

    def read(self, array, device):
        """A view of jax's buffer, which jax never writes again."""
        if device.startswith("cpu"):
            # NumPy's view of a host array costs a tenth of torch's DLPack import of a new one
            # (~5 against ~50 us), most of which is jax's export in Python.
            import numpy as np

            return from_numpy(np.asarray(array))
        return torch_module().from_dlpack(array)

    def fill(self, segment, array):
        segment.copy_(self.read(array, segment.device.type))

    def wrap(self, tensor, dtype, device):
        import jax.numpy as jnp

        if tensor.device.type != "cpu":
            return jnp.from_dlpack(tensor)  # the capsule names the GPU
        # A host capsule names no jax device, and both imports would put the array on the first.
        host = _jax_host_device(device)
        adopt = host_adopter()
        if adopt is not None:
            return adopt(tensor, host)
        return jnp.from_dlpack(tensor, device=host)  # a view on the first host device, a copy elsewhere


@functools.cache
def _jax_host_device(name):
    """The jax device gradcore names ``name``: "cpu" is the first host device, "cpu:N" the one with id N."""
    import jax

    device_id = 0 if name == "cpu" else int(name.partition(":")[2])
    return next(device for device in jax.devices("cpu") if device.id == device_id)


@functools.cache
def host_adopter():
    """jaxlib's own DLPack import for host tensors, or None where it is not the one tested here.

    ``jax.numpy.from_dlpack`` spends ~0.1 ms an array in Python layers around this import,
    which takes ~0.01 ms; at 1 MB that was a tenth of an all-reduce. The function is private to
    jaxlib, so it is used only with the signature it was written for (jaxlib extension version
    467 on), only in x64 mode (where from_dlpack's dtype canonicalization changes nothing), and
    only once it has adopted a probe tensor as from_dlpack does, over the same memory
    (docs/multi_worker.md, "JAX arrays on the host"; tests/unit/test_exchange.py).
    """
    try:
        import jax
        import jax.numpy as jnp
        from jax._src.lib import _jax, jaxlib_extension_version
    except ImportError:
        return None
    to_buffer = getattr(_jax, "dlpack_managed_tensor_to_buffer", None)
    if to_buffer is None or jaxlib_extension_version < 467 or not jax.config.jax_enable_x64:
        return None
    cpu = jax.devices("cpu")[0]
    dl_device_type = 1  # DLPack's kDLCPU
    to_dlpack = torch_module().utils.dlpack.to_dlpack  # the capsule tensor.__dlpack__() gives, without its Python layer

    def adopt(tensor, device=cpu):
        return to_buffer(to_dlpack(tensor), device, None, None, dl_device_type)

    return adopt if _adopts_like_from_dlpack(adopt, jnp) else None


def _adopts_like_from_dlpack(adopt, jnp):
    """Whether ``adopt`` gives what ``jnp.from_dlpack`` gives, over the tensor's own memory."""
    torch = torch_module()
    probe = torch.arange(16, dtype=torch.float32).reshape(4, 4)
    try:
        adopted = adopt(probe)
    except Exception:  # noqa: BLE001  (any failure of a private function means: do not use it)
        return False
    public = jnp.from_dlpack(probe)
    return (type(adopted) is type(public) and adopted.dtype == public.dtype and adopted.shape == public.shape
            and adopted.sharding == public.sharding and bool((adopted == public).all())
            and adopted.unsafe_buffer_pointer() == probe.data_ptr())


class _ThroughNumpy:
    """Any other backend: through its to_numpy and asarray, which may copy."""

    def __init__(self, backend):
        self._backend = backend

    def bucket_device(self, device):
        return "cpu"

    def read(self, array, device):
        return from_numpy(self._backend.to_numpy(array))

    def fill(self, segment, array):
        import numpy as np

        np.copyto(numpy_view(segment), self._backend.to_numpy(array), casting="no")

    def wrap(self, tensor, dtype, device):
        return self._backend.asarray(numpy_view(tensor), dtypes.as_dtype(dtype), device=device)


_EXCHANGES = {"numpy": _NumpyArrays, "torch": _TorchArrays, "jax": _JaxArrays}
