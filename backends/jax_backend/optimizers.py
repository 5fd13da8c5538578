"""Optimizer update kernels: each rule is the contract's composite, compiled by jax.jit.

On the CPU, one XLA program per rule, hyperparameters, shapes and dtype, so a whole
optimizer step is one dispatch instead of about ten per variable. Inside gc.function's
own jax.jit the composite is traced into that program instead. On other devices the
composite runs op by op (still without gradcore's per-op overhead): which passes
would have to be off there for the bits to stay those of the op-by-op step is not
verified (see _AS_OP_BY_OP).
"""

import jax

from gradcore.plugin.optimizer_composites import OptimizerComposites

# The optimizer step must round exactly as its op-by-op form does. XLA would fuse the
# elementwise operations into one loop, whose code generator then contracts a multiply and
# an add into one FMA, and its algebraic simplifier rewrites x / sqrt(y) as x * rsqrt(y):
# both change the last bits. Without those two passes each operation is its own loop, as
# eager jax runs it, and the step is still one dispatch. (XLA's GPU pipeline fuses in passes
# of other names.)
_AS_OP_BY_OP = {"xla_disable_hlo_passes": "fusion,algsimp"}


def _kernel(rule, *static):
    """The composite of ``rule`` as a kernel method, jitted with the backend and the hyperparameters
    (argument positions ``static``, counting the backend as 0) static."""
    composite = getattr(OptimizerComposites, rule)
    compiled = jax.jit(composite, static_argnums=(0, *static), compiler_options=_AS_OP_BY_OP)

    def kernel(self, variables, *args):
        first = variables[0]
        if isinstance(first, jax.core.Tracer):  # inside a jit: compiler options are for a top-level one only
            return composite(self, variables, *args)
        if next(iter(first.devices())).platform != "cpu":  # exactness verified on the CPU only (docstring)
            return composite(self, variables, *args)
        return compiled(self, variables, *args)

    kernel.__name__ = kernel.__qualname__ = rule
    return kernel


class OptimizerKernels:
    """The contract's composites on this backend's own kernels, jitted on the CPU (see _kernel)."""

    sgd_update = _kernel("sgd_update", 5, 6)
    adam_update = _kernel("adam_update", 7, 8, 9)
    rmsprop_update = _kernel("rmsprop_update", 7, 8, 9)
    adagrad_update = _kernel("adagrad_update", 5)
    weight_decay_update = _kernel("weight_decay_update")
