"""keras-gan: GAN loss functions, penalties and models for Keras 3, on TensorFlow, JAX and PyTorch.

    import keras_gan as kg
    gan = kg.GAN(generator, discriminator, latent_dim=64, loss="non_saturating")

The backend is Keras's (``KERAS_BACKEND``, or ``~/.keras/keras.json``). ``import keras_gan``
imports Keras (on the TensorFlow backend with TensorFlow's C++ start-up messages silenced;
on JAX and PyTorch TensorFlow is not imported, nor needed) and the model classes, so that
they are registered with Keras and ``keras.models.load_model("gan.keras", safe_mode=True)``
finds them. The other submodules (data, metrics, plotting, cli, ...) are imported on first
access.
"""

import importlib
import importlib.util
import json
import os
import sys

__version__ = "0.1.0"


def _configured_backend():
    """The backend Keras will use, read as Keras reads it (without importing Keras)."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json")) as f:
            return json.load(f).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def _import_keras_quietly():
    """Import Keras; on the TensorFlow backend, with TensorFlow's C++ start-up chatter
    (absl, oneDNN, CUDA probes on a CPU machine) sent to /dev/null. Python exceptions
    still propagate; only what the C++ runtime writes to stderr during the import is
    dropped. On the other backends TensorFlow is not imported."""
    backend = _configured_backend()
    if ("keras" not in sys.modules and backend in ("tensorflow", "jax", "torch")
            and importlib.util.find_spec(backend) is None):
        raise ImportError(
            f"keras_gan runs on Keras's {backend!r} backend (KERAS_BACKEND, or ~/.keras/keras.json; tensorflow "
            f"by default), but {backend} is not installed: pip install keras-gan[{backend}], or choose an installed "
            "backend with KERAS_BACKEND=tensorflow, jax or torch.")
    if "keras" in sys.modules or backend != "tensorflow":
        import keras  # noqa: F401
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (some embedded interpreters)
        import keras  # noqa: F401
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                import tensorflow  # noqa: F401
                import keras  # noqa: F401
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


_import_keras_quietly()

# Registering the model, loss and penalty classes with Keras's serialization
# registry requires importing them.
from keras_gan import losses, penalties  # noqa: E402,F401
from keras_gan.ema import GeneratorEMA  # noqa: E402,F401
from keras_gan.gan import GAN  # noqa: E402,F401
from keras_gan.models import BEGAN, DRAGAN, WGAN, WGANGP, ConditionalGAN, InfoGAN  # noqa: E402,F401

_SUBMODULES = (
    "losses", "penalties", "gan", "models", "architectures", "data",
    "metrics", "callbacks", "plotting", "recipes", "cli", "evaluation", "compare", "distribute",
    "validation", "training", "serialization", "sampling", "backend", "ema", "layers", "batches",
)
_CLASSES = ("GAN", "WGAN", "WGANGP", "DRAGAN", "BEGAN", "ConditionalGAN", "InfoGAN", "GeneratorEMA")

__all__ = list(_SUBMODULES) + list(_CLASSES)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'keras_gan' has no attribute {name!r}")


def __dir__():
    return sorted(__all__ + ["__version__"])
