"""Every loss against values computed by hand in numpy, on fixed logits."""

import numpy as np
import pytest
import tensorflow as tf
from keras import ops

import keras_gan as kg

REAL = np.array([2.0, -1.0, 0.5, 50.0, -50.0], dtype="float32")
FAKE = np.array([-3.0, 0.0, 1.5, -50.0, 50.0], dtype="float32")


def softplus(t):
    """log(1 + e^t) in float64, stable for |t| = 50 by the identity max(t,0) + log1p(e^-|t|)."""
    t = np.asarray(t, dtype="float64")
    return np.maximum(t, 0) + np.log1p(np.exp(-np.abs(t)))


def np_bce_real(t):  # -log sigmoid(t)
    return softplus(-t)


def np_bce_fake(t):  # -log(1 - sigmoid(t))
    return softplus(t)


r, f = REAL.astype("float64"), FAKE.astype("float64")
EXPECTED = {
    "minimax": (np_bce_real(r).mean() + np_bce_fake(f).mean(), -np_bce_fake(f).mean()),
    "non_saturating": (np_bce_real(r).mean() + np_bce_fake(f).mean(), np_bce_real(f).mean()),
    "least_squares": (0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean(), 0.5 * ((f - 1) ** 2).mean()),
    "wasserstein": (f.mean() - r.mean(), -f.mean()),
    "hinge": (np.maximum(0, 1 - r).mean() + np.maximum(0, 1 + f).mean(), -f.mean()),
    "relativistic_average": (
        np_bce_real(r - f.mean()).mean() + np_bce_fake(f - r.mean()).mean(),
        np_bce_real(f - r.mean()).mean() + np_bce_fake(r - f.mean()).mean()),
    "relativistic_average_least_squares": (
        ((r - f.mean() - 1) ** 2).mean() + ((f - r.mean() + 1) ** 2).mean(),
        ((f - r.mean() - 1) ** 2).mean() + ((r - f.mean() + 1) ** 2).mean()),
}


def test_hand_values_are_finite_at_50():
    # The naive formula fails at a logit of 50: 1 - sigmoid(50) rounds to 0 in float32.
    with np.errstate(divide="ignore"):
        naive = np.log(np.float32(1) - np.float32(1) / (np.float32(1) + np.exp(np.float32(-50))))
    assert np.isneginf(naive)
    for d, g in EXPECTED.values():
        assert np.isfinite(d) and np.isfinite(g)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loss_matches_hand_computed_values(name):
    loss = kg.losses.get(name)
    d = float(loss.discriminator_loss(REAL, FAKE))
    g = float(loss.generator_loss(REAL, FAKE))
    np.testing.assert_allclose([d, g], EXPECTED[name], rtol=1e-5, atol=1e-5)


def test_names_and_registry():
    assert kg.losses.names() == (
        "minimax", "non_saturating", "least_squares", "wasserstein", "hinge",
        "relativistic_average", "relativistic_average_least_squares")
    assert isinstance(kg.losses.get("Non-Saturating"), kg.losses.NonSaturating)
    instance = kg.losses.Hinge()
    assert kg.losses.get(instance) is instance


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown GAN loss 'wgan'.*minimax.*hinge"):
        kg.losses.get("wgan")
    with pytest.raises(TypeError, match="Valid names"):
        kg.losses.get(3)


def test_least_squares_minus_one_one_zero_coding():
    loss = kg.losses.LeastSquares(a=-1, b=1, c=0)
    np.testing.assert_allclose(float(loss.discriminator_loss(REAL, FAKE)),
                               0.5 * ((r - 1) ** 2).mean() + 0.5 * ((f + 1) ** 2).mean(), rtol=1e-6)
    np.testing.assert_allclose(float(loss.generator_loss(REAL, FAKE)), 0.5 * (f ** 2).mean(), rtol=1e-6)
    restored = kg.losses.get({"class_name": "keras_gan>LeastSquares", "config": loss.get_config(),
                              "module": None, "registered_name": "keras_gan>LeastSquares"})
    assert restored.get_config() == {"a": -1.0, "b": 1.0, "c": 0.0}
    with pytest.raises(ValueError, match="b must be a finite number; got nan"):
        kg.losses.LeastSquares(b=float("nan"))


def _generator_grad(loss, fake_logit):
    fake = tf.constant([fake_logit], dtype="float32")
    with tf.GradientTape() as tape:
        tape.watch(fake)
        value = loss.generator_loss(tf.constant([0.0]), fake)
    return float(tape.gradient(value, fake)[0])


def test_minimax_saturates_where_non_saturating_does_not():
    """At a confident discriminator (D(G(z)) = -10, i.e. s = 4.5e-5) the minimax
    generator gradient is -s(t) ~ 0 while the non-saturating one is s(t) - 1 ~ -1."""
    t = -10.0
    s = 1 / (1 + np.exp(-t))
    mm = _generator_grad(kg.losses.Minimax(), t)
    ns = _generator_grad(kg.losses.NonSaturating(), t)
    np.testing.assert_allclose(mm, -s, rtol=1e-5)
    np.testing.assert_allclose(ns, s - 1, rtol=1e-5)
    assert abs(ns / mm) > 1e4  # same sign (both push D(G(z)) up), 22,000x apart
    # The values differ too: the two generator losses are not the same function.
    assert float(kg.losses.Minimax().generator_loss(REAL, FAKE)) != pytest.approx(
        float(kg.losses.NonSaturating().generator_loss(REAL, FAKE)))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_gradients_finite_at_extreme_logits(name):
    loss = kg.losses.get(name)
    real = tf.constant([1e4, -1e4], dtype="float32")
    fake = tf.constant([-1e4, 1e4], dtype="float32")
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([real, fake])
        d = loss.discriminator_loss(real, fake)
        g = loss.generator_loss(real, fake)
    for value in (d, g, *tape.gradient(d, [real, fake])):
        assert np.all(np.isfinite(ops.convert_to_numpy(value)))


def test_least_squares_on_sigmoid_is_lucic_et_al_variant_and_round_trips():
    """The variant named "least_squares_sigmoid" fits s(D) to the codes (compare_gan's LSGAN),
    is not among the papers' names, and survives serialization."""
    import keras

    real = np.array([[0.3], [-2.0], [4.0]], "float32")
    fake = np.array([[1.0], [-1.0], [-6.0]], "float32")
    s = lambda t: 1.0 / (1.0 + np.exp(-t.astype(np.float64)))  # noqa: E731
    loss = kg.losses.get("least_squares_sigmoid")
    np.testing.assert_allclose(float(loss.discriminator_loss(real, fake)),
                               0.5 * np.mean((s(real) - 1) ** 2) + 0.5 * np.mean(s(fake) ** 2), rtol=1e-6)
    np.testing.assert_allclose(float(loss.generator_loss(real, fake)), 0.5 * np.mean((s(fake) - 1) ** 2),
                               rtol=1e-6)
    assert "least_squares_sigmoid" not in kg.losses.names()
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert again.on_sigmoid is True
    assert kg.losses.get("least_squares").on_sigmoid is False
