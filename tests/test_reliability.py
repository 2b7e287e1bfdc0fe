"""Reliability: clear errors before training, the non-finite loss guard, exact resume
with BackupAndRestore, mixed precision and XLA, for every model class.

(tf.distribute is tested in test_distribute.py, in a subprocess.) Small MLPs on 2D
points, and 8x8 images where the check is about images, keep this module fast.
"""

import math
import os
import shutil
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gan as kg
from keras_gan import architectures
from keras_gan.callbacks import NonFiniteLossError, TerminateOnNonFinite
from keras_gan.gan import BatchNormPenaltyWarning

LATENT = 4
RING = kg.data.mixture("ring8")
K = RING.num_modes
BATCH = 32


# ------------------------------------------------------------------------- model zoo
def _mlp(latent=LATENT, extra=0):
    return (architectures.mlp_generator(latent, 2, units=16, depth=2, extra_input_dim=extra),
            architectures.mlp_discriminator(2, units=16, depth=2, extra_input_dim=extra))


def build(name, seed=0):
    """An uncompiled MLP version of each model class, deterministic for a seed."""
    keras.utils.set_random_seed(seed)
    if name == "gan":
        return kg.GAN(*_mlp(), LATENT, seed=seed)
    if name == "r1":
        return kg.GAN(*_mlp(), LATENT, penalty="r1", penalty_weight=1.0, seed=seed)
    if name == "wgan":
        return kg.WGAN(*_mlp(), LATENT, d_steps=3, seed=seed)
    if name == "wgan_gp":
        return kg.WGANGP(*_mlp(), LATENT, d_steps=2, seed=seed)
    if name == "dragan":
        return kg.DRAGAN(*_mlp(), LATENT, seed=seed)
    if name == "began":
        return kg.BEGAN(architectures.mlp_generator(LATENT, 2, units=16, depth=2),
                        architectures.mlp_autoencoder(2, units=16, depth=1, code_dim=4), LATENT,
                        lambda_k=0.1, seed=seed)
    if name == "cgan":
        return kg.ConditionalGAN(*_mlp(extra=K), LATENT, num_classes=K, seed=seed)
    if name == "infogan":
        return kg.InfoGAN(architectures.mlp_generator(LATENT + 4 + 1, 2, units=16, depth=2),
                          architectures.mlp_infogan_discriminator(2, 4, 1, units=16, depth=2),
                          LATENT, num_categories=4, num_continuous=1, seed=seed)
    raise ValueError(name)


MODELS = ["gan", "r1", "wgan", "wgan_gp", "dragan", "began", "cgan", "infogan"]


def compiled(name, seed=0, optimizer=lambda: keras.optimizers.Adam(1e-3, 0.5), **compile_kwargs):
    model = build(name, seed)
    model.compile(d_optimizer=optimizer(), g_optimizer=optimizer(), **compile_kwargs)
    return model


def points(n_batches=6, seed=0, labels=False):
    """A deterministic dataset (no shuffling): the same batches in the same order every pass."""
    x, y = RING.sample_with_labels(n_batches * BATCH, seed=seed)
    data = (x, y.astype("int32")) if labels else x
    return tf.data.Dataset.from_tensor_slices(data).batch(BATCH, drop_remainder=True)


def data_for(name, **kwargs):
    return points(labels=getattr(build_cls(name), "uses_labels", False), **kwargs)


def build_cls(name):
    return {"began": kg.BEGAN, "cgan": kg.ConditionalGAN, "infogan": kg.InfoGAN, "wgan": kg.WGAN,
            "wgan_gp": kg.WGANGP, "dragan": kg.DRAGAN}.get(name, kg.GAN)


def state(model):
    """Every piece of training state, as numpy: model variables (weights, d_step_count,
    BEGAN's k and M, the SeedGenerator's state) and both optimizers' variables."""
    values = [np.array(v.numpy()) for v in model.variables]
    for optimizer in (model.d_optimizer, model.g_optimizer):
        values += [np.array(v.numpy()) for v in optimizer.variables]
    return values


# ------------------------------------------------------------------ bad inputs
def image_nets(shape=(8, 8, 1), latent=LATENT):
    z = keras.Input((latent,))
    x = keras.layers.Dense(int(np.prod(shape)))(z)
    x = keras.layers.Reshape(shape)(x)
    g = keras.Model(z, keras.layers.Activation("tanh")(x))
    image = keras.Input(shape)
    y = keras.layers.Conv2D(4, 3, strides=2, padding="same")(image)
    d = keras.Model(image, keras.layers.Dense(1)(keras.layers.Flatten()(y)))
    return g, d


def image_gan():
    model = kg.GAN(*image_nets(), LATENT, seed=0)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    return model


def images(values):
    return tf.data.Dataset.from_tensor_slices(values).batch(16)


RNG = np.random.default_rng(0)
GOOD_IMAGES = RNG.uniform(-1, 1, (32, 8, 8, 1)).astype("float32")
NAN_FIRST = GOOD_IMAGES.copy()
NAN_FIRST[3, 2, 2, 0] = np.nan
PIXELS = RNG.integers(0, 256, (32, 8, 8, 1)).astype("float32")   # 8-bit values as floats
PIXELS[0, 0, :2, 0] = 0, 255
WIDE = 2 * GOOD_IMAGES
WIDE[0, 0, :2, 0] = -2, 2


def _fit_images(values, **kwargs):
    model = image_gan()
    try:
        model.fit(values, epochs=1, verbose=0, **kwargs)
    finally:  # raised before any training step
        assert int(model.d_step_count.numpy()) == 0
        assert int(model.d_optimizer.iterations.numpy()) == 0


def _fit_cgan(data):
    model = compiled("cgan")
    try:
        model.fit(data, epochs=1, verbose=0)
    finally:
        assert int(model.d_step_count.numpy()) == 0


def _nets_then(fn):
    return lambda: fn(*_mlp())


def _same_optimizer():
    opt = keras.optimizers.Adam()
    kg.GAN(*_mlp(), LATENT).compile(d_optimizer=opt, g_optimizer=opt)


_X, _Y = RING.sample_with_labels(64, seed=0)
BAD_INPUTS = {
    # data, checked on the first batch before training starts
    "images without channel axis": (ValueError, r"shape \(16, 8, 8\).*\(None, 8, 8, 1\).*x\[\.\.\., None\]",
                                    lambda: _fit_images(images(GOOD_IMAGES[..., 0]))),
    "wrong channel count": (ValueError, r"channel counts differ \(3 vs 1\)",
                            lambda: _fit_images(images(np.repeat(GOOD_IMAGES, 3, axis=-1)))),
    "wrong image size": (ValueError, r"\(16, 16, 16, 1\).*\(None, 8, 8, 1\)",
                         lambda: _fit_images(images(np.zeros((32, 16, 16, 1), "float32")))),
    "uint8 images": (TypeError, r"uint8.*x.astype\('float32'\) / 127.5 - 1",
                     lambda: _fit_images(images((GOOD_IMAGES * 127 + 128).astype("uint8")))),
    "float images in [0, 255]": (ValueError, r"values in \[0, 255\].*8-bit images: use x / 127.5 - 1",
                                 lambda: _fit_images(images(PIXELS))),
    "float images in [-2, 2]": (ValueError, r"values in \[-2, 2\].*rescale", lambda: _fit_images(images(WIDE))),
    "NaN in the first batch": (ValueError, r"contains 1 NaN or infinite",
                               lambda: _fit_images(images(NAN_FIRST))),
    "numpy array of the wrong rank": (ValueError, r"\(32, 64\).*\(None, 8, 8, 1\)",
                                      lambda: _fit_images(GOOD_IMAGES.reshape(32, 64), batch_size=32)),
    "empty dataset": (ValueError, r"dataset passed to fit\(\) is empty",
                      lambda: _fit_images(images(GOOD_IMAGES).take(0))),
    "2D points of the wrong width": (ValueError, r"\(32, 3\).*\(None, 2\)",
                                     lambda: compiled("gan").fit(
                                         tf.data.Dataset.from_tensor_slices(np.zeros((64, 3), "float32"))
                                         .batch(32), verbose=0)),
    "conditional model without labels": (ValueError, r"ConditionalGAN trains on \(inputs, labels\)",
                                         lambda: _fit_cgan(tf.data.Dataset.from_tensor_slices(_X).batch(32))),
    "conditional labels out of range": (ValueError, r"labels must lie in \[0, 8\), got values from \d to 8",
                                        lambda: _fit_cgan(tf.data.Dataset.from_tensor_slices(
                                            (_X, (_Y + 1).astype("int32"))).batch(32))),
    "conditional negative labels": (ValueError, r"labels must lie in \[0, 8\), got values from -1",
                                    lambda: _fit_cgan(tf.data.Dataset.from_tensor_slices(
                                        (_X, (_Y - 1).astype("int32"))).batch(32))),
    "conditional float labels": (TypeError, r"labels must be integer class indices",
                                 lambda: _fit_cgan(tf.data.Dataset.from_tensor_slices(
                                     (_X, _Y.astype("float32"))).batch(32))),
    # constructor arguments
    "latent_dim does not match the generator": (ValueError, r"latent_dim=8 does not match.*width 4",
                                                _nets_then(lambda g, d: kg.GAN(g, d, 8))),
    "latent_dim 0": (ValueError, r"latent_dim must be an integer >= 1", _nets_then(lambda g, d: kg.GAN(g, d, 0))),
    "d_steps 0": (ValueError, r"d_steps must be an integer >= 1", _nets_then(lambda g, d: kg.GAN(g, d, LATENT,
                                                                                               d_steps=0))),
    "d_steps 2.5": (ValueError, r"d_steps must be an integer >= 1",
                    _nets_then(lambda g, d: kg.WGAN(g, d, LATENT, d_steps=2.5))),
    "negative penalty weight": (ValueError, r"penalty_weight must be >= 0",
                                _nets_then(lambda g, d: kg.GAN(g, d, LATENT, penalty="r1", penalty_weight=-1))),
    "negative gp_weight": (ValueError, r"gp_weight must be >= 0",
                           _nets_then(lambda g, d: kg.WGANGP(g, d, LATENT, gp_weight=-10))),
    "negative DRAGAN c": (ValueError, r"perturbation scale c must be >= 0",
                          _nets_then(lambda g, d: kg.DRAGAN(g, d, LATENT, c=-0.5))),
    "clip_value 0": (ValueError, r"clip_value must be > 0", _nets_then(lambda g, d: kg.WGAN(g, d, LATENT,
                                                                                           clip_value=0))),
    "negative clip_value": (ValueError, r"clip_value must be > 0",
                            _nets_then(lambda g, d: kg.WGAN(g, d, LATENT, clip_value=-0.01))),
    "BEGAN gamma 0": (ValueError, r"gamma must be in \(0, 1\]", lambda: kg.BEGAN(
        architectures.mlp_generator(LATENT, 2, units=8, depth=1), architectures.mlp_autoencoder(2, units=8, depth=1),
        LATENT, gamma=0.0)),
    "BEGAN gamma 1.5": (ValueError, r"gamma must be in \(0, 1\]", lambda: kg.BEGAN(
        architectures.mlp_generator(LATENT, 2, units=8, depth=1), architectures.mlp_autoencoder(2, units=8, depth=1),
        LATENT, gamma=1.5)),
    # arguments that would be dropped: a TypeError naming the one to use
    "WGANGP penalty_weight": (TypeError, r"WGANGP takes no 'penalty_weight'.*pass gp_weight=5.0",
                              _nets_then(lambda g, d: kg.WGANGP(g, d, LATENT, penalty_weight=5.0))),
    "WGANGP penalty": (TypeError, r"WGANGP takes no 'penalty'.*kg.GAN\(",
                       _nets_then(lambda g, d: kg.WGANGP(g, d, LATENT, penalty="r1"))),
    "DRAGAN dragan_c": (TypeError, r"DRAGAN takes no 'dragan_c'.*pass c=1.0",
                        _nets_then(lambda g, d: kg.DRAGAN(g, d, LATENT, dragan_c=1.0))),
    "DRAGAN penalty": (TypeError, r"DRAGAN takes no 'penalty'",
                       _nets_then(lambda g, d: kg.DRAGAN(g, d, LATENT, penalty="gradient_penalty"))),
    "GAN dragan_c": (TypeError, r"GAN takes no 'dragan_c'.*penalty=kg.penalties.DRAGANPenalty\(c=1.0\)",
                     _nets_then(lambda g, d: kg.GAN(g, d, LATENT, penalty="dragan", dragan_c=1.0))),
    "BEGAN penalty_weight": (TypeError, r"BEGAN takes no 'penalty_weight'", lambda: kg.BEGAN(
        architectures.mlp_generator(LATENT, 2, units=8, depth=1), architectures.mlp_autoencoder(2, units=8, depth=1),
        LATENT, penalty_weight=5.0)),
    "generate(n, seed) positionally": (TypeError, r"takes n only positionally; pass seed=0 by keyword",
                                       lambda: build("gan").generate(16, 0)),
    # NaN and infinity in any float argument
    "NaN penalty_weight": (ValueError, r"penalty_weight must be >= 0, a finite number; got nan",
                           _nets_then(lambda g, d: kg.GAN(g, d, LATENT, penalty="r1", penalty_weight=math.nan))),
    "infinite gp_weight": (ValueError, r"gp_weight must be >= 0, a finite number; got inf",
                           _nets_then(lambda g, d: kg.WGANGP(g, d, LATENT, gp_weight=math.inf))),
    "NaN DRAGAN c": (ValueError, r"perturbation scale c must be >= 0, a finite number; got nan",
                     _nets_then(lambda g, d: kg.DRAGAN(g, d, LATENT, c=math.nan))),
    "infinite DRAGANPenalty c": (ValueError, r"perturbation scale c must be >= 0, a finite number; got inf",
                                 lambda: kg.penalties.DRAGANPenalty(c=math.inf)),
    "NaN penalty target": (ValueError, r"target must be a finite number; got nan",
                           lambda: kg.penalties.GradientPenalty(target=math.nan)),
    "NaN clip_value": (ValueError, r"clip_value must be > 0, a finite number.*got nan",
                       _nets_then(lambda g, d: kg.WGAN(g, d, LATENT, clip_value=math.nan))),
    "infinite clip_value": (ValueError, r"clip_value must be > 0, a finite number.*got inf",
                            _nets_then(lambda g, d: kg.WGAN(g, d, LATENT, clip_value=math.inf))),
    "NaN BEGAN gamma": (ValueError, r"gamma must be in \(0, 1\], a finite number.*got nan", lambda: kg.BEGAN(
        architectures.mlp_generator(LATENT, 2, units=8, depth=1), architectures.mlp_autoencoder(2, units=8, depth=1),
        LATENT, gamma=math.nan)),
    "infinite BEGAN lambda_k": (ValueError, r"lambda_k must be >= 0, a finite number; got inf", lambda: kg.BEGAN(
        architectures.mlp_generator(LATENT, 2, units=8, depth=1), architectures.mlp_autoencoder(2, units=8, depth=1),
        LATENT, lambda_k=math.inf)),
    "NaN InfoGAN categorical_weight": (ValueError, r"categorical_weight must be >= 0, a finite number; got nan",
                                       lambda: kg.InfoGAN(
                                           architectures.mlp_generator(LATENT + 4 + 1, 2, units=8, depth=1),
                                           architectures.mlp_infogan_discriminator(2, 4, 1, units=8, depth=1),
                                           LATENT, 4, 1, categorical_weight=math.nan)),
    "infinite InfoGAN continuous_weight": (ValueError, r"continuous_weight must be >= 0, a finite number; got inf",
                                           lambda: kg.InfoGAN(
                                               architectures.mlp_generator(LATENT + 4 + 1, 2, units=8, depth=1),
                                               architectures.mlp_infogan_discriminator(2, 4, 1, units=8, depth=1),
                                               LATENT, 4, 1, continuous_weight=math.inf)),
    "string penalty_weight": (TypeError, r"penalty_weight must be a number, got '10'",
                              _nets_then(lambda g, d: kg.GAN(g, d, LATENT, penalty="r1", penalty_weight="10"))),
    "unknown loss": (ValueError, r"Unknown GAN loss", _nets_then(lambda g, d: kg.GAN(g, d, LATENT, loss="wgan"))),
    "unknown penalty": (ValueError, r"Unknown penalty", _nets_then(lambda g, d: kg.GAN(g, d, LATENT,
                                                                                      penalty="gp2"))),
    "networks that are not keras Models": (TypeError, r"must be keras.Model instances",
                                           lambda: kg.GAN(lambda z: z, lambda x: x, LATENT)),
    # compile / fit order
    "fit before compile": (ValueError, r"fit\(\) was called before compile\(\)",
                           lambda: build("gan").fit(points(), verbose=0)),
    "compile without g_optimizer": (ValueError, r"needs both optimizers",
                                    lambda: build("gan").compile(d_optimizer="adam")),
    "compile without d_optimizer": (ValueError, r"needs both optimizers",
                                    lambda: build("gan").compile(g_optimizer="adam")),
    "one optimizer object for both networks": (ValueError, r"same optimizer object", _same_optimizer),
    "compile with a Keras loss": (ValueError, r"takes no 'loss'",
                                  lambda: build("gan").compile(d_optimizer="adam", g_optimizer="adam", loss="mse")),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_clear_error_before_training(case):
    error, message, fn = BAD_INPUTS[case]
    with pytest.raises(error, match=message):
        fn()


def test_good_data_passes_the_checks_and_check_data_can_be_turned_off():
    history = image_gan().fit(images(GOOD_IMAGES), epochs=1, verbose=0)
    assert len(history.history["d_loss"]) == 1
    # Points of the 25-grid reach +-4: fine for a generator without tanh.
    grid = kg.data.mixture("grid25").sample(64, seed=0)
    compiled("gan").fit(tf.data.Dataset.from_tensor_slices(grid).batch(32), verbose=0)
    # check_data=False skips the first-batch checks: 8-bit values then train silently.
    model = image_gan()
    model.fit(images(PIXELS), epochs=1, verbose=0, check_data=False)
    assert int(model.d_step_count.numpy()) == 2


def test_batch_norm_critic_with_gradient_penalty_warns():
    g = architectures.mlp_generator(LATENT, 2, units=8, depth=1)
    bn_critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8),
                                  keras.layers.BatchNormalization(), keras.layers.Dense(1)])
    with pytest.warns(BatchNormPenaltyWarning, match=r"norm=None\) or norm='layer'"):
        kg.WGANGP(g, bn_critic, LATENT)
    with pytest.warns(BatchNormPenaltyWarning):
        kg.DRAGAN(g, bn_critic, LATENT)
    with pytest.warns(BatchNormPenaltyWarning, match="r1 penalty is defined per sample"):
        kg.GAN(g, bn_critic, LATENT, penalty="r1")
    with pytest.warns(BatchNormPenaltyWarning, match="dragan penalty"):
        kg.GAN(g, bn_critic, LATENT, penalty=kg.penalties.DRAGANPenalty(c=1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", BatchNormPenaltyWarning)
        kg.GAN(g, bn_critic, LATENT)                        # no penalty: BN is the DCGAN recipe
        kg.WGANGP(g, architectures.mlp_discriminator(2, units=8, depth=1), LATENT)
        with pytest.raises(BatchNormPenaltyWarning):        # a user can make it an error
            kg.WGANGP(g, bn_critic, LATENT)


# ------------------------------------------------------------ non-finite guard
def nan_at_batch(bad_batch, n_batches=6):
    x = RING.sample(n_batches * BATCH, seed=0)
    x[bad_batch * BATCH + 5] = np.nan
    return tf.data.Dataset.from_tensor_slices(x).batch(BATCH, drop_remainder=True)


def test_nan_stops_at_that_step_and_checkpoints_keep_last_good_weights(tmp_path):
    model = compiled("wgan_gp")
    good = {}

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            good[int(self.model.d_step_count.numpy())] = state(self.model)

    checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "last.weights.h5"), save_weights_only=True,
                                                 save_freq=1)
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"), save_freq=1)
    # Two epochs of 6 batches; a NaN in the 3rd batch of each pass: step 3 fails.
    # (g_loss is still finite: with d_steps=2 the generator is not updated at step 3;
    # so is gp: the input gradient of a piecewise-linear critic does not see the NaN.)
    with pytest.raises(NonFiniteLossError, match=r"at training step 3 \(epoch 1, batch 3\): d_loss=nan\. "
                                                 r"Training stopped") as info:
        model.fit(nan_at_batch(2), epochs=2, verbose=0, callbacks=[checkpoint, backup, Record()])
    assert (info.value.step, info.value.epoch, info.value.batch) == (3, 0, 2)
    assert set(info.value.values) == {"d_loss"}
    assert sorted(good) == [1, 2]                             # later callbacks never saw step 3
    assert not np.all(np.isfinite(model.discriminator.trainable_variables[0].numpy()))
    # ModelCheckpoint's file holds the weights after step 2, all finite.
    saved = compiled("wgan_gp", seed=1)
    saved.load_weights(str(tmp_path / "last.weights.h5"))
    for a, b in zip(state(saved), good[2]):
        np.testing.assert_array_equal(a, b)
    # BackupAndRestore kept its backup (no on_train_end): a new fit resumes from step 2.
    assert (tmp_path / "backup" / "latest.weights.h5").exists()
    resumed = compiled("wgan_gp", seed=1)
    resumed.fit(points(n_batches=1), epochs=1, verbose=0,
                callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path / "backup"), save_freq=1)])
    assert int(resumed.d_step_count.numpy()) == 3
    assert all(np.all(np.isfinite(v)) for v in state(resumed))


def test_guard_is_added_once_first_and_can_be_graceful_or_off():
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)

    # The user's guard is used (its monitor shows in the message, no default one
    # is added) and moved before the other callbacks: Spy never sees batch 2.
    own = TerminateOnNonFinite(monitor=["d_loss"])
    with pytest.raises(NonFiniteLossError, match=r"step 2 \(epoch 1, batch 2\): d_loss=nan\. "):
        compiled("gan").fit(nan_at_batch(1), epochs=1, verbose=0, callbacks=[Spy(), own])
    assert seen == [0]
    model = compiled("gan")
    history = model.fit(nan_at_batch(1), epochs=3, verbose=0, callbacks=[TerminateOnNonFinite(raise_error=False)])
    assert int(model.d_step_count.numpy()) == 2               # graceful stop after step 2
    assert math.isnan(history.history["d_loss"][0]) and len(history.history["d_loss"]) == 1
    model = compiled("gan")
    model.fit(nan_at_batch(1), epochs=1, verbose=0, stop_on_non_finite=False)
    assert int(model.d_step_count.numpy()) == 6               # no guard: trains through NaN


def test_huge_learning_rate_is_caught():
    model = compiled("gan", optimizer=lambda: keras.optimizers.SGD(1e30))
    with pytest.raises(NonFiniteLossError, match=r"Non-finite loss at training step \d+ \(epoch 1, batch \d+\)"):
        model.fit(points(), epochs=3, verbose=0)


# -------------------------------------------------------------- exact resume
class Crash(Exception):
    pass


class Interrupt(keras.callbacks.Callback):
    """Raise after the n-th training batch (counted over epochs), like a crash."""

    def __init__(self, after):
        super().__init__()
        self.after, self.count = after, 0

    def on_train_batch_end(self, batch, logs=None):
        self.count += 1
        if self.count == self.after:
            raise Crash("simulated interruption")


@pytest.mark.parametrize("name", MODELS)
def test_backup_and_restore_resumes_bitwise(name, tmp_path):
    data = data_for(name, n_batches=4)
    reference = compiled(name)
    expected = reference.fit(data, epochs=3, verbose=0).history
    backup = str(tmp_path / "backup")
    model = compiled(name)
    with pytest.raises(Crash):                 # mid-epoch 2 (batch 3 of 4), after epoch 1's backup
        model.fit(data, epochs=3, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt(7)])
    resumed = compiled(name, seed=1)           # a fresh process would start from other weights
    history = resumed.fit(data, epochs=3, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(backup)])
    assert int(resumed.d_step_count.numpy()) == 12
    for a, b in zip(state(reference), state(resumed)):
        np.testing.assert_array_equal(a, b)
    for key, values in history.history.items():   # the two epochs run after the restore
        np.testing.assert_array_equal(values, expected[key][1:])
    assert not os.path.exists(backup)             # deleted at the end of a completed fit


def test_saved_model_continues_the_random_stream(tmp_path):
    model = compiled("gan")
    model.fit(points(), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(loaded.seed_generator.state.numpy(), model.seed_generator.state.numpy())
    shutil.rmtree(tmp_path)


# ----------------------------------------------------------- mixed precision
@pytest.fixture
def mixed_float16():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("name", MODELS)
def test_mixed_precision_trains_with_loss_scaling(name, mixed_float16):
    model = compiled(name)
    assert isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
    dense = [layer for layer in model.generator.layers if isinstance(layer, keras.layers.Dense)]
    assert dense[0].compute_dtype == "float16" and dense[-1].compute_dtype == "float32"
    history = model.fit(data_for(name), epochs=2, verbose=0)
    for key, values in history.history.items():
        assert np.all(np.isfinite(values)), key
    assert all(np.all(np.isfinite(v.numpy())) for v in model.trainable_variables)
    assert np.all(np.isfinite(model.generate(16, seed=0)))
    assert int(model.d_step_count.numpy()) == 12
    # Steps whose scaled gradients overflow are skipped (and the scale halved), others apply.
    assert 0 < int(model.d_optimizer.inner_optimizer.iterations.numpy()) <= 12


def test_mixed_precision_gradients_are_unscaled(mixed_float16):
    # With SGD an unscaled gradient would make steps 2**15 times too large: compare
    # with the float32 run (float16 compute leaves ~1e-3 relative differences).
    model = compiled("gan", optimizer=lambda: keras.optimizers.SGD(0.05))
    model.fit(points(), epochs=2, verbose=0)
    assert float(model.d_optimizer.dynamic_scale.numpy()) == 2.0 ** 15    # no step skipped
    keras.mixed_precision.set_global_policy("float32")
    reference = compiled("gan", optimizer=lambda: keras.optimizers.SGD(0.05))
    reference.fit(points(), epochs=2, verbose=0)
    moved = [np.abs(v.numpy() - w).max() for v, w in zip(reference.trainable_variables,
                                                         [w.numpy() for w in build("gan").trainable_variables])]
    assert max(moved) > 1e-2
    for a, b in zip(reference.trainable_variables, model.trainable_variables):
        np.testing.assert_allclose(b.numpy().astype("float32"), a.numpy(), atol=2e-3)


def test_gradient_penalty_is_float32_under_mixed_precision(mixed_float16):
    critic = architectures.mlp_discriminator(2, units=8, depth=1, name="critic")
    assert critic.layers[1].compute_dtype == "float16"
    real = tf.constant(RING.sample(16, seed=0))
    fake = tf.constant(RING.sample(16, seed=1))
    for value in (kg.penalties.gradient_penalty(critic, real, fake, seed=0),
                  kg.penalties.dragan_penalty(critic, real, seed=0),
                  kg.penalties.r1_penalty(critic, real)):
        assert value.dtype == tf.float32 and np.isfinite(value.numpy())


# ---------------------------------------------------------------------- XLA
# XLA compilation takes ~10 s per model on a 2-core CPU; CI compiles the model
# that exercises the most (the tf.cond generator update and a gradient penalty
# inside one XLA cluster); benchmarks/xla.py trains every model with XLA, and
# KERAS_GAN_FULL_TESTS=1 runs all models here.
XLA_CI = ("wgan_gp",)


@pytest.mark.parametrize("name", MODELS)
def test_xla_trains_every_model(name):
    if name not in XLA_CI and not os.environ.get("KERAS_GAN_FULL_TESTS"):
        pytest.skip("XLA compile is slow on CPU; set KERAS_GAN_FULL_TESTS=1")
    model = compiled(name, jit_compile=True)
    history = model.fit(data_for(name, n_batches=4), epochs=1, verbose=0)
    assert model.jit_compile is True
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    d_steps = model.d_steps
    assert int(model.g_optimizer.iterations.numpy()) == 4 // d_steps


# ----------------------------------------------------------------------- CLI
def cli_train(out, *extra):
    from keras_gan import cli
    return cli.main(["train", "--model", "wgan_gp", "--dataset", "ring8", "--epochs", "3",
                     "--steps-per-epoch", "5", "--batch-size", "32", "--verbose", "0", "--out", str(out),
                     *extra])


def test_cli_resumes_an_interrupted_run_exactly(tmp_path, monkeypatch, capsys):
    import json

    from keras_gan import callbacks
    assert cli_train(tmp_path / "ref") == 0
    assert not (tmp_path / "ref" / "backup").exists()          # deleted when the run completes

    def crash(self, batch, logs=None):                        # Ctrl-C in epoch 3, batch 3
        if int(self.model.d_step_count.numpy()) == 13:
            raise KeyboardInterrupt
    monkeypatch.setattr(callbacks.HistoryJSON, "on_train_batch_end", crash, raising=False)
    assert cli_train(tmp_path / "run") == 130
    monkeypatch.undo()
    # Other arguments are refused (exit 2), --restart would discard the backup.
    assert cli_train(tmp_path / "run", "--seed", "1") == 2
    assert "holds an interrupted run with other arguments (--seed 0 -> 1)" in capsys.readouterr().err
    assert cli_train(tmp_path / "run") == 0                   # resumes from epoch 2
    assert "resuming from" in capsys.readouterr().out
    ref = keras.models.load_model(tmp_path / "ref" / "gan.keras", safe_mode=True)
    run = keras.models.load_model(tmp_path / "run" / "gan.keras", safe_mode=True)
    assert int(run.d_step_count.numpy()) == 15
    for a, b in zip(state(ref), state(run)):
        np.testing.assert_array_equal(a, b)
    history = [json.loads((tmp_path / d / "history.json").read_text()) for d in ("ref", "run")]
    assert history[0] == history[1] and len(history[0]["d_loss"]) == 3


def test_cli_reports_non_finite_loss_in_one_line(tmp_path, capsys):
    assert cli_train(tmp_path, "--learning-rate", "1e30") == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("keras_gan: error: Non-finite loss at training step ") and "\n" not in err


def test_cli_repairs_a_backup_killed_while_writing_its_metadata(tmp_path):
    from keras_gan import cli
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "training_metadata.json").write_text('{"epo')            # torn write
    (backup / "latest.weights.h5").write_text("epoch 2")
    (backup / "training_metadata.json.bkp").write_text('{"epoch": 1, "batch": 0}')
    (backup / "latest.weights.h5.bkp").write_text("epoch 1")
    cli._repair_backup(str(backup))
    assert cli._resume_epoch(str(backup)) == 1
    assert (backup / "latest.weights.h5").read_text() == "epoch 1"
    (backup / "training_metadata.json").write_text("")                 # no earlier pair
    for name in ("training_metadata.json.bkp", "latest.weights.h5.bkp"):
        (backup / name).unlink()
    cli._repair_backup(str(backup))
    assert sorted(p.name for p in backup.iterdir()) == []
