"""keras-gan: GAN loss functions, penalties and models for Keras 3 on TensorFlow.

    import keras_gan as kg
    gan = kg.GAN(generator, discriminator, latent_dim=64, loss="non_saturating")

Submodules and classes are imported lazily on first access, so ``import keras_gan``
costs nothing until you use it (TensorFlow itself is slow to import).
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "losses", "penalties", "gan", "models", "architectures", "data",
    "metrics", "callbacks", "plotting", "recipes", "cli", "evaluation", "compare",
)
_CLASSES = {
    "GAN": "gan",
    "WGAN": "models",
    "WGANGP": "models",
    "DRAGAN": "models",
    "BEGAN": "models",
    "ConditionalGAN": "models",
    "InfoGAN": "models",
}

__all__ = list(_SUBMODULES) + list(_CLASSES)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _CLASSES:
        module = importlib.import_module(f"{__name__}.{_CLASSES[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'keras_gan' has no attribute {name!r}")


def __dir__():
    return sorted(__all__ + ["__version__"])
