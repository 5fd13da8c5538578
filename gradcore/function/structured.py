"""gc.cond and gc.while_loop on traced values: structured steps of a gc.function program.

A predicate the program computes cannot be read at trace time, so the branches and the
loop are traced as blocks of their own and recorded as one step, which the backend turns
into its own control flow (``if_then_else`` and ``while_loop`` of the plugin contract:
``jax.lax.cond`` / ``jax.lax.while_loop`` on jax, a Python ``if`` / ``while`` in the lean
replay). As in TensorFlow, both branches are traced, so their Python runs at trace time.
The trace itself goes on with the values the eager program would have.

Gradients (docs/function.md, "Control flow"): a tape inside the function records a traced
cond as one op whose gradient is again a cond, of the two branches' gradients, so only the
taken branch is differentiated at run time; and a traced while_loop as one op whose gradient
recomputes the states (``_loop_gradient``). A tape outside the call runs the Python function
op by op, so it needs neither.
"""

import functools

from gradcore.engine import nest
from gradcore.engine.convert import to_tensor
from gradcore.engine.recording import record, state
from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable, live_variables
from gradcore.errors import DTypeError, InvalidArgumentError, ShapeError
from gradcore.function.program import Block, Ref, block_functions


def is_traced(value):
    """Whether ``value`` is a tensor that the gc.function being traced now computes."""
    tracer = state.tracer
    return tracer is not None and isinstance(value, Tensor) and tracer.is_traced(value)


# ---- cond ------------------------------------------------------------------------------------


class _Branch:
    __slots__ = ("block", "flat", "structure", "tape", "writes")


class _EveryOp:
    """A tape that records every op, to learn which tensors and variables a branch captures."""

    class _All:
        def __contains__(self, key):
            return True

        def add(self, key):
            pass

    def __init__(self):
        self._nodes = []
        self._tracked = self._All()
        self._watch_accessed_variables = True

    def _watch_variable(self, variable):
        pass

    def captures(self):
        """The float tensors and variables the recorded ops take but did not make, in first-use order."""
        made, found = set(), {}
        for node in self._nodes:
            for x in node.inputs:
                if id(x) not in made and id(x) not in found and x._dtype.is_floating:
                    found[id(x)] = x
            made.update(id(y) for y in node.outputs)
        return list(found.values())


def _trace_branch(tracer, fn, api):
    """Run ``fn`` as a block; every variable it assigns is put back, its new value kept as a result."""
    branch = _Branch()
    before = [(v, v._value) for v in live_variables()]
    branch.block, branch.tape = Block(), _EveryOp()
    saved_tapes, state.recording = state.recording, [branch.tape]
    try:
        with tracer.recording_into(branch.block):
            branch.structure = fn()
            branch.flat = [to_tensor(leaf, op_name=api) for leaf in nest.flatten(branch.structure)]
    finally:
        state.recording = saved_tapes
    branch.writes = {}
    for variable, raw in before:
        if variable._value is not raw:
            branch.writes[id(variable)] = (variable, variable._value)
            variable._value = raw
    return branch


def _check_branches_fit(true, false):
    if len(true.flat) != len(false.flat) or nest.flatten(nest.map_structure(lambda _: 0, true.structure)) != \
            nest.flatten(nest.map_structure(lambda _: 0, false.structure)):
        raise ValueError(
            "gc.cond: true_fn and false_fn must return the same nested structure inside gc.function; "
            f"got {true.structure!r} and {false.structure!r}"
        )
    for position, (a, b) in enumerate(zip(true.flat, false.flat)):
        if a._dtype is not b._dtype:
            raise DTypeError(f"gc.cond: output {position} is {a._dtype.name} in true_fn but {b._dtype.name} in false_fn")
        if tuple(a._value.shape) != tuple(b._value.shape):
            raise ShapeError(
                f"gc.cond: output {position} has shape {tuple(a._value.shape)} in true_fn but "
                f"{tuple(b._value.shape)} in false_fn; inside gc.function both branches must give one shape"
            )


def traced_cond(pred, true_fn, false_fn):
    """``gc.cond`` of a traced predicate: one structured step (module doc)."""
    tracer = state.tracer
    branches = [_trace_branch(tracer, fn, "gc.cond") for fn in (true_fn, false_fn)]
    _check_branches_fit(*branches)
    written = {}
    for branch in branches:
        for key, (variable, _) in branch.writes.items():
            written.setdefault(key, variable)
    for branch in branches:
        unchanged = [tracer.ref(v._value) for v in written.values()]
        branch.block.results = [tracer.ref(t._value) for t in branch.flat] + [
            tracer.ref(branch.writes[key][1]) if key in branch.writes else same
            for key, same in zip(written, unchanged)
        ]
    names = [tracer.program.new_name() for _ in branches[0].block.results]
    tracer.program.add_cond(pred._backend, Ref(tracer.ref(pred._value).name), branches[0].block,
                            branches[1].block, names)
    # The values for the call being traced: the blocks run by the backend's own conditional, so
    # this works on abstract values too.
    true_fn_now, false_fn_now = block_functions(branches[0].block, branches[1].block, tracer.value_of)
    raws = pred._backend.if_then_else(pred._value, true_fn_now, false_fn_now)
    likes = branches[0].flat + [Tensor(v._value, v._dtype, v._backend) for v in written.values()]
    results = [_named_result(tracer, raw, like, name) for raw, like, name in zip(raws, likes, names)]
    count = len(branches[0].flat)
    outputs = results[:count]
    for variable, result in zip(written.values(), results[count:]):
        variable._value = result._value
    if state.recording:
        _record_cond_gradient(pred, true_fn, false_fn, branches, outputs)
    return nest.pack_sequence_as(branches[0].structure, outputs)


def _record_cond_gradient(pred, true_fn, false_fn, branches, outputs):
    """Note the cond on the tapes recording now as one op whose gradient is a cond of gradients."""
    captures, seen = [], set()
    for branch in branches:
        for x in branch.tape.captures():
            if id(x) not in seen:
                seen.add(id(x))
                captures.append(x)
    for tape in state.recording:
        for x in captures:
            if isinstance(x, Variable) and tape._watch_accessed_variables and x._trainable:
                tape._watch_variable(x)
    rule = functools.partial(_cond_gradient, pred, true_fn, false_fn)
    record("If", tuple(captures), tuple(outputs), None, rule)


def _cond_gradient(pred, true_fn, false_fn, node, *output_gradients):
    from gradcore.engine.tape import GradientTape
    from gradcore.function.control_flow import cond

    captures = list(node.inputs)

    def gradient_of(fn):
        def gradients():
            with GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(captures)
                flat = [to_tensor(leaf, op_name="gc.cond") for leaf in nest.flatten(fn())]
            pairs = [(y, dy) for y, dy in zip(flat, output_gradients) if y._dtype.is_floating]
            return tuple(tape.gradient([y for y, _ in pairs], captures, output_gradients=[dy for _, dy in pairs],
                                       unconnected_gradients="zero"))
        return gradients

    return tuple(cond(pred, gradient_of(true_fn), gradient_of(false_fn)))


# ---- while_loop ------------------------------------------------------------------------------


def traced_while(cond, body, loop_vars, limit, as_arguments, as_loop_tensor, check_structure):
    """``gc.while_loop`` whose predicate the program computes: one structured step (module doc)."""
    tracer = state.tracer
    flat = [as_loop_tensor(v) for v in nest.flatten(loop_vars)]
    backend = flat[0]._backend
    capture = _EveryOp()
    saved_tapes, state.recording = state.recording, [capture]
    try:
        cond_block, body_block = _trace_loop(tracer, cond, body, loop_vars, flat, as_arguments, as_loop_tensor,
                                             check_structure)
    finally:
        state.recording = saved_tapes
    names = [tracer.program.new_name() for _ in flat]
    initial = [tracer.ref(t._value) for t in flat]
    tracer.program.add_while(backend, cond_block, body_block, initial, limit, names)
    loop_cond, loop_body = block_functions(cond_block, body_block, tracer.value_of, single_first=True)
    final = backend.while_loop(loop_cond, loop_body, tuple(t._value for t in flat), limit)
    results = [_named_result(tracer, raw, like, name) for raw, like, name in zip(final, flat, names)]
    if state.recording:
        loop = _Loop(cond, body, loop_vars, flat, limit, as_arguments, as_loop_tensor)
        _record_loop_gradient(loop, capture.captures(), results)
    return nest.pack_sequence_as(loop_vars, results)


def _trace_loop(tracer, cond, body, loop_vars, flat, as_arguments, as_loop_tensor, check_structure):
    before = [(v, v._value) for v in live_variables()]
    parameters = [tracer.new_value(t) for t in flat]
    current = nest.pack_sequence_as(loop_vars, [p for p, _ in parameters])
    cond_block = Block([name for _, name in parameters])
    body_block = Block([name for _, name in parameters])
    with tracer.recording_into(cond_block):
        keep_going = cond(*current) if as_arguments else cond(current)
        keep_going = to_tensor(keep_going, op_name="gc.while_loop")
        if not keep_going._dtype.is_bool or tuple(keep_going._value.shape) != ():
            raise InvalidArgumentError(
                f"gc.while_loop: the result of cond must be a scalar bool tensor, got dtype "
                f"{keep_going._dtype.name} and shape {tuple(keep_going._value.shape)}"
            )
        cond_block.results = [tracer.ref(keep_going._value)]
    with tracer.recording_into(body_block):
        result = body(*current) if as_arguments else body(current)
        if as_arguments and not isinstance(result, (list, tuple)):
            result = [result]
        check_structure(loop_vars, result)
        new_flat = [as_loop_tensor(v, p) for v, (p, _) in zip(nest.flatten(result), parameters)]
        body_block.results = [tracer.ref(t._value) for t in new_flat]
    for variable, raw in before:
        if variable._value is not raw:
            variable._value = raw
            raise InvalidArgumentError(
                f"gc.while_loop inside gc.function: the loop assigns variable {variable.name!r}, which is not "
                f"supported yet; carry the value as a loop variable and assign it after the loop"
            )
    for position, (old, new) in enumerate(zip(flat, new_flat)):
        if old._dtype is not new._dtype or tuple(old._value.shape) != tuple(new._value.shape):
            raise ShapeError(
                f"gc.while_loop inside gc.function: loop variable {position} enters as {old._dtype.name}"
                f"{tuple(old._value.shape)} but body returns {new._dtype.name}{tuple(new._value.shape)}; "
                f"inside gc.function a loop variable keeps its shape and dtype"
            )
    return cond_block, body_block


def _named_result(tracer, raw, like, name):
    """``raw`` as the structured step's result ``name``, in an array object of its own."""
    if tracer.is_named(raw):  # a branch handing back one of its inputs as it is
        raw = like._backend.copy(raw)
    tracer.bind(raw, name)
    return Tensor(raw, like._dtype, like._backend)


class _Loop:
    """A traced while_loop as its gradient needs it: the Python functions and the initial values."""

    def __init__(self, cond, body, loop_vars, initial, limit, as_arguments, as_loop_tensor):
        self.cond, self.body, self.structure, self.initial = cond, body, loop_vars, initial
        self.limit, self.as_arguments, self.as_loop_tensor = limit, as_arguments, as_loop_tensor
        self.floats = [i for i, t in enumerate(initial) if t._dtype.is_floating]

    def call(self, fn, values):
        packed = nest.pack_sequence_as(self.structure, list(values))
        return fn(*packed) if self.as_arguments else fn(packed)

    def step(self, values):
        result = self.call(self.body, values)
        if self.as_arguments and not isinstance(result, (list, tuple)):
            result = [result]
        return [self.as_loop_tensor(v, p) for v, p in zip(nest.flatten(result), values)]


def _record_loop_gradient(loop, captures, results):
    """Note the loop on the tapes recording now as one op (see ``_loop_gradient``)."""
    for tape in state.recording:
        for x in captures:
            if isinstance(x, Variable) and tape._watch_accessed_variables and x._trainable:
                tape._watch_variable(x)
    inputs = tuple(loop.initial[i] for i in loop.floats) + tuple(captures)
    record("While", inputs, tuple(results[i] for i in loop.floats), None, functools.partial(_loop_gradient, loop))


def _loop_gradient(loop, node, *output_gradients):
    """Reverse mode through a loop whose trip count the function computes, by recomputation.

    The trip count n is counted again; then a loop from k = n - 1 down to 0 recomputes the
    state after k iterations from the initial values and pulls the gradients back through one
    iteration there. That is O(n^2) iterations in all, and it needs no stack of states.
    """
    from gradcore.engine.tape import GradientTape
    from gradcore.function.control_flow import while_loop
    from gradcore.ops.creation_ops import constant, zeros_like
    from gradcore.ops.math_ops import logical_and

    captures = list(node.inputs[len(loop.floats):])

    def running(i, *values):
        keep = to_tensor(loop.call(loop.cond, values), op_name="gc.while_loop")
        return keep if loop.limit is None else logical_and(keep, i < loop.limit)

    def counted(i, *values):
        return (i + 1, *loop.step(values))

    start = constant(0, dtype="int64")
    count = while_loop(running, counted, [start, *loop.initial])[0]

    def state_after(k):
        return list(while_loop(lambda i, *values: i < k, counted, [start, *loop.initial])[1:])

    def back_one(k, *carried):
        state = state_after(k)
        floats = [state[i] for i in loop.floats]
        with GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(floats + captures)
            out = loop.step(state)
        grads = tape.gradient([out[i] for i in loop.floats], floats + captures,
                              output_gradients=list(carried[:len(floats)]), unconnected_gradients="zero")
        sums = [a + g for a, g in zip(carried[len(floats):], grads[len(floats):])]
        return (k - 1, *grads[:len(floats)], *sums)

    carried = [*output_gradients, *(zeros_like(c) for c in captures)]
    return tuple(while_loop(lambda k, *_: k >= 0, back_one, [count - 1, *carried])[1:])
