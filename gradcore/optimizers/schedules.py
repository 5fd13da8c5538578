"""``gc.optimizers.schedules``: learning rates as functions of the step, as Keras 3's.

An optimizer calls ``schedule(iterations)`` once per step, before it increments
``iterations``, as Keras does. The formulas, argument checks and configs are Keras'
(keras/src/optimizers/schedules/learning_rate_schedule.py). The arithmetic is gradcore
ops on the float32 step, with the Python hyperparameters as weak scalars, so a
schedule returns a float32 scalar Tensor (Keras computes in the dtype of
``convert_to_tensor(initial_learning_rate)``, float32) on the step's backend and
device, and traces under gc.function.
"""

import math

from gradcore.engine import dtypes
from gradcore.engine.convert import to_tensor
from gradcore.ops.creation_ops import ones_like
from gradcore.ops.math_ops import cast, ceil, cos, equal, floor, less, log, minimum, pow, where


class LearningRateSchedule:
    """Base class: subclasses define ``__call__(step)`` and list their arguments in ``_config_keys``."""

    _config_keys = None

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule {type(self).__name__!r} must override `__call__(self, step)`.")

    def get_config(self):
        if self._config_keys is None:
            raise NotImplementedError(f"Learning rate schedule {type(self).__name__!r} must override `get_config()`.")
        return {key: getattr(self, key) for key in self._config_keys}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _float_step(step):
    return cast(to_tensor(step, op_name="LearningRateSchedule"), dtypes.float32)


def _check_positive(name, value):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class _DecayOverSteps(LearningRateSchedule):
    """The schedules of (initial_learning_rate, decay_steps, decay_rate, staircase)."""

    _config_keys = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name")

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name or type(self).__name__

    def _progress(self, step):
        """step / decay_steps, floored if ``staircase``."""
        p = _float_step(step) / float(self.decay_steps)
        return floor(p) if self.staircase else p


class ExponentialDecay(_DecayOverSteps):
    """initial_learning_rate * decay_rate ^ (step / decay_steps), the exponent floored if ``staircase``."""

    def __call__(self, step):
        return float(self.initial_learning_rate) * pow(float(self.decay_rate), self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step <= boundaries[0], values[i] while step <= boundaries[i], then values[-1].

    A step equal to a boundary belongs to the interval on its left, as in Keras.
    """

    _config_keys = ("boundaries", "values", "name")

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"The length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = to_tensor(step, op_name="PiecewiseConstantDecay")
        # Keras casts the boundaries to the step's dtype: an integer step truncates float boundaries.
        as_step_type = float if step.dtype.is_floating else int
        bounds = [as_step_type(b) for b in self.boundaries]
        # Only one interval holds the step, so the sum of indicator * value is that value, exactly.
        result = cast(step <= bounds[0], dtypes.float32) * float(self.values[0])
        for low, high, value in zip(bounds[:-1], bounds[1:], self.values[1:-1]):
            result += cast((step > low) & (step <= high), dtypes.float32) * float(value)
        return result + cast(step > bounds[-1], dtypes.float32) * float(self.values[-1])


class PolynomialDecay(LearningRateSchedule):
    """(initial - end) * (1 - step / decay_steps) ^ power + end, the step capped at decay_steps.

    With ``cycle`` the horizon is instead the first multiple of decay_steps not below the step.
    """

    _config_keys = ("initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle", "name")

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        step = _float_step(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            # At step 0 the multiplier is 1, not ceil(0) = 0.
            decay_steps = decay_steps * where(equal(step, 0.0), 1.0, ceil(step / decay_steps))
        else:
            step = minimum(step, decay_steps)
        end = float(self.end_learning_rate)
        decayed = pow(1.0 - step / decay_steps, float(self.power))
        return (float(self.initial_learning_rate) - end) * decayed + end


class InverseTimeDecay(_DecayOverSteps):
    """initial_learning_rate / (1 + decay_rate * step / decay_steps), the ratio floored if ``staircase``."""

    def __call__(self, step):
        return float(self.initial_learning_rate) / (1.0 + float(self.decay_rate) * self._progress(step))


def _cosine_decay(step, decay_steps, alpha):
    """(1 - alpha) * (1 + cos(pi * step / decay_steps)) / 2 + alpha: from 1 down to alpha."""
    cosine = 0.5 * (1.0 + cos(math.pi * (step / decay_steps)))
    return (1.0 - alpha) * cosine + alpha


class CosineDecay(LearningRateSchedule):
    """Cosine decay from the initial rate to ``alpha`` times it over decay_steps, then flat.

    The step is clipped at decay_steps, as in Keras.

    With ``warmup_target`` the rate first rises linearly from initial_learning_rate to
    warmup_target over warmup_steps, then decays from warmup_target.
    """

    _config_keys = ("initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target", "warmup_steps")

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        step = _float_step(step)
        initial, decay_steps, alpha = float(self.initial_learning_rate), float(self.decay_steps), float(self.alpha)
        if self.warmup_target is None:
            return initial * _cosine_decay(minimum(step, decay_steps), decay_steps, alpha)
        target, warmup_steps = float(self.warmup_target), float(self.warmup_steps)
        step = minimum(step, decay_steps + warmup_steps)
        # Both branches are computed (no data-dependent Python branch, so gc.function can trace it);
        # max(warmup_steps, 1) keeps the unused warmup branch finite when warmup_steps is 0.
        warming = (target - initial) * (step / max(warmup_steps, 1.0)) + initial
        decaying = target * _cosine_decay(step - warmup_steps, decay_steps, alpha)
        return where(less(step, warmup_steps), warming, decaying)


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay (SGDR) restarted after first_decay_steps, each period t_mul times longer and
    starting m_mul times lower than the one before."""

    _config_keys = ("initial_learning_rate", "first_decay_steps", "t_mul", "m_mul", "alpha", "name")

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        _check_positive("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        step = _float_step(step)
        fraction = step / float(self.first_decay_steps)
        t_mul = float(self.t_mul)
        if t_mul == 1.0:
            restart = floor(fraction)
            fraction = fraction - restart
        else:
            # Periods 1, t, t^2 ...: restart i begins at fraction (1 - t^i) / (1 - t). log(t) is a
            # float32 tensor op, as in Keras, so a step on a boundary lands in the same period.
            log_t_mul = log(ones_like(step) * t_mul)
            restart = floor(log(1.0 - fraction * (1.0 - t_mul)) / log_t_mul)
            elapsed = (1.0 - pow(t_mul, restart)) / (1.0 - t_mul)
            fraction = (fraction - elapsed) / pow(t_mul, restart)
        alpha = float(self.alpha)
        cosine = 0.5 * pow(float(self.m_mul), restart) * (1.0 + cos(math.pi * fraction))
        return float(self.initial_learning_rate) * ((1.0 - alpha) * cosine + alpha)
