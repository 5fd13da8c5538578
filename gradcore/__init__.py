"""gradcore: TensorFlow 2's eager autodiff and training workflow on swappable backends.

``import gradcore as gc`` then use TensorFlow's names: ``gc.GradientTape``,
``gc.Variable``, ``gc.reduce_sum``, ``gc.nn.relu`` ... This module only
re-exports; the code lives in the modules named below, layer by layer
(docs/architecture.md).
"""

# ---- errors and dtypes ----
from gradcore import errors
from gradcore.errors import (
    BackendError,
    BackendUnavailableError,
    DTypeError,
    GradcoreError,
    InvalidArgumentError,
    OperatorNotAllowedInGraphError,
    ResourceExhaustedError,
    ShapeError,
    UnimplementedError,
)
from gradcore.engine import dtypes, nest
from gradcore.engine.dtypes import (
    DType,
    as_dtype,
    bfloat16,
    bool_ as bool,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)

# ---- the plugin layer: the backend contract and backend selection ----
from gradcore.plugin.contract import Backend, required_kernels
from gradcore.plugin.discovery import backend_scope, get_backend, hookimpl, hookspec, set_backend
from gradcore.ops.kernels import force_composites

# ---- the engine: tensors, variables, the tape, the registry ----
from gradcore.engine.tensor import Tensor
from gradcore.engine.convert import convert_to_tensor, device
from gradcore.engine.variables import Variable, VariableAggregation, VariableSynchronization
from gradcore.engine.tape import GradientTape, UnconnectedGradients
from gradcore.engine.registry import RegisterGradient, no_gradient
from gradcore.engine.custom_gradient import custom_gradient
from gradcore.engine.module import Module

# ---- ops ----
from gradcore.ops import operators
from gradcore.ops.creation_ops import (
    constant, eye, fill, lin_space, linspace, ones, ones_like, range, zeros, zeros_like,
)
from gradcore.ops.math_ops import (
    abs,
    acos,
    acosh,
    add,
    add_n,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    cast,
    ceil,
    cos,
    cosh,
    divide,
    equal,
    exp,
    floor,
    greater,
    greater_equal,
    less,
    less_equal,
    log,  # TF 2 has it only as tf.math.log; ported TF 1 code calls tf.log (docs/deviations.md)
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    pow,
    realdiv,
    round,
    scalar_mul,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    truediv,
    where,
)
from gradcore.ops.reduction_ops import (
    argmax,
    argmin,
    reduce_all,
    reduce_any,
    reduce_logsumexp,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_std,
    reduce_sum,
    reduce_variance,
)
from gradcore.ops.array_ops import (
    broadcast_to,
    concat,
    expand_dims,
    identity,
    one_hot,
    pad,
    rank,
    reshape,
    shape,
    size,
    split,
    squeeze,
    stack,
    stop_gradient,
    tile,
    transpose,
    unstack,
)
from gradcore.ops.indexing_ops import gather
from gradcore.ops.scan_ops import cumsum
from gradcore.ops.manipulation_ops import boolean_mask, meshgrid, repeat, reverse, roll, sequence_mask
from gradcore.ops.scatter_ops import gather_nd, scatter_nd, tensor_scatter_nd_add, tensor_scatter_nd_update
from gradcore.ops.sorting_ops import argsort, searchsorted, sort
from gradcore.ops.linalg_ops import matmul
from gradcore.ops.einsum_ops import einsum, tensordot
from gradcore.ops.norm_ops import norm
from gradcore.ops.clip_ops import clip_by_average_norm, clip_by_global_norm, clip_by_norm, clip_by_value
from gradcore.function.control_flow import cond, while_loop
from gradcore.function.function import function
from gradcore.function.signature import TensorSpec

# ---- TensorFlow's namespaces ----
from gradcore import autodiff, linalg, math, nn, random

# ---- the Keras-style training toolkit ----
from gradcore import data, debugging, initializers, layers, losses, metrics, optimizers, regularizers

# ---- checkpoints and TensorBoard summaries ----
from gradcore import summary, train

# ---- distribution strategies ----
from gradcore import distribute
from gradcore.layers.models import Model, Sequential

__version__ = "0.1.0"
