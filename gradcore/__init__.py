"""gradcore: TensorFlow 2's eager autodiff and training workflow on swappable backends.

``import gradcore as gc`` then use TensorFlow's names: ``gc.GradientTape``,
``gc.Variable``, ``gc.reduce_sum``, ``gc.nn.relu`` ... This module only
re-exports; the code lives in the modules named below.
"""

# ---- namespaces ----
# ---- the training toolkit (one line per owner; see each module) ----
from gradcore import (  # noqa: E402,A004  # noqa: E402
    autodiff,
    data,
    debugging,
    initializers,
    layers,  # noqa: E402
    linalg,
    losses,
    math,
    metrics,
    nn,
    optimizers,
    random,
    regularizers,
)
from gradcore.engine import dtypes, nest
from gradcore.engine.convert import constant, convert_to_tensor, device
from gradcore.engine.custom_gradient import custom_gradient
from gradcore.engine.dtypes import (
    DType,
    as_dtype,
    bfloat16,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    uint8,
)
from gradcore.engine.dtypes import (
    bool_ as bool,  # noqa: A001 - gc.bool mirrors tf.bool
)
from gradcore.engine.module import Module  # noqa: E402
from gradcore.engine.registry import RegisterGradient, no_gradient
from gradcore.engine.tape import GradientTape, UnconnectedGradients
from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable
from gradcore.errors import (
    BackendError,
    BackendUnavailableError,
    DTypeError,
    GradcoreError,
    InvalidArgumentError,
    ShapeError,
)
from gradcore.layers.models import Model, Sequential  # noqa: E402

# ---- ops: arrays (array_ops, indexing_ops, creation_ops) ----
from gradcore.ops.array_ops import (
    broadcast_to,
    concat,
    expand_dims,
    identity,
    one_hot,
    pad,
    reshape,
    split,
    squeeze,
    stack,
    stop_gradient,
    tile,
    transpose,
    unstack,
)

# ---- ops: clipping (clip_ops) ----
from gradcore.ops.clip_ops import clip_by_average_norm, clip_by_global_norm, clip_by_norm, clip_by_value
from gradcore.ops.creation_ops import eye, fill, ones, ones_like, range, zeros, zeros_like  # noqa: A004
from gradcore.ops.indexing_ops import gather

# ---- ops: linear algebra (linalg_ops) ----
from gradcore.ops.linalg_ops import matmul

# ---- ops: math (math_ops) ----
from gradcore.ops.math_ops import (
    abs,  # noqa: A004
    add,
    add_n,
    cast,
    ceil,
    cos,
    divide,
    equal,
    exp,
    floor,
    greater,
    greater_equal,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    pow,  # noqa: A004
    round,  # noqa: A004
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    where,
)

# ---- ops: reductions (reduction_ops) ----
from gradcore.ops.reduction_ops import (
    argmax,
    argmin,
    reduce_logsumexp,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_std,
    reduce_sum,
    reduce_variance,
)
from gradcore.plugin.contract import Backend, force_composites, required_kernels
from gradcore.plugin.discovery import backend_scope, get_backend, hookimpl, hookspec, set_backend

__version__ = "0.1.0"
