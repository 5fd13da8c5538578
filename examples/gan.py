"""A small GAN learns a 1-D Gaussian, with the train step of TensorFlow's DCGAN guide.

Two models, two optimizers, two tapes open over one forward pass: the generator
turns noise into samples, the discriminator tells them from real samples of
N(4, 1.25^2). Both run with ``training=True`` inside the train step, as in the
guide (the generator's BatchNormalization then normalizes with the batch's own
statistics). The generator starts out producing values near 0; printed ten
times over the run, the mean of what it generates moves to the target's 4.
"""

import argparse

import numpy as np

import gradcore as gc

TARGET_MEAN, TARGET_STD = 4.0, 1.25
NOISE_DIM = 4
BATCH_SIZE = 64


def make_generator():
    return gc.Sequential([
        gc.layers.Dense(16, input_shape=(NOISE_DIM,)),
        gc.layers.BatchNormalization(),
        gc.layers.Activation("leaky_relu"),
        gc.layers.Dense(1),
    ], name="generator")


def make_discriminator():
    return gc.Sequential([
        gc.layers.Dense(32, activation="leaky_relu", input_shape=(1,)),
        gc.layers.Dense(32, activation="leaky_relu"),
        gc.layers.Dense(1),  # a logit: "real" when positive
    ], name="discriminator")


cross_entropy = gc.losses.BinaryCrossentropy(from_logits=True)


def discriminator_loss(real_output, fake_output):
    real_loss = cross_entropy(gc.ones_like(real_output), real_output)
    fake_loss = cross_entropy(gc.zeros_like(fake_output), fake_output)
    return real_loss + fake_loss


def generator_loss(fake_output):
    return cross_entropy(gc.ones_like(fake_output), fake_output)


class GAN:
    def __init__(self, learning_rate, eager=False):
        self.generator, self.discriminator = make_generator(), make_discriminator()
        self.generator_optimizer = gc.optimizers.Adam(learning_rate, beta_1=0.5)
        self.discriminator_optimizer = gc.optimizers.Adam(learning_rate, beta_1=0.5)
        if not eager:  # the DCGAN tutorial decorates train_step with tf.function
            self.train_step = gc.function(self.train_step)

    def train_step(self, real):
        noise = gc.random.normal([BATCH_SIZE, NOISE_DIM])
        with gc.GradientTape() as gen_tape, gc.GradientTape() as disc_tape:
            generated = self.generator(noise, training=True)
            real_output = self.discriminator(real, training=True)
            fake_output = self.discriminator(generated, training=True)
            gen_loss = generator_loss(fake_output)
            disc_loss = discriminator_loss(real_output, fake_output)
        generator_vars = self.generator.trainable_variables
        discriminator_vars = self.discriminator.trainable_variables
        gradients_of_generator = gen_tape.gradient(gen_loss, generator_vars)
        gradients_of_discriminator = disc_tape.gradient(disc_loss, discriminator_vars)
        self.generator_optimizer.apply_gradients(zip(gradients_of_generator, generator_vars))
        self.discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator_vars))
        return gen_loss, disc_loss

    def sample_stats(self, n=2000):
        samples = self.generator(gc.random.normal([n, NOISE_DIM]), training=False).numpy()
        return float(samples.mean()), float(samples.std())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="training steps")
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--eager", action="store_true", help="run train_step op by op, without gc.function")
    args = parser.parse_args()

    gc.random.set_seed(0)
    rng = np.random.default_rng(0)
    gan = GAN(args.learning_rate, eager=args.eager)
    print(f"a GAN learning N({TARGET_MEAN}, {TARGET_STD}^2) on the {gc.get_backend().name} backend")
    mean, std = gan.sample_stats()
    print(f"initial generated mean = {mean:.4f}, std = {std:.4f}")
    for step in range(1, args.steps + 1):
        real = rng.normal(TARGET_MEAN, TARGET_STD, size=(BATCH_SIZE, 1)).astype(np.float32)
        gen_loss, disc_loss = gan.train_step(real)
        if step % max(1, args.steps // 10) == 0 or step == args.steps:
            mean, std = gan.sample_stats()
            print(f"step {step:5d}: generator loss {float(gen_loss.numpy()):.4f}, "
                  f"discriminator loss {float(disc_loss.numpy()):.4f}, generated mean {mean:.4f}, std {std:.4f}")
    mean, std = gan.sample_stats()
    print(f"final generated mean = {mean:.4f}, std = {std:.4f}, target mean = {TARGET_MEAN}")


if __name__ == "__main__":
    main()
