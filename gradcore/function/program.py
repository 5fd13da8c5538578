"""A recorded program: the kernel calls of one trace, and the Python function that replays them.

The replay is generated source, one line per kernel call, with kernels and constants bound
as globals: no tape, no Tensor wrapping, no dtype or shape checks (the trace did those
once). It is a pure function of arrays, ``program(*inputs, *variables, *feeds) ->
(outputs, new variable values, checked values)``, which is what a backend's compiler takes
(docs/function.md, "Compiling").
"""

import numpy as np


class Ref:
    """A value the program computes (or takes in), by name."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"a{self.name}"


class SizeRef:
    """A value the program computes from the unknown size, read off an input's shape at run time.

    ``expr`` is Python source with ``{d}`` where the size goes; ``source`` is (input name, axis).
    """

    __slots__ = ("expr", "source")

    def __init__(self, expr, source):
        self.expr, self.source = expr, source

    def render(self):
        name, axis = self.source
        return self.expr.format(d=f"a{name}.shape[{axis}]")

    def __repr__(self):
        return self.render()


class _Kernel:
    __slots__ = ("api", "args", "kernel", "out")

    def __init__(self, api, kernel, args, out):
        self.api, self.kernel, self.args, self.out = api, kernel, args, out

    def defines(self):
        return [self.out]

    def uses(self):
        return _refs(self.args)

    def emit(self, writer, lines, indent, checked):
        lines.append(f"{indent}a{self.out} = {writer.constant(self.kernel)}({writer.arguments(self.args)})")


class _Item:
    """One array of a kernel that returns several."""

    __slots__ = ("index", "out", "source")

    def __init__(self, source, index, out):
        self.source, self.index, self.out = source, index, out

    def defines(self):
        return [self.out]

    def uses(self):
        return [self.source]

    def emit(self, writer, lines, indent, checked):
        lines.append(f"{indent}a{self.out} = a{self.source}[{self.index}]")


class _Check:
    """A host check of computed values (docs/function.md, "Host checks")."""

    __slots__ = ("args", "backend", "check")

    def __init__(self, check, args, backend):
        self.check, self.args, self.backend = check, args, backend

    def defines(self):
        return []

    def uses(self):
        return _refs(self.args)

    def emit(self, writer, lines, indent, checked):
        if checked is None:
            lines.append(f"{indent}{writer.constant(host_check(self.check, self.backend))}({writer.arguments(self.args)})")
        else:
            checked.append(writer.arguments(self.args))


class Block:
    """Steps that run together (a branch, a loop's body) and the values they give back."""

    def __init__(self, parameters=()):
        self.parameters = list(parameters)  # names the block takes (a loop's variables)
        self.steps = []
        self.results = []  # Refs or constants

    def free_names(self):
        """Names the block uses but neither takes nor defines: what it captures."""
        defined = set(self.parameters)
        free = []
        for step in self.steps:
            free.extend(n for n in step.uses() if n not in defined)
            defined.update(step.defines())
        free.extend(n for n in _refs(self.results) if n not in defined)
        return free

    def prune(self, needed):
        """Keep the steps that ``needed`` (names, updated in place) or a check depends on."""
        kept = []
        for step in reversed(self.steps):
            if isinstance(step, _Check) or any(n in needed for n in step.defines()):
                if hasattr(step, "blocks"):
                    step.prune_inside()
                needed.update(step.uses())
                kept.append(step)
        self.steps = kept[::-1]

    def has_checks(self):
        return any(isinstance(s, _Check) or (hasattr(s, "blocks") and any(b.has_checks() for b in s.blocks))
                   for s in self.steps)

    def emit_function(self, name, writer, lines, indent, checked, single=False):
        """The block as a nested function returning a tuple (``single``: its one result alone)."""
        parameters = ", ".join(f"a{n}" for n in self.parameters)
        lines.append(f"{indent}def {name}({parameters}):")
        for step in self.steps:
            step.emit(writer, lines, indent + "    ", checked)
        returned = writer.value(self.results[0]) if single else f"({writer.tuple(self.results)})"
        lines.append(f"{indent}    return {returned}")


class _Cond:
    """``if pred: true block else: false block``, each giving the values named ``out``."""

    __slots__ = ("backend", "blocks", "out", "pred")

    def __init__(self, backend, pred, true_block, false_block, out):
        self.backend, self.pred, self.blocks, self.out = backend, pred, (true_block, false_block), out

    def defines(self):
        return list(self.out)

    def uses(self):
        return [self.pred.name] + [n for block in self.blocks for n in block.free_names()]

    def prune_inside(self):
        for block in self.blocks:
            block.prune(set(_refs(block.results)))

    def emit(self, writer, lines, indent, checked):
        names = [f"b{self.out[0]}_{side}" for side in ("then", "else")]
        for block, name in zip(self.blocks, names):
            block.emit_function(name, writer, lines, indent, checked)
        if _checks_run_inline(self, checked):
            # A branch's host checks must see only the taken branch: a plain Python if (a backend's
            # structured cond, jax.lax.cond, would trace both branches and run both checks).
            lines.append(f"{indent}({_targets(self.out)}) = ({names[0]} if a{self.pred.name} else {names[1]})()")
            return
        choose = writer.constant(self.backend.if_then_else)
        lines.append(f"{indent}({_targets(self.out)}) = {choose}(a{self.pred.name}, {names[0]}, {names[1]})")


class _While:
    """``while cond(vars): vars = body(vars)``, at most ``limit`` times; the final values are ``out``."""

    __slots__ = ("backend", "blocks", "initial", "limit", "out")

    def __init__(self, backend, cond_block, body_block, initial, limit, out):
        self.backend, self.blocks = backend, (cond_block, body_block)
        self.initial, self.limit, self.out = initial, limit, out

    def defines(self):
        return list(self.out)

    def uses(self):
        return _refs(self.initial) + [n for block in self.blocks for n in block.free_names()]

    def prune_inside(self):
        for block in self.blocks:
            block.prune(set(_refs(block.results)))

    def emit(self, writer, lines, indent, checked):
        names = [f"w{self.out[0]}_{part}" for part in ("cond", "body")]
        for block, name, single in zip(self.blocks, names, (True, False)):
            block.emit_function(name, writer, lines, indent, checked, single)
        if _checks_run_inline(self, checked):  # as in _Cond: the checks of the iterations that run
            state, count = f"w{self.out[0]}_state", f"w{self.out[0]}_count"
            lines.append(f"{indent}{state}, {count} = ({writer.tuple(self.initial)}), 0")
            lines.append(f"{indent}while ({self.limit!r} is None or {count} < {self.limit!r}) and {names[0]}(*{state}):")
            lines.append(f"{indent}    {state}, {count} = {names[1]}(*{state}), {count} + 1")
            lines.append(f"{indent}({_targets(self.out)}) = {state}")
            return
        loop = writer.constant(self.backend.while_loop)
        lines.append(f"{indent}({_targets(self.out)}) = {loop}({names[0]}, {names[1]}, "
                     f"({writer.tuple(self.initial)}), {self.limit!r})")


def _checks_run_inline(step, checked):
    """Whether a branch or loop step holds host checks that run where they were traced."""
    return checked is None and any(block.has_checks() for block in step.blocks)


def _targets(names):
    return "".join(f"a{n}, " for n in names)


class Program:
    """What a trace recorded; ``replay`` makes the function that runs it."""

    def __init__(self):
        self._count = 0
        self.inputs = []  # names of the flat tensor inputs, in order
        self.variable_reads = []  # (variable, name): values read at the start of a call
        self.variable_writes = []  # (variable, Ref or constant): its value at the end of a call
        self.feeds = []  # (name, make): values made on the host at each call
        self.block = Block()  # where steps go now: the program's own, or a branch's while tracing one
        self.main = self.block
        self.outputs = []
        self.structure = None
        self.backend = None  # the backend of the first kernel recorded: the one that compiles
        self.size_source = None  # (input name, axis) of the unknown size in a relaxed trace
        self.size_guards = {}  # comparison of sizes -> its value when traced: when the program holds
        # Whether the program must run as the lean replay: a step runs on the host mid-program (a collective
        # between workers), or the kernels run on several devices (replicas of a strategy).
        self.replayed = False

    @property
    def steps(self):
        return self.main.steps

    def new_name(self):
        self._count += 1
        return self._count

    def add_kernel(self, api, kernel, args, out):
        self.block.steps.append(_Kernel(api, kernel, args, out))

    def add_item(self, source, index, out):
        self.block.steps.append(_Item(source, index, out))

    def add_check(self, check, args, backend):
        self.block.steps.append(_Check(check, args, backend))

    def add_cond(self, backend, pred, true_block, false_block, out):
        self.block.steps.append(_Cond(backend, pred, true_block, false_block, out))

    def add_while(self, backend, cond_block, body_block, initial, limit, out):
        self.block.steps.append(_While(backend, cond_block, body_block, initial, limit, out))

    @property
    def checks(self):
        return [step for step in self.main.steps if isinstance(step, _Check)]

    def has_nested_checks(self):
        """Whether a check sits inside a branch or loop (it cannot be deferred to after the call)."""
        return any(hasattr(s, "blocks") and any(b.has_checks() for b in s.blocks) for s in self.main.steps)

    def _results(self):
        """The Refs and constants the program hands back: outputs, then new variable values."""
        outputs = [out[1] for out in self.outputs if out[0] == "tensor"]
        return outputs, [value for _, value in self.variable_writes]

    def prune(self):
        """Drop the steps nothing returned or checked depends on (dead code)."""
        outputs, writes = self._results()
        needed = set(_refs(outputs + writes))
        self.main.prune(needed)
        # A variable written back with the value it was read as changes nothing.
        reads = {id(v): name for v, name in self.variable_reads}
        self.variable_writes = [
            (v, value) for v, value in self.variable_writes
            if not (isinstance(value, Ref) and reads.get(id(v)) == value.name)
        ]
        self.variable_reads = [(v, name) for v, name in self.variable_reads if name in needed]

    def computes_from_inputs(self, name):
        """Whether value ``name`` is computed from the program's inputs (not only variables and draws)."""
        inputs, wanted = set(self.inputs), {name}
        for step in reversed(self.main.steps):
            if wanted.intersection(step.defines()):
                wanted.update(step.uses())
        return not inputs.isdisjoint(wanted)

    def parameter_names(self):
        return self.inputs + [name for _, name in self.variable_reads] + [name for name, _ in self.feeds]

    def source(self, inline_checks):
        """The replay's Python source and its globals.

        With ``inline_checks`` each host check runs where it was traced (a plain replay: the
        check fails before a kernel would); otherwise the checked values are returned for the
        caller to check after the call (a compiled program cannot stop on the host).
        """
        writer = _Writer()
        parameters = ", ".join(f"a{n}" for n in self.parameter_names())
        lines = [f"def program({parameters}):"]
        checked = None if inline_checks else []
        for step in self.main.steps:
            step.emit(writer, lines, "    ", checked)
        outputs, writes = self._results()
        deferred = "".join(c + ", " for c in checked or () if c)  # a check of no values returns none
        lines.append(f"    return ({writer.tuple(outputs)}), ({writer.tuple(writes)}), ({deferred})")
        return "\n".join(lines) + "\n", writer.globals

    def replay(self, inline_checks=True):
        """The generated Python function that runs the program."""
        source, namespace = self.source(inline_checks)
        return _defined(source, namespace, "program")


def block_functions(first, second, value_of, single_first=False):
    """Two blocks as Python functions over the values ``value_of(name)`` gives for the names they
    capture (the first returning its one result alone if ``single_first``: a loop's condition)."""
    free = sorted(set(first.free_names()) | set(second.free_names()))
    writer, lines = _Writer(), [f"def blocks({', '.join(f'a{n}' for n in free)}):"]
    first.emit_function("first", writer, lines, "    ", None, single=single_first)
    second.emit_function("second", writer, lines, "    ", None)
    lines.append("    return first, second")
    return _defined("\n".join(lines) + "\n", writer.globals, "blocks")(*(value_of(n) for n in free))


def _defined(source, namespace, name):
    """The function ``name`` that generated ``source`` defines, its globals ``namespace``."""
    exec(compile(source, f"<gc.function {name}>", "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace[name]


def host_check(check, backend):
    """``check`` called on the NumPy values of raw arrays."""
    def run(*raws):
        check(*(np.asarray(backend.to_numpy(raw)) for raw in raws))
    return run


class _Writer:
    """Renders arguments as source; anything not a plain literal becomes a global."""

    def __init__(self):
        self.globals = {}
        self._by_id = {}

    def constant(self, value):
        key = id(value)
        name = self._by_id.get(key)
        if name is None:
            name = f"g{len(self.globals)}"
            self._by_id[key] = name
            self.globals[name] = value
        return name

    def value(self, value):
        if type(value) is Ref:
            return f"a{value.name}"
        if type(value) is SizeRef:
            return value.render()
        if value is None or type(value) in (bool, int, str):
            return repr(value)
        if type(value) is tuple:
            return f"({self.tuple(value)})"
        if type(value) is list:
            return f"[{', '.join(self.value(v) for v in value)}]"
        return self.constant(value)

    def tuple(self, values):
        return "".join(self.value(v) + ", " for v in values)

    def arguments(self, args):
        return ", ".join(self.value(a) for a in args)


def _refs(template):
    if type(template) is list or type(template) is tuple:
        return [name for item in template for name in _refs(item)]
    if type(template) is SizeRef:
        return [template.source[0]]
    return [template.name] if type(template) is Ref else []
