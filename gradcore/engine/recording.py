"""What every op consults after its kernel: is any tape recording, and what to note.

This is the hottest code in gradcore. An op checks ``state.recording`` (one
thread-local attribute read): an empty list means no tape is recording and the
op is done. Otherwise ``record`` appends one ``Node`` to each recording tape
that tracks one of the op's inputs. A node stores references, never copies.
A forward accumulator (engine/forward.py) records the same way, then computes
its tangents through ``forward_pass``.
"""

import threading

from gradcore.engine import thread_state


class _State(threading.local):
    """Per-thread recording state: tapes are thread-local, as in TensorFlow."""

    def __init__(self):
        self.recording = []  # tapes (and forward accumulators) recording now, innermost last
        self.variable_watchers = []  # custom_gradient's lists of variables read
        self.tracer = None  # the gc.function trace running in this thread (gradcore/function/tracing.py)


state = _State()
thread_state.attribute(state, "tracer")  # a replica thread records into the caller's trace

# Forward mode (engine/forward.py) installs a function here while a ForwardAccumulator is active in
# any thread; after the tapes have noted an op it computes the accumulators' tangents. Otherwise
# None, so a recorded op pays one global read for forward mode.
forward_pass = None


class Node:
    """One recorded op. Exposes TensorFlow's ``op`` interface to gradient functions."""

    __slots__ = ("_reachable", "attrs", "inputs", "outputs", "rule", "type")

    def __init__(self, op_type, inputs, outputs, attrs, rule):
        self.type = op_type
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs
        self.rule = rule  # a per-call gradient function (custom_gradient), else None
        self._reachable = None  # set by backprop: ids of tensors that lead to a source

    def needs_gradient(self, index):
        """Whether the gradient of input ``index`` is used by the differentiation running now.

        A gradient function may skip the work for inputs that cannot reach a source (the
        data batch of a matmul, a constant factor), returning None for them; gradcore's
        extension of TensorFlow's op interface, and always True outside a backward pass.
        """
        return self._reachable is None or id(self.inputs[index]) in self._reachable

    def get_attr(self, name):
        """A non-tensor argument of the op (axis, shape ...), as ``tf.Operation.get_attr``."""
        try:
            return self.attrs[name]
        except (KeyError, TypeError):
            raise ValueError(f"op {self.type} has no attribute {name!r}") from None

    def __repr__(self):
        return f"<Node {self.type}>"


def record(op_type, inputs, outputs, attrs=None, rule=None):
    """Note an op on each recording tape that tracks one of ``inputs``."""
    for tape in state.recording:
        tracked = tape._tracked
        for x in inputs:
            if id(x) in tracked:
                break
        else:
            continue
        tape._nodes.append(Node(op_type, inputs, outputs, attrs, rule))
        for y in outputs:
            if y._dtype.is_floating:
                tracked.add(id(y))
    if forward_pass is not None:
        forward_pass(state.recording)


def record_variable_read(variable, snapshot):
    """A Variable was read: let tapes watch it and link the snapshot to it."""
    for watcher in state.variable_watchers:
        watcher.append(variable)
    for tape in state.recording:
        if tape._watch_accessed_variables and variable._trainable:
            tape._watch_variable(variable)
        if id(variable) in tape._tracked:
            tape._nodes.append(Node("ReadVariableOp", (variable,), (snapshot,), None, None))
            tape._tracked.add(id(snapshot))
    if forward_pass is not None:
        forward_pass(state.recording)


class paused:
    """Context manager: no tape records inside (custom_gradient's forward pass)."""

    def __enter__(self):
        self._saved, state.recording = state.recording, []

    def __exit__(self, *exc):
        state.recording = self._saved
