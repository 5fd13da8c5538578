"""Elementwise math: arithmetic, transcendental functions, comparisons, casts.

Each op is built by a factory from ``factories`` and its gradient rule sits
right under it, written with gradcore ops so it is itself differentiable.
Op type names are TensorFlow's, so ``RegisterGradient("Square")`` means what
a TensorFlow user expects.
"""

import functools
import math

from gradcore.engine import dtypes
from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import record, state
from gradcore.engine.registry import RegisterGradient, no_gradient
from gradcore.errors import InvalidArgumentError, ShapeError
from gradcore.ops.factories import backward_op, binary_op, unary_op
from gradcore.ops.kernels import check_on_host, run_kernel
from gradcore.ops.operands import ANY, BOOL, FLOAT, NUMERIC, broadcast_shape, check_kind, operands, same_backend
from gradcore.ops.rules import broadcasting_rule, unary_rule, unbroadcast

# ---- arithmetic --------------------------------------------------------------------------

add = binary_op("AddV2", "add", ANY - BOOL, api="gc.add")
subtract = binary_op("Sub", "subtract", NUMERIC, api="gc.subtract")
multiply = binary_op("Mul", "multiply", NUMERIC, api="gc.multiply")
_real_div = binary_op("RealDiv", "divide", FLOAT, api="gc.divide")
_floordiv = binary_op("FloorDiv", "floor_divide", NUMERIC, api="gc.math.floordiv")
_floormod = binary_op("FloorMod", "floor_mod", NUMERIC, api="gc.math.floormod")
_pow = binary_op("Pow", "power", NUMERIC, api="gc.pow")
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


def floordiv(x, y, name=None):
    """x // y rounded toward -inf; an integer division by zero is an error, as in TensorFlow."""
    x, y = operands(x, y, "gc.math.floordiv")
    if not x._dtype.is_floating:
        _check_no_zero_divisor("gc.math.floordiv", y)
    return _floordiv(x, y)


def floormod(x, y, name=None):
    """x mod y with the sign of y (Python's %); an integer modulus of zero is an error, as in TensorFlow."""
    x, y = operands(x, y, "gc.math.floormod")
    if not x._dtype.is_floating:
        _check_no_zero_divisor("gc.math.floormod", y)
    return _floormod(x, y)


def pow(x, y, name=None):
    """x ** y elementwise; integers to negative integer powers are an error, as in TensorFlow."""
    x, y = operands(x, y, "gc.pow")
    if x._dtype.kind == "int":
        check_on_host(functools.partial(_refuse_negative_exponent, y._dtype, y.shape), y)
    return _pow(x, y)


def _check_no_zero_divisor(api, y):
    # Backends disagree here (NumPy gives 0, JAX -1 or garbage, torch raises), so the core checks on the host.
    check_on_host(functools.partial(_refuse_zero_divisor, api, y._dtype, y.shape), y)


def _refuse_zero_divisor(api, dtype, shape, divisor):
    if (divisor == 0).any():
        raise InvalidArgumentError(
            f"{api}: integer division by zero (divisor of dtype {dtype.name} and shape {shape} holds 0)"
        )


def _refuse_negative_exponent(dtype, shape, exponent):
    if (exponent < 0).any():
        raise InvalidArgumentError(
            f"gc.pow: integers to negative integer powers are not allowed (exponent of dtype {dtype.name} "
            f"and shape {shape} holds a negative value); cast to a float dtype first"
        )




broadcasting_rule("AddV2", lambda dy, x, y, z: dy, lambda dy, x, y, z: dy)
broadcasting_rule("Sub", lambda dy, x, y, z: dy, lambda dy, x, y, z: negative(dy))
broadcasting_rule("Mul", lambda dy, x, y, z: multiply(dy, y), lambda dy, x, y, z: multiply(dy, x))
# d(x/y) = dy/y, -dy*x/y^2
broadcasting_rule("RealDiv", lambda dy, x, y, z: _real_div(dy, y),
                  lambda dy, x, y, z: negative(multiply(dy, _real_div(_real_div(x, y), y))))
# x mod y = x - floor(x/y)*y, so d/dx = 1 and d/dy = -floor(x/y)
broadcasting_rule("FloorMod", lambda dy, x, y, z: dy, lambda dy, x, y, z: negative(multiply(dy, _floordiv(x, y))))


def _pow_grad_base(dy, x, y, z):
    """d x^y / dx = y * x^(y-1)."""
    return multiply(dy, multiply(y, _pow(x, subtract(y, 1))))


def _pow_grad_exponent(dy, x, y, z):
    """d x^y / dy = x^y * log(x), with log(x) taken as 0 where x <= 0 (so 0 at base 0, as TensorFlow)."""
    positive = greater(x, 0)
    log_x = where(positive, log(where(positive, x, 1)), zeros_like_raw(x))
    return multiply(dy, multiply(z, log_x))


broadcasting_rule("Pow", _pow_grad_base, _pow_grad_exponent)


@RegisterGradient("Maximum")
def _maximum_grad(op, dy):
    """The gradient goes to x where x >= y (ties to the first argument, as TF), else to y."""
    x, y = op.inputs
    return _select_grads(greater_equal(x, y), dy, x, y)


@RegisterGradient("Minimum")
def _minimum_grad(op, dy):
    x, y = op.inputs
    return _select_grads(less_equal(x, y), dy, x, y)


def _select_grads(to_x, dy, x, y):
    zero = zeros_like_raw(dy)
    return unbroadcast(where(to_x, dy, zero), x.shape), unbroadcast(where(to_x, zero, dy), y.shape)


unary_rule("Neg", lambda dy, x, y: negative(dy))


no_gradient("FloorDiv")

# ---- one-input math -------------------------------------------------------------------------

abs = unary_op("Abs", "abs", NUMERIC, api="gc.abs")
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
round = unary_op("Round", "round", NUMERIC, api="gc.round")
is_finite = unary_op("IsFinite", "isfinite", FLOAT, dtypes.bool_, api="gc.math.is_finite")
is_nan = unary_op("IsNan", "isnan", FLOAT, dtypes.bool_, api="gc.math.is_nan")
is_inf = unary_op("IsInf", "isinf", FLOAT, dtypes.bool_, api="gc.math.is_inf")
asin = unary_op("Asin", "asin", FLOAT, api="gc.math.asin")
acos = unary_op("Acos", "acos", FLOAT, api="gc.math.acos")
atan = unary_op("Atan", "atan", FLOAT, api="gc.math.atan")
sinh = unary_op("Sinh", "sinh", FLOAT, api="gc.math.sinh")
cosh = unary_op("Cosh", "cosh", FLOAT, api="gc.math.cosh")
asinh = unary_op("Asinh", "asinh", FLOAT, api="gc.math.asinh")
acosh = unary_op("Acosh", "acosh", FLOAT, api="gc.math.acosh")
atanh = unary_op("Atanh", "atanh", FLOAT, api="gc.math.atanh")
atan2 = binary_op("Atan2", "atan2", FLOAT, api="gc.math.atan2",
                  doc="atan2(y, x): the angle of the point (x, y), in [-pi, pi], as ``tf.math.atan2``.")


unary_rule("Abs", lambda dy, x, y: multiply(dy, sign(x)))
# Zero almost everywhere; registered (not no_gradient) as in TensorFlow, where sign's gradient is zeros.
unary_rule("Sign", lambda dy, x, y: zeros_like_raw(x))
unary_rule("Square", lambda dy, x, y: multiply(dy, multiply(x, 2)))
# dy / (2 sqrt(x)), taken as 0 where dy is 0 (TensorFlow's SqrtGrad: sqrt behind a where stays finite at 0)
unary_rule("Sqrt", lambda dy, x, y: where(equal(dy, 0), zeros_like_raw(dy), _real_div(multiply(dy, 0.5), y)))
unary_rule("Rsqrt", lambda dy, x, y: multiply(dy, multiply(multiply(y, square(y)), -0.5)))  # d x^-1/2 = -y^3/2
unary_rule("Reciprocal", lambda dy, x, y: negative(multiply(dy, square(y))))
unary_rule("Exp", lambda dy, x, y: multiply(dy, y))
unary_rule("Log", lambda dy, x, y: _real_div(dy, x))
unary_rule("Log1p", lambda dy, x, y: _real_div(dy, add(x, 1)))
unary_rule("Expm1", lambda dy, x, y: multiply(dy, add(y, 1)))
unary_rule("Sin", lambda dy, x, y: multiply(dy, cos(x)))
unary_rule("Cos", lambda dy, x, y: negative(multiply(dy, sin(x))))
unary_rule("Tan", lambda dy, x, y: multiply(dy, add(square(y), 1)))  # d tan(x) = 1 + tan(x)^2
# d erf(x) = 2/sqrt(pi) * exp(-x^2)
unary_rule("Erf", lambda dy, x, y: multiply(dy, multiply(exp(negative(square(x))), 2 / math.sqrt(math.pi))))

# d asin = 1/sqrt(1 - x^2), d acos = -1/sqrt(1 - x^2), d atan = 1/(1 + x^2)
unary_rule("Asin", lambda dy, x, y: _real_div(dy, sqrt(subtract(1, square(x)))))
unary_rule("Acos", lambda dy, x, y: negative(_real_div(dy, sqrt(subtract(1, square(x))))))
unary_rule("Atan", lambda dy, x, y: _real_div(dy, add(square(x), 1)))
unary_rule("Sinh", lambda dy, x, y: multiply(dy, cosh(x)))
unary_rule("Cosh", lambda dy, x, y: multiply(dy, sinh(x)))
# d asinh = 1/cosh(y), d acosh = 1/sinh(y) (TensorFlow's forms: no x^2 to overflow), d atanh = 1/(1 - x^2)
unary_rule("Asinh", lambda dy, x, y: _real_div(dy, cosh(y)))
unary_rule("Acosh", lambda dy, x, y: _real_div(dy, sinh(y)))
unary_rule("Atanh", lambda dy, x, y: _real_div(dy, subtract(1, square(x))))
# atan2(y, x): d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2)
broadcasting_rule("Atan2", lambda dy, y, x, z: multiply(dy, _real_div(x, add(square(x), square(y)))),
                  lambda dy, y, x, z: negative(multiply(dy, _real_div(y, add(square(x), square(y))))))

for _op_type in ("Floor", "Ceil", "Round", "IsFinite", "IsNan", "IsInf"):
    no_gradient(_op_type)

# ---- backward ops with kernels of their own (docs/architecture.md section 5) --------------

tanh_grad = backward_op("TanhGrad", "tanh_grad")
sigmoid_grad = backward_op("SigmoidGrad", "sigmoid_grad")


unary_rule("Tanh", lambda dy, x, y: tanh_grad(y, dy))  # d tanh(x) = 1 - tanh(x)^2


@RegisterGradient("TanhGrad")
def _tanh_grad_grad(op, g):
    """z = dy*(1-y^2): dz/dy = -2*y*dy, dz/d(dy) = 1-y^2."""
    y, dy = op.inputs
    return multiply(g, multiply(multiply(y, dy), -2)), tanh_grad(y, g)


unary_rule("Sigmoid", lambda dy, x, y: sigmoid_grad(y, dy))  # d sigmoid(x) = sigmoid(x) * (1 - sigmoid(x))


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
    z = run_kernel("gc.where", backend, "where", x._dtype, condition._value, x._value, y._value)
    if state.recording:
        record("SelectV2", (condition, x, y), (z,))
    return z


@RegisterGradient("SelectV2")
def _where_grad(op, dy):
    condition, x, y = op.inputs
    zero = zeros_like_raw(dy)
    # A branch that needs no gradient (dropout's constant 0) costs no where and no sum.
    dx = unbroadcast(where(condition, dy, zero), x.shape) if op.needs_gradient(1) else None
    dy_ = unbroadcast(where(condition, zero, dy), y.shape) if op.needs_gradient(2) else None
    return None, dx, dy_


def cast(x, dtype, name=None):
    """``x`` converted to ``dtype``; floats to ints truncate toward zero."""
    dtype = dtypes.as_dtype(dtype)
    x = to_tensor(x, op_name="gc.cast")
    if x._dtype is dtype:
        return x
    y = run_kernel("gc.cast", x._backend, "cast", dtype, x._value, dtype)
    if state.recording:
        record("Cast", (x,), (y,))
    return y


@RegisterGradient("Cast")
def _cast_grad(op, dy):
    """Cast back to the source dtype; no gradient into non-float sources, as TF's _CastGrad."""
    source = op.inputs[0]
    if not (source.dtype.is_floating and dy.dtype.is_floating):
        return None
    return cast(dy, source.dtype)


def zeros_like_raw(x):
    """Zeros shaped like ``x``, made without recording (a constant, used inside rules)."""
    backend = x._backend
    return run_kernel("gc.zeros_like", backend, "zeros", x._dtype, tuple(x._value.shape), x._dtype,
                      backend.device_of(x._value))


def add_n(inputs, name=None):
    """The sum of a list of same-shaped tensors."""
    if not inputs:
        raise ValueError("gc.math.add_n: inputs must be a non-empty list of tensors")
    total = inputs[0]
    for t in inputs[1:]:
        total = add(total, t)
    return to_tensor(total)


def divide_no_nan(x, y, name=None):
    """x / y, and 0 where y == 0, as ``tf.math.divide_no_nan`` (a metric with no data reads 0)."""
    empty = equal(y, 0)
    return where(empty, 0.0, divide(x, where(empty, 1.0, y)))


def squared_difference(x, y, name=None):
    """(x - y)^2, as ``tf.math.squared_difference``."""
    return square(subtract(x, y))


realdiv = binary_op(
    "RealDiv", "divide", FLOAT, api="gc.realdiv",
    doc="x / y for floating-point x and y, as ``tf.realdiv``; integers are refused (gc.math.truediv divides "
        "them as floats, gc.math.floordiv as integers) rather than divided one way silently.")


def truediv(x, y, name=None):
    """x / y with integers divided as floats: ``tf.math.truediv``, the same op as ``divide``."""
    return divide(x, y)


def scalar_mul(scalar, x, name=None):
    """``scalar`` (a 0-d value) times ``x``, as ``tf.math.scalar_mul``."""
    if len(tuple(getattr(scalar, "shape", ()))) != 0:
        raise ShapeError(f"gc.scalar_mul: scalar must be 0-d, got shape {tuple(scalar.shape)}; "
                         "use gc.multiply to broadcast")
    return multiply(scalar, x)


def xlogy(x, y, name=None):
    """x * log(y), and 0 where x == 0 (even where y is 0), as ``tf.math.xlogy``.

    The inner where keeps log's gradient finite where x == 0 and y == 0: the outer where sends a 0
    there, which log's rule would turn into 0/0 = NaN; TensorFlow's gradient is 0.
    """
    x, y = operands(x, y, "gc.math.xlogy")
    check_kind("gc.math.xlogy", x, FLOAT)
    zero = equal(x, 0)
    return where(zero, zeros_like_raw(x), multiply(x, log(where(zero, 1.0, y))))


def xdivy(x, y, name=None):
    """x / y, and 0 where x == 0 (even where y is 0), as ``tf.math.xdivy``."""
    x, y = operands(x, y, "gc.math.xdivy")
    check_kind("gc.math.xdivy", x, FLOAT)
    zero = equal(x, 0)
    return where(zero, zeros_like_raw(x), _real_div(x, where(zero, 1.0, y)))
