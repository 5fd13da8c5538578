"""The engine: Tensor, Variable, dtypes, conversion, the tape, the gradient registry and the backward pass.

Nothing here knows a backend's array library; ops reach kernels through ``gradcore.ops``.
"""
