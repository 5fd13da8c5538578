"""``ArrayAPIBackend``, assembled from the per-topic kernel mixins of this package.

Every kernel is a call of a standard function through ``self.xp`` (or, where the standard
has none, a composition of them: composites.py), so the backend runs on any conforming
library. NumPy appears only at the border, turning host values into arrays and back (core.py).
"""

from gradcore import Backend, dtypes

from gradcore_arrayapi.core import CoreKernels
from gradcore_arrayapi.creation import CreationKernels
from gradcore_arrayapi.elementwise import ElementwiseKernels
from gradcore_arrayapi.linalg import LinalgKernels
from gradcore_arrayapi.namespace import STANDARD_DTYPES, load_namespace
from gradcore_arrayapi.reductions import ReductionKernels
from gradcore_arrayapi.shapes import ShapeKernels


class ArrayAPIBackend(
    CoreKernels,
    CreationKernels,
    ElementwiseKernels,
    ReductionKernels,
    ShapeKernels,
    LinalgKernels,
    Backend,
):
    """Kernels on the arrays of the namespace named by GRADCORE_ARRAYAPI_NAMESPACE.

    The optional kernels (softmax, conv2d, pooling, the optimizer updates ...) are the
    contract's composite defaults, written with the kernels here: none is overridden.
    """

    name = "arrayapi"
    # The declared gaps. Making an array of another dtype raises gradcore.UnimplementedError
    # (float16 and bfloat16 are not in the standard). Every required kernel is a standard
    # function or composed of them, so no kernel is declared missing; one named here would
    # raise UnimplementedError in place of the base class's method.
    dtypes = STANDARD_DTYPES
    unsupported_kernels = ()

    def __init__(self, module_name=None):
        self.namespace = load_namespace(module_name)
        self.xp = self.namespace.xp  # the only way any kernel reaches the array library
        self._to_xp = {dtypes.as_dtype(n): getattr(self.xp, n) for n in STANDARD_DTYPES}
        # dtype_of's table fills as dtypes are met: a namespace's dtype objects need not hash
        # like the ones its arrays carry (NumPy's ``np.float32`` is not ``np.dtype("float32")``).
        self._from_xp = {}
