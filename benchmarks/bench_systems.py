"""The benchmark's workloads, written once per system: the same math, float32, in every one.

A system is one way of running the workloads: gradcore on a backend, or a
native autodiff. Each has ``available()`` (None, or why it cannot run here)
and, per workload, a method that builds one step as a zero-argument callable
returning what the step computed, so tests can check that the systems agree:

- ``chain_step()``: the gradient of sum(chain(x)) for x;
- ``mlp_step(sizes, batch)``: the loss, before the step's SGD update;
- ``mlp_adam_step(sizes, batch)``: the same, with an Adam update (each system's own
  Adam where it has one: gc.optimizers.Adam, torch.optim.Adam, optax.adam);
- ``matmul_step(size)``: (loss, gradient for a, gradient for b).

Every step finishes its kernels before it returns (torch on CPU does; jax is
blocked on, or made synchronous by bench_autodiff.configure_jax), so timing a
step times its work.
"""

import importlib.util
import itertools

import numpy as np

CHAIN_OPS = 100
CHAIN_SIZE = 64
MLP_SIZES = (784, 256, 256, 10)
BATCH = 128
MATMUL_SIZE = 1024
LEARNING_RATE = 0.01
ADAM_LEARNING_RATE = 1e-3
ADAM_BETAS = (0.9, 0.999)
# Keras' default, given to every system. gradcore adds it to the uncorrected sqrt(v) ("epsilon hat"),
# torch.optim and optax to the bias-corrected one: the steps differ only where sqrt(v) is near epsilon,
# where the gradient, and so the effect on the loss, is near zero.
ADAM_EPSILON = 1e-7


def chain(ns, x, c):
    """The chain workload's forward pass, written once for any NumPy-like namespace ``ns``."""
    for _ in range(CHAIN_OPS // 5):
        x = ns.tanh(x)
        x = ns.exp(x)
        x = ns.sin(x)
        x = x * c
        x = x + c
    return x


def chain_data(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=CHAIN_SIZE).astype(np.float32),
            rng.uniform(0.5, 1.0, size=CHAIN_SIZE).astype(np.float32))


def mlp_data(sizes=MLP_SIZES, batch=BATCH, seed=0):
    """Glorot-scaled float32 weights, zero biases, a batch of inputs and one-hot labels."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        scale = np.sqrt(2.0 / (fan_in + fan_out))
        params += [(rng.normal(size=(fan_in, fan_out)) * scale).astype(np.float32),
                   np.zeros(fan_out, np.float32)]
    x = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    labels = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], size=batch)]
    return params, x, labels


def matmul_data(size=MATMUL_SIZE, seed=0):
    """Two float32 matrices scaled so a @ b is about unit-variance: tanh neither saturates nor is linear."""
    rng = np.random.default_rng(seed)
    return tuple((rng.normal(size=(size, size)) / size**0.25).astype(np.float32) for _ in range(2))


def adam(ns):
    """(init, update) of Adam written with a NumPy-like namespace, torch.optim's formula, functional.

    For the systems without an Adam of their own: HIPS autograd and jax eager.
    """
    beta_1, beta_2 = ADAM_BETAS

    def init(params):
        return 0, [ns.zeros_like(p) for p in params], [ns.zeros_like(p) for p in params]

    def update(params, grads, state):
        t, ms, vs = state
        t += 1
        ms = [beta_1 * m + (1 - beta_1) * g for m, g in zip(ms, grads)]
        vs = [beta_2 * v + (1 - beta_2) * (g * g) for v, g in zip(vs, grads)]
        step_size = ADAM_LEARNING_RATE / (1 - beta_1**t)
        correction = 1 / (1 - beta_2**t) ** 0.5
        params = [p - step_size * m / (ns.sqrt(v) * correction + ADAM_EPSILON) for p, m, v in zip(params, ms, vs)]
        return params, (t, ms, vs)

    return init, update


def layers(params):
    """(weight, bias) of each hidden layer, then of the output layer."""
    return list(zip(params[0:-2:2], params[1:-2:2])), (params[-2], params[-1])


# ---- systems ---------------------------------------------------------------------------------


class Gradcore:
    """gradcore on one backend, eager: GradientTape, Variables updated by assign_sub or an optimizer.

    Each step is a function of its data (``train(x, labels)``, as a train_step gets its
    batch) that ``compile`` may wrap: eagerly it is the function itself.
    """

    def __init__(self, backend="numpy"):
        self.backend = backend
        self.name = f"gradcore[{backend}]"

    def available(self):
        import gradcore as gc

        try:
            with gc.backend_scope(self.backend):
                return None
        except gc.BackendUnavailableError as exc:
            return str(exc).splitlines()[0]

    def compile(self, fn):
        return fn

    def constants(self, *arrays):
        import gradcore as gc

        with gc.backend_scope(self.backend):
            return [gc.constant(a) for a in arrays]

    def _step(self, fn, *data):
        """``fn(*data)`` run in this system's backend, ``fn`` compiled as the system does."""
        import gradcore as gc

        def in_backend(*args):
            with gc.backend_scope(self.backend):
                return fn(*args)

        compiled = self.compile(in_backend)
        return lambda: compiled(*data)

    def chain_step(self):
        import gradcore as gc

        def gradient(x, c):
            with gc.GradientTape() as tape:
                tape.watch(x)
                loss = gc.reduce_sum(chain(gc, x, c))
            return tape.gradient(loss, x)

        return self._step(gradient, *self.constants(*chain_data()))

    def mlp_step(self, sizes=MLP_SIZES, batch=BATCH):
        def update(grads, variables):
            for v, g in zip(variables, grads):
                v.assign_sub(LEARNING_RATE * g)

        return self._mlp_train(sizes, batch, update)

    def mlp_adam_step(self, sizes=MLP_SIZES, batch=BATCH):
        import gradcore as gc

        with gc.backend_scope(self.backend):
            optimizer = gc.optimizers.Adam(ADAM_LEARNING_RATE, *ADAM_BETAS, epsilon=ADAM_EPSILON)
        return self._mlp_train(sizes, batch, lambda grads, variables: optimizer.apply_gradients(zip(grads, variables)))

    def _mlp_train(self, sizes, batch, update):
        """A step of the MLP: the loss and its gradient on a tape, then ``update(grads, variables)``."""
        import gradcore as gc

        params, x, labels = mlp_data(sizes, batch)
        with gc.backend_scope(self.backend):
            variables = [gc.Variable(p) for p in params]

        def train(x, labels):
            with gc.GradientTape() as tape:
                loss = gradcore_mlp_loss(gc, variables, x, labels)
            update(tape.gradient(loss, variables), variables)
            return loss

        return self._step(train, *self.constants(x, labels))

    def matmul_step(self, size=MATMUL_SIZE):
        import gradcore as gc

        def value_and_gradients(a, b):
            with gc.GradientTape() as tape:
                tape.watch([a, b])
                loss = gc.reduce_sum(gc.tanh(gc.matmul(a, b)))
            return (loss, *tape.gradient(loss, [a, b]))

        return self._step(value_and_gradients, *self.constants(*matmul_data(size)))


class GradcoreFunction(Gradcore):
    """gradcore with each step under ``gc.function`` (``jit_compile=True``: torch.compile on torch)."""

    def __init__(self, backend="numpy", jit_compile=None):
        super().__init__(backend)
        self.jit_compile = jit_compile
        self.name = f"gradcore[{backend}]+{'jit' if jit_compile else 'function'}"

    def available(self):
        reason = super().available()
        if reason is None and self.jit_compile and importlib.util.find_spec("torch") is None:
            return "torch is not installed"
        return reason

    def compile(self, fn):
        import gradcore as gc

        return gc.function(fn, jit_compile=self.jit_compile)


def gradcore_mlp_loss(gc, variables, x, labels):
    hidden, (w_out, b_out) = layers(variables)
    h = x
    for w, b in hidden:
        h = gc.nn.relu(gc.matmul(h, w) + b)
    logits = gc.matmul(h, w_out) + b_out
    return gc.reduce_mean(gc.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))


class Autograd:
    """HIPS autograd: functional grad over autograd.numpy, parameters updated in place."""

    name = "autograd"

    def available(self):
        return None if importlib.util.find_spec("autograd") else "not installed (pip install autograd)"

    def chain_step(self):
        import autograd
        import autograd.numpy as anp

        x, c = chain_data()
        grad = autograd.grad(lambda x: anp.sum(chain(anp, x, c)))
        return lambda: grad(x)

    def mlp_step(self, sizes=MLP_SIZES, batch=BATCH):
        def update(params, grads):
            for p, g in zip(params, grads):
                p -= LEARNING_RATE * g

        return self._mlp_train(sizes, batch, update)

    def mlp_adam_step(self, sizes=MLP_SIZES, batch=BATCH):
        init, update = adam(np)
        state = []

        def adam_update(params, grads):
            if not state:
                state.append(init(params))
            params[:], state[0] = update(params, grads, state[0])

        return self._mlp_train(sizes, batch, adam_update)

    def _mlp_train(self, sizes, batch, update):
        """A step: value_and_grad of the MLP's loss, then ``update(params, grads)`` changes ``params`` in place."""
        import autograd
        import autograd.numpy as anp
        from autograd.scipy.special import logsumexp

        params, x, labels = mlp_data(sizes, batch)

        def loss(params):
            hidden, (w_out, b_out) = layers(params)
            h = x
            for w, b in hidden:
                h = anp.maximum(anp.dot(h, w) + b, 0.0)
            logits = anp.dot(h, w_out) + b_out
            return anp.mean(logsumexp(logits, axis=1) - anp.sum(labels * logits, axis=1))

        grad = autograd.value_and_grad(loss)

        def step():
            value, grads = grad(params)
            update(params, grads)
            return value

        return step

    def matmul_step(self, size=MATMUL_SIZE):
        import autograd
        import autograd.numpy as anp

        grad = autograd.value_and_grad(lambda ab: anp.sum(anp.tanh(anp.dot(ab[0], ab[1]))))
        ab = matmul_data(size)

        def step():
            value, (da, db) = grad(ab)
            return value, da, db

        return step


class Torch:
    """PyTorch eager: torch.autograd, and torch.optim's SGD or Adam for the MLP's update, as they run by
    default (on the CPU: one parameter at a time, in place)."""

    name = "torch"

    def available(self):
        return None if importlib.util.find_spec("torch") else "not installed (pip install '.[torch]')"

    def compile(self, fn):
        return fn

    def chain_step(self):
        import torch

        x, c = map(torch.from_numpy, chain_data())
        x.requires_grad_()
        loss_fn = self.compile(lambda x, c: torch.sum(chain(torch, x, c)))

        def step():
            (grad,) = torch.autograd.grad(loss_fn(x, c), x)
            return grad

        return step

    def mlp_step(self, sizes=MLP_SIZES, batch=BATCH):
        import torch

        return self._mlp_train(sizes, batch, lambda params: torch.optim.SGD(params, lr=LEARNING_RATE))

    def mlp_adam_step(self, sizes=MLP_SIZES, batch=BATCH):
        import torch

        return self._mlp_train(sizes, batch, lambda params: torch.optim.Adam(
            params, lr=ADAM_LEARNING_RATE, betas=ADAM_BETAS, eps=ADAM_EPSILON))

    def _mlp_train(self, sizes, batch, make_optimizer):
        import torch
        import torch.nn.functional as F

        params, x, labels = mlp_data(sizes, batch)
        params = [torch.from_numpy(p).requires_grad_() for p in params]
        x, labels = torch.from_numpy(x), torch.from_numpy(labels)
        optimizer = make_optimizer(params)
        hidden, (w_out, b_out) = layers(params)

        def forward(x, labels):
            h = x
            for w, b in hidden:
                h = torch.relu(h @ w + b)
            return F.cross_entropy(h @ w_out + b_out, labels)  # probability targets: -sum(labels * log_softmax)

        forward = self.compile(forward)

        def step():
            optimizer.zero_grad(set_to_none=True)
            loss = forward(x, labels)
            loss.backward()
            optimizer.step()
            return loss.detach()

        return step

    def matmul_step(self, size=MATMUL_SIZE):
        import torch

        a, b = (torch.from_numpy(m).requires_grad_() for m in matmul_data(size))
        loss_fn = self.compile(lambda a, b: torch.sum(torch.tanh(a @ b)))

        def step():
            loss = loss_fn(a, b)
            return (loss.detach(), *torch.autograd.grad(loss, (a, b)))

        return step


class TorchCompile(Torch):
    """torch.compile of each step's forward pass (AOTAutograd compiles its backward); the optimizer steps eagerly."""

    name = "torch.compile"

    def compile(self, fn):
        import torch

        return torch.compile(fn, dynamic=False)


class Jax:
    """JAX eager: jax.grad with no jit, so each primitive is dispatched on its own, as gradcore[jax] does."""

    name = "jax"

    def available(self):
        return None if importlib.util.find_spec("jax") else "not installed (pip install '.[jax]')"

    def compile(self, fn):
        return fn

    def sgd(self):
        """(init, update) of an optimizer: init(params) -> state; update(params, grads, state) -> both, new."""

        def update(params, grads, state):
            return [p - LEARNING_RATE * g for p, g in zip(params, grads)], state

        return (lambda params: ()), update

    def adam(self):
        """(init, update) of Adam, as ``sgd``: the hand-written one, op by op (jax has no Adam of its own)."""
        import jax.numpy as jnp

        return adam(jnp)

    def chain_step(self):
        import jax
        import jax.numpy as jnp

        x, c = map(jnp.asarray, chain_data())
        grad = self.compile(jax.grad(lambda x: jnp.sum(chain(jnp, x, c))))
        return lambda: jax.block_until_ready(grad(x))

    def mlp_step(self, sizes=MLP_SIZES, batch=BATCH):
        return self._mlp_train(sizes, batch, *self.sgd())

    def mlp_adam_step(self, sizes=MLP_SIZES, batch=BATCH):
        return self._mlp_train(sizes, batch, *self.adam())

    def _mlp_train(self, sizes, batch, init, update):
        import jax
        import jax.numpy as jnp

        params, x, labels = mlp_data(sizes, batch)
        params, x, labels = [jnp.asarray(p) for p in params], jnp.asarray(x), jnp.asarray(labels)

        def loss_fn(params):
            hidden, (w_out, b_out) = layers(params)
            h = x
            for w, b in hidden:
                h = jax.nn.relu(h @ w + b)
            return jnp.mean(-jnp.sum(labels * jax.nn.log_softmax(h @ w_out + b_out), axis=1))

        def train(params, state):
            loss, grads = jax.value_and_grad(loss_fn)(params)
            return (*update(params, grads, state), loss)

        train = self.compile(train)
        slots = [params, init(params)]

        def step():
            params, state, loss = jax.block_until_ready(train(*slots))
            slots[:] = params, state
            return loss

        return step

    def matmul_step(self, size=MATMUL_SIZE):
        import jax
        import jax.numpy as jnp

        a, b = map(jnp.asarray, matmul_data(size))
        grad = self.compile(jax.value_and_grad(lambda a, b: jnp.sum(jnp.tanh(a @ b)), argnums=(0, 1)))

        def step():
            loss, (da, db) = jax.block_until_ready(grad(a, b))
            return loss, da, db

        return step


class JaxJit(Jax):
    """jax.jit over each whole step, with optax's SGD and Adam when installed: what gradcore's eager path is not."""

    name = "jax.jit"

    def compile(self, fn):
        import jax

        return jax.jit(fn)

    def sgd(self):
        if importlib.util.find_spec("optax") is None:
            return super().sgd()
        import optax

        return self._optax(optax.sgd(LEARNING_RATE))

    def adam(self):
        if importlib.util.find_spec("optax") is None:
            return super().adam()
        import optax

        return self._optax(optax.adam(ADAM_LEARNING_RATE, *ADAM_BETAS, eps=ADAM_EPSILON))

    def _optax(self, optimizer):
        import optax

        def update(params, grads, state):
            updates, state = optimizer.update(grads, state, params)
            return optax.apply_updates(params, updates), state

        return optimizer.init, update


SYSTEMS = [Gradcore("numpy"), GradcoreFunction("numpy"), Autograd(),
           Gradcore("torch"), GradcoreFunction("torch"), Torch(),
           Gradcore("jax"), GradcoreFunction("jax"), Jax(), JaxJit()]
# torch.compile on both sides takes minutes to compile: bench_autodiff.py --compile adds them.
COMPILED_SYSTEMS = [GradcoreFunction("torch", jit_compile=True), TorchCompile()]
