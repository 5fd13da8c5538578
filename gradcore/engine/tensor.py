"""The Tensor: an immutable raw array plus its gradcore dtype and backend.

Operators (+, *, @, indexing ...) are attached by ``gradcore.ops.operators``
once the ops exist, as TensorFlow does, so this module stays free of op code.
"""

import numpy as np

from gradcore.engine.recording import state


class Tensor:
    """An immutable array on one backend. Create with ``gc.constant`` or any op."""

    __slots__ = ("__weakref__", "_backend", "_dtype", "_value")
    # Make NumPy defer to our reflected operators (np_array * tensor -> Tensor).
    __array_priority__ = 100

    def __init__(self, value, dtype, backend):
        self._value = value
        self._dtype = dtype
        self._backend = backend

    @property
    def dtype(self):
        return self._dtype

    @property
    def shape(self):
        return tuple(self._value.shape)

    @property
    def ndim(self):
        return len(self._value.shape)

    @property
    def size(self):
        return int(np.prod(self._value.shape, dtype=np.int64))

    @property
    def device(self):
        return self._backend.device_of(self._value)

    @property
    def backend(self):
        """The Backend object this tensor's array belongs to."""
        return self._backend

    def numpy(self):
        """The value as a new NumPy array: a copy, so writing to it cannot change the tensor."""
        if state.tracer is not None:
            state.tracer.refuse_host_read(self, "numpy")
        return np.array(self._backend.to_numpy(self._value))

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype, copy=False)

    def __len__(self):
        if not self._value.shape:
            raise TypeError("len() of a scalar (0-d) tensor")
        return self._value.shape[0]

    def __iter__(self):
        if not self._value.shape:
            raise TypeError("iteration over a scalar (0-d) tensor")
        return (self[i] for i in range(self._value.shape[0]))

    def __bool__(self):
        return bool(self._scalar_item("bool"))

    def __float__(self):
        return float(self._scalar_item("float"))

    def __int__(self):
        return int(self._scalar_item("int"))

    def __index__(self):
        if not self._dtype.is_integer:
            raise TypeError(f"only integer tensors can be used as an index, not {self._dtype.name}")
        return int(self._scalar_item("index"))

    def _scalar_item(self, what):
        if state.tracer is not None:
            state.tracer.refuse_host_read(self, what)
        if self.size != 1:
            raise ValueError(f"{what}() needs a tensor with one element; this one has shape {self.shape}")
        return np.asarray(self._backend.to_numpy(self._value)).reshape(()).item()

    __hash__ = None  # == is elementwise, so tensors cannot be dict keys (use id() or .ref())

    def ref(self):
        """A hashable reference to this tensor (identity), as ``tf.Tensor.ref``."""
        return _Ref(self)

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", threshold=64)
        return f"<gc.Tensor shape={self.shape} dtype={self._dtype.name} backend={self._backend.name}: {body}>"

    def __str__(self):
        return str(self.numpy())


class _Ref:
    """Hashable identity wrapper around a tensor or variable."""

    __slots__ = ("_obj",)

    def __init__(self, obj):
        self._obj = obj

    def deref(self):
        return self._obj

    def __hash__(self):
        return id(self._obj)

    def __eq__(self, other):
        return isinstance(other, _Ref) and other._obj is self._obj
