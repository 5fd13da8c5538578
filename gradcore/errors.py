"""gradcore's exception classes: the same on every backend.

Backends never let their own exceptions escape an op; the core checks shapes
and dtypes before it calls a kernel, and these classes carry what went wrong.
Each also derives from the builtin a Python user would try first, so
``except ValueError`` keeps working.
"""


class GradcoreError(Exception):
    """Base class of every error gradcore raises on purpose."""


class InvalidArgumentError(GradcoreError, ValueError):
    """An op was given arguments it cannot work with (TensorFlow's name)."""


class ShapeError(InvalidArgumentError):
    """Shapes that do not fit together: broadcasting, matmul, reshape ..."""


class DTypeError(InvalidArgumentError, TypeError):
    """dtypes that do not fit together; gradcore never promotes silently."""


class BackendError(GradcoreError, RuntimeError):
    """A backend cannot be found, loaded or mixed with another."""


class BackendUnavailableError(BackendError):
    """The requested backend is unknown or cannot be loaded here."""


class UnimplementedError(GradcoreError, NotImplementedError):
    """The backend in use does not provide this kernel or dtype (TensorFlow's name).

    ``gap`` is ``("kernel", name)`` or ``("dtype", name)`` when the backend declared the gap in its
    ``unsupported_kernels`` or ``dtypes`` (docs/writing-a-backend.md); the conformance suite reports
    such a test as unsupported rather than failed.
    """

    def __init__(self, message, gap=None):
        super().__init__(message)
        self.gap = gap


class ResourceExhaustedError(GradcoreError, MemoryError):
    """An array would not fit in the device's memory (TensorFlow's name)."""


class OperatorNotAllowedInGraphError(GradcoreError, TypeError):
    """A traced tensor's value was asked for inside ``gc.function``, where it is not known yet (TF's name)."""


class NotFoundError(GradcoreError, FileNotFoundError):
    """A checkpoint, file or other named thing does not exist (TensorFlow's name)."""


class DataLossError(GradcoreError, OSError):
    """A file's contents are truncated, corrupted or tampered with (TensorFlow's name)."""


class UnavailableError(GradcoreError, RuntimeError):
    """A worker, device or service cannot be reached: a lost peer in distributed training (TensorFlow's name)."""


class DeadlineExceededError(GradcoreError, TimeoutError):
    """An operation did not finish within its timeout: a collective whose peers never came (TensorFlow's name)."""
