"""Tests for keras_gan.metrics: exact values on hand-built inputs, brute-force references for the
chunked k-NN metrics, and the committed Fashion-MNIST classifier."""

import os
import types

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from keras_gan import metrics

# --------------------------------------------------------------------------------------------
# Frechet distance
# --------------------------------------------------------------------------------------------

M1, M2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 3.0, -2.0])
S1, S2 = np.array([1.0, 4.0, 0.25]), np.array([4.0, 1.0, 0.25])
# sum((m1-m2)^2) + sum((sqrt(s1)-sqrt(s2))^2) = (1 + 4 + 0) + (1 + 1 + 0) = 7
EXPECTED = 7.0


def test_gaussian_closed_form_diagonal():
    expected = np.sum((M1 - M2) ** 2) + np.sum((np.sqrt(S1) - np.sqrt(S2)) ** 2)
    np.testing.assert_allclose(expected, EXPECTED)
    fd = metrics.gaussian_frechet_distance(M1, np.diag(S1), M2, np.diag(S2))
    np.testing.assert_allclose(fd, EXPECTED, rtol=1e-12)


def test_gaussian_closed_form_rotated_covariances():
    # Commuting covariances R diag(s) R^T: the distance is rotation invariant.
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    c1, c2 = q @ np.diag(S1) @ q.T, q @ np.diag(S2) @ q.T
    fd = metrics.gaussian_frechet_distance(q @ M1, c1, q @ M2, c2)
    np.testing.assert_allclose(fd, EXPECTED, rtol=1e-10)


def test_gaussian_closed_form_scalar_and_self():
    np.testing.assert_allclose(metrics.gaussian_frechet_distance(0.0, 4.0, 3.0, 1.0), 9.0 + 1.0)
    np.testing.assert_allclose(metrics.gaussian_frechet_distance(M1, np.diag(S1), M1, np.diag(S1)),
                               0.0, atol=1e-12)


def test_sample_frechet_distance_matches_closed_form():
    rng = np.random.default_rng(1)
    n = 200_000
    a = M1 + np.sqrt(S1) * rng.normal(size=(n, 3))
    b = M2 + np.sqrt(S2) * rng.normal(size=(n, 3))
    np.testing.assert_allclose(metrics.frechet_distance(a, b), EXPECTED, rtol=0.01)


def test_identical_sets_give_zero():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1000, 16)) @ rng.normal(size=(16, 16))
    np.testing.assert_allclose(metrics.frechet_distance(x, x), 0.0, atol=1e-8)


def test_rank_deficient_features_give_finite_real_value():
    # 4-d Gaussians embedded isometrically in 32-d: the 32x32 covariances have rank 4, yet the
    # distance must equal that of the 4-d problem (means and covariances transform as Q^T . Q).
    rng = np.random.default_rng(4)
    q = np.linalg.qr(rng.normal(size=(32, 4)))[0].T  # (4, 32), orthonormal rows
    a4 = rng.normal(size=(500, 4)) * [1.0, 2.0, 0.5, 1.0]
    b4 = rng.normal(size=(500, 4)) + 0.5
    fd = metrics.frechet_distance(a4 @ q, b4 @ q)
    assert isinstance(fd, float) and np.isfinite(fd)
    np.testing.assert_allclose(fd, metrics.frechet_distance(a4, b4), rtol=1e-6)
    np.testing.assert_allclose(metrics.frechet_distance(a4 @ q, a4 @ q), 0.0, atol=1e-6)


def test_non_finite_sqrtm_retries_with_eps(monkeypatch):
    calls, sqrtm = [], metrics.linalg.sqrtm

    def flaky_sqrtm(a):
        calls.append(a)
        return np.full_like(a, np.nan) if len(calls) == 1 else sqrtm(a)

    monkeypatch.setattr(metrics.linalg, "sqrtm", flaky_sqrtm)
    fd = metrics.gaussian_frechet_distance(M1, np.diag(S1), M2, np.diag(S2), eps=1e-3)
    np.testing.assert_allclose(calls[1], np.diag((S1 + 1e-3) * (S2 + 1e-3)))
    expected = np.sum((M1 - M2) ** 2) + np.sum(S1 + S2 - 2 * np.sqrt((S1 + 1e-3) * (S2 + 1e-3)))
    np.testing.assert_allclose(fd, expected, rtol=1e-12)


def test_large_imaginary_part_raises():
    # cov2 = -I is not a covariance: sqrtm(-I) = iI is genuinely complex.
    with pytest.raises(ValueError, match="imaginary"):
        metrics.gaussian_frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), -np.eye(2))


def test_frechet_shape_errors():
    with pytest.raises(ValueError):
        metrics.frechet_distance(np.zeros((10, 3)), np.zeros((10, 4)))


# --------------------------------------------------------------------------------------------
# Precision / recall, density / coverage
# --------------------------------------------------------------------------------------------

def _reference(real, fake, k):
    """Brute-force O(N^2) reference of all four k-NN metrics."""
    rr, ff, rf = cdist(real, real), cdist(fake, fake), cdist(real, fake)
    r_real = np.sort(rr, axis=1)[:, k]   # column 0 is the point itself
    r_fake = np.sort(ff, axis=1)[:, k]
    inside = rf <= r_real[:, None]       # (real i, fake j): fake_j in B(real_i)
    precision = inside.any(axis=0).mean()
    recall = (rf <= r_fake[None, :]).any(axis=1).mean()
    density = inside.sum() / (k * len(fake))
    coverage = inside.any(axis=1).mean()
    return precision, recall, density, coverage


# real points on a line at 0, 1, 3, 30, 31; k = 1 radii 1, 1, 2, 1, 1.
# fake at 0.5, 2.5, 10, 1.5; k = 1 radii 1, 1, 7.5, 1.
LINE_REAL = np.array([[0.0, 0], [1, 0], [3, 0], [30, 0], [31, 0]])
LINE_FAKE = np.array([[0.5, 0], [2.5, 0], [10, 0], [1.5, 0]])


def test_hand_computed_example():
    # precision: 0.5, 2.5 and 1.5 lie in a real ball, 10 does not -> 3/4.
    # recall: 0, 1, 3 lie in a fake ball; 30, 31 are 20+ from 10 (radius 7.5) -> 3/5.
    # density: fake 0.5 is in the balls of 0 and 1, 2.5 in 3's, 10 in none, 1.5 in 1's and 3's
    #          -> (2 + 1 + 0 + 2) / (k=1 * 4) = 1.25.
    # coverage: the balls of 0, 1, 3 contain a fake point, 30's and 31's do not -> 3/5.
    np.testing.assert_allclose(metrics.precision_recall(LINE_REAL, LINE_FAKE, k=1), (0.75, 0.6))
    np.testing.assert_allclose(metrics.density_coverage(LINE_REAL, LINE_FAKE, k=1), (1.25, 0.6))
    np.testing.assert_allclose(_reference(LINE_REAL, LINE_FAKE, 1), (0.75, 0.6, 1.25, 0.6))


def test_identical_sets():
    x = np.random.default_rng(5).normal(size=(300, 8))
    np.testing.assert_allclose(metrics.precision_recall(x, x, k=3), (1.0, 1.0))
    density, coverage = metrics.density_coverage(x, x, k=5)
    np.testing.assert_allclose(coverage, 1.0)
    # Each ball holds its centre and its k nearest neighbours (no ties), so every ball counts
    # k + 1 fake points: density = N (k + 1) / (k N) = 6/5 exactly.
    np.testing.assert_allclose(density, 6 / 5)
    np.testing.assert_allclose(density, _reference(x, x, 5)[2])


def test_independent_samples_of_one_distribution():
    # Naeem et al.: E[density] = 1 and E[coverage] = 1 - (1/2)^k for M = N (large N).
    rng = np.random.default_rng(8)
    real, fake = rng.normal(size=(2000, 2)), rng.normal(size=(2000, 2))
    np.testing.assert_allclose(metrics.density_coverage(real, fake, k=5), (1.0, 1 - 0.5**5),
                               atol=0.02)


def test_disjoint_sets_are_all_zero():
    rng = np.random.default_rng(6)
    real, fake = rng.normal(size=(200, 8)), rng.normal(size=(150, 8)) + 100.0
    np.testing.assert_array_equal(metrics.precision_recall(real, fake), (0.0, 0.0))
    np.testing.assert_array_equal(metrics.density_coverage(real, fake), (0.0, 0.0))


@pytest.mark.parametrize("rows", [1, 7, 10_000])
def test_chunked_matches_brute_force(monkeypatch, rows):
    monkeypatch.setattr(metrics, "_chunk_rows", lambda n_cols: rows)
    rng = np.random.default_rng(7)
    real, fake = rng.normal(size=(120, 5)), 1.2 * rng.normal(size=(90, 5)) + 0.3
    ref = _reference(real, fake, 3)
    got = metrics.precision_recall(real, fake, k=3) + metrics.density_coverage(real, fake, k=3)
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    # One pass with different k for precision/recall and density/coverage.
    out = metrics.knn_metrics(real, fake, k_pr=2, k_dc=4)
    expected = _reference(real, fake, 2)[:2] + _reference(real, fake, 4)[2:]
    np.testing.assert_allclose([out["precision"], out["recall"], out["density"], out["coverage"]],
                               expected, rtol=1e-12)


def test_chunk_budget():
    # A 10,000-column block is capped at 64 MiB of float64.
    assert metrics._chunk_rows(10_000) * 10_000 * 8 <= 64 * 2**20
    np.testing.assert_array_equal(metrics._chunk_rows(10_000), 838)


def test_knn_k_out_of_range():
    with pytest.raises(ValueError, match="k must be"):
        metrics.precision_recall(np.zeros((3, 2)), np.zeros((3, 2)), k=3)


# --------------------------------------------------------------------------------------------
# 2D mode coverage
# --------------------------------------------------------------------------------------------

SQUARE = types.SimpleNamespace(centers=np.array([[0.0, 0], [1, 0], [0, 1], [1, 1]], np.float32),
                               std=0.01)


def test_exact_centers_cover_all_modes():
    out = metrics.mode_coverage(np.repeat(SQUARE.centers, 5, axis=0), SQUARE)
    assert out == {"modes": 4, "high_quality": 1.0, "kl": 0.0, "num_modes": 4}


def test_single_mode_collapse():
    out = metrics.mode_coverage(np.tile(SQUARE.centers[2], (50, 1)), SQUARE)
    np.testing.assert_allclose(out["kl"], np.log(4.0))
    assert (out["modes"], out["high_quality"], out["num_modes"]) == (1, 1.0, 4)


def test_far_samples_are_low_quality():
    out = metrics.mode_coverage(np.full((20, 2), 10.0), SQUARE)
    assert (out["modes"], out["high_quality"], out["num_modes"]) == (0, 0.0, 4)
    assert np.isnan(out["kl"])


def test_mixed_example_by_hand():
    s = SQUARE.std
    samples = np.array([[0, 0], [0, 0], [1, 0], [1 + 2.9 * s, 0], [0, 1 + 3.1 * s]])
    # high quality: the first four (the last is 3.1 sigma out); histogram (2, 2, 0, 0) / 4
    # kl = 2 * 0.5 * log(4 * 0.5) = log 2
    out = metrics.evaluate_mixture(samples, SQUARE)
    np.testing.assert_allclose([out["modes"], out["high_quality"], out["kl"]],
                               [2, 0.8, np.log(2.0)])
    # A looser threshold admits the fifth sample: histogram (2, 2, 1, 0) / 5
    out = metrics.mode_coverage(samples, SQUARE, threshold_sigmas=3.5)
    p = np.array([0.4, 0.4, 0.2])
    np.testing.assert_allclose([out["modes"], out["high_quality"], out["kl"]],
                               [3, 1.0, np.sum(p * np.log(4 * p))])


def test_mode_coverage_on_project_mixture():
    data = pytest.importorskip("keras_gan.data")
    if not hasattr(data, "mixture"):
        pytest.skip("keras_gan.data.mixture not available")
    mix = data.mixture("grid25")
    out = metrics.mode_coverage(mix.sample(2500, seed=0), mix)
    # True samples: every mode covered; 3 sigma in 2D keeps 1 - exp(-4.5) = 98.9% on average.
    assert (out["modes"], out["num_modes"]) == (25, 25)
    np.testing.assert_allclose(out["high_quality"], 1 - np.exp(-4.5), atol=0.005)
    np.testing.assert_allclose(out["kl"], 0.0, atol=0.02)


# --------------------------------------------------------------------------------------------
# The Fashion-MNIST classifier and the image metrics
# --------------------------------------------------------------------------------------------

TEST_ACCURACY = 0.9159  # printed by metrics.train_classifier() for the committed weights
FRECHET_FLOOR = 0.11426  # metrics.frechet_floor() with the committed weights


@pytest.fixture(scope="module")
def test_set():
    data = pytest.importorskip("keras_gan.data")
    images, labels = data.load_arrays("fashion_mnist", "test")
    return data.to_float(images), labels


def test_weights_are_committed_and_small():
    assert os.path.isfile(metrics.DEFAULT_PATH)
    assert os.path.getsize(metrics.DEFAULT_PATH) < 2 * 2**20


def test_classifier_accuracy(test_set):
    images, labels = test_set
    accuracy = float(np.mean(metrics.classify(images) == labels))
    assert accuracy >= 0.90
    np.testing.assert_allclose(accuracy, TEST_ACCURACY, atol=0.002)


def test_features_shape_and_input_checks(test_set):
    images, _ = test_set
    feats = metrics.features(images[:37], batch_size=16)
    assert feats.shape == (37, 128) and feats.dtype == np.float32
    np.testing.assert_allclose(metrics.features(images[:37, ..., 0]), feats, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="to_float"):
        metrics.features(np.zeros((2, 28, 28, 1), np.uint8))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        metrics.features(np.full((2, 28, 28, 1), 255.0, np.float32))


def test_evaluate_images_on_real_data(test_set):
    images, labels = test_set
    real, fake = images[:1000], images[:1000]
    out = metrics.evaluate_images(fake, real_images=real)
    np.testing.assert_allclose(out["frechet_distance"], 0.0, atol=1e-6)
    np.testing.assert_allclose([out[k] for k in ("precision", "recall", "coverage")], 1.0)
    hist = np.bincount(metrics.classify(fake), minlength=10) / 1000
    np.testing.assert_allclose(out["class_histogram"], hist)
    np.testing.assert_allclose(metrics.class_histogram(fake), hist)
    assert out["classes_covered"] == 10
    # Trousers only (class 1): about one real ball in ten is covered, one class is covered.
    trousers = images[1000:3000][labels[1000:3000] == 1]
    collapsed = metrics.evaluate_images(trousers, real_images=real)
    np.testing.assert_allclose(collapsed["class_histogram"][1], 1.0, atol=0.03)
    np.testing.assert_allclose(collapsed["classes_covered"], 1)
    np.testing.assert_allclose([collapsed["recall"], collapsed["coverage"]], [0.1, 0.1], atol=0.05)


def test_evaluate_images_default_reference_and_floor(test_set):
    images, _ = test_set
    fake = images[:2000]
    out = metrics.evaluate_images(fake)  # against all 10,000 test images
    np.testing.assert_allclose(out["precision"], 1.0)  # every fake image is one of the real ones
    expected = metrics.frechet_distance(metrics.features(images), metrics.features(fake))
    np.testing.assert_allclose(out["frechet_distance"], expected)
    floor = metrics.frechet_floor()
    np.testing.assert_allclose(floor, FRECHET_FLOOR, rtol=1e-3)
    assert metrics.frechet_floor() is floor  # cached


def test_train_classifier_smoke(monkeypatch, tmp_path):
    # The full run (60k images, 8 epochs, ~3.5 min on 2 CPU cores) made the committed weights;
    # here 256 images and 1 epoch check the recipe end to end: train, evaluate, save, reload.
    data = pytest.importorskip("keras_gan.data")
    rng = np.random.default_rng(0)
    small = (rng.integers(0, 256, size=(256, 28, 28, 1), dtype=np.uint8),
             rng.integers(0, 10, size=256))
    monkeypatch.setattr(data, "load_arrays", lambda name, split: small)
    path = str(tmp_path / "clf.keras")
    accuracy = metrics.train_classifier(path, epochs=1, verbose=0)
    assert 0.0 <= accuracy <= 1.0
    assert os.path.getsize(path) < os.path.getsize(metrics.DEFAULT_PATH) * 1.1  # no optimizer state
    assert metrics.features(data.to_float(small[0][:3]), path=path).shape == (3, 128)
