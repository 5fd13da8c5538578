"""Cases for clipping (gradcore/ops/clip_ops.py): composites of registered ops, run through the harness.

Inputs keep away from the kinks (a value on a clip bound, a norm equal to
clip_norm), so central differences measure the true derivative; the values
and gradients exactly at those points are TensorFlow's, asserted in
test_clipping.py. References follow TF's formulas in NumPy.
"""

import numpy as np

import gradcore as gc

from . import OpCase

NORM_OPS = ("Square", "Sum", "Greater", "SelectV2", "Sqrt", "Mul", "Maximum", "RealDiv")


def away_from(bounds, *shapes):
    """Normal draws nudged at least 0.05 away from each value in ``bounds``."""
    def inputs(rng):
        arrays = [rng.normal(scale=1.5, size=s) for s in shapes]
        for a in arrays:
            for b in bounds:
                near = np.abs(a - b) < 0.05
                a[near] += 0.1
        return arrays
    return inputs


def bounded_inputs(rng):
    """t, and per-column bounds min < max that broadcast over t's rows, no value near a bound."""
    low, high = rng.uniform(-1.0, -0.2, size=(4,)), rng.uniform(0.2, 1.0, size=(4,))
    t = rng.uniform(-2.0, 2.0, size=(3, 4))
    t = np.where(np.abs(t - low) < 0.05, t + 0.1, t)
    t = np.where(np.abs(t - high) < 0.05, t - 0.1, t)
    return [t, low, high]


def clip_norm_reference(clip, axes=None):
    def reference(t):
        norm = np.sqrt(np.sum(t * t, axis=axes, keepdims=True))
        return t * clip / np.maximum(norm, clip)
    return reference


def global_clip_reference(a, b, clip=1.0):
    norm = np.sqrt(np.sum(a * a) + np.sum(b * b))
    return (a + 2 * b) * clip / max(norm, clip)


def global_clipped_sum(a, b):
    """A tensor-valued function of the clipped list, so the harness can weight it."""
    (ca, cb), _ = gc.clip_by_global_norm([a, b], 1.0)
    return ca + 2.0 * cb


CASES = [
    OpCase("clip-by-value", ("Minimum", "Maximum"), lambda t: gc.clip_by_value(t, -0.7, 0.9),
           lambda t: np.clip(t, -0.7, 0.9), away_from((-0.7, 0.9), (3, 4))),
    # Tensor bounds: their gradients are summed over the rows they broadcast over, as in TF.
    OpCase("clip-by-value-tensor-bounds", ("Minimum", "Maximum"), gc.clip_by_value,
           lambda t, low, high: np.minimum(np.maximum(t, low), high), bounded_inputs, grad=(0, 1, 2)),
    OpCase("clip-by-norm-clipped", NORM_OPS, lambda t: gc.clip_by_norm(t, 1.0), clip_norm_reference(1.0),
           lambda rng: [rng.normal(size=(3, 4))]),  # norm ~ 3.5, far above 1
    OpCase("clip-by-norm-unclipped", NORM_OPS, lambda t: gc.clip_by_norm(t, 100.0), clip_norm_reference(100.0),
           lambda rng: [rng.normal(size=(3, 4))]),
    # Per-row norms: rows of scale 0.1 stay, rows of scale 3 are clipped to norm 1.
    OpCase("clip-by-norm-axes", NORM_OPS, lambda t: gc.clip_by_norm(t, 1.0, axes=[1]), clip_norm_reference(1.0, 1),
           lambda rng: [rng.normal(size=(4, 5)) * np.array([[0.1], [3.0], [0.1], [3.0]])]),
    OpCase("clip-by-norm-tensor-clip", NORM_OPS, gc.clip_by_norm,
           lambda t, clip: t * clip / np.maximum(np.sqrt(np.sum(t * t)), clip),
           lambda rng: [rng.normal(size=(3, 4)), np.array(1.5)], grad=(0, 1)),
    OpCase("clip-by-average-norm", NORM_OPS, lambda t: gc.clip_by_average_norm(t, 0.2),
           clip_norm_reference(0.2 * 12), lambda rng: [rng.normal(scale=2.0, size=(3, 4))]),
    OpCase("global-norm", ("Square", "Sum", "AddV2", "Sqrt"), lambda a, b: gc.linalg.global_norm([a, None, b]),
           lambda a, b: np.sqrt(np.sum(a * a) + np.sum(b * b)),
           lambda rng: [rng.normal(size=(3, 2)), rng.normal(size=(4,))], grad=(0, 1)),
    OpCase("clip-by-global-norm", ("Square", "Sum", "AddV2", "Sqrt", "Maximum", "RealDiv", "Sub", "Mul"),
           global_clipped_sum, global_clip_reference, lambda rng: [rng.normal(size=(2, 3)), rng.normal(size=(2, 3))],
           grad=(0, 1)),
]
