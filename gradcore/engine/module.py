"""``gc.Module``: tf.Module's automatic tracking of variables and submodules.

Nothing is registered when an attribute is assigned. ``variables``,
``trainable_variables``, ``submodules`` ... walk the module's attributes when
asked, as tf.Module does, so a variable appended to a list attribute later is
found too. Attributes holding Variables, Modules, and lists, tuples and dicts of
them (nested to any depth) are followed; everything else is ignored.

Order is TensorFlow's (``tf.Module._flatten``): a module first yields what its
own attributes hold, attributes in sorted name order, lists in order and dicts
by sorted key; then it walks each submodule met, in that order, the same way.
A value reachable twice (two attributes, a shared layer, a cycle) is reported
once, where it is first met. Layers keep this walk but visit attributes in
assignment order, which is Keras' weight order (gradcore/layers/base.py).
"""

import functools
import re
import threading

from gradcore.engine import thread_state, tracking
from gradcore.engine.variables import Variable


class _Scopes(threading.local):
    def __init__(self):
        self.current = ""  # the innermost entered scope, "outer/inner/"; "" at top level


_scopes = _Scopes()
thread_state.attribute(_scopes, "current")


class NameScope:
    """A context manager that enters one absolute name scope and yields its name ("outer/inner/")."""

    def __init__(self, name):
        self.name = name
        self._outer = []

    def __enter__(self):
        self._outer.append(_scopes.current)
        _scopes.current = self.name
        return self.name

    def __exit__(self, *exc):
        _scopes.current = self._outer.pop()


def camel_to_snake(name):
    """'BatchNormalization' -> 'batch_normalization', 'Conv2D' -> 'conv2d' (Keras' to_snake_case)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class Module:
    """A named container whose Variables and submodules are found automatically, as ``tf.Module``.

    Subclass it and assign Variables, Modules, or lists/tuples/dicts of them as attributes::

        class Affine(gc.Module):
            def __init__(self, n_in, n_out, name=None):
                super().__init__(name=name)
                self.w = gc.Variable(gc.random.normal((n_in, n_out)), name="w")
                self.b = gc.Variable(gc.zeros((n_out,)), name="b")

    ``Affine(2, 3).trainable_variables`` is then ``(b, w)`` (sorted attribute names).
    """

    #: Walk attributes and dict keys in sorted order (tf.Module); Layers use assignment order.
    _assignment_order = False
    #: tf.Module answers with tuples, Keras layers with lists.
    _collection = tuple

    def __init__(self, name=None):
        name = self._chosen_name(name)
        self._name = name
        # Fixed at construction, as TF: the scope a module enters is the one it was created in.
        self._scope_name = f"{_scopes.current}{name}/"

    def _chosen_name(self, name):
        if name is None:
            return camel_to_snake(type(self).__name__)
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"{name!r} is not a valid module name: module names must be valid Python identifiers "
                f"(letters, digits and underscores, not starting with a digit)"
            )
        return name

    @property
    def name(self):
        return self._name

    @property
    def name_scope(self):
        """A context manager entering this module's scope (its creation scope + name + '/')."""
        return NameScope(self._scope_name)

    @classmethod
    def with_name_scope(cls, method):
        """Decorator: run ``method`` inside ``self.name_scope``, as ``tf.Module.with_name_scope``."""

        @functools.wraps(method)
        def method_in_name_scope(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)

        return method_in_name_scope

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if tracking.waiting:  # a checkpoint restore waits for children created later
            tracking.child_added(self, name, value)

    # ---- tracking ------------------------------------------------------------------------

    def _trackable_children(self):
        """Attributes holding Variables, Modules, other trackables or containers of them, public
        names first: a value reachable twice is saved under its first name (docs/checkpoints.md)."""
        names = sorted(vars(self), key=lambda name: (name.startswith("_"), name))
        return {name: vars(self)[name] for name in names if is_trackable(vars(self)[name])}

    @property
    def variables(self):
        """Every Variable of this module and its submodules, each once."""
        return self._collection(self._flatten(_is_variable))

    @property
    def trainable_variables(self):
        return self._collection(self._flatten(_is_trainable_variable))

    @property
    def non_trainable_variables(self):
        return self._collection(self._flatten(_is_non_trainable_variable))

    @property
    def submodules(self):
        """Every Module below this one (not itself), each once."""
        return self._collection(self._flatten(_is_module))

    def _flatten(self, predicate, recursive=True):
        """The values reachable from this module's attributes that satisfy ``predicate``, in TF's order."""
        return _walk(self, predicate, recursive, {id(self)})

    def _attribute_values(self):
        items = vars(self).items()
        return [value for _, value in (items if self._assignment_order else sorted(items, key=_by_key))]


_TRACKED = (Variable, Module, dict, list, tuple)


def _walk(module, predicate, recursive, seen):
    submodules = []
    for attribute in module._attribute_values():
        if not isinstance(attribute, _TRACKED):  # most attributes: skip them without a generator
            continue
        for leaf in _leaves(attribute, module._assignment_order):
            if id(leaf) in seen:
                continue
            seen.add(id(leaf))
            if predicate(leaf):
                yield leaf
            if recursive and isinstance(leaf, Module):
                submodules.append(leaf)
    for submodule in submodules:
        yield from _walk(submodule, predicate, recursive, seen)


def _leaves(value, assignment_order):
    """The Variables and Modules inside ``value``, looking through lists, tuples and dicts."""
    if isinstance(value, (Variable, Module)):
        yield value
    elif isinstance(value, dict):
        for _, item in value.items() if assignment_order else sorted(value.items(), key=_by_key):
            yield from _leaves(item, assignment_order)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item, assignment_order)


def _by_key(item):
    return item[0]


def _is_variable(value):
    return isinstance(value, Variable)


def _is_trainable_variable(value):
    return isinstance(value, Variable) and value.trainable


def _is_non_trainable_variable(value):
    return isinstance(value, Variable) and not value.trainable


def _is_module(value):
    return isinstance(value, Module)


def is_trackable(value):
    """Whether a checkpoint follows ``value``: a Variable, a trackable, or a container holding one."""
    if isinstance(value, Variable) or (hasattr(value, "_trackable_children") and not isinstance(value, type)):
        return True
    if isinstance(value, dict):
        return any(is_trackable(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_trackable(v) for v in value)
    return False
