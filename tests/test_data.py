"""Tests for keras_gan.data: the IDX reader, the image loaders (IDX, TFDS, the error when neither
works) and the 2D Gaussian mixtures."""

import gzip
import os

import numpy as np
import pytest

from keras_gan import data

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
DEBIAN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
have_debian = pytest.mark.skipif(
    not all(os.path.isfile(os.path.join(DEBIAN_DIR, f)) for f in DEBIAN_FILES),
    reason=f"Fashion-MNIST IDX files absent from {DEBIAN_DIR} "
           "(sudo apt-get install dataset-fashion-mnist)")


def idx_bytes(array, code=0x08, dtype=">u1"):
    """Hand-written IDX encoding: 0, 0, type code, ndim, big-endian int32 dims, big-endian data."""
    array = np.asarray(array)
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">i4").tobytes()
    return header + array.astype(dtype).tobytes()


def write_idx_dataset(folder, split, images, labels, gz=False):
    """Writes the two IDX files of one split into ``folder`` (uncompressed or gzipped)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = {"train": "train", "test": "t10k"}[split]
    for kind, ndim, array in (("images", 3, images), ("labels", 1, labels)):
        name = f"{stem}-{kind}-idx{ndim}-ubyte"
        payload = idx_bytes(array)
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(payload))
        else:
            (folder / name).write_bytes(payload)


@pytest.fixture
def fresh_cache():
    data.clear_cache()
    yield
    data.clear_cache()


@pytest.fixture
def no_local_data(tmp_path, monkeypatch):
    """No IDX files anywhere: empty data_dir and $KERAS_GAN_DATA_DIR, missing Debian folder."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("KERAS_GAN_DATA_DIR", str(empty))
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", str(tmp_path / "missing"))
    return empty


# ----------------------------------------------------------------------------- read_idx


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_tiny_file(tmp_path, gz):
    expected = np.array([[[0, 1, 2], [3, 4, 255]], [[9, 8, 7], [6, 5, 128]]], np.uint8)
    raw = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3,
                 0, 1, 2, 3, 4, 255, 9, 8, 7, 6, 5, 128])
    path = tmp_path / ("x.idx.gz" if gz else "x.idx")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    array = data.read_idx(path)
    assert array.dtype == np.uint8
    np.testing.assert_array_equal(array, expected)


def test_read_idx_big_endian_int32(tmp_path):
    values = np.array([1, -2, 70000, 2**31 - 1], np.int32)
    (tmp_path / "v").write_bytes(idx_bytes(values, code=0x0C, dtype=">i4"))
    np.testing.assert_array_equal(data.read_idx(tmp_path / "v"), values)


@pytest.mark.parametrize("payload, match", [
    (bytes([1, 0, 8, 1, 0, 0, 0, 1, 7]), "first two bytes"),
    (bytes([0, 0, 7, 1, 0, 0, 0, 1, 7]), "type code 0x07"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 7]), "has 2"),
    (bytes([0, 0, 8, 2, 0, 0]), "truncated"),
])
def test_read_idx_rejects_bad_files(tmp_path, payload, match):
    (tmp_path / "bad").write_bytes(payload)
    with pytest.raises(ValueError, match=match):
        data.read_idx(tmp_path / "bad")


# ----------------------------------------------------------------------------- arrays


@have_debian
def test_debian_fashion_mnist_files():
    train_x, train_y = data.load_arrays("fashion_mnist", "train", source="idx")
    test_x, test_y = data.load_arrays("fashion_mnist", "test", source="idx")
    assert train_x.shape == (60000, 28, 28, 1) and train_x.dtype == np.uint8
    assert test_x.shape == (10000, 28, 28, 1) and test_x.dtype == np.uint8
    assert train_y.dtype == np.int64 and test_y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(train_y), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(test_y), [1000] * 10)
    # The published order: ankle boot, T-shirt, T-shirt, dress, ... / ankle boot, pullover, ...
    np.testing.assert_array_equal(train_y[:10], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
    np.testing.assert_array_equal(test_y[:10], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
    assert (train_x.min(), train_x.max()) == (0, 255)
    # Cached: the second call returns the same (read-only) arrays.
    assert data.load_arrays("fashion_mnist", "train")[0] is train_x
    assert not train_x.flags.writeable


@pytest.mark.parametrize("layout", ["direct", "subfolder"])
def test_idx_files_found_in_env_dir(tmp_path, monkeypatch, no_local_data, layout):
    images = np.arange(5 * 28 * 28, dtype=np.int64).reshape(5, 28, 28) % 256
    labels = np.array([3, 1, 4, 1, 5])
    root = tmp_path / "root"
    folder = root if layout == "direct" else root / "fashion-mnist"
    write_idx_dataset(folder, "test", images, labels, gz=(layout == "direct"))
    monkeypatch.setenv("KERAS_GAN_DATA_DIR", str(root))
    x, y = data.load_arrays("fashion_mnist", "test")
    np.testing.assert_array_equal(x[..., 0], images)
    np.testing.assert_array_equal(y, labels)
    # data_dir comes before $KERAS_GAN_DATA_DIR.
    other = tmp_path / "other"
    write_idx_dataset(other, "test", images[:2], labels[:2])
    np.testing.assert_array_equal(data.load_arrays("fashion_mnist", "test", data_dir=other)[1],
                                  [3, 1])


def test_to_float_and_back():
    np.testing.assert_allclose(data.to_float(np.array([0, 255, 51], np.uint8)),
                               [-1.0, 1.0, 51 / 127.5 - 1.0], rtol=0, atol=1e-7)
    assert data.to_float(np.zeros(2, np.uint8)).dtype == np.float32
    everything = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(data.to_uint8(data.to_float(everything)), everything)
    np.testing.assert_array_equal(data.to_uint8(np.array([-3.0, -1.0, 0.0, 1.0, 2.0])),
                                  [0, 0, 128, 255, 255])


def test_bad_arguments():
    with pytest.raises(ValueError, match="fashion_mnist, mnist, cifar10"):
        data.load_arrays("svhn")
    with pytest.raises(ValueError, match="mixture"):
        data.load("ring8")
    with pytest.raises(ValueError, match="train, test"):
        data.load_arrays("fashion_mnist", "validation")
    with pytest.raises(ValueError, match="auto, idx, tfds"):
        data.load_arrays("fashion_mnist", source="web")
    with pytest.raises(ValueError, match="no IDX files"):
        data.load_arrays("cifar10", source="idx")


# ----------------------------------------------------------------------------- tf.data


@have_debian
def test_load_batches():
    images, labels = data.load_arrays("fashion_mnist", "train")
    batch = next(iter(data.load(batch_size=64, seed=0)))
    assert batch.shape == (64, 28, 28, 1) and batch.dtype.name == "float32"
    values = batch.numpy()
    assert values.min() >= -1.0 and values.max() <= 1.0
    np.testing.assert_array_equal(data.to_float(data.to_uint8(values)), values)  # k/127.5 - 1
    # Same seed, same batch; no shuffling gives the first images, exactly.
    np.testing.assert_array_equal(next(iter(data.load(batch_size=64, seed=0))), values)
    plain = next(iter(data.load(batch_size=64, shuffle=False)))
    np.testing.assert_array_equal(plain, data.to_float(images[:64]))

    x, y = next(iter(data.load("fashion_mnist", "test", batch_size=32, shuffle=False,
                               with_labels=True)))
    assert x.shape == (32, 28, 28, 1) and y.dtype.name == "int32"
    np.testing.assert_array_equal(y[:10], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])


@have_debian
def test_load_take_and_remainder():
    sizes = [int(b.shape[0]) for b in data.load(batch_size=64, take=200, seed=1)]
    assert sizes == [64, 64, 64]
    sizes = [int(b.shape[0]) for b in data.load(batch_size=64, take=200, drop_remainder=False)]
    assert sizes == [64, 64, 64, 8]
    with pytest.raises(ValueError, match="no full batch"):
        data.load(batch_size=64, take=10)
    with pytest.raises(ValueError, match="positive"):
        data.load(take=0)


# ----------------------------------------------------------------------------- TFDS


@pytest.mark.parametrize("name, shape", [("fashion_mnist", (28, 28, 1)),
                                         ("cifar10", (32, 32, 3))])
def test_tfds_source_with_mock_data(fresh_cache, name, shape):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=70):
        images, labels = data.load_arrays(name, "train", source="tfds")
        batches = list(data.load(name, batch_size=32, source="tfds", with_labels=True, seed=0))
    assert images.shape == (70,) + shape and images.dtype == np.uint8
    assert labels.shape == (70,) and labels.dtype == np.int64
    assert [tuple(x.shape) for x, _ in batches] == [(32,) + shape] * 2
    assert batches[0][1].dtype.name == "int32"
    assert set(np.concatenate([y for _, y in batches])) <= set(range(10))


def test_auto_falls_back_to_tfds(fresh_cache, no_local_data, monkeypatch):
    fake = (np.full((3, 28, 28, 1), 255, np.uint8), np.array([7, 8, 9]))
    monkeypatch.setattr(data, "_load_tfds", lambda name, split: fake)
    images, labels = data.load_arrays("fashion_mnist", data_dir=no_local_data)
    assert images is fake[0]
    np.testing.assert_array_equal(labels, [7, 8, 9])


@pytest.mark.parametrize("failure", [OSError("Temporary failure in name resolution"),
                                     ImportError("No module named 'tensorflow_datasets'")])
def test_no_data_anywhere_names_both_fixes(fresh_cache, no_local_data, monkeypatch, failure):
    def offline(name, split):
        raise failure

    monkeypatch.setattr(data, "_load_tfds", offline)
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load("fashion_mnist", data_dir=no_local_data)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    for needle in ("dataset-fashion-mnist", "KERAS_GAN_DATA_DIR", "internet", "TFDS",
                   str(no_local_data), data.DEBIAN_FASHION_MNIST_DIR, str(failure)):
        assert needle in message, needle
    assert "\n" not in message


def test_forced_idx_source_does_not_try_tfds(no_local_data, monkeypatch):
    def must_not_run(name, split):
        raise AssertionError("TFDS was called")

    monkeypatch.setattr(data, "_load_tfds", must_not_run)
    with pytest.raises(data.DatasetNotFoundError, match="dataset-fashion-mnist"):
        data.load_arrays("fashion_mnist", "test", source="idx")


# ----------------------------------------------------------------------------- mixtures


def test_mixture_definitions():
    ring = data.mixture("ring8")
    angles = 2 * np.pi * np.arange(8) / 8
    np.testing.assert_allclose(ring.centers, np.stack([np.cos(angles), np.sin(angles)], 1),
                               atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(ring.centers, axis=1), np.ones(8), rtol=1e-6)
    assert (ring.name, ring.std, ring.num_modes, ring.centers.dtype) == \
        ("ring8", 0.01, 8, np.float32)

    grid = data.mixture("grid25")
    expected = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(c) for c in grid.centers.tolist()} == expected
    assert (grid.std, grid.num_modes) == (0.05, 25)

    assert data.mixture("grid25", std=0.1).std == 0.1
    assert data.MIXTURES == ("ring8", "grid25")
    assert data.IMAGE_DATASETS == ("fashion_mnist", "mnist", "cifar10")
    assert data.is_mixture("ring8") and not data.is_mixture("fashion_mnist")
    with pytest.raises(ValueError, match="ring8, grid25"):
        data.mixture("ring9")


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_mixture_samples(name):
    mix = data.mixture(name)
    samples, labels = mix.sample_with_labels(20000, seed=0)
    assert samples.shape == (20000, 2) and samples.dtype == np.float32
    # Every sample is nearest to the mode it was drawn from, with the mixture's sigma.
    distances = np.linalg.norm(samples[:, None] - mix.centers[None], axis=2)
    np.testing.assert_array_equal(distances.argmin(1), labels)
    for k in range(mix.num_modes):
        offsets = samples[labels == k] - mix.centers[k]
        np.testing.assert_allclose(offsets.std(0), [mix.std, mix.std], rtol=0.1)
        np.testing.assert_allclose(offsets.mean(0), [0, 0], atol=0.2 * mix.std)
    np.testing.assert_allclose(np.bincount(labels) / 20000, 1 / mix.num_modes, atol=0.015)
    # Seeds reproduce; sample() is sample_with_labels() without the labels.
    np.testing.assert_array_equal(mix.sample(20000, seed=0), samples)
    assert not np.array_equal(mix.sample(100, seed=1), samples[:100])


def test_mixture_dataset():
    grid = data.mixture("grid25")
    ds = grid.dataset(batch_size=128, steps_per_epoch=5, seed=3)
    epoch1 = [b.numpy() for b in ds]
    epoch2 = [b.numpy() for b in ds]
    assert [b.shape for b in epoch1] == [(128, 2)] * 5 and epoch1[0].dtype == np.float32
    assert not np.array_equal(epoch1[0], epoch2[0])  # fresh samples every epoch
    again = [b.numpy() for b in grid.dataset(batch_size=128, steps_per_epoch=5, seed=3)]
    np.testing.assert_array_equal(np.stack(again), np.stack(epoch1))  # reproducible

    x, y = next(iter(grid.dataset(batch_size=64, seed=0, with_labels=True)))
    assert y.dtype.name == "int32" and y.shape == (64,)
    distances = np.linalg.norm(x.numpy()[:, None] - grid.centers[None], axis=2)
    np.testing.assert_array_equal(distances.argmin(1), y.numpy())
    np.testing.assert_allclose(distances.min(1), 0, atol=6 * grid.std)
    endless = grid.dataset(batch_size=8, steps_per_epoch=None, seed=0)
    assert len(list(endless.take(50))) == 50
