"""``gc.GradientTape``: records ops while active, then differentiates them.

Semantics follow ``tf.GradientTape`` in eager mode: what it watches, its
lifecycle (persistent, nested, re-entered, reset), targets and sources,
unconnected gradients, and jacobians; gradcore/conformance/test_tape.py checks
each behaviour. The tape's misuse errors keep TensorFlow's builtin classes and
messages (docs/errors.md, "Where gradcore follows TensorFlow's classes
instead"). Tapes are thread-local: one entered in a thread records only that
thread's ops.
"""

import enum
import logging

import numpy as np

from gradcore.engine import nest
from gradcore.engine.backprop import backprop, prune
from gradcore.engine.convert import is_weak, to_tensor
from gradcore.engine.recording import state
from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable
from gradcore.errors import ShapeError
from gradcore.ops.kernels import run_kernel

_API = "GradientTape.gradient"

logger = logging.getLogger("gradcore")


class UnconnectedGradients(enum.Enum):
    """What ``gradient`` returns for a source the target does not depend on: ``None`` or zeros."""

    NONE = "none"
    ZERO = "zero"


def _unconnected(value):
    try:
        return UnconnectedGradients(value.value if isinstance(value, UnconnectedGradients) else value)
    except ValueError:
        raise ValueError(f"Unknown value for unconnected_gradients: {value!r}") from None


class GradientTape:
    """Record operations for automatic differentiation, as ``tf.GradientTape``."""

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = bool(persistent)
        self._watch_accessed_variables = bool(watch_accessed_variables)
        self._recording = False
        self._entered = False
        self._warned_inside = False
        self._clear()

    def _clear(self):
        self._nodes = []
        self._tracked = set()  # ids of tensors whose gradients this tape can compute
        self._kept = []  # references that keep watched tensors (and so their ids) alive
        self._variables = {}  # id -> watched Variable, in watch order

    # ---- recording lifecycle ----------------------------------------------------------

    def __enter__(self):
        self._push()
        return self

    def __exit__(self, *exc_info):
        if self._recording:
            self._pop()

    def _push(self):
        if self._recording:
            raise ValueError(
                "Tape is still recording, This can happen if you try to re-enter an already-active tape."
            )  # TF's message for `with t: with t:`
        if self._nodes is None:
            self._clear()
        state.recording.append(self)
        self._recording = True
        self._entered = True

    def _pop(self):
        if not self._recording:
            raise ValueError("Tape is not recording.")  # reset/stop_recording on an exited tape, as TF
        state.recording.remove(self)
        self._recording = False

    class _StopRecording:
        def __init__(self, tape):
            self._tape = tape

        def __enter__(self):
            if not self._tape._recording and not self._tape._entered:
                raise RuntimeError("Trying to stop recording a tape which is not recording.")  # never entered
            self._tape._pop()

        def __exit__(self, *exc_info):
            self._tape._push()

    def stop_recording(self):
        """A context in which this tape records nothing; recording resumes when it exits."""
        return self._StopRecording(self)

    def reset(self):
        """Forget everything recorded and watched so far; the tape keeps recording."""
        self._pop()
        self._clear()
        self._push()

    # ---- watching --------------------------------------------------------------------

    def watch(self, tensor):
        """Track ``tensor`` (a Tensor, Variable or nested structure of them) on this tape."""
        for t in nest.flatten(tensor):
            if isinstance(t, Variable):
                self._watch_variable(t)
            elif isinstance(t, Tensor):
                self._watch_tensor(t)
            else:
                raise ValueError(  # noqa: TRY004 - TF raises ValueError here, and ported code catches it
                    f"Passed in object {t!r} of type {type(t).__name__!r}, not a gc.Tensor or gc.Variable."
                )

    def _watch_tensor(self, t):
        if not t._dtype.is_floating:
            logger.warning(
                "The dtype of the watched tensor must be floating (e.g. gc.float32), got gc.%s", t._dtype.name
            )  # TF logs (not warnings.warn) and gives a None gradient
        elif self._nodes is not None:
            self._tracked.add(id(t))
        self._kept.append(t)

    def _watch_variable(self, v):
        if self._nodes is None or id(v) in self._variables:
            return
        self._variables[id(v)] = v
        if v._dtype.is_floating:
            self._tracked.add(id(v))

    def watched_variables(self):
        """The variables this tape watches, in the order they were first watched (a tuple, as TF)."""
        return tuple(self._variables.values())

    # ---- differentiation -----------------------------------------------------------------

    def _begin_differentiation(self, api):
        if self._nodes is None:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients (or jacobians)"
            )  # a second gradient, jacobian or batch_jacobian on a non-persistent tape
        if self._recording:
            if not self._persistent:
                self._pop()  # as TF: ops after a gradient call inside the block are not recorded
            elif not self._warned_inside:
                self._warned_inside = True
                logger.warning(
                    "Calling GradientTape.%s on a persistent tape inside its context is significantly "
                    "less efficient than calling it outside the context (it causes the gradient ops "
                    "to be recorded on the tape, leading to increased CPU and memory usage).", api
                )  # TF logs this once; the gradient ops are recorded, so higher orders work
        return prune(list(self._nodes), self._sources_now)

    def _finish(self):
        if not self._persistent:
            self._nodes = None
            self._tracked = set()
            self._kept = []

    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """d(sum of targets)/d(source) for each source, in the structure of ``sources``."""
        if target is None:
            raise TypeError(
                "Argument `target` should be a list or nested structure of Tensors, Variables to be "
                "differentiated, but received None."
            )  # TF's class and message
        unconnected = _unconnected(unconnected_gradients)
        targets = [_differentiable(t, "target") for t in nest.flatten(target)]
        flat_sources = [_differentiable(s, "source") for s in nest.flatten(sources)]
        seeds = _seeds(targets, output_gradients)
        self._sources_now = flat_sources
        relevant, reachable = self._begin_differentiation("gradient")
        grads = backprop(relevant, reachable, targets, seeds, flat_sources)
        self._finish()
        results = [_result(grads.get(id(s)), s, unconnected) for s in flat_sources]
        return nest.pack_sequence_as(sources, results)

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE,
                 parallel_iterations=None, experimental_use_pfor=True):
        """d target[i...] / d source[j...], shaped ``target.shape + source.shape``.

        An unconnected source gives None, or with ``unconnected_gradients="zero"`` zeros of that shape.
        """
        if not experimental_use_pfor and not self._persistent:
            raise RuntimeError(
                "GradientTape must be created with persistent=True to compute the jacobian with eager "
                "execution enabled and with  experimental_use_pfor set to False."
            )  # TF's message, double space included
        unconnected = _unconnected(unconnected_gradients)
        target = _differentiable(target, "target")
        flat_sources = [_differentiable(s, "source") for s in nest.flatten(sources)]
        self._sources_now = flat_sources
        relevant, reachable = self._begin_differentiation("jacobian")
        shape, size = tuple(target._value.shape), _size(target._value.shape)
        rows = [[] for _ in flat_sources]
        for i in range(size):
            seed = _basis(target, shape, size, i)
            grads = backprop(relevant, reachable, [target], [seed], flat_sources)
            for row, s in zip(rows, flat_sources):
                row.append(grads.get(id(s)))
        self._finish()
        results = [
            _stack_rows(row, s, shape, unconnected) for row, s in zip(rows, flat_sources)
        ]
        return nest.pack_sequence_as(sources, results)

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE,
                       parallel_iterations=None, experimental_use_pfor=True):
        """Per-example Jacobians: shape ``[b, y1..yn, x1..xm]``; an unconnected target gives zeros, never None."""
        if not experimental_use_pfor and not self._persistent:
            raise RuntimeError(
                "GradientTape must be created with persistent=True to compute the batch_jacobian with "
                "eager execution enabled and  with experimental_use_pfor set to False."
            )  # TF's message, double spaces as they are
        _unconnected(unconnected_gradients)
        target = _differentiable(target, "target")
        source = _differentiable(source, "source")
        t_shape, s_shape = tuple(target._value.shape), tuple(source._value.shape)
        for shape in (t_shape, s_shape):
            if len(shape) < 2:
                raise ValueError(f"Shape {shape} must have rank at least 2")  # TF's message
        if t_shape[0] != s_shape[0]:
            raise ValueError(
                f"Need first dimension of target shape ({t_shape}) and source shape ({s_shape}) to match."
            )  # TF's message
        self._sources_now = [source]
        relevant, reachable = self._begin_differentiation("batch_jacobian")
        batch, per_example = t_shape[0], _size(t_shape[1:])
        columns = []
        for j in range(per_example):
            seed = _batch_basis(target, t_shape, batch, per_example, j)
            grads = backprop(relevant, reachable, [target], [seed], [source])
            columns.append(grads.get(id(source)))
        self._finish()
        return _stack_batch_columns(columns, target, source)


# ---- helpers ---------------------------------------------------------------------------------


def _differentiable(value, role):
    if isinstance(value, (Tensor, Variable)):
        return value
    raise TypeError(
        f"GradientTape: each {role} must be a gc.Tensor or gc.Variable, got {type(value).__name__} "
        f"({value!r}); convert it with gc.constant and watch it before computing with it"
    )  # TF raises AttributeError; see docs/deviations.md, "Bad arguments raise builtin-compatible errors"


def _seeds(targets, output_gradients):
    if output_gradients is None:
        return [_filled(t, 1) for t in targets]
    flat = nest.flatten(output_gradients)
    if len(flat) != len(targets):
        raise ValueError(f"output_gradients has {len(flat)} entries for {len(targets)} targets")
    seeds = []
    for t, g in zip(targets, flat):
        if g is None:
            raise ValueError(
                "Attempt to convert a value (None) with an unsupported type (<class 'NoneType'>) to a Tensor."
            )  # eager TF refuses None entries with this message
        g = to_tensor(g, t._dtype if is_weak(g) else None, t._backend, "GradientTape.gradient")
        if tuple(g._value.shape) != tuple(t._value.shape):
            raise ShapeError(
                f"GradientTape.gradient: output_gradients entry has shape {tuple(g._value.shape)} but its "
                f"target has shape {tuple(t._value.shape)}"
            )  # TF's first backward op raises InvalidArgumentError; gradcore checks first
        seeds.append(g)
    return seeds


def _filled(like, value, shape=None):
    """A constant shaped like ``like`` (Tensor or Variable) without reading it on any tape."""
    backend = like._backend
    shape = tuple(like._value.shape) if shape is None else shape
    return run_kernel(_API, backend, "full", like._dtype, shape, value, like._dtype, backend.device_of(like._value))


def _zeros_for(source, shape=None):
    return _filled(source, 0, shape)


def _result(grad, source, unconnected):
    if grad is None and unconnected is UnconnectedGradients.ZERO:
        return _zeros_for(source)  # zeros in the source's dtype, for Variables too (int32 for an int source)
    return grad


def _size(shape):
    return int(np.prod(tuple(shape), dtype=np.int64))


def _basis(target, shape, size, i):
    onehot = np.zeros(size, dtype=target._dtype.as_numpy_dtype)
    onehot[i] = 1
    backend = target._backend
    return run_kernel("GradientTape.jacobian", backend, "asarray", target._dtype, onehot.reshape(shape), target._dtype,
                      backend.device_of(target._value))


def _batch_basis(target, shape, batch, per_example, j):
    onehot = np.zeros((batch, per_example), dtype=target._dtype.as_numpy_dtype)
    onehot[:, j] = 1
    backend = target._backend
    return run_kernel("GradientTape.jacobian", backend, "asarray", target._dtype, onehot.reshape(shape), target._dtype,
                      backend.device_of(target._value))


def _stack_rows(row, source, target_shape, unconnected):
    from gradcore.ops.array_ops import reshape, stack

    s_shape = tuple(source._value.shape)
    if all(g is None for g in row):
        if unconnected is UnconnectedGradients.ZERO:
            return _zeros_for(source, target_shape + s_shape)  # unconnected_gradients='zero'
        return None
    row = [_zeros_for(source) if g is None else g for g in row]
    if not row:
        return _zeros_for(source, target_shape + s_shape)
    return reshape(stack(row, axis=0), target_shape + s_shape)


def _stack_batch_columns(columns, target, source):
    from gradcore.ops.array_ops import reshape, stack

    t_shape, s_shape = tuple(target._value.shape), tuple(source._value.shape)
    if all(g is None for g in columns) or not columns:
        return _filled(target, 0, t_shape + s_shape[1:])  # zeros (never None) in the target's dtype, as TF
    columns = [_zeros_for(source) if g is None else g for g in columns]
    return reshape(stack(columns, axis=1), t_shape + s_shape[1:])
