"""``gc.regularizers``: Keras 3's weight penalties L1, L2 and L1L2.

A regularizer maps a weight to a scalar penalty built from gradcore ops, so a
penalty computed inside a tape is differentiated like the rest of the loss.
Layers call them on their current weights each time ``layer.losses`` is read.
The formulas are Keras', without a factor 1/2: ``L2(l2)(w) = l2 * sum(w^2)``.
"""

import numbers

from gradcore.engine.convert import to_tensor
from gradcore.ops.creation_ops import zeros
from gradcore.ops.math_ops import abs as absolute
from gradcore.ops.math_ops import square
from gradcore.ops.reduction_ops import reduce_sum


class Regularizer:
    """Base class: subclasses implement ``__call__(weight) -> scalar Tensor``."""

    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(x)")


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x^2)``; a zero factor adds no term."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(type(self).__name__, "l1", l1)
        self.l2 = _factor(type(self).__name__, "l2", l2)

    def __call__(self, x):
        x = to_tensor(x, op_name=f"{type(self).__name__}")  # read a Variable once
        penalty = None
        for factor, elementwise in ((self.l1, absolute), (self.l2, square)):
            if factor:
                term = factor * reduce_sum(elementwise(x))
                penalty = term if penalty is None else penalty + term
        return zeros((), x.dtype) if penalty is None else penalty

    def __repr__(self):
        return f"{type(self).__name__}(l1={self.l1}, l2={self.l2})"


class L1(L1L2):
    """``l1 * sum(|x|)``."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)


class L2(L1L2):
    """``l2 * sum(x^2)``."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)


def _factor(name, what, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name}: {what} must be a non-negative number, got {what}={value!r}")
    return float(value)


_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier):
    """A regularizer from a name ('l1', 'l2', 'l1_l2'), class, instance or callable; None stays None."""
    if identifier is None or (callable(identifier) and not isinstance(identifier, type)):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"unknown regularizer {identifier!r}; known names: {sorted(_BY_NAME)}")
        return _BY_NAME[identifier]()
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    raise ValueError(f"cannot interpret {identifier!r} as a regularizer: pass a name, a Regularizer or a callable")
