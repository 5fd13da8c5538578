"""The reverse walk: from target gradients back to source gradients.

One loop over the recorded nodes in reverse order with gradients accumulated in
a dict keyed by tensor id; nothing recursive. Only nodes that depend on a
source are visited (a forward pass over the node list finds them), so ops that
cannot reach a source never need a gradient rule.
"""

from gradcore.engine.registry import get_gradient_function
from gradcore.errors import ShapeError


def prune(nodes, sources):
    """The nodes downstream of ``sources``, in order, and the ids of every tensor they reach."""
    reachable = {id(s) for s in sources}
    relevant = []
    for node in nodes:
        for x in node.inputs:
            if id(x) in reachable:
                relevant.append(node)
                for y in node.outputs:
                    reachable.add(id(y))
                break
    return relevant, reachable


def backprop(relevant, reachable, targets, seeds, sources):
    """Gradients of sum(seed . target) for each source: a dict id(source) -> Tensor."""
    from gradcore.ops.math_ops import add, zeros_like_raw

    keep = {id(s) for s in sources}
    grads = {}
    for target, seed in zip(targets, seeds):
        if id(target) in reachable:
            _accumulate(grads, id(target), seed, add)
    for node in reversed(relevant):
        out_grads = _output_gradients(node.outputs, grads, keep, zeros_like_raw)
        if out_grads is None:
            continue
        rule = node.rule or get_gradient_function(node.type)
        if rule is None:
            continue
        node._reachable = reachable
        try:
            in_grads = rule(node, *out_grads)
        finally:
            node._reachable = None
        if type(in_grads) is not tuple and type(in_grads) is not list:
            in_grads = (in_grads,)
        if len(in_grads) != len(node.inputs):
            raise ValueError(
                f"gradient function for op {node.type} returned {len(in_grads)} gradients "
                f"for {len(node.inputs)} inputs"
            )
        for x, g in zip(node.inputs, in_grads):
            if g is not None and id(x) in reachable:
                if g._value.shape != x._value.shape:
                    _wrong_shape(node, g, x)
                _accumulate(grads, id(x), g, add)
    return grads


def _output_gradients(outputs, grads, keep, zeros_like_raw):
    """The gradients flowing into a node's outputs (zeros for unused ones), or None if none flow."""
    if len(outputs) == 1:
        key = id(outputs[0])
        dy = grads.get(key) if key in keep else grads.pop(key, None)
        return None if dy is None else (dy,)
    out_grads = [grads.get(id(y)) if id(y) in keep else grads.pop(id(y), None) for y in outputs]
    if all(g is None for g in out_grads):
        return None
    return [zeros_like_raw(y) if g is None else g for y, g in zip(outputs, out_grads)]


def _wrong_shape(node, g, x):
    raise ShapeError(
        f"gradient function for op {node.type} returned a gradient of shape "
        f"{tuple(g._value.shape)} for an input of shape {tuple(x._value.shape)}"
    )


def _accumulate(grads, key, g, add):
    previous = grads.get(key)
    grads[key] = g if previous is None else add(previous, g)
