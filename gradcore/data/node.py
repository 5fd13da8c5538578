"""The nodes a pipeline is built from, and the cardinality values they report.

A ``Dataset`` (dataset.py) is the public face of one node; the node does the
work. Sources (sources.py) and transformations (transforms.py, prefetch.py)
are nodes, each holding the node it reads from, so none of them needs the
Dataset class: the Dataset methods build nodes, never the other way round.

A node streams either elements or indices into a row source. Nodes that only
reorder or cut a stream pass indices through, so a ``batch`` after them
gathers a whole batch with one NumPy fancy-index instead of stacking element
by element.
"""

INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


class Node:
    """One stage of a pipeline; a subclass provides ``stream`` where it can pass indices, else ``elements``."""

    def stream(self):
        """One epoch as ``(rows, items)``: items index into ``rows``, or are elements when rows is None."""
        return None, self.elements()

    def elements(self):
        """One epoch of elements: host structures, or Tensors a map function made."""
        rows, items = self.stream()
        return items if rows is None else (rows.at(index) for index in items)

    def cardinality(self):
        """The number of elements per epoch, or INFINITE_CARDINALITY / UNKNOWN_CARDINALITY."""
        return UNKNOWN_CARDINALITY

    def element_spec(self):
        """The structure of ``gc.TensorSpec`` every element fits (specs.py)."""
        raise NotImplementedError
