"""Golden one-step tests: one ``fit`` step of every model against an update computed here.

For each model: one discriminator step and one generator step (``d_steps=1``) with plain
SGD on one batch. The test recomputes both updates on an identical copy of the networks
with ``tf.GradientTape``, with every loss and penalty written out below from its paper's
equation (nothing from ``keras_gan.losses`` or ``keras_gan.penalties``), and compares
every weight within 1e-6.

The random draws are the model's: a copy of its ``SeedGenerator`` (same state) is read in
the documented order, z for the discriminator step, then the penalty's coefficients,
then z for the generator step. That order is part of what is pinned.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gan as kg

LATENT, BATCH, LR = 3, 8, 0.1
NUM_CLASSES, NUM_CAT, NUM_CONT = 4, 3, 2
ATOL = 1e-6              # measured differences: at most 6e-8 (float32 rounding)
LOSSES = ("minimax", "non_saturating", "least_squares", "wasserstein", "hinge",
          "relativistic_average", "relativistic_average_least_squares")


# --------------------------------------------------------------------------- networks
def _mlp(inputs, out, name, hidden=8):
    tensors = [keras.Input((w,)) for w in inputs]
    x = tensors[0] if len(tensors) == 1 else keras.layers.Concatenate()(tensors)
    x = keras.layers.Dense(hidden, activation="tanh")(x)
    outputs = [keras.layers.Dense(w)(x) for w in out]
    return keras.Model(tensors if len(tensors) > 1 else tensors[0], outputs if len(out) > 1 else outputs[0],
                       name=name)


def networks(case):
    """(generator, discriminator) for a case; calling it twice with the same seed gives twins."""
    if case == "cgan":
        return (_mlp([LATENT, NUM_CLASSES], [2], "g"), _mlp([2, NUM_CLASSES], [1], "d"))
    if case == "infogan":
        return (_mlp([LATENT + NUM_CAT + NUM_CONT], [2], "g"), _mlp([2], [1, NUM_CAT + NUM_CONT], "d"))
    if case == "began":
        return _mlp([LATENT], [2], "g"), _mlp([2], [2], "ae", hidden=4)
    return _mlp([LATENT], [2], "g"), _mlp([2], [1], "d")


def model_for(case, g, d):
    if case in LOSSES:
        return kg.GAN(g, d, LATENT, loss=case, seed=3)
    return {
        "wgan": lambda: kg.WGAN(g, d, LATENT, clip_value=0.05, d_steps=1, seed=3),
        "wgan_gp": lambda: kg.WGANGP(g, d, LATENT, gp_weight=2.0, d_steps=1, seed=3),
        "dragan": lambda: kg.DRAGAN(g, d, LATENT, penalty_weight=2.0, c=0.7, seed=3),
        "r1": lambda: kg.GAN(g, d, LATENT, penalty="r1", penalty_weight=3.0, seed=3),
        "began": lambda: kg.BEGAN(g, d, LATENT, gamma=0.6, lambda_k=0.2, seed=3),
        "cgan": lambda: kg.ConditionalGAN(g, d, LATENT, num_classes=NUM_CLASSES, seed=3),
        "infogan": lambda: kg.InfoGAN(g, d, LATENT, num_categories=NUM_CAT, num_continuous=NUM_CONT,
                                      categorical_weight=0.7, continuous_weight=0.3, seed=3),
    }[case]()


# ------------------------------------------------------------------- the formulas
def log_sigmoid(t):
    return tf.math.log_sigmoid(t)


def mean(t):
    return tf.reduce_mean(t)


def adversarial(loss, real, fake):
    """(L_D, L_G) of the raw outputs, each written from its paper."""
    if loss in ("minimax", "non_saturating"):
        d = -mean(log_sigmoid(real)) - mean(log_sigmoid(-fake))          # -log s(D(x)) - log(1 - s(D(G(z))))
        g = mean(log_sigmoid(-fake)) if loss == "minimax" else -mean(log_sigmoid(fake))
        return d, g
    if loss == "least_squares":                                         # a=0, b=1, c=1
        return 0.5 * mean((real - 1) ** 2) + 0.5 * mean(fake ** 2), 0.5 * mean((fake - 1) ** 2)
    if loss == "wasserstein":
        return mean(fake) - mean(real), -mean(fake)
    if loss == "hinge":
        return mean(tf.nn.relu(1 - real)) + mean(tf.nn.relu(1 + fake)), -mean(fake)
    r, f = real - mean(fake), fake - mean(real)
    if loss == "relativistic_average":
        return (-mean(log_sigmoid(r)) - mean(log_sigmoid(-f)),
                -mean(log_sigmoid(f)) - mean(log_sigmoid(-r)))
    if loss == "relativistic_average_least_squares":
        return mean((r - 1) ** 2) + mean((f + 1) ** 2), mean((f - 1) ** 2) + mean((r + 1) ** 2)
    raise ValueError(loss)


def loss_name(case):
    if case in LOSSES:
        return case
    return "wasserstein" if case in ("wgan", "wgan_gp") else "non_saturating"


def input_gradient_norms(critic, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(critic(x))
    return tf.norm(tape.gradient(total, x), axis=1)


def sgd(variables, loss_fn):
    with tf.GradientTape() as tape:
        loss = loss_fn()
    for variable, grad in zip(variables, tape.gradient(loss, variables)):
        variable.assign(variable.value - LR * grad)


# ------------------------------------------------------------------------ the test
def batch_for(case):
    rng = np.random.default_rng(11)
    x = rng.normal(0, 0.6, (BATCH, 2)).astype("float32")
    labels = rng.integers(NUM_CLASSES, size=BATCH).astype("int32")
    return x, labels


def expected_update(case, model, g, d, x, labels, seed_state):
    """Apply the case's two SGD updates to the twin networks (g, d) in place; return the
    expected final k for BEGAN (None otherwise) and the reference SeedGenerator."""
    seeds = keras.random.SeedGenerator(0)
    seeds.state.assign(seed_state)
    x = tf.constant(x)
    one_hot = tf.one_hot(labels, NUM_CLASSES)

    def draw_latent():
        z = keras.random.normal((BATCH, LATENT), seed=seeds)
        if case != "infogan":
            return z
        cat = keras.random.randint((BATCH,), 0, NUM_CAT, seed=seeds)
        cont = keras.random.uniform((BATCH, NUM_CONT), -1.0, 1.0, seed=seeds)
        return tf.concat([z, tf.one_hot(cat, NUM_CAT), cont], axis=1)

    def G(latent):
        return g([latent, one_hot]) if case == "cgan" else g(latent)

    def D(v):
        return d([v, one_hot]) if case == "cgan" else d(v)

    def information(q, latent):             # InfoGAN: lambda_cat CE + lambda_cont (c - mu)^2 / 2
        cat, cont = latent[:, LATENT:LATENT + NUM_CAT], latent[:, LATENT + NUM_CAT:]
        ce = -mean(tf.reduce_sum(cat * tf.nn.log_softmax(q[:, :NUM_CAT]), axis=1))
        nll = mean(0.5 * tf.reduce_sum((cont - q[:, NUM_CAT:]) ** 2, axis=1))
        return 0.7 * ce + 0.3 * nll

    def L(v):                                # BEGAN: per-sample mean |v - AE(v)|
        return tf.reduce_mean(tf.abs(v - d(v)), axis=1)

    # ---- discriminator step, at the initial weights
    z_d = draw_latent()
    fake = tf.stop_gradient(G(z_d))
    k_next = None
    if case == "wgan_gp":
        alpha = keras.random.uniform((BATCH, 1), 0.0, 1.0, seed=seeds)
        x_hat = alpha * x + (1 - alpha) * fake
    elif case == "dragan":
        u = keras.random.uniform((BATCH, 2), 0.0, 1.0, seed=seeds)
        alpha = keras.random.uniform((BATCH, 1), 0.0, 1.0, seed=seeds)
        x_hat = x + alpha * (0.7 * tf.math.reduce_std(x) * u)
    if case == "began":
        k = float(model.k.numpy())
        real_error, fake_error = mean(L(x)), mean(L(fake))
        k_next = float(np.clip(k + 0.2 * (0.6 * float(real_error) - float(fake_error)), 0.0, 1.0))

    def d_loss():
        if case == "began":
            return mean(L(x)) - k * mean(L(fake))
        if case == "infogan":
            (real_logit, _), (fake_logit, q) = d(x), d(fake)
            return adversarial("non_saturating", real_logit, fake_logit)[0] + information(q, z_d)
        loss = loss_name(case)
        total = adversarial(loss, D(x), D(fake))[0]
        if case in ("wgan_gp", "dragan"):
            total += 2.0 * mean((input_gradient_norms(D, x_hat) - 1.0) ** 2)
        if case == "r1":
            total += 3.0 * 0.5 * mean(input_gradient_norms(D, x) ** 2)
        return total

    sgd(d.trainable_variables, d_loss)
    if case == "wgan":
        for variable in d.trainable_variables:
            variable.assign(tf.clip_by_value(variable.value, -0.05, 0.05))

    # ---- generator step, against the updated discriminator
    z_g = draw_latent()

    def g_loss():
        fake = G(z_g)
        if case == "began":
            return mean(L(fake))
        if case == "infogan":
            logit, q = d(fake)
            return -mean(log_sigmoid(logit)) + information(q, z_g)
        loss = loss_name(case)
        fake_out = D(fake)
        # Only the relativistic losses read D(x) in the generator step (at the updated D).
        real_out = D(x) if loss.startswith("relativistic") else tf.zeros_like(fake_out)
        return adversarial(loss, real_out, fake_out)[1]

    sgd(g.trainable_variables, g_loss)
    return k_next, seeds


def initial_weights(case):
    keras.utils.set_random_seed(0)
    g, d = networks(case)
    return [w.numpy() for w in g.weights + d.weights]


CASES = list(LOSSES) + ["wgan", "wgan_gp", "dragan", "r1", "began", "cgan", "infogan"]


@pytest.mark.parametrize("case", CASES)
def test_one_step_equals_the_independent_update(case):
    keras.utils.set_random_seed(0)
    g, d = networks(case)
    keras.utils.set_random_seed(0)
    g_ref, d_ref = networks(case)
    for a, b in zip(g.weights + d.weights, g_ref.weights + d_ref.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    model = model_for(case, g, d)
    model.compile(d_optimizer=keras.optimizers.SGD(LR), g_optimizer=keras.optimizers.SGD(LR))
    if case == "began":
        model.k.assign(0.3)                  # k_0 = 0 would hide the k L(G(z)) term
    x, labels = batch_for(case)
    seed_state = model.seed_generator.state.numpy().copy()
    k_next, seeds = expected_update(case, model, g_ref, d_ref, x, labels, seed_state)
    data = (x, labels) if case == "cgan" else x
    model.fit(tf.data.Dataset.from_tensors(data), epochs=1, verbose=0)

    moved = max(np.abs(a.numpy() - b).max() for a, b in zip(g_ref.weights + d_ref.weights, initial_weights(case)))
    assert moved > 1e-3, "the reference update did not move the weights"
    for part, mine, ref in (("generator", g, g_ref), ("discriminator", d, d_ref)):
        for a, b in zip(mine.weights, ref.weights):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=ATOL,
                                       err_msg=f"{case}: {part} weight {a.path}")
    if case == "began":
        np.testing.assert_allclose(float(model.k.numpy()), k_next, rtol=0, atol=ATOL, err_msg="BEGAN k")
    # The model drew exactly the numbers read here, in this order, and no others.
    np.testing.assert_array_equal(model.seed_generator.state.numpy(), seeds.state.numpy())
