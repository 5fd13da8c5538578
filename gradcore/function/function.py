"""``gc.function``: trace a Python function once per input signature, then run the recorded program.

The observable behaviour is ``tf.function``'s (docs/function.md; gradcore/conformance/test_function.py
cites the TensorFlow behaviour each test mirrors): one trace per signature (tensor shapes and
dtypes, Python values by value), Python side effects once per trace, variables created on
the first call only, ``Variable.assign`` inside visible outside, nested structures in and
out, and a traced value never baked into the program.
"""

import functools
import inspect
import logging
import weakref

from gradcore.engine import nest
from gradcore.engine.recording import state
from gradcore.engine.sizes import NeedsKnownSizes
from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable, live_variables
from gradcore.errors import GradcoreError
from gradcore.function.compiling import compile_program
from gradcore.function.relaxed_shapes import (
    fits,
    generalised,
    guard_function,
    relaxation_for,
    stand_in_inputs,
    unknown_positions,
    unknown_size_of,
    with_unknown_sizes,
)
from gradcore.function.signature import (
    TensorSpec,
    arrays_as_tensors,
    call_key,
    check_signature,
    spec_placeholders,
    spec_unknown_positions,
    tensor_call_key,
)
from gradcore.function.tracing import Trace
from gradcore.ops.kernels import kernel_error
from gradcore.plugin.contract import NeedsConcreteValues
from gradcore.plugin.discovery import get_backend

logger = logging.getLogger("gradcore")

#: Traces of one function after which gradcore warns about retracing, as TensorFlow does.
RETRACING_WARNING_AFTER = 5


class Function:
    """A Python function compiled per input signature; see the module doc and docs/function.md."""

    def __init__(self, python_function, input_signature=None, jit_compile=None, reduce_retracing=False):
        if not callable(python_function):
            raise TypeError(f"gc.function: expected a callable, got {type(python_function).__name__}")
        self._python_function = python_function
        self._input_signature = None if input_signature is None else _as_specs(input_signature)
        self._jit_compile = jit_compile
        self._reduce_retracing = bool(reduce_retracing)
        self._parameters = inspect.signature(python_function)
        self._concrete = {}  # call key -> ConcreteFunction
        self._relaxed = []  # (pattern, ConcreteFunction) of relaxed traces (docs/function.md, "Unknown sizes")
        self._patterns_tried = set()  # patterns traced relaxed already, or that could not be
        self._served_by_relaxed = {}  # call key -> the relaxed trace's ConcreteFunction serving it
        self._signature_positions = (
            spec_unknown_positions(self._input_signature) if self._input_signature is not None else [])
        self._tracing_count = 0
        self._traced_once = False
        self._per_instance = {}  # id(instance) -> (weak reference, its Function)
        self.__name__ = getattr(python_function, "__name__", type(python_function).__name__)
        functools.update_wrapper(self, python_function)

    # ---- methods: one Function per instance, as TensorFlow keeps one per object ----------------

    def __get__(self, instance, owner):
        if instance is None:
            return self
        key = id(instance)
        entry = self._per_instance.get(key)
        if entry is None or entry[0]() is not instance:
            try:
                reference = weakref.ref(instance, lambda _, key=key: self._per_instance.pop(key, None))
            except TypeError:  # an object that cannot be weakly referenced: keep it alive with its function
                reference = lambda: instance
            entry = (reference, Function(_method_of(self._python_function, reference), self._input_signature,
                                         self._jit_compile, self._reduce_retracing))
            self._per_instance[key] = entry
        return entry[1]

    # ---- calling ----------------------------------------------------------------------------------

    @property
    def python_function(self):
        return self._python_function

    def experimental_get_tracing_count(self):
        """How many times the Python function has been traced."""
        return self._tracing_count

    def __call__(self, *args, **kwargs):
        if state.tracer is not None:
            return self._python_function(*args, **kwargs)  # inside another function's trace: part of it
        if not kwargs and self._input_signature is None and not state.recording and not state.variable_watchers:
            # The common call (tensors in, traced before, no tape around it), in as few steps as
            # possible: its overhead is what a compiled step costs beyond the backend's program.
            concrete = self._concrete.get(tensor_call_key(args))
            if concrete is not None:
                return concrete.call_on_values([a._value for a in args])
        args, kwargs = self._canonical(args, kwargs)
        if self._input_signature is not None:
            check_signature(self._input_signature, args, kwargs)
        key, has_arrays = call_key(args, kwargs)
        if has_arrays:
            args, kwargs = arrays_as_tensors((args, kwargs))
            key, _ = call_key(args, kwargs)
        concrete = self._concrete.get(key)
        if concrete is None and self._relaxed:
            concrete = self._relaxed_for(key, (args, kwargs))
        if state.variable_watchers or (state.recording and (
                concrete is None or concrete.watched_by_a_tape(args, kwargs))):
            # An outer tape differentiates this call, or a custom_gradient notes the variables it
            # reads: run the Python body, op by op (docs/function.md, "Tapes outside a function").
            return self._python_function(*args, **kwargs)
        if concrete is None:
            return self._trace_and_call(key, args, kwargs)
        return concrete.call(args, kwargs)

    def _canonical(self, args, kwargs):
        """Positional and keyword spellings of one call made the same, defaults filled in."""
        if not kwargs and self._input_signature is None:
            return args, kwargs
        try:
            bound = self._parameters.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"gc.function {self.__name__}: {exc}") from None
        bound.apply_defaults()
        return bound.args, bound.kwargs

    def _relaxed_for(self, key, structure):
        """The relaxed trace serving this call, if one does. The answer depends on the key alone
        (its sizes decide the guards), so it is kept per key."""
        concrete = self._served_by_relaxed.get(key)
        if concrete is None:
            concrete = next((c for pattern, c in self._relaxed if fits(pattern, key) and c.serves(structure)), None)
            if concrete is not None:
                self._served_by_relaxed[key] = concrete
        return concrete

    def _trace_and_call(self, key, args, kwargs, dry=False, positions=None):
        """Trace for ``key`` (relaxed where the signature or reduce_retracing asks), keep the
        program, and return the call's result. A ``dry`` trace (for a signature alone) leaves
        every variable as it found it. ``positions``: unknown sizes a TensorSpec asked for."""
        draws = ()
        pattern = self._relaxed_pattern(key, positions)
        if pattern is not None:
            try:
                concrete, draws = self._trace_relaxed(pattern, args, kwargs)
            except NeedsKnownSizes as exc:
                logger.debug("gc.function %s: traced for the call's own shape (%s)", self.__name__, exc)
                draws = exc.draws
            else:
                if dry:
                    return None
                if concrete.serves((args, kwargs)):
                    return concrete.call(args, kwargs, draws)
                # A call the guards refuse (a size the trace compared with) gets a trace of its own.
        return self._trace_concrete(key, args, kwargs, dry, draws)

    def _relaxed_pattern(self, key, positions):
        """The pattern a relaxed trace for this call would serve, or None for a trace of its own."""
        positions = positions or self._signature_positions
        if positions:
            pattern = with_unknown_sizes(key, positions)
        elif self._reduce_retracing:
            # As TensorFlow: a call like an earlier one but for some sizes gets a trace with those
            # sizes unknown.
            earlier = list(self._concrete) + [p for p, _ in self._relaxed]
            pattern = next((g for g in (generalised(k, key) for k in earlier)
                            if g is not None and g not in self._patterns_tried), None)
        else:
            return None
        return None if pattern is None or pattern in self._patterns_tried else pattern

    def _trace_relaxed(self, pattern, args, kwargs):
        self._patterns_tried.add(pattern)
        relaxation = relaxation_for((args, kwargs), unknown_positions(pattern), live_variables())
        stand_in_args, stand_in_kwargs = stand_in_inputs((args, kwargs), relaxation)
        trace, _, program = self._trace_program(stand_in_args, stand_in_kwargs, relaxation)
        trace.restore_variables()  # the stand-ins' results are not this call's: the program gives those
        concrete = ConcreteFunction(program, self._jit_compile, self.__name__, relaxation.positions)
        self._relaxed.append((pattern, concrete))
        return concrete, trace.draws

    def _trace_concrete(self, key, args, kwargs, dry, draws=()):
        trace, result, program = self._trace_program(args, kwargs, draws=draws)
        # An abstract trace computed no values, and one with host effects ran none of them: the
        # program gives this call's results then.
        from_program = trace.abstract or trace.has_effects
        if dry or from_program:
            trace.restore_variables()
        concrete = self._concrete[key] = ConcreteFunction(program, self._jit_compile, self.__name__)
        if from_program and not dry:
            return concrete.call(args, kwargs, trace.draws)
        return result

    def _trace_program(self, args, kwargs, relaxation=None, draws=()):
        """Trace the Python function; its program, settled before any variable is restored."""
        trace, result = self._trace(args, kwargs, not self._traced_once, draws, relaxation)
        if trace.new_variables:
            # As TensorFlow: trace again to make sure a second trace creates none; the first
            # trace's updates are undone, so the call counts once.
            trace.restore_variables()
            trace, result = self._trace(args, kwargs, False, trace.draws, relaxation)
        program = trace.finish(result)  # before any restore: it reads the variables' last arrays
        self._traced_once = True
        return trace, result, program

    def _trace(self, args, kwargs, may_create_variables, draws=(), relaxation=None):
        self._tracing_count += 1
        if self._tracing_count == RETRACING_WARNING_AFTER + 1:
            logger.warning(
                "gc.function %s has been traced %d times: each new input shape, dtype or Python value "
                "makes a new trace. Pass tensors rather than Python numbers, or give an input_signature.",
                self.__name__, self._tracing_count,
            )
        backend = _backend_of(args, kwargs)
        trace = Trace(may_create_variables, draws, relaxation)
        try:
            return trace, trace.run(self._python_function, args, kwargs, backend)
        except NeedsConcreteValues as exc:
            logger.debug("gc.function %s: tracing on the real values (%s)", self.__name__, exc)
        except NeedsKnownSizes as exc:
            exc.draws = trace.draws  # a trace of the call's own shape draws the same numbers
            raise
        trace = Trace(may_create_variables, trace.draws, relaxation)
        try:
            return trace, trace.run(self._python_function, args, kwargs, backend=None)
        except NeedsKnownSizes as exc:
            exc.draws = trace.draws
            raise

    def get_concrete_function(self, *args, **kwargs):
        """The concrete function for these arguments (tensors, or ``gc.TensorSpec`` for an input;
        a ``None`` size in a spec gives one that serves every size)."""
        if not args and not kwargs and self._input_signature is not None:
            args = tuple(self._input_signature)
        args, kwargs = self._canonical(args, kwargs)
        positions = spec_unknown_positions((args, kwargs))
        concrete_args, concrete_kwargs = spec_placeholders((args, kwargs))
        concrete_args, concrete_kwargs = arrays_as_tensors((concrete_args, concrete_kwargs))
        key, _ = call_key(concrete_args, concrete_kwargs)
        pattern = with_unknown_sizes(key, positions) if positions else None
        found = self._traced_for(key, pattern)
        if found is None:
            self._trace_and_call(key, concrete_args, concrete_kwargs, dry=True, positions=positions)
            found = self._traced_for(key, pattern)
        return BoundConcreteFunction(self, found)

    def _traced_for(self, key, pattern):
        """The relaxed trace for ``pattern`` if there is one, else the trace for ``key``, else None."""
        relaxed = next((c for p, c in self._relaxed if p == pattern), None)
        return relaxed or self._concrete.get(key)

    def __repr__(self):
        return f"<gc.function {self.__name__}>"


class ConcreteFunction:
    """One trace's program, compiled for its backend, and how to call it."""

    def __init__(self, program, jit_compile, name, unknown_positions=()):
        self._program = program
        self._unknown_positions = unknown_positions  # where a relaxed trace's unknown size is
        self._keeps_guards = guard_function(program.size_guards)
        self._name = name
        self._variables = [v for v, _ in program.variable_reads]
        self._written = [v for v, _ in program.variable_writes]
        self._outputs = program.outputs
        self._run = compile_program(program, jit_compile)

    @property
    def program(self):
        return self._program

    def serves(self, structure):
        """Whether a relaxed trace's program holds for this call (its unknown sizes one size, and
        every guard kept)."""
        size = unknown_size_of(structure, self._unknown_positions)
        return size is not None and self._keeps_guards(size)

    def watched_by_a_tape(self, args, kwargs):
        """Whether a recording tape would record something of this call (its inputs or variables)."""
        inputs = [leaf for leaf in nest.flatten((args, kwargs)) if isinstance(leaf, (Tensor, Variable))]
        for tape in state.recording:
            tracked = tape._tracked
            if any(id(x) in tracked for x in inputs) or any(
                    id(v) in tracked or (tape._watch_accessed_variables and v._trainable) for v in self._variables):
                return True
        return False

    def call(self, args, kwargs, draws=None):
        """Run the program on this call's values; ``draws``: the random values the trace drew for it."""
        return self.call_on_values([leaf._value for leaf in nest.flatten((args, kwargs)) if isinstance(leaf, Tensor)],
                                   draws)

    def call_on_values(self, flat, draws=None):
        """``call`` given the arrays of the call's tensors, in order."""
        flat.extend(v._value for v in self._variables)
        flat.extend([make() for _, make in self._program.feeds] if draws is None else draws)
        try:
            outputs, written = self._run(*flat)
        except GradcoreError:
            raise
        except Exception as exc:  # the backend's own error, as an op's becomes one (docs/errors.md)
            backend = self._program.backend or get_backend()
            raise kernel_error(f"gc.function {self._name}", backend, "program", flat, exc) from exc
        for variable, raw in zip(self._written, written):
            variable._value = raw
        return self._pack(outputs)

    def _pack(self, raws):
        raws = iter(raws)
        leaves = [
            Tensor(next(raws), out[2], out[3]) if out[0] == "tensor" else out[1] for out in self._outputs
        ]
        return nest.pack_sequence_as(self._program.structure, leaves)


class BoundConcreteFunction:
    """What ``get_concrete_function`` returns: callable with the traced signature."""

    def __init__(self, function, concrete):
        self._function = function
        self.structured_outputs = concrete.program.structure

    def __call__(self, *args, **kwargs):
        return self._function(*args, **kwargs)


def _backend_of(args, kwargs):
    """The backend of the call's first tensor argument, else the current one."""
    for leaf in nest.flatten((args, kwargs)):
        if isinstance(leaf, (Tensor, Variable)):
            return leaf._backend
    return get_backend()


def _method_of(python_function, reference):
    """``python_function`` bound to the instance ``reference`` points to, without keeping it alive."""
    @functools.wraps(python_function)
    def method(*args, **kwargs):
        return python_function(reference(), *args, **kwargs)
    return method


def _as_specs(signature):
    specs = list(signature)
    for spec in nest.flatten(specs):
        if not isinstance(spec, TensorSpec):
            raise TypeError(f"gc.function: input_signature must hold gc.TensorSpec objects, got {spec!r}")
    return specs


def function(func=None, input_signature=None, autograph=True, jit_compile=None, reduce_retracing=False,
             experimental_implements=None, experimental_autograph_options=None, experimental_attributes=None,
             experimental_relax_shapes=None, experimental_compile=None, experimental_follow_type_hints=None):
    """Compile ``func`` into a graph-speed callable, as ``tf.function``: a decorator, with or without arguments.

    ``autograph`` is accepted and changes nothing: gradcore never rewrites Python control flow
    (docs/function.md, "What gradcore does not convert").
    """
    if experimental_relax_shapes is not None:
        reduce_retracing = reduce_retracing or experimental_relax_shapes
    if experimental_compile is not None and jit_compile is None:
        jit_compile = experimental_compile

    def decorate(python_function):
        return Function(python_function, input_signature, jit_compile, reduce_retracing)

    return decorate if func is None else decorate(func)
