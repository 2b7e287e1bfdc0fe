"""Every model's train step on the current Keras backend (run with KERAS_BACKEND=tensorflow, jax
and torch): the update schedule, the state carried through the step (both optimizers, the
random generator, batch norm, metrics), penalties, save/load and exact resume, the
callbacks that read the model mid-epoch, and the traps of Keras 3.15's JAX trainer and of
torch.compile. Same numbers *across* backends: test_cross_backend.py.
"""


import keras
import numpy as np
import pytest
from keras import ops

import cases
import keras_gan as kg
from keras_gan import backend
from keras_gan.compare import LinearDecay

pytestmark = pytest.mark.backends
BACKEND = keras.backend.backend()


def adam():
    return keras.optimizers.Adam(1e-2, 0.5)


def flat(variables):
    return np.concatenate([np.ravel(ops.convert_to_numpy(v.value)) for v in variables])


class WeightLog(keras.callbacks.Callback):
    """Both networks' weights before training and after every step (``self.model`` syncs JAX)."""

    def __init__(self):
        super().__init__()
        self.d, self.g = [], []

    def on_train_begin(self, logs=None):
        self.d.append(flat(self.model.discriminator.trainable_variables))
        self.g.append(flat(self.model.generator.trainable_variables))

    def on_train_batch_end(self, batch, logs=None):
        self.on_train_begin()


def fit(model, case, steps, **kwargs):
    kwargs.setdefault("verbose", 0)
    return model.fit(*cases.batches(case, steps=steps), batch_size=cases.BATCH, shuffle=False, **kwargs)


# ------------------------------------------------------------------ the train step
@pytest.mark.parametrize("case", cases.MODELS + ("bn_gan",))
def test_train_step_updates_d_every_call_and_g_every_d_steps(case):
    """d_steps=2: the generator update is the conditional branch (lax.cond on JAX)."""
    model = cases.compiled(case, optimizer=adam, overrides={"d_steps": 2})
    assert model.optimizer is None            # no default optimizer over all weights
    seed_before = ops.convert_to_numpy(model.seed_generator.state).copy()
    log = WeightLog()
    history = fit(model, case, 4, callbacks=[log])
    for step in range(1, 5):
        assert not np.array_equal(log.d[step], log.d[step - 1]), f"{case}: D unchanged at step {step}"
        moved = not np.array_equal(log.g[step], log.g[step - 1])
        assert moved == (step % 2 == 0), f"{case}: G update at step {step} with d_steps=2"
    assert int(ops.convert_to_numpy(model.d_step_count)) == 4
    assert int(ops.convert_to_numpy(model.d_optimizer.iterations)) == 4
    assert int(ops.convert_to_numpy(model.g_optimizer.iterations)) == 2
    assert ops.convert_to_numpy(model.seed_generator.state)[1] > seed_before[1]
    for name, values in history.history.items():
        assert np.all(np.isfinite(values)), (case, name, values)
    assert "g_loss" in history.history and "d_loss" in history.history


class NoiseProbe(kg.GAN):
    """A GAN that keeps the discriminator step's latents in a variable, assigned inside the
    loss (on JAX: inside jax.grad, so the value must come out of it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.z_seen = self.add_weight(shape=(cases.BATCH, cases.LATENT), initializer="zeros", trainable=False,
                                      name="z_seen")

    def discriminator_losses(self, real, fake, real_out, fake_out, latent, condition):
        self.z_seen.assign(latent)
        return super().discriminator_losses(real, fake, real_out, fake_out, latent, condition)


def test_latents_are_new_every_step_and_drawn_from_the_model_seed_generator():
    """The JAX trap: a SeedGenerator drawn outside a StatelessScope gives the same noise every
    step. Each step's latents must be the next draws of the model's SeedGenerator."""
    g, d = cases.networks("gan")
    model = NoiseProbe(g, d, cases.LATENT, seed=5)
    model.compile(d_optimizer=adam(), g_optimizer=adam())
    reference = keras.random.SeedGenerator(0)
    reference.state.assign(ops.convert_to_numpy(model.seed_generator.state))
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(ops.convert_to_numpy(self.model.z_seen).copy())

    fit(model, "gan", 4, callbacks=[Record()])
    for step in range(4):
        z_d = ops.convert_to_numpy(keras.random.normal((cases.BATCH, cases.LATENT), seed=reference))
        keras.random.normal((cases.BATCH, cases.LATENT), seed=reference)       # the generator step's z
        np.testing.assert_allclose(seen[step], z_d, atol=1e-6, err_msg=f"step {step + 1}")
    assert len({arr.tobytes() for arr in seen}) == 4
    np.testing.assert_array_equal(ops.convert_to_numpy(model.seed_generator.state),
                                  ops.convert_to_numpy(reference.state))


@pytest.mark.parametrize("case", ["non_saturating", "wgan_gp_d2", "bn_gan", "infogan"])
def test_one_fit_of_n_steps_equals_n_fits_of_one_step(case):
    """The JAX trap: the trainer carries only ``self.optimizer``'s variables through the
    jitted step. Within one fit the state (both optimizers' Adam moments and counts, batch
    norm, the seed, the counter) must flow from step to step as it does between fits."""
    steps = 4
    one = cases.compiled(case, optimizer=adam)
    fit(one, case, steps)
    many = cases.compiled(case, optimizer=adam)
    x = cases.batches(case, steps=steps)
    for i in range(steps):
        many.fit(*[a[i * cases.BATCH:(i + 1) * cases.BATCH] for a in x], batch_size=cases.BATCH, shuffle=False,
                 verbose=0)
    for a, b in zip(cases.state(one), cases.state(many)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    g_updates = steps // one.d_steps
    assert int(ops.convert_to_numpy(one.g_optimizer.iterations)) == g_updates
    assert np.abs(flat(one.g_optimizer.variables[2:])).max() > 0         # Adam moments moved


def test_batch_norm_statistics_move_in_both_networks():
    model = cases.compiled("bn_gan")
    means = [v for v in model.variables if "moving_mean" in v.path]
    assert len(means) == 2
    fit(model, "bn_gan", 1)
    for v in means:
        assert np.abs(ops.convert_to_numpy(v)).max() > 1e-3, v.path


# ---------------------------------------------------------------------- penalties
def linear_critic(seed=0, width=6):
    w = np.random.default_rng(seed).normal(0, 0.3, (width, 1)).astype("float32")
    critic = keras.Sequential([keras.Input((width,)), keras.layers.Dense(1, use_bias=False)])
    critic.layers[-1].kernel.assign(w)
    return critic, w.astype("float64")


@pytest.mark.parametrize("name", ["gradient_penalty", "dragan", "r1"])
def test_penalty_value_and_its_gradient_for_a_linear_critic(name):
    """D(x) = <w, x>: grad_x D = w, so GP = DRAGAN = (|w| - 1)^2 and R1 = |w|^2 / 2, and one SGD
    step on the penalty (the gradient of an input gradient) moves w by -lr dP/dw."""
    critic, w = linear_critic()
    rng = np.random.default_rng(1)
    real, fake = (rng.uniform(-1, 1, (8, 6)).astype("float32") for _ in range(2))
    penalty = kg.penalties.get(name)
    norm = np.linalg.norm(w)
    value, grad = (((norm - 1) ** 2, 2 * (norm - 1) * w / norm) if name != "r1" else (norm ** 2 / 2, w))
    seeds = keras.random.SeedGenerator(4)
    np.testing.assert_allclose(float(ops.convert_to_numpy(penalty(critic, real, fake, seed=seeds))), value, rtol=1e-5)
    optimizer = keras.optimizers.SGD(0.5)
    optimizer.build(critic.trainable_variables)
    backend.minimize(optimizer, lambda: (penalty(critic, real, fake, seed=seeds), {}), critic.trainable_variables)
    np.testing.assert_allclose(ops.convert_to_numpy(critic.layers[-1].kernel), w - 0.5 * grad, atol=1e-5)


def test_gradients_and_input_gradients_eagerly():
    """The helpers a notebook uses for gradients, outside any train step."""
    critic, w = linear_critic()
    x = np.random.default_rng(2).normal(size=(4, 6)).astype("float32")
    (grad,) = backend.gradients(lambda: ops.sum(critic(x) ** 2), critic.trainable_variables)
    out = x.astype("float64") @ w
    np.testing.assert_allclose(ops.convert_to_numpy(grad), 2 * x.T.astype("float64") @ out, rtol=1e-5)
    grads = backend.input_gradients(critic, x)
    np.testing.assert_allclose(ops.convert_to_numpy(grads), np.repeat(w.T, 4, axis=0), rtol=1e-6)


@pytest.mark.parametrize("case", ["non_saturating", "wgan_gp_d2"])
def test_mixed_precision_wraps_both_optimizers_and_trains(case):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = cases.compiled(case, optimizer=adam)
        assert isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
        history = fit(model, case, 4)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert int(ops.convert_to_numpy(model.g_optimizer.iterations)) == 4 // model.d_steps


# ------------------------------------------------------------------ save and resume
@pytest.mark.parametrize("case", ["wgan_gp_d2", "bn_gan", "began", "cgan", "infogan"])
def test_save_load_round_trip_and_training_continues_identically(case, tmp_path):
    model = cases.compiled(case, optimizer=adam)
    fit(model, case, 2)
    path = str(tmp_path / "gan.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    for a, b in zip(cases.state(model), cases.state(loaded)):
        np.testing.assert_array_equal(a, b)
    kwargs = {"labels": np.arange(8) % cases.NUM_CLASSES} if case == "cgan" else {}
    np.testing.assert_array_equal(model.generate(8, seed=1, **kwargs), loaded.generate(8, seed=1, **kwargs))
    for m in (model, loaded):
        m.fit(*cases.batches(case, steps=2, seed=12), batch_size=cases.BATCH, shuffle=False, verbose=0)
    for a, b in zip(cases.state(model), cases.state(loaded)):
        np.testing.assert_array_equal(a, b)


class Interrupt(keras.callbacks.Callback):
    def __init__(self, at_epoch, at_batch):
        super().__init__()
        self.at = (at_epoch, at_batch)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt("simulated interruption")


@pytest.mark.parametrize("case", ["wgan_gp_d2", "began", "cgan_d2", "infogan"])
def test_resume_after_an_interruption_is_bitwise_exact(case, tmp_path):
    data = cases.batches(case, steps=3)
    kwargs = dict(batch_size=cases.BATCH, epochs=3, shuffle=False, verbose=0)
    straight = cases.compiled(case, optimizer=adam)
    straight.fit(*data, **kwargs)
    backup = str(tmp_path / "backup")
    first = cases.compiled(case, optimizer=adam)
    with pytest.raises(KeyboardInterrupt):
        first.fit(*data, callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt(1, 1)], **kwargs)
    resumed = cases.compiled(case, optimizer=adam)
    resumed.fit(*data, callbacks=[keras.callbacks.BackupAndRestore(backup)], **kwargs)
    assert int(ops.convert_to_numpy(resumed.d_step_count)) == 9
    for a, b in zip(cases.state(straight), cases.state(resumed)):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------- callbacks that read the model
def test_callbacks_mid_epoch_see_the_current_state():
    """On JAX the model's variables hold the jitted state only after a sync: QualityCurve's
    step count, trackers and samples, and LinearDecay's learning rates, must be current."""
    model = cases.compiled("non_saturating", optimizer=adam)
    samples = {}

    def quality(m):
        samples[int(ops.convert_to_numpy(m.d_step_count))] = m.generate(4, seed=0)
        return {"sum": float(samples[max(samples)].sum())}

    curve = kg.callbacks.QualityCurve([2, 3, 5], quality)
    fit(model, "non_saturating", 6, callbacks=[curve, LinearDecay(6)])
    assert curve.history["step"] == [2, 3, 5] and sorted(samples) == [2, 3, 5]
    assert len({s.tobytes() for s in samples.values()}) == 3
    assert np.all(np.isfinite(curve.history["d_loss"])) and len(curve.history["d_loss"]) == 3
    # LinearDecay set lr * (1 - 5/6) before the last step; had the jitted state overwritten
    # the callback's assignments, the rate would still be 1e-2.
    np.testing.assert_allclose(float(ops.convert_to_numpy(model.d_optimizer.learning_rate)), 1e-2 / 6, rtol=1e-5)


# ------------------------------------------------------------- backend-specific traps
def test_run_every_counts_and_its_update_leaves_the_step():
    """The conditional generator update: every 3rd call, with values assigned inside it. On JAX
    inside a jitted StatelessScope, as a user's own jitted step runs it: a ``lax.cond`` whose
    branches must be pure (an assignment inside a branch would leak a tracer)."""
    counter = keras.Variable(0, dtype="int32", trainable=False)
    total, calls = keras.Variable(0.0), keras.Variable(0.0)
    variables = [counter, total, calls]

    def body():
        counter.assign_add(1)
        backend.run_every(counter, 3, lambda x: total.assign_add(x), (ops.convert_to_tensor(2.0),))
        calls.assign_add(1.0)

    if BACKEND == "jax":
        import jax

        @jax.jit
        def step(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))) as scope:
                body()
            return [scope.get_current_value(v) for v in variables]

        values = [v.value for v in variables]
        for _ in range(7):
            values = step(values)
        for v, value in zip(variables, values):
            v.assign(value)
    else:
        for _ in range(7):
            body()
    assert [float(ops.convert_to_numpy(v)) for v in variables] == [7.0, 4.0, 7.0]



@pytest.mark.skipif(BACKEND != "torch", reason="torch.compile's missing double backward")
def test_torch_refuses_jit_compile_with_a_penalty_and_keeps_it_without():
    model = cases.build("wgan_gp")
    with pytest.raises(ValueError, match="torch.compile has no double backward"):
        model.compile(d_optimizer=adam(), g_optimizer=adam(), jit_compile=True)
    model.compile(d_optimizer=adam(), g_optimizer=adam())             # "auto": eager
    plain = cases.build("non_saturating")
    plain.compile(d_optimizer=adam(), g_optimizer=adam(), jit_compile=True)
    assert plain.jit_compile is True


def test_the_backend_module_is_keras_backend():
    assert backend.BACKEND == BACKEND
    assert backend.COUNTER_DTYPE == ("int64" if BACKEND == "tensorflow" else "int32")


def test_the_evaluation_classifier_runs_on_the_backend():
    # metrics.features / classify call the committed Keras classifier; on torch its outputs carry
    # autograd state and must be detached before numpy (the notebooks' live cells evaluate with it).
    images, labels = kg.data.load_arrays("fashion_mnist", "test")
    images = kg.data.to_float(images[:300])
    feats = kg.metrics.features(images)
    assert isinstance(feats, np.ndarray) and feats.shape == (300, 128) and np.isfinite(feats).all()
    accuracy = np.mean(kg.metrics.classify(images) == labels[:300])
    assert accuracy > 0.85, accuracy   # the classifier's test accuracy is 0.916


def test_evaluation_samples_a_bare_generator_on_the_backend():
    # evaluation.sample on a generator (no GAN around it), as `keras_gan evaluate generator.keras` does.
    generator = kg.architectures.mlp_generator(4, 2)
    samples = kg.evaluation.sample(generator, 600, seed=3)
    z = np.random.default_rng(3).standard_normal((600, 4)).astype("float32")
    expected = ops.convert_to_numpy(generator(z, training=False))
    assert isinstance(samples, np.ndarray) and samples.shape == (600, 2)
    np.testing.assert_allclose(samples, expected, rtol=1e-5, atol=1e-6)
