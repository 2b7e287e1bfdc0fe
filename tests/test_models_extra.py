"""BEGAN, ConditionalGAN and InfoGAN on the shared train_step: exact hand-computed
checks of k, M and L_I, label checks, short 2D trainings, save/load, the CLI."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gan as kg
from keras_gan import architectures, cli
from keras_gan.models import began_convergence, began_k_update, mutual_information_terms

LATENT = 4
RING = kg.data.mixture("ring8")          # 8 modes on the unit circle, sigma 0.01
K = RING.num_modes


def adam():
    return keras.optimizers.Adam(1e-3, 0.5)


def compile_(model, **kwargs):
    model.compile(d_optimizer=adam(), g_optimizer=adam(), **kwargs)
    return model


def began(seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    return kg.BEGAN(architectures.mlp_generator(LATENT, 2, units=16, depth=2),
                    architectures.mlp_autoencoder(2, units=16, depth=1, code_dim=4), LATENT, seed=seed, **kwargs)


def cgan(seed=0, units=16, **kwargs):
    keras.utils.set_random_seed(seed)
    return kg.ConditionalGAN(architectures.mlp_generator(LATENT, 2, units=units, depth=2, extra_input_dim=K),
                             architectures.mlp_discriminator(2, units=units, depth=2, extra_input_dim=K),
                             LATENT, num_classes=K, seed=seed, **kwargs)


def infogan(seed=0, units=16, num_continuous=1, **kwargs):
    keras.utils.set_random_seed(seed)
    return kg.InfoGAN(architectures.mlp_generator(LATENT + K + num_continuous, 2, units=units, depth=2),
                      architectures.mlp_infogan_discriminator(2, K, num_continuous, units=units, depth=2),
                      LATENT, num_categories=K, num_continuous=num_continuous, seed=seed, **kwargs)


def points(n_batches=4, batch=64, seed=0, labels=False):
    x, y = RING.sample_with_labels(n_batches * batch, seed=seed)
    ds = (x, y.astype("int32")) if labels else x
    return tf.data.Dataset.from_tensor_slices(ds).batch(batch, drop_remainder=True)


def nearest_mode(x):
    return np.argmin(((x[:, None, :] - RING.centers[None]) ** 2).sum(-1), axis=1)


# ---------------------------------------------------------------------------------- BEGAN


def test_began_k_update_is_exact_and_clipped_to_unit_interval():
    model = began(gamma=0.5, lambda_k=0.4)
    # L(x), L(G(z)) pairs chosen to push k up past 1 and then down past 0.
    real = np.array([1.0, 2.0, 2.0, 2.0, 0.5, 0.1, 0.1, 0.1, 0.3], "float32")
    fake = np.array([0.1, 0.0, 0.2, 0.0, 0.9, 2.0, 3.0, 0.2, 0.1], "float32")
    k, expected = 0.0, []
    for r, f in zip(real, fake):
        k = min(max(k + 0.4 * (0.5 * r - f), 0.0), 1.0)
        expected.append(k)
    assert max(expected) == 1.0 and min(expected[1:]) == 0.0       # both bounds are hit
    got = []
    for r, f in zip(real, fake):
        logs = {"real_error": tf.constant(r), "fake_error": tf.constant(f),
                "M": began_convergence(tf.constant(r), tf.constant(f), 0.5)}
        model.after_discriminator_step(logs)
        got.append(float(model.k.numpy()))
        np.testing.assert_allclose(float(logs["k"]), got[-1])
        np.testing.assert_allclose(float(model.convergence.numpy()), r + abs(0.5 * r - f), rtol=1e-6)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(began_k_update(0.25, 0.3, 0.05, 0.5, 1e-3), 0.25 + 1e-3 * (0.15 - 0.05))
    np.testing.assert_allclose(began_convergence(0.3, 0.05, 0.5), 0.3 + 0.1)


def test_began_reconstruction_error_is_mean_l1_per_sample():
    model = began()
    x = RING.sample(5, seed=1)
    expected = np.abs(x - model.autoencoder(x).numpy()).mean(axis=1)
    np.testing.assert_allclose(model.discriminate(x).numpy(), expected, rtol=1e-6)


def test_began_training_steps_follow_the_k_recursion_and_log_k_and_m():
    model = compile_(began(lambda_k=0.05), run_eagerly=True)
    seen, original = [], model.after_discriminator_step

    def record(logs):
        k_before = float(model.k.numpy())
        original(logs)
        seen.append((k_before, float(logs["real_error"]), float(logs["fake_error"]),
                     float(logs["M"]), float(model.k.numpy())))

    model.after_discriminator_step = record
    history = model.fit(points(), epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "k", "M"}
    assert seen[0][0] == 0.0                                                   # k_0 = 0
    for (k0, lr, lf, m, k1), nxt in zip(seen, seen[1:] + [(None,) * 5]):
        np.testing.assert_allclose(k1, np.clip(k0 + 0.05 * (0.5 * lr - lf), 0, 1), rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(m, lr + abs(0.5 * lr - lf), rtol=1e-6)
        if nxt[0] is not None:
            assert nxt[0] == k1                                                # carried to the next step
    np.testing.assert_allclose(history.history["k"][0], np.mean([s[4] for s in seen]), rtol=1e-5)
    np.testing.assert_allclose(history.history["M"][0], np.mean([s[3] for s in seen]), rtol=1e-5)


def test_began_k_follows_eq4_with_the_discriminator_steps_fake_batch():
    """k_1 = clip(k_0 + lambda_k (gamma L(x) - L(G(z_D))), 0, 1) with L at the autoencoder's
    weights before its update and z_D the discriminator step's draw, by hand in numpy."""
    gen_w, gen_b = np.array([[0.5, -0.3]], "float32"), np.array([0.1, 0.2], "float32")
    ae_w, ae_b = np.array([[0.9, 0.1], [0.0, 0.8]], "float32"), np.array([0.05, -0.05], "float32")
    generator = keras.Sequential([keras.Input((1,)), keras.layers.Dense(2)])
    autoencoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    generator.layers[0].set_weights([gen_w, gen_b])
    autoencoder.layers[0].set_weights([ae_w, ae_b])
    model = kg.BEGAN(generator, autoencoder, 1, gamma=0.5, lambda_k=0.1, seed=7)
    model.compile(d_optimizer=keras.optimizers.SGD(0.5), g_optimizer=keras.optimizers.SGD(0.5))
    model.k.assign(0.25)
    x = np.array([[0.3, -0.2], [0.8, 0.1], [-0.5, 0.6], [0.0, -0.9]], "float32")
    # The discriminator step's z_D is the SeedGenerator's first draw (then z_G).
    seeds = keras.random.SeedGenerator(0)
    seeds.state.assign(model.seed_generator.state.numpy())
    z_d = keras.random.normal((4, 1), seed=seeds).numpy().astype("float64")
    model.fit(tf.data.Dataset.from_tensors(x), epochs=1, verbose=0)

    def L(v, w, b):
        return np.mean(np.abs(v - (v @ w + b)), axis=1)

    fake_d = z_d @ gen_w.astype("float64") + gen_b
    real_error, fake_error = L(x.astype("float64"), ae_w, ae_b).mean(), L(fake_d, ae_w, ae_b).mean()
    expected = float(np.clip(0.25 + 0.1 * (0.5 * real_error - fake_error), 0.0, 1.0))
    np.testing.assert_allclose(float(model.k.numpy()), expected, rtol=0, atol=1e-6)
    # The autoencoder did move (so the pre-update evaluation is what the test pins).
    assert np.abs(autoencoder.layers[0].get_weights()[0] - ae_w).max() > 1e-2


@pytest.fixture(scope="module")
def trained_began():
    model = compile_(began(lambda_k=0.05))
    model.fit(points(), epochs=1, verbose=0)
    return model


def test_began_k_and_m_survive_save_and_load(trained_began, tmp_path):
    model = trained_began
    k, m = float(model.k.numpy()), float(model.convergence.numpy())
    assert k > 0 and m > 0
    model.save(tmp_path / "began.keras")
    loaded = keras.models.load_model(tmp_path / "began.keras", safe_mode=True)
    assert type(loaded) is kg.BEGAN and loaded.gamma == 0.5 and loaded.lambda_k == 0.05
    assert float(loaded.k.numpy()) == k and float(loaded.convergence.numpy()) == m
    assert [t.name for t in loaded.metrics] == ["d_loss", "g_loss", "k", "M"]


def test_began_rejects_bad_arguments():
    g = architectures.mlp_generator(LATENT, 2, units=8, depth=1)
    ae = architectures.mlp_autoencoder(2, units=8, depth=1)
    with pytest.raises(ValueError, match=r"gamma must be in \(0, 1\]"):
        kg.BEGAN(g, ae, LATENT, gamma=0)
    for key, value in (("loss", "hinge"), ("penalty", "r1"), ("penalty_weight", 5.0)):
        with pytest.raises(TypeError, match=f"BEGAN takes no '{key}'.*tune it with gamma and lambda_k"):
            kg.BEGAN(g, ae, LATENT, **{key: value})
    with pytest.raises(ValueError, match="must be an autoencoder"):
        kg.BEGAN(g, architectures.mlp_discriminator(2, units=8, depth=1), LATENT)


# ----------------------------------------------------------------------- conditional GAN


def test_cgan_label_checks_give_clear_errors():
    model = compile_(cgan())
    with pytest.raises(ValueError, match=r"\(inputs, labels\) batches"):
        model.fit(points(), epochs=1, verbose=0)
    x, y = RING.sample_with_labels(64, seed=0)
    with pytest.raises(TypeError, match="integer class indices"):
        model.one_hot(y.astype("float32"))
    with pytest.raises(ValueError, match=r"shape \(batch,\) or \(batch, 1\)"):
        model.one_hot(np.stack([y, y], axis=1))
    with pytest.raises(ValueError, match=r"must lie in \[0, 8\)"):
        model.one_hot(np.array([0, 8]))
    with pytest.raises(ValueError, match="got 32 labels for a batch of 64"):
        model.unpack_batch((tf.constant(x), tf.constant(y[:32])))
    np.testing.assert_array_equal(model.one_hot(y[:, None]).numpy(), np.eye(K)[y])   # (B, 1) is fine
    bad_dtype = tf.data.Dataset.from_tensor_slices((x, y.astype("float32"))).batch(32)
    with pytest.raises(TypeError, match="integer class indices"):
        model.fit(bad_dtype, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 8\)"):
        model.generate(2, labels=[0, 9])
    with pytest.raises(ValueError, match=r"array of shape \(3,\)"):
        model.generate(3, labels=[0, 1])
    with pytest.raises(ValueError, match="extra_input_dim=8"):
        kg.ConditionalGAN(architectures.mlp_generator(LATENT, 2, units=8, depth=1),
                          architectures.mlp_discriminator(2, units=8, depth=1, extra_input_dim=K), LATENT, K)


@pytest.fixture(scope="module")
def trained_cgan():
    model = compile_(cgan(units=64))
    model.fit(RING.dataset(batch_size=128, steps_per_epoch=100, seed=0, with_labels=True), epochs=3, verbose=0)
    return model


def test_cgan_puts_each_class_on_its_own_mode(trained_cgan):
    model = trained_cgan
    labels = np.repeat(np.arange(K), 100)
    hits = nearest_mode(model.generate(len(labels), labels=labels, seed=1)) == labels
    per_class = hits.reshape(K, 100).mean(axis=1)
    # A generator that ignored the label would put 1/8 = 12.5% of each class on its
    # mode; 90% leaves room for samples still between modes after 300 steps (seeds
    # 0-3 all give 100%) while failing any model that does not use the label.
    assert per_class.min() >= 0.9, per_class


def test_cgan_takes_any_loss_and_penalty():
    # The penalty's critic must be D(., y): a critic called without the label fails
    # here; the relativistic generator loss also needs D(x, y) in the generator step.
    model = compile_(cgan(loss="relativistic_average", penalty="gradient_penalty", penalty_weight=1.0))
    history = model.fit(points(labels=True, n_batches=2), epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "gp"}
    assert all(np.isfinite(v[0]) for v in history.history.values())


def test_cgan_grid_has_one_row_per_class_with_shared_noise():
    model = cgan()
    images, rows, names = model.grid_samples(seed=3, per_row=4, class_names="abcdefgh")
    assert rows == K and names == list("abcdefgh") and images.shape == (4 * K, 2)
    for c in range(K):   # batches of other sizes: equal within float32 rounding
        np.testing.assert_allclose(images[4 * c:4 * c + 4], model.generate(4, labels=c, seed=3), atol=1e-6)
    with pytest.raises(TypeError, match=r"ConditionalGAN.generate\(\) takes n only positionally; pass labels=3"):
        model.generate(4, 3)


class Recorder(keras.Model):
    """Wraps a network and records every call's inputs and outputs (eager mode)."""

    def __init__(self, inner, log):
        super().__init__()
        self.inner, self.record = inner, log.append     # (Keras would copy a list attribute)

    def call(self, inputs, training=False):
        out = self.inner(inputs, training=training)
        self.record(([np.array(t) for t in inputs], np.array(out)))
        return out


def test_cgan_discriminator_sees_the_generators_labels_and_each_reals_own_label():
    keras.utils.set_random_seed(0)
    g_log, d_log = [], []
    g = Recorder(architectures.mlp_generator(LATENT, 2, units=8, depth=1, extra_input_dim=K), g_log)
    d = Recorder(architectures.mlp_discriminator(2, units=8, depth=1, extra_input_dim=K), d_log)
    model = compile_(kg.ConditionalGAN(g, d, LATENT, num_classes=K, penalty="gradient_penalty", seed=0),
                     run_eagerly=True)
    x, y = RING.sample_with_labels(8, seed=3)
    y = np.array([0, 5, 5, 2, 7, 1, 3, 6], "int32")     # every row its own label, not sorted
    x = RING.centers[y] + 0.01 * x
    one_hot = np.eye(K, dtype="float32")[y]
    model.fit(tf.data.Dataset.from_tensors((x, y)), epochs=1, verbose=0)
    # D step: G(z_D, y); D(x, y); D(G(z_D, y), y); the penalty's D(x_hat, y). G step: G(z_G, y), D(G(z_G, y), y).
    assert len(g_log) == 2 and len(d_log) == 4
    (real_in, real_labels), _ = d_log[0]
    np.testing.assert_array_equal(real_in, x)
    np.testing.assert_array_equal(real_labels, one_hot)                  # each real row with its own label
    for g_call, d_call in ((g_log[0], d_log[1]), (g_log[1], d_log[3])):
        (_, g_labels), fake = g_call
        (d_in, d_labels), _ = d_call
        np.testing.assert_array_equal(g_labels, one_hot)                 # fakes follow the real labels
        np.testing.assert_array_equal(d_in, fake)                        # D judges exactly G's rows ...
        np.testing.assert_array_equal(d_labels, g_labels)                # ... with G's labels
    np.testing.assert_array_equal(d_log[2][0][1], one_hot)              # x_hat mixes rows of one label


# -------------------------------------------------------------------------------- InfoGAN


def test_mutual_information_terms_match_numpy():
    q = np.array([[2.0, -1.0, 0.5, 0.3, -0.7],
                  [0.0, 0.0, 3.0, -1.2, 0.4],
                  [-2.0, 1.0, 1.0, 0.9, 0.9]], "float32")     # 3 category logits, 2 means
    cats = np.array([0, 2, 1])
    cont = np.array([[0.5, -0.5], [-1.0, 0.2], [0.9, 1.0]], "float32")
    logits = q[:, :3].astype("float64")
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected_cat = -np.mean(log_softmax[np.arange(3), cats])
    expected_cont = np.mean(0.5 * ((cont - q[:, 3:]) ** 2).sum(axis=1))
    cat, cont_loss = mutual_information_terms(q, np.eye(3)[cats], cont, 3)
    np.testing.assert_allclose(float(cat), expected_cat, rtol=1e-6)
    np.testing.assert_allclose(float(cont_loss), expected_cont, rtol=1e-6)
    # Without one of the codes its term is 0.
    np.testing.assert_allclose([float(t) for t in mutual_information_terms(q[:, 3:], None, cont, 0)],
                               [0.0, expected_cont], rtol=1e-6)
    np.testing.assert_allclose([float(t) for t in mutual_information_terms(q[:, :3], np.eye(3)[cats], None, 3)],
                               [expected_cat, 0.0], rtol=1e-6)


def test_infogan_adds_weighted_information_to_both_losses():
    model = infogan(num_continuous=1, categorical_weight=0.7, continuous_weight=0.1)
    latent = model.latent_codes(6, categories=[0, 1, 2, 3, 4, 5], continuous=np.linspace(-1, 1, 6)[:, None],
                                seed=0)
    rng = np.random.default_rng(0)
    real_logit, fake_logit = rng.normal(size=(6, 1)).astype("float32"), rng.normal(size=(6, 1)).astype("float32")
    q_real, q_fake = (rng.normal(size=(6, K + 1)).astype("float32") for _ in range(2))
    # L_I on the fake batch, from the definition: CE of the categorical code, (c - mu)^2 / 2.
    logits = q_fake[:, :K].astype("float64")
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    cat = -np.mean(log_softmax[np.arange(6), np.arange(6)])
    cont = np.mean(0.5 * (np.linspace(-1, 1, 6) - q_fake[:, K]) ** 2)
    softplus = lambda t: np.log1p(np.exp(t.astype("float64")))           # noqa: E731
    d_adv = softplus(-real_logit).mean() + softplus(fake_logit).mean()
    g_adv = softplus(-fake_logit).mean()
    d_total, d_logs = model.discriminator_losses(None, None, (real_logit, q_real), (fake_logit, q_fake), latent, None)
    g_total, g_logs = model.generator_losses(None, None, None, (fake_logit, q_fake), latent, None)
    np.testing.assert_allclose(float(d_total), d_adv + 0.7 * cat + 0.1 * cont, rtol=1e-6)
    np.testing.assert_allclose(float(g_total), g_adv + 0.7 * cat + 0.1 * cont, rtol=1e-6)
    np.testing.assert_allclose([float(d_logs["info_cat"]), float(d_logs["info_cont"])], [cat, cont], rtol=1e-6)
    np.testing.assert_allclose([float(d_logs["d_loss"]), float(g_logs["g_loss"])], [d_adv, g_adv], rtol=1e-6)


def test_infogan_information_trains_g_and_q_and_the_adversarial_loss_never_q():
    """Gradients the optimizers receive in one step: L_I reaches every generator weight and
    the Q head; the adversarial loss gives exactly zero to the Q head."""

    class Zero(kg.losses.Loss):                       # no adversarial term: L_I alone
        def discriminator_loss(self, real_logits, fake_logits):
            return 0.0 * keras.ops.mean(real_logits) + 0.0 * keras.ops.mean(fake_logits)

        def generator_loss(self, real_logits, fake_logits):
            return 0.0 * keras.ops.mean(fake_logits)

    def gradients(model):
        model = compile_(model, run_eagerly=True)
        seen = {}
        for part in ("d", "g"):
            optimizer = getattr(model, f"{part}_optimizer")

            def apply(grads, variables, part=part, original=optimizer.apply):
                seen[part] = {v.path: None if g is None else np.array(g) for g, v in zip(grads, variables)}
                return original(grads, variables)
            optimizer.apply = apply
        model.fit(points(n_batches=1), epochs=1, verbose=0)
        return seen

    def q_head(grads):
        return [g for path, g in grads.items() if path.split("/")[-2] == "q"]

    info_only = gradients(infogan(loss=Zero()))
    assert len(q_head(info_only["d"])) == 2
    assert all(g is not None and np.abs(g).max() > 1e-6 for g in q_head(info_only["d"]))
    assert all(g is not None and np.abs(g).max() > 1e-6 for g in info_only["g"].values())
    adversarial_only = gradients(infogan(categorical_weight=0.0, continuous_weight=0.0))
    for g in q_head(adversarial_only["d"]):
        assert g is None or not np.any(g)
    assert any(np.abs(g).max() > 1e-6 for path, g in adversarial_only["d"].items() if "logit" in path)


def q_accuracy(model):
    """How often Q's most likely category is the one G was given (generated samples)."""
    labels = np.repeat(np.arange(K), 100)
    probs, _ = model.predict_codes(model.generate(len(labels), categories=labels, seed=1))
    return np.mean(probs.argmax(axis=1) == labels)


@pytest.fixture(scope="module")
def trained_infogan():
    model = compile_(infogan(units=64))
    model.accuracy_before = q_accuracy(model)
    model.history_ = model.fit(RING.dataset(batch_size=128, steps_per_epoch=100, seed=0), epochs=3, verbose=0)
    return model


def test_infogan_q_learns_the_categorical_code(trained_infogan):
    model = trained_infogan
    before, after, history = model.accuracy_before, q_accuracy(model), model.history_
    assert set(history.history) == {"d_loss", "g_loss", "info_cat", "info_cont"}
    # Chance is 1/8 = 12.5%: untrained, Q is near it (4% to 13% over seeds 0-3);
    # 300 steps bring it to 100% (seeds 0-3), so 90% is well above chance with margin.
    assert before <= 0.35, before
    assert after >= 0.9, after


def test_infogan_grid_and_generate_codes():
    model = infogan(num_continuous=2)
    images, rows, names = model.grid_samples(seed=2, per_row=3)
    assert rows == K and names[0] == "c=0" and images.shape == (3 * K, 2)
    for c in range(K):   # batches of other sizes: equal within float32 rounding
        np.testing.assert_allclose(images[3 * c:3 * c + 3], model.generate(3, categories=c, seed=2), atol=1e-6)
    with pytest.raises(TypeError, match=r"InfoGAN.generate\(\) takes n only positionally; pass categories=1"):
        model.generate(3, 1)
    with pytest.raises(TypeError, match=r"InfoGAN.latent_codes\(\) takes n only positionally"):
        model.latent_codes(3, 1)
    traversal = model.latent_codes(5, categories=1, continuous=np.stack([np.linspace(-1, 1, 5), np.zeros(5)], 1),
                                   noise=np.zeros((5, LATENT)))
    np.testing.assert_array_equal(traversal[:, LATENT + 1], 1.0)
    np.testing.assert_allclose(traversal[:, LATENT + K], np.linspace(-1, 1, 5))
    with pytest.raises(ValueError, match="categories must be one integer"):
        model.generate(2, categories=K)
    with pytest.raises(ValueError, match=r"continuous must broadcast to \(2, 2\)"):
        model.generate(2, continuous=np.zeros(3))
    with pytest.raises(ValueError, match="two outputs"):
        kg.InfoGAN(architectures.mlp_generator(LATENT + K + 2, 2, units=8, depth=1),
                   architectures.mlp_discriminator(2, units=8, depth=1), LATENT, K, 2)
    with pytest.raises(ValueError, match=r"4 \+ 8 \+ 2 = 14"):
        kg.InfoGAN(architectures.mlp_generator(LATENT, 2, units=8, depth=1),
                   architectures.mlp_infogan_discriminator(2, K, 2, units=8, depth=1), LATENT, K, 2)


# ---------------------------------------------------------------------- save/load, config


@pytest.mark.parametrize("fixture, sample", [
    ("trained_began", {}),
    ("trained_cgan", {"labels": np.arange(16) % K}),
    ("trained_infogan", {"categories": np.arange(16) % K, "continuous": 0.5}),
], ids=["BEGAN", "ConditionalGAN", "InfoGAN"])
def test_save_load_safe_mode_gives_identical_samples(tmp_path, request, fixture, sample):
    model = request.getfixturevalue(fixture)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    json.dumps(loaded.get_config())
    np.testing.assert_array_equal(loaded.generate(16, seed=7, **sample), model.generate(16, seed=7, **sample))
    np.testing.assert_array_equal(loaded.generate(16, seed=7), model.generate(16, seed=7))
    # Both networks (Q head, autoencoder included) and the optimizers' state; the
    # SeedGenerator's state is the shared GAN's business (tests/test_gan.py).
    for part in ("generator", "discriminator", "d_optimizer", "g_optimizer"):
        for a, b in zip(getattr(loaded, part).variables, getattr(model, part).variables):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=f"{part} {b.path}")
    assert int(loaded.d_step_count.numpy()) == int(model.d_step_count.numpy()) > 0


def test_configs_name_their_own_arguments():
    config = began(gamma=0.7).get_config()
    assert config["gamma"] == 0.7 and "autoencoder" in config and "discriminator" not in config
    assert "loss" not in config and "penalty" not in config
    assert cgan(loss="hinge").get_config()["num_classes"] == K
    config = infogan(continuous_weight=0.5).get_config()
    assert (config["num_categories"], config["num_continuous"], config["continuous_weight"]) == (K, 1, 0.5)
    clone = kg.InfoGAN.from_config(config)
    assert clone.categorical_weight == 1.0 and clone.code_width == K + 1


# -------------------------------------------------------------------------------------- CLI


@pytest.mark.parametrize("args, columns, check", [
    (["--model", "began", "--dataset", "ring8"], {"d_loss", "g_loss", "k", "M"},
     lambda gan: gan.k.numpy() > 0),
    # cgan on grid25 (25 classes, one per mode) with a loss of the user's choice.
    (["--model", "cgan", "--loss", "hinge", "--dataset", "grid25"], {"d_loss", "g_loss"},
     lambda gan: gan.loss_fn.name == "hinge" and gan.num_classes == 25),
    (["--model", "infogan", "--dataset", "ring8"], {"d_loss", "g_loss", "info_cat", "info_cont"},
     lambda gan: (gan.num_categories, gan.num_continuous) == (8, 2)),
], ids=["began", "cgan", "infogan"])
def test_cli_trains_the_new_models(tmp_path, args, columns, check):
    out = tmp_path / "run"
    assert cli.main(["train", *args, "--epochs", "1", "--steps-per-epoch", "2", "--out", str(out),
                     "--verbose", "0"]) == 0
    assert {"samples.png", "history.json", "generator.keras", "gan.keras", "run.json"} <= set(os.listdir(out))
    assert set(json.loads((out / "history.json").read_text())) == columns
    gan = keras.models.load_model(out / "gan.keras", safe_mode=True)
    assert check(gan) and gan.generate(5, seed=0).shape == (5, 2)


def test_cli_loss_only_for_models_that_take_one(tmp_path, capsys):
    assert cli.main(["train", "--model", "began", "--loss", "hinge", "--out", str(tmp_path / "b")]) == 2
    assert "--loss applies to --model gan, cgan, infogan only" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["began", "cgan", "infogan"])
def test_recipes_build_image_models(name):
    # The networks of `train --dataset fashion_mnist` (no training: the CLI path is
    # the same as in 2D, and the Fashion-MNIST runs in results/ exercise it).
    model, batch_size = kg.recipes.build(name, "fashion_mnist", seed=0)
    images, rows, names = model.grid_samples(seed=0, per_row=2, class_names=kg.data.CLASS_NAMES["fashion_mnist"])
    assert images.shape[1:] == (28, 28, 1) and batch_size == 64
    assert (rows, names[-1] if names else None) == {"began": (2, None), "cgan": (10, "Ankle boot"),
                                                     "infogan": (10, "c=9")}[name]
    if name == "infogan":
        assert model.d_optimizer.learning_rate.numpy() == np.float32(2e-4)
        assert model.g_optimizer.learning_rate.numpy() == np.float32(1e-3)
