"""Optimizer update kernels: each rule of gc.optimizers as torch's multi-tensor (foreach) ops.

The same roundings in the same order as the contract's composites
(gradcore/plugin/optimizer_composites.py), each operation one ``torch._foreach_*``
call over all the variables: one fused launch per operation on CUDA, one C++ loop
on the CPU. Only arrays made here are written in place, never an input: on the
CPU, allocating and freeing variable-sized arrays every step costs more than the
arithmetic, so each result is built in the first array made for it. A step
``w - x`` that lands in x's array is computed as ``(-x) + w``, with -x made by
negating the step's scalar (x = g * lr becomes g * -lr): IEEE rounding is symmetric
and subtraction is the addition of the negation, so the bits are the same. A
Python float meets a float32 or float64 tensor as a weak scalar, rounded to its
dtype, as the core's 0-d scalar arrays are; the optimizer uses these kernels only
for those two dtypes.
"""

import torch


def _squares(xs):
    """x * x for each x: what torch.square computes."""
    return torch._foreach_mul(xs, xs)


def _step_down(variables, numerators, rate, denominators):
    """w - numerator * rate / denominator for each w: the last line of the root-scaled rules.

    On the CPU it is one pass, ``addcdiv``: torch computes w + (value * t1) / t2, a multiply, a
    divide, then an add, which no compiler can contract into a fused multiply-add, so its bits are
    those of the three separate ops (gradcore/conformance/test_fused_optimizers.py checks it). Its
    value is a host number: exact, as the rate is a float32 or float64 0-d tensor, but reading it
    waits for the device, so on CUDA the three ops run as separate launches instead. So they do
    under torch.compile (gc.function(jit_compile=True)), where reading a number breaks the graph
    in two and made the compiled Adam step 3x slower than the uncompiled one; inductor fuses them.
    """
    if rate.device.type == "cpu" and not torch.compiler.is_compiling():
        return torch._foreach_addcdiv(variables, numerators, denominators, -rate.item())
    results = torch._foreach_mul(numerators, torch.neg(rate))
    torch._foreach_div_(results, denominators)
    torch._foreach_add_(results, variables)
    return results


class OptimizerKernels:
    """A few torch._foreach_* calls per rule; results are new tensors, inputs untouched."""

    def sgd_update(self, variables, gradients, momentums, learning_rate, momentum, nesterov):
        negative_steps = torch._foreach_mul(gradients, torch.neg(learning_rate))  # -(g * lr)
        if momentums is None:
            torch._foreach_add_(negative_steps, variables)  # w - g * lr
            return negative_steps, None
        momentums = torch._foreach_mul(momentums, momentum)
        torch._foreach_add_(momentums, negative_steps)  # m * momentum - step
        if not nesterov:
            return torch._foreach_add(variables, momentums), momentums
        changes = torch._foreach_mul(momentums, momentum)
        torch._foreach_add_(changes, negative_steps)
        torch._foreach_add_(changes, variables)  # w + (m * momentum - step)
        return changes, momentums

    def adam_update(self, variables, gradients, momentums, velocities, velocity_hats, step_size, beta_1, beta_2,
                    epsilon):
        new_momentums = torch._foreach_sub(gradients, momentums)
        torch._foreach_mul_(new_momentums, 1.0 - beta_1)
        torch._foreach_add_(new_momentums, momentums)  # m + (g - m) * (1 - beta_1)
        new_velocities = _squares(gradients)
        torch._foreach_sub_(new_velocities, velocities)
        torch._foreach_mul_(new_velocities, 1.0 - beta_2)
        torch._foreach_add_(new_velocities, velocities)  # v + (g^2 - v) * (1 - beta_2)
        new_hats = None if velocity_hats is None else torch._foreach_maximum(velocity_hats, new_velocities)
        denominators = torch._foreach_sqrt(new_velocities if new_hats is None else new_hats)
        torch._foreach_add_(denominators, epsilon)
        results = _step_down(variables, new_momentums, step_size, denominators)  # w - m * step_size / (sqrt(v) + eps)
        return results, new_momentums, new_velocities, new_hats

    def rmsprop_update(self, variables, gradients, velocities, average_gradients, momentums, learning_rate, rho,
                       momentum, epsilon):
        new_velocities = torch._foreach_mul(velocities, rho)
        squares = _squares(gradients)
        torch._foreach_mul_(squares, 1.0 - rho)
        torch._foreach_add_(new_velocities, squares)  # rho * v + (1 - rho) * g^2
        new_averages = None
        if average_gradients is None:
            denominators = torch._foreach_add(new_velocities, epsilon)
        else:
            new_averages = torch._foreach_mul(average_gradients, rho)
            torch._foreach_add_(new_averages, torch._foreach_mul(gradients, 1.0 - rho))
            denominators = torch._foreach_sub(new_velocities, _squares(new_averages))
            torch._foreach_add_(denominators, epsilon)
        torch._foreach_sqrt_(denominators)
        if momentums is None:
            results = _step_down(variables, gradients, learning_rate, denominators)  # w - g * lr / sqrt(den)
            return results, new_velocities, new_averages, None
        increments = torch._foreach_mul(gradients, learning_rate)
        torch._foreach_div_(increments, denominators)
        new_buffers = torch._foreach_mul(momentums, momentum)
        torch._foreach_add_(new_buffers, increments)  # momentum * b + increment
        return torch._foreach_sub(variables, new_buffers), new_velocities, new_averages, new_buffers

    def adagrad_update(self, variables, gradients, accumulators, learning_rate, epsilon):
        new_accumulators = _squares(gradients)
        torch._foreach_add_(new_accumulators, accumulators)  # acc + g^2
        denominators = torch._foreach_add(new_accumulators, epsilon)
        torch._foreach_sqrt_(denominators)
        results = _step_down(variables, gradients, learning_rate, denominators)  # w - g * lr / sqrt(acc + eps)
        return results, new_accumulators

    def weight_decay_update(self, variables, decay):
        results = torch._foreach_mul(variables, torch.neg(decay))
        torch._foreach_add_(results, variables)  # w - w * decay
        return results
