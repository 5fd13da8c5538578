"""``JaxBackend``, assembled from the per-topic kernel mixins of this folder."""

from gradcore.backends.jax_backend.core import CoreKernels
from gradcore.backends.jax_backend.creation import CreationKernels
from gradcore.backends.jax_backend.elementwise import ElementwiseKernels
from gradcore.backends.jax_backend.linalg import LinalgKernels
from gradcore.backends.jax_backend.nn import NNKernels
from gradcore.backends.jax_backend.optimizers import OptimizerKernels
from gradcore.backends.jax_backend.reductions import ReductionKernels
from gradcore.backends.jax_backend.shapes import ShapeKernels
from gradcore.backends.jax_backend.windows import WindowKernels

from gradcore.plugin.contract import Backend


class JaxBackend(
    CoreKernels,
    CreationKernels,
    ElementwiseKernels,
    ReductionKernels,
    ShapeKernels,
    LinalgKernels,
    NNKernels,
    WindowKernels,
    OptimizerKernels,
    Backend,
):
    """Kernels on ``jax.Array``, run eagerly (op by op), one jax.numpy call each.

    Loading this backend turns on ``jax_enable_x64`` for the whole process (see
    ``CoreKernels.__init__``); float32 matmuls and convolutions ask for HIGHEST
    precision so GPUs and TPUs do not round through TF32/bfloat16.
    """

    name = "jax"
