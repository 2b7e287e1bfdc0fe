"""Penalties against their definitions (a linear critic D(x) = <w, x>, whose gradient is w
everywhere, and nonlinear critics, whose gradient says where the penalty is evaluated), and
the Penalty objects: registry, config, a user's own subclass in a model, old files."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gan as kg

SHAPE = (8, 28, 28, 1)


def linear_critic(seed=0):
    """D(x) = <w, x> over all 784 pixels: its gradient is w at every point."""
    w = np.random.default_rng(seed).normal(0, 0.05, (784, 1)).astype("float32")
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(1, use_bias=False)])
    model.layers[-1].set_weights([w])
    return model, w


@pytest.fixture
def batch():
    rng = np.random.default_rng(1)
    real = rng.uniform(-1, 1, SHAPE).astype("float32")
    fake = rng.uniform(-1, 1, SHAPE).astype("float32")
    return real, fake


def test_gradient_penalty_of_linear_critic(batch):
    critic, w = linear_critic()
    expected = (np.linalg.norm(w.astype("float64")) - 1) ** 2
    value = float(kg.penalties.gradient_penalty(critic, *batch, seed=0))
    np.testing.assert_allclose(value, expected, rtol=1e-5)


def test_dragan_penalty_of_linear_critic(batch):
    critic, w = linear_critic()
    expected = (np.linalg.norm(w.astype("float64")) - 1) ** 2
    np.testing.assert_allclose(float(kg.penalties.dragan_penalty(critic, batch[0], c=0.5, seed=0)),
                               expected, rtol=1e-5)


def test_dragan_penalty_is_evaluated_at_its_perturbed_points(batch):
    """D(x) = sum(tanh(x)) per sample: grad = 1 - tanh(x)^2, so the penalty depends on
    where it is evaluated. x_hat is computed here from the definition, with the draws of
    an int seed (u from seed, alpha from seed + 1)."""
    real = batch[0]

    def critic(x):
        return tf.reduce_sum(tf.tanh(x), axis=[1, 2, 3])[:, None]

    c, seed = 2.0, 4
    u = keras.random.uniform(SHAPE, 0.0, 1.0, dtype="float32", seed=seed).numpy().astype("float64")
    alpha = keras.random.uniform((8, 1, 1, 1), 0.0, 1.0, dtype="float32", seed=seed + 1).numpy()
    x = real.astype("float64")
    x_hat = x + alpha * (c * x.std() * u)                       # x + alpha (x_p - x), x_p = x + c std(x) u
    norms = np.sqrt(((1 - np.tanh(x_hat) ** 2) ** 2).reshape(8, -1).sum(axis=1))
    expected = np.mean((norms - 1.0) ** 2)
    value = float(kg.penalties.dragan_penalty(critic, real, c=c, seed=seed))
    np.testing.assert_allclose(value, expected, rtol=1e-5)
    # The same at the unperturbed data or at x + c std u (alpha = 1) is far off:
    for wrong in (x, x + c * x.std() * u):
        other = np.mean((np.sqrt(((1 - np.tanh(wrong) ** 2) ** 2).reshape(8, -1).sum(axis=1)) - 1) ** 2)
        assert abs(other - expected) > 100 * 1e-5 * expected


def test_r1_penalty_of_linear_critic(batch):
    critic, w = linear_critic()
    expected = 0.5 * np.sum(w.astype("float64") ** 2)  # R1 = 1/2 E||grad D||^2
    np.testing.assert_allclose(float(kg.penalties.r1_penalty(critic, batch[0])), expected, rtol=1e-5)


def test_norm_is_over_all_axes_not_one():
    """A critic whose gradient is 1/sqrt(784) on every pixel has gradient norm exactly 1.
    (A norm over one axis only, a known bug, would give 1/sqrt(28) per row instead.)"""
    critic, _ = linear_critic()
    critic.layers[-1].set_weights([np.full((784, 1), 1 / 28.0, "float32")])
    x = np.zeros(SHAPE, "float32")
    np.testing.assert_allclose(kg.penalties.gradient_norms(critic, x).numpy(), np.ones(8), rtol=1e-5)
    np.testing.assert_allclose(float(kg.penalties.gradient_penalty(critic, x, x, seed=0)), 0.0, atol=1e-8)


class RecordingCritic(keras.Model):
    """D(x) = sum(x^2) per sample, recording the points it is evaluated at."""

    def call(self, x):
        self.seen = x
        return tf.reduce_sum(tf.square(x), axis=[1, 2, 3])[:, None]


def test_alpha_is_per_sample_and_uniform():
    critic = RecordingCritic()
    real = np.ones(SHAPE, "float32")
    fake = -np.ones(SHAPE, "float32")
    kg.penalties.gradient_penalty(critic, real, fake, seed=3)
    x_hat = critic.seen.numpy()          # alpha * 1 + (1 - alpha) * (-1) = 2 alpha - 1
    alpha = (x_hat + 1) / 2
    per_sample = alpha.reshape(8, -1)
    np.testing.assert_allclose(per_sample, per_sample[:, :1].repeat(784, axis=1), atol=1e-6)
    assert len(np.unique(per_sample[:, 0].round(6))) == 8            # one alpha per sample
    assert np.all((per_sample >= 0) & (per_sample <= 1))             # uniform on [0, 1], not normal


def test_gradient_penalty_on_raw_output_not_sigmoid(batch):
    """The penalty differentiates the raw critic output: scaling w by 3 scales the norm by 3."""
    critic, w = linear_critic()
    critic.layers[-1].set_weights([3 * w])
    np.testing.assert_allclose(float(kg.penalties.gradient_penalty(critic, *batch, seed=0)),
                               (3 * np.linalg.norm(w.astype("float64")) - 1) ** 2, rtol=1e-5)


@pytest.mark.parametrize("name", ["gradient_penalty", "dragan", "r1"])
def test_penalty_gradient_reaches_critic_weights(name, batch):
    critic, w = linear_critic()
    penalty = kg.penalties.get(name)
    with tf.GradientTape() as tape:
        value = penalty(critic, *batch, seed=0)
    (grad,) = tape.gradient(value, critic.trainable_variables)
    norm = np.linalg.norm(w.astype("float64"))
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||;  d/dw ||w||^2 / 2 = w
    expected = w if name == "r1" else 2 * (norm - 1) * w / norm
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-4, atol=1e-7)


def test_unknown_penalty_name():
    with pytest.raises(ValueError, match="Valid names: gradient_penalty, dragan, r1"):
        kg.penalties.get("lipschitz")


# ------------------------------------------------------------------ Penalty objects
P = kg.penalties
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def test_get_gives_penalty_objects_that_round_trip_their_config():
    assert P.names() == ("gradient_penalty", "dragan", "r1")
    for name, cls in (("gradient_penalty", P.GradientPenalty), ("gp", P.GradientPenalty),
                      ("dragan", P.DRAGANPenalty), ("r1", P.R1Penalty)):
        assert type(P.get(name)) is cls
    assert P.get("dragan").c == 0.5
    own = P.DRAGANPenalty(c=1.5)
    assert P.get(own) is own
    for penalty in (P.GradientPenalty(target=0.5), P.DRAGANPenalty(c=1.5, target=2.0), P.R1Penalty()):
        config = keras.saving.serialize_keras_object(penalty)
        json.dumps(config)
        clone = P.get(config)
        assert type(clone) is type(penalty) and vars(clone) == vars(penalty)       # every parameter
    with pytest.raises(TypeError, match="must be a name or a keras_gan.penalties.Penalty"):
        P.get(3)
    with pytest.raises(ValueError, match="perturbation scale c must be >= 0"):
        P.DRAGANPenalty(c=-1)


def test_penalty_objects_compute_their_functions(batch):
    def critic(x):
        return tf.reduce_sum(tf.tanh(x), axis=[1, 2, 3])[:, None]

    real, fake = batch
    pairs = [(P.GradientPenalty(target=0.5)(critic, real, fake, seed=2),
              P.gradient_penalty(critic, real, fake, seed=2, target=0.5)),
             (P.DRAGANPenalty(c=2.0)(critic, real, fake, seed=2), P.dragan_penalty(critic, real, c=2.0, seed=2)),
             (P.R1Penalty()(critic, real, fake), P.r1_penalty(critic, real))]
    for got, expected in pairs:
        np.testing.assert_allclose(float(got), float(expected), rtol=1e-6)
    assert len({round(float(a), 4) for a, _ in pairs}) == 3


@keras.saving.register_keras_serializable("keras_gan_tests")
class OneSidedGradientPenalty(kg.penalties.Penalty):
    """E[max(0, ||grad D(x_hat)|| - target)^2] at WGAN-GP's x_hat (Petzka et al. 2018)."""

    metric = "gp_one_sided"

    def __init__(self, target=1.0):
        self.target = target

    def __call__(self, critic, real, fake, seed=None):
        alpha = keras.random.uniform((keras.ops.shape(real)[0], 1), seed=seed)
        x_hat = alpha * real + (1.0 - alpha) * fake
        return keras.ops.mean(keras.ops.square(keras.ops.relu(P.gradient_norms(critic, x_hat) - self.target)))

    def get_config(self):
        return {"target": self.target}


def _ring_gan(cls, **kwargs):
    from keras_gan import architectures
    keras.utils.set_random_seed(0)
    extra = 8 if cls is kg.ConditionalGAN else 0
    g = architectures.mlp_generator(4, 2, units=8, depth=1, extra_input_dim=extra)
    d = architectures.mlp_discriminator(2, units=8, depth=1, extra_input_dim=extra)
    if cls is kg.ConditionalGAN:
        kwargs["num_classes"] = 8
    model = cls(g, d, 4, seed=0, **kwargs)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-2))
    return model


def _ring_data(cls, seed=0):
    x, y = kg.data.mixture("ring8").sample_with_labels(64, seed=seed)
    data = (x, y.astype("int32")) if cls is kg.ConditionalGAN else x
    return tf.data.Dataset.from_tensor_slices(data).batch(32)


@pytest.mark.parametrize("cls", [kg.GAN, kg.WGAN, kg.ConditionalGAN])
def test_own_penalty_plugs_into_any_gan_and_survives_save_and_load(cls, tmp_path):
    model = _ring_gan(cls, penalty=OneSidedGradientPenalty(target=0.1), penalty_weight=5.0)
    history = model.fit(_ring_data(cls), epochs=1, verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "gp_one_sided"} and history["gp_one_sided"][0] > 0
    unweighted = _ring_gan(cls, penalty=OneSidedGradientPenalty(target=0.1), penalty_weight=0.0)
    unweighted.fit(_ring_data(cls), epochs=1, verbose=0)
    assert not np.allclose(model.discriminator.get_weights()[0], unweighted.discriminator.get_weights()[0])
    model.save(tmp_path / "own.keras")
    loaded = keras.models.load_model(tmp_path / "own.keras", safe_mode=True)
    assert type(loaded.penalty) is OneSidedGradientPenalty and loaded.penalty.target == 0.1
    assert loaded.penalty_weight == 5.0
    # Both continue identically: same weights, optimizer state, random stream and penalty.
    for m in (model, loaded):
        m.fit(_ring_data(cls, seed=1), epochs=1, verbose=0)
    for a, b in zip(model.variables, loaded.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_files_saved_before_penalty_objects_still_load():
    def load(name):
        return keras.models.load_model(os.path.join(FIXTURES, name), safe_mode=True)

    gan = load("legacy_gan_dragan.keras")       # config: "penalty": "dragan", "dragan_c": 0.3
    assert type(gan) is kg.GAN and type(gan.penalty) is P.DRAGANPenalty
    assert (gan.penalty.c, gan.penalty_weight) == (0.3, 2.0)
    dragan = load("legacy_dragan.keras")
    assert type(dragan) is kg.DRAGAN and (dragan.c, dragan.penalty_weight) == (0.25, 3.0)
    wgan_gp = load("legacy_wgan_gp.keras")      # config holds a dragan_c that had no effect
    assert type(wgan_gp) is kg.WGANGP and type(wgan_gp.penalty) is P.GradientPenalty
    assert (wgan_gp.gp_weight, wgan_gp.d_steps) == (4.0, 3)
    for model in (gan, dragan, wgan_gp):
        model.fit(_ring_data(kg.GAN), epochs=1, verbose=0)
        assert np.all(np.isfinite(model.generate(4, seed=0)))
