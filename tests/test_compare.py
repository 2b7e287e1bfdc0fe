"""`python -m keras_gan evaluate` and `compare`: files written, values in range, restarts that skip
finished runs, and one-line errors. Tiny budgets (2D, tens of steps): seconds, not quality."""

import csv
import json
import os

import keras
import numpy as np
import pytest

from keras_gan import cli, compare, evaluation

MODE_KEYS = {"modes", "high_quality", "kl", "num_modes", "n", "seed"}


@pytest.fixture(scope="module")
def tiny_compare(tmp_path_factory):
    """A compare of two models, one seed, 30 steps on ring8 (trained once for the module)."""
    out = tmp_path_factory.mktemp("cmp") / "ring8"
    assert cli.main(["compare", "--dataset", "ring8", "--seeds", "1", "--steps", "30", "--out", str(out),
                     "--models", "non_saturating", "wgan_gp"]) == 0
    return out


def test_compare_writes_table_csv_figure(tiny_compare):
    out = tiny_compare
    assert {"table.md", "runs.csv", "samples.png", "runs"} <= set(os.listdir(out))
    assert sorted(os.listdir(out / "runs")) == ["non_saturating_seed0", "wgan_gp_seed0"]
    table = (out / "table.md").read_text()
    assert "| GAN (non_saturating) | Adam 0.001 → 0 (linear) | 1 | 30 | 2 | 256 |" in table
    assert "| WGAN-GP | Adam 0.001 → 0 (linear), gp_weight 0.1 | 5 | 30 | 2 | 256 |" in table
    assert "python -m keras_gan compare --dataset ring8 --seeds 1" in table
    with open(out / "runs.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["model_id"] for r in rows] == ["non_saturating", "wgan_gp"]
    assert {r["setting_steps"] for r in rows} == {"30"} and {r["num_modes"] for r in rows} == {"8"}
    for r in rows:
        assert 0 <= int(r["modes"]) <= 8 and 0.0 <= float(r["high_quality"]) <= 1.0
    assert (out / "samples.png").stat().st_size > 1000


def test_restart_skips_finished_runs(tiny_compare, monkeypatch):
    out = tiny_compare
    metrics_file = out / "runs" / "wgan_gp_seed0" / "metrics.json"
    before = metrics_file.stat().st_mtime_ns
    calls = []
    real_train_run = compare.train_run
    monkeypatch.setattr(compare, "train_run", lambda *a, **k: calls.append(a[:3]) or real_train_run(*a, **k))
    args = ["compare", "--dataset", "ring8", "--seeds", "1", "--out", str(out)]
    # Same budget: nothing is retrained, the outputs are rewritten from the stored runs.
    assert cli.main(args + ["--steps", "30", "--models", "non_saturating", "wgan_gp"]) == 0
    assert calls == [] and metrics_file.stat().st_mtime_ns == before
    # A new model is trained, the finished ones are not.
    assert cli.main(args + ["--steps", "30", "--models", "hinge", "wgan_gp"]) == 0
    assert [c[0] for c in calls] == ["hinge"] and metrics_file.stat().st_mtime_ns == before
    # A different budget is a different run: it is retrained.
    assert cli.main(args + ["--steps", "20", "--models", "hinge"]) == 0
    assert [c[0] for c in calls] == ["hinge", "hinge"]
    assert json.loads((out / "runs" / "hinge_seed0" / "run.json").read_text())["settings"]["steps"] == 20


def test_a_run_that_diverges_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    """hinge's discriminator loss is made NaN from about its 5th step: TerminateOnNonFinite stops that run,
    compare records it (NaN metrics, the step) and trains the next model; a restart skips it."""
    real_build = compare.recipes.build

    def build(*args, **kwargs):
        model, batch_size = real_build(*args, **kwargs)
        if kwargs.get("loss") == "hinge":
            original = model.discriminator_losses

            def nan_after_four(*a):
                total, logs = original(*a)
                nan = keras.ops.where(model.d_step_count >= 4, float("nan"), 0.0)
                return total + nan, {**logs, "d_loss": logs["d_loss"] + nan}
            model.discriminator_losses = nan_after_four
        return model, batch_size

    monkeypatch.setattr(compare.recipes, "build", build)
    out = tmp_path / "ring8"
    args = ["compare", "--dataset", "ring8", "--seeds", "1", "--steps", "30", "--out", str(out),
            "--models", "hinge", "non_saturating"]
    assert cli.main(args) == 0
    stored = json.loads((out / "runs" / "hinge_seed0" / "metrics.json").read_text())
    # (2D runs do several steps per tf.function call, so the check sees the NaN a little later)
    assert 5 <= stored["diverged_at_step"] <= 30 and stored["diverged"].startswith("Non-finite loss")
    assert all(np.isnan(stored[k]) for k in ("modes", "high_quality", "kl"))
    assert not (out / "runs" / "hinge_seed0" / "samples.npy").exists()
    healthy = json.loads((out / "runs" / "non_saturating_seed0" / "metrics.json").read_text())
    assert 0 <= healthy["modes"] <= 8
    table = (out / "table.md").read_text()
    assert "| GAN (hinge) |" in table and "| n/a | n/a | n/a |" in table and "1 (1 diverged to NaN) |" in table
    assert (out / "samples.png").stat().st_size > 1000
    monkeypatch.setattr(compare, "train_run", lambda *a, **k: pytest.fail("retrained a finished run"))
    assert cli.main(args) == 0


def test_evaluate_run_dir_writes_metrics_json(tiny_compare, capsys):
    run_dir = tiny_compare / "runs" / "non_saturating_seed0"
    trained = json.loads((run_dir / "metrics.json").read_text())
    assert cli.main(["evaluate", str(run_dir), "--seed", "3"]) == 0
    result = json.loads((run_dir / "metrics.json").read_text())
    assert result["train_seconds"] == trained["train_seconds"]  # compare's timing is kept
    assert MODE_KEYS <= set(result)
    assert result["dataset"] == "ring8" and result["n"] == 2500 and result["seed"] == 3
    assert result["num_modes"] == 8 and 0 <= result["modes"] <= 8 and 0.0 <= result["high_quality"] <= 1.0
    assert np.isfinite(result["kl"]) or result["modes"] == 0
    assert "ring8: " in capsys.readouterr().out


def test_evaluate_bare_generator_needs_the_mixture(tiny_compare, tmp_path, capsys):
    generator = tiny_compare / "runs" / "wgan_gp_seed0" / "generator.keras"
    copy = tmp_path / "g.keras"  # no run.json beside it
    copy.write_bytes(generator.read_bytes())
    assert cli.main(["evaluate", str(copy), "--n", "500"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--dataset ring8 or --dataset grid25" in err[0]
    assert cli.main(["evaluate", str(copy), "--n", "500", "--dataset", "ring8"]) == 0
    assert json.loads((tmp_path / "metrics.json").read_text())["n"] == 500


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="needs dataset-fashion-mnist")
def test_evaluate_image_generator_keys_and_ranges(tmp_path, monkeypatch):
    # The plumbing, not the reference: 300 test images stand in for the 10,000 (whose features,
    # and the train-vs-test floor, take ~20 s on a busy CPU).
    from keras_gan import architectures, data, metrics
    test_images = data.to_float(data.load_arrays("fashion_mnist", "test")[0][:300])
    monkeypatch.setattr(metrics, "_test_features", lambda: metrics.features(test_images))
    monkeypatch.setattr(metrics, "frechet_floor", lambda: 1.5)
    path = tmp_path / "generator.keras"
    architectures.dcgan_generator(64).save(path)
    assert cli.main(["evaluate", str(path), "--n", "100"]) == 0
    result = json.loads((tmp_path / "metrics.json").read_text())
    assert {"frechet_distance", "frechet_floor", "precision", "recall", "density", "coverage",
            "class_histogram", "classes_covered", "n", "seed", "dataset"} <= set(result)
    assert result["dataset"] == "fashion_mnist" and result["n"] == 100 and result["frechet_floor"] == 1.5
    assert result["frechet_distance"] > 0 and len(result["class_histogram"]) == 10
    np.testing.assert_allclose(sum(result["class_histogram"]), 1.0)
    for key in ("precision", "recall", "coverage"):
        assert 0.0 <= result[key] <= 1.0
    assert 1 <= result["classes_covered"] <= 10


def test_model_grids_one_png_per_model_pixel_exact(tmp_path):
    import matplotlib.image
    rng = np.random.default_rng(0)
    samples = rng.integers(0, 256, (60, 28, 28, 1), dtype=np.uint8)
    (tmp_path / "runs" / "hinge_seed0").mkdir(parents=True)
    np.save(tmp_path / "runs" / "hinge_seed0" / "samples.npy", samples)
    results = {"hinge": [{"seed": 0}], "wgan": [{"seed": 0, "diverged_at_step": 7}]}
    compare.write_model_grids(results, str(tmp_path))
    assert os.listdir(tmp_path / "grids") == ["hinge.png"]  # nothing for a run that diverged
    png = matplotlib.image.imread(tmp_path / "grids" / "hinge.png")
    assert png.shape[:2] == (6 * 29 - 1, 10 * 29 - 1)
    # image 13 sits in row 1, column 3; grey levels come back within one 8-bit step
    np.testing.assert_allclose(png[29:57, 87:115, 0], samples[13, ..., 0] / 255, atol=1 / 255 + 1e-6)
    assert np.all(png[28, :, 0] == 1.0)  # the white padding between rows


def test_linear_decay_reaches_zero_at_the_end_of_the_budget():
    from keras_gan import data, recipes
    model, _ = recipes.build("wgan_gp", "ring8", seed=0, learning_rate=1e-3, latent_dim=2)
    seen = []

    class Record(compare.keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append((float(model.d_optimizer.learning_rate), float(model.g_optimizer.learning_rate)))

    decay, record = compare.LinearDecay(20), Record()
    model.fit(data.mixture("ring8").dataset(64, steps_per_epoch=None, seed=0), epochs=2, steps_per_epoch=10,
              callbacks=[decay, record], verbose=0)
    expected = 1e-3 * (1 - np.arange(20) / 20)  # set before step k (k = 0..19) from the step counter
    np.testing.assert_allclose(np.array(seen), np.stack([expected, expected], 1), rtol=1e-5)


def test_train_classifier_command_passes_its_arguments(tmp_path, monkeypatch):
    from keras_gan import metrics
    calls = []
    monkeypatch.setattr(metrics, "train_classifier", lambda **kw: calls.append(kw) or 0.9)
    assert cli.main(["train-classifier", "--out", str(tmp_path / "c.keras"), "--epochs", "2"]) == 0
    assert cli.main(["train-classifier"]) == 0
    assert calls == [{"out_path": str(tmp_path / "c.keras"), "epochs": 2},
                     {"out_path": metrics.DEFAULT_PATH, "epochs": 8}]


def test_sample_gives_conditional_models_balanced_labels():
    class Conditional:
        uses_labels, num_classes = True, 4

        def generate(self, n, labels=None, seed=None):
            return np.asarray(labels)

    np.testing.assert_array_equal(evaluation.sample(Conditional(), 10), [0, 1, 2, 3, 0, 1, 2, 3, 0, 1])


@pytest.mark.parametrize("args, message", [
    (["compare", "--dataset", "cifar10", "--out", "{tmp}"], "compare supports ring8, grid25, fashion_mnist"),
    (["compare", "--dataset", "fashion_mnist", "--steps", "5", "--out", "{tmp}"], "--steps is the 2D budget"),
    (["compare", "--dataset", "grid25", "--epochs", "1", "--out", "{tmp}"], "the 2D mixtures take --steps"),
    (["compare", "--dataset", "grid25", "--models", "vae", "--out", "{tmp}"], "unknown --models vae; valid:"),
    (["evaluate", "{tmp}/missing"], "does not exist"),
    (["evaluate", "{tmp}", "--dataset", "mnist"], "--dataset 'mnist' has no metrics"),
])
def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys, args, message):
    assert cli.main([a.replace("{tmp}", str(tmp_path)) for a in args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("keras_gan: error: ")


def test_bad_seeds_rejected_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit, match="2"):
        cli.main(["compare", "--dataset", "ring8", "--seeds", "0", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--seeds: must be >= 1, got 0" in err[0]


def test_a_run_with_a_generator_ema_is_evaluated_with_and_without_it(tmp_path, monkeypatch):
    """The same run gives the table's row (its generator, the same numbers as a run without
    the EMA) and the row of its average (``*_ema`` keys, samples_ema.npy, a dashed curve)."""
    args = ["compare", "--dataset", "ring8", "--seeds", "1", "--steps", "40", "--models", "non_saturating"]
    assert cli.main(args + ["--out", str(tmp_path / "plain")]) == 0
    monkeypatch.setitem(compare.MIXTURE_SETTINGS, "non_saturating", compare.Settings(ema=0.9))
    out = tmp_path / "averaged"
    assert cli.main(args + ["--out", str(out)]) == 0
    run_dir = out / "runs" / "non_saturating_seed0"
    plain = json.loads((tmp_path / "plain" / "runs" / "non_saturating_seed0" / "metrics.json").read_text())
    averaged = json.loads((run_dir / "metrics.json").read_text())
    assert json.loads((run_dir / "run.json").read_text())["settings"]["generator_ema"] == 0.9
    for key in ("modes", "high_quality", "kl"):     # the average did not change the training
        assert averaged[key] == pytest.approx(plain[key], abs=1e-6, nan_ok=True)
        assert key + "_ema" in averaged
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history["modes_ema"]) == len(history["modes"]) == compare.MIXTURE_CURVE_POINTS
    assert not np.allclose(np.load(run_dir / "samples.npy"), np.load(run_dir / "samples_ema.npy"))
    table = (out / "table.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| GAN (non_saturating")]
    assert len(rows) == 4 and "generator EMA 0.9 |" in rows[1]    # table and reproduce table, 2 rows each
    assert "the runs of the row above" in rows[3]
    # `evaluate` samples from the average.
    assert cli.main(["evaluate", str(run_dir)]) == 0
    evaluated = json.loads((run_dir / "metrics.json").read_text())
    assert evaluated["generator_ema"]["decay"] == 0.9
    assert evaluated["modes"] == averaged["modes_ema"] and evaluated["high_quality"] == averaged["high_quality_ema"]


def test_published_ranking_ranks_both_studies_and_their_spearman_correlation():
    # ours in the reverse of Lucic et al.'s order for 3 models, equal for the 4th: rho by hand
    results = {"wgan": [{"frechet_distance": 9.0}], "began": [{"frechet_distance": 7.0}],
               "wgan_gp": [{"frechet_distance": 5.0}, {"frechet_distance": 7.0}],
               "minimax": [{"frechet_distance": 20.0}], "hinge": [{"frechet_distance": 1.0}]}
    text = compare.published_ranking(results)
    # theirs: wgan 1, began 2, wgan_gp 3, minimax 4; ours: wgan_gp 6.0 -> 1, began 2, wgan 3, minimax 4
    assert "| WGAN (clipping) | 21.5 (1) | 9.00 (3) | 1 |" in text
    assert "| WGAN-GP | 24.5 (3) | 6.00 (1) | 2 |" in text
    assert "| BEGAN | 22.9 (2) | 7.00 (2) | 1 |" in text
    assert "hinge" not in text  # not in Lucic et al.'s study
    # d = (2, 0, -2, 0): rho = 1 - 6 * 8 / (4 * 15) = 0.2
    assert "Spearman rank correlation: +0.20 (n = 4)." in text
    assert compare.published_ranking({"wgan": results["wgan"], "began": results["began"]}) == ""
