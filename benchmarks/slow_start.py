"""Bug or slow start? The package's train step against an independent plain loop.

For the models that were still noise (or flat grey) after half an epoch of the Fashion-MNIST
comparison (least_squares, relativistic_average_least_squares, wgan, infogan, began), train each
twice from the same initial weights and the same data order:

- "package": ``keras_gan.recipes.build`` + ``model.fit``, exactly as ``compare`` does;
- "loop":    a hand-written ``tf.GradientTape`` loop in this file, with the loss written out
             here from the paper's equation (no keras_gan losses, penalties, models or hooks; only
             the networks and the data loader are shared), its own optimizers and its own
             random draws (``tf.random.Generator``).

and report, per run: the Frechet distance (10,000 samples, the protocol's) after 468 and after
937 discriminator steps, and the mean discriminator output on a real and on a fake batch at
steps 0, 100 and 468 (for BEGAN the autoencoder's L1 errors L(x), L(G(z)) and k instead; for
InfoGAN the adversarial logit). Same seed => same initial weights and batches for both, so a bug in
the package shows as a package/loop gap larger than the spread over seeds.

    python benchmarks/slow_start.py --out results/slow_start            # 5 models x 3 seeds x 2
    python benchmarks/slow_start.py --models least_squares --seeds 1   # one cell

Each run writes ``OUT/MODEL_IMPL_seedK.json`` (skipped if present); ``--table`` prints the
summary of what is there.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_gan as kg  # noqa: E402
from keras_gan import recipes  # noqa: E402

MODELS = ("least_squares", "relativistic_average_least_squares", "wgan", "infogan", "began")
# model id -> (recipe, loss passed to the recipe)
ENTRIES = {"least_squares": ("gan", "least_squares"),
           "relativistic_average_least_squares": ("gan", "relativistic_average_least_squares"),
           "wgan": ("wgan", None), "infogan": ("infogan", None), "began": ("began", None)}
PROBE_STEPS = (0, 100, 468)
FD_STEPS = (468, 937)
BATCH = recipes.IMAGE_BATCH
LATENT = recipes.IMAGE_LATENT_DIM


def frechet(images):
    return float(kg.metrics.frechet_distance(kg.metrics._test_features(), kg.metrics.features(images)))


def generate(generator, latent_fn, n=10_000, seed=12345):
    """n images from ``generator`` on the latents ``latent_fn(rng, n)`` (numpy), inference mode."""
    z = latent_fn(np.random.default_rng(seed), n)
    return np.concatenate([np.asarray(generator(z[i:i + 500], training=False)) for i in range(0, n, 500)])


def gaussian_latent(rng, n):
    return rng.standard_normal((n, LATENT)).astype("float32")


def infogan_latent(rng, n, k=10, n_cont=2):
    z = rng.standard_normal((n, LATENT)).astype("float32")
    cat = np.eye(k, dtype="float32")[rng.integers(k, size=n)]
    cont = rng.uniform(-1, 1, (n, n_cont)).astype("float32")
    return np.concatenate([z, cat, cont], axis=1)


# ---------------------------------------------------------------------------------- the plain loop
class PlainLoop:
    """One model's update written out by hand (tf.GradientTape, tf.function)."""

    def __init__(self, model_id, generator, discriminator, seed):
        self.id, self.G, self.D = model_id, generator, discriminator
        self.rng = tf.random.Generator.from_seed(seed + 1000)
        recipe = recipes.RECIPES[ENTRIES[model_id][0]]
        d_lr, g_lr = recipe.learning_rate, recipe.g_learning_rate or recipe.learning_rate
        if recipe.optimizer == "rmsprop":
            self.d_opt, self.g_opt = keras.optimizers.RMSprop(d_lr), keras.optimizers.RMSprop(g_lr)
        else:
            self.d_opt = keras.optimizers.Adam(d_lr, beta_1=recipe.beta_1, beta_2=recipe.beta_2)
            self.g_opt = keras.optimizers.Adam(g_lr, beta_1=recipe.beta_1, beta_2=recipe.beta_2)
        self.n_critic = 5 if model_id == "wgan" else 1
        self.k = tf.Variable(0.0)  # BEGAN
        self.step_count = 0
        self.d_step_fn = tf.function(self._d_step)
        self.g_step_fn = tf.function(self._g_step)

    def latent(self, n):
        z = self.rng.normal((n, LATENT))
        if self.id != "infogan":
            return z
        cat = tf.one_hot(self.rng.uniform((n,), 0, 10, dtype=tf.int32), 10)
        cont = self.rng.uniform((n, 2), -1.0, 1.0)
        return tf.concat([z, cat, cont], axis=1)

    def d_out(self, x):
        out = self.D(x, training=True)
        if self.id == "began":
            return tf.reduce_mean(tf.abs(x - out), axis=[1, 2, 3])
        return out[0] if self.id == "infogan" else out

    @staticmethod
    def info_loss(q, latent):
        cat, cont = latent[:, LATENT:LATENT + 10], latent[:, LATENT + 10:]
        ce = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(cat, q[:, :10]))
        mse = tf.reduce_mean(0.5 * tf.reduce_sum(tf.square(cont - q[:, 10:]), axis=1))
        return 1.0 * ce + 0.1 * mse

    def _d_step(self, real):
        latent = self.latent(tf.shape(real)[0])
        fake = self.G(latent, training=True)
        with tf.GradientTape() as tape:
            if self.id == "infogan":
                r, _ = self.D(real, training=True)
                f, q = self.D(fake, training=True)
                loss = (tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(r), r))
                        + tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(f), f))
                        + self.info_loss(q, latent))
            else:
                r, f = self.d_out(real), self.d_out(fake)
                if self.id == "least_squares":      # Mao et al. 2017, a=0, b=1
                    loss = 0.5 * tf.reduce_mean((r - 1.0) ** 2) + 0.5 * tf.reduce_mean(f ** 2)
                elif self.id == "relativistic_average_least_squares":   # Jolicoeur-Martineau 2018
                    loss = (tf.reduce_mean((r - tf.reduce_mean(f) - 1.0) ** 2)
                            + tf.reduce_mean((f - tf.reduce_mean(r) + 1.0) ** 2))
                elif self.id == "wgan":
                    loss = tf.reduce_mean(f) - tf.reduce_mean(r)
                else:  # began
                    loss = tf.reduce_mean(r) - self.k * tf.reduce_mean(f)
        grads = tape.gradient(loss, self.D.trainable_variables)
        self.d_opt.apply(grads, self.D.trainable_variables)
        if self.id == "wgan":
            for v in self.D.trainable_variables:
                v.assign(tf.clip_by_value(v, -0.01, 0.01))
        if self.id == "began":  # Berthelot et al. eq. 4, gamma 0.5, lambda_k 1e-3
            self.k.assign(tf.clip_by_value(self.k + 1e-3 * (0.5 * tf.reduce_mean(r) - tf.reduce_mean(f)),
                                           0.0, 1.0))

    def _g_step(self, real):
        latent = self.latent(tf.shape(real)[0])
        with tf.GradientTape() as tape:
            fake = self.G(latent, training=True)
            if self.id == "infogan":
                f, q = self.D(fake, training=True)
                loss = (tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(f), f))
                        + self.info_loss(q, latent))
            else:
                f = self.d_out(fake)
                if self.id == "least_squares":
                    loss = 0.5 * tf.reduce_mean((f - 1.0) ** 2)
                elif self.id == "relativistic_average_least_squares":
                    r = self.d_out(real)
                    loss = (tf.reduce_mean((f - tf.reduce_mean(r) - 1.0) ** 2)
                            + tf.reduce_mean((r - tf.reduce_mean(f) + 1.0) ** 2))
                elif self.id == "wgan":
                    loss = -tf.reduce_mean(f)
                else:
                    loss = tf.reduce_mean(f)
        grads = tape.gradient(loss, self.G.trainable_variables)
        self.g_opt.apply(grads, self.G.trainable_variables)

    def train(self, batches, steps):
        for _ in range(steps):
            real = next(batches)
            self.d_step_fn(real)
            self.step_count += 1
            if self.step_count % self.n_critic == 0:
                self.g_step_fn(real)


# ---------------------------------------------------------------------------------- probes
def probe(model_id, generator, discriminator, real, latent, k=None):
    """Mean D output on a real and a fake batch in training mode (what the losses see), with
    the discriminator's batch-norm statistics restored afterwards."""
    saved = [v.numpy() for v in discriminator.non_trainable_variables]
    fake = generator(latent, training=False)
    r, f = discriminator(real, training=True), discriminator(fake, training=True)
    for v, value in zip(discriminator.non_trainable_variables, saved):
        v.assign(value)
    if model_id == "began":
        lr = float(tf.reduce_mean(tf.abs(real - r)))
        lf = float(tf.reduce_mean(tf.abs(fake - f)))
        return {"L_real": lr, "L_fake": lf, "k": None if k is None else float(k)}
    if model_id == "infogan":
        r, f = r[0], f[0]
    return {"D_real": float(tf.reduce_mean(r)), "D_fake": float(tf.reduce_mean(f))}


def run(model_id, impl, seed, out):
    path = os.path.join(out, f"{model_id}_{impl}_seed{seed}.json")
    if os.path.exists(path):
        return json.load(open(path))
    recipe_name, loss = ENTRIES[model_id]
    model, _ = recipes.build(recipe_name, "fashion_mnist", loss=loss, seed=seed)  # seeds the networks
    G, D = model.generator, model.discriminator
    dataset = kg.data.load("fashion_mnist", batch_size=BATCH, seed=seed)
    latent_fn = infogan_latent if model_id == "infogan" else gaussian_latent
    probe_real = next(iter(kg.data.load("fashion_mnist", "test", batch_size=BATCH, shuffle=False)))
    probe_latent = latent_fn(np.random.default_rng(777), BATCH)
    result = {"model_id": model_id, "impl": impl, "seed": seed, "probes": {}, "fd": {}}
    wall, cpu = time.time(), time.process_time()
    if impl == "package":
        pipeline = dataset.repeat()
        done = 0

        def advance(to):
            nonlocal done
            if to > done:
                model.fit(pipeline, epochs=1, steps_per_epoch=to - done, verbose=0)
                done = to
    else:
        loop = PlainLoop(model_id, G, D, seed)
        batches = iter(dataset.repeat())
        done = 0

        def advance(to):
            nonlocal done
            if to > done:
                loop.train(batches, to - done)
                done = to
    for step in sorted(set(PROBE_STEPS + FD_STEPS)):
        advance(step)
        k = model.k if (impl == "package" and model_id == "began") else (
            loop.k if model_id == "began" else None)
        if step in PROBE_STEPS:
            result["probes"][str(step)] = probe(model_id, G, D, probe_real, probe_latent, k)
        if step in FD_STEPS:
            result["fd"][str(step)] = frechet(generate(G, latent_fn))
        print(f"  {model_id} {impl} seed {seed} step {step}: {result['probes'].get(str(step), '')} "
              f"FD {result['fd'].get(str(step), '')}", flush=True)
    result["train_seconds"] = round(time.time() - wall, 1)
    result["cpu_seconds"] = round(time.process_time() - cpu, 1)
    os.makedirs(out, exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    return result


def table(out):
    rows = ["| model | impl | seeds | FD 468 | FD 937 | D(x), D(G(z)) at 0 / 100 / 468 |",
            "|---|---|---|---|---|---|"]
    for model_id in MODELS:
        for impl in ("package", "loop"):
            runs = [json.load(open(os.path.join(out, f))) for f in sorted(os.listdir(out))
                    if f.startswith(f"{model_id}_{impl}_seed")]
            if not runs:
                continue

            def ms(values):
                values = np.asarray(values, float)
                return f"{values.mean():.1f} ± {values.std(ddof=1):.1f}" if len(values) > 1 else f"{values[0]:.1f}"

            probes = []
            for step in PROBE_STEPS:
                p = [r["probes"][str(step)] for r in runs]
                keys = ("L_real", "L_fake") if model_id == "began" else ("D_real", "D_fake")
                probes.append(", ".join(f"{np.mean([q[key] for q in p]):+.3f}" for key in keys)
                              + (f", k {np.mean([q['k'] for q in p]):.4f}" if model_id == "began" else ""))
            rows.append(f"| {model_id} | {impl} | {len(runs)} | {ms([r['fd']['468'] for r in runs])} | "
                        f"{ms([r['fd']['937'] for r in runs])} | {' / '.join(probes)} |")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--impls", nargs="+", default=["package", "loop"], choices=["package", "loop"])
    parser.add_argument("--out", default="results/slow_start")
    parser.add_argument("--table", action="store_true", help="only print the table of what is in --out")
    args = parser.parse_args()
    if not args.table:
        for model_id in args.models:
            for seed in range(args.seeds):
                for impl in args.impls:
                    r = run(model_id, impl, seed, args.out)
                    print(f"{model_id} {impl} seed {seed}: FD {r['fd']} ({r['train_seconds']} s)", flush=True)
    print(table(args.out))


if __name__ == "__main__":
    main()
