"""A seeded training program that checkpoints every step; run by test_resume.py.

    python resume_program.py DIRECTORY STEPS [--kill-after STEP] [--function]

It restores the newest checkpoint in DIRECTORY if there is one, trains until the optimizer has
taken STEPS steps (a shuffled, repeated dataset; Dropout drawing from the global generator;
Adam; a metric), saves after every step, and prints ``step <n> <loss bits>`` per step and
``weights <sha256 of every weight's bytes>`` at the end. With --kill-after it SIGKILLs itself
right after saving that step, as a crash would.
"""

import hashlib
import os
import signal
import sys

import numpy as np

import gradcore as gc


def main(directory, steps, kill_after=None, compiled=False):
    gc.random.set_seed(0)
    rng = np.random.default_rng(1)
    features = rng.normal(size=(40, 6)).astype(np.float32)
    labels = rng.integers(0, 3, size=40)
    dataset = gc.data.Dataset.from_tensor_slices((features, labels)).shuffle(40).repeat().batch(8)
    model = gc.Sequential([gc.layers.Dense(12, activation="relu"), gc.layers.Dropout(0.3), gc.layers.Dense(3)])
    model(gc.zeros([1, 6]))  # built before any restore, as in the uninterrupted run
    optimizer = gc.optimizers.Adam(0.01)
    loss_fn = gc.losses.SparseCategoricalCrossentropy(from_logits=True)
    accuracy = gc.metrics.SparseCategoricalAccuracy()
    batches = iter(dataset)
    checkpoint = gc.train.Checkpoint(model=model, optimizer=optimizer, accuracy=accuracy, data=batches,
                                     rng=gc.random.get_global_generator())
    manager = gc.train.CheckpointManager(checkpoint, directory, max_to_keep=2)
    if manager.latest_checkpoint:
        # The optimizer makes its slots at its first step: they take their values then.
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()

    def train_step(x, y):
        with gc.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        accuracy.update_state(y, model(x))
        return loss

    if compiled:
        train_step = gc.function(train_step)
    while int(optimizer.iterations.numpy()) < steps:
        x, y = next(batches)
        loss = train_step(x, y)
        step = int(optimizer.iterations.numpy())
        manager.save()
        print(f"step {step} {np.float32(loss.numpy()).view(np.uint32):08x} {accuracy.result().numpy()!r}", flush=True)
        if step == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
    digest = hashlib.sha256(b"".join(v.numpy().tobytes() for v in model.variables + optimizer.variables))
    print(f"weights {digest.hexdigest()}", flush=True)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    kill = int(arguments[arguments.index("--kill-after") + 1]) if "--kill-after" in arguments else None
    main(arguments[0], int(arguments[1]), kill, "--function" in arguments)
