"""Optimizer update kernels: each rule of gc.optimizers over lists of arrays, in NumPy.

The same roundings in the same order as the contract's composites
(gradcore/plugin/optimizer_composites.py), one variable at a time. Only arrays
made here are written in place (augmented assignments), never an input, so each
result is built in one new array: allocating and freeing variable-sized arrays
costs more than the arithmetic. A Python float meets a float array as a weak
scalar (NEP 50), rounded to the array's dtype, as the core's 0-d scalar arrays are.
"""

import numpy as np


def _subtracted_from(x, w):
    """w - x, written over the temporary x (0-d inputs give an immutable NumPy scalar: then a new one)."""
    return np.subtract(w, x, out=x) if type(x) is np.ndarray else w - x


class OptimizerKernels:
    """One loop over the variables per rule; results are new arrays, inputs untouched."""

    def sgd_update(self, variables, gradients, momentums, learning_rate, momentum, nesterov):
        if momentums is None:
            return [_subtracted_from(g * learning_rate, w) for w, g in zip(variables, gradients)], None
        new_variables, new_momentums = [], []
        for w, g, m in zip(variables, gradients, momentums):
            step = g * learning_rate
            m = m * momentum
            m -= step  # m * momentum - step
            if nesterov:
                change = m * momentum
                change -= step
                change += w  # w + (m * momentum - step)
                new_variables.append(change)
            else:
                new_variables.append(w + m)
            new_momentums.append(m)
        return new_variables, new_momentums

    def adam_update(self, variables, gradients, momentums, velocities, velocity_hats, step_size, beta_1, beta_2,
                    epsilon):
        new_variables, new_momentums, new_velocities = [], [], []
        new_hats = None if velocity_hats is None else []
        for k, (w, g, m, v) in enumerate(zip(variables, gradients, momentums, velocities)):
            m_new = g - m
            m_new *= 1.0 - beta_1
            m_new += m  # m + (g - m) * (1 - beta_1)
            v_new = np.square(g)
            v_new -= v
            v_new *= 1.0 - beta_2
            v_new += v  # v + (g^2 - v) * (1 - beta_2)
            new_momentums.append(m_new)
            new_velocities.append(v_new)
            if new_hats is not None:
                v_new = np.maximum(velocity_hats[k], v_new)
                new_hats.append(v_new)
            denominator = np.sqrt(v_new)
            denominator += epsilon
            change = m_new * step_size
            change /= denominator
            new_variables.append(_subtracted_from(change, w))
        return new_variables, new_momentums, new_velocities, new_hats

    def rmsprop_update(self, variables, gradients, velocities, average_gradients, momentums, learning_rate, rho,
                       momentum, epsilon):
        new_variables, new_velocities = [], []
        new_averages = None if average_gradients is None else []
        new_buffers = None if momentums is None else []
        for k, (w, g, v) in enumerate(zip(variables, gradients, velocities)):
            v_new = v * rho
            v_new += (1.0 - rho) * np.square(g)  # rho * v + (1 - rho) * g^2
            new_velocities.append(v_new)
            if new_averages is None:
                denominator = v_new + epsilon
            else:
                a = average_gradients[k] * rho
                a += (1.0 - rho) * g
                new_averages.append(a)
                denominator = _subtracted_from(np.square(a), v_new)  # v - a^2
                denominator += epsilon
            increment = g * learning_rate
            increment /= np.sqrt(denominator)
            if new_buffers is None:
                new_variables.append(_subtracted_from(increment, w))
                continue
            b = momentums[k] * momentum
            b += increment  # momentum * b + increment
            new_buffers.append(b)
            new_variables.append(w - b)
        return new_variables, new_velocities, new_averages, new_buffers

    def adagrad_update(self, variables, gradients, accumulators, learning_rate, epsilon):
        new_variables, new_accumulators = [], []
        for w, g, acc in zip(variables, gradients, accumulators):
            acc_new = np.square(g)
            acc_new += acc  # acc + g^2
            new_accumulators.append(acc_new)
            change = g * learning_rate
            change /= np.sqrt(acc_new + epsilon)
            new_variables.append(_subtracted_from(change, w))
        return new_variables, new_accumulators

    def weight_decay_update(self, variables, decay):
        return [_subtracted_from(w * decay, w) for w in variables]
