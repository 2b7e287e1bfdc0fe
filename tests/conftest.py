"""Which tests run on which Keras backend.

The whole suite runs on TensorFlow (``KERAS_BACKEND`` unset or ``tensorflow``). With
``KERAS_BACKEND=jax`` or ``torch`` only the modules in ``MULTI_BACKEND`` are collected (the
others use TensorFlow directly), and ``-m backends`` selects their multi-backend tests:
``.ci/test`` runs that on JAX and PyTorch. Markers (pyproject.toml): ``backends`` (runs on
every backend), ``cross_backend`` (starts one process per backend and compares them; run
once, on TensorFlow), ``no_tensorflow`` (JAX without TensorFlow installed).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras_gan  # noqa: E402,F401  (imports Keras, quietly on TensorFlow)
import keras  # noqa: E402

BACKEND = keras.backend.backend()
#: Test modules that import no TensorFlow: collected on every backend.
MULTI_BACKEND = {"test_backends.py", "test_batches.py", "test_ema.py", "test_multidevice.py", "test_cross_backend.py",
                 "test_no_tensorflow.py"}


def pytest_ignore_collect(collection_path, config):
    name = collection_path.name
    if BACKEND != "tensorflow" and name.startswith("test_") and name.endswith(".py"):
        return name not in MULTI_BACKEND
    return None


def pytest_report_header(config):
    return f"keras backend: {BACKEND}"
