"""``gc.optimizers.RMSprop``: Keras 3's RMSprop, epsilon inside the square root (keras/src/optimizers/rmsprop.py)."""

from gradcore.ops.math_ops import sqrt, square
from gradcore.optimizers.optimizer import Optimizer, checked_float


class RMSprop(Optimizer):
    """RMSprop as Keras 3 computes it:

        v <- rho * v + (1 - rho) * g^2
        centered: a <- rho * a + (1 - rho) * g;  den = v - a^2 + epsilon,  else den = v + epsilon
        inc = lr * g / sqrt(den)
        momentum > 0: b <- momentum * b + inc;  w <- w - b,  else w <- w - inc

    epsilon is inside the root (as optax's eps_in_sqrt, unlike torch.optim), and the
    momentum buffer holds lr * g / sqrt(den) (torch.optim's holds g / sqrt(den)), so the two
    agree only at a constant learning rate.
    """

    _hyperparameters = ("rho", "momentum", "epsilon", "centered")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = checked_float("rho", rho)
        self.momentum = checked_float("momentum", momentum)
        self.epsilon = checked_float("epsilon", epsilon)
        self.centered = centered

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        variables = self._trainable_variables
        self._velocities = self.add_optimizer_variables(variables, "velocity")
        self._momentums = self.add_optimizer_variables(variables, "momentum") if self.momentum > 0 else []
        self._average_gradients = self.add_optimizer_variables(variables, "average_gradient") if self.centered else []

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        rho = self.rho
        velocity = self._velocities[index]
        velocity.assign(rho * velocity + (1.0 - rho) * square(gradient))
        if self.centered:
            average = self._average_gradients[index]
            average.assign(rho * average + (1.0 - rho) * gradient)
            denominator = velocity - square(average) + self.epsilon
        else:
            denominator = velocity + self.epsilon
        increment = learning_rate * gradient / sqrt(denominator)
        if self.momentum > 0:
            momentum = self._momentums[index]
            increment = momentum.assign(self.momentum * momentum + increment)
        variable.assign_sub(increment)

    def _fused_rule(self):
        averages = self._average_gradients if self.centered else None
        momentums = self._momentums if self.momentum > 0 else None
        return "rmsprop_update", (self._velocities, averages, momentums), (self.rho, self.momentum, self.epsilon)
