"""Sizes known only when a gc.function runs: the ``None`` dimensions of a relaxed trace.

A relaxed trace (an ``input_signature`` with ``None`` sizes, or the generalised trace of
``reduce_retracing``) runs the Python function once on stand-in inputs whose unknown
dimensions all have one size ``P``, a prime that no other size of the call is a multiple
of. Inside gradcore a shape read there gives ``Size`` objects for those dimensions: ints
(their value is the stand-in's) that remember how they were computed, so a shape that
reaches a kernel is recorded as an expression of the size the program will see at run
time, not as a number. Code outside gradcore reads ``None`` there, as TensorFlow's static
shapes do (docs/function.md, "Unknown sizes").

Whatever needs the number itself (``int(n)``, ``float(n)``, an index) cannot be served
by one program for every size: it raises ``NeedsKnownSizes`` and the call is traced for
its concrete shape instead. A comparison answers with the stand-in's value and becomes a
*guard*: the program is used only for calls where the comparison comes out the same.
"""

import math
import operator

from gradcore.errors import GradcoreError

#: Where a size expression names the unknown size; the program puts its source there.
UNKNOWN = "{d}"


class NeedsKnownSizes(GradcoreError):
    """A relaxed trace met code that needs a concrete size; the call is traced for its own shape.

    Never reaches the user: gc.function catches it. A GradcoreError so that a kernel call it
    passes through re-raises it as it is.
    """


def _trace():
    from gradcore.engine.recording import state

    return state.tracer


class Size(int):
    """A dimension whose value is the stand-in size now and ``expr`` of the run-time size later."""

    def __new__(cls, value, expr):
        size = super().__new__(cls, value)
        size.expr = expr
        return size

    def __hash__(self):
        return hash((Size, self.expr))

    def __repr__(self):
        return "None"  # what TensorFlow shows for a dimension it does not know

    __str__ = __repr__

    def __format__(self, spec):
        return "None" if not spec else format(int.__int__(self), spec)

    def _needs_value(self, *_):
        raise NeedsKnownSizes(f"the value of an unknown size ({self.expr}) was asked for")

    __int__ = __index__ = __float__ = __complex__ = _needs_value
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = _needs_value

    def __bool__(self):
        return self != 0

    def __neg__(self):
        return Size(-int.__int__(self), f"(-{self.expr})")

    def __pos__(self):
        return self

    def __abs__(self):
        return self if self >= 0 else -self


def _operand(value):
    """The expression of an int or Size operand, or None for anything else.

    A plain int that is a multiple of the stand-in size was read off a raw array's shape: it is
    the same unknown size (see ``expression_of``).
    """
    if isinstance(value, Size):
        return value.expr
    if isinstance(value, int) and not isinstance(value, bool):
        relaxation = getattr(_trace(), "relaxation", None)
        expr = None if relaxation is None else expression_of(int(value), relaxation.stand_in)
        return repr(int(value)) if expr is None else expr
    return None


def _arithmetic(symbol, compute):
    def forward(self, other):
        return _combined(self, other, symbol, compute, reflected=False)

    def reflected(self, other):
        return _combined(self, other, symbol, compute, reflected=True)

    return forward, reflected


def _combined(size, other, symbol, compute, reflected):
    other_expr = _operand(other)
    if other_expr is None:
        if isinstance(other, float):
            size._needs_value()
        return NotImplemented
    a, b = int.__int__(size), int(other) if not isinstance(other, Size) else int.__int__(other)
    left, right = (other_expr, size.expr) if reflected else (size.expr, other_expr)
    value = compute(b, a) if reflected else compute(a, b)
    return Size(value, f"({left} {symbol} {right})")


for _name, _symbol, _compute in (("add", "+", operator.add), ("sub", "-", operator.sub),
                                 ("mul", "*", operator.mul), ("floordiv", "//", operator.floordiv),
                                 ("mod", "%", operator.mod)):
    _forward, _reflected = _arithmetic(_symbol, _compute)
    setattr(Size, f"__{_name}__", _forward)
    setattr(Size, f"__r{_name}__", _reflected)


def _comparison(symbol, compute):
    def compare(self, other):
        other_expr = _operand(other)
        if other_expr is None:
            return NotImplemented
        if other_expr == self.expr:
            return compute(0, 0)
        other_value = int.__int__(other) if isinstance(other, Size) else int(other)
        result = compute(int.__int__(self), other_value)
        trace = _trace()
        if trace is not None:
            trace.size_guard(f"({self.expr} {symbol} {other_expr})", result)
        return result

    return compare


for _name, _symbol, _compute in (("eq", "==", operator.eq), ("ne", "!=", operator.ne), ("lt", "<", operator.lt),
                                 ("le", "<=", operator.le), ("gt", ">", operator.gt), ("ge", ">=", operator.ge)):
    setattr(Size, f"__{_name}__", _comparison(_symbol, _compute))


def stand_in_size(static_sizes):
    """The stand-in for unknown sizes: the smallest prime from 97 up that divides none of ``static_sizes``."""
    candidate = 97
    while not _is_prime(candidate) or any(n and n % candidate == 0 for n in static_sizes):
        candidate += 2
    return candidate


def _is_prime(n):
    return n > 1 and all(n % k for k in range(2, int(n ** 0.5) + 1))


def expression_of(value, stand_in):
    """The expression of a size ``value`` seen in a relaxed trace, or None for a known size.

    Every unknown dimension has the stand-in size, and no known size is a multiple of it, so
    a multiple of ``stand_in`` is a product of unknown sizes (a flattened batch, say).
    """
    if value <= 0 or value % stand_in:
        return None
    factors = []
    while value % stand_in == 0:
        value //= stand_in
        factors.append(UNKNOWN)
    if value != 1:
        factors.append(repr(value))
    return factors[0] if len(factors) == 1 else "(" + " * ".join(factors) + ")"


def looks_like_a_size(value, stand_in):
    """Whether a plain number (not a Size) could have been computed from the stand-in size:
    a multiple of it, or one over a multiple. Such a number in a relaxed trace would be a
    size baked into the program, so the trace is given up instead."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value or math.isnan(value):
        return False
    for candidate in (value, 1 / value):
        if not abs(candidate) < 2 ** 53:  # inf too: 1 over a subnormal
            continue
        whole = round(candidate)
        if candidate == whole and expression_of(abs(whole), stand_in) is not None:
            return True
    return False


def relaxed_shape(shape, stand_in):
    """``shape`` (plain ints) with each unknown dimension as a Size."""
    return tuple(n if (expr := expression_of(n, stand_in)) is None else Size(n, expr) for n in shape)
