"""Fit y = W x + b to noisy data with a custom training loop, as in TensorFlow's
"Basic training loops" guide: GradientTape for the gradients, assign_sub for SGD.

The data are drawn with NumPy from a fixed seed, so every backend sees the same
points and lands on the same W and b (about 3 and 2, the values the data came from).
The step runs under ``gc.function``; ``--eager`` runs it op by op instead.
"""

import argparse

import numpy as np

import gradcore as gc

TRUE_W, TRUE_B = 3.0, 2.0
NUM_EXAMPLES = 1000
LEARNING_RATE = 0.1
EPOCHS = 50


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=NUM_EXAMPLES).astype(np.float32)
    noise = rng.normal(size=NUM_EXAMPLES).astype(np.float32)
    return gc.constant(x), gc.constant(x * TRUE_W + TRUE_B + noise)


class Model:
    def __init__(self):
        # Start far from the answer so the loop has something to do.
        self.w = gc.Variable(5.0, name="w")
        self.b = gc.Variable(0.0, name="b")

    def __call__(self, x):
        return self.w * x + self.b


def loss_fn(target, predicted):
    return gc.reduce_mean(gc.square(target - predicted))


def train_step(model, x, y):
    with gc.GradientTape() as tape:
        loss = loss_fn(y, model(x))
    dw, db = tape.gradient(loss, [model.w, model.b])
    model.w.assign_sub(LEARNING_RATE * dw)
    model.b.assign_sub(LEARNING_RATE * db)
    return loss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eager", action="store_true", help="run train_step op by op, without gc.function")
    args = parser.parse_args()
    step = train_step if args.eager else gc.function(train_step)
    x, y = make_data()
    model = Model()
    print(f"fitting y = W x + b on the {gc.get_backend().name} backend; data from W={TRUE_W}, b={TRUE_B}")
    for epoch in range(EPOCHS):
        loss = step(model, x, y)
        if epoch % 10 == 0 or epoch == EPOCHS - 1:
            print(f"epoch {epoch:2d}: W={float(model.w.numpy()):.4f} b={float(model.b.numpy()):.4f} "
                  f"loss={float(loss.numpy()):.4f}")
    print(f"fitted W = {float(model.w.numpy()):.4f}, b = {float(model.b.numpy()):.4f}")


if __name__ == "__main__":
    main()
