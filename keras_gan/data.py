"""Datasets: the image sets (Fashion-MNIST, MNIST, CIFAR-10) and the 2D Gaussian mixtures.

Images come out as float32 NHWC in [-1, 1] (``x / 127.5 - 1``), the range of a tanh generator::

    ds = load("fashion_mnist", batch_size=64)              # batches of shape (64, 28, 28, 1):
                                                           # tf.data on TensorFlow, numpy on JAX/torch
    x_test, y_test = load_arrays("fashion_mnist", "test")  # raw uint8 (10000, 28, 28, 1), int64

Where the pixels come from (``source="auto"``): Fashion-MNIST and MNIST are first read from the
four original IDX files, looked for in ``data_dir``, then ``$KERAS_GAN_DATA_DIR`` (directly or in a
subfolder named after the dataset, e.g. ``$KERAS_GAN_DATA_DIR/fashion-mnist``), then
``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``); otherwise they are
loaded with ``tensorflow_datasets``, which needs the internet the first time. CIFAR-10 only comes
through TFDS. If nothing works, ``DatasetNotFoundError`` says where it looked and how to fix it.

The mixtures are PacGAN's 2D benchmarks: ``ring8`` (8 Gaussians on the unit circle, sigma 0.01)
and ``grid25`` (25 Gaussians on {-4,-2,0,2,4}^2, sigma 0.05)::

    ring = mixture("ring8")
    x = ring.sample(2500, seed=0)                          # float32 (2500, 2)
    ds = ring.dataset(batch_size=256, steps_per_epoch=100, seed=0)
"""

import dataclasses
import functools
import gzip
import os

import numpy as np

IMAGE_DATASETS = ("fashion_mnist", "mnist", "cifar10")
MIXTURES = ("ring8", "grid25")
SPLITS = ("train", "test")
#: Class names of the image sets, in label order.
CLASS_NAMES = {
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"),
    "mnist": tuple(str(d) for d in range(10)),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                "truck"),
}
SOURCES = ("auto", "idx", "tfds")

#: Where Debian's ``dataset-fashion-mnist`` package installs the four gzipped IDX files.
DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
#: Environment variable naming a folder with the IDX files (or with one subfolder per dataset).
DATA_DIR_ENV = "KERAS_GAN_DATA_DIR"

_IDX_DATASETS = ("fashion_mnist", "mnist")
_SUBFOLDERS = {"fashion_mnist": ("fashion-mnist", "fashion_mnist"), "mnist": ("mnist",)}
_IDX_STEMS = {"train": "train", "test": "t10k"}
# IDX type codes -> big-endian numpy dtypes (http://yann.lecun.com/exdb/mnist/, bottom of page).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DatasetNotFoundError(FileNotFoundError):
    """Raised when a dataset is neither on disk nor obtainable through TFDS."""


# ----------------------------------------------------------------------------- IDX files


def read_idx(path):
    """Reads one IDX file (the MNIST format), gunzipping it if the name ends in ``.gz``.

    The header is two zero bytes, a type code (0x08 = uint8, ...), the number of dimensions, then
    each dimension as a big-endian int32; the data follows in C order.

    Returns:
        A numpy array of shape ``dims`` (native byte order).
    Raises:
        ValueError: on a bad magic number, an unknown type code, or a data size that does not
            match the header.
    """
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (the first two bytes must be zero, "
                         f"got {raw[:4]!r})")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02x} "
                         f"(valid: {', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} bytes for {ndim} dims)")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">i4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"{path}: header says {dims} x {dtype.itemsize} bytes = {expected} "
                         f"bytes of data, the file has {len(raw) - header}")
    return np.frombuffer(raw, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


@functools.lru_cache(maxsize=8)
def _read_idx_pair(images_path, labels_path, stamp):
    """Images (N, H, W, 1) and int64 labels from two IDX files, memoised per file version
    (``stamp`` holds their mtimes); the arrays are read-only so the cache stays intact."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{images_path}, {labels_path}: IDX shapes {images.shape} and "
                         f"{labels.shape} are not (N, H, W) images with (N,) labels")
    images, labels = images[..., None], labels.astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def _find_idx_file(folder, stem, kind):
    for sep in ("-", "."):  # "train-images-idx3-ubyte", also the "train-images.idx3-ubyte" variant
        for ext in (".gz", ""):
            path = os.path.join(folder, f"{stem}-{kind}{sep}idx{3 if kind == 'images' else 1}"
                                        f"-ubyte{ext}")
            if os.path.isfile(path):
                return path
    return None


def _idx_folders(name, data_dir):
    """Candidate folders for the IDX files of ``name``, in search order."""
    folders = []
    for base in (data_dir, os.environ.get(DATA_DIR_ENV)):
        if base:
            base = os.fspath(base)
            folders += [os.path.join(base, sub) for sub in _SUBFOLDERS[name]] + [base]
    if name == "fashion_mnist":
        folders.append(DEBIAN_FASHION_MNIST_DIR)
    return list(dict.fromkeys(folders))


def _load_idx(name, split, data_dir):
    """Returns (images, labels) from the first folder holding the split's two files, or None."""
    stem = _IDX_STEMS[split]
    for folder in _idx_folders(name, data_dir):
        images_path = _find_idx_file(folder, stem, "images")
        labels_path = _find_idx_file(folder, stem, "labels")
        if images_path and labels_path:
            stamp = (os.stat(images_path).st_mtime_ns, os.stat(labels_path).st_mtime_ns)
            return _read_idx_pair(images_path, labels_path, stamp)
    return None


# ----------------------------------------------------------------------------- TFDS


def _load_tfds(name, split):
    """Loads a whole split with tensorflow_datasets as numpy (uint8 NHWC images, int64 labels)."""
    import tensorflow_datasets as tfds  # lazy: optional dependency, slow to import

    ds = tfds.load(name, split=split, as_supervised=True)
    # Batches of 10k rather than batch_size=-1: the latter aborts on datasets of unknown size
    # (tfds.testing.mock_data) under TF 2.21.
    parts = list(tfds.as_numpy(ds.batch(10_000)))
    images = np.concatenate([p[0] for p in parts]).astype(np.uint8)
    labels = np.concatenate([p[1] for p in parts]).astype(np.int64)
    return images, labels


@functools.lru_cache(maxsize=8)
def _load_tfds_cached(name, split):
    images, labels = _load_tfds(name, split)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def clear_cache():
    """Forgets the arrays parsed so far (they are cached per process so that reloading is free)."""
    _read_idx_pair.cache_clear()
    _load_tfds_cached.cache_clear()


def _not_found(name, split, folders, tfds_error):
    message = f"Could not load the {name!r} {split!r} split"
    if name not in _IDX_DATASETS:
        message += " (it only comes through TFDS). "
    elif folders:
        message += f". Looked for its IDX files in: {', '.join(folders)}. "
    else:
        message += f" (no folder searched for IDX files: ${DATA_DIR_ENV} is unset or not used). "
    if tfds_error is not None:
        message += f"tensorflow_datasets (TFDS) failed: {tfds_error}. "
    fixes = []
    if name == "fashion_mnist":
        fixes.append(f"install the Debian package (`sudo apt-get install dataset-fashion-mnist`, "
                     f"files in {DEBIAN_FASHION_MNIST_DIR}) or set ${DATA_DIR_ENV} to a folder "
                     f"holding the four IDX files (directly or in a fashion-mnist subfolder)")
    elif name == "mnist":
        fixes.append(f"set ${DATA_DIR_ENV} to a folder holding the four MNIST IDX files "
                     "(directly or in a mnist subfolder)")
    fixes.append("connect to the internet so that TFDS (`pip install tensorflow-datasets`) can "
                 "download it once into ~/tensorflow_datasets")
    message += "To fix it, " + "; or ".join(fixes) + "."
    return DatasetNotFoundError(message)


# ----------------------------------------------------------------------------- public loaders


def _check_image_name(name, split=None):
    if name not in IMAGE_DATASETS:
        hint = " (a 2D mixture: use mixture(name).dataset())" if name in MIXTURES else ""
        raise ValueError(f"Unknown image dataset {name!r}{hint}; valid names: "
                         f"{', '.join(IMAGE_DATASETS)}")
    if split is not None and split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}; valid splits: {', '.join(SPLITS)}")


def load_arrays(name="fashion_mnist", split="train", data_dir=None, source="auto"):
    """Loads a whole split as numpy arrays: ``(images, labels)``.

    Args:
        name: one of ``IMAGE_DATASETS``.
        split: ``"train"`` or ``"test"``.
        data_dir: a folder searched first for the IDX files (Fashion-MNIST and MNIST).
        source: ``"auto"`` (IDX files, then TFDS), ``"idx"`` or ``"tfds"`` (only that one).
    Returns:
        ``images``: uint8 (N, H, W, C); ``labels``: int64 (N,). Both are read-only views of an
        in-process cache (copy them before writing in place).
    Raises:
        ValueError: unknown name, split or source.
        DatasetNotFoundError: no local files and TFDS unavailable or offline.
    """
    _check_image_name(name, split)
    if source not in SOURCES:
        raise ValueError(f"Unknown source {source!r}; valid sources: {', '.join(SOURCES)}")
    if source == "idx" and name not in _IDX_DATASETS:
        raise ValueError(f"{name!r} has no IDX files; use source='tfds' or 'auto'")

    folders = []
    if source in ("auto", "idx") and name in _IDX_DATASETS:
        folders = _idx_folders(name, data_dir)
        arrays = _load_idx(name, split, data_dir)
        if arrays is not None:
            return arrays
        if source == "idx":
            raise _not_found(name, split, folders, None)
    try:
        return _load_tfds_cached(name, split)
    except ImportError as error:
        raise _not_found(name, split, folders, f"not installed ({error})") from error
    except Exception as error:  # no network, DNS, download or checksum errors: all mean "absent"
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        raise _not_found(name, split, folders,
                         f"{type(error).__name__}: {reason}".rstrip(": ")) from error


def to_float(images):
    """uint8 [0, 255] -> float32 [-1, 1] (``x / 127.5 - 1``); numpy in, numpy out."""
    return np.asarray(images, np.float32) / np.float32(127.5) - np.float32(1.0)


def to_uint8(images):
    """float [-1, 1] -> uint8 [0, 255], inverse of ``to_float`` (rounded; out of range clipped)."""
    return np.clip(np.rint((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


PIPELINES = ("tf.data", "numpy")


def _pipeline(pipeline):
    """"tf.data" or "numpy": ``pipeline``, or (None) tf.data on Keras's TensorFlow backend and
    numpy batches on the others, so that JAX and PyTorch users need no TensorFlow."""
    import keras

    if pipeline is None:
        return "tf.data" if keras.backend.backend() == "tensorflow" else "numpy"
    if pipeline not in PIPELINES:
        raise ValueError(f"Unknown pipeline {pipeline!r}; valid: {', '.join(PIPELINES)} (or None: tf.data on "
                         "the TensorFlow backend, numpy batches on the others)")
    if pipeline == "tf.data":
        try:
            import tensorflow  # noqa: F401
        except ImportError as error:
            raise ValueError(f"pipeline='tf.data' needs TensorFlow ({error}): pip install tensorflow, or pass "
                             "pipeline='numpy' (a keras.utils.PyDataset of numpy batches, on any backend)") from None
    return pipeline


def load(name="fashion_mnist", split="train", batch_size=64, with_labels=False, shuffle=True,
         seed=None, data_dir=None, source="auto", drop_remainder=True, take=None, pipeline=None):
    """An image dataset as batches: a shuffled, prefetched ``tf.data.Dataset`` on the TensorFlow
    backend, a ``keras_gan.batches.Batches`` (a ``keras.utils.PyDataset`` of numpy batches) on
    JAX and PyTorch. Both reshuffle every epoch and have ``len``, ``repeat()`` and ``skip(n)``.

    Args:
        name, split, data_dir, source: as in ``load_arrays``.
        batch_size: images per batch.
        with_labels: yield ``(images, labels)`` with int32 labels instead of images alone.
        shuffle: reshuffle the whole split every epoch (a full-size buffer of indices).
        seed: shuffle seed; the same seed gives the same order of batches, epoch after epoch
            (each pipeline its own order).
        drop_remainder: drop the last partial batch (every batch then has the same shape).
        take: keep only the first ``take`` examples (quick modes, tests).
        pipeline: "tf.data", "numpy", or None (tf.data on the TensorFlow backend, numpy otherwise).
    Returns:
        Batches of float32 (B, 28, 28, 1) images for (fashion_)mnist, (B, 32, 32, 3) for
        cifar10, with values in [-1, 1].
    """
    pipeline = _pipeline(pipeline)
    images, labels = load_arrays(name, split, data_dir=data_dir, source=source)
    if take is not None:
        if int(take) < 1:
            raise ValueError(f"take must be a positive number of examples, got {take!r}")
        images, labels = images[:int(take)], labels[:int(take)]
    n = len(images)
    if drop_remainder and n < batch_size:
        raise ValueError(f"{n} examples make no full batch of {batch_size} "
                         "(lower batch_size, raise take, or pass drop_remainder=False)")

    if pipeline == "numpy":
        from keras_gan import batches

        return batches.image_batches(images, labels, batch_size, with_labels=with_labels, shuffle=shuffle,
                                     seed=seed, drop_remainder=drop_remainder)

    import tensorflow as tf  # lazy: keeps `import keras_gan.data` cheap

    images_t = tf.constant(images)
    labels_t = tf.constant(labels, tf.int32)
    # Shuffling indices and gathering whole batches is much faster than shuffling images.
    ds = tf.data.Dataset.range(n)
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    def gather(index):
        x = tf.cast(tf.gather(images_t, index), tf.float32) / 127.5 - 1.0
        return (x, tf.gather(labels_t, index)) if with_labels else x

    return ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


# ----------------------------------------------------------------------------- 2D mixtures


@dataclasses.dataclass(frozen=True, eq=False)
class Mixture:
    """An equal-weight mixture of isotropic 2D Gaussians: ``centers`` (K, 2), one ``std``."""

    name: str
    centers: np.ndarray
    std: float

    @property
    def num_modes(self):
        return len(self.centers)

    def sample_with_labels(self, n, seed=None):
        """Draws ``n`` points: (float32 (n, 2) samples, int64 (n,) index of each one's mode)."""
        rng = np.random.default_rng(seed)
        labels = rng.integers(self.num_modes, size=n)
        noise = rng.standard_normal((n, 2))
        return (self.centers[labels] + self.std * noise).astype(np.float32), labels

    def sample(self, n, seed=None):
        """Draws ``n`` points, float32 (n, 2); the same seed gives the same points."""
        return self.sample_with_labels(n, seed)[0]

    def dataset(self, batch_size=256, steps_per_epoch=100, seed=None, with_labels=False, pipeline=None):
        """Fresh samples as float32 (batch_size, 2) batches: a ``tf.data.Dataset`` on the
        TensorFlow backend, a ``keras_gan.batches.Batches`` of numpy batches on the others
        (``pipeline`` as in ``load``).

        Each epoch yields ``steps_per_epoch`` new batches (``None``: an endless dataset), drawn
        from per-batch seeds; for a given ``seed`` the sequence of epochs is reproducible.
        ``with_labels`` adds int32 mode indices (one class per mode).
        """
        if _pipeline(pipeline) == "numpy":
            from keras_gan import batches

            return batches.mixture_batches(self, batch_size, steps_per_epoch, seed=seed, with_labels=with_labels)

        import tensorflow as tf

        centers = tf.constant(self.centers, tf.float32)
        ds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        if steps_per_epoch is not None:
            ds = ds.take(steps_per_epoch)

        def draw(r):
            labels = tf.random.stateless_uniform([batch_size], tf.stack([r, 0]), 0,
                                                 self.num_modes, tf.int32)
            noise = tf.random.stateless_normal([batch_size, 2], tf.stack([r, 1]))
            x = tf.gather(centers, labels) + self.std * noise
            return (x, labels) if with_labels else x

        return ds.map(draw, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _ring8():
    angles = 2 * np.pi * np.arange(8) / 8
    return np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.01


def _grid25():
    values = np.arange(-4.0, 5.0, 2.0)
    return np.array([(x, y) for x in values for y in values]), 0.05


_MIXTURE_BUILDERS = {"ring8": _ring8, "grid25": _grid25}


def is_mixture(name):
    """True for the names of the 2D Gaussian mixtures (``MIXTURES``)."""
    return name in MIXTURES


def mixture(name, std=None):
    """The 2D Gaussian mixture ``name`` (``"ring8"`` or ``"grid25"``); ``std`` overrides sigma."""
    if name not in _MIXTURE_BUILDERS:
        raise ValueError(f"Unknown mixture {name!r}; valid names: {', '.join(MIXTURES)}")
    centers, default_std = _MIXTURE_BUILDERS[name]()
    centers = np.asarray(centers, np.float32)
    centers.flags.writeable = False
    return Mixture(name, centers, float(default_std if std is None else std))
