"""Models built on the shared `GAN.train_step`: thin subclasses that change
defaults or one hook, never the step itself.

WGAN, WGANGP and DRAGAN are the Wasserstein family and its local cousin.
BEGAN, ConditionalGAN and InfoGAN change the game itself, each through hooks:

    BEGAN           discriminate -> per-sample L1 reconstruction error; its own
                    losses; after_discriminator_step updates k
    ConditionalGAN  unpack_batch -> (images, one-hot labels); generator_inputs and
                    discriminate feed the label to both networks
    InfoGAN         sample_latent adds the codes; discriminate returns (logit, q);
                    adversarial_output picks the logit; both losses add lambda L_I
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_gan.distribute import per_replica
from keras_gan.gan import GAN

__all__ = ["WGAN", "WGANGP", "DRAGAN", "BEGAN", "ConditionalGAN", "InfoGAN",
           "began_k_update", "began_convergence", "mutual_information_terms"]


def _drop(config, *keys):
    for key in keys:
        config.pop(key, None)
    return config


@keras.saving.register_keras_serializable("keras_gan")
class WGAN(GAN):
    r"""Wasserstein GAN with weight clipping (Arjovsky, Chintala & Bottou 2017).

    Critic:    max_w  E[D_w(x)] - E[D_w(G(z))],  then  w <- clip(w, -c, c)
    Generator: min    -E[D_w(G(z))]

    Clipping every critic weight to [-c, c] after each critic update keeps D
    K-Lipschitz for some K, so -L_D estimates K * W_1(p_data, p_g). Paper
    defaults: c = 0.01, n_critic = 5, RMSprop(5e-5), batch 64. Clipping also
    bounds the critic's capacity: most weights pile up at +-c (notebook 03).
    Paper: https://arxiv.org/abs/1701.07875
    """

    def __init__(self, generator, discriminator, latent_dim, clip_value=0.01, d_steps=5, **kwargs):
        if float(clip_value) <= 0:
            raise ValueError(f"clip_value must be > 0 (the critic's weights are clipped to "
                             f"[-clip_value, clip_value]), got {clip_value!r}.")
        kwargs.setdefault("loss", "wasserstein")
        super().__init__(generator, discriminator, latent_dim, d_steps=d_steps, **kwargs)
        self.clip_value = float(clip_value)

    def after_discriminator_step(self, logs):
        for variable in self.discriminator.trainable_variables:
            variable.assign(ops.clip(variable, -self.clip_value, self.clip_value))

    def get_config(self):
        config = super().get_config()
        config["clip_value"] = self.clip_value
        return config


@keras.saving.register_keras_serializable("keras_gan")
class WGANGP(GAN):
    r"""WGAN with gradient penalty (Gulrajani et al. 2017).

    Critic:    E[D(G(z))] - E[D(x)] + lambda E[(||grad D(x_hat)||_2 - 1)^2]
    Generator: -E[D(G(z))]
    x_hat = alpha x + (1 - alpha) G(z), alpha ~ U(0, 1) per sample.

    Paper defaults: lambda = 10, n_critic = 5, Adam(1e-4, beta_1=0, beta_2=0.9)
    (the authors' code uses beta_1 = 0.5). The critic must not use batch norm.
    Paper: https://arxiv.org/abs/1704.00028
    """

    def __init__(self, generator, discriminator, latent_dim, gp_weight=10.0, d_steps=5, **kwargs):
        kwargs.setdefault("loss", "wasserstein")
        kwargs.pop("penalty", None)
        kwargs.pop("penalty_weight", None)
        super().__init__(generator, discriminator, latent_dim, penalty="gradient_penalty",
                         penalty_weight=gp_weight, d_steps=d_steps, **kwargs)

    @property
    def gp_weight(self):
        return self.penalty_weight

    def get_config(self):
        config = _drop(super().get_config(), "penalty", "penalty_weight")
        config["gp_weight"] = self.gp_weight
        return config


@keras.saving.register_keras_serializable("keras_gan")
class DRAGAN(GAN):
    r"""DRAGAN, "Deep Regret Analytic GAN" (Kodali et al. 2017).

    Discriminator: non-saturating loss + lambda E[(||grad D(x_hat)||_2 - 1)^2]
    x_hat = x + alpha (x_p - x),  x_p = x + c std(x) U[0, 1),  alpha ~ U(0, 1).
    Generator: non-saturating loss.

    The penalty is *local*: x_hat lies near the real data, not on lines between
    real and fake samples as in WGAN-GP. Paper defaults: lambda = 10, c = 0.5,
    Adam(1e-4, 0.5, 0.9). (DRAGAN is not a "reconstruction" network.)
    Paper: https://arxiv.org/abs/1705.07215
    """

    def __init__(self, generator, discriminator, latent_dim, penalty_weight=10.0, c=0.5, **kwargs):
        kwargs.setdefault("loss", "non_saturating")
        kwargs.pop("penalty", None)
        kwargs.pop("dragan_c", None)
        super().__init__(generator, discriminator, latent_dim, penalty="dragan",
                         penalty_weight=penalty_weight, dragan_c=c, **kwargs)

    @property
    def c(self):
        return self.dragan_c

    def get_config(self):
        config = _drop(super().get_config(), "penalty", "dragan_c")
        config["c"] = self.dragan_c
        return config


# ---------------------------------------------------------------------------- helpers


def _check_weight(name, value):
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return value


def _code_rng(seed):
    """numpy generator for codes and labels in ``generate``: a stream separate from the
    noise (``GAN.latent_numpy(n, seed)``), so fixing the seed fixes the noise whatever
    codes are asked for."""
    return np.random.default_rng(None if seed is None else [int(seed), 1])


def _output_widths(model):
    return [tuple(t.shape)[-1] for t in model.outputs]


# ------------------------------------------------------------------------------ BEGAN


def began_k_update(k, real_error, fake_error, gamma=0.5, lambda_k=1e-3):
    """BEGAN's proportional control of k (Berthelot et al. 2017, eq. 4):
    ``clip(k + lambda_k (gamma L(x) - L(G(z))), 0, 1)``. Works on numpy values and tensors."""
    value = ops.convert_to_tensor(k + lambda_k * (gamma * real_error - fake_error), "float32")
    return ops.clip(value, 0.0, 1.0)


def began_convergence(real_error, fake_error, gamma=0.5):
    """BEGAN's convergence measure ``M = L(x) + |gamma L(x) - L(G(z))|`` (section 3.4.1)."""
    return real_error + ops.abs(gamma * real_error - fake_error)


@keras.saving.register_keras_serializable("keras_gan")
class BEGAN(GAN):
    r"""Boundary Equilibrium GAN (Berthelot, Schumm & Metz 2017).

    The discriminator is an autoencoder; L(v) = mean |v - AE(v)| is its L1
    reconstruction error, averaged over the pixels of each sample (then over
    the batch in the losses):

        L_D = L(x) - k_t L(G(z))                 (autoencoder)
        L_G = L(G(z))                            (generator)
        k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1),  k_0 = 0

    k is a proportional controller that keeps E[L(G(z))] = gamma E[L(x)]:
    gamma (the diversity ratio) trades diversity (high) for quality (low). k is
    updated after every discriminator step, from the L(x) and L(G(z)) of that
    step, and lives in a non-trainable variable (``model.k``), so it survives
    ``save``/``load_model`` and resume. The convergence measure
    M = L(x) + |gamma L(x) - L(G(z))| falls as training converges.

    Progress bar: ``d_loss``, ``g_loss``, ``k`` and ``M``, epoch means of their
    per-step values; ``model.k`` and ``model.convergence`` hold the last step's
    k and M (both saved with the model).

    Paper defaults: gamma 0.5 (0.3 to 0.7 in the paper), lambda_k 1e-3, Adam
    with a learning rate of 1e-4 (5e-5 to 1e-4), halved when M stalls, batch
    size 16, ELU networks without batch norm, linear embedding h = 64. The paper
    gives no Adam betas; ``keras_gan.recipes`` uses (0.5, 0.999) as the DCGAN
    recipe. The generator may be any generator of the right shape (the paper
    uses the decoder's architecture). BEGAN has no adversarial ``loss`` and
    no ``penalty`` argument.
    Paper: https://arxiv.org/abs/1703.10717

    Args:
        generator: ``keras.Model``, latents (B, latent_dim) -> images.
        autoencoder: ``keras.Model``, images -> reconstructions of the same shape
            (e.g. ``architectures.began_autoencoder``).
        latent_dim: width of z ~ N(0, I).
        gamma: the equilibrium ratio E[L(G(z))] / E[L(x)], in (0, 1].
        lambda_k: the learning rate of k (>= 0).
    """

    def __init__(self, generator, autoencoder, latent_dim, gamma=0.5, lambda_k=1e-3, **kwargs):
        gamma, lambda_k = float(gamma), _check_weight("lambda_k", lambda_k)
        if not 0 < gamma <= 1:
            raise ValueError(f"gamma must be in (0, 1] (the ratio E[L(G(z))] / E[L(x)]), got {gamma!r}.")
        for key in ("loss", "penalty"):
            if kwargs.pop(key, None) is not None:
                raise ValueError(f"BEGAN takes no {key!r}: its losses are fixed by the paper "
                                 "(L(x) - k L(G(z)) and L(G(z))).")
        kwargs.pop("penalty_weight", None)
        super().__init__(generator, autoencoder, latent_dim, **kwargs)
        self.loss_fn = None
        self.gamma, self.lambda_k = gamma, lambda_k
        self._check_autoencoder()
        # "mean": under tf.distribute every replica's update is averaged, which
        # is the update of the global batch (k's update is linear in L).
        self.k = self.add_weight(shape=(), dtype="float32", initializer="zeros", trainable=False,
                                 autocast=False, aggregation="mean", name="k")
        self.convergence = self.add_weight(shape=(), dtype="float32", initializer="zeros",
                                           trainable=False, autocast=False, aggregation="mean", name="M")

    def _check_autoencoder(self):
        ae = self.discriminator
        if getattr(ae, "inputs", None) and getattr(ae, "outputs", None):
            if len(ae.outputs) != 1 or tuple(ae.inputs[0].shape[1:]) != tuple(ae.outputs[0].shape[1:]):
                raise ValueError(
                    f"BEGAN's discriminator must be an autoencoder whose output has its input's shape; "
                    f"'{ae.name}' maps {tuple(ae.inputs[0].shape)} to "
                    f"{[tuple(t.shape) for t in ae.outputs]}. Use keras_gan.architectures."
                    "began_autoencoder() or mlp_autoencoder().")

    @property
    def autoencoder(self):
        return self.discriminator

    def tracked_metric_names(self):
        return ["d_loss", "g_loss", "k", "M"]

    def reconstruction_error(self, images, training=False):
        """L(v) per sample: the mean absolute reconstruction error over all non-batch axes, (B,)."""
        images = ops.cast(images, "float32")
        reconstruction = ops.cast(self.discriminator(images, training=training), "float32")
        axes = tuple(range(1, len(images.shape)))
        return ops.mean(ops.abs(images - reconstruction), axis=axes)

    def discriminate(self, images, condition=None, training=False):
        return self.reconstruction_error(images, training=training)

    def discriminator_losses(self, real, fake, real_out, fake_out, latent, condition):
        real_error, fake_error = ops.mean(real_out), ops.mean(fake_out)
        d_loss = real_error - ops.convert_to_tensor(self.k) * fake_error
        return d_loss, {"d_loss": d_loss, "real_error": real_error, "fake_error": fake_error,
                        "M": began_convergence(real_error, fake_error, self.gamma)}

    def generator_losses(self, real, fake, real_out, fake_out, latent, condition):
        g_loss = ops.mean(fake_out)
        return g_loss, {"g_loss": g_loss}

    def after_discriminator_step(self, logs):
        real_error = ops.stop_gradient(logs["real_error"])
        fake_error = ops.stop_gradient(logs["fake_error"])
        k = began_k_update(ops.convert_to_tensor(self.k), real_error, fake_error, self.gamma, self.lambda_k)
        self.k.assign(k)
        self.convergence.assign(logs["M"])
        logs["k"] = k

    def get_config(self):
        config = super().get_config()
        for key in ("loss", "penalty", "penalty_weight", "dragan_c"):
            config.pop(key, None)
        config["autoencoder"] = config.pop("discriminator")
        config.update({"gamma": self.gamma, "lambda_k": self.lambda_k})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "autoencoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


# ----------------------------------------------------------------------- conditional GAN


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

    def __init__(self, generator, discriminator, latent_dim, num_classes=10, loss="non_saturating",
                 **kwargs):
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}.")
        super().__init__(generator, discriminator, latent_dim, loss=loss, **kwargs)
        self.num_classes = int(num_classes)
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
        the range [0, num_classes) is checked when it runs, except under XLA.
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
        if tf.executing_eagerly():
            values = ops.convert_to_numpy(labels)
            if values.size and (values.min() < 0 or values.max() >= self.num_classes):
                raise ValueError(f"ConditionalGAN labels must lie in [0, {self.num_classes}), got values "
                                 f"from {values.min()} to {values.max()}.")
        else:
            with tf.control_dependencies([
                    tf.debugging.assert_non_negative(labels, message="ConditionalGAN labels must be >= 0"),
                    tf.debugging.assert_less(labels, tf.cast(self.num_classes, labels.dtype),
                                             message=f"ConditionalGAN labels must be < {self.num_classes}")]):
                labels = tf.identity(labels)
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
            return _code_rng(seed).integers(self.num_classes, size=n)
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

    def generate(self, n, labels=None, seed=None, noise=None, batch_size=256):
        """``n`` samples of the classes ``labels`` (one int, or an int array (n,);
        None: uniform random classes). ``noise`` (n, latent_dim) replaces the z drawn
        from ``seed``."""
        n = int(n)
        z = self.latent_numpy(n, seed) if noise is None else np.asarray(noise, "float32")
        labels = self._labels_numpy(n, labels, seed)
        one_hot = np.eye(self.num_classes, dtype="float32")[labels]
        return self._run_generator((z, one_hot), batch_size)

    def grid_samples(self, seed=None, per_row=8, class_names=None):
        """One row per class; the columns share their noise z across rows."""
        labels = np.repeat(np.arange(self.num_classes), per_row)
        noise = np.tile(self.latent_numpy(per_row, seed), (self.num_classes, 1))
        names = list(class_names) if class_names is not None else [str(c) for c in range(self.num_classes)]
        return self.generate(len(labels), labels=labels, noise=noise), self.num_classes, names

    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config


# --------------------------------------------------------------------------------- InfoGAN


def mutual_information_terms(q_output, cat_targets, cont_targets, num_categories):
    r"""InfoGAN's two terms of -L_I (without H(c)), each a batch mean:

        categorical  -E[ sum_j c_j log softmax(q_cat)_j ]    (cross-entropy, c one-hot)
        continuous    E[ sum_j (c_j - mu_j)^2 / 2 ]          (Gaussian NLL, sigma = 1,
                                                              without its constant)

    ``q_output`` is the Q head (B, num_categories + num_continuous): categorical
    logits, then the predicted means mu of the continuous codes. Returns
    ``(categorical, continuous)``; a term whose code is absent is 0.
    """
    q_output = ops.cast(q_output, "float32")
    zero = ops.zeros((), "float32")
    cat = zero
    if num_categories:
        log_probs = ops.log_softmax(q_output[:, :num_categories], axis=-1)
        cat = -ops.mean(ops.sum(ops.cast(cat_targets, "float32") * log_probs, axis=-1))
    cont = zero
    if q_output.shape[-1] > num_categories:
        mean = q_output[:, num_categories:]
        cont = ops.mean(0.5 * ops.sum(ops.square(ops.cast(cont_targets, "float32") - mean), axis=-1))
    return cat, cont


@keras.saving.register_keras_serializable("keras_gan")
class InfoGAN(GAN):
    r"""InfoGAN (Chen et al. 2016): a GAN that maximises the mutual information
    between latent codes c and the samples G(z, c).

        min_{G,Q} max_D  V(D, G) - lambda L_I(G, Q)
        L_I = E_{c, x ~ G(z, c)}[log Q(c | x)] + H(c)  <=  I(c; G(z, c))

    The generator's input is ``[z, one-hot(c_cat), c_cont]``, z ~ N(0, I) of
    ``latent_dim``, c_cat ~ Cat(num_categories) uniform, c_cont ~ U(-1, 1)^num_continuous.
    The discriminator has two outputs, ``[logit, q]``; Q shares every layer of
    D's body (``architectures.infogan_discriminator``), so L_I costs one extra head.
    Both players minimise their adversarial loss plus

        categorical_weight * CE(q_cat, c_cat) + continuous_weight * sum_j (c_j - mu_j)^2 / 2

    on the fake batch (``mutual_information_terms``), as in the paper: in the
    discriminator step the gradient trains Q (and the shared body), in the
    generator step it makes G's samples reveal their codes.

    Continuous codes: a Gaussian Q(c_j | x) with a predicted mean and a *fixed*
    sigma = 1, so the NLL is (c - mu)^2 / 2 plus a constant, i.e. a scaled MSE.
    This is what the authors' code does for MNIST (``fix_std=True``). A learned
    log-variance makes the NLL unbounded below (Q can drive sigma to 0 on a code
    it predicts well), and since L_I enters both players' losses that term can
    swamp the adversarial game; any fixed sigma still gives a valid (looser)
    lower bound on I(c; G(z, c)).

    Paper defaults (MNIST): 62 noise dimensions, Cat(10), 2 x U(-1, 1), lambda 1
    for the categorical code and a smaller one for continuous codes (the
    authors' code uses 1 with sigma fixed; we default to continuous_weight 0.1,
    the paper's advice); Adam with learning rates 2e-4 (D) and 1e-3 (G), beta_1 0.5.
    Paper: https://arxiv.org/abs/1606.03657

    Progress bar: ``d_loss`` and ``g_loss`` (adversarial parts), ``info_cat`` and
    ``info_cont`` (the two terms on the discriminator step's fake batch).

    Args:
        generator: ``keras.Model`` on (B, latent_dim + num_categories + num_continuous).
        discriminator: ``keras.Model`` with outputs ``[logit (B, 1), q (B, num_categories +
            num_continuous)]``.
        latent_dim: width of the incompressible noise z.
        num_categories: size of the categorical code (0: none).
        num_continuous: number of U(-1, 1) codes (0: none).
        categorical_weight, continuous_weight: lambda of each term of L_I.
        loss, penalty, d_steps, seed...: as in ``GAN`` (a penalty differentiates the logit).
    """

    def __init__(self, generator, discriminator, latent_dim=62, num_categories=10, num_continuous=2,
                 categorical_weight=1.0, continuous_weight=0.1, loss="non_saturating", **kwargs):
        for name, value in (("num_categories", num_categories), ("num_continuous", num_continuous)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}.")
        if num_categories == 1 or num_categories + num_continuous < 1:
            raise ValueError(f"InfoGAN needs at least one code: num_categories >= 2 or num_continuous >= 1 "
                             f"(got num_categories={num_categories}, num_continuous={num_continuous}).")
        # Set before GAN.__init__, whose checks and metric list depend on them.
        self.num_categories, self.num_continuous = int(num_categories), int(num_continuous)
        self.categorical_weight = _check_weight("categorical_weight", categorical_weight)
        self.continuous_weight = _check_weight("continuous_weight", continuous_weight)
        super().__init__(generator, discriminator, latent_dim, loss=loss, **kwargs)
        widths = _output_widths(discriminator) if getattr(discriminator, "outputs", None) else None
        if widths is not None and (len(widths) != 2 or widths[1] != self.code_width):
            raise ValueError(
                f"InfoGAN needs a discriminator with two outputs, [logit (B, 1), q (B, {self.code_width})] "
                f"(num_categories + num_continuous = {self.num_categories} + {self.num_continuous}); "
                f"'{discriminator.name}' has output widths {widths}. Use keras_gan.architectures."
                "infogan_discriminator() or mlp_infogan_discriminator().")

    @property
    def code_width(self):
        return self.num_categories + self.num_continuous

    def generator_input_width(self):
        return self.latent_dim + self.code_width

    def _check_latent_dim(self):
        width = getattr(self.generator, "inputs", None) and self.generator.inputs[0].shape[-1]
        if width and width != self.generator_input_width():
            raise ValueError(
                f"InfoGAN's generator takes [z, one-hot category, continuous codes], of width latent_dim "
                f"+ num_categories + num_continuous = {self.latent_dim} + {self.num_categories} + "
                f"{self.num_continuous} = {self.generator_input_width()}; '{self.generator.name}' takes "
                f"{width}. Build it with that input width, or change latent_dim.")

    def tracked_metric_names(self):
        names = super().tracked_metric_names()
        if self.num_categories:
            names.append("info_cat")
        if self.num_continuous:
            names.append("info_cont")
        return names

    # ---------------------------------------------------------------- hooks
    def sample_latent(self, batch_size, condition=None):
        # per_replica: under tf.distribute each replica takes its rows of the global
        # batch's draw, instead of every replica drawing the same codes.
        seed = self.seed_generator
        parts = [super().sample_latent(batch_size, condition)]
        if self.num_categories:
            cat = per_replica(lambda shape: keras.random.randint(shape, 0, self.num_categories, seed=seed),
                              (batch_size,))
            parts.append(ops.one_hot(cat, self.num_categories, dtype="float32"))
        if self.num_continuous:
            parts.append(per_replica(lambda shape: keras.random.uniform(shape, -1.0, 1.0, seed=seed),
                                     (batch_size, self.num_continuous)))
        return ops.concatenate(parts, axis=1)

    def split_latent(self, latent):
        """(z, one-hot category, continuous codes) from a generator input."""
        z_end, cat_end = self.latent_dim, self.latent_dim + self.num_categories
        return latent[:, :z_end], latent[:, z_end:cat_end], latent[:, cat_end:]

    def discriminate(self, images, condition=None, training=False):
        logit, q = self.discriminator(images, training=training)
        return logit, q

    def adversarial_output(self, output):
        return output[0]

    def information_terms(self, q_output, latent):
        _, cat, cont = self.split_latent(latent)
        return mutual_information_terms(q_output, cat, cont, self.num_categories)

    def _add_information(self, total, q_output, latent):
        cat, cont = self.information_terms(q_output, latent)
        total = total + self.categorical_weight * cat + self.continuous_weight * cont
        return total, cat, cont

    def discriminator_losses(self, real, fake, real_out, fake_out, latent, condition):
        total, logs = super().discriminator_losses(real, fake, real_out[0], fake_out[0], latent, condition)
        total, cat, cont = self._add_information(total, fake_out[1], latent)
        if self.num_categories:
            logs["info_cat"] = cat
        if self.num_continuous:
            logs["info_cont"] = cont
        return total, logs

    def generator_losses(self, real, fake, real_out, fake_out, latent, condition):
        total, logs = super().generator_losses(real, fake, None if real_out is None else real_out[0],
                                               fake_out[0], latent, condition)
        total, _, _ = self._add_information(total, fake_out[1], latent)
        return total, logs

    # -------------------------------------------------------------- sampling
    def latent_codes(self, n, categories=None, continuous=None, seed=None, noise=None):
        """The generator input (n, latent_dim + codes) as numpy: z from ``seed`` (or
        ``noise``), categories (one int or (n,) ints; None: uniform), continuous codes
        (a scalar, (num_continuous,), (n, num_continuous); None: U(-1, 1))."""
        n = int(n)
        rng = _code_rng(seed)
        z = self.latent_numpy(n, seed) if noise is None else np.asarray(noise, "float32")
        if z.shape != (n, self.latent_dim):
            raise ValueError(f"noise must have shape ({n}, {self.latent_dim}), got {z.shape}.")
        parts = [z]
        cat_draw = rng.integers(max(self.num_categories, 1), size=n)
        cont_draw = rng.uniform(-1.0, 1.0, (n, self.num_continuous))
        if self.num_categories:
            cats = cat_draw if categories is None else np.asarray(categories)
            if cats.dtype.kind not in "iu":
                raise TypeError(f"categories must be integers in [0, {self.num_categories}), got dtype {cats.dtype}.")
            cats = np.broadcast_to(cats, (n,)) if cats.ndim == 0 else cats
            if cats.shape != (n,) or cats.min() < 0 or cats.max() >= self.num_categories:
                raise ValueError(f"categories must be one integer or ({n},) integers in "
                                 f"[0, {self.num_categories}), got {cats!r:.80}.")
            parts.append(np.eye(self.num_categories, dtype="float32")[cats])
        elif categories is not None:
            raise ValueError("This InfoGAN has no categorical code (num_categories=0).")
        if self.num_continuous:
            cont = cont_draw if continuous is None else np.asarray(continuous, "float32")
            try:
                cont = np.broadcast_to(cont, (n, self.num_continuous))
            except ValueError:
                raise ValueError(f"continuous must broadcast to ({n}, {self.num_continuous}), "
                                 f"got shape {cont.shape}.") from None
            parts.append(cont.astype("float32"))
        elif continuous is not None:
            raise ValueError("This InfoGAN has no continuous code (num_continuous=0).")
        return np.concatenate(parts, axis=1).astype("float32")

    def generate(self, n, categories=None, continuous=None, seed=None, noise=None, batch_size=256):
        """``n`` samples with the given codes (see ``latent_codes``); e.g. a latent
        traversal: ``generate(9, categories=3, continuous=np.stack([np.linspace(-1, 1, 9),
        np.zeros(9)], 1), noise=np.repeat(z, 9, 0))``."""
        return self._run_generator(self.latent_codes(n, categories, continuous, seed, noise), batch_size)

    def predict_codes(self, images, batch_size=256):
        """Q's reading of ``images``: (categorical probabilities (n, num_categories),
        continuous means (n, num_continuous)) as numpy."""
        qs = []
        for start in range(0, len(images), batch_size):
            chunk = ops.convert_to_tensor(np.asarray(images[start:start + batch_size], "float32"))
            qs.append(ops.convert_to_numpy(self.discriminator(chunk, training=False)[1]))
        q = np.concatenate(qs, axis=0).astype("float32")
        logits = q[:, :self.num_categories]
        probs = np.exp(logits - logits.max(axis=1, keepdims=True)) if self.num_categories else logits
        if self.num_categories:
            probs /= probs.sum(axis=1, keepdims=True)
        return probs, q[:, self.num_categories:]

    def grid_samples(self, seed=None, per_row=8, class_names=None):
        """One row per categorical value; each column keeps its z and continuous codes."""
        rows = max(self.num_categories, 1)
        base = self.latent_codes(per_row, seed=seed)
        latent = np.tile(base, (rows, 1))
        if self.num_categories:
            cats = np.repeat(np.arange(rows), per_row)
            start = self.latent_dim
            latent[:, start:start + rows] = np.eye(rows, dtype="float32")[cats]
        names = [f"c={c}" for c in range(rows)] if self.num_categories else None
        return self._run_generator(latent), rows, names

    def get_config(self):
        config = super().get_config()
        config.update({"num_categories": self.num_categories, "num_continuous": self.num_continuous,
                       "categorical_weight": self.categorical_weight,
                       "continuous_weight": self.continuous_weight})
        return config
