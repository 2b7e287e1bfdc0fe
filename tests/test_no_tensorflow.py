"""JAX without TensorFlow: ``import keras_gan``, the CLI and training on the 2D mixtures and the
local Fashion-MNIST files work with KERAS_BACKEND=jax where TensorFlow is not installed.

In a subprocess: where TensorFlow is installed (the development environment) an import hook
makes ``import tensorflow`` fail as it does where it is absent; CI also runs this module in a
virtual environment without TensorFlow at all (``.ci/test``), where the hook has nothing to do.
"""

import os
import subprocess
import sys
import textwrap

import keras
import pytest

pytestmark = [pytest.mark.backends, pytest.mark.no_tensorflow]
HERE = os.path.dirname(os.path.abspath(__file__))

SCRIPT = textwrap.dedent('''
    import importlib.abc, importlib.util, os, sys

    class NoTensorFlow(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("tensorflow", "tensorflow_datasets"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    installed = importlib.util.find_spec("tensorflow") is not None
    sys.meta_path.insert(0, NoTensorFlow())
    import keras
    import keras_gan as kg
    assert keras.backend.backend() == "jax", keras.backend.backend()

    model, batch = kg.recipes.build("dragan", "ring8", seed=0)
    model.fit(kg.data.mixture("ring8").dataset(batch, steps_per_epoch=5, seed=0), epochs=2, verbose=0)
    assert int(keras.ops.convert_to_numpy(model.d_step_count)) == 10

    if os.path.isdir(kg.data.DEBIAN_FASHION_MNIST_DIR) or os.environ.get(kg.data.DATA_DIR_ENV):
        model, batch = kg.recipes.build("cgan", "fashion_mnist", seed=0)
        data = kg.data.load("fashion_mnist", batch_size=batch, take=4 * batch, seed=0, with_labels=True)
        model.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
        assert model.generate(3, labels=[0, 1, 2], seed=0).shape == (3, 28, 28, 1)
        print("fashion_mnist ok")
    try:
        kg.data.load("fashion_mnist", take=64, pipeline="tf.data")
        raise AssertionError("pipeline='tf.data' without TensorFlow did not raise")
    except ValueError as error:
        assert "pipeline='numpy'" in str(error), error

    from keras_gan import cli
    assert cli.main(["train", "--model", "wgan_gp", "--dataset", "ring8", "--epochs", "1",
                     "--steps-per-epoch", "4", "--out", sys.argv[1], "--verbose", "0"]) == 0
    assert os.path.exists(os.path.join(sys.argv[1], "gan.keras"))
    loaded = keras.models.load_model(os.path.join(sys.argv[1], "gan.keras"))
    assert int(keras.ops.convert_to_numpy(loaded.d_step_count)) == 4
    assert not [m for m in sys.modules if m.split(".")[0] == "tensorflow"], "TensorFlow was imported"
    print("ok, tensorflow installed:", installed)
''')


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="the JAX user's environment")
def test_jax_trains_without_tensorflow(tmp_path):
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "run")], env=env, capture_output=True,
                         text=True, timeout=900, cwd=str(tmp_path))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    assert "ok, tensorflow installed:" in run.stdout
    if os.path.isdir("/usr/share/datasets/fashion-mnist"):
        assert "fashion_mnist ok" in run.stdout
