"""``PerReplica``: one value per replica, what ``strategy.run`` returns and distributed datasets give."""

from gradcore.engine import nest


class PerReplica(nest.Composite):
    """The values of the local replicas, in replica order (``tf.distribute.DistributedValues``).

    ``strategy.experimental_local_results(v)`` gives the tuple; ``strategy.reduce`` and
    ``strategy.gather`` combine them (with the other workers' in multi-worker training).
    """

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = tuple(values)

    def _components(self):
        return self.values

    def _rebuilt(self, items):
        return PerReplica(items)

    def __repr__(self):
        body = ", ".join(f"{i}: {v!r}" for i, v in enumerate(self.values))
        return f"PerReplica:{{\n  {body}\n}}"


def regroup(results):
    """One structure from each replica's result: a leaf the replicas share stays as it is (None, a
    variable, a Python value); leaves that differ become PerReplica."""
    first = results[0]
    flat = [nest.flatten(r) for r in results]
    if any(len(f) != len(flat[0]) for f in flat):
        raise ValueError("strategy.run: the replicas returned values of different structures: "
                         f"{[type(r).__name__ for r in results]}")
    leaves = [f[0] if all(x is f[0] for x in f) else PerReplica(f) for f in zip(*flat)]
    return nest.pack_sequence_as(first, leaves)


def select_replica(structure, index):
    """``structure`` as replica ``index`` sees it: each PerReplica replaced by its value."""
    if isinstance(structure, PerReplica):
        return structure.values[index]
    if isinstance(structure, dict):
        return type(structure)((key, select_replica(item, index)) for key, item in structure.items())
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):  # a namedtuple
        return type(structure)(*(select_replica(item, index) for item in structure))
    if isinstance(structure, (list, tuple)):
        return type(structure)(select_replica(item, index) for item in structure)
    return structure
