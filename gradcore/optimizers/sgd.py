"""``gc.optimizers.SGD``: gradient descent with optional (Nesterov) momentum.

Keras 3's rule (keras/src/optimizers/sgd.py).
"""

from gradcore.optimizers.optimizer import Optimizer, is_real_number, through_float32


class SGD(Optimizer):
    """w -= lr * g; with momentum m <- momentum * m - lr * g, then w += m
    (Nesterov: w += momentum * m - lr * g, with the updated m), as Keras 3 computes it.

    The momentum buffer holds lr * g, so it matches torch.optim's only at a constant
    learning rate. ``momentum`` may be an int or NumPy scalar in [0, 1], where Keras 3
    insists on a Python float.
    """

    _hyperparameters = ("momentum", "nesterov")

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not is_real_number(momentum) or not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: momentum={momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = nesterov

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.momentums = self.add_optimizer_variables(self._trainable_variables, "momentum") if self.momentum else []

    def update_step(self, gradient, variable, learning_rate):
        step = gradient * learning_rate
        if not self.momentum:
            variable.assign_sub(step)
            return
        momentum = through_float32(self.momentum)  # Keras' ops.cast goes through float32
        m = self.momentums[self._get_variable_index(variable)]
        velocity = m * momentum - step
        m.assign(velocity)
        variable.assign_add(velocity * momentum - step if self.nesterov else velocity)

    def _fused_rule(self):
        momentums = self.momentums if self.momentum else None
        return "sgd_update", (momentums,), (through_float32(self.momentum), self.nesterov)
