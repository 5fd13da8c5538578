"""Dedicated JVP rules for the hot ops, so forward mode skips transposing their VJP rules.

Each is ``fn(op, *tangents)`` with one tangent per input (None where an input has none) and
returns the output's tangent, written with gradcore ops so tapes and outer accumulators record
it. Every other op gets its tangent from its VJP rule (engine/forward.py); the conformance
test of jvp against finite differences covers both kinds (test_forward_accumulator.py).
"""

from gradcore.engine.forward import register_jvp
from gradcore.ops.array_ops import broadcast_to
from gradcore.ops.linalg_ops import matmul
from gradcore.ops.math_ops import add, multiply, negative, subtract, tanh_grad


def _shaped_like(tangent, output):
    """An input's tangent broadcast to the output's shape, as the op broadcast the input."""
    if tangent.shape != output.shape:
        return broadcast_to(tangent, output.shape)
    return tangent


def _sum(terms, output):
    terms = [t for t in terms if t is not None]
    if not terms:
        return None
    total = terms[0] if len(terms) == 1 else add(terms[0], terms[1])
    return _shaped_like(total, output)


@register_jvp("ReadVariableOp")
@register_jvp("Identity")
def _identity_jvp(op, t):
    return t


@register_jvp("AddV2")
def _add_jvp(op, tx, ty):
    return _sum((tx, ty), op.outputs[0])


@register_jvp("Sub")
def _subtract_jvp(op, tx, ty):
    if ty is None:
        return _sum((tx,), op.outputs[0])
    return _shaped_like(negative(ty) if tx is None else subtract(tx, ty), op.outputs[0])


@register_jvp("Mul")
def _multiply_jvp(op, tx, ty):
    """d(x y) = dx y + x dy."""
    x, y = op.inputs
    return _sum((None if tx is None else multiply(tx, y), None if ty is None else multiply(x, ty)), op.outputs[0])


@register_jvp("Neg")
def _negative_jvp(op, t):
    return negative(t)


@register_jvp("Square")
def _square_jvp(op, t):
    """d x^2 = 2 x dx."""
    return multiply(multiply(op.inputs[0], 2), t)


@register_jvp("Exp")
def _exp_jvp(op, t):
    """d e^x = e^x dx."""
    return multiply(t, op.outputs[0])


@register_jvp("Tanh")
def _tanh_jvp(op, t):
    """d tanh(x) = (1 - tanh(x)^2) dx, by the backward op that is linear in its second argument."""
    return tanh_grad(op.outputs[0], t)


@register_jvp("BatchMatMulV2")
def _matmul_jvp(op, ta, tb):
    """d(a b) = da b + a db."""
    a, b = op.inputs
    return _sum((None if ta is None else matmul(ta, b), None if tb is None else matmul(a, tb)), op.outputs[0])
