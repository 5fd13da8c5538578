"""gradcore's ops: one module per op family, each op's gradient rule beside it.

``kernels`` is the choke point every op calls its backend kernel through; ``operands``
holds the checks ops make first, ``factories`` the common shapes of op and ``rules``
the helpers for gradient rules. ``gradcore/__init__.py`` imports every family, which
registers the rules.
"""
