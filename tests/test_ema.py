"""The generator EMA (``compile(generator_ema=...)``, keras_gan/ema.py) on the current Keras
backend: beta_t against hand-computed values, the average against the formula recomputed in
numpy from the generator's weights after every update (batch-norm statistics included), a
model whose training is unchanged by it, ``generate``, save/load, exact resume, recompiling,
and the errors of bad settings. Marked ``backends`` (run on JAX and PyTorch too): one case of
each behaviour; the other cases run on TensorFlow, with the whole suite."""

import keras
import numpy as np
import pytest
from keras import ops

import cases
import keras_gan as kg

#: On every backend (``.ci/test`` runs ``-m backends`` on JAX and PyTorch).
EVERY_BACKEND = pytest.mark.backends


def adam():
    return keras.optimizers.Adam(1e-2, 0.5)


def numpy_weights(variables):
    return [np.array(ops.convert_to_numpy(v.value)) for v in variables]


class GeneratorLog(keras.callbacks.Callback):
    """The generator's weights (all of them, batch-norm statistics too) after every step."""

    def __init__(self):
        super().__init__()
        self.after = []

    def on_train_batch_end(self, batch, logs=None):
        self.after.append(numpy_weights(self.model.generator.weights))


def assert_all_equal(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def fit(model, case, steps, callbacks=(), seed=11):
    model.fit(*cases.batches(case, steps=steps, seed=seed), batch_size=cases.BATCH, shuffle=False, verbose=0,
              callbacks=list(callbacks))


@EVERY_BACKEND
def test_beta_against_hand_computed_values():
    beta = lambda ema, t: float(ops.convert_to_numpy(ema.beta(t)))  # noqa: E731
    ramped = kg.GeneratorEMA(decay=0.999)
    assert beta(ramped, 1) == pytest.approx(2 / 11, abs=1e-7)            # (1 + 1) / (10 + 1)
    assert beta(ramped, 100) == pytest.approx(101 / 110, abs=1e-7)
    assert beta(ramped, 8990) == pytest.approx(0.999, abs=1e-7)          # the ramp reaches the decay
    assert beta(ramped, 50_000) == pytest.approx(0.999, abs=1e-7)
    late = kg.GeneratorEMA(decay=0.9, start_step=5)
    assert beta(late, 3) == 0.0 and beta(late, 5) == 0.0                  # a copy until start_step
    assert beta(late, 6) == pytest.approx(2 / 11, abs=1e-7)
    assert beta(late, 1000) == pytest.approx(0.9, abs=1e-7)
    plain = kg.GeneratorEMA(decay=0.99, ramp_up=False)
    assert beta(plain, 1) == pytest.approx(0.99, abs=1e-7)


@pytest.mark.parametrize("case, settings", [
    pytest.param("bn_gan", kg.GeneratorEMA(decay=0.6, start_step=2), marks=EVERY_BACKEND),  # BN statistics too
    pytest.param("wgan_gp_d2", kg.GeneratorEMA(decay=0.9, start_step=1), marks=EVERY_BACKEND),  # G every 2nd
    ("infogan", kg.GeneratorEMA(decay=0.7, ramp_up=False)),
])
def test_the_average_follows_the_formula_after_every_generator_update(case, settings):
    model = cases.compiled(case, optimizer=adam, generator_ema=settings)
    ema = kg.ema.get(settings)
    expected = numpy_weights(model.generator.weights)      # the average starts as a copy
    assert_all_equal(numpy_weights(model.averaged_generator.weights), expected)
    log = GeneratorLog()
    fit(model, case, steps=7, callbacks=[log])
    for step, weights in enumerate(log.after, 1):
        if step % model.d_steps:
            continue                                        # no generator update, no average update
        t = step // model.d_steps
        since = t - ema.start_step
        beta = 0.0 if since <= 0 else (min(ema.decay, (1 + since) / (10 + since)) if ema.ramp_up else ema.decay)
        expected = [beta * a + (1 - beta) * w for a, w in zip(expected, weights)]
    got = numpy_weights(model.averaged_generator.weights)
    assert len(got) == len(expected) == len(model.generator.weights)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # The average is not the generator: training moved away from it.
    assert max(np.abs(a - w).max() for a, w in zip(got, log.after[-1])) > 1e-3


@pytest.mark.parametrize("case", [pytest.param("bn_gan", marks=EVERY_BACKEND), "cgan_d2", "began"])
def test_training_is_the_same_with_and_without_the_average(case):
    plain = cases.compiled(case, optimizer=adam)
    averaged = cases.compiled(case, optimizer=adam, generator_ema=0.9)
    assert plain.averaged_generator is None and plain.generator_ema is None
    # Without an EMA the model has only its own state (no averaged copy among its variables).
    networks = {id(v) for v in plain.generator.variables + plain.discriminator.variables}
    assert {v.name for v in plain.variables if id(v) not in networks} <= {"d_step_count", "seed_generator_state", "k", "M"}
    assert len(averaged.variables) == len(plain.variables) + len(plain.generator.weights)
    for model in (plain, averaged):
        fit(model, case, steps=5)
    own = lambda m: [v for v in m.variables if not any(v is w for w in (m.averaged_generator.weights  # noqa: E731
                                                                          if m.averaged_generator else []))]
    for a, b in zip(numpy_weights(own(plain)), numpy_weights(own(averaged))):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@EVERY_BACKEND
def test_generate_samples_from_the_average_unless_told_otherwise():
    model = cases.compiled("cgan", optimizer=adam, generator_ema=0.8)
    fit(model, "cgan", steps=4)
    labels = np.arange(6) % cases.NUM_CLASSES
    z = model.latent_numpy(6, seed=2)
    one_hot = np.eye(cases.NUM_CLASSES, dtype="float32")[labels]
    by_average = ops.convert_to_numpy(model.averaged_generator([z, one_hot], training=False))
    by_generator = ops.convert_to_numpy(model.generator([z, one_hot], training=False))
    np.testing.assert_allclose(model.generate(6, labels=labels, seed=2), by_average, atol=1e-6)
    np.testing.assert_allclose(model.generate(6, labels=labels, seed=2, use_ema=True), by_average, atol=1e-6)
    np.testing.assert_allclose(model.generate(6, labels=labels, seed=2, use_ema=False), by_generator, atol=1e-6)
    assert np.abs(by_average - by_generator).max() > 1e-4
    images, rows, _ = model.grid_samples(seed=2, per_row=3, use_ema=False)
    assert images.shape == (cases.NUM_CLASSES * 3, 2) and rows == cases.NUM_CLASSES
    plain = cases.compiled("non_saturating", optimizer=adam)
    with pytest.raises(ValueError, match="generator_ema=0.999"):
        plain.generate(4, use_ema=True)
    with pytest.raises(TypeError, match="use_ema"):
        model.generate(4, use_ema="yes")


@pytest.mark.parametrize("case", [pytest.param("bn_gan", marks=EVERY_BACKEND), "infogan"])
def test_save_and_load_keep_the_average_and_training_continues_identically(case, tmp_path):
    model = cases.compiled(case, optimizer=adam, generator_ema=kg.GeneratorEMA(0.7, start_step=1))
    fit(model, case, steps=3)
    path = str(tmp_path / "gan.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.generator_ema == kg.GeneratorEMA(0.7, start_step=1)
    assert_all_equal(cases.state(model), cases.state(loaded))
    np.testing.assert_array_equal(model.generate(5, seed=1), loaded.generate(5, seed=1))
    for m in (model, loaded):
        fit(m, case, steps=2, seed=12)
    assert_all_equal(cases.state(model), cases.state(loaded))
    # Without compiling, the file's average is not restored, and generate says it has none.
    bare = keras.models.load_model(path, compile=False)
    assert bare.averaged_generator is None


class Interrupt(keras.callbacks.Callback):
    def __init__(self, at_epoch, at_batch):
        super().__init__()
        self.at, self.epoch = (at_epoch, at_batch), 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt("simulated interruption")


@pytest.mark.parametrize("case", ["bn_gan", pytest.param("wgan_gp_d2", marks=EVERY_BACKEND)])
def test_resume_with_the_average_is_bitwise_exact(case, tmp_path):
    data = cases.batches(case, steps=3)
    kwargs = dict(batch_size=cases.BATCH, epochs=3, shuffle=False, verbose=0)
    straight = cases.compiled(case, optimizer=adam, generator_ema=0.8)
    straight.fit(*data, **kwargs)
    backup = str(tmp_path / "backup")
    first = cases.compiled(case, optimizer=adam, generator_ema=0.8)
    with pytest.raises(KeyboardInterrupt):
        first.fit(*data, callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt(1, 1)], **kwargs)
    resumed = cases.compiled(case, optimizer=adam, generator_ema=0.8)
    resumed.fit(*data, callbacks=[keras.callbacks.BackupAndRestore(backup)], **kwargs)
    assert_all_equal(numpy_weights(straight.averaged_generator.weights),
                     numpy_weights(resumed.averaged_generator.weights))
    assert_all_equal(cases.state(straight), cases.state(resumed))


@EVERY_BACKEND
def test_compiling_again_keeps_changes_or_drops_the_average():
    model = cases.compiled("non_saturating", optimizer=adam, generator_ema=0.5)
    count = len(model.variables)
    fit(model, "non_saturating", steps=3)
    reached = numpy_weights(model.averaged_generator.weights)
    model.compile(d_optimizer=adam(), g_optimizer=adam(), generator_ema=0.9)    # new settings, same average
    assert model.generator_ema.decay == 0.9
    assert_all_equal(reached, numpy_weights(model.averaged_generator.weights))
    fit(model, "non_saturating", steps=1)
    model.compile(d_optimizer=adam(), g_optimizer=adam())                       # None: dropped
    assert model.averaged_generator is None and model.generator_ema is None
    assert len(model.variables) == count - len(model.generator.weights)
    fit(model, "non_saturating", steps=2)                                       # and it still trains
    assert int(ops.convert_to_numpy(model.d_step_count)) == 6


@pytest.mark.parametrize("value, error, match", [
    (True, TypeError, "generator_ema must be None, a decay"),
    ("0.999", TypeError, "generator_ema must be None, a decay"),
    (1.0, ValueError, "decay must be in \\(0, 1\\)"),
    (0.0, ValueError, "decay must be in \\(0, 1\\)"),
    (float("nan"), ValueError, "decay must be in \\(0, 1\\)"),
])
def test_bad_settings_raise_clear_errors(value, error, match):
    model = cases.build("non_saturating")
    with pytest.raises(error, match=match):
        model.compile(d_optimizer=adam(), g_optimizer=adam(), generator_ema=value)
    with pytest.raises(ValueError, match="start_step must be an integer >= 0"):
        kg.GeneratorEMA(0.999, start_step=-1)
    with pytest.raises(TypeError, match="ramp_up must be True or False"):
        kg.GeneratorEMA(0.999, ramp_up="yes")


class SubclassedGenerator(keras.Model):
    def __init__(self, width):
        super().__init__()
        self.dense = keras.layers.Dense(width)

    def call(self, z):
        return self.dense(z)


def test_a_generator_that_cannot_be_copied_gets_a_clear_error():
    g = SubclassedGenerator(2)
    g(np.zeros((1, cases.LATENT), "float32"))
    model = kg.GAN(g, cases.networks("non_saturating")[1], cases.LATENT)
    with pytest.raises(TypeError, match="generator_ema needs a copy of the generator"):
        model.compile(d_optimizer=adam(), g_optimizer=adam(), generator_ema=0.999)
