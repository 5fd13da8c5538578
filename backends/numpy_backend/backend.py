"""``NumpyBackend``, assembled from the per-topic kernel mixins of this folder."""

from gradcore.backends.numpy_backend.core import CoreKernels
from gradcore.backends.numpy_backend.creation import CreationKernels
from gradcore.backends.numpy_backend.elementwise import ElementwiseKernels
from gradcore.backends.numpy_backend.linalg import LinalgKernels
from gradcore.backends.numpy_backend.nn import NNKernels
from gradcore.backends.numpy_backend.optimizers import OptimizerKernels
from gradcore.backends.numpy_backend.reductions import ReductionKernels
from gradcore.backends.numpy_backend.shapes import ShapeKernels
from gradcore.backends.numpy_backend.windows import WindowKernels

from gradcore.plugin.contract import Backend


class NumpyBackend(
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
    """Kernels on ``np.ndarray``. Every method is one NumPy call or close to it."""

    name = "numpy"
