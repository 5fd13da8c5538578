"""``TorchBackend``, assembled from the per-topic kernel mixins of this folder."""

from gradcore.backends.torch_backend.core import CoreKernels
from gradcore.backends.torch_backend.creation import CreationKernels
from gradcore.backends.torch_backend.elementwise import ElementwiseKernels
from gradcore.backends.torch_backend.linalg import LinalgKernels
from gradcore.backends.torch_backend.nn import NNKernels
from gradcore.backends.torch_backend.optimizers import OptimizerKernels
from gradcore.backends.torch_backend.reductions import ReductionKernels
from gradcore.backends.torch_backend.shapes import ShapeKernels
from gradcore.backends.torch_backend.windows import WindowKernels

from gradcore.plugin.contract import Backend


class TorchBackend(
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
    """Kernels on ``torch.Tensor``. Each method is one torch call or close to it.

    TF32 is switched off when this backend loads, so float32 matmuls on Ampere and
    later GPUs give float32 results, as on every other backend.
    """

    name = "torch"
