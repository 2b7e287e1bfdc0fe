"""The runs that judge the Wasserstein claims of notebooks 03 and 04.

The experiments and the verdict rules are fixed in results/wasserstein_claims/CRITERIA.md
(committed before these runs); the notebooks load what this script writes and print the verdicts.

    python benchmarks/wasserstein_claims.py main         # (a) (b) (e) (f): NS, WGAN, WGAN-GP x 5 seeds
    python benchmarks/wasserstein_claims.py robustness   # (d): NS and WGAN-GP, BN x learning rate, 5 seeds
    python benchmarks/wasserstein_claims.py gradients    # (c): gradients at a frozen blob, 5 seeds

Every run is a `compare` run on grid25 with the settings of results/grid25_20k (20,000 steps,
batch 256, learning rate 1e-3 falling linearly to 0, latent 2), so a finished run is skipped on a
restart. Output: results/wasserstein_claims/{main,robustness/<variant>}/ (compare's layout, with
each run's history.json curve) and results/wasserstein_claims/gradients.json.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

OUT = "results/wasserstein_claims"
SEEDS, STEPS, DATASET = 5, 20_000, "grid25"
ARMS = ("non_saturating", "wgan", "wgan_gp")
ROBUSTNESS_MODELS = ("non_saturating", "wgan_gp")
ROBUSTNESS_VARIANTS = tuple((norm, lr) for norm in ("none", "batch") for lr in (1e-3, 1e-4))


def variant_name(model_id, norm, lr):
    return f"{model_id}_norm-{norm}_lr{lr:g}"


def main_runs(out=OUT):
    from keras_gan import compare

    return compare.compare(DATASET, SEEDS, os.path.join(out, "main"), models=list(ARMS), steps=STEPS,
                           command=compare.command_line(DATASET, SEEDS, os.path.join(out, "main"),
                                                        list(ARMS), steps=STEPS))


def robustness_runs(out=OUT):
    from keras_gan import compare

    for model_id in ROBUSTNESS_MODELS:
        for norm, lr in ROBUSTNESS_VARIANTS:
            folder = os.path.join(out, "robustness", variant_name(model_id, norm, lr))
            settings = compare.settings_for(model_id, DATASET, steps=STEPS).replace(learning_rate=lr,
                                                                                    d_norm=norm)
            for seed in range(SEEDS):
                run_dir = os.path.join(folder, "runs", f"{model_id}_seed{seed}")
                if compare._finished(run_dir, settings, DATASET) is None:
                    compare.train_run(model_id, DATASET, seed, settings, run_dir)
                print(f"{variant_name(model_id, norm, lr)} seed {seed} done", flush=True)


def frozen_blob_gradients(seed, steps=2_000, batch=256, blob_center=(6.0, 6.0), blob_std=0.05):
    """Claim (c) for one seed: train a cross-entropy discriminator, a clipped critic and a
    penalised critic against a frozen blob of fakes; return the gradient statistics at the blob."""
    import keras
    import tensorflow as tf

    import keras_gan as kg

    mixture = kg.data.mixture(DATASET)
    rng = np.random.default_rng(seed)
    blob = (np.asarray(blob_center) + blob_std * rng.standard_normal((batch, 2))).astype("float32")
    nearest = mixture.centers[np.argmin(((blob[:, None] - mixture.centers[None]) ** 2).sum(-1), axis=1)]
    to_data = (nearest - blob) / np.linalg.norm(nearest - blob, axis=1, keepdims=True)
    ns, wasserstein = kg.losses.get("non_saturating"), kg.losses.get("wasserstein")
    out = {"seed": seed}
    for kind in ("cross_entropy", "clipping", "gradient_penalty"):
        keras.utils.set_random_seed(seed)
        critic = kg.architectures.mlp_discriminator(2)
        optimizer = (keras.optimizers.RMSprop(1e-3) if kind == "clipping"
                     else keras.optimizers.Adam(1e-3, 0.5, 0.9 if kind == "gradient_penalty" else 0.999))
        noise = keras.random.SeedGenerator(seed)

        @tf.function
        def step_fn(real, critic=critic, optimizer=optimizer, kind=kind, noise=noise):
            with tf.GradientTape() as tape:
                r, f = critic(real, training=True), critic(blob, training=True)
                if kind == "cross_entropy":
                    loss = ns.discriminator_loss(r, f)
                else:
                    loss = wasserstein.discriminator_loss(r, f)
                if kind == "gradient_penalty":
                    loss = loss + 0.1 * kg.penalties.gradient_penalty(critic, real, blob, seed=noise)
            optimizer.apply(tape.gradient(loss, critic.trainable_variables), critic.trainable_variables)
            if kind == "clipping":
                for v in critic.trainable_variables:
                    v.assign(tf.clip_by_value(v, -0.01, 0.01))

        for step in range(steps):
            step_fn(tf.constant(mixture.sample(batch, seed=seed * 100_000 + step)))
        x = tf.constant(blob)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            logits = critic(x, training=False)
            # summed over the batch: each point's gradient is its own sample's
            minimax_g = tf.reduce_sum(-tf.nn.softplus(logits))     # sum of log(1 - s(D))
            non_saturating_g = tf.reduce_sum(tf.nn.softplus(-logits))
            critic_sum = tf.reduce_sum(logits)
        if kind == "cross_entropy":
            g_mm = tape.gradient(minimax_g, x).numpy()
            g_ns = tape.gradient(non_saturating_g, x).numpy()
            out["mean_sigmoid_D_fake"] = float(tf.reduce_mean(tf.sigmoid(logits)))
            out["minimax_grad_norm"] = float(np.linalg.norm(g_mm, axis=1).mean())
            out["non_saturating_grad_norm"] = float(np.linalg.norm(g_ns, axis=1).mean())
            out["ratio"] = out["minimax_grad_norm"] / out["non_saturating_grad_norm"]
            out["non_saturating_cosine"] = float(np.mean(np.sum(-g_ns * to_data, 1)
                                                         / np.linalg.norm(g_ns, axis=1)))
        else:
            ascent = tape.gradient(critic_sum, x).numpy()  # -dL_G/dx for L_G = -D
            out[f"{kind}_grad_norm"] = float(np.linalg.norm(ascent, axis=1).mean())
            out[f"{kind}_cosine"] = float(np.mean(np.sum(ascent * to_data, 1) / np.linalg.norm(ascent, axis=1)))
        del tape
    return out


def gradient_runs(out=OUT):
    path = os.path.join(out, "gradients.json")
    found = json.load(open(path)) if os.path.exists(path) else []
    done = {r["seed"] for r in found}
    for seed in range(SEEDS):
        if seed not in done:
            found.append(frozen_blob_gradients(seed))
            os.makedirs(out, exist_ok=True)
            with open(path, "w") as f:
                json.dump(sorted(found, key=lambda r: r["seed"]), f, indent=1)
        print(json.dumps(found[-1]), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["main", "robustness", "gradients", "all"])
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args()
    for part, fn in (("gradients", gradient_runs), ("main", main_runs), ("robustness", robustness_runs)):
        if args.part in (part, "all"):
            fn(args.out)


if __name__ == "__main__":
    main()
