"""Speed of the train step on each Keras backend, side by side, against hand-written loops.

Lucic et al.'s Fashion-MNIST networks (``architectures.dcgan_generator`` /
``dcgan_discriminator``, batch 64, latent 64), two models: the non-saturating DCGAN (batch
norm in both networks, Adam(2e-4, 0.5), a generator update every step) and WGAN-GP (no batch
norm in the critic, Adam(1e-4, 0.5, 0.9), lambda 10, a generator update every 5th step). A
step is one discriminator update on one real batch (plus the generator update when due).

Implementations, each timed in its backend's own process:

    keras_gan   ``GAN.fit`` / ``WGANGP.fit`` on numpy batches (what a user runs)
    loop        a hand-written loop over the same Keras networks and optimizers on that
                backend: TensorFlow a ``tf.function`` step with ``GradientTape``; JAX the keras.io
                stateless step (``stateless_call``, ``jax.value_and_grad``, ``stateless_apply``,
                ``jax.jit``); PyTorch the keras.io torch loop (``torch.autograd``, ``apply``)
    plain_torch the same architectures in ``torch.nn`` with ``torch.optim.Adam`` (no Keras)

One worker process per backend builds and warms up everything (tracing, compiling), then
the rounds alternate: each round runs every (model, implementation) once, backend after
backend, while the other workers wait. Printed per row: the median over the rounds of wall
and CPU seconds per step (CPU: the worker process's, all threads), the ratio to TensorFlow's
keras_gan, keras_gan over the same backend's loop, and the ratio to the plain PyTorch loop.

    python benchmarks/backends.py [--steps 30] [--rounds 5] [--models gan,wgan_gp]

Measure on a quiet machine (stop any training first): a busy CPU distorts wall times and,
with OpenMP's spinning threads, PyTorch's most of all.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

LATENT, BATCH = 64, 64
MODELS = {"gan": dict(d_steps=1, lr=2e-4, betas=(0.5, 0.999), gp=0.0, norm="batch"),
          "wgan_gp": dict(d_steps=5, lr=1e-4, betas=(0.5, 0.9), gp=10.0, norm=None)}
BACKENDS = ("tensorflow", "jax", "torch")


# ------------------------------------------------------------------------------ workers
def data(steps, seed=0):
    import numpy as np
    return np.random.default_rng(seed).uniform(-1, 1, (steps * BATCH, 28, 28, 1)).astype("float32")


def keras_parts(name):
    import keras
    from keras_gan import architectures
    spec = MODELS[name]
    keras.utils.set_random_seed(0)
    g = architectures.dcgan_generator(LATENT)
    d = architectures.dcgan_discriminator(norm=spec["norm"])
    opts = [keras.optimizers.Adam(spec["lr"], *spec["betas"]) for _ in range(2)]
    return g, d, opts[0], opts[1], spec


def keras_gan_runner(name):
    import keras_gan as kg
    g, d, d_opt, g_opt, spec = keras_parts(name)
    model = (kg.GAN(g, d, LATENT, loss="non_saturating", seed=0) if name == "gan"
             else kg.WGANGP(g, d, LATENT, gp_weight=spec["gp"], d_steps=spec["d_steps"], seed=0))
    model.compile(d_optimizer=d_opt, g_optimizer=g_opt)

    def run(x, steps):
        model.fit(x[:steps * BATCH], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    return run


def losses(ops, real_out, fake_out, gp):
    """(L_D without penalty, L_G as a function of D(G(z))): non-saturating or Wasserstein."""
    if gp:
        return ops.mean(fake_out) - ops.mean(real_out), lambda out: -ops.mean(out)
    softplus = ops.softplus
    return ops.mean(softplus(-real_out)) + ops.mean(softplus(fake_out)), lambda out: ops.mean(softplus(-out))


def tensorflow_loop(name):
    import keras
    import tensorflow as tf
    from keras import ops
    g, d, d_opt, g_opt, spec = keras_parts(name)
    seed = keras.random.SeedGenerator(0)

    @tf.function
    def d_step(real):
        fake = g(keras.random.normal((BATCH, LATENT), seed=seed), training=True)
        with tf.GradientTape() as tape:
            loss, _ = losses(ops, d(real, training=True), d(fake, training=True), spec["gp"])
            if spec["gp"]:
                alpha = keras.random.uniform((BATCH, 1, 1, 1), seed=seed)
                x_hat = alpha * real + (1 - alpha) * fake
                with tf.GradientTape() as inner:
                    inner.watch(x_hat)
                    out = tf.reduce_sum(d(x_hat, training=True))
                grad = inner.gradient(out, x_hat)
                norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]) + 1e-12)
                loss += spec["gp"] * tf.reduce_mean(tf.square(norm - 1))
        d_opt.apply(tape.gradient(loss, d.trainable_variables), d.trainable_variables)
        return loss

    @tf.function
    def g_step():
        with tf.GradientTape() as tape:
            out = d(g(keras.random.normal((BATCH, LATENT), seed=seed), training=True), training=True)
            loss = losses(ops, out, out, spec["gp"])[1](out)
        g_opt.apply(tape.gradient(loss, g.trainable_variables), g.trainable_variables)

    count = [0]

    def run(x, steps):
        for i in range(steps):
            loss = d_step(tf.constant(x[i * BATCH:(i + 1) * BATCH]))
            count[0] += 1
            if count[0] % spec["d_steps"] == 0:
                g_step()
        float(loss)
    return run


def jax_loop(name):
    import jax
    import jax.numpy as jnp
    from keras import ops
    g, d, d_opt, g_opt, spec = keras_parts(name)
    d_opt.build(d.trainable_variables)
    g_opt.build(g.trainable_variables)
    values = lambda vs: [v.value for v in vs]  # noqa: E731
    state = [values(d.trainable_variables), values(d.non_trainable_variables), values(d_opt.variables),
             values(g.trainable_variables), values(g.non_trainable_variables), values(g_opt.variables)]
    base = jax.random.PRNGKey(0)

    def d_loss(d_tv, d_ntv, g_tv, g_ntv, real, key):
        k1, k2 = jax.random.split(key)
        fake, g_ntv = g.stateless_call(g_tv, g_ntv, jax.random.normal(k1, (BATCH, LATENT)), training=True)
        fake = jax.lax.stop_gradient(fake)
        real_out, d_ntv = d.stateless_call(d_tv, d_ntv, real, training=True)
        fake_out, d_ntv = d.stateless_call(d_tv, d_ntv, fake, training=True)
        loss, _ = losses(ops, real_out, fake_out, spec["gp"])
        if spec["gp"]:
            alpha = jax.random.uniform(k2, (BATCH, 1, 1, 1))
            x_hat = alpha * real + (1 - alpha) * fake
            grad = jax.grad(lambda x: jnp.sum(d.stateless_call(d_tv, d_ntv, x, training=True)[0]))(x_hat)
            norm = jnp.sqrt(jnp.sum(jnp.square(grad), axis=(1, 2, 3)) + 1e-12)
            loss += spec["gp"] * jnp.mean(jnp.square(norm - 1))
        return loss, (d_ntv, g_ntv)

    @jax.jit
    def d_step(state, real, step):
        d_tv, d_ntv, d_ov, g_tv, g_ntv, g_ov = state
        (loss, (d_ntv, g_ntv)), grads = jax.value_and_grad(d_loss, has_aux=True)(
            d_tv, d_ntv, g_tv, g_ntv, real, jax.random.fold_in(base, step))
        d_tv, d_ov = d_opt.stateless_apply(d_ov, grads, d_tv)
        return [d_tv, d_ntv, d_ov, g_tv, g_ntv, g_ov], loss

    def g_loss(g_tv, g_ntv, d_tv, d_ntv, key):
        fake, g_ntv = g.stateless_call(g_tv, g_ntv, jax.random.normal(key, (BATCH, LATENT)), training=True)
        out, d_ntv = d.stateless_call(d_tv, d_ntv, fake, training=True)
        return losses(ops, out, out, spec["gp"])[1](out), (g_ntv, d_ntv)

    @jax.jit
    def g_step(state, step):
        d_tv, d_ntv, d_ov, g_tv, g_ntv, g_ov = state
        (_, (g_ntv, d_ntv)), grads = jax.value_and_grad(g_loss, has_aux=True)(
            g_tv, g_ntv, d_tv, d_ntv, jax.random.fold_in(base, step + 10 ** 6))
        g_tv, g_ov = g_opt.stateless_apply(g_ov, grads, g_tv)
        return [d_tv, d_ntv, d_ov, g_tv, g_ntv, g_ov]

    count = [0]

    def run(x, steps):
        nonlocal state
        for i in range(steps):
            state, loss = d_step(state, x[i * BATCH:(i + 1) * BATCH], count[0])
            count[0] += 1
            if count[0] % spec["d_steps"] == 0:
                state = g_step(state, count[0])
        float(loss)
    return run


def torch_loop(name):
    import keras
    import torch
    g, d, d_opt, g_opt, spec = keras_parts(name)
    d_w, g_w = d.trainable_weights, g.trainable_weights
    softplus = torch.nn.functional.softplus

    def d_step(real):
        with torch.no_grad():
            fake = g(torch.randn(BATCH, LATENT), training=True)
        real_out, fake_out = d(real, training=True), d(fake, training=True)
        loss = (fake_out.mean() - real_out.mean() if spec["gp"]
                else softplus(-real_out).mean() + softplus(fake_out).mean())
        if spec["gp"]:
            alpha = torch.rand(BATCH, 1, 1, 1)
            x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(d(x_hat, training=True).sum(), x_hat, create_graph=True)
            loss = loss + spec["gp"] * ((grad.square().sum(dim=(1, 2, 3)) + 1e-12).sqrt() - 1).square().mean()
        grads = torch.autograd.grad(loss, [v.value for v in d_w])
        with torch.no_grad():
            d_opt.apply(list(grads), d_w)
        return loss.detach()

    def g_step():
        out = d(g(torch.randn(BATCH, LATENT), training=True), training=True)
        loss = -out.mean() if spec["gp"] else softplus(-out).mean()
        grads = torch.autograd.grad(loss, [v.value for v in g_w])
        with torch.no_grad():
            g_opt.apply(list(grads), g_w)

    count = [0]

    def run(x, steps):
        for i in range(steps):
            loss = d_step(keras.ops.convert_to_tensor(x[i * BATCH:(i + 1) * BATCH]))
            count[0] += 1
            if count[0] % spec["d_steps"] == 0:
                g_step()
        float(loss)
    return run


def plain_torch_loop(name):
    import torch
    from torch import nn
    spec = MODELS[name]
    torch.manual_seed(0)
    bn = dict(eps=1e-3, momentum=0.01)          # Keras's BatchNormalization defaults
    g = nn.Sequential(nn.Linear(LATENT, 1024, bias=False), nn.BatchNorm1d(1024, **bn), nn.ReLU(),
                      nn.Linear(1024, 128 * 7 * 7, bias=False), nn.BatchNorm1d(128 * 7 * 7, **bn), nn.ReLU(),
                      nn.Unflatten(1, (128, 7, 7)), nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
                      nn.BatchNorm2d(64, **bn), nn.ReLU(), nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    norm = spec["norm"] == "batch"
    d = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1, bias=not norm),
                      *([nn.BatchNorm2d(128, **bn)] if norm else []), nn.LeakyReLU(0.2), nn.Flatten(),
                      nn.Linear(128 * 7 * 7, 1024, bias=not norm), *([nn.BatchNorm1d(1024, **bn)] if norm else []),
                      nn.LeakyReLU(0.2), nn.Linear(1024, 1))
    d_opt = torch.optim.Adam(d.parameters(), spec["lr"], betas=spec["betas"], eps=1e-7)
    g_opt = torch.optim.Adam(g.parameters(), spec["lr"], betas=spec["betas"], eps=1e-7)
    softplus = nn.functional.softplus

    def d_step(real):
        with torch.no_grad():
            fake = g(torch.randn(BATCH, LATENT))
        real_out, fake_out = d(real), d(fake)
        loss = (fake_out.mean() - real_out.mean() if spec["gp"]
                else softplus(-real_out).mean() + softplus(fake_out).mean())
        if spec["gp"]:
            alpha = torch.rand(BATCH, 1, 1, 1)
            x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(d(x_hat).sum(), x_hat, create_graph=True)
            loss = loss + spec["gp"] * ((grad.square().sum(dim=(1, 2, 3)) + 1e-12).sqrt() - 1).square().mean()
        d_opt.zero_grad(set_to_none=True)
        loss.backward()
        d_opt.step()
        return loss.detach()

    def g_step():
        out = d(g(torch.randn(BATCH, LATENT)))
        loss = -out.mean() if spec["gp"] else softplus(-out).mean()
        g_opt.zero_grad(set_to_none=True)
        loss.backward()
        g_opt.step()

    count = [0]

    def run(x, steps):
        x = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()        # NCHW, once
        for i in range(steps):
            loss = d_step(x[i * BATCH:(i + 1) * BATCH])
            count[0] += 1
            if count[0] % spec["d_steps"] == 0:
                g_step()
        float(loss)
    return run


LOOPS = {"tensorflow": tensorflow_loop, "jax": jax_loop, "torch": torch_loop}


def serve(backend, models, steps, warmup):
    """The worker: build and warm up, then time ``run MODEL IMPL`` commands from stdin."""
    import keras
    assert keras.backend.backend() == backend, (keras.backend.backend(), backend)
    x = data(max(steps, warmup))
    runners = {}
    for model in models:
        runners[(model, "keras_gan")] = keras_gan_runner(model)
        runners[(model, "loop")] = LOOPS[backend](model)
        if backend == "torch":
            runners[(model, "plain_torch")] = plain_torch_loop(model)
    for run in runners.values():
        run(x, warmup)
    print(json.dumps({"ready": sorted(f"{m} {i}" for m, i in runners)}), flush=True)
    for line in sys.stdin:
        model, impl = line.split()
        wall, cpu = time.perf_counter(), time.process_time()
        runners[(model, impl)](x, steps)
        print(json.dumps({"wall": (time.perf_counter() - wall) / steps, "cpu": (time.process_time() - cpu) / steps}),
              flush=True)


# -------------------------------------------------------------------------------- driver
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="steps per timed round (default 30)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps that trace and compile (default 5)")
    parser.add_argument("--models", default="gan,wgan_gp")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    models = args.models.split(",")
    period = max(MODELS[m]["d_steps"] for m in models if m in MODELS) if set(models) <= set(MODELS) else 1
    if any(m not in MODELS for m in models) or args.rounds < 1 or min(args.steps, args.warmup) < period \
            or args.steps % period or args.warmup % period:
        parser.error(f"--models takes {', '.join(MODELS)}; --rounds must be >= 1, --steps and --warmup multiples of "
                     f"{period} (the generator's period), so that every round makes the same updates")
    if args.serve:
        return serve(args.serve, models, args.steps, args.warmup)
    backends = args.backends.split(",")
    workers = {}
    for backend in backends:
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        workers[backend] = subprocess.Popen(
            [sys.executable, __file__, "--serve", backend, "--models", args.models, "--steps", str(args.steps),
             "--warmup", str(args.warmup)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    rows = {}
    for backend, worker in workers.items():      # one warm-up at a time, then all wait for their rounds
        ready = json.loads(worker.stdout.readline())["ready"]
        for entry in ready:
            model, impl = entry.split()
            rows[(model, backend, impl)] = {"wall": [], "cpu": []}
    for _ in range(args.rounds):
        for (model, backend, impl), times in rows.items():
            workers[backend].stdin.write(f"{model} {impl}\n")
            workers[backend].stdin.flush()
            result = json.loads(workers[backend].stdout.readline())
            times["wall"].append(result["wall"])
            times["cpu"].append(result["cpu"])
    for worker in workers.values():
        worker.stdin.close()
        worker.wait()
    report(rows, args)


def report(rows, args):
    import keras
    median = {key: {k: statistics.median(v) for k, v in times.items()} for key, times in rows.items()}
    print(f"Keras {keras.__version__}; {args.rounds} alternating rounds of {args.steps} steps (batch {BATCH}), "
          "Lucic et al.'s Fashion-MNIST networks; medians; seconds per step (wall / CPU)")
    print(f"{'model':8} {'backend':10} {'implementation':14} {'wall s':>8} {'CPU s':>8} {'vs TF keras_gan':>16} "
          f"{'keras_gan/loop':>15} {'vs plain torch':>15}")
    for (model, backend, impl), m in median.items():
        ref = median.get((model, "tensorflow", "keras_gan"))
        loop = median.get((model, backend, "loop"))
        plain = median.get((model, "torch", "plain_torch"))

        def ratio(a, b):
            return "-" if b is None else f"{a['wall'] / b['wall']:.2f}/{a['cpu'] / b['cpu']:.2f}"
        own = ratio(m, loop) if impl == "keras_gan" else ""
        print(f"{model:8} {backend:10} {impl:14} {m['wall']:8.4f} {m['cpu']:8.4f} {ratio(m, ref):>16} {own:>15} "
              f"{ratio(m, plain):>15}")
    print("ratios: wall/CPU. keras_gan/loop above 1.10 on a backend is overhead of the package on that backend.")


if __name__ == "__main__":
    main()
