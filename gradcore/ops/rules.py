"""Helpers for gradient rules: undoing broadcasting, and the common rule shapes in one line each.

As JAX's ``deflinear``/``defjvp`` and autograd's ``defvjp``: most ops register
their rule with one helper call beside the op; complex rules keep the
``RegisterGradient`` decorator.
"""

from gradcore.engine.registry import RegisterGradient


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the adjoint of broadcasting ``shape`` up to grad's shape."""
    grad_shape = tuple(grad._value.shape)
    shape = tuple(shape)
    if grad_shape == shape:
        return grad
    from gradcore.ops.array_ops import reshape
    from gradcore.ops.reduction_ops import reduce_sum

    lead = len(grad_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and grad_shape[i + lead] != 1
    )
    summed = reduce_sum(grad, axes) if axes else grad
    return reshape(summed, shape)


def unary_rule(op_type, grad):
    """Register ``grad(dy, x, y) -> dx`` as the rule of one-input op ``op_type`` (``y`` is its output)."""

    def rule(op, dy):
        return grad(dy, op.inputs[0], op.outputs[0])

    rule.__wrapped__ = grad  # the registry reports where ``grad`` was written, not this helper
    RegisterGradient(op_type)(rule)


def broadcasting_rule(op_type, grad_x, grad_y):
    """Register the rule of a two-input broadcasting op from ``grad_x/grad_y(dy, x, y, z) -> partial``.

    Each runs only when its input needs a gradient, and its result is summed back to that
    input's shape; ``None`` for either means no gradient flows into that input.
    """

    def rule(op, dy):
        x, y = op.inputs
        z = op.outputs[0]
        return (
            unbroadcast(grad_x(dy, x, y, z), x.shape) if grad_x and op.needs_gradient(0) else None,
            unbroadcast(grad_y(dy, x, y, z), y.shape) if grad_y and op.needs_gradient(1) else None,
        )

    rule.__wrapped__ = grad_x or grad_y
    RegisterGradient(op_type)(rule)
