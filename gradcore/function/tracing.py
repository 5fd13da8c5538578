"""The gc.function tracer: run the Python function once and record the kernels it calls.

A trace runs the function on abstract values where the backend has them (jax's tracers:
nothing computes or compiles while tracing), else on the call's real values (so the first
call's results are the eager results). Meanwhile an interceptor on the kernel choke point
writes down every kernel call whose arguments depend on the function's inputs, the
variables it reads, or the random numbers it draws. Everything else is a constant of the
program: a kernel whose arguments are all constants is folded into its trace-time result,
never re-run.

Only the program may use the traced values: asking for one on the host (``bool``, ``float``, ``.numpy()``, a Python ``if``) raises
``OperatorNotAllowedInGraphError`` naming gc.cond / gc.while_loop, so no value of one call
is ever baked into the program used by the next (docs/function.md, "Tracing").

Values are known by the identity of their raw arrays; the trace keeps each one alive so an
identity is never reused while it runs. Two roles never share one array object: every input
is traced on a copy of its own, and a variable whose array something else holds gets one too.
"""

import contextlib
import sys

from gradcore.engine import nest
from gradcore.engine.recording import state
from gradcore.engine.sizes import NeedsKnownSizes, Size
from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable, live_variables
from gradcore.errors import OperatorNotAllowedInGraphError
from gradcore.function.program import Program, Ref, SizeRef
from gradcore.function.relaxed_shapes import relaxed_shape_property
from gradcore.ops.kernels import call_kernel, intercepting
from gradcore.plugin.contract import NeedsConcreteValues

_PYTHON_SCALARS = (bool, int, float, complex, str)

# sys.getrefcount of a variable's array held by nothing else: the slot, a local name, the call's argument.
_HELD_BY_THE_SLOT_ALONE = 3

CREATED_TWICE = (
    "gc.function only supports singleton gc.Variables created on the first call. Make sure the "
    "gc.Variable is only created once or created outside gc.function."
)  # TensorFlow's message, with its names


class Trace:
    """One run of a Python function under recording; ``program(result)`` gives what it recorded."""

    def __init__(self, may_create_variables, draws=(), relaxation=None):
        self._may_create = may_create_variables
        self.relaxation = relaxation  # unknown sizes (a Relaxation), or None: every size is known
        self.draws = []  # the values of the random draws so far, in order: a retrace gets them again
        self._redraws = list(draws)
        self._names = {}  # id(raw array) -> the program's name for that value
        self._values = {}  # name -> its raw array at trace time; holding them means no id is reused
        self.program = Program()
        self._slots = {}  # id(raw array) -> the variable holding it when the trace started
        self._originals = {}  # id(variable) -> (variable, its raw array before the trace)
        self.new_variables = []
        self.abstract = False  # traced on values without data (Backend.trace_abstractly)
        self.has_effects = False  # recorded host effects: only the program runs them

    # ---- running ----------------------------------------------------------------------------

    def run(self, fn, args, kwargs, backend):
        """``fn(*args, **kwargs)`` traced: on abstract values where ``backend`` has them (None: do not
        try), else on the call's real values. Returns fn's result; after an abstract trace
        (``self.abstract``) its tensors hold no values, and the program must run to give the results."""
        result = NotImplemented if backend is None else self._run_abstract(fn, args, kwargs, backend)
        if result is not NotImplemented:
            return result
        with self._active():
            self._start_variables()
            traced_args, traced_kwargs = self._placeholders((args, kwargs), self.placeholder)
            try:
                return fn(*traced_args, **traced_kwargs)
            except NeedsKnownSizes:
                self.restore_variables()
                raise

    def _run_abstract(self, fn, args, kwargs, backend):
        tensors = [leaf for leaf in nest.flatten((args, kwargs)) if isinstance(leaf, Tensor)]
        variables = [v for v in live_variables() if v._backend is backend]
        result = []

        def body(*stand_ins):
            inputs, slots = stand_ins[:len(tensors)], stand_ins[len(tensors):]
            for variable, slot in zip(variables, slots):
                self._originals[id(variable)] = (variable, variable._value)
                self._slots[id(slot)] = variable
                variable._value = slot
            stand_in = dict(zip(map(id, tensors), inputs))
            with self._active():
                traced_args, traced_kwargs = self._placeholders(
                    (args, kwargs), lambda t: self.placeholder(Tensor(stand_in[id(t)], t._dtype, t._backend)))
                result.append(fn(*traced_args, **traced_kwargs))

        self.abstract = True
        try:
            outcome = backend.trace_abstractly(body, [t._value for t in tensors] + [v._value for v in variables])
        except BaseException:
            self.restore_variables()
            raise
        if outcome is NotImplemented:
            self.abstract = False
            return NotImplemented
        return result[0]

    @staticmethod
    def _placeholders(structure, placeholder):
        return nest.map_structure(lambda leaf: placeholder(leaf) if isinstance(leaf, Tensor) else leaf, structure)

    @contextlib.contextmanager
    def _active(self):
        """Within the block this thread's kernel calls and variable accesses are recorded."""
        saved, state.tracer = state.tracer, self
        try:
            with intercepting(self._record), relaxed_shape_property(self.relaxation is not None):
                yield self
        finally:
            state.tracer = saved

    # ---- values -------------------------------------------------------------------------------

    def _name(self, raw, name=None):
        name = self.program.new_name() if name is None else name
        self._names[id(raw)] = name
        self._values[name] = raw
        return name

    @staticmethod
    def _own_copy(raw, backend):
        """``raw`` in a new array object: one value must never stand for two roles."""
        return backend.copy(raw)

    def placeholder(self, tensor):
        """The tensor the traced function gets for input ``tensor``: a copy of its value, named as an
        input. Always a copy: the caller's array may also be a constant the function uses (gradcore
        shares the arrays of small Python numbers), and the two must not be one value of the program."""
        raw = self._own_copy(tensor._value, tensor._backend)
        name = self._name(raw)
        if self.relaxation is not None and self.program.size_source is None:
            axis = self.relaxation.first_unknown_axis(len(self.program.inputs))
            if axis is not None:
                self.program.size_source = (name, axis)  # where the program reads the unknown size
        self.program.inputs.append(name)
        return Tensor(raw, tensor._dtype, tensor._backend)

    def _lookup(self, raw):
        name = self._names.get(id(raw))
        return self._variable_read(raw) if name is None else name

    def ref(self, raw):
        """The Ref of a recorded value, or ``raw`` itself when it is a constant of the program."""
        name = self._lookup(raw)
        return raw if name is None else Ref(name)

    def is_traced(self, tensor):
        """Whether the program computes ``tensor`` (it depends on an input, a variable or a draw)."""
        return self._lookup(tensor._value) is not None

    def new_value(self, tensor):
        """``tensor``'s value in an array object of its own, under a new name: a block's parameter,
        or a result of a branch or loop that may be one of its inputs."""
        raw = self._own_copy(tensor._value, tensor._backend)
        return Tensor(raw, tensor._dtype, tensor._backend), self._name(raw)

    def is_named(self, raw):
        return id(raw) in self._names or id(raw) in self._slots

    def bind(self, raw, name):
        """Name ``raw`` as the value ``name`` (a structured step's result at trace time)."""
        self._name(raw, name)

    @contextlib.contextmanager
    def recording_into(self, block):
        """Within the block, steps go to ``block`` (a branch or a loop's body) instead."""
        saved, self.program.block = self.program.block, block
        try:
            yield block
        finally:
            self.program.block = saved

    def in_branch_or_loop(self):
        """Whether steps go to a gc.cond branch or a gc.while_loop body being traced now."""
        return self.program.block is not self.program.main

    def value_of(self, name):
        return self._values[name]

    def _template(self, value, in_shape=False, shapes=False):
        """A kernel argument with every recorded array replaced by its Ref, and every unknown size
        by its SizeRef: a Size, or with ``shapes`` a shape's multiple of the stand-in size."""
        kind = type(value)
        if kind is list or kind is tuple:
            return kind([self._template(v, True, shapes) for v in value])
        if self.relaxation is not None:
            expr = self.relaxation.expression(value, in_shape and shapes)
            if expr is not None:
                return SizeRef(expr, self.program.size_source)
        return self.ref(value)

    # ---- the interceptor -------------------------------------------------------------------------

    def _record(self, call, proceed):
        # A shape in a kernel's arguments may come from raw arrays (plain ints); the numbers of
        # gc.constant are the user's and never read as sizes (docs/function.md, "Unknown sizes").
        shapes = call.kernel != "asarray"
        args = tuple(self._template(arg, shapes=shapes) for arg in call.args)
        if self.relaxation is not None:
            self.relaxation.refuse_baked_size(call)
            call.args = _plain_sizes(call.args)  # the kernel itself gets the stand-in sizes as ints
        raw = proceed()
        if not _has_ref(args):
            return raw  # a constant: folded into this result
        if call.kernel == "to_numpy":
            raise OperatorNotAllowedInGraphError(_host_read_message(call.api, "to_numpy", None))
        kernel = getattr(call.backend, call.kernel)
        if self.program.backend is None:
            self.program.backend = call.backend
        out = self.program.new_name()
        self.program.add_kernel(call.api, kernel, args, out)
        self._name_result(raw, out, call)
        return raw

    def _name_result(self, raw, name, call):
        """Name a kernel's result; the arrays of one that returns (nested) lists or tuples each get a name."""
        if raw is None:
            return
        if type(raw) in _PYTHON_SCALARS:  # a host number from traced values: it would be baked in
            raise OperatorNotAllowedInGraphError(_host_read_message(call.api, call.kernel, None))
        self._name(raw, name)
        if type(raw) is tuple or type(raw) is list:
            for index, item in enumerate(raw):
                item_name = self.program.new_name()
                self.program.add_item(name, index, item_name)
                self._name_result(item, item_name, call)

    def host_call(self, api, backend, fn, raws):
        """``fn(*raws)``, a list of arrays computed on the host (a collective between workers), run now
        and recorded as a step the program runs at every call with that call's values."""
        if self.abstract:
            raise NeedsConcreteValues(f"{api} runs on the host with each call's values")
        args = tuple(self._template(raw) for raw in raws)
        results = list(fn(*raws))
        if not _has_ref(args):
            return results  # from constants only: a constant
        if self.program.backend is None:
            self.program.backend = backend
        out = self.program.new_name()
        self.program.add_kernel(api, fn, args, out)
        self.replay_only()
        self._name_result(results, out, _HostCall(api))
        return results

    def replay_only(self):
        """The program runs as the lean replay, never one compiled computation (docs/function.md, "Host calls")."""
        self.program.replayed = True

    def feed(self, api, backend, dtype, device, draw):
        """A value made on the host at every call (random numbers): drawn now for this call too."""
        def make():
            return call_kernel(api, backend, "asarray", draw(), dtype, device)
        # A trace run again for the same call (after creating variables) reuses the first run's
        # draws, so the random sequence advances once per call, as eagerly.
        raw = self._redraws.pop(0) if self._redraws else make()
        if self.relaxation is not None and self.relaxation.has_unknown_size(raw.shape):
            raise NeedsKnownSizes(f"{api}: random numbers of a shape with an unknown size")
        self.draws.append(raw)
        self.program.feeds.append((self._name(raw), make))
        return raw

    def check_at_every_call(self, check, tensors):
        """Record a host check of traced values, run again on each call's values; whether the
        values are abstract, so the check cannot run now."""
        if self.relaxation is not None and any(type(a) is Size for a in getattr(check, "args", ())):
            raise NeedsKnownSizes("a host check against an unknown size")
        refs = [self.ref(t._value) for t in tensors]
        if any(isinstance(r, Ref) for r in refs):
            self.program.add_check(check, refs, tensors[0]._backend)
            return self.abstract
        return False

    def effect_at_every_call(self, effect, tensors):
        """Record a host effect, run by the program at every call on that call's values (constants
        too); the trace itself runs none, so the first call's results come from the program."""
        backend = tensors[0]._backend if tensors else self.program.backend
        self.program.add_check(effect, [self.ref(t._value) for t in tensors], backend)
        self.has_effects = True

    # ---- variables -------------------------------------------------------------------------------

    def _start_variables(self):
        """Note every live variable's array, each in an array object no other value holds.

        A variable is read when its array first reaches a kernel (however the code got hold of
        it) and written when its slot holds another array at the end (docs/function.md, "Variables").
        """
        for variable in live_variables():
            raw = variable._value
            if id(raw) in self._slots or sys.getrefcount(raw) > _HELD_BY_THE_SLOT_ALONE:
                # Something else holds this array too (a snapshot tensor, another variable): it keeps
                # the old array, a constant of the program, and the variable gets its own copy.
                raw = variable._value = self._own_copy(raw, variable._backend)
            self._slots[id(raw)] = variable
            self._originals[id(variable)] = (variable, raw)

    def _variable_read(self, raw):
        """The name of ``raw`` if it is a variable's array at the start of the call, else None."""
        variable = self._slots.get(id(raw))
        if variable is None:
            return None
        name = self._name(raw)
        self.program.variable_reads.append((variable, name))
        return name

    def created(self, variable):
        if not self._may_create:
            raise ValueError(CREATED_TWICE)
        name = self._lookup(variable._value)
        if self.abstract and name is not None:
            raise NeedsConcreteValues("a variable's initial value is computed from traced values")
        if self.relaxation is not None and name is not None and self.program.computes_from_inputs(name):
            raise NeedsKnownSizes("a variable's initial value is computed from the stand-in inputs")
        self.new_variables.append(variable)
        self._originals[id(variable)] = (variable, variable._value)

    def initialize_created(self, variable, array):
        """Give ``variable``, created in this trace, the initial value ``array`` (a checkpoint's,
        restored as the variable appears): its value before the program runs, not a write of it."""
        variable._value = call_kernel("gc.train.Checkpoint.restore", variable._backend, "asarray", array,
                                      variable._dtype, variable._backend.device_of(variable._value))
        if id(variable) in self._originals:
            self._originals[id(variable)] = (variable, variable._value)

    def restore_variables(self):
        """Put every variable back as it was before the trace (one the trace created: as created)."""
        for variable, raw in self._originals.values():
            variable._value = raw

    def size_guard(self, source, result):
        """Note that the program holds only for calls where ``source`` (a Size comparison) is ``result``."""
        if self.relaxation is not None:
            self.program.size_guards[source] = result

    def shape_of(self, tensor):
        """``tensor``'s shape as gradcore code reads it here: unknown sizes of a traced value as Sizes."""
        shape = tuple(tensor._value.shape)
        if self.relaxation is None or id(tensor._value) not in self._names:
            return shape  # a constant of the program has the sizes it has
        return self.relaxation.shape(shape)

    # ---- host reads --------------------------------------------------------------------------------

    def refuse_host_read(self, value, what):
        """Raise if the host asks for a value the program computes: it would be baked in."""
        if isinstance(value, Variable) or self._lookup(value._value) is not None:
            raise OperatorNotAllowedInGraphError(_host_read_message("gc.function", what, value))

    # ---- the result ----------------------------------------------------------------------------------

    def finish(self, result):
        """The program for ``result`` (any nested structure), variable writes and dead code settled."""
        program = self.program
        program.structure = result
        program.outputs = [self._output(leaf) for leaf in nest.flatten(result)]
        program.variable_writes = [
            (variable, self.ref(variable._value)) for variable, raw in self._originals.values()
            if variable._value is not raw
        ]
        program.prune()
        return program

    def _output(self, leaf):
        if isinstance(leaf, Tensor):
            return ("tensor", self.ref(leaf._value), leaf._dtype, leaf._backend)
        return ("python", leaf)  # a Variable, a number, None ...: returned as it is


class _HostCall:
    """What ``_name_result`` reports for a host call's results."""

    def __init__(self, api):
        self.api, self.kernel = api, "host call"


def _has_ref(template):
    if type(template) is list or type(template) is tuple:
        return any(_has_ref(item) for item in template)
    return type(template) is Ref or type(template) is SizeRef


def _plain_sizes(value):
    kind = type(value)
    if kind is list or kind is tuple:
        return kind([_plain_sizes(v) for v in value])
    if kind is Size:
        return int.__int__(value)
    if kind is slice:
        return slice(_plain_sizes(value.start), _plain_sizes(value.stop), _plain_sizes(value.step))
    return value


def _host_read_message(api, what, value):
    described = "" if value is None else f" (shape {tuple(value._value.shape)}, dtype {value.dtype.name})"
    kind = "variable" if isinstance(value, Variable) else "traced tensor"
    return (
        f"{api}: {what}() of a {kind}{described} inside gc.function: its value is only known when the "
        f"function runs, and gradcore never bakes one call's value into the function. For a Python `if` "
        f"on it use gc.cond(pred, true_fn, false_fn); for a `while` loop use gc.while_loop(cond, body, "
        f"loop_vars); to look at a value, return it from the function"
    )
