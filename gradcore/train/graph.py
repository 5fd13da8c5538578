"""Walking the object graph: every Variable and every piece of Python state, by its path.

A path is the names from the checkpoint's root down to the value, joined with "/" (a
list's children are its positions, a dict's its keys): ``model/_layers/0/kernel``. A
Variable's key is its path; a trackable's Python state ``name`` is saved under
``<path>/.state/<name>`` (no attribute name starts with a dot, so the two never collide).
An object reachable along several paths is saved once, under the first: children are
visited in the order each object names them (gradcore/engine/tracking.py). The paths do not
depend on the backend, the process or the variables' own names, so a checkpoint restores
into the same Python program on any backend (docs/checkpoints.md, "The object graph").
"""

import collections

from gradcore.engine.module import is_trackable
from gradcore.engine.variables import Variable

STATE = ".state"


def children_of(obj):
    """``{name: child}`` of one object of the graph (empty for a Variable or a plain value)."""
    if isinstance(obj, Variable):
        return {}
    if isinstance(obj, dict):
        return {str(key): value for key, value in obj.items() if is_trackable(value)}
    if isinstance(obj, (list, tuple)):
        return {str(index): value for index, value in enumerate(obj) if is_trackable(value)}
    method = getattr(obj, "_trackable_children", None)
    return {} if method is None or isinstance(obj, type) else method()


def state_of(obj):
    """The Python state an object keeps outside Variables, ``{name: NumPy array}``."""
    method = getattr(obj, "_trackable_state", None)
    return {} if method is None or isinstance(obj, type) else method()


def join(path, name):
    return name if not path else f"{path}/{name}"


def state_key(path, name):
    return join(join(path, STATE), name)


def walk(root):
    """``(path, object)`` for every object reachable from ``root`` (not root itself), each once,
    parents before children."""
    seen, order, frontier = {id(root)}, [], collections.deque([("", root)])
    while frontier:
        path, obj = frontier.popleft()
        for name, child in children_of(obj).items():
            if id(child) in seen:
                continue
            seen.add(id(child))
            child_path = join(path, name)
            order.append((child_path, child))
            frontier.append((child_path, child))
    return order


def saveables(root):
    """``{key: Variable or (object, state name)}``: what a checkpoint of ``root`` holds, by key."""
    found = {}
    for path, obj in [("", root), *walk(root)]:
        if isinstance(obj, Variable):
            found[path] = obj
        for name in state_of(obj):
            found[state_key(path, name)] = (obj, name)
    return found
