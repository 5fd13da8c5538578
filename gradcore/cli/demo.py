"""``gradcore demo``: a small CNN learns scikit-learn's 8x8 digits with TensorFlow's custom training loop.

The loop is the one from TensorFlow's "Writing a training loop from scratch"
guide: a ``train_step`` under a GradientTape, ``apply_gradients``, loss and
accuracy metrics updated per batch and reset per epoch, then a validation pass
with ``training=False``. The data ship inside scikit-learn (no download).

Everything random happens on the host from one seed: the split, the weights
(``gc.random.set_seed`` before the model is built) and the shuffle. So a seed
gives the same loss curve on every backend, up to float32 rounding
(tests/unit/test_demo.py checks it).
"""

import contextlib
import itertools
import json
import os
import time
from dataclasses import dataclass

import numpy as np

import gradcore as gc
from gradcore.progress import progress

TARGET_ACCURACY = 0.95
EPOCHS = 10
BATCH_SIZE = 32
VALIDATION_BATCH_SIZE = 256
# Adam's peak rate; a cosine decay to 0 over the run steadies the last epochs' accuracy.
LEARNING_RATE = 5e-3
VALIDATION_FRACTION = 0.2


def load_digits_split(seed, limit=None):
    """``((x_train, y_train), (x_val, y_val))``: [N, 8, 8, 1] float32 images in [0, 1], int64 labels.

    The split is stratified and seeded; ``limit`` keeps only the first ``limit`` examples of
    each part, for quick tests.
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise ImportError("the demo's data come from scikit-learn: pip install 'gradcore[demo]'") from None
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]
    labels = digits.target.astype(np.int64)
    x_train, x_val, y_train, y_val = train_test_split(
        images, labels, test_size=VALIDATION_FRACTION, stratify=labels, random_state=seed
    )
    return (x_train[:limit], y_train[:limit]), (x_val[:limit], y_val[:limit])


def build_model():
    """Two 3x3 conv + 2x2 max-pool stages and a linear classifier: about 6,000 weights, 10 logits."""
    return gc.Sequential([
        gc.layers.Conv2D(16, 3, padding="same", activation="relu", input_shape=(8, 8, 1)),
        gc.layers.MaxPooling2D(),
        gc.layers.Conv2D(32, 3, padding="same", activation="relu"),
        gc.layers.MaxPooling2D(),
        gc.layers.Flatten(),
        gc.layers.Dense(10),
    ], name="digits_cnn")


class Trainer:
    """The model, optimizer, loss and metrics, and the guide's ``train_step`` / ``test_step``.

    Both steps run under ``gc.function``, as the guide decorates them with ``tf.function``,
    unless ``eager`` is true.
    """

    def __init__(self, model, optimizer, eager=False):
        self.model, self.optimizer = model, optimizer
        if not eager:
            self.train_step = gc.function(self.train_step)
            self.test_step = gc.function(self.test_step)
        self.loss_fn = gc.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.train_loss, self.val_loss = gc.metrics.Mean("loss"), gc.metrics.Mean("val_loss")
        self.train_accuracy = gc.metrics.SparseCategoricalAccuracy("accuracy")
        self.val_accuracy = gc.metrics.SparseCategoricalAccuracy("val_accuracy")
        self.metrics = [self.train_loss, self.train_accuracy, self.val_loss, self.val_accuracy]

    def train_step(self, x, y):
        with gc.GradientTape() as tape:
            logits = self.model(x, training=True)
            loss = self.loss_fn(y, logits) + sum(self.model.losses)
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))
        self.train_loss.update_state(loss)
        self.train_accuracy.update_state(y, logits)
        # Written at every step when a summary writer is the default (a run directory), else nothing.
        gc.summary.scalar("gradient_global_norm", gc.linalg.global_norm(grads), step=self.optimizer.iterations)

    def test_step(self, x, y):
        logits = self.model(x, training=False)
        self.val_loss.update_state(self.loss_fn(y, logits))
        self.val_accuracy.update_state(y, logits)

    def epoch(self, bar, val_batches):
        """Train over ``bar`` (a progress bar over the training batches), then validate.

        Returns ``{metric name: value}`` for this epoch alone: the metrics start from zero.
        """
        for metric in self.metrics:
            metric.reset_state()
        for x, y in bar:
            self.train_step(x, y)
            bar.set_postfix(loss=self.train_loss.result(), accuracy=self.train_accuracy.result())
        for x, y in val_batches:
            self.test_step(x, y)
        return {metric.name: float(metric.result().numpy()) for metric in self.metrics}

    def write_summaries(self, epoch, values):
        """The epoch's metrics, learning rate and weight histograms, at step ``epoch``."""
        for name, value in values.items():
            gc.summary.scalar(f"epoch/{name}", value, step=epoch)
        gc.summary.scalar("epoch/learning_rate", self.optimizer.learning_rate, step=epoch)
        for variable in self.model.trainable_variables:
            gc.summary.histogram(f"weights/{variable.name.split(':')[0]}", variable, step=epoch)


@dataclass
class Result:
    backend: str
    history: list  # one {metric name: value} per epoch
    seconds: float

    @property
    def val_accuracy(self):
        return self.history[-1]["val_accuracy"] if self.history else 0.0


def run(epochs=EPOCHS, seed=0, backend=None, limit=None, echo=print, progress_file=None, eager=False,
        run_dir=None):
    """Train on ``backend`` (default: the current one) and return a ``Result``.

    ``eager`` runs the steps op by op instead of under ``gc.function``.
    ``echo`` gets one summary line per epoch; the progress bar goes to ``progress_file``
    (stderr by default). The clock starts once the data are loaded.
    ``run_dir`` (a directory) receives a checkpoint after every epoch and TensorBoard
    summaries; a run directory that holds checkpoints already is resumed where it stopped
    (the seed and data must be the run's own: ``resume`` reads them from the directory).
    """
    (x_train, y_train), (x_val, y_val) = load_digits_split(seed, limit)
    with gc.backend_scope(backend or gc.get_backend().name) as chosen:
        start = time.perf_counter()
        gc.random.set_seed(seed)  # before the model: its initializers draw from the global generator
        train_data = gc.data.Dataset.from_tensor_slices((x_train, y_train))
        train_data = train_data.shuffle(len(x_train), seed=seed).batch(BATCH_SIZE)
        steps_per_epoch = len(train_data)
        schedule = gc.optimizers.schedules.CosineDecay(LEARNING_RATE, decay_steps=epochs * steps_per_epoch)
        trainer = Trainer(build_model(), gc.optimizers.Adam(schedule), eager=eager)
        val_data = gc.data.Dataset.from_tensor_slices((x_val, y_val)).batch(VALIDATION_BATCH_SIZE)
        batches = iter(train_data.repeat())  # one iterator for the run: its position is checkpointed
        run = _RunDirectory(run_dir, trainer, batches) if run_dir is not None else None
        first_epoch = 1 if run is None else run.restore(echo) + 1
        history = []
        for epoch in range(first_epoch, epochs + 1):
            epoch_batches = itertools.islice(batches, steps_per_epoch)
            with progress(epoch_batches, total=steps_per_epoch, desc=f"epoch {epoch}/{epochs}",
                          file=progress_file, unit="batch") as bar, _summaries_to(run):
                history.append(trainer.epoch(bar, val_data))
            if run is not None:
                run.end_epoch(epoch, history[-1])
            echo(f"epoch {epoch}/{epochs}: " + " ".join(f"{k}={v:.4f}" for k, v in history[-1].items()))
        return Result(chosen.name, history, time.perf_counter() - start)


def write_run_settings(run_dir, seed, epochs):
    """Note the run's seed and epochs in ``run_dir/demo.json``, for ``--resume``."""
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "demo.json"), "w", encoding="utf-8") as file:
        json.dump({"seed": seed, "epochs": epochs}, file)


def read_run_settings(run_dir, seed, epochs):
    """The seed and epochs a run directory was started with (else those given)."""
    try:
        with open(os.path.join(run_dir, "demo.json"), encoding="utf-8") as file:
            settings = json.load(file)
    except FileNotFoundError:
        return seed, epochs
    return int(settings["seed"]), int(settings["epochs"])


def _summaries_to(run):
    return contextlib.nullcontext() if run is None else run.writer.as_default()


class _RunDirectory:
    """A run's checkpoints (``run_dir/checkpoints``) and TensorBoard summaries (``run_dir``)."""

    def __init__(self, run_dir, trainer, batches):
        self.trainer = trainer
        self.epoch = gc.Variable(0, dtype=gc.int64, trainable=False, name="epoch")
        checkpoint = gc.train.Checkpoint(model=trainer.model, optimizer=trainer.optimizer, data=batches,
                                         epoch=self.epoch, rng=gc.random.get_global_generator())
        self.manager = gc.train.CheckpointManager(checkpoint, os.path.join(run_dir, "checkpoints"), max_to_keep=3)
        self.writer = gc.summary.create_file_writer(run_dir)
        self.trainer.model(gc.zeros([1, 8, 8, 1]))  # built before a restore: its weights come from it

    def restore(self, echo):
        """Restore the newest checkpoint, if any; the last epoch it finished (0 for a new run)."""
        latest = self.manager.latest_checkpoint
        if latest is None:
            return 0
        self.manager.checkpoint.restore(latest).assert_existing_objects_matched()
        done = int(self.epoch.numpy())
        echo(f"resumed from {latest} after epoch {done}")
        return done

    def end_epoch(self, epoch, values):
        self.epoch.assign(epoch)
        with self.writer.as_default():
            self.trainer.write_summaries(epoch, values)
        self.manager.save()
