"""Numerical regression: a seeded 20-step ``fit`` of every model, against a fixture.

The fixture (``tests/fixtures/regression.json``) was written by this file from the code
before the penalty/step refactor (``python tests/test_regression.py --write``). Each case
records, after 20 training steps on a 2D mixture (one case on 8x8 images): the logged
losses Keras passed to ``on_train_batch_end`` at every step, and for every model variable
(weights, step counter, BEGAN's k, the SeedGenerator's state) two checksums (the sum and a
cosine-weighted sum, which sees permutations) plus a few values; the same for 16 samples
of ``generate``. A change of the random stream, of the order of the draws, or of any
formula moves these beyond the tolerance; float32 rounding on another CPU does not.

Regenerate it only on purpose, for a change that is meant to alter the numerics.
"""

import json
import os
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gan as kg
from keras_gan import architectures

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "regression.json")
LATENT, BATCH, STEPS = 4, 32, 20
RING = kg.data.mixture("ring8")
K = RING.num_modes
TOLERANCE = 1e-5          # absolute and relative
SAMPLES_PER_VARIABLE = 6


def _mlp(extra=0, latent=LATENT):
    return (architectures.mlp_generator(latent, 2, units=16, depth=2, extra_input_dim=extra),
            architectures.mlp_discriminator(2, units=16, depth=2, extra_input_dim=extra))


def _conv_nets():
    """8x8x1 images: Dense-BN-ReLU-deconv-tanh generator, conv critic without batch norm."""
    layers = keras.layers
    z = keras.Input((LATENT,))
    x = layers.Dense(4 * 4 * 4, use_bias=False)(z)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(layers.Reshape((4, 4, 4))(x))
    g = keras.Model(z, layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh")(x))
    image = keras.Input((8, 8, 1))
    y = layers.LeakyReLU(0.2)(layers.Conv2D(4, 3, strides=2, padding="same")(image))
    d = keras.Model(image, layers.Dense(1)(layers.Flatten()(y)))
    return g, d


def _build(name):
    if name == "gan_r1_penalty":
        return kg.GAN(*_mlp(), LATENT, penalty="r1", penalty_weight=1.0, seed=0)
    if name.startswith("gan_"):
        return kg.GAN(*_mlp(), LATENT, loss=name[len("gan_"):], seed=0)
    if name == "wgan":
        return kg.WGAN(*_mlp(), LATENT, clip_value=0.05, d_steps=2, seed=0)
    if name == "wgan_gp":
        return kg.WGANGP(*_mlp(), LATENT, gp_weight=1.0, d_steps=2, seed=0)
    if name == "dragan":
        return kg.DRAGAN(*_mlp(), LATENT, penalty_weight=1.0, c=0.5, seed=0)
    if name == "began":
        return kg.BEGAN(architectures.mlp_generator(LATENT, 2, units=16, depth=2),
                        architectures.mlp_autoencoder(2, units=16, depth=1, code_dim=4), LATENT,
                        lambda_k=0.1, seed=0)
    if name == "cgan":
        return kg.ConditionalGAN(*_mlp(extra=K), LATENT, num_classes=K, loss="hinge",
                                 penalty="gradient_penalty", penalty_weight=0.5, seed=0)
    if name == "infogan":
        return kg.InfoGAN(architectures.mlp_generator(LATENT + 4 + 1, 2, units=16, depth=2),
                          architectures.mlp_infogan_discriminator(2, 4, 1, units=16, depth=2),
                          LATENT, num_categories=4, num_continuous=1, seed=0)
    if name == "conv_wgan_gp":
        return kg.WGANGP(*_conv_nets(), LATENT, gp_weight=10.0, d_steps=2, seed=0)
    if name == "conv_dragan":
        return kg.DRAGAN(*_conv_nets(), LATENT, seed=0)
    raise ValueError(name)


CASES = ([f"gan_{loss}" for loss in ("minimax", "non_saturating", "least_squares", "wasserstein", "hinge",
                                     "relativistic_average", "relativistic_average_least_squares")]
         + ["gan_r1_penalty", "wgan", "wgan_gp", "dragan", "began", "cgan", "infogan", "conv_wgan_gp",
            "conv_dragan"])


def _data(name):
    n = STEPS * BATCH
    if name.startswith("conv_"):
        x = np.random.default_rng(0).uniform(-1, 1, (n, 8, 8, 1)).astype("float32")
        return tf.data.Dataset.from_tensor_slices(x).batch(BATCH)
    x, y = RING.sample_with_labels(n, seed=0)
    data = (x, y.astype("int32")) if name == "cgan" else x
    return tf.data.Dataset.from_tensor_slices(data).batch(BATCH)


def _summary(values):
    flat = np.asarray(values).astype("float64").ravel()
    index = np.unique(np.linspace(0, flat.size - 1, min(SAMPLES_PER_VARIABLE, flat.size)).astype(int))
    weights = np.cos(np.arange(flat.size))
    return {"shape": list(np.shape(values)), "sum": float(flat.sum()), "cos_sum": float(flat @ weights),
            "index": index.tolist(), "values": flat[index].tolist()}


def run(name):
    """Train case ``name`` for STEPS steps; return its record (JSON-ready)."""
    keras.utils.set_random_seed(0)
    model = _build(name)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3, 0.5), g_optimizer=keras.optimizers.Adam(1e-3, 0.5))
    logs = {}

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None, out=logs):
            for key, value in (logs or {}).items():
                out.setdefault(key, []).append(float(np.asarray(value).reshape(())))

    model.fit(_data(name), epochs=1, verbose=0, callbacks=[Record()])
    variables = {v.path: _summary(v.numpy()) for v in model.variables}
    return {"logs": logs, "variables": variables, "generate": _summary(model.generate(16, seed=0))}


def _load():
    with open(FIXTURE) as f:
        return json.load(f)


def _close(actual, expected, what):
    np.testing.assert_allclose(actual, expected, rtol=TOLERANCE, atol=TOLERANCE, err_msg=what)


@pytest.mark.parametrize("name", CASES)
def test_twenty_steps_match_the_fixture(name):
    expected = _load()[name]
    got = run(name)
    assert sorted(got["logs"]) == sorted(expected["logs"]), name
    for key, values in expected["logs"].items():
        _close(got["logs"][key], values, f"{name}: logged {key}")
    assert len(got["variables"]) == len(expected["variables"]), sorted(got["variables"])
    # Variables in creation order: their paths may change with the code layout, their order not.
    for (path, want), (got_path, have) in zip(expected["variables"].items(), got["variables"].items()):
        assert have["shape"] == want["shape"], (path, got_path)
        for key in ("sum", "cos_sum", "values"):
            _close(have[key], want[key], f"{name}: {path} ({got_path}) {key}")
    for key in ("sum", "cos_sum", "values"):
        _close(got["generate"][key], expected["generate"][key], f"{name}: generate {key}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_regression.py --write   (rewrites the fixture)")
    os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
    records = {}
    for case in CASES:
        records[case] = run(case)
        print(case, {k: v[-1] for k, v in records[case]["logs"].items()}, flush=True)
    with open(FIXTURE, "w") as f:
        json.dump(records, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(FIXTURE, os.path.getsize(FIXTURE), "bytes")
