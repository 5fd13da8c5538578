"""Composite defaults of the optimizer update kernels, for ``Backend``.

One kernel per update rule of ``gc.optimizers``, over lists: the variables' arrays,
their gradients and each slot's arrays, all of one float dtype (float32 or float64,
as the optimizer calls them), plus the step's learning rate as a 0-d array of that
dtype and the rule's Python hyperparameters. A kernel returns new arrays, one list
per list it was given, in the same order (None where a slot list is None: that
option is off); it never writes into an input. The optimizer assigns the results to
the variables and slots (gradcore/optimizers/fused.py).

Each composite is the optimizer's op-by-op ``update_step``, kernel for kernel: the
same operations in the same order, with each Python hyperparameter made a 0-d array
of the dtype as a weak scalar in an op is, so the results are the op-by-op path's
bit for bit. A backend overrides a kernel to do the same arithmetic with less
overhead (multi-tensor kernels, one compiled program); it must keep every rounding
of the op-by-op path (no fused multiply-add, no reciprocal square root), as the
conformance tests compare the two exactly (gradcore/conformance/test_fused_optimizers.py).
"""


class OptimizerComposites:
    """Mixin of ``Backend``: optimizer update rules built from its required kernels."""

    def sgd_update(self, variables, gradients, momentums, learning_rate, momentum, nesterov):
        """Keras' SGD: step = g * lr; no momentums: w <- w - step; else
        m <- m * momentum - step, then w <- w + m (Nesterov: w <- w + (m * momentum - step)).

        Returns (variables, momentums).
        """
        if momentums is None:
            return [self.subtract(w, self.multiply(g, learning_rate)) for w, g in zip(variables, gradients)], None
        momentum = self._scalar(momentum, learning_rate)
        new_variables, new_momentums = [], []
        for w, g, m in zip(variables, gradients, momentums):
            step = self.multiply(g, learning_rate)
            m = self.subtract(self.multiply(m, momentum), step)
            change = self.subtract(self.multiply(m, momentum), step) if nesterov else m
            new_variables.append(self.add(w, change))
            new_momentums.append(m)
        return new_variables, new_momentums

    def adam_update(self, variables, gradients, momentums, velocities, velocity_hats, step_size, beta_1, beta_2,
                    epsilon):
        """Keras' Adam ("epsilon hat"); ``step_size`` is the bias-corrected alpha:
            m <- m + (g - m) * (1 - beta_1);  v <- v + (g^2 - v) * (1 - beta_2)
            velocity_hats given (amsgrad): v_hat <- max(v_hat, v), used in place of v
            w <- w - m * step_size / (sqrt(v) + epsilon)

        Returns (variables, momentums, velocities, velocity_hats).
        """
        keep_1, keep_2 = self._scalar(1.0 - beta_1, step_size), self._scalar(1.0 - beta_2, step_size)
        epsilon = self._scalar(epsilon, step_size)
        hats = velocity_hats or [None] * len(variables)
        new_variables, new_momentums, new_velocities, new_hats = [], [], [], []
        for w, g, m, v, v_hat in zip(variables, gradients, momentums, velocities, hats):
            m = self.add(m, self.multiply(self.subtract(g, m), keep_1))
            v = self.add(v, self.multiply(self.subtract(self.square(g), v), keep_2))
            new_momentums.append(m)
            new_velocities.append(v)
            if v_hat is not None:
                v = self.maximum(v_hat, v)
                new_hats.append(v)
            change = self.divide(self.multiply(m, step_size), self.add(self.sqrt(v), epsilon))
            new_variables.append(self.subtract(w, change))
        return new_variables, new_momentums, new_velocities, None if velocity_hats is None else new_hats

    def rmsprop_update(self, variables, gradients, velocities, average_gradients, momentums, learning_rate, rho,
                       momentum, epsilon):
        """Keras' RMSprop, epsilon inside the root:
            v <- rho * v + (1 - rho) * g^2
            average_gradients given (centered): a <- rho * a + (1 - rho) * g;  den = v - a^2 + epsilon
            else den = v + epsilon;  increment = lr * g / sqrt(den)
            momentums given: b <- momentum * b + increment;  w <- w - b,  else w <- w - increment

        Returns (variables, velocities, average_gradients, momentums).
        """
        rho_, keep = self._scalar(rho, learning_rate), self._scalar(1.0 - rho, learning_rate)
        epsilon = self._scalar(epsilon, learning_rate)
        momentum = self._scalar(momentum, learning_rate)
        averages = average_gradients or [None] * len(variables)
        buffers = momentums or [None] * len(variables)
        new_variables, new_velocities, new_averages, new_buffers = [], [], [], []
        for w, g, v, a, b in zip(variables, gradients, velocities, averages, buffers):
            v = self.add(self.multiply(rho_, v), self.multiply(keep, self.square(g)))
            new_velocities.append(v)
            if a is None:
                denominator = self.add(v, epsilon)
            else:
                a = self.add(self.multiply(rho_, a), self.multiply(keep, g))
                new_averages.append(a)
                denominator = self.add(self.subtract(v, self.square(a)), epsilon)
            increment = self.divide(self.multiply(learning_rate, g), self.sqrt(denominator))
            if b is not None:
                increment = self.add(self.multiply(momentum, b), increment)
                new_buffers.append(increment)
            new_variables.append(self.subtract(w, increment))
        return (new_variables, new_velocities, None if average_gradients is None else new_averages,
                None if momentums is None else new_buffers)

    def adagrad_update(self, variables, gradients, accumulators, learning_rate, epsilon):
        """Keras' Adagrad: acc <- acc + g^2;  w <- w - lr * g / sqrt(acc + epsilon).

        Returns (variables, accumulators).
        """
        epsilon = self._scalar(epsilon, learning_rate)
        new_variables, new_accumulators = [], []
        for w, g, acc in zip(variables, gradients, accumulators):
            acc = self.add(acc, self.square(g))
            new_accumulators.append(acc)
            change = self.divide(self.multiply(learning_rate, g), self.sqrt(self.add(acc, epsilon)))
            new_variables.append(self.subtract(w, change))
        return new_variables, new_accumulators

    def weight_decay_update(self, variables, decay):
        """Decoupled weight decay, before an update rule: w <- w - w * decay (``decay`` = lr * weight_decay)."""
        return [self.subtract(w, self.multiply(w, decay)) for w in variables]
