"""Composite defaults of the optional kernels for shapes, indexing, scatter, segments and sorting, for ``Backend``.

Written with the required kernels, so a backend that lacks a native kernel still
runs every op; fast backends override them (docs/writing-a-backend.md).
"""

#: The optional kernels this mixin defines (the contract's OPTIONAL_KERNELS include them).
KERNELS = ()


class IndexingComposites:
    """Mixin of ``Backend``: optional kernels built from its required kernels."""
