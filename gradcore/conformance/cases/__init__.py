"""Conformance cases for ops: one ``OpCase`` per behaviour, collected from the modules here.

A case names the registry op types it covers, a gradcore function, a float64
NumPy reference and an input generator. ``test_ops.py`` runs every case the
same way (forward per dtype, gradient against finite differences, second
order), and ``test_coverage.py`` fails if a registered op has no case.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

FLOATS = ("float16", "bfloat16", "float32", "float64")


@dataclass(frozen=True)
class OpCase:
    name: str  # unique test id
    ops: tuple  # registry op types this case exercises
    fn: Callable  # (*gradcore tensors) -> gradcore Tensor
    reference: Callable  # (*float64 NumPy arrays) -> NumPy array, the expected value
    inputs: Callable  # (np.random.Generator) -> list of NumPy arrays (float64 for float inputs)
    grad: tuple = (0,)  # positions of inputs to differentiate; () = not differentiable
    second_order: bool = True  # also check the gradient of the gradient
    dtypes: tuple = FLOATS  # dtypes the float inputs are cast to for the forward check
    variables: tuple = ()  # positions passed as gc.Variable instead of constants
    relative: bool = False  # outputs far below 1: compare values with the table's rtol alone (atol = 0)
    tags: tuple = field(default=())

    def __repr__(self):
        return f"OpCase({self.name})"


def uniform(low, high, *shapes):
    """An input generator of float64 arrays uniformly drawn in [low, high)."""
    return lambda rng: [rng.uniform(low, high, size=s) for s in shapes]


def normal(*shapes):
    return lambda rng: [rng.normal(size=s) for s in shapes]


def all_cases():
    cases = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        cases.extend(getattr(module, "CASES", ()))
    names = [c.name for c in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"duplicate conformance case names: {sorted(duplicates)}")
    return cases


def inputs_for(case, seed=0):
    return case.inputs(np.random.default_rng(seed))
