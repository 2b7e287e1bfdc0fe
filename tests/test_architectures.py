"""Reference builders: shapes, value range, normalisation options, safe save/load."""

import keras
import numpy as np
import pytest

from keras_gan import architectures as A


def has_layer(model, cls):
    return any(isinstance(layer, cls) for layer in model._flatten_layers())


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_dcgan_shapes_and_range(shape):
    g = A.dcgan_generator(16, shape)
    d = A.dcgan_discriminator(shape)
    z = np.random.default_rng(0).normal(size=(3, 16)).astype("float32")
    images = g(z, training=False).numpy()
    assert images.shape == (3, *shape)
    assert np.abs(images).max() <= 1.0          # tanh output
    assert d(images).shape == (3, 1)


def test_lucic_layer_sizes():
    g, d = A.dcgan_generator(64), A.dcgan_discriminator()
    assert [layer.units for layer in g.layers if isinstance(layer, keras.layers.Dense)] == [1024, 128 * 7 * 7]
    assert [layer.filters for layer in g.layers if isinstance(layer, keras.layers.Conv2DTranspose)] == [64, 1]
    assert [layer.filters for layer in d.layers if isinstance(layer, keras.layers.Conv2D)] == [64, 128]
    assert [layer.units for layer in d.layers if isinstance(layer, keras.layers.Dense)] == [1024, 1]


def test_critic_without_batch_norm():
    assert has_layer(A.dcgan_discriminator(norm="batch"), keras.layers.BatchNormalization)
    assert not has_layer(A.dcgan_discriminator(norm=None), keras.layers.BatchNormalization)
    layer_norm = A.dcgan_discriminator(norm="layer")
    assert not has_layer(layer_norm, keras.layers.BatchNormalization)
    assert has_layer(layer_norm, keras.layers.LayerNormalization)
    with pytest.raises(ValueError, match="norm must be one of"):
        A.dcgan_discriminator(norm="instance")
    with pytest.raises(ValueError, match="divisible by 4"):
        A.dcgan_generator(8, (30, 30, 1))


def test_conditioned_builders_take_a_second_input():
    g = A.dcgan_generator(8, extra_input_dim=10)
    d = A.dcgan_discriminator(extra_input_dim=10)
    z = keras.ops.zeros((2, 8))
    y = keras.ops.convert_to_tensor(np.eye(10, dtype="float32")[:2])
    assert g([z, y]).shape == (2, 28, 28, 1)
    assert d([g([z, y]), y]).shape == (2, 1)
    points, labels = keras.ops.zeros((2, 2)), keras.ops.convert_to_tensor(np.eye(8, dtype="float32")[:2])
    assert A.mlp_discriminator(extra_input_dim=8)([points, labels]).shape == (2, 1)


def test_builders_round_trip_in_safe_mode(tmp_path):
    for model in (A.dcgan_generator(8), A.dcgan_discriminator(norm=None), A.mlp_generator(), A.mlp_discriminator()):
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        loaded = keras.models.load_model(path, safe_mode=True)
        x = np.random.default_rng(1).normal(size=(2, *model.input_shape[1:])).astype("float32")
        np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
