"""Spectral normalisation (``keras_gan.layers.SpectralNorm``, ``norm="spectral"``) and the sngan recipe.

- The layer: the forward pass uses W / sigma(W) (exactly, for a kernel with known singular
  values), the power iteration converges, the gradient flows through sigma (Miyato et al.
  2018, eq. 12), the trainable kernel is never written, bad arguments are refused.
- On every backend (tests/spectral_norm_worker.py, one process per backend, marked
  ``cross_backend``): after 100 ``fit`` steps of a small SN-GAN with the recipe's optimizer,
  the largest singular value (numpy SVD) of every kernel the forward pass uses, reshaped to
  (fan_in, units), is within 0.05 of 1, and the layer's output is that of the plain layer with
  that kernel; the model round-trips through ``.keras`` with ``safe_mode=True`` (same outputs,
  same u, same training afterwards); SGD steps with fixed draws give the same state on every
  backend; ``python -m keras_gan train --model sngan --dataset ring8`` trains 3 steps.
- The recipe: hinge loss, one critic step, the non-saturating recipe's optimizer, every critic
  layer wrapped and no batch norm, its place in ``compare``, and the CLI.
"""

import os
import subprocess
import sys
from importlib.util import find_spec

import keras
import numpy as np
import pytest
from keras import ops

import keras_gan as kg
from keras_gan import architectures as A
from keras_gan import cli, compare, recipes
from keras_gan.layers import SpectralNorm

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = ("tensorflow", "jax", "torch")
#: The acceptance bound on the largest singular value of the kernels the forward pass uses.
SIGMA_TOLERANCE = 0.05


def wrapped(model):
    return {layer.layer.name: layer for layer in model.layers if isinstance(layer, SpectralNorm)}


def has_layer(model, cls):
    return any(isinstance(layer, cls) for layer in model.layers)


def sigma_max(kernel):
    kernel = np.asarray(kernel, "float64")
    return np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]


def known_dense(units=5, fan_in=7, seed=0):
    """A built SpectralNorm(Dense) whose kernel has singular values 3, 2, 1, 0.5, 0.1, and u set
    to the top right singular vector: sigma is exactly 3."""
    rng = np.random.default_rng(seed)
    left, _ = np.linalg.qr(rng.normal(size=(fan_in, units)))
    right, _ = np.linalg.qr(rng.normal(size=(units, units)))
    kernel = left @ np.diag([3.0, 2.0, 1.0, 0.5, 0.1]) @ right.T
    layer = SpectralNorm(keras.layers.Dense(units))
    layer.build((None, fan_in))
    layer.layer.kernel.assign(kernel.astype("float32"))
    layer.layer.bias.assign(rng.normal(size=units).astype("float32"))
    layer.vector_u.assign(right[:, :1].T.astype("float32"))
    return layer, kernel


# ------------------------------------------------------------------------------ the layer
def test_forward_pass_uses_the_kernel_divided_by_its_largest_singular_value():
    layer, kernel = known_dense()
    x = np.random.default_rng(1).normal(size=(4, 7)).astype("float32")
    bias = ops.convert_to_numpy(layer.layer.bias)
    for training in (False, True):
        np.testing.assert_allclose(ops.convert_to_numpy(layer(x, training=training)), x @ (kernel / 3.0) + bias,
                                   atol=1e-5, err_msg=f"training={training}")
    np.testing.assert_allclose(ops.convert_to_numpy(layer.normalized_kernel()), kernel / 3.0, atol=1e-6)


def test_power_iteration_converges_and_never_writes_the_kernel():
    conv = SpectralNorm(keras.layers.Conv2D(6, 3, padding="same"))
    x = np.random.default_rng(2).normal(size=(2, 5, 5, 4)).astype("float32")
    conv(x)
    kernel = ops.convert_to_numpy(conv.layer.kernel).copy()
    first = sigma_max(ops.convert_to_numpy(conv.normalized_kernel()))
    for _ in range(60):
        conv(x, training=True)
    np.testing.assert_array_equal(ops.convert_to_numpy(conv.layer.kernel), kernel)
    assert first > 1.05, first                       # a random u underestimates sigma at first
    assert abs(sigma_max(ops.convert_to_numpy(conv.normalized_kernel())) - 1) < 1e-3
    before = ops.convert_to_numpy(conv.vector_u).copy()
    conv(x, training=False)                          # inference: no power iteration
    np.testing.assert_array_equal(ops.convert_to_numpy(conv.vector_u), before)


def test_gradient_flows_through_sigma():
    """With u the exact top singular vector, d/dW sum(x W / sigma(W)) is the derivative of the
    true function x W / sigma_max(W): (1/sigma)(G - <G, W_SN> u1 v1^T) (Miyato et al. eq. 12),
    checked against central differences of numpy's SVD."""
    import tensorflow as tf

    layer, kernel = known_dense()
    x = np.random.default_rng(3).normal(size=(4, 7))
    weights = np.random.default_rng(4).normal(size=(4, 5))
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(layer(x.astype("float32")) * weights.astype("float32"))
    grad = tape.gradient(value, layer.layer.kernel).numpy()

    def f(k):
        return np.sum((x @ (k / np.linalg.svd(k, compute_uv=False)[0])) * weights)

    numeric = np.zeros_like(kernel)
    for index in np.ndindex(kernel.shape):
        step = np.zeros_like(kernel)
        step[index] = 1e-6
        numeric[index] = (f(kernel + step) - f(kernel - step)) / 2e-6
    np.testing.assert_allclose(grad, numeric, atol=2e-4)
    assert np.abs(numeric - x.T @ weights / 3.0).max() > 1e-2     # the sigma term is not negligible


@pytest.mark.parametrize("make, error, message", [
    (lambda: SpectralNorm(keras.layers.Conv2DTranspose(4, 3)), TypeError, "wrap the Dense or Conv2D itself"),
    (lambda: SpectralNorm(keras.layers.Dense(4), power_iterations=0), ValueError, "power_iterations must be an"),
    (lambda: SpectralNorm(keras.layers.Conv2D(4, 3, groups=2)), ValueError, "build the convolution with groups=1"),
    (lambda: A.dcgan_discriminator(norm="spectal"), ValueError, "'batch', 'layer', 'spectral' or None"),
])
def test_bad_arguments_name_the_fix(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_mixed_precision_keeps_u_and_sigma_in_float32():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        critic = A.mlp_discriminator(norm="spectral")
        out = critic(np.ones((3, 2), "float32"), training=True)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    layers = wrapped(critic)
    assert {layer.vector_u.dtype for layer in layers.values()} == {"float32"}
    assert layers["fc1"].compute_dtype == "float16" and out.dtype == "float32"
    assert np.all(np.isfinite(ops.convert_to_numpy(out)))


# ------------------------------------------------------------------------ architectures
def test_spectral_critics_wrap_every_critic_layer_and_drop_batch_norm():
    critic = A.dcgan_discriminator((8, 8, 1), width=8, norm="spectral")
    assert sorted(wrapped(critic)) == ["conv1", "conv2", "fc1", "logit"]
    assert not has_layer(critic, keras.layers.BatchNormalization)
    assert not has_layer(critic, keras.layers.LayerNormalization)
    assert all(layer.layer.use_bias for layer in wrapped(critic).values())

    mlp = A.mlp_discriminator(norm="spectral", extra_input_dim=3)
    assert sorted(wrapped(mlp)) == ["fc1", "fc2", "fc3", "logit"]

    info = A.infogan_discriminator((8, 8, 1), num_categories=3, num_continuous=1, width=8, norm="spectral")
    assert sorted(wrapped(info)) == ["conv1", "conv2", "fc1", "logit"]     # not the Q head
    assert not has_layer(info, keras.layers.BatchNormalization)
    assert info.get_layer("q_fc").use_bias


# ------------------------------------------------------------------ on every backend
@pytest.fixture(scope="module")
def worker_results(tmp_path_factory):
    """tests/spectral_norm_worker.py, one process per installed backend, all at once."""
    out = tmp_path_factory.mktemp("spectral_norm")
    procs = {}
    for backend in BACKENDS:
        if find_spec(backend) is None:
            continue
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
        procs[backend] = subprocess.Popen([sys.executable, os.path.join(HERE, "spectral_norm_worker.py"), str(out)],
                                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = {}
    for backend, proc in procs.items():
        _, stderr = proc.communicate(timeout=900)
        results[backend] = (dict(np.load(out / f"sn-{backend}.npz")) if proc.returncode == 0 else
                            f"spectral_norm_worker.py failed on {backend}:\n{stderr[-4000:]}")
    return results


def result(worker_results, backend):
    """The worker's results on ``backend``; skips if it is not installed, fails with the worker's
    error if it failed there (the other backends' tests still run)."""
    if backend not in worker_results:
        pytest.skip(f"Keras backend {backend} is not installed ({backend} cannot be imported)")
    res = worker_results[backend]
    if isinstance(res, str):
        pytest.fail(res, pytrace=False)
    assert str(res["backend"]) == backend
    return res


def layer_keys(res, prefix="recipe"):
    return sorted({"/".join(k.split("/")[:2]) for k in res if k.startswith(prefix + "/")})


@pytest.mark.cross_backend
@pytest.mark.parametrize("backend", BACKENDS)
def test_largest_singular_value_of_the_forward_kernels_after_training(worker_results, backend):
    res = result(worker_results, backend)
    keys = layer_keys(res)
    assert [k.split("/")[1] for k in keys] == ["conv1_sn", "conv2_sn", "fc1_sn", "logit_sn"]
    for key in keys:
        forward = res[f"{key}/forward_kernel"]
        sigma = sigma_max(forward)
        assert abs(sigma - 1) <= SIGMA_TOLERANCE, f"{backend} {key}: largest singular value {sigma:.4f}"
        # ... and it is the kernel the forward pass uses: W / |W u| from the saved W and u, and the
        # layer's outputs (inference; a training call after one more power iteration) are the plain
        # layer's with it.
        kernel, u = res[f"{key}/kernel"].astype("float64"), res[f"{key}/u"].astype("float64")
        matrix = kernel.reshape(-1, kernel.shape[-1])
        np.testing.assert_allclose(forward, (matrix / np.linalg.norm(matrix @ u.ravel())).reshape(kernel.shape),
                                   atol=1e-5, err_msg=f"{backend} {key}")
        scale = max(1.0, float(res[f"{key}/inference_scale"]))
        assert res[f"{key}/inference_error"] < 1e-5 * scale, (backend, key, res[f"{key}/inference_error"])
        assert res[f"{key}/training_error"] < 1e-5 * scale, (backend, key, res[f"{key}/training_error"])
        assert res[f"{key}/kernel_unchanged"], f"{backend} {key}: a training call wrote the trainable kernel"
        # the raw kernels are far from 1, so the bound tests the normalisation
        assert abs(sigma_max(kernel) - 1) > 2 * SIGMA_TOLERANCE, f"{backend} {key}: raw kernel {sigma_max(kernel)}"


@pytest.mark.cross_backend
@pytest.mark.parametrize("backend", BACKENDS)
def test_save_and_load_with_safe_mode(worker_results, backend):
    res = result(worker_results, backend)
    assert list(res["saved/loaded_types"]) == ["SpectralNorm"] * 4
    np.testing.assert_allclose(res["saved/after/outputs"], res["saved/before/outputs"], atol=1e-6)
    np.testing.assert_array_equal(res["saved/after/u"], res["saved/before/u"])
    states = sorted(k for k in res if k.startswith("saved/before/state/"))
    assert states
    for key in states:
        np.testing.assert_allclose(res[key.replace("before", "after")], res[key], atol=1e-6,
                                   err_msg=f"{backend}: {key} after two more steps")


@pytest.mark.cross_backend
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_fit_gives_the_same_state_on_every_backend(worker_results, backend):
    """SGD steps from the same weights, u, batches and draws: every variable (weights, u, batch
    norm, counter, seed) as on TensorFlow within 1e-5."""
    reference, res = result(worker_results, "tensorflow"), result(worker_results, backend)
    paths = list(reference["same/paths"])
    assert list(res["same/paths"]) == paths
    for path in paths:
        np.testing.assert_allclose(res[f"same/{path}"].astype("float64"),
                                   reference[f"same/{path}"].astype("float64"), atol=1e-5,
                                   err_msg=f"{path} on {backend} vs tensorflow")


@pytest.mark.cross_backend
@pytest.mark.parametrize("backend", BACKENDS)
def test_cli_trains_sngan_on_ring8(worker_results, backend):
    res = result(worker_results, backend)
    assert int(res["cli/rc"]) == 0
    assert list(res["cli/wrapped"]) == ["fc1", "fc2", "fc3", "logit"]
    assert int(res["cli/steps"]) == 3


# ------------------------------------------------------------------------------ the recipe
def optimizer_settings(model):
    return [(type(o).__name__, round(float(ops.convert_to_numpy(o.learning_rate)), 9), o.beta_1, o.beta_2)
            for o in (model.d_optimizer, model.g_optimizer)]


def test_sngan_recipe_is_hinge_spectral_norm_and_the_non_saturating_optimizer():
    model, batch = recipes.build("sngan", "ring8", seed=0)
    assert type(model) is kg.GAN and model.loss_fn.name == "hinge" and model.d_steps == 1
    assert model.penalty is None
    assert optimizer_settings(model) == [("Adam", 2e-4, 0.5, 0.999)] * 2
    gan, gan_batch = recipes.build("gan", "ring8", seed=0)
    assert optimizer_settings(model) == optimizer_settings(gan) and batch == gan_batch
    assert sorted(wrapped(model.discriminator)) == ["fc1", "fc2", "fc3", "logit"]
    assert not wrapped(gan.discriminator)
    with pytest.raises(ValueError, match="sngan has its own loss"):
        recipes.build("sngan", "ring8", loss="non_saturating")


def test_sngan_recipe_on_images_is_lucic_critic_without_batch_norm():
    model, _ = recipes.build("sngan", "fashion_mnist", seed=0)
    critic = model.discriminator
    assert sorted(wrapped(critic)) == ["conv1", "conv2", "fc1", "logit"]
    assert not has_layer(critic, keras.layers.BatchNormalization)
    assert wrapped(critic)["fc1"].layer.units == 1024 and wrapped(critic)["conv2"].layer.filters == 128


def test_compare_lists_sngan_right_after_hinge():
    ids = compare.model_ids()
    assert ids[ids.index("hinge") + 1] == "sngan"
    assert compare.label("sngan") == "SN-GAN (hinge)"
    assert compare._entries()["sngan"] == ("sngan", None)


def test_cli_lists_sngan_and_refuses_a_loss(tmp_path, capsys):
    with pytest.raises(SystemExit, match="0"):
        cli.main(["train", "--help"])
    help_text = capsys.readouterr().out
    for name in recipes.names():
        assert name in help_text, name
    assert cli.main(["train", "--model", "sngan", "--loss", "hinge", "--out", str(tmp_path / "x")]) == 2
    assert "--loss applies to --model gan, cgan, infogan only; sngan fixes its own loss" in capsys.readouterr().err


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"), reason="needs dataset-fashion-mnist")
def test_cli_trains_sngan_on_fashion_mnist(tmp_path):
    out = tmp_path / "sngan"
    assert cli.main(["train", "--model", "sngan", "--dataset", "fashion_mnist", "--epochs", "1",
                     "--steps-per-epoch", "2", "--out", str(out), "--verbose", "0"]) == 0
    gan = keras.models.load_model(out / "gan.keras", safe_mode=True)
    assert sorted(wrapped(gan.discriminator)) == ["conv1", "conv2", "fc1", "logit"]
    assert int(ops.convert_to_numpy(gan.d_step_count)) == 2
    assert np.abs(gan.generate(4, seed=0)).max() <= 1
