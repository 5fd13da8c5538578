"""Elementwise math: arithmetic, transcendental functions, comparisons, casts.

Each op is built by a factory from ``dispatch`` and its gradient rule sits
right under it, written with gradcore ops so it is itself differentiable.
Op type names are TensorFlow's, so ``RegisterGradient("Square")`` means what
a TensorFlow user expects.
"""

import math

from gradcore.engine import dtypes
from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import record, state
from gradcore.engine.registry import RegisterGradient, no_gradient
from gradcore.ops.dispatch import (
    ANY,
    BOOL,
    FLOAT,
    NUMERIC,
    backward_op,
    binary_op,
    check_kind,
    operands,
    unary_op,
    unbroadcast,
    wrap,
)

# ---- arithmetic --------------------------------------------------------------------------

add = binary_op("AddV2", "add", ANY - BOOL, api="gc.add")
subtract = binary_op("Sub", "subtract", NUMERIC, api="gc.subtract")
multiply = binary_op("Mul", "multiply", NUMERIC, api="gc.multiply")
_real_div = binary_op("RealDiv", "divide", FLOAT, api="gc.divide")
floordiv = binary_op("FloorDiv", "floor_divide", NUMERIC, api="gc.math.floordiv")
floormod = binary_op("FloorMod", "floor_mod", NUMERIC, api="gc.math.floormod")
pow = binary_op("Pow", "power", NUMERIC, api="gc.pow")  # noqa: A001 - TensorFlow's name
maximum = binary_op("Maximum", "maximum", NUMERIC, api="gc.maximum")
minimum = binary_op("Minimum", "minimum", NUMERIC, api="gc.minimum")
negative = unary_op("Neg", "negative", NUMERIC, api="gc.negative")


def divide(x, y, name=None):
    """x / y. Integer inputs are divided as floats, as TensorFlow's ``truediv``."""
    x, y = operands(x, y, "gc.divide")
    if not x._dtype.is_floating:
        check_kind("gc.divide", x, NUMERIC)
        target = dtypes.float32 if x._dtype.itemsize <= 2 else dtypes.float64
        x, y = cast(x, target), cast(y, target)
    return _real_div(x, y)


@RegisterGradient("AddV2")
def _add_grad(op, dy):
    x, y = op.inputs
    return unbroadcast(dy, x.shape), unbroadcast(dy, y.shape)


@RegisterGradient("Sub")
def _sub_grad(op, dy):
    x, y = op.inputs
    return unbroadcast(dy, x.shape), unbroadcast(negative(dy), y.shape)


@RegisterGradient("Mul")
def _mul_grad(op, dy):
    x, y = op.inputs
    return (
        unbroadcast(multiply(dy, y), x.shape) if op.needs_gradient(0) else None,
        unbroadcast(multiply(dy, x), y.shape) if op.needs_gradient(1) else None,
    )


@RegisterGradient("RealDiv")
def _div_grad(op, dy):
    """d(x/y) = dy/y, -dy*x/y^2."""
    x, y = op.inputs
    return (
        unbroadcast(_real_div(dy, y), x.shape) if op.needs_gradient(0) else None,
        unbroadcast(negative(multiply(dy, _real_div(_real_div(x, y), y))), y.shape) if op.needs_gradient(1) else None,
    )


@RegisterGradient("FloorMod")
def _floormod_grad(op, dy):
    """x mod y = x - floor(x/y)*y, so d/dx = 1 and d/dy = -floor(x/y)."""
    x, y = op.inputs
    return unbroadcast(dy, x.shape), unbroadcast(negative(multiply(dy, floordiv(x, y))), y.shape)


@RegisterGradient("Pow")
def _pow_grad(op, dy):
    """d x^y = y*x^(y-1) dx + x^y*log(x) dy, with log(x) taken as 0 where x <= 0."""
    x, y = op.inputs
    z = op.outputs[0]
    dx = multiply(dy, multiply(y, pow(x, subtract(y, 1))))
    positive = greater(x, 0)
    log_x = where(positive, log(where(positive, x, 1)), zeros_like_raw(x))
    return unbroadcast(dx, x.shape), unbroadcast(multiply(dy, multiply(z, log_x)), y.shape)


@RegisterGradient("Maximum")
def _maximum_grad(op, dy):
    """The gradient goes to x where x >= y (ties to the first argument, #66), else to y."""
    x, y = op.inputs
    return _select_grads(greater_equal(x, y), dy, x, y)


@RegisterGradient("Minimum")
def _minimum_grad(op, dy):
    x, y = op.inputs
    return _select_grads(less_equal(x, y), dy, x, y)


def _select_grads(to_x, dy, x, y):
    zero = zeros_like_raw(dy)
    return unbroadcast(where(to_x, dy, zero), x.shape), unbroadcast(where(to_x, zero, dy), y.shape)


@RegisterGradient("Neg")
def _neg_grad(op, dy):
    return negative(dy)


no_gradient("FloorDiv")

# ---- one-input math -------------------------------------------------------------------------

abs = unary_op("Abs", "abs", NUMERIC, api="gc.abs")  # noqa: A001 - TensorFlow's name
sign = unary_op("Sign", "sign", NUMERIC, api="gc.sign")
square = unary_op("Square", "square", NUMERIC, api="gc.square")
sqrt = unary_op("Sqrt", "sqrt", FLOAT, api="gc.sqrt")
rsqrt = unary_op("Rsqrt", "rsqrt", FLOAT, api="gc.math.rsqrt")
reciprocal = unary_op("Reciprocal", "reciprocal", FLOAT, api="gc.math.reciprocal")
exp = unary_op("Exp", "exp", FLOAT, api="gc.exp")
log = unary_op("Log", "log", FLOAT, api="gc.math.log")
log1p = unary_op("Log1p", "log1p", FLOAT, api="gc.math.log1p")
expm1 = unary_op("Expm1", "expm1", FLOAT, api="gc.math.expm1")
sin = unary_op("Sin", "sin", FLOAT, api="gc.sin")
cos = unary_op("Cos", "cos", FLOAT, api="gc.cos")
tan = unary_op("Tan", "tan", FLOAT, api="gc.tan")
tanh = unary_op("Tanh", "tanh", FLOAT, api="gc.tanh")
sigmoid = unary_op("Sigmoid", "sigmoid", FLOAT, api="gc.sigmoid")
erf = unary_op("Erf", "erf", FLOAT, api="gc.math.erf")
floor = unary_op("Floor", "floor", FLOAT, api="gc.floor")
ceil = unary_op("Ceil", "ceil", FLOAT, api="gc.math.ceil")
round = unary_op("Round", "round", NUMERIC, api="gc.round")  # noqa: A001 - TensorFlow's name
is_finite = unary_op("IsFinite", "isfinite", FLOAT, dtypes.bool_, api="gc.math.is_finite")
is_nan = unary_op("IsNan", "isnan", FLOAT, dtypes.bool_, api="gc.math.is_nan")


@RegisterGradient("Abs")
def _abs_grad(op, dy):
    return multiply(dy, sign(op.inputs[0]))


@RegisterGradient("Sign")
def _sign_grad(op, dy):
    """Zero almost everywhere; registered (not no_gradient) as in TensorFlow (#64)."""
    return zeros_like_raw(op.inputs[0])


@RegisterGradient("Square")
def _square_grad(op, dy):
    return multiply(dy, multiply(op.inputs[0], 2))


@RegisterGradient("Sqrt")
def _sqrt_grad(op, dy):
    """d sqrt(x) = dy / (2 sqrt(x)), taken as 0 where dy is 0 (TensorFlow's SqrtGrad, #67)."""
    y = op.outputs[0]
    return where(equal(dy, 0), zeros_like_raw(dy), _real_div(multiply(dy, 0.5), y))


@RegisterGradient("Rsqrt")
def _rsqrt_grad(op, dy):
    """d x^-1/2 = -1/2 * y^3."""
    y = op.outputs[0]
    return multiply(dy, multiply(multiply(y, square(y)), -0.5))


@RegisterGradient("Reciprocal")
def _reciprocal_grad(op, dy):
    y = op.outputs[0]
    return negative(multiply(dy, square(y)))


@RegisterGradient("Exp")
def _exp_grad(op, dy):
    return multiply(dy, op.outputs[0])


@RegisterGradient("Log")
def _log_grad(op, dy):
    return _real_div(dy, op.inputs[0])


@RegisterGradient("Log1p")
def _log1p_grad(op, dy):
    return _real_div(dy, add(op.inputs[0], 1))


@RegisterGradient("Expm1")
def _expm1_grad(op, dy):
    return multiply(dy, add(op.outputs[0], 1))


@RegisterGradient("Sin")
def _sin_grad(op, dy):
    return multiply(dy, cos(op.inputs[0]))


@RegisterGradient("Cos")
def _cos_grad(op, dy):
    return negative(multiply(dy, sin(op.inputs[0])))


@RegisterGradient("Tan")
def _tan_grad(op, dy):
    """d tan(x) = 1 + tan(x)^2."""
    return multiply(dy, add(square(op.outputs[0]), 1))


@RegisterGradient("Erf")
def _erf_grad(op, dy):
    """d erf(x) = 2/sqrt(pi) * exp(-x^2)."""
    x = op.inputs[0]
    return multiply(dy, multiply(exp(negative(square(x))), 2 / math.sqrt(math.pi)))


for _op_type in ("Floor", "Ceil", "Round", "IsFinite", "IsNan"):
    no_gradient(_op_type)

# ---- backward ops with kernels of their own (DESIGN.md section 2) ---------------------------

tanh_grad = backward_op("TanhGrad", "tanh_grad")
sigmoid_grad = backward_op("SigmoidGrad", "sigmoid_grad")


@RegisterGradient("Tanh")
def _tanh_grad(op, dy):
    """d tanh(x) = 1 - tanh(x)^2."""
    return tanh_grad(op.outputs[0], dy)


@RegisterGradient("TanhGrad")
def _tanh_grad_grad(op, g):
    """z = dy*(1-y^2): dz/dy = -2*y*dy, dz/d(dy) = 1-y^2."""
    y, dy = op.inputs
    return multiply(g, multiply(multiply(y, dy), -2)), tanh_grad(y, g)


@RegisterGradient("Sigmoid")
def _sigmoid_grad(op, dy):
    """d sigmoid(x) = sigmoid(x) * (1 - sigmoid(x))."""
    return sigmoid_grad(op.outputs[0], dy)


@RegisterGradient("SigmoidGrad")
def _sigmoid_grad_grad(op, g):
    """z = dy*y*(1-y): dz/dy = dy*(1-2y), dz/d(dy) = y*(1-y)."""
    y, dy = op.inputs
    return multiply(g, multiply(dy, subtract(1, multiply(y, 2)))), sigmoid_grad(y, g)


# ---- comparisons and logic (never differentiable) -------------------------------------------

equal = binary_op("Equal", "equal", ANY, dtypes.bool_, api="gc.equal")
not_equal = binary_op("NotEqual", "not_equal", ANY, dtypes.bool_, api="gc.not_equal")
less = binary_op("Less", "less", NUMERIC, dtypes.bool_, api="gc.less")
less_equal = binary_op("LessEqual", "less_equal", NUMERIC, dtypes.bool_, api="gc.less_equal")
greater = binary_op("Greater", "greater", NUMERIC, dtypes.bool_, api="gc.greater")
greater_equal = binary_op("GreaterEqual", "greater_equal", NUMERIC, dtypes.bool_, api="gc.greater_equal")
logical_and = binary_op("LogicalAnd", "logical_and", BOOL, api="gc.logical_and")
logical_or = binary_op("LogicalOr", "logical_or", BOOL, api="gc.logical_or")
logical_not = unary_op("LogicalNot", "logical_not", BOOL, api="gc.logical_not")

for _op_type in ("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual",
                 "LogicalAnd", "LogicalOr", "LogicalNot"):
    no_gradient(_op_type)


def logical_xor(x, y, name=None):
    """x != y on bools."""
    x, y = operands(x, y, "gc.math.logical_xor")
    check_kind("gc.math.logical_xor", x, BOOL)
    return not_equal(x, y)


# ---- where and cast ---------------------------------------------------------------------


def where(condition, x=None, y=None, name=None):
    """Elements of ``x`` where ``condition`` holds, else of ``y`` (all three broadcast)."""
    from gradcore.ops.dispatch import broadcast_shape, same_backend

    if x is None and y is None:
        raise NotImplementedError("gc.where(condition) without x and y (coordinates) is not supported yet")
    if x is None or y is None:
        raise ValueError("gc.where: x and y must both be given or both be None")
    x, y = operands(x, y, "gc.where")
    condition = to_tensor(condition, backend=x._backend, op_name="gc.where")
    check_kind("gc.where (condition)", condition, BOOL)
    backend = same_backend("gc.where", (condition, x, y))
    shape = broadcast_shape(tuple(condition._value.shape), tuple(x._value.shape), "gc.where")
    broadcast_shape(shape, tuple(y._value.shape), "gc.where")
    z = wrap(backend.where(condition._value, x._value, y._value), x._dtype, backend)
    if state.recording:
        record("SelectV2", (condition, x, y), (z,))
    return z


@RegisterGradient("SelectV2")
def _where_grad(op, dy):
    condition, x, y = op.inputs
    zero = zeros_like_raw(dy)
    return None, unbroadcast(where(condition, dy, zero), x.shape), unbroadcast(where(condition, zero, dy), y.shape)


def cast(x, dtype, name=None):
    """``x`` converted to ``dtype``; floats to ints truncate toward zero."""
    dtype = dtypes.as_dtype(dtype)
    x = to_tensor(x, op_name="gc.cast")
    if x._dtype is dtype:
        return x
    backend = x._backend
    y = wrap(backend.cast(x._value, dtype), dtype, backend)
    if state.recording:
        record("Cast", (x,), (y,))
    return y


@RegisterGradient("Cast")
def _cast_grad(op, dy):
    """Cast back to the source dtype; no gradient into non-float sources (#65, #129)."""
    source = op.inputs[0]
    if not (source.dtype.is_floating and dy.dtype.is_floating):
        return None
    return cast(dy, source.dtype)


def zeros_like_raw(x):
    """Zeros shaped like ``x``, made without recording (a constant, used inside rules)."""
    return wrap(x._backend.zeros(tuple(x._value.shape), x._dtype, x._backend.device_of(x._value)), x._dtype, x._backend)


def add_n(inputs, name=None):
    """The sum of a list of same-shaped tensors."""
    if not inputs:
        raise ValueError("gc.math.add_n: inputs must be a non-empty list of tensors")
    total = inputs[0]
    for t in inputs[1:]:
        total = add(total, t)
    return to_tensor(total)


def divide_no_nan(x, y, name=None):
    """x / y, and 0 where y == 0, as ``tf.math.divide_no_nan`` (a metric with no data reads 0, #205)."""
    empty = equal(y, 0)
    return where(empty, 0.0, divide(x, where(empty, 1.0, y)))


def squared_difference(x, y, name=None):
    """(x - y)^2, as ``tf.math.squared_difference``."""
    return square(subtract(x, y))
