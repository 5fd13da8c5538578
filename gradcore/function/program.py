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


class _Kernel:
    __slots__ = ("api", "args", "kernel", "out")

    def __init__(self, api, kernel, args, out):
        self.api, self.kernel, self.args, self.out = api, kernel, args, out

    def uses(self):
        return _refs(self.args)


class _Item:
    """One array of a kernel that returns several."""

    __slots__ = ("index", "out", "source")

    def __init__(self, source, index, out):
        self.source, self.index, self.out = source, index, out

    def uses(self):
        return [self.source]


class _Check:
    """A host check of computed values (docs/function.md, "Host checks")."""

    __slots__ = ("args", "backend", "check")

    def __init__(self, check, args, backend):
        self.check, self.args, self.backend = check, args, backend

    def uses(self):
        return [r.name for r in self.args if isinstance(r, Ref)]


class Program:
    """What a trace recorded; ``replay`` makes the function that runs it."""

    def __init__(self):
        self._count = 0
        self.inputs = []  # names of the flat tensor inputs, in order
        self.variable_reads = []  # (variable, name): values read at the start of a call
        self.variable_writes = []  # (variable, Ref or constant): its value at the end of a call
        self.feeds = []  # (name, make): values made on the host at each call
        self.steps = []
        self.outputs = []
        self.structure = None
        self.backend = None  # the backend of the first kernel recorded: the one that compiles

    def new_name(self):
        self._count += 1
        return self._count

    def add_kernel(self, api, kernel, args, out):
        self.steps.append(_Kernel(api, kernel, args, out))

    def add_item(self, source, index, out):
        self.steps.append(_Item(source, index, out))

    def add_check(self, check, args, backend):
        self.steps.append(_Check(check, args, backend))

    @property
    def checks(self):
        return [step for step in self.steps if isinstance(step, _Check)]

    def _results(self):
        """The Refs and constants the program hands back: outputs, then new variable values."""
        outputs = [out[1] for out in self.outputs if out[0] == "tensor"]
        return outputs, [value for _, value in self.variable_writes]

    def prune(self):
        """Drop the steps nothing returned or checked depends on (dead code)."""
        outputs, writes = self._results()
        needed = {r.name for r in outputs + writes if isinstance(r, Ref)}
        kept = []
        for step in reversed(self.steps):
            if isinstance(step, _Check) or step.out in needed:
                needed.update(step.uses())
                kept.append(step)
        self.steps = kept[::-1]
        # A variable written back with the value it was read as changes nothing.
        reads = {id(v): name for v, name in self.variable_reads}
        self.variable_writes = [
            (v, value) for v, value in self.variable_writes
            if not (isinstance(value, Ref) and reads.get(id(v)) == value.name)
        ]
        self.variable_reads = [(v, name) for v, name in self.variable_reads if name in needed]

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
        checked = []
        for step in self.steps:
            if isinstance(step, _Kernel):
                kernel = writer.constant(step.kernel)
                lines.append(f"    a{step.out} = {kernel}({writer.arguments(step.args)})")
            elif isinstance(step, _Item):
                lines.append(f"    a{step.out} = a{step.source}[{step.index}]")
            elif inline_checks:
                check = writer.constant(host_check(step.check, step.backend))
                lines.append(f"    {check}({writer.arguments(step.args)})")
            else:
                checked.append(writer.arguments(step.args))
        outputs, writes = self._results()
        lines.append(
            f"    return ({writer.tuple(outputs)}), ({writer.tuple(writes)}), ({''.join(c + ', ' for c in checked)})"
        )
        return "\n".join(lines) + "\n", writer.globals

    def replay(self, inline_checks=True):
        """The generated Python function that runs the program."""
        source, namespace = self.source(inline_checks)
        exec(compile(source, "<gc.function program>", "exec"), namespace)  # noqa: S102 - our own generated code
        return namespace["program"]


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
    return [template.name] if type(template) is Ref else []
