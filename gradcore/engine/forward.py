"""``gc.autodiff.ForwardAccumulator``: forward-mode autodiff (Jacobian-vector products), as TensorFlow's.

An active accumulator sits in ``state.recording`` beside the tapes and looks like one to the
recording code: ``_tracked`` holds the ids of the tensors that have a tangent, and ``record``
appends a ``Node`` to its ``_nodes`` for every op that reads one of them. Once every tape has
noted the op, ``record`` calls ``forward_pass`` (installed here while an accumulator is
active, so the tape-only path pays one global read), which turns each accumulator's pending
nodes into the tangents of their outputs, outermost accumulator first.

A tangent comes from a dedicated JVP rule where one is registered (``register_jvp``, for a
few hot ops in engine/forward_rules.py), else from the op's VJP rule, transposed: the rule
computes ``g(u) = J^T u``, linear in ``u``, so ``J t = d<g(u), t>/du`` at any ``u`` (zeros),
which an internal tape differentiates. No op needs a second rule, and a custom_gradient
call's tangent comes from its own gradient function. The tangent's ops are recorded like
any others by every tape and by the accumulators outer to the one computing it (not by
itself or inner ones, as TensorFlow): that is what makes nested accumulators and
forward-over-backward Hessian-vector products work (docs/forward_mode.md).
"""

import logging
import threading
import weakref

from gradcore.engine import nest, recording
from gradcore.engine.backprop import backprop, prune
from gradcore.engine.convert import is_weak, to_tensor
from gradcore.engine.recording import state
from gradcore.engine.registry import get_gradient_function
from gradcore.engine.tape import GradientTape, UnconnectedGradients, _unconnected
from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable
from gradcore.errors import DTypeError, ShapeError
from gradcore.ops.kernels import run_kernel

_API = "gc.autodiff.ForwardAccumulator"

logger = logging.getLogger("gradcore")

_jvp_rules = {}  # op type -> fn(op, *input_tangents) -> output tangent(s)


def register_jvp(op_type):
    """Decorator: a dedicated JVP rule ``fn(op, *tangents)`` for ``op_type``, used instead of
    transposing its VJP rule (faster). ``tangents`` has one entry per input, None where the
    input has no tangent; the rule returns one tangent per output (a single value for one)."""

    def register(fn):
        _jvp_rules[op_type] = fn
        return fn

    return register


class ForwardAccumulator:
    """Computes Jacobian-vector products with forward-mode autodiff, as ``tf.autodiff.ForwardAccumulator``.

    ``primals`` (Tensors or Variables, nested) each get the tangent in the same place of
    ``tangents``; inside the ``with`` block every op computes its outputs' tangents, and
    ``jvp(t)`` looks the tangent of ``t`` up.
    """

    _watch_accessed_variables = False  # tapes watch the variables a function reads; an accumulator does not

    def __init__(self, primals, tangents):
        self._nodes = []  # ops noted by record() whose tangents are not computed yet
        self._tracked = set()  # ids of the tensors and variables with a tangent
        self._tangents = {}  # id -> (weak reference to the primal, its tangent)
        self._recording = False
        seen = set()
        for primal in nest.flatten(primals):
            if id(primal) in seen:
                raise ValueError(
                    "Tensor {} was specified as a primal multiple times. This may indicate an error. "
                    "If it was intended, please sum the corresponding tangents."
                )  # TF's message, its "{}" unformatted as TF leaves it
            seen.add(id(primal))
        for primal, tangent in _paired(primals, tangents):
            self._watch(primal, tangent)

    def _watch(self, primal, tangent):
        if not isinstance(primal, (Tensor, Variable)):
            raise TypeError(
                f"{_API}: each primal must be a gc.Tensor or gc.Variable, got {type(primal).__name__} ({primal!r}); "
                f"convert it with gc.constant first"
            )
        if not primal._dtype.is_floating:
            logger.warning(
                "The dtype of the watched primal must be floating (e.g. gc.float32), got gc.%s", primal._dtype.name
            )  # as TF: logged, and every jvp of it is None
            return
        tangent = to_tensor(tangent, primal._dtype if is_weak(tangent) else None, primal._backend, _API)
        if tangent._dtype is not primal._dtype:
            raise DTypeError(
                f"{_API}: the tangent of a {primal._dtype.name} primal has dtype {tangent._dtype.name}; "
                f"cast it with gc.cast(tangent, gc.{primal._dtype.name})"
            )
        self._set_tangent(primal, tangent)  # its shape is checked at the first op that reads it, as TF

    def _set_tangent(self, primal, tangent):
        key = id(primal)
        self._tracked.add(key)
        self._tangents[key] = (weakref.ref(primal, lambda _, key=key: self._forget(key)), tangent)

    def _forget(self, key):
        """The primal is gone, so its id may be reused: drop its tangent (forward mode keeps no activations)."""
        self._tracked.discard(key)
        self._tangents.pop(key, None)

    def _tangent_of(self, value):
        entry = self._tangents.get(id(value))
        return None if entry is None else entry[1]

    # ---- recording lifecycle ---------------------------------------------------------------

    def __enter__(self):
        if self._recording:
            raise ValueError("Accumulator is already recording.")  # TF's class and message
        state.recording.append(self)
        self._recording = True
        _activated(+1)
        return self

    def __exit__(self, *exc_info):
        if not self._recording:
            raise ValueError("Accumulator is not recording.")
        self._recording = False
        _activated(-1)
        if self in state.recording:
            state.recording.remove(self)
        self._nodes.clear()

    # ---- results -------------------------------------------------------------------------------

    def jvp(self, primals, unconnected_gradients=UnconnectedGradients.NONE):
        """The tangent of each tensor in ``primals`` (nested): J t for what was computed while active.

        A lookup: a tensor computed outside the block, or not from a primal, gives None, or zeros
        of its shape and dtype with ``unconnected_gradients="zero"``.
        """
        unconnected = _unconnected(unconnected_gradients)

        def fetch(value):
            if not isinstance(value, (Tensor, Variable)):
                raise TypeError(
                    f"ForwardAccumulator.jvp: expected gc.Tensor or gc.Variable values, got {type(value).__name__} "
                    f"({value!r})"
                )
            tangent = self._tangent_of(value)
            if tangent is None and unconnected is UnconnectedGradients.ZERO:
                return _zeros_like(value)
            return tangent

        return nest.map_structure(fetch, primals)

    # ---- computing tangents ------------------------------------------------------------------

    def _accumulate(self, recorders):
        """The tangents of the pending ops, with ``recorders`` (tapes, outer accumulators) recording them."""
        pending, self._nodes = self._nodes, []
        saved, state.recording = state.recording, recorders
        try:
            for node in pending:
                self._accumulate_node(node)
        finally:
            state.recording = saved

    def _accumulate_node(self, node):
        tangents = [self._tangent_of(x) for x in node.inputs]
        if all(t is None for t in tangents):  # an input tracked but left without a tangent (an op that failed)
            self._tracked.difference_update(id(y) for y in node.outputs)
            return
        for x, t in zip(node.inputs, tangents):
            if t is not None and tuple(t._value.shape) != tuple(x._value.shape):
                raise ShapeError(
                    f"{_API}: op {node.type} reads a primal of shape {tuple(x._value.shape)} whose tangent has "
                    f"shape {tuple(t._value.shape)}; a tangent must have its primal's shape"
                )  # TF's first op raises a ValueError about the shapes; ShapeError is one
        jvp_rule = None if node.rule is not None else _jvp_rules.get(node.type)
        outputs = jvp_rule(node, *tangents) if jvp_rule is not None else _transposed_vjp(node, tangents)
        if type(outputs) is not tuple and type(outputs) is not list:
            outputs = (outputs,)
        for y, t in zip(node.outputs, outputs):
            if t is None or not y._dtype.is_floating:
                self._tracked.discard(id(y))
            else:
                self._set_tangent(y, t)


def _transposed_vjp(node, tangents):
    """J t from the op's VJP rule g(u) = J^T u: J t = d<g(u), t>/du, the same at every u (g is linear in u).

    A registered rule is taken at u = 1: some special-case a zero dy (Sqrt's rule is 0 where dy
    is 0, so that it stays finite at x = 0), which would zero the derivative at u = 0. A
    custom_gradient's grad_fn is taken at u = 0, as TensorFlow does, so one that is not linear
    (clipping dy) is linearized where TensorFlow linearizes it (docs/forward_mode.md).
    """
    rule = node.rule or get_gradient_function(node.type)
    if rule is None:  # a no_gradient op: no tangent flows through it, as no gradient does
        return [None] * len(node.outputs)
    at = 0 if node.rule is not None else 1
    dummies = [_filled(y, at) for y in node.outputs]
    sources = [u for u in dummies if u._dtype.is_floating]
    if not sources:
        return [None] * len(node.outputs)
    with GradientTape(watch_accessed_variables=False) as tape:
        for u in sources:
            tape._watch_tensor(u)
        node._reachable = {id(x) for x, t in zip(node.inputs, tangents) if t is not None}  # skip the others
        try:
            grads = rule(node, *dummies)
        finally:
            node._reachable = None
    if type(grads) is not tuple and type(grads) is not list:
        grads = (grads,)
    pairs = [(g, t) for g, t in zip(grads, tangents) if g is not None and t is not None]
    if not pairs:
        return [None] * len(node.outputs)
    # tape.gradient(targets, sources, output_gradients=tangents) without its argument checks: this is per op
    relevant, reachable = prune(tape._nodes, sources)
    jvps = backprop(relevant, reachable, [g for g, _ in pairs], [t for _, t in pairs], sources)
    return [_jvp_at(jvps, u) if u._dtype.is_floating else None for u in dummies]


def _jvp_at(jvps, u):
    """The gradient with respect to ``u``; zeros where the rule did not depend on it (a zero derivative)."""
    jvp = jvps.get(id(u))
    return _filled(u, 0) if jvp is None else jvp


def _paired(primals, tangents):
    """(primal, tangent) pairs: ``tangents`` follows ``primals``' structure down to each primal."""
    if not isinstance(primals, (list, tuple, dict)):
        return [(primals, tangents)]
    if isinstance(primals, dict):
        if not isinstance(tangents, dict) or set(primals) != set(tangents):
            _mismatch(primals, tangents)
        return [pair for key in sorted(primals) for pair in _paired(primals[key], tangents[key])]
    if not isinstance(tangents, (list, tuple)) or len(tangents) != len(primals):
        _mismatch(primals, tangents)
    return [pair for p, t in zip(primals, tangents) for pair in _paired(p, t)]


def _mismatch(primals, tangents):
    raise ValueError(
        f"{_API}: tangents must have the structure of primals (a {type(primals).__name__} of "
        f"{len(primals)}), got {tangents!r}"
    )  # TF's nest.assert_same_structure raises ValueError too


def _filled(like, value):
    """A constant shaped like ``like`` in its dtype, made without recording."""
    backend = like._backend
    return run_kernel(_API, backend, "full", like._dtype, tuple(like._value.shape), value, like._dtype,
                      backend.device_of(like._value))


def _zeros_like(value):
    return _filled(value, 0)  # the value's dtype, integers included, as TF's zeros_like


# ---- the hook in record() ------------------------------------------------------------------------

_active_lock = threading.Lock()
_active = 0  # accumulators active in any thread


def _activated(delta):
    """Install ``forward_pass`` in the recording code while any accumulator is active, else nothing."""
    global _active
    with _active_lock:
        _active += delta
        recording.forward_pass = _forward_pass if _active else None


def _forward_pass(recorders):
    """After the tapes noted an op: each accumulator with pending ops computes their tangents.

    Outermost first; the tangent ops of one are recorded by every tape and by the accumulators
    outer to it, never by itself or inner ones (TF's ordering; docs/forward_mode.md).
    """
    for i, accumulator in enumerate(recorders):
        if isinstance(accumulator, ForwardAccumulator) and accumulator._nodes:
            inner_tapes = [r for r in recorders[i + 1:] if not isinstance(r, ForwardAccumulator)]
            accumulator._accumulate(recorders[:i] + inner_tapes)
