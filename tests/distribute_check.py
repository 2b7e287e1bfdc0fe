"""Run by test_distribute.py in a subprocess: the same training steps on one device and
under MirroredStrategy on two logical CPU devices, for every model class; prints one
JSON line {model: max |difference|} over weights, optimizer states, d_step_count, k.

Logical devices must be configured before TensorFlow initialises its devices, so
this cannot run inside the pytest process. Usage: python tests/distribute_check.py [models]
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_reliability import MODELS, compiled, points, state, build_cls  # noqa: E402

GLOBAL_BATCH = 64


def train(name, strategy=None):
    labels = getattr(build_cls(name), "uses_labels", False)
    if strategy is None:
        model = compiled(name)
    else:
        with strategy.scope():
            model = compiled(name)
    # d_steps global batches: every model makes at least one generator update.
    x = points(n_batches=6, labels=labels).unbatch().batch(GLOBAL_BATCH, drop_remainder=True)
    model.fit(x.take(model.d_steps), epochs=1, verbose=0)
    return model


def main(names):
    # One strategy for the whole process: creating several in one process can
    # make their collective ops collide.
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    result = {}
    for name in names:
        one, two = train(name), train(name, strategy)
        assert int(two.d_step_count.numpy()) == one.d_steps, name
        result[name] = max(float(np.max(np.abs(a.astype("float64") - b.astype("float64"))))
                           for a, b in zip(state(one), state(two)))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1].split(",") if len(sys.argv) > 1 else MODELS)
