"""gradcore's dtypes and its one promotion rule.

The rule is TensorFlow's: the two operands of a binary op must have the same
dtype, and nothing is promoted implicitly (docs/deviations.md, dtypes). Python
scalars are the exception: they are weakly typed and take the dtype of the
tensor they meet, so ``x * 2.0`` keeps ``x.dtype`` (as in JAX and Keras 3).
A Python float meeting an integer tensor is an error, as in TensorFlow.
"""

import functools

import numpy as np

from gradcore.errors import DTypeError


class DType:
    """A dtype: a name plus the facts the core needs to decide rules."""

    __slots__ = ("itemsize", "kind", "name")

    def __init__(self, name, kind, itemsize):
        self.name = name
        self.kind = kind  # "float", "int", "uint" or "bool"
        self.itemsize = itemsize

    is_floating = property(lambda self: self.kind == "float")
    is_integer = property(lambda self: self.kind in ("int", "uint"))
    is_unsigned = property(lambda self: self.kind == "uint")
    is_bool = property(lambda self: self.kind == "bool")

    @property
    def as_numpy_dtype(self):
        """The NumPy dtype with the same meaning (bfloat16 comes from ml_dtypes)."""
        if self.name == "bfloat16":
            import ml_dtypes

            return np.dtype(ml_dtypes.bfloat16)
        return np.dtype(self.name)

    def __repr__(self):
        return f"gc.{self.name}"

    def __reduce__(self):
        return (as_dtype, (self.name,))


float16 = DType("float16", "float", 2)
bfloat16 = DType("bfloat16", "float", 2)
float32 = DType("float32", "float", 4)
float64 = DType("float64", "float", 8)
int8 = DType("int8", "int", 1)
int16 = DType("int16", "int", 2)
int32 = DType("int32", "int", 4)
int64 = DType("int64", "int", 8)
uint8 = DType("uint8", "uint", 1)
bool_ = DType("bool", "bool", 1)

ALL = (float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, bool_)
FLOATING = tuple(d for d in ALL if d.is_floating)
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update({"half": float16, "float": float32, "double": float64, "bool_": bool_})
_BY_PYTHON_TYPE = {float: float32, int: int32, bool: bool_}
# NumPy's dtypes by identity first: reading a dtype's name takes ~3 us, and every eager op asks
# (a byte-swapped dtype misses here and is found by its name below).
_BY_NUMPY_DTYPE = {np.dtype(d.as_numpy_dtype): d for d in ALL}


def as_dtype(value):
    """Turn a DType, name, NumPy dtype or Python type into a gradcore DType."""
    if isinstance(value, DType):
        return value
    if isinstance(value, np.dtype) and (known := _BY_NUMPY_DTYPE.get(value)):
        return known
    if value in _BY_PYTHON_TYPE:
        return _BY_PYTHON_TYPE[value]
    name = value if isinstance(value, str) else getattr(np.dtype(value), "name", None)
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(d.name for d in ALL)
        raise DTypeError(f"gradcore has no dtype {value!r}; known dtypes: {known}") from None


def default_dtype_of_python(value):
    """The dtype TensorFlow gives a Python scalar: float32, bool, or int32 (int64 if it does not fit)."""
    dtype = _BY_PYTHON_TYPE.get(type(value))
    if dtype is int32 and not -2**31 <= value < 2**31:
        return int64
    return dtype


@functools.cache  # weak Python ints are checked against it on every op they meet
def integer_range(dtype):
    """The (smallest, largest) value an integer dtype holds."""
    info = np.iinfo(dtype.as_numpy_dtype)
    return int(info.min), int(info.max)


def result_dtype(op_name, a, b):
    """The result dtype of a binary op on dtypes ``a`` and ``b``: they must agree."""
    if a is b:
        return a
    raise DTypeError(
        f"{op_name}: operands have different dtypes {a.name} and {b.name}; gradcore "
        f"never promotes implicitly (as TensorFlow). Cast one with gc.cast(x, gc.{b.name})."
    )
