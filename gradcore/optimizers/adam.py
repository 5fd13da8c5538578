"""``gc.optimizers.Adam`` and ``AdamW``: Keras 3's Adam with "epsilon hat" (keras/src/optimizers/adam.py, adamw.py)."""

from gradcore.ops.math_ops import cast, maximum, sqrt, square
from gradcore.optimizers.optimizer import Optimizer, checked_float, through_float32


class Adam(Optimizer):
    """Adam, as Keras 3 computes it, t = iterations + 1:

        alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        m <- m + (g - m) * (1 - beta_1);  v <- v + (g^2 - v) * (1 - beta_2)
        amsgrad: v_hat <- max(v_hat, v), used in place of v
        w <- w - alpha * m / (sqrt(v) + epsilon)

    epsilon is added to the *uncorrected* sqrt(v) ("epsilon hat"), so with epsilon > 0 the
    steps differ slightly from torch.optim's and optax's, which add it to the bias-corrected
    one. The bias-correction powers use float32-rounded betas, as Keras' ops.cast does; the
    moment updates use the exact Python 1 - beta. ``Adam(weight_decay=x)`` is ``AdamW(weight_decay=x)``.
    """

    _hyperparameters = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = checked_float("beta_1", beta_1)
        self.beta_2 = checked_float("beta_2", beta_2)
        self.epsilon = checked_float("epsilon", epsilon)
        self.amsgrad = amsgrad

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            self._trainable_variables, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(self._trainable_variables, "velocity_hat")

    def _step_size(self, learning_rate):
        """alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), once per step and dtype."""
        t = cast(self.iterations + 1, learning_rate.dtype)
        beta_1_power = through_float32(self.beta_1) ** t
        beta_2_power = through_float32(self.beta_2) ** t
        return learning_rate * sqrt(1.0 - beta_2_power) / (1.0 - beta_1_power)

    def update_step(self, gradient, variable, learning_rate):
        """``learning_rate`` is the bias-corrected alpha made by ``_step_size``."""
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        m.assign_add((gradient - m) * (1.0 - self.beta_1))
        v.assign_add((square(gradient) - v) * (1.0 - self.beta_2))
        if self.amsgrad:
            v_hat = self._velocity_hats[index]
            v = v_hat.assign(maximum(v_hat, v))
        variable.assign_sub(m * learning_rate / (sqrt(v) + self.epsilon))

    def _fused_rule(self):
        hats = self._velocity_hats if self.amsgrad else None
        return "adam_update", (self._momentums, self._velocities, hats), (self.beta_1, self.beta_2, self.epsilon)


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004) applied before the step: w <- w - lr * wd * w."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        checked_float("weight_decay", weight_decay)  # Keras' AdamW refuses weight_decay=None; optional in Adam
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs)
