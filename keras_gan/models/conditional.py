"""Conditional GAN: both networks see the class label."""

import keras
import numpy as np
from keras import ops

from keras_gan import backend, sampling, validation
from keras_gan.gan import GAN

__all__ = ["ConditionalGAN"]


@keras.saving.register_keras_serializable("keras_gan")
class ConditionalGAN(GAN):
    r"""Conditional GAN (Mirza & Osindero 2014): both networks see the class label.

        D(x, y),  G(z, y):  any loss of ``keras_gan.losses`` on D(x, y) and D(G(z, y), y)

    The label enters both networks as a one-hot vector on a second input: the
    generator concatenates it with z before its first dense layer; the MLP
    discriminator concatenates it with the point; the convolutional
    discriminator broadcasts it to ``num_classes`` constant feature maps and
    concatenates them with the image channels (``architectures``' builders with
    ``extra_input_dim=num_classes`` do all three). The fake batch of every
    step uses the labels of the real batch, so fakes follow the data's class
    frequencies and D compares real and fake of the same classes; a penalty
    (``penalty="gradient_penalty"``...) differentiates D(., y) with those labels.

    Training data: ``(inputs, labels)`` batches with integer labels in
    [0, num_classes) of shape (B,) or (B, 1), e.g. ``kg.data.load(name,
    with_labels=True)`` or ``kg.data.mixture("ring8").dataset(with_labels=True)``.
    ``generate(n, labels=..., seed=...)`` draws samples of the asked classes.
    Paper: https://arxiv.org/abs/1411.1784

    Args:
        generator: ``keras.Model`` on ``[z (B, latent_dim), one-hot (B, num_classes)]``.
        discriminator: ``keras.Model`` on ``[inputs, one-hot (B, num_classes)]``.
        latent_dim: width of z ~ N(0, I).
        num_classes: number of classes (>= 2).
        loss, penalty, penalty_weight, d_steps, seed: as in ``GAN``.
    """

    uses_labels = True
    generate_keywords = ("labels", "seed", "noise", "batch_size", "use_ema")

    def __init__(self, generator, discriminator, latent_dim, num_classes=10, loss="non_saturating",
                 **kwargs):
        num_classes = validation.check_int("num_classes", num_classes, 2)
        super().__init__(generator, discriminator, latent_dim, loss=loss, **kwargs)
        self.num_classes = num_classes
        for role, model in (("generator", generator), ("discriminator", discriminator)):
            inputs = getattr(model, "inputs", None)
            if inputs is not None and (len(inputs) != 2 or inputs[1].shape[-1] != self.num_classes):
                builder = "mlp_generator" if role == "generator" else "mlp_discriminator"
                raise ValueError(
                    f"ConditionalGAN needs a {role} with two inputs, the second a one-hot label of width "
                    f"num_classes={self.num_classes}; '{model.name}' has inputs "
                    f"{[tuple(t.shape) for t in inputs]}. Build it with extra_input_dim={self.num_classes}, "
                    f"e.g. keras_gan.architectures.{builder}(..., extra_input_dim={self.num_classes}).")

    # --------------------------------------------------------------- labels
    def one_hot(self, labels, batch_size=None):
        """Integer labels (B,) or (B, 1) -> float32 one-hot (B, num_classes), with checks.

        Shape and dtype are checked when the step is traced (ValueError, TypeError);
        the range [0, num_classes) is checked when it runs, except under XLA (so never in
        JAX's jitted step: there ``fit``'s first-batch check is the one that sees labels).
        """
        labels = ops.convert_to_tensor(labels)
        dtype = keras.backend.standardize_dtype(labels.dtype)
        if "int" not in dtype:
            raise TypeError(
                f"ConditionalGAN labels must be integer class indices in [0, {self.num_classes}), got "
                f"dtype {dtype}. Pass integer labels (e.g. kg.data.load(..., with_labels=True)); "
                "for one-hot labels pass argmax(labels, axis=-1).")
        shape = tuple(labels.shape)
        if len(shape) == 2 and shape[1] == 1:
            labels = ops.reshape(labels, (-1,))
        elif len(shape) != 1:
            raise ValueError(f"ConditionalGAN labels must have shape (batch,) or (batch, 1), got {shape}.")
        if batch_size is not None and labels.shape[0] is not None and labels.shape[0] != batch_size:
            raise ValueError(f"ConditionalGAN got {labels.shape[0]} labels for a batch of {batch_size} inputs.")
        labels = backend.checked_range(labels, 0, self.num_classes, "ConditionalGAN labels")
        return ops.one_hot(ops.cast(labels, "int32"), self.num_classes, dtype="float32")

    # ---------------------------------------------------------------- hooks
    def unpack_batch(self, data):
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError(
                "ConditionalGAN trains on (inputs, labels) batches, got a single tensor. Use "
                "kg.data.load(name, with_labels=True) or mixture.dataset(with_labels=True).")
        real, labels = data[0], data[1]
        return real, self.one_hot(labels, batch_size=real.shape[0])

    def generator_inputs(self, latent, condition=None):
        return [latent, ops.cast(condition, latent.dtype)]

    def discriminate(self, images, condition=None, training=False):
        return self.discriminator([images, ops.cast(condition, images.dtype)], training=training)

    # -------------------------------------------------------------- sampling
    def _labels_numpy(self, n, labels, seed):
        if labels is None:
            return sampling.code_rng(seed).integers(self.num_classes, size=n)
        labels = np.asarray(labels)
        if labels.dtype.kind not in "iu":
            raise TypeError(f"labels must be integers in [0, {self.num_classes}), got dtype {labels.dtype}.")
        labels = np.broadcast_to(labels, (n,)) if labels.ndim == 0 else labels
        if labels.shape != (n,):
            raise ValueError(f"labels must be one integer or an array of shape ({n},), got shape {labels.shape}.")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ValueError(f"labels must lie in [0, {self.num_classes}), got values from "
                             f"{labels.min()} to {labels.max()}.")
        return labels

    def generate(self, n, *positional, labels=None, seed=None, noise=None, batch_size=256, use_ema=None):
        """``n`` samples of the classes ``labels`` (one int, or an int array (n,);
        None: uniform random classes). Keyword-only after ``n``; ``noise``
        (n, latent_dim) replaces the z drawn from ``seed``; ``use_ema`` as in ``GAN.generate``."""
        sampling.only_n(self, "generate", positional, self.generate_keywords)
        network = self.sampling_generator(use_ema)
        n = int(n)
        z = self.noise_numpy(n, seed, noise)
        labels = self._labels_numpy(n, labels, seed)
        one_hot = np.eye(self.num_classes, dtype="float32")[labels]
        return sampling.run_generator(network, (z, one_hot), batch_size)

    def grid_samples(self, seed=None, per_row=8, class_names=None, use_ema=None):
        """One row per class; the columns share their noise z across rows."""
        labels = np.repeat(np.arange(self.num_classes), per_row)
        noise = np.tile(self.latent_numpy(per_row, seed), (self.num_classes, 1))
        names = list(class_names) if class_names is not None else [str(c) for c in range(self.num_classes)]
        images = self.generate(len(labels), labels=labels, noise=noise, use_ema=use_ema)
        return images, self.num_classes, names

    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config
