"""Steps/s of every model's train step with XLA off and on (``compile(jit_compile=...)``).

Each model is built by ``keras_gan.recipes.build`` (the DCGAN 28x28x1 builders and the
paper's optimizers and d_steps) and trained by ``GAN.fit`` on Fashion-MNIST-shaped
random images in [-1, 1] (with random labels for conditional models), batch 64. The
XLA-off and XLA-on models are timed in alternating rounds after a warm-up that
traces and compiles both (compile time is printed apart); the script prints the
median wall-clock steps/s over the rounds, the median CPU seconds per step (the
process's CPU time: what a step costs, unaffected by waiting on a shared or
throttled CPU, where single wall-clock rounds vary by 20% or more), their on/off
ratios, and which setting costs less on this machine by CPU time.

    python benchmarks/xla.py [--steps 10] [--rounds 2] [--models gan,wgan_gp]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_gan import recipes  # noqa: E402

BATCH = 64


def dataset(steps, labels):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (BATCH * steps, 28, 28, 1)).astype("float32")
    data = (x, rng.integers(0, 10, len(x)).astype("int32")) if labels else x
    return tf.data.Dataset.from_tensor_slices(data).batch(BATCH, drop_remainder=True).cache()


def timed_fit(model, data):
    """(wall seconds, CPU seconds) of one ``fit`` over ``data``."""
    start, start_cpu = time.perf_counter(), time.process_time()
    model.fit(data, epochs=1, verbose=0)
    return time.perf_counter() - start, time.process_time() - start_cpu


def bench(name, steps, rounds):
    models = {}
    for jit in (False, True):
        model, _ = recipes.build(name, "fashion_mnist", seed=0, jit_compile=jit)
        models[jit] = model
    data = dataset(steps, getattr(models[False], "uses_labels", False))
    compile_s = {jit: timed_fit(m, data.take(2))[0] for jit, m in models.items()}
    rates, cpu = {False: [], True: []}, {False: [], True: []}
    for _ in range(rounds):
        for jit, model in models.items():
            wall, cpu_s = timed_fit(model, data)
            rates[jit].append(steps / wall)
            cpu[jit].append(cpu_s / steps)
    return ({jit: statistics.median(r) for jit, r in rates.items()},
            {jit: statistics.median(c) for jit, c in cpu.items()}, compile_s)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--models", default=",".join(recipes.names()))
    args = parser.parse_args(argv)
    device = "GPU" if tf.config.list_physical_devices("GPU") else f"CPU ({os.cpu_count()} cores)"
    print(f"XLA off vs on, batch {BATCH}, 28x28x1 DCGAN, {args.steps} steps x {args.rounds} rounds, {device}")
    print(f"{'model':10s} {'steps/s off':>11s} {'on':>6s} {'on/off':>7s}   {'CPU s/step off':>14s} {'on':>6s} "
          f"{'off/on':>7s}   {'compile off/on s':>16s}")
    wins = []
    for name in args.models.split(","):
        rate, cpu, compile_s = bench(name, args.steps, args.rounds)
        saving = cpu[False] / cpu[True]  # > 1: a step costs less CPU with XLA
        wins.append(saving)
        print(f"{name:10s} {rate[False]:11.2f} {rate[True]:6.2f} {rate[True] / rate[False]:7.2f}   "
              f"{cpu[False]:14.3f} {cpu[True]:6.3f} {saving:7.2f}   "
              f"{compile_s[False]:8.1f}/{compile_s[True]:.1f}", flush=True)
    geo = float(np.exp(np.mean(np.log(wins))))
    verdict = "XLA on" if geo > 1.05 else "XLA off" if geo < 1 / 1.05 else "neither (within 5%)"
    print(f"geometric mean of CPU s/step off/on: {geo:.2f} -> cheaper here: {verdict}")


if __name__ == "__main__":
    main()
