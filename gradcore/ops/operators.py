"""Python operators on Tensor and Variable, attached here once the ops exist.

Each dunder is the public op, so ``x * y`` records exactly what ``gc.multiply``
records. Reflected forms swap the operands (``2.0 - x`` is ``subtract(2.0, x)``).
"""

from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable
from gradcore.ops import array_ops, linalg_ops, math_ops


def _reflected(op):
    return lambda self, other: op(other, self)


def _floordiv(x, y):
    return math_ops.floor(math_ops.divide(x, y)) if _is_float(x, y) else math_ops.floordiv(x, y)


def _is_float(x, y):
    for v in (x, y):
        dtype = getattr(v, "_dtype", None)
        if dtype is not None:
            return dtype.is_floating
    return isinstance(x, float) or isinstance(y, float)


_BINARY = {
    "add": math_ops.add,
    "sub": math_ops.subtract,
    "mul": math_ops.multiply,
    "truediv": math_ops.divide,
    "floordiv": _floordiv,
    "mod": math_ops.floormod,
    "pow": math_ops.pow,
    "matmul": lambda a, b: linalg_ops.matmul(a, b),
}

_COMPARISONS = {
    "__lt__": math_ops.less,
    "__le__": math_ops.less_equal,
    "__gt__": math_ops.greater,
    "__ge__": math_ops.greater_equal,
    "__eq__": math_ops.equal,
    "__ne__": math_ops.not_equal,
}


def _logical(op):
    return lambda self, other: op(self, other)


def install(cls):
    for name, op in _BINARY.items():
        setattr(cls, f"__{name}__", lambda self, other, _op=op: _op(self, other))
        setattr(cls, f"__r{name}__", _reflected(op))
    for dunder, op in _COMPARISONS.items():
        setattr(cls, dunder, lambda self, other, _op=op: _op(self, other))
    cls.__neg__ = lambda self: math_ops.negative(self)
    cls.__pos__ = lambda self: self
    cls.__abs__ = lambda self: math_ops.abs(self)
    cls.__invert__ = lambda self: math_ops.logical_not(self)
    cls.__and__ = cls.__rand__ = _logical(math_ops.logical_and)
    cls.__or__ = cls.__ror__ = _logical(math_ops.logical_or)
    cls.__xor__ = cls.__rxor__ = _logical(math_ops.logical_xor)
    cls.__getitem__ = lambda self, key: array_ops.getitem(self, key)


install(Tensor)
install(Variable)
