"""Run by test_spectral_norm.py, one process per Keras backend (KERAS_BACKEND set by the test):

    python tests/spectral_norm_worker.py OUT

writes OUT/sn-BACKEND.npz with, for a small SN-GAN (Lucic et al.'s networks on 8x8 images,
``dcgan_discriminator(norm="spectral")``, hinge loss), every weight drawn from numpy so that all
backends start from the same numbers:

- ``recipe/...``: after ``RECIPE_STEPS`` ``fit`` steps with the sngan recipe's optimizer (Adam
  2e-4, 0.5, 0.999), for each ``SpectralNorm`` layer its kernel and u, the kernel the forward
  pass uses (``normalized_kernel()``), and how far the layer's output (inference, then one
  training-mode call) is from a plain copy of the wrapped layer given W / sigma computed here in
  numpy from the saved kernel and u;
- ``saved/...``: the critic's outputs and u before ``save`` and after ``load_model(safe_mode=True)``,
  and the whole training state of both copies after two more ``fit`` steps;
- ``same/...``: the whole training state after ``SAME_STEPS`` SGD steps with fixed draws
  (``cases.FixedDraws``), to compare across backends;
- ``cli/...``: the exit code of ``python -m keras_gan train --model sngan --dataset ring8`` (3
  steps, run in this process through ``cli.main``) and the wrapped layers of its gan.keras.
"""

import os
import sys

import keras
import numpy as np
from keras import ops

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402

import keras_gan as kg  # noqa: E402
from keras_gan import architectures, cli  # noqa: E402
from keras_gan.layers import SpectralNorm  # noqa: E402

BACKEND = keras.backend.backend()
SHAPE, LATENT, WIDTH, BATCH = (8, 8, 1), 4, 8, 16
RECIPE_STEPS, SAME_STEPS = 100, 3


def build():
    g = architectures.dcgan_generator(LATENT, SHAPE, width=WIDTH)
    d = architectures.dcgan_discriminator(SHAPE, width=WIDTH, norm="spectral")
    rng = np.random.default_rng(0)
    for v in g.trainable_weights + d.trainable_weights:
        shape = tuple(v.shape)
        if "gamma" in v.path:
            value = 1.0 + rng.normal(0.0, 0.1, shape)
        elif len(shape) == 1:
            value = rng.normal(0.0, 0.05, shape)
        else:   # Glorot-normal scale
            fan_in, fan_out = int(np.prod(shape[:-1])), shape[-1]
            value = rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), shape)
        v.assign(value.astype("float32"))
    for layer in sn_layers(d):
        u = rng.normal(size=tuple(layer.vector_u.shape))
        layer.vector_u.assign((u / np.linalg.norm(u)).astype("float32"))
    return kg.GAN(g, d, LATENT, loss="hinge", seed=1)


def sn_layers(model):
    return [layer for layer in model.layers if isinstance(layer, SpectralNorm)]


def images(n, seed):
    rng = np.random.default_rng(seed)
    base = np.linspace(-1, 1, SHAPE[0] * SHAPE[1]).reshape(SHAPE)
    return np.tanh(base[None] * rng.uniform(0.5, 2, (n, 1, 1, 1)) + rng.normal(0, 0.3, (n, *SHAPE))).astype("float32")


def numpy_normalized(kernel, u):
    """W / sigma with sigma = |W u| (u of norm 1): what the forward pass must use, in numpy."""
    matrix = kernel.reshape(-1, kernel.shape[-1]).astype("float64")
    sigma = np.linalg.norm(matrix @ u.astype("float64").ravel())
    return (matrix / sigma).reshape(kernel.shape)


def plain_copy(layer, kernel):
    """The wrapped Dense/Conv2D, rebuilt from its config, with ``kernel`` and the layer's bias."""
    inner = layer.layer
    copy = type(inner).from_config(inner.get_config())
    copy.build(layer.input.shape)
    weights = [kernel.astype("float32")] + ([ops.convert_to_numpy(inner.bias)] if inner.use_bias else [])
    copy.set_weights(weights)
    return copy


def check_layers(model, out, prefix):
    rng = np.random.default_rng(5)
    for layer in sn_layers(model.discriminator):
        key = f"{prefix}/{layer.name}"
        kernel = ops.convert_to_numpy(layer.layer.kernel)
        u = ops.convert_to_numpy(layer.vector_u)
        out[f"{key}/kernel"], out[f"{key}/u"] = kernel, u
        out[f"{key}/forward_kernel"] = ops.convert_to_numpy(layer.normalized_kernel())
        x = rng.normal(size=(4, *layer.input.shape[1:])).astype("float32")
        inference = ops.convert_to_numpy(layer(x, training=False))
        expected = ops.convert_to_numpy(plain_copy(layer, numpy_normalized(kernel, u))(x))
        out[f"{key}/inference_error"] = np.abs(inference - expected).max()
        out[f"{key}/inference_scale"] = np.abs(expected).max()
        training = ops.convert_to_numpy(layer(x, training=True))     # one power iteration, then W / sigma
        new_u = ops.convert_to_numpy(layer.vector_u)
        expected = ops.convert_to_numpy(plain_copy(layer, numpy_normalized(kernel, new_u))(x))
        out[f"{key}/training_error"] = np.abs(training - expected).max()
        out[f"{key}/kernel_unchanged"] = np.array_equal(ops.convert_to_numpy(layer.layer.kernel), kernel)
        layer.vector_u.assign(u)                                      # undo the probe's iteration


def recipe(out, tmp):
    model = build()
    d_opt, g_opt = kg.recipes.RECIPES["sngan"].optimizers()
    model.compile(d_optimizer=d_opt, g_optimizer=g_opt)
    model.fit(images(RECIPE_STEPS * BATCH, 1), batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    check_layers(model, out, "recipe")

    probe = images(8, 2)
    path = os.path.join(tmp, f"sngan-{BACKEND}.keras")
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    out["saved/loaded_types"] = np.array([type(layer).__name__ for layer in sn_layers(loaded.discriminator)])
    for name, m in (("before", model), ("after", loaded)):
        out[f"saved/{name}/outputs"] = ops.convert_to_numpy(m.discriminator(probe, training=False))
        out[f"saved/{name}/u"] = np.concatenate(
            [ops.convert_to_numpy(layer.vector_u).ravel() for layer in sn_layers(m.discriminator)])
    more = images(2 * BATCH, 3)
    for name, m in (("before", model), ("after", loaded)):
        m.fit(more, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        for i, value in enumerate(cases.state(m)):
            out[f"saved/{name}/state/{i}"] = value


def same(out):
    model = build()
    model.compile(d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05))
    with cases.FixedDraws(BATCH) as draws:
        model.fit(images(SAME_STEPS * BATCH, 4), batch_size=BATCH, epochs=1, shuffle=False, verbose=0,
                  callbacks=[draws])
    paths = [v.path for v in model.variables]
    out["same/paths"] = np.array(paths)
    for path, value in zip(paths, cases.state(model)):
        out[f"same/{path}"] = value


def cli_run(out, tmp):
    run_dir = os.path.join(tmp, f"cli-{BACKEND}")
    out["cli/rc"] = np.array(cli.main(["train", "--model", "sngan", "--dataset", "ring8", "--epochs", "1",
                                       "--steps-per-epoch", "3", "--out", run_dir, "--verbose", "0"]))
    gan = keras.models.load_model(os.path.join(run_dir, "gan.keras"), safe_mode=True)
    out["cli/wrapped"] = np.array([layer.layer.name for layer in sn_layers(gan.discriminator)])
    out["cli/steps"] = np.array(int(ops.convert_to_numpy(gan.d_step_count)))


def main(out_dir):
    out = {"backend": np.array(BACKEND)}
    recipe(out, out_dir)
    same(out)
    cli_run(out, out_dir)
    np.savez(os.path.join(out_dir, f"sn-{BACKEND}.npz"), **out)


if __name__ == "__main__":
    main(sys.argv[1])
