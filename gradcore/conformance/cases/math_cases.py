"""Cases for elementwise math (gradcore/ops/math_ops.py).

Every binary op runs on broadcasting shapes, so each case also checks that its
gradient rule undoes broadcasting. Inputs keep away from the points where an
op is not differentiable (0 for abs, ties for maximum, integers for floormod),
so central differences measure the true derivative.
"""

import numpy as np
from scipy import special

import gradcore as gc
from gradcore.ops import math_ops

from . import OpCase, normal, uniform


def signed(low, high, *shapes):
    """Floats with |x| in [low, high) and random signs: away from 0."""
    return lambda rng: [rng.uniform(low, high, size=s) * rng.choice([-1.0, 1.0], size=s) for s in shapes]


def small_integers(*shapes):
    """Whole numbers stored as floats, so comparisons meet ties."""
    return lambda rng: [rng.integers(-2, 3, size=s).astype(np.float64) for s in shapes]


def int32s(low, high, *shapes):
    return lambda rng: [rng.integers(low, high, size=s).astype(np.int32) for s in shapes]


def nonzero_int32s(*shapes):
    return lambda rng: [
        (rng.integers(1, 6, size=s) * rng.choice([-1, 1], size=s)).astype(np.int32) for s in shapes
    ]


def bools(*shapes):
    return lambda rng: [rng.random(size=s) < 0.5 for s in shapes]


def select_inputs(rng):
    return [rng.random(size=(3, 1)) < 0.5, rng.normal(size=(3, 4)), rng.normal(size=(4,))]


def with_non_finite(rng):
    x = rng.normal(size=(2, 4))
    x[0, 1], x[1, 0], x[1, 3] = np.nan, np.inf, -np.inf
    return [x]


def floormod_inputs(rng):
    # x/y stays at least 0.05 from an integer, where floormod jumps.
    y = rng.uniform(0.5, 2.0, size=(4,)) * rng.choice([-1.0, 1.0], size=(4,))
    quotient = rng.integers(-3, 3, size=(3, 4)) + rng.uniform(0.05, 0.95, size=(3, 4))
    return [quotient * y, y]


BINARY = [  # (name, op types, gc function, reference, inputs): all differentiable in both inputs
    ("add", ("AddV2",), gc.add, np.add, normal((3, 1), (4,))),
    ("subtract", ("Sub",), gc.subtract, np.subtract, normal((2, 3), ())),
    ("multiply-broadcast", ("Mul",), gc.multiply, np.multiply, normal((3, 1), (4,))),
    ("divide", ("RealDiv",), gc.divide, np.divide,
     lambda rng: [rng.normal(size=(4,)), signed(0.5, 2.0, (3, 1))(rng)[0]]),
    ("realdiv", ("RealDiv",), gc.realdiv, np.divide,
     lambda rng: [rng.normal(size=(4,)), signed(0.5, 2.0, (3, 1))(rng)[0]]),
    ("floormod", ("FloorMod",), gc.math.floormod, np.mod, floormod_inputs),
    ("pow", ("Pow",), gc.pow, np.power, lambda rng: [rng.uniform(0.5, 2.0, size=(2, 3)), rng.normal(size=(3,))]),
    ("maximum", ("Maximum",), gc.maximum, np.maximum, normal((3, 4), (4,))),
    ("minimum", ("Minimum",), gc.minimum, np.minimum, normal((1, 4), (3, 1))),
]

UNARY = [  # (name, op types, gc function, reference, inputs): differentiable
    ("negative", ("Neg",), gc.negative, np.negative, normal((3, 4))),
    ("abs", ("Abs",), gc.abs, np.abs, signed(0.2, 2.0, (3, 4))),
    ("sign", ("Sign",), gc.sign, np.sign, signed(0.2, 2.0, (3, 4))),
    ("square", ("Square",), gc.square, np.square, normal((3, 4))),
    ("sqrt", ("Sqrt",), gc.sqrt, np.sqrt, uniform(0.5, 3.0, (3, 4))),
    ("rsqrt", ("Rsqrt",), gc.math.rsqrt, lambda x: 1 / np.sqrt(x), uniform(0.5, 3.0, (3, 4))),
    ("reciprocal", ("Reciprocal",), gc.math.reciprocal, np.reciprocal, signed(0.5, 2.0, (3, 4))),
    ("exp", ("Exp",), gc.exp, np.exp, normal((3, 4))),
    ("log", ("Log",), gc.math.log, np.log, uniform(0.5, 3.0, (5,))),
    ("log1p", ("Log1p",), gc.math.log1p, np.log1p, uniform(-0.5, 2.0, (3, 4))),
    ("expm1", ("Expm1",), gc.math.expm1, np.expm1, normal((3, 4))),
    ("sin", ("Sin",), gc.sin, np.sin, normal((3, 4))),
    ("cos", ("Cos",), gc.cos, np.cos, normal((3, 4))),
    ("tan", ("Tan",), gc.tan, np.tan, uniform(-1.2, 1.2, (3, 4))),
    ("tanh", ("Tanh", "TanhGrad"), gc.tanh, np.tanh, normal((3, 4))),
    ("sigmoid", ("Sigmoid", "SigmoidGrad"), gc.sigmoid, special.expit, normal((3, 4))),
    ("erf", ("Erf",), gc.math.erf, special.erf, normal((3, 4))),
]

NOT_DIFFERENTIABLE = [  # (name, op types, gc function, reference, inputs, dtypes): grad=()
    ("floor", ("Floor",), gc.floor, np.floor, uniform(-3.0, 3.0, (3, 4)), None),
    ("ceil", ("Ceil",), gc.math.ceil, np.ceil, uniform(-3.0, 3.0, (3, 4)), None),
    ("round", ("Round",), gc.round, np.round, uniform(-3.0, 3.0, (3, 4)), None),
    ("round-half-to-even", ("Round",), gc.round, np.round,
     lambda rng: [np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])], None),
    ("floordiv", ("FloorDiv",), gc.math.floordiv, np.floor_divide, floormod_inputs, None),
    ("is-finite", ("IsFinite",), gc.math.is_finite, np.isfinite, with_non_finite, None),
    ("is-nan", ("IsNan",), gc.math.is_nan, np.isnan, with_non_finite, None),
    ("equal", ("Equal",), gc.equal, np.equal, small_integers((3, 4), (4,)), None),
    ("not-equal", ("NotEqual",), gc.not_equal, np.not_equal, small_integers((3, 1), (4,)), None),
    ("less", ("Less",), gc.less, np.less, small_integers((3, 4), ()), None),
    ("less-equal", ("LessEqual",), gc.less_equal, np.less_equal, small_integers((4,), (3, 4)), None),
    ("greater", ("Greater",), gc.greater, np.greater, small_integers((2, 3, 4), (3, 1)), None),
    ("greater-equal", ("GreaterEqual",), gc.greater_equal, np.greater_equal, small_integers((1, 4), (3, 1)), None),
    ("logical-and", ("LogicalAnd",), gc.logical_and, np.logical_and, bools((3, 4), (4,)), ("bool",)),
    ("logical-or", ("LogicalOr",), gc.logical_or, np.logical_or, bools((3, 1), (4,)), ("bool",)),
    ("logical-not", ("LogicalNot",), gc.logical_not, np.logical_not, bools((3, 4)), ("bool",)),
    ("logical-xor", ("NotEqual",), gc.math.logical_xor, np.logical_xor, bools((3, 4), (1, 4)), ("bool",)),
    # Integer arithmetic: exact, and never on a tape.
    ("add-int", ("AddV2",), gc.add, np.add, int32s(-5, 5, (3, 1), (4,)), ("int32",)),
    ("multiply-int", ("Mul",), gc.multiply, np.multiply, int32s(-5, 5, (3, 4), ()), ("int32",)),
    ("floordiv-int", ("FloorDiv",), gc.math.floordiv, np.floor_divide,
     lambda rng: [rng.integers(-9, 9, size=(3, 4)).astype(np.int32), nonzero_int32s((4,))(rng)[0]], ("int32",)),
    ("floormod-int", ("FloorMod",), gc.math.floormod, np.mod,
     lambda rng: [rng.integers(-9, 9, size=(3, 4)).astype(np.int32), nonzero_int32s((4,))(rng)[0]], ("int32",)),
    # TensorFlow's truediv: int32 / int32 is float64 (the no-promotion rule does not apply to /).
    ("divide-int32-to-float64", ("RealDiv", "Cast"), gc.divide, np.true_divide,
     lambda rng: [rng.integers(-9, 9, size=(3, 4)).astype(np.int32), nonzero_int32s((4,))(rng)[0]], ("int32",)),
    ("sign-int", ("Sign",), gc.sign, np.sign, int32s(-3, 4, (3, 4)), ("int32",)),
    ("abs-int", ("Abs",), gc.abs, np.abs, int32s(-3, 4, (3, 4)), ("int32",)),
    ("negative-int", ("Neg",), gc.negative, np.negative, int32s(-3, 4, (3, 4)), ("int32",)),
    ("cast-float-to-int", ("Cast",), lambda x: gc.cast(x, gc.int32), lambda x: x.astype(np.int32),
     uniform(-5.0, 5.0, (3, 4)), None),  # truncation toward zero
    ("cast-int-to-float", ("Cast",), lambda x: gc.cast(x, gc.float32), lambda x: x.astype(np.float32),
     int32s(-100, 100, (3, 4)), ("int32",)),
]


def _binary(name, ops, fn, reference, inputs):
    return OpCase(name, ops, fn, reference, inputs, grad=(0, 1))


def _unary(name, ops, fn, reference, inputs):
    return OpCase(name, ops, fn, reference, inputs)


def _not_differentiable(name, ops, fn, reference, inputs, case_dtypes):
    extra = {} if case_dtypes is None else {"dtypes": case_dtypes}
    return OpCase(name, ops, fn, reference, inputs, grad=(), **extra)


CASES = (
    [_binary(*row) for row in BINARY]
    + [_unary(*row) for row in UNARY]
    + [_not_differentiable(*row) for row in NOT_DIFFERENTIABLE]
    + [
        # The backward ops themselves, differentiated in both arguments (their rules).
        OpCase("tanh-grad", ("TanhGrad",), math_ops.tanh_grad, lambda y, dy: dy * (1 - y * y),
               lambda rng: [np.tanh(rng.normal(size=(3, 4))), rng.normal(size=(3, 4))], grad=(0, 1)),
        OpCase("sigmoid-grad", ("SigmoidGrad",), math_ops.sigmoid_grad, lambda y, dy: dy * y * (1 - y),
               lambda rng: [special.expit(rng.normal(size=(3, 4))), rng.normal(size=(3, 4))], grad=(0, 1)),
        OpCase("where", ("SelectV2",), gc.where, np.where, select_inputs, grad=(1, 2)),
        # The same op on a Variable: the ReadVariableOp path in front of a rule.
        OpCase("multiply-variable", ("Mul", "ReadVariableOp"), gc.multiply, np.multiply, normal((3, 1), (4,)),
               grad=(0, 1), variables=(0,)),
        # Cast between floats: the gradient is cast back to the source dtype, as TF's _CastGrad. From float64 the
        # cast is the identity, so finite differences see no rounding; the float32 run exercises Cast.
        OpCase("cast-float-to-float64", ("Cast",), lambda x: gc.square(gc.cast(x, gc.float64)),
               np.square, normal((3, 4))),
    ]
)
