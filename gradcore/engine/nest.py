"""Flattening and rebuilding nested lists, tuples and dicts, as ``tf.nest``.

Dicts flatten in sorted key order; the types of lists, tuples and dicts are kept
when a structure is rebuilt, as TF's tape does for nested sources. A ``Composite``
(gc.distribute's PerReplica) flattens into its components, as TensorFlow's composite
tensors do, so gc.function sees the tensors inside it. Everything else is a leaf.
"""


class Composite:
    """A value made of other values: ``_components()`` lists them, ``_rebuilt(items)`` makes a new one."""

    def _components(self):
        raise NotImplementedError

    def _rebuilt(self, items):
        raise NotImplementedError


def _is_structure(value):
    return isinstance(value, (list, tuple, dict, Composite))


def _children(value):
    if isinstance(value, dict):
        return [value[k] for k in sorted(value)]
    if isinstance(value, Composite):
        return list(value._components())
    return list(value)


def flatten(structure):
    """The leaves of ``structure`` in order."""
    if not _is_structure(structure):
        return [structure]
    leaves = []
    for child in _children(structure):
        leaves.extend(flatten(child))
    return leaves


def pack_sequence_as(structure, flat):
    """``flat`` rebuilt into the shape of ``structure``."""
    flat = list(flat)
    result, used = _pack(structure, flat, 0)
    if used != len(flat):
        raise ValueError(f"structure has {used} leaves but {len(flat)} values were given")
    return result


def _pack(structure, flat, start):
    if not _is_structure(structure):
        return flat[start], start + 1
    if isinstance(structure, dict):
        packed = {}
        for key in sorted(structure):
            packed[key], start = _pack(structure[key], flat, start)
        return type(structure)((k, packed[k]) for k in structure), start
    items = []
    for child in _children(structure):
        item, start = _pack(child, flat, start)
        items.append(item)
    if isinstance(structure, Composite):
        return structure._rebuilt(items), start
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):  # namedtuple
        return type(structure)(*items), start
    return type(structure)(items), start


def map_structure(fn, structure):
    """``fn`` applied to every leaf, structure kept."""
    return pack_sequence_as(structure, [fn(leaf) for leaf in flatten(structure)])
