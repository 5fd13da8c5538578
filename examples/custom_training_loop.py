"""The training loop of TensorFlow's "Writing a training loop from scratch" guide, ported line by line.

A ``train_step(x, y)`` runs the model with ``training=True`` under a
GradientTape, adds the losses the model tracks itself (here the hidden layers'
L2 penalties, ``model.losses``) to the data loss, and hands the gradients to
``optimizer.apply_gradients``. The train metrics are updated every batch and
reset every epoch; a validation pass runs the model with ``training=False``,
so its Dropout layer lets everything through. Both steps run under
``gc.function``, as the guide decorates them with ``tf.function``; ``--eager``
runs them op by op instead, with the same numbers.

The data are four noisy Gaussian clusters in 16 dimensions, drawn with NumPy
from a fixed seed.
"""

import argparse

import numpy as np

import gradcore as gc

NUM_CLASSES, NUM_FEATURES = 4, 16
BATCH_SIZE = 64


def make_data(n=4000, seed=0):
    """(x_train, y_train), (x_val, y_val): points around one of four random centres, labelled by centre."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=0.6, size=(NUM_CLASSES, NUM_FEATURES))
    y = rng.integers(0, NUM_CLASSES, n)
    x = (centres[y] + rng.normal(size=(n, NUM_FEATURES))).astype(np.float32)
    cut = n * 4 // 5
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def make_model():
    return gc.Sequential([
        gc.layers.Dense(64, activation="relu", kernel_regularizer=gc.regularizers.L2(1e-4),
                        input_shape=(NUM_FEATURES,)),
        gc.layers.Dropout(0.2),
        gc.layers.Dense(64, activation="relu", kernel_regularizer=gc.regularizers.L2(1e-4)),
        gc.layers.Dense(NUM_CLASSES),
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None, help="training batches per epoch (default: all 50)")
    parser.add_argument("--eager", action="store_true", help="run the steps op by op, without gc.function")
    args = parser.parse_args()

    gc.random.set_seed(0)
    (x_train, y_train), (x_val, y_val) = make_data()
    train_dataset = gc.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(1024, seed=0).batch(BATCH_SIZE)
    if args.steps is not None:
        train_dataset = train_dataset.take(args.steps)
    val_dataset = gc.data.Dataset.from_tensor_slices((x_val, y_val)).batch(BATCH_SIZE)

    model = make_model()
    optimizer = gc.optimizers.SGD(learning_rate=0.05, momentum=0.9)
    loss_fn = gc.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_loss_metric = gc.metrics.Mean()
    train_acc_metric = gc.metrics.SparseCategoricalAccuracy()
    val_acc_metric = gc.metrics.SparseCategoricalAccuracy()

    def train_step(x, y):
        with gc.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits) + sum(model.losses)
        grads = tape.gradient(loss_value, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        train_loss_metric.update_state(loss_value)
        train_acc_metric.update_state(y, logits)
        return loss_value

    def test_step(x, y):
        val_logits = model(x, training=False)
        val_acc_metric.update_state(y, val_logits)

    if not args.eager:
        train_step, test_step = gc.function(train_step), gc.function(test_step)

    print(f"an MLP with {model.count_params()} weights and {len(model.losses)} regularization losses "
          f"on the {gc.get_backend().name} backend")
    for epoch in range(args.epochs):
        for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
            loss_value = train_step(x_batch_train, y_batch_train)
            if step % 20 == 0:
                print(f"  epoch {epoch} step {step:2d}: batch loss = {float(loss_value.numpy()):.4f}")
        for x_batch_val, y_batch_val in val_dataset:
            test_step(x_batch_val, y_batch_val)
        print(f"epoch {epoch}: train loss = {float(train_loss_metric.result().numpy()):.4f}, "
              f"train accuracy = {float(train_acc_metric.result().numpy()):.4f}, "
              f"validation accuracy = {float(val_acc_metric.result().numpy()):.4f}")
        train_loss_metric.reset_state()
        train_acc_metric.reset_state()
        val_acc_metric.reset_state()


if __name__ == "__main__":
    main()
