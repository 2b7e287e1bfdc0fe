"""Checks that fail before training: constructor arguments and the first batch of data.

Each raises a ValueError or TypeError whose message names the problem and its fix.
``check_batch`` is what ``GAN.fit`` runs on the first batch (``GAN.validate_batch``).
"""

import numbers
import sys
import warnings

import keras
import numpy as np
from keras import ops

__all__ = ["BatchNormPenaltyWarning", "check_float", "check_int", "reject", "warn_batch_norm", "first_batch",
           "check_batch"]


class BatchNormPenaltyWarning(UserWarning):
    """A batch-norm discriminator was given a per-sample gradient penalty (WGAN-GP, DRAGAN, R1).

    A warning, not an error: the combination runs, and reproducing the bug (or a
    paper's code that had it) is legitimate. Make it an error with
    ``warnings.simplefilter("error", keras_gan.gan.BatchNormPenaltyWarning)``.
    """


# ------------------------------------------------------------------------ arguments
_CONDITIONS = {"finite": lambda v: True, ">= 0": lambda v: v >= 0, "> 0": lambda v: v > 0,
               "in (0, 1]": lambda v: 0 < v <= 1, "in (0, 1)": lambda v: 0 < v < 1}


def check_float(name, value, condition, hint=""):
    """``float(value)`` if it is a finite real number meeting ``condition`` ("finite",
    ">= 0", "> 0", "in (0, 1]" or "in (0, 1)"); otherwise a ValueError (a TypeError for a non-number)
    that names ``name``. NaN and infinity are always refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__}).")
    result = float(value)
    if not np.isfinite(result) or not _CONDITIONS[condition](result):
        must = "a finite number" if condition == "finite" else f"{condition}, a finite number"
        raise ValueError(f"{name} must be {must}{hint}; got {value!r}.")
    return result


def check_int(name, value, minimum, hint=""):
    """``int(value)`` if it is an integer >= ``minimum``, else a ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}{hint}, got {value!r}.")
    return int(value)


def reject(owner, kwargs, **advice):
    """TypeError for an argument ``owner`` does not take: ``advice[key]`` says what to
    pass instead (an argument that would otherwise be dropped without a word)."""
    for key, text in advice.items():
        if key in kwargs:
            raise TypeError(f"{owner} takes no {key!r} (got {key}={kwargs[key]!r}): {text}")


def has_batch_norm(model):
    return any(isinstance(layer, keras.layers.BatchNormalization) for layer in model._flatten_layers())


def warn_batch_norm(penalty, discriminator):
    """BatchNormPenaltyWarning if a per-sample penalty meets a batch-norm discriminator."""
    if penalty is not None and getattr(penalty, "per_sample", False) and has_batch_norm(discriminator):
        warnings.warn(
            f"The discriminator '{discriminator.name}' has BatchNormalization layers, but the "
            f"{penalty.name or type(penalty).__name__} penalty is defined per sample and batch norm couples "
            "the samples of a batch. Build the critic without batch norm or with layer norm (e.g. "
            "keras_gan.architectures.dcgan_discriminator(norm=None) or norm='layer').",
            BatchNormPenaltyWarning, stacklevel=4)


def input_width(model):
    """The width of a model's first input's last axis, or None if unknown."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        return None
    return inputs[0].shape[-1]


# ------------------------------------------------------------------------ first batch
def first_batch(x, y, batch_size):
    """The first element ``fit`` will train on, or None where peeking is not safe
    (Python generators and iterators: peeking would consume a batch)."""
    tf = sys.modules.get("tensorflow")   # tf.data and tf tensors exist only if TensorFlow is loaded
    if tf is not None and isinstance(x, tf.data.Dataset):
        for element in x.take(1):
            return element
        raise ValueError("The dataset passed to fit() is empty.")
    if isinstance(x, keras.utils.PyDataset):
        return x[0]
    if isinstance(x, np.ndarray) or (tf is not None and tf.is_tensor(x)):
        n = batch_size or 32
        return (x[:n],) if y is None else (x[:n], y[:n])
    return None


def _ends_in_tanh(model):
    """True if the model's output layer is (or ends with) a tanh, so its outputs lie in [-1, 1]."""
    layers = getattr(model, "layers", None)
    if not layers:
        return False
    activation = getattr(layers[-1], "activation", None)
    return getattr(activation, "__name__", None) == "tanh"


def _shape_text(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def check_batch(real, generator, discriminator):
    """Check one batch of real inputs against the networks: a float dtype, the shape
    the discriminator takes, no NaN or infinity, and values in [-1, 1] when the
    generator ends in tanh or the data are images."""
    if isinstance(real, (tuple, list, dict)):
        return
    real = ops.convert_to_numpy(real)
    if not np.issubdtype(real.dtype, np.floating):
        raise TypeError(
            f"The training data are {real.dtype} (first batch in [{real.min()}, {real.max()}]); "
            "GANs here train on float32 inputs, images scaled to [-1, 1]: convert them with "
            "x.astype('float32') / 127.5 - 1 (keras_gan.data.to_float does this for uint8 images).")
    expected = discriminator.inputs[0].shape if getattr(discriminator, "inputs", None) else None
    if expected is not None:
        got = tuple(real.shape)
        if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected[1:], got[1:])):
            hint = ""
            if len(got) + 1 == len(expected) and expected[-1] == 1:
                hint = " Add the channel axis: x[..., None] (or tf.expand_dims(x, -1) in a dataset map)."
            elif len(got) == len(expected) and len(got) == 4 and got[1:3] == tuple(expected[1:3]):
                hint = (f" The channel counts differ ({got[-1]} vs {expected[-1]}): build the "
                        f"networks for {got[-1]} channels (image_shape={got[1:]}) or convert the images.")
            raise ValueError(
                f"The training batches have shape {_shape_text(got)}, but the discriminator "
                f"'{discriminator.name}' takes inputs of shape {_shape_text(expected)} "
                f"(batch first).{hint}")
    if not np.all(np.isfinite(real)):
        raise ValueError(f"The first training batch contains {int(np.sum(~np.isfinite(real)))} NaN or "
                         "infinite values; clean the data (e.g. np.nan_to_num, or drop those rows).")
    low, high = float(real.min()), float(real.max())
    if (_ends_in_tanh(generator) or real.ndim == 4) and (low < -1.0 - 1e-3 or high > 1.0 + 1e-3):
        fix = ("these look like 8-bit images: use x / 127.5 - 1" if high > 2.0 and low >= 0.0
               else "rescale them, e.g. 2 * (x - x.min()) / (x.max() - x.min()) - 1")
        raise ValueError(
            f"The first training batch has values in [{low:.4g}, {high:.4g}], but the data must lie "
            f"in [-1, 1], the range of the generator's tanh output: {fix}.")
