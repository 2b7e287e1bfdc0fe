"""Penalties against their definitions, on a linear critic D(x) = <w, x>."""

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
    fn = kg.penalties.get(name)[1]
    with tf.GradientTape() as tape:
        if name == "gradient_penalty":
            value = fn(critic, *batch, seed=0)
        else:
            value = fn(critic, batch[0], seed=0)
    (grad,) = tape.gradient(value, critic.trainable_variables)
    norm = np.linalg.norm(w.astype("float64"))
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||;  d/dw ||w||^2 / 2 = w
    expected = w if name == "r1" else 2 * (norm - 1) * w / norm
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-4, atol=1e-7)


def test_unknown_penalty_name():
    with pytest.raises(ValueError, match="Valid names: gradient_penalty, dragan, r1"):
        kg.penalties.get("lipschitz")
