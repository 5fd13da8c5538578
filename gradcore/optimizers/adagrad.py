"""``gc.optimizers.Adagrad``: Keras 3's Adagrad (keras/src/optimizers/adagrad.py), epsilon inside the square root."""

from gradcore.initializers import Constant
from gradcore.ops.math_ops import sqrt, square
from gradcore.optimizers.optimizer import Optimizer, checked_float, through_float32


class Adagrad(Optimizer):
    """acc <- acc + g^2;  w <- w - lr * g / sqrt(acc + epsilon), as Keras 3 computes it.

    The accumulators start at ``initial_accumulator_value`` rounded to float32, as Keras'
    Constant initializer casts it; optax's adagrad is the same rule, torch.optim's puts
    epsilon outside the root and starts at 0.
    """

    _hyperparameters = ("initial_accumulator_value", "epsilon")

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = checked_float("initial_accumulator_value", initial_accumulator_value)
        self.epsilon = checked_float("epsilon", epsilon)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        initializer = Constant(through_float32(self.initial_accumulator_value))
        self._accumulators = self.add_optimizer_variables(self._trainable_variables, "accumulator", initializer)

    def update_step(self, gradient, variable, learning_rate):
        accumulator = self._accumulators[self._get_variable_index(variable)]
        accumulator.assign_add(square(gradient))
        variable.assign_sub(learning_rate * gradient / sqrt(accumulator + self.epsilon))

    def _fused_rule(self):
        return "adagrad_update", (self._accumulators,), (self.epsilon,)
