"""The backend-neutral numpy pipeline (keras_gan.batches), on every backend: what
``kg.data.load`` and ``Mixture.dataset`` return on JAX and PyTorch (and with
``pipeline="numpy"`` on TensorFlow)."""

import os

import keras
import numpy as np
import pytest

import cases
import keras_gan as kg
from keras_gan import batches

pytestmark = pytest.mark.backends
BACKEND = keras.backend.backend()


def images(n=50):
    return np.arange(n * 4, dtype=np.uint8).reshape(n, 2, 2, 1), np.arange(n, dtype=np.int64)


def first_pixels(batch):
    return np.rint((batch[..., 0, 0, 0] + 1) * 127.5).astype(int) // 4     # image index


def test_each_pass_is_a_new_permutation_and_the_seed_fixes_the_sequence():
    x, y = images()
    ds = batches.image_batches(x, y, batch_size=8, with_labels=True, seed=3)
    assert len(ds) == 6 and ds.num_batches == 6
    passes = []
    for _ in range(3):
        seen = [ds[i] for i in range(len(ds))]
        for xb, yb in seen:
            assert xb.dtype == np.float32 and xb.shape == (8, 2, 2, 1) and yb.dtype == np.int32
            assert xb.min() >= -1 and xb.max() <= 1
            np.testing.assert_array_equal(first_pixels(xb), yb)             # labels follow their images
        order = np.concatenate([yb for _, yb in seen])
        assert len(set(order)) == 48                                          # no repeats within a pass
        passes.append(order)
        ds.on_epoch_end()
    assert not np.array_equal(passes[0], passes[1])
    again = batches.image_batches(x, y, batch_size=8, with_labels=True, seed=3)
    np.testing.assert_array_equal(np.concatenate([again[i][1] for i in range(6)]), passes[0])


def test_repeat_and_skip_are_positions_of_one_stream():
    x, y = images()
    ds = batches.image_batches(x, y, batch_size=8, seed=1)
    stream = ds.repeat()
    assert stream.num_batches is None
    with pytest.raises(TypeError, match="steps_per_epoch"):
        len(stream)
    for i in range(6):
        np.testing.assert_array_equal(stream[i], ds[i])
    ds.on_epoch_end()
    for i in range(6):
        np.testing.assert_array_equal(stream[6 + i], ds[i])                   # the second pass
    np.testing.assert_array_equal(ds.skip(7)[2], stream[9])
    with pytest.raises(ValueError, match="skip"):
        ds.skip(-1)


def test_mixture_batches_are_fresh_reproducible_draws():
    ring = kg.data.mixture("ring8")
    ds = ring.dataset(16, steps_per_epoch=3, seed=2, with_labels=True, pipeline="numpy")
    (a, la), (b, _) = ds[0], ds[1]
    assert a.shape == (16, 2) and a.dtype == np.float32 and la.dtype == np.int32 and not np.array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=0.05)
    np.testing.assert_array_equal(ring.dataset(16, steps_per_epoch=None, seed=2, pipeline="numpy")[1], b)
    with pytest.raises(ValueError, match="pipeline"):
        ring.dataset(16, pipeline="grain")


def test_default_pipeline_is_tf_data_on_tensorflow_and_numpy_elsewhere():
    ds = kg.data.mixture("ring8").dataset(16, steps_per_epoch=3, seed=2)
    assert isinstance(ds, batches.Batches) == (BACKEND != "tensorflow")


def test_fit_trains_on_an_endless_stream_cut_by_steps_per_epoch():
    model = cases.compiled("cgan")
    ring = kg.data.mixture("ring8").dataset(cases.BATCH, steps_per_epoch=None, seed=0, with_labels=True,
                                            pipeline="numpy")
    # ring8 has 8 modes, the model 4 classes: keep the labels in range.
    stream = batches.Batches(lambda i: (ring[i][0], ring[i][1] % cases.NUM_CLASSES), 1, endless=True)
    model.fit(stream, epochs=2, steps_per_epoch=3, verbose=0)
    assert int(keras.ops.convert_to_numpy(model.d_step_count)) == 6


@pytest.mark.skipif(not os.path.isdir(kg.data.DEBIAN_FASHION_MNIST_DIR), reason="no local Fashion-MNIST")
def test_fashion_mnist_from_the_idx_files_as_numpy_batches():
    ds = kg.data.load("fashion_mnist", batch_size=32, take=256, seed=0, pipeline="numpy", with_labels=True)
    assert len(ds) == 8
    x, y = ds[0]
    assert x.shape == (32, 28, 28, 1) and x.dtype == np.float32 and -1 <= x.min() < x.max() <= 1
    assert y.dtype == np.int32 and 0 <= y.min() and y.max() < 10
