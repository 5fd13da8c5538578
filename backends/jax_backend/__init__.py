"""The JAX backend: kernels with jax.numpy / jax.lax on every device ``jax.devices()`` lists."""

from gradcore.backends.jax_backend.backend import JaxBackend

__all__ = ["JaxBackend"]
