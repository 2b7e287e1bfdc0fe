"""Sample-quality metrics: Frechet distance, a Fashion-MNIST feature extractor, k-NN
precision/recall and density/coverage, and mode coverage on 2D Gaussian mixtures.

Image metrics are computed on the 128-d penultimate activations (layer ``"features"``) of a
small CNN trained on Fashion-MNIST by :func:`train_classifier`; its weights ship as
``keras_gan/assets/fashion_mnist_classifier.keras``. Inception features (FID proper) are not
used: Inception was trained on ImageNet photographs, not 28x28 grey clothing, so absolute values
here are not comparable with published FIDs -- compare rankings, not numbers (docs/protocol.md).

Everything here takes and returns numpy; TensorFlow is imported only by the classifier functions.
"""

import functools
import os
import warnings

import numpy as np
from scipy import linalg

DEFAULT_PATH = os.path.join(os.path.dirname(__file__), "assets", "fashion_mnist_classifier.keras")
FEATURE_LAYER = "features"


# --------------------------------------------------------------------------------------------
# Frechet distance
# --------------------------------------------------------------------------------------------

def gaussian_frechet_distance(mu1, cov1, mu2, cov2, eps=1e-6):
    """Frechet (2-Wasserstein squared) distance between N(mu1, cov1) and N(mu2, cov2).

        d^2 = ||mu1 - mu2||^2 + Tr(cov1 + cov2 - 2 (cov1 cov2)^{1/2})

    (Dowson & Landau 1982; used as FID by Heusel et al. 2017, "GANs Trained by a Two Time-Scale
    Update Rule Converge to a Local Nash Equilibrium"). Computed in float64 with
    ``scipy.linalg.sqrtm`` as in pytorch-fid: if the square root is not finite (singular
    product), ``eps * I`` is added to both covariances and it is retried. A complex result is
    accepted, and its imaginary part dropped, only when ``max|imag| <= 1e-3 * max(1, max|real|)``
    (round-off); a larger imaginary part raises ``ValueError``. scipy's "matrix is singular"
    warning is silenced: singular covariances are normal here (e.g. dead ReLU features) and the
    result is checked as just described.
    """
    mu1, mu2 = (np.atleast_1d(np.asarray(m, np.float64)) for m in (mu1, mu2))
    cov1, cov2 = (np.atleast_2d(np.asarray(c, np.float64)) for c in (cov1, cov2))
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape or cov1.shape != mu1.shape * 2:
        raise ValueError(f"shape mismatch: mu {mu1.shape} {mu2.shape}, "
                         f"cov {cov1.shape} {cov2.shape}")
    diff = mu1 - mu2
    with warnings.catch_warnings():  # singular products (dead ReLU units) are expected and
        warnings.simplefilter("ignore", linalg.LinAlgWarning)  # checked below
        covmean = linalg.sqrtm(cov1 @ cov2)
        if not np.isfinite(covmean).all():
            offset = np.eye(cov1.shape[0]) * eps
            covmean = linalg.sqrtm((cov1 + offset) @ (cov2 + offset))
    if np.iscomplexobj(covmean):
        imag = np.abs(covmean.imag).max()
        if imag > 1e-3 * max(1.0, np.abs(covmean.real).max()):
            raise ValueError(f"sqrtm(cov1 @ cov2) has a large imaginary component ({imag:.3g})")
        covmean = covmean.real
    return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(covmean))


def frechet_distance(a, b, eps=1e-6):
    """Frechet distance between Gaussians fitted to two feature sets ``a`` (N, D) and ``b`` (M, D).

    Means and unbiased covariances (``np.cov``, divisor N - 1) are estimated in float64 and passed
    to :func:`gaussian_frechet_distance`. With classifier features this is the FID recipe of
    Heusel et al. (2017) on a domain-specific network. The estimate is biased upward for small
    N; use the same N (10,000) when comparing models.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"expected feature matrices (N, D) and (M, D), got {a.shape}, {b.shape}")
    return gaussian_frechet_distance(a.mean(0), np.cov(a, rowvar=False),
                                     b.mean(0), np.cov(b, rowvar=False), eps=eps)


# --------------------------------------------------------------------------------------------
# The Fashion-MNIST domain classifier
# --------------------------------------------------------------------------------------------

def build_classifier():
    """A small CNN for 28x28x1 images in [-1, 1]: 240k parameters, about 1 MB of weights.

    conv3x3(32)-maxpool-conv3x3(64)-maxpool-conv3x3(128)-maxpool-dropout-dense(128, "features")
    -dropout-dense(10 logits). The ReLU output of ``"features"`` is the embedding the metrics use.
    """
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1), name="image")
    x = inputs
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)  # 28 -> 14 -> 7 -> 3
    x = layers.Flatten()(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Dense(128, activation="relu", name=FEATURE_LAYER)(x)
    x = layers.Dropout(0.25)(x)
    outputs = layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, outputs, name="fashion_mnist_classifier")


def train_classifier(out_path=DEFAULT_PATH, epochs=8, batch_size=128, seed=0, verbose=2):
    """Train :func:`build_classifier` on the 60k Fashion-MNIST training images and save it.

    Adam(1e-3), sparse softmax cross-entropy on logits, ``epochs`` passes of ``batch_size``.
    Returns the accuracy on the 10k test images (also printed). ``seed`` fixes the weight
    initialisation, dropout and shuffling (``keras.utils.set_random_seed``). The committed
    weights come from ``python -c "from keras_gan import metrics; metrics.train_classifier()"``:
    8 epochs, 212 s on 2 CPU cores, test accuracy 0.9159.
    """
    import keras
    from keras_gan import data

    keras.utils.set_random_seed(seed)
    x_train, y_train = data.load_arrays("fashion_mnist", "train")
    x_test, y_test = data.load_arrays("fashion_mnist", "test")
    x_train, x_test = data.to_float(x_train), data.to_float(x_test)
    model = build_classifier()
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=verbose)
    _, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    if out_path:  # save an uncompiled copy: no optimizer state, a third of the size
        os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
        clean = build_classifier()
        clean.set_weights(model.get_weights())
        clean.save(out_path)
    print(f"test accuracy {accuracy:.4f}" + (f"; saved to {out_path}" if out_path else ""))
    return float(accuracy)


@functools.lru_cache(maxsize=4)
def load_classifier(path=None):
    """Load (once per path, cached) the classifier; ``path=None`` is the committed weights."""
    import keras
    return keras.models.load_model(path or DEFAULT_PATH, compile=False)


@functools.lru_cache(maxsize=4)
def _feature_and_logit_model(path=None):
    import keras
    model = load_classifier(path)
    return keras.Model(model.inputs[0], [model.get_layer(FEATURE_LAYER).output, model.outputs[0]])


def _check_images(images):
    images = np.asarray(images)
    if images.dtype == np.uint8:
        raise ValueError("images are uint8; convert them to float32 in [-1, 1] first with "
                         "keras_gan.data.to_float(images)")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[1:] != (28, 28, 1):
        raise ValueError(f"expected images of shape (N, 28, 28, 1), got {images.shape}")
    images = images.astype(np.float32, copy=False)
    lo, hi = float(images.min()), float(images.max())
    if lo < -1.01 or hi > 1.01:
        raise ValueError(f"images must lie in [-1, 1] (got min {lo:.3g}, max {hi:.3g}); "
                         "convert uint8 data with keras_gan.data.to_float")
    return images


def _run_classifier(images, batch_size=500, path=None):
    images = _check_images(images)
    from keras import ops
    model = _feature_and_logit_model(path)
    feats, logits = [], []
    for start in range(0, len(images), batch_size):
        f, l = model(images[start:start + batch_size], training=False)
        # convert_to_numpy, not np.asarray: on torch the outputs carry autograd state
        feats.append(ops.convert_to_numpy(f))
        logits.append(ops.convert_to_numpy(l))
    return np.concatenate(feats), np.concatenate(logits)


def features(images, batch_size=500, path=None):
    """Penultimate (``"features"``, 128-d, post-ReLU) activations, numpy float32 (N, 128).

    ``images``: float (N, 28, 28, 1) or (N, 28, 28) in [-1, 1]. uint8 input, or values outside
    [-1.01, 1.01], raise ``ValueError``. Some units are dead (always 0: 17 of 128 on the test
    set with the committed weights), so feature covariances are singular;
    :func:`frechet_distance` copes with that.
    """
    return _run_classifier(images, batch_size, path)[0]


def classify(images, batch_size=500, path=None):
    """Predicted Fashion-MNIST labels (N,) int64 for float images in [-1, 1]."""
    return _run_classifier(images, batch_size, path)[1].argmax(axis=1)


def class_histogram(images, batch_size=500):
    """Fraction of ``images`` predicted as each of the 10 classes, a float64 (10,) summing to 1."""
    labels = classify(images, batch_size)
    return np.bincount(labels, minlength=10).astype(np.float64) / len(labels)


# --------------------------------------------------------------------------------------------
# k-NN manifold metrics: precision/recall, density/coverage
# --------------------------------------------------------------------------------------------
#
# All four metrics compare points with closed balls B(x_i, NND_k(x_i)) whose radius is the distance
# from x_i to its k-th nearest neighbour in its own set (x_i itself excluded). Distances are
# computed block by block (at most ~64 MiB of float64 per block), squared, so N = M = 10,000
# features of dimension 128 need a few hundred MB at most and no N x N matrix.

def _chunk_rows(n_cols, budget_bytes=64 * 2**20):
    """Rows per block so that a (rows, n_cols) float64 block stays within ``budget_bytes``."""
    return max(1, budget_bytes // (8 * max(1, n_cols)))


def _sq_distances(a, b, b_sq):
    """Squared Euclidean distances (len(a), len(b)) in float64: |a|^2 + |b|^2 - 2 a.b, >= 0."""
    d2 = np.einsum("ij,ij->i", a, a)[:, None] + b_sq[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d2, 0.0, out=d2)


def _sq_knn_radii(x, ks):
    """{k: squared distance from each row of x to its k-th nearest other row} for each k in ks."""
    ks = sorted(set(ks))
    if ks[0] < 1 or ks[-1] >= len(x):
        raise ValueError(f"k must be in [1, {len(x) - 1}] for {len(x)} points, got {ks}")
    sq = np.einsum("ij,ij->i", x, x)
    radii = {k: np.empty(len(x)) for k in ks}
    step = _chunk_rows(len(x))
    for s in range(0, len(x), step):
        d2 = _sq_distances(x[s:s + step], x, sq)
        rows = np.arange(len(d2))
        d2[rows, s + rows] = 0.0  # the point itself sorts first, whatever the round-off says
        part = np.partition(d2, ks, axis=1)
        for k in ks:
            radii[k][s:s + step] = part[:, k]
    return radii


def _check_pair(real, fake):
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError("expected feature matrices (N, D) and (M, D), "
                         f"got {real.shape}, {fake.shape}")
    return real, fake


def knn_metrics(real, fake, k_pr=3, k_dc=5):
    """Precision, recall (k = ``k_pr``), density and coverage (k = ``k_dc``) in one pass over the
    fake-vs-real distances; see :func:`precision_recall` and :func:`density_coverage`.
    Returns a dict with those four keys."""
    real, fake = _check_pair(real, fake)
    r_real = _sq_knn_radii(real, (k_pr, k_dc))
    r_fake = _sq_knn_radii(fake, (k_pr,))[k_pr]
    real_sq = np.einsum("ij,ij->i", real, real)
    in_real_manifold = np.empty(len(fake), bool)   # precision, per fake point
    in_fake_manifold = np.zeros(len(real), bool)   # recall, per real point
    nearest_fake = np.full(len(real), np.inf)      # coverage, per real point
    in_balls = 0                                   # density numerator
    step = _chunk_rows(len(real))
    for s in range(0, len(fake), step):
        d2 = _sq_distances(fake[s:s + step], real, real_sq)  # (fake block, real)
        in_real_manifold[s:s + step] = (d2 <= r_real[k_pr][None, :]).any(axis=1)
        in_fake_manifold |= (d2 <= r_fake[s:s + step, None]).any(axis=0)
        in_balls += int((d2 <= r_real[k_dc][None, :]).sum())
        nearest_fake = np.minimum(nearest_fake, d2.min(axis=0))
    return {"precision": float(in_real_manifold.mean()), "recall": float(in_fake_manifold.mean()),
            "density": in_balls / (k_dc * len(fake)),
            "coverage": float((nearest_fake <= r_real[k_dc]).mean())}


def precision_recall(real, fake, k=3):
    """Improved precision and recall (Kynkaanniemi et al. 2019, "Improved Precision and Recall
    Metric for Assessing Generative Models").

    Each set approximates its manifold by the union of closed balls around its points, with
    radius NND_k = distance to the k-th nearest neighbour in the same set (itself excluded):

        precision = (1/M) sum_j 1[ exists i: |fake_j - real_i| <= NND_k(real_i) ]
        recall    = (1/N) sum_i 1[ exists j: |real_i - fake_j| <= NND_k(fake_j) ]

    ``real`` (N, D), ``fake`` (M, D) features; the paper uses k = 3. Identical sets give exactly
    (1, 1): each point lies in its own ball. Returns (precision, recall).
    """
    out = knn_metrics(real, fake, k_pr=k, k_dc=k)
    return out["precision"], out["recall"]


def density_coverage(real, fake, k=5):
    """Density and coverage (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for
    Generative Models"), with the real k-NN balls B(real_i, NND_k(real_i)) only:

        density  = 1/(k M) sum_j sum_i 1[ fake_j in B(real_i, NND_k(real_i)) ]
        coverage = (1/N)   sum_i 1[ exists j: fake_j in B(real_i, NND_k(real_i)) ]

    For independent samples of the real distribution E[density] = 1 (it can exceed 1) and
    E[coverage] is about 1 - 2^-k; for fake == real, density is (k + 1)/k (each ball holds its
    centre and k neighbours) and coverage 1. Balls are closed (``<=``; the reference code uses
    ``<``, which differs only on exact ties). The paper uses k = 5. Returns (density, coverage).
    """
    out = knn_metrics(real, fake, k_pr=k, k_dc=k)
    return out["density"], out["coverage"]


# --------------------------------------------------------------------------------------------
# 2D Gaussian mixtures
# --------------------------------------------------------------------------------------------

def wasserstein_1(a, b):
    r"""The exact Wasserstein-1 (earth mover's) distance between two equal-size point sets:

        W1(a, b) = min over permutations pi of (1/n) sum_i ||a_i - b_pi(i)||_2

    solved as an optimal assignment (``scipy.optimize.linear_sum_assignment``; O(n^3), about
    0.2 s for n = 1,000). Unlike mode counts it penalises missing modes and imprecise samples
    alike, and a generator collapsed onto one mode cannot score well.
    """
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"wasserstein_1 needs two point sets of the same shape (n, d), got {a.shape} "
                         f"and {b.shape}")
    cost = cdist(a, b)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def mixture_wasserstein_1(samples, mixture, n=1_000, seed=0):
    """W1 between the first ``n`` of ``samples`` and ``n`` points drawn from ``mixture`` (seeded).
    Its floor is not 0: two samples of grid25 itself are ~0.33 apart at n = 1,000 (the modes'
    counts differ by multinomial noise, and moving mass between modes costs 2 per unit)."""
    samples = np.asarray(samples)[:n]
    return wasserstein_1(samples, mixture.sample(len(samples), seed=seed))


def mode_coverage(samples, mixture, threshold_sigmas=3.0):
    """Mode coverage of 2D samples against a Gaussian mixture (VEEGAN, Srivastava et al. 2017;
    PacGAN, Lin et al. 2018; docs/protocol.md).

    With centers c_1..c_K and standard deviation sigma of ``mixture``, each sample x is assigned
    to its nearest center m(x) = argmin_k |x - c_k| and is *high quality* if
    |x - c_m(x)| <= threshold_sigmas * sigma. With n_k the number of high-quality samples assigned
    to mode k, H = sum_k n_k and p_k = n_k / H:

        modes        = #{k : n_k >= 1}
        high_quality = H / len(samples)
        kl           = KL(p || uniform) = sum_k p_k log(K p_k)     (natural log, 0 log 0 = 0)

    kl is 0 for a perfectly balanced histogram and log K when every high-quality sample sits on
    one mode. It is the KL *of the histogram from* uniform; because the uniform reference has full
    support it stays finite when modes are empty, so no smoothing epsilon is needed. With no
    high-quality sample at all the histogram is undefined and kl is NaN.

    Returns {"modes": int, "high_quality": float, "kl": float, "num_modes": K}.
    """
    samples = np.asarray(samples, np.float64)
    centers = np.asarray(mixture.centers, np.float64)
    if samples.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ValueError(f"expected samples (n, {centers.shape[1]}), got {samples.shape}")
    num_modes = len(centers)
    d = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=-1)  # (n, K)
    nearest = d.argmin(axis=1)
    good = d[np.arange(len(samples)), nearest] <= threshold_sigmas * float(mixture.std)
    counts = np.bincount(nearest[good], minlength=num_modes)
    total = counts.sum()
    if total:
        p = counts[counts > 0] / total
        kl = float(np.sum(p * np.log(num_modes * p)))
    else:
        kl = float("nan")
    return {"modes": int((counts > 0).sum()),
            "high_quality": float(good.mean()) if len(samples) else 0.0,
            "kl": kl, "num_modes": int(num_modes)}


def evaluate_mixture(samples, mixture, threshold_sigmas=3.0):
    """Alias of :func:`mode_coverage` (the 2D counterpart of :func:`evaluate_images`)."""
    return mode_coverage(samples, mixture, threshold_sigmas)


# --------------------------------------------------------------------------------------------
# Fashion-MNIST evaluation
# --------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
@functools.lru_cache(maxsize=1)
def _test_features():
    from keras_gan import data
    images, _ = data.load_arrays("fashion_mnist", "test")
    return features(data.to_float(images))


@functools.lru_cache(maxsize=1)
def frechet_floor(n=10_000, seed=0):
    """Frechet distance between ``n`` training images (a fixed random subset) and the 10k test
    images: what a generator that reproduced the data distribution perfectly would score."""
    from keras_gan import data
    images, _ = data.load_arrays("fashion_mnist", "train")
    idx = np.random.default_rng(seed).choice(len(images), size=n, replace=False)
    return frechet_distance(features(data.to_float(images[np.sort(idx)])), _test_features())


def evaluate_images(fake_images, real_images=None, k_pr=3, k_dc=5):
    """All Fashion-MNIST metrics of the evaluation protocol (docs/protocol.md) for generated images (float, [-1, 1]).

    ``real_images`` defaults to the 10,000 Fashion-MNIST test images (their features are cached).
    Returns a dict: frechet_distance, precision, recall (k = ``k_pr``), density, coverage
    (k = ``k_dc``), class_histogram (list of 10 fractions of predicted classes) and
    classes_covered (number of classes with at least 1% of the samples).
    """
    fake_feats, fake_logits = _run_classifier(fake_images)
    real_feats = _test_features() if real_images is None else features(real_images)
    hist = np.bincount(fake_logits.argmax(axis=1), minlength=10) / len(fake_logits)
    return {"frechet_distance": frechet_distance(real_feats, fake_feats),
            **knn_metrics(real_feats, fake_feats, k_pr=k_pr, k_dc=k_dc),
            "class_histogram": hist.tolist(), "classes_covered": int((hist >= 0.01).sum())}
