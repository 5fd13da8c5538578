"""The NumPy backend: gradcore's embedded default, needing nothing but NumPy."""

from gradcore.backends.numpy_backend.backend import NumpyBackend

__all__ = ["NumpyBackend"]
