"""One seeded custom training loop, on one device, on two replicas, or on two worker processes.

The loop of TensorFlow's "Custom training with tf.distribute.Strategy" guide: the model,
the optimizer and the metric are made in ``strategy.scope()``, each replica's loss is
divided by the global batch size (``gc.nn.compute_average_loss``), ``strategy.run`` runs
the step on every replica and ``strategy.reduce`` adds up their losses. Nothing else
changes between the three ways of running it:

    python examples/distributed_training.py --strategy one-device
    python examples/distributed_training.py --strategy mirrored          # 2 replicas on this CPU
    gradcore launch -n 2 examples/distributed_training.py --strategy multi-worker

and all three end with the same parameters (up to float32 rounding: the replicas' gradient
sums add the same numbers in another order). ``--checkpoint-dir`` saves the model, the optimizer and
the data's position every epoch, and a run started again with the same command resumes from
the newest checkpoint where it stopped. Worker 0 prints
the results and writes ``--save``.
"""

import argparse

import numpy as np

import gradcore as gc

GLOBAL_BATCH = 16
STEPS_PER_EPOCH = 8
FEATURES, CLASSES = 6, 3


def make_strategy(name):
    if name == "one-device":
        return gc.distribute.OneDeviceStrategy("/cpu:0")
    if name == "mirrored":
        return gc.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    return gc.distribute.MultiWorkerMirroredStrategy()


def make_data(seed, examples=GLOBAL_BATCH * STEPS_PER_EPOCH):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(examples, FEATURES)).astype(np.float32)
    y = (np.argmax(x[:, :CLASSES], axis=1) + (x[:, -1] > 1.0)) % CLASSES
    return gc.data.Dataset.from_tensor_slices((x, y)).shuffle(examples, seed=seed).batch(GLOBAL_BATCH).repeat()


def train(strategy_name, epochs=3, seed=0, eager=False, checkpoint_dir=None, echo=print):
    gc.random.set_seed(seed)
    strategy = make_strategy(strategy_name)
    with strategy.scope():
        model = gc.Sequential([gc.layers.Dense(16, activation="relu"), gc.layers.Dense(CLASSES)])
        model.build((None, FEATURES))
        optimizer = gc.optimizers.Adam(0.01)
        accuracy = gc.metrics.SparseCategoricalAccuracy()
    loss_fn = gc.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    batches = iter(strategy.experimental_distribute_dataset(make_data(seed)))

    def replica_step(features, labels):
        with gc.GradientTape() as tape:
            logits = model(features, training=True)
            loss = gc.nn.compute_average_loss(loss_fn(labels, logits), global_batch_size=GLOBAL_BATCH)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        accuracy.update_state(labels, logits)
        return loss

    def train_step(features, labels):
        return strategy.reduce("SUM", strategy.run(replica_step, args=(features, labels)), axis=None)

    if not eager:
        train_step = gc.function(train_step)
    epoch = gc.Variable(0, dtype=gc.int64, trainable=False)
    manager = None
    if checkpoint_dir is not None:
        checkpoint = gc.train.Checkpoint(model=model, optimizer=optimizer, epoch=epoch, data=batches)
        manager = gc.train.CheckpointManager(checkpoint, checkpoint_dir, max_to_keep=2)
        manager.restore_or_initialize()
    while int(epoch.numpy()) < epochs:
        total = 0.0
        for _ in range(STEPS_PER_EPOCH):
            total += float(train_step(*next(batches)))
        epoch.assign_add(1)
        train_accuracy = float(accuracy.result())  # every worker reads it: the read adds up all replicas' counts
        if gc.distribute.is_chief():
            echo(f"epoch {int(epoch.numpy())}: loss {total:.6f}, accuracy {train_accuracy:.4f}, "
                 f"replicas {strategy.num_replicas_in_sync}")
        accuracy.reset_state()
        if manager is not None:
            manager.save()
    return [v.numpy() for v in model.trainable_variables]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", choices=["one-device", "mirrored", "multi-worker"], default="mirrored")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eager", action="store_true", help="run train_step op by op, without gc.function")
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--save", default=None, help="write the final parameters to this .npz (worker 0)")
    args = parser.parse_args()
    parameters = train(args.strategy, args.epochs, args.seed, args.eager, args.checkpoint_dir)
    if gc.distribute.is_chief():
        print(f"parameter sum = {float(sum(np.sum(p, dtype=np.float64) for p in parameters)):.6f}")
        if args.save:
            np.savez(args.save, *parameters)


if __name__ == "__main__":
    main()
