"""The layout keeps its promises (docs/architecture.md): imports point one way, and backends look alike."""

import ast
import importlib.util
from pathlib import Path

import gradcore

PACKAGE_ROOT = Path(gradcore.__file__).parent
BACKENDS_ROOT = Path(importlib.util.find_spec("gradcore.backends").origin).parent


def _module_name(path):
    if path.is_relative_to(BACKENDS_ROOT):
        parts = ("gradcore", "backends") + path.relative_to(BACKENDS_ROOT).with_suffix("").parts
    else:
        parts = ("gradcore",) + path.relative_to(PACKAGE_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _load_time_imports(path, modules):
    """The gradcore modules ``path`` imports while it loads (imports inside functions run later)."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gradcore"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("gradcore"))
    return {m for m in found if m in modules}


def _import_graph():
    paths = [p for root in (PACKAGE_ROOT, BACKENDS_ROOT) for p in root.rglob("*.py")]
    modules = {_module_name(p): p for p in paths}
    return {name: _load_time_imports(path, modules) for name, path in modules.items()}


def _find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for child in sorted(graph.get(node, ())):
            if state.get(child) == "open":
                return stack[stack.index(child):] + [child]
            if child not in state:
                cycle = visit(child)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_module_imports_one_that_imports_it_back():
    graph = _import_graph()
    # A package's __init__ that re-exports its children is not a cycle with them in practice,
    # but gradcore's own top-level __init__ is the only one allowed to import everything.
    graph = {name: {m for m in deps if m != "gradcore"} for name, deps in graph.items()}
    assert _find_cycle(graph) is None, " -> ".join(_find_cycle(graph))


def test_a_cycle_is_found_when_there_is_one():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_every_backend_folder_has_the_same_files():
    folders = [p for p in BACKENDS_ROOT.iterdir() if p.is_dir() and p.name.endswith("_backend")]
    layouts = {p.name: sorted(f.name for f in p.glob("*.py")) for p in folders}
    assert len(layouts) == 3, layouts
    first = next(iter(layouts.values()))
    assert all(files == first for files in layouts.values()), layouts
    assert {"backend.py", "core.py", "elementwise.py", "reductions.py", "shapes.py"} <= set(first)


def test_op_modules_never_catch_around_a_kernel():
    """Only the choke point translates backend exceptions (docs/errors.md)."""
    for path in (PACKAGE_ROOT / "ops").glob("*.py"):
        if path.name == "kernels.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Try):
                body = ast.unparse(node.body)
                assert "backend." not in body and "getattr(backend" not in body, (
                    f"{path.name}:{node.lineno} catches around a kernel call; use ops.kernels.run_kernel"
                )
