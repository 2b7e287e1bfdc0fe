"""Steps/s of `GAN.fit` against a minimal hand-written `tf.function` loop.

Same networks (the DCGAN 28x28x1 builders), same optimizers (Adam 2e-4, 0.5),
same non-saturating loss, Fashion-MNIST at batch 64. The two are timed in
alternating rounds inside one process (the machine is shared and noisy), after
a warm-up that traces both; the script prints, with XLA off and on, the median
and the best wall-clock steps/s of each, and the CPU seconds per step (the
process's CPU time: what the step costs, unaffected by waiting for a busy or
throttled CPU), each with its fit/loop ratio. On a shared machine the wall
times of single rounds vary by 20% or more; the CPU ratio is the steady one.

    python benchmarks/fit_vs_loop.py [--steps 150] [--rounds 5]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_gan as kg  # noqa: E402
from keras_gan import architectures  # noqa: E402

LATENT = 64


def networks(seed):
    keras.utils.set_random_seed(seed)
    return architectures.dcgan_generator(LATENT), architectures.dcgan_discriminator()


def adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def keras_runner(dataset, jit):
    g, d = networks(0)
    gan = kg.GAN(g, d, LATENT, loss="non_saturating", seed=0)
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), jit_compile=jit)

    def run(steps):
        gan.fit(dataset.take(steps), epochs=1, verbose=0)
    return run


def loop_runner(dataset, jit):
    g, d = networks(0)
    d_opt, g_opt = adam(), adam()
    d_opt.build(d.trainable_variables)
    g_opt.build(g.trainable_variables)
    seed = keras.random.SeedGenerator(0)

    @tf.function(jit_compile=jit)
    def step(real):
        batch = tf.shape(real)[0]
        z = keras.random.normal((batch, LATENT), seed=seed)
        fake = g(z, training=True)
        with tf.GradientTape() as tape:
            real_out, fake_out = d(real, training=True), d(fake, training=True)
            d_loss = tf.reduce_mean(tf.nn.softplus(-real_out)) + tf.reduce_mean(tf.nn.softplus(fake_out))
        d_opt.apply(tape.gradient(d_loss, d.trainable_variables), d.trainable_variables)
        z = keras.random.normal((batch, LATENT), seed=seed)
        with tf.GradientTape() as tape:
            g_loss = tf.reduce_mean(tf.nn.softplus(-d(g(z, training=True), training=True)))
        g_opt.apply(tape.gradient(g_loss, g.trainable_variables), g.trainable_variables)
        return d_loss, g_loss

    def run(steps):
        for real in dataset.take(steps):
            out = step(real)
        float(out[0])  # wait for the last step
    return run


def measure(jit, steps, rounds, dataset):
    runners = {"GAN.fit": keras_runner(dataset, jit), "tf.function loop": loop_runner(dataset, jit)}
    for run in runners.values():
        run(10)  # trace and warm up
    rates = {name: [] for name in runners}
    cpu = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            run(steps)
            rates[name].append(steps / (time.perf_counter() - start))
            cpu[name].append((time.process_time() - start_cpu) / steps)
    return {name: {"median": statistics.median(rates[name]), "best": max(rates[name]),
                   "cpu": statistics.median(cpu[name])} for name in runners}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    dataset = kg.data.load("fashion_mnist", batch_size=64, seed=0).cache().repeat()
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}; {args.rounds} rounds of {args.steps} steps, "
          "batch 64, DCGAN 28x28, non-saturating loss")
    for jit in (False, True):
        rates = measure(jit, args.steps, args.rounds, dataset)
        fit, loop = rates["GAN.fit"], rates["tf.function loop"]
        print(f"jit_compile={jit!s:5}  steps/s median: GAN.fit {fit['median']:6.2f}, loop {loop['median']:6.2f}"
              f" (fit/loop {fit['median'] / loop['median']:.3f});  best: {fit['best']:6.2f}, "
              f"{loop['best']:6.2f} ({fit['best'] / loop['best']:.3f});  CPU s/step: {fit['cpu']:.3f}, "
              f"{loop['cpu']:.3f} (loop/fit {loop['cpu'] / fit['cpu']:.3f})")


if __name__ == "__main__":
    main()
