"""tf.distribute: one training step (d_steps steps, so the generator updates once) on a
global batch gives the same weights under MirroredStrategy on two logical CPU devices as
on one device, for every model class, gradient-penalty models included.

The check runs in a subprocess (tests/distribute_check.py) because logical devices
must be configured before TensorFlow initialises its devices.
"""

import json
import os
import subprocess
import sys

import numpy as np

from test_reliability import MODELS

HERE = os.path.dirname(os.path.abspath(__file__))


def test_mirrored_two_devices_equal_one_device():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    run = subprocess.run([sys.executable, os.path.join(HERE, "distribute_check.py")], env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    differences = json.loads(run.stdout.strip().splitlines()[-1])
    assert sorted(differences) == sorted(MODELS)
    # Same latents, penalty coefficients and DRAGAN std as on one device: only the
    # order of floating-point sums differs (measured: at most ~5e-7).
    np.testing.assert_allclose(list(differences.values()), 0.0, atol=1e-5)
