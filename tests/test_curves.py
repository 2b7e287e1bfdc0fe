"""Training curves of `compare` runs: QualityCurve's points and loss means, the image budget's
quarter-epoch points, and the float16 generator that compare commits for the notebooks."""

import json

import keras
import numpy as np

import keras_gan as kg
from keras_gan import compare, evaluation, recipes


class PerStep(keras.callbacks.Callback):
    """Recovers each step's value from the running epoch means Keras logs."""

    def __init__(self, key):
        super().__init__()
        self.key, self.values, self.logs = key, [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.n, self.mean = 0, 0.0

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(float(logs[self.key]))
        mean = float(logs[self.key])
        self.n += 1
        self.values.append(self.n * mean - (self.n - 1) * self.mean)
        self.mean = mean


def _tiny(d_steps=1):
    model, _ = recipes.build("wgan_gp", "ring8", seed=0, d_steps=d_steps)
    return model


def test_quality_curve_points_and_loss_means_over_each_interval(tmp_path):
    model = _tiny(d_steps=2)
    seen = []
    curve = kg.callbacks.QualityCurve([3, 6, 8], lambda m: seen.append(1) or {"q": float(len(seen))},
                                      steps_per_epoch=4, path=str(tmp_path / "h.json"))
    d, g = PerStep("d_loss"), PerStep("g_loss")
    data = kg.data.mixture("ring8").dataset(32, steps_per_epoch=None, seed=0)
    model.fit(data, epochs=2, steps_per_epoch=4, callbacks=[curve, d, g], verbose=0)
    h = curve.history
    assert h["step"] == [3, 6, 8] and h["q"] == [1.0, 2.0, 3.0]
    np.testing.assert_allclose(h["epoch"], [0.75, 1.5, 2.0])
    # d_loss: a value every step; the point at step 6 averages steps 5-6 (the epoch reset at 4:
    # step 4 belongs to the first epoch's interval, which the point at 3 closed).
    np.testing.assert_allclose(h["d_loss"], [np.mean(d.values[0:3]), np.mean(d.values[4:6]),
                                             np.mean(d.values[6:8])], rtol=1e-5)
    # g_loss: updated on even steps only, so each point averages the updates since the last one:
    # step 2's value; step 6's (the first update of epoch 2); step 8's = 2 m(8) - m(6).
    running = g.logs
    np.testing.assert_allclose(h["g_loss"], [running[1], running[5], 2 * running[7] - running[5]],
                               rtol=1e-5)
    assert json.load(open(tmp_path / "h.json")) == json.loads(json.dumps(h))
    assert h["seconds"][0] > 0 and h["seconds"] == sorted(h["seconds"])


def test_image_budget_has_a_point_every_quarter_epoch():
    settings = compare.settings_for("non_saturating", "fashion_mnist")
    assert settings.epochs == compare.IMAGE_EPOCHS == 5
    _, epochs, steps, points, per_epoch = compare._dataset("fashion_mnist", 64, 0, False, settings)
    assert (epochs, steps, per_epoch) == (5, 937, 937)
    assert len(points) == 20 and points[0] == 234 and points[-1] == 4685
    assert np.all(np.diff(points) >= 234)


def test_quick_quality_on_a_mixture_matches_the_protocol():
    model = _tiny()
    model.fit(kg.data.mixture("ring8").dataset(64, steps_per_epoch=None, seed=0), epochs=1,
              steps_per_epoch=30, verbose=0)
    quick = evaluation.quick_quality(model, "ring8", seed=3)
    full, _ = evaluation.evaluate_model(model, "ring8", seed=3)
    assert sorted(quick) == ["high_quality", "kl", "modes", "w1"]
    np.testing.assert_equal([quick[k] for k in ("high_quality", "kl", "modes")],
                            [full[k] for k in ("high_quality", "kl", "modes")])
    assert 0 < quick["w1"] < 10


def test_wasserstein_1_against_hand_computed_assignments():
    a = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0]])
    b = np.array([[0.0, 3.0], [0.0, 0.5], [1.0, 0.0]])
    # optimal: (0,0)->(0,0.5) 0.5, (1,0)->(1,0) 0, (0,3)->(0,3) 0
    np.testing.assert_allclose(kg.metrics.wasserstein_1(a, b), 0.5 / 3, rtol=1e-12)
    shifted = np.random.default_rng(0).normal(size=(200, 2))
    np.testing.assert_allclose(kg.metrics.wasserstein_1(shifted, shifted + [3.0, 4.0]), 5.0, rtol=1e-12)
    mixture = kg.data.mixture("grid25")
    collapsed = np.zeros((1000, 2))  # every sample on the centre mode
    assert kg.metrics.mixture_wasserstein_1(collapsed, mixture) > 2.0
    # two samples of the grid itself: ~0.33, the finite-sample floor (the modes' counts differ by
    # multinomial noise, and moving that excess between modes costs 2 per unit)
    assert kg.metrics.mixture_wasserstein_1(mixture.sample(1000, seed=5), mixture) < 0.5


def test_committed_float16_generator_reloads_the_trained_generator(tmp_path):
    out = tmp_path / "cmp"
    compare.compare("ring8", 1, str(out), models=["cgan"], steps=20, log=lambda *a: None)
    run_dir = out / "runs" / "cgan_seed0"
    assert (run_dir / "generator_f16.npz").is_file()
    history = json.load(open(run_dir / "history.json"))
    assert history["step"] == list(range(1, 21))
    trained = keras.models.load_model(run_dir / "gan.keras")
    reloaded = compare.load_run(str(run_dir))
    labels = np.arange(50) % 8
    np.testing.assert_allclose(reloaded.generate(50, labels=labels, seed=1),
                               trained.generate(50, labels=labels, seed=1), atol=2e-2)
    table = (out / "table.md").read_text()
    assert "--models cgan" in table and "reproduce with" in table
