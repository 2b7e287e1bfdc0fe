"""Several devices: JAX trains through ``keras.distribution.DataParallel`` with the weights of one
device (two virtual CPU devices, in a subprocess, since XLA_FLAGS must be set before JAX
starts); PyTorch, whose fit in Keras 3.15 has no multi-device support, refuses it with a clear
error. (tf.distribute on TensorFlow: test_distribute.py.)"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import cases

pytestmark = pytest.mark.backends
BACKEND = keras.backend.backend()
HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.skipif(BACKEND != "jax", reason="keras.distribution.DataParallel: the JAX run")
def test_jax_data_parallel_on_two_devices_equals_one_device():
    env = dict(os.environ, KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2",
               CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
    run = subprocess.run([sys.executable, os.path.join(HERE, "multidevice_worker.py")], env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["backend"] == "jax" and result["devices"] == 2
    assert sorted(result["cases"]) == sorted(cases.MODELS + ("bn_gan", "wgan_gp_d2"))
    # One program over the global batch: the same draws, means and batch statistics as on one
    # device; only the order of floating-point sums differs (measured: at most 2.4e-7).
    np.testing.assert_allclose(list(result["cases"].values()), 0.0, atol=1e-5)


@pytest.mark.skipif(BACKEND != "torch", reason="the PyTorch refusal")
def test_torch_refuses_a_keras_distribution():
    model = cases.compiled("non_saturating")
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=["cpu:0"]))
    try:
        with pytest.raises(ValueError, match="no multi-device support.*KERAS_BACKEND=jax"):
            model.fit(*cases.batches("non_saturating"), batch_size=cases.BATCH, verbose=0)
    finally:
        keras.distribution.set_distribution(None)
    assert int(keras.ops.convert_to_numpy(model.d_step_count)) == 0


@pytest.mark.skipif(BACKEND != "torch", reason="the PyTorch refusal")
@pytest.mark.parametrize("strategy", ["mirrored", "multiworker"])
def test_torch_cli_refuses_a_strategy(strategy, tmp_path):
    env = dict(os.environ, KERAS_BACKEND="torch")
    run = subprocess.run([sys.executable, "-m", "keras_gan", "train", "--model", "gan", "--dataset", "ring8",
                          "--out", str(tmp_path / "run"), "--strategy", strategy], env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "no multi-device support" in run.stderr, run.stderr
