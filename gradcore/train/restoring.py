"""Putting a checkpoint's values into the object graph, now or when the objects appear.

A restore matches each saved key to the object at that path. Every match is checked (dtype
and shape) before any value is written, so a checkpoint that does not fit changes nothing.
A key whose object does not exist yet (a layer not built, an optimizer slot not made) waits
on the deepest object of its path that does exist, and is restored the moment the missing
child is added to it (gradcore/engine/tracking.py): TensorFlow's restore-on-create
(docs/checkpoints.md, "Restoring").
"""

import numpy as np

from gradcore.engine import dtypes, tracking
from gradcore.engine.module import is_trackable
from gradcore.engine.recording import state as recording_state
from gradcore.engine.variables import Variable
from gradcore.errors import InvalidArgumentError
from gradcore.train.graph import STATE, children_of, join, saveables


class Restoration:
    """The values of one restore, and which of them have found their objects."""

    def __init__(self, values, file_prefix):
        self.file_prefix = file_prefix
        self.unresolved = dict(values)  # key -> value not yet put into an object
        self.bound = set()  # ids of the Variables and (object, state) pairs that received a value

    def restore(self, root):
        """Put every value whose object exists under ``root``; the rest wait for their objects."""
        self._into(root, "", self.unresolved)

    def _into(self, obj, prefix, values):
        found = saveables(obj)
        relative = {key[len(prefix):].lstrip("/") if prefix else key: key for key in values}
        matches = [(found[rel], full) for rel, full in relative.items() if rel in found]
        for target, key in matches:
            self._check(target, key, values[key])  # all checked before anything changes
        for target, key in matches:
            self._assign(target, values[key])
            self.bound.add(identity_of(target))
            del self.unresolved[key]
        for rel, full in relative.items():
            if rel not in found:
                self._wait(obj, prefix, rel, full)

    def _check(self, target, key, value):
        if isinstance(target, Variable):
            saved = dtypes.as_dtype(value.dtype)
            if saved is not target.dtype or tuple(value.shape) != tuple(target.shape):
                raise InvalidArgumentError(
                    f"gc.train.Checkpoint: the value of {key!r} in {self.file_prefix} has dtype "
                    f"{saved.name} and shape {tuple(value.shape)}, but the variable {target.name!r} it "
                    f"restores has dtype {target.dtype.name} and shape {tuple(target.shape)}; "
                    f"restore into the program that wrote the checkpoint"
                )

    @staticmethod
    def _assign(target, value):
        if isinstance(target, Variable):
            tracer = recording_state.tracer
            # A distributed variable's copies are restored one by one, wherever the restore happens
            # (a slot made inside strategy.run: docs/distribute.md, "Checkpoints").
            split = getattr(target, "_restored_copies", None)
            for variable, array in (split(np.asarray(value)) if split else [(target, np.asarray(value))]):
                if tracer is None:
                    variable.assign(array)
                else:  # made inside a gc.function trace (a slot): the value is its initial value
                    tracer.initialize_created(variable, array)
        else:
            obj, name = target
            obj._restore_trackable_state(name, value)

    def _wait(self, obj, prefix, relative, key):
        """Wait on the deepest existing object along ``relative`` (below ``obj``) for the rest."""
        names = relative.split("/")
        parent, path = obj, prefix
        for depth, name in enumerate(names):
            if name == STATE:
                return  # a state of an existing object it no longer keeps: stays unresolved
            child = children_of(parent).get(name)
            if child is None:
                _Waiting.add(parent, path, self)
                return
            parent, path = child, join(path, name)

    def child_added(self, parent, path, name, child):
        """``parent`` (at ``path``) got ``child``: restore the waiting values below it."""
        below = join(path, name)
        if not is_trackable(child):
            return True
        values = {key: self.unresolved[key] for key in self.unresolved
                  if key == below or key.startswith(below + "/")}
        if values:
            self._into(child, below, values)
        return any(key.startswith(path + "/") or not path for key in self.unresolved)


def identity_of(target):
    """What a restore notes as bound: a Variable's id, or (object's id, state name)."""
    return id(target) if isinstance(target, Variable) else (id(target[0]), target[1])


class _Waiting:
    """The restorations waiting on one parent object, registered in gradcore.engine.tracking."""

    def __init__(self, parent):
        self.parent = parent  # held, so its id is not reused while values wait on it
        self.entries = []  # (path of parent, Restoration)

    @classmethod
    def add(cls, parent, path, restoration):
        waiting = tracking.waiting.get(id(parent))
        if waiting is None:
            waiting = cls(parent)
            tracking.waiting[id(parent)] = waiting
        if (path, restoration) not in waiting.entries:
            waiting.entries.append((path, restoration))

    def __call__(self, parent, name, child):
        self.entries = [(path, r) for path, r in self.entries if r.child_added(parent, path, name, child)]
        if not self.entries:
            tracking.waiting.pop(id(parent), None)
