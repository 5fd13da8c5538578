"""Children by name: the object graph that checkpoints walk (docs/checkpoints.md, "The object graph").

A *trackable* object names its children: ``_trackable_children()`` returns ``{name: child}``,
where a child is a Variable (a leaf whose value is saved), another trackable, or a list,
tuple or dict of them (children by position or key). An object may also keep Python state
that is not a Variable (a counter, a generator's state): ``_trackable_state()`` returns
``{name: NumPy array}`` and ``_restore_trackable_state(name, array)`` puts one back.

A restore that meets a child not created yet waits for it: whoever creates a child later
(an attribute set on a Module, an optimizer's slot, a metric's variable) reports it with
``child_added``, and the waiting restoration takes it (gradcore/train/deferred.py).
"""

#: id(parent) -> callback(parent, name, child): restorations waiting for a child of parent.
waiting = {}


def child_added(parent, name, child):
    """``parent`` has a new child ``name``: a restoration waiting for it may take it now."""
    callback = waiting.get(id(parent))
    if callback is not None:
        callback(parent, name, child)
