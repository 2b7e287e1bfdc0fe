"""The shared train_step: update schedule, clipping, metrics, save/load, resume, seeds."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gan as kg
from keras_gan import architectures

LATENT = 4


def mlp_pair(seed=0):
    keras.utils.set_random_seed(seed)
    return (architectures.mlp_generator(LATENT, 2, units=16, depth=2),
            architectures.mlp_discriminator(2, units=16, depth=2))


def points(n=64 * 6, seed=0):
    x = kg.data.mixture("ring8").sample(n, seed=seed)
    return tf.data.Dataset.from_tensor_slices(x).batch(64, drop_remainder=True)


def compiled(cls=kg.GAN, seed=0, **kwargs):
    g, d = mlp_pair(seed)
    model = cls(g, d, LATENT, seed=seed, **kwargs)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3, 0.5), g_optimizer=keras.optimizers.Adam(1e-3, 0.5))
    return model


def flat(variables):
    return np.concatenate([np.ravel(v.numpy()) for v in variables])


class WeightLog(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.d, self.g = [], []

    def on_train_begin(self, logs=None):
        self.d.append(flat(self.model.discriminator.trainable_variables))
        self.g.append(flat(self.model.generator.trainable_variables))

    def on_train_batch_end(self, batch, logs=None):
        self.on_train_begin()


@pytest.mark.parametrize("d_steps", [1, 3])
def test_discriminator_every_call_generator_every_d_steps(d_steps):
    model = compiled(d_steps=d_steps)
    log = WeightLog()
    model.fit(points(), epochs=1, verbose=0, callbacks=[log])
    for call in range(1, 7):
        assert not np.array_equal(log.d[call], log.d[call - 1]), f"D unchanged at call {call}"
        g_changed = not np.array_equal(log.g[call], log.g[call - 1])
        assert g_changed == (call % d_steps == 0), f"G update at call {call} with d_steps={d_steps}"
    assert int(model.d_step_count.numpy()) == 6
    assert int(model.g_optimizer.iterations.numpy()) == 6 // d_steps


def test_wgan_weights_stay_clipped_after_every_step():
    model = compiled(kg.WGAN, clip_value=0.01, d_steps=2)

    class ClipCheck(keras.callbacks.Callback):
        maxima = []

        def on_train_batch_end(self, batch, logs=None):
            self.maxima.append(np.abs(flat(self.model.discriminator.trainable_variables)).max())

    model.fit(points(), epochs=1, verbose=0, callbacks=[ClipCheck()])
    assert len(ClipCheck.maxima) == 6
    assert max(ClipCheck.maxima) <= 0.01
    np.testing.assert_allclose(max(ClipCheck.maxima), 0.01)  # Adam's first steps hit the bound


@pytest.mark.parametrize("cls, kwargs, columns", [
    (kg.GAN, {}, {"d_loss", "g_loss"}),
    (kg.WGANGP, {"d_steps": 2}, {"d_loss", "g_loss", "gp"}),
    (kg.DRAGAN, {}, {"d_loss", "g_loss", "dragan_gp"}),
    (kg.GAN, {"penalty": "r1", "penalty_weight": 1.0}, {"d_loss", "g_loss", "r1"}),
])
def test_metrics_are_epoch_means_without_loss_column(cls, kwargs, columns):
    model = compiled(cls, **kwargs)
    model.run_eagerly = True
    # Each step's own values, recorded where the losses are computed.
    steps = {"d": [], "g": []}
    d_losses, g_losses = model.discriminator_losses, model.generator_losses

    def record(kind, fn):
        def wrapped(*args):
            total, logs = fn(*args)
            steps[kind].append({name: float(value) for name, value in logs.items()})
            return total, logs
        return wrapped

    model.discriminator_losses = record("d", d_losses)
    model.generator_losses = record("g", g_losses)

    class BatchLogs(keras.callbacks.Callback):
        seen = []

        def on_train_batch_end(self, batch, logs=None):
            self.seen.append(dict(logs))

    BatchLogs.seen = []
    history = model.fit(points(), epochs=2, verbose=0, callbacks=[BatchLogs()])
    assert set(history.history) == columns
    assert set(m.name for m in model.metrics) == columns
    assert len(steps["d"]) == 12 and len(steps["g"]) == 12 // model.d_steps
    penalty = (columns - {"d_loss", "g_loss"}) or set()
    for epoch in range(2):
        d_steps = steps["d"][6 * epoch:6 * epoch + 6]
        g_steps = steps["g"][len(steps["g"]) // 2 * epoch:len(steps["g"]) // 2 * (epoch + 1)]
        # The epoch value is the mean of that epoch's per-step values ...
        for name in {"d_loss"} | penalty:
            np.testing.assert_allclose(history.history[name][epoch], np.mean([s[name] for s in d_steps]), rtol=1e-6)
        np.testing.assert_allclose(history.history["g_loss"][epoch], np.mean([s["g_loss"] for s in g_steps]),
                                   rtol=1e-6)
        # ... and Keras's per-batch logs are the running means within the epoch.
        for batch in range(6):
            np.testing.assert_allclose(BatchLogs.seen[6 * epoch + batch]["d_loss"],
                                       np.mean([s["d_loss"] for s in d_steps[:batch + 1]]), rtol=1e-6)


def test_save_load_round_trip_and_schedule_resumes(tmp_path):
    model = compiled(kg.WGANGP, d_steps=4)
    model.fit(points(), epochs=1, verbose=0)             # 6 critic steps, generator at step 4
    path = tmp_path / "wgan_gp.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert type(loaded) is kg.WGANGP
    np.testing.assert_array_equal(loaded.generate(16, seed=7), model.generate(16, seed=7))
    assert int(loaded.d_step_count.numpy()) == 6
    assert loaded.d_steps == 4 and loaded.gp_weight == 10.0
    assert int(loaded.g_optimizer.iterations.numpy()) == 1
    np.testing.assert_array_equal(flat(loaded.d_optimizer.variables), flat(model.d_optimizer.variables))
    # The next generator update is at call 8, i.e. the 2nd call after loading.
    log = WeightLog()
    loaded.fit(points(seed=1), epochs=1, verbose=0, callbacks=[log])
    changed = [not np.array_equal(log.g[i], log.g[i - 1]) for i in range(1, 7)]
    assert changed == [False, True, False, False, False, True]   # calls 7..12: G at 8 and 12


def test_same_seed_gives_same_training_and_samples():
    runs = []
    for _ in range(2):
        model = compiled(seed=5)
        model.fit(points(), epochs=1, verbose=0)
        runs.append(model.generate(32, seed=1))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], compiled(seed=5).generate(32, seed=2))


def test_generator_loss_uses_real_batch_for_relativistic_loss():
    model = compiled(loss="relativistic_average")
    history = model.fit(points(), epochs=1, verbose=0)
    assert np.isfinite(history.history["g_loss"][0])


def test_config_is_json():
    model = compiled(kg.DRAGAN, c=0.3, penalty_weight=2.0)
    config = model.get_config()
    json.dumps(config)
    assert config["c"] == 0.3 and "dragan_c" not in config and "penalty" not in config
    clone = kg.DRAGAN.from_config(config)
    assert clone.c == 0.3 and type(clone.penalty) is kg.penalties.DRAGANPenalty and clone.penalty_weight == 2.0
    config = compiled(penalty=kg.penalties.DRAGANPenalty(c=0.7), penalty_weight=3.0).get_config()
    json.dumps(config)
    clone = kg.GAN.from_config(config)
    assert clone.penalty.c == 0.7 and clone.penalty_weight == 3.0


@pytest.mark.parametrize("build, attributes", [
    (lambda g, d: kg.GAN(g, d, LATENT, loss="hinge", penalty="r1", penalty_weight=3.0, d_steps=2, seed=4),
     {"loss_fn.name": "hinge", "penalty.name": "r1", "penalty_weight": 3.0, "d_steps": 2, "seed": 4}),
    (lambda g, d: kg.GAN(g, d, LATENT, penalty=kg.penalties.DRAGANPenalty(c=1.0)),
     {"penalty.c": 1.0, "penalty_weight": 10.0}),
    (lambda g, d: kg.WGAN(g, d, LATENT, clip_value=0.02, d_steps=3, penalty="r1", penalty_weight=0.5),
     {"clip_value": 0.02, "d_steps": 3, "penalty.name": "r1", "penalty_weight": 0.5, "loss_fn.name": "wasserstein"}),
    (lambda g, d: kg.WGANGP(g, d, LATENT, gp_weight=5.0, d_steps=2, loss="hinge"),
     {"penalty_weight": 5.0, "gp_weight": 5.0, "penalty.name": "gradient_penalty", "d_steps": 2,
      "loss_fn.name": "hinge"}),
    (lambda g, d: kg.DRAGAN(g, d, LATENT, penalty_weight=3.0, c=1.0, loss="least_squares"),
     {"penalty_weight": 3.0, "c": 1.0, "penalty.c": 1.0, "loss_fn.name": "least_squares"}),
], ids=["GAN", "GAN-DRAGANPenalty", "WGAN", "WGANGP", "DRAGAN"])
def test_every_constructor_argument_takes_effect_and_survives_the_config(build, attributes):
    def value(model, dotted):
        for part in dotted.split("."):
            model = getattr(model, part)
        return model

    model = build(*mlp_pair())
    clone = type(model).from_config(json.loads(json.dumps(model.get_config())))
    for m in (model, clone):
        assert {key: value(m, key) for key in attributes} == attributes


def test_generate_takes_n_positionally_and_the_rest_by_keyword():
    model = compiled()
    with pytest.raises(TypeError, match=r"GAN.generate\(\) takes n only positionally; pass seed=0 by keyword"):
        model.generate(16, 0)
    z = model.latent_numpy(4, seed=3)
    np.testing.assert_array_equal(model.generate(4, noise=z), model.generate(4, seed=3))
    # Other batch sizes run other kernels: equal within float32 rounding.
    np.testing.assert_allclose(model.generate(4, seed=3, batch_size=3), model.generate(4, seed=3), atol=1e-6)
    with pytest.raises(ValueError, match=r"noise must have shape \(4, 4\)"):
        model.generate(4, noise=np.zeros((4, 3)))


def test_bad_arguments_raise_clear_errors():
    g, d = mlp_pair()
    with pytest.raises(ValueError, match="d_steps must be an integer >= 1"):
        kg.GAN(g, d, LATENT, d_steps=0)
    with pytest.raises(ValueError, match="latent_dim=8 does not match"):
        kg.GAN(g, d, 8)
    with pytest.raises(ValueError, match="clip_value must be > 0"):
        kg.WGAN(g, d, LATENT, clip_value=0)
    with pytest.raises(ValueError, match="Unknown GAN loss"):
        kg.GAN(g, d, LATENT, loss="nonsaturating")
    with pytest.raises(ValueError, match="needs both optimizers"):
        kg.GAN(g, d, LATENT).compile(d_optimizer="adam")


def test_load_model_after_plain_import_in_a_fresh_process(tmp_path):
    """`import keras_gan` alone registers every class, so a new process can load a saved model."""
    import subprocess
    import sys

    path = tmp_path / "dragan.keras"
    compiled(kg.DRAGAN).save(path)
    code = ("import keras, keras_gan\n"
            f"m = keras.models.load_model({str(path)!r}, safe_mode=True)\n"
            "print(type(m).__name__, m.generate(2, seed=0).shape)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "DRAGAN (2, 2)"
