"""Run by test_multidevice.py with KERAS_BACKEND=jax and
XLA_FLAGS=--xla_force_host_platform_device_count=2 (two virtual CPU devices, which must be
set before JAX starts): every model trains the same steps on one device and under
``keras.distribution.DataParallel`` on both, from the same weights on the same global
batches; prints one JSON line {"backend", "devices", "cases": {case: max |difference|}} over
every variable (weights, batch-norm statistics, counter, k, seed state, both optimizers').
"""

import json
import os
import sys

import keras
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402

STEPS = 4


def train(case, distribution=None):
    def make():
        model = cases.compiled(case)          # SGD: Adam would magnify rounding noise in directions
        # of zero gradient (a bias before batch norm, the relativistic losses' output bias)
        model.fit(*cases.batches(case, steps=STEPS), batch_size=cases.BATCH, shuffle=False, verbose=0)
        return model

    if distribution is None:
        return make()
    with distribution.scope():
        return make()


def main(names):
    devices = keras.distribution.list_devices()
    parallel = keras.distribution.DataParallel(devices=devices)
    result = {}
    for case in names:
        one, two = cases.state(train(case)), cases.state(train(case, parallel))
        result[case] = max(float(np.max(np.abs(a.astype("float64") - b.astype("float64")))) for a, b in zip(one, two))
    print(json.dumps({"backend": keras.backend.backend(), "devices": len(devices), "cases": result}))


if __name__ == "__main__":
    main(sys.argv[1].split(",") if len(sys.argv) > 1 else cases.MODELS + ("bn_gan", "wgan_gp_d2"))
