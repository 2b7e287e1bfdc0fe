"""BEGAN: an autoencoder discriminator and a proportional controller k."""

import keras
from keras import ops

from keras_gan import validation
from keras_gan.gan import GAN

__all__ = ["BEGAN", "began_k_update", "began_convergence"]


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

        L_D = L(x) - k_t L(G(z_D))                 (autoencoder)
        L_G = L(G(z_G))                            (generator)
        k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z_D))), 0, 1),  k_0 = 0

    The k update uses the discriminator step's own fake batch G(z_D), with L(x)
    and L(G(z_D)) both evaluated at the discriminator's parameters *before* its
    update: the time index of the paper's eq. 4, where L(x) and L(G(z_D)) are
    the terms of the L_D just minimised. z_D and z_G (the generator step's draw)
    are i.i.d., so E L(G(z_D)) = E L(G(z_G)); Lucic et al.'s compare_gan does
    the same. k is updated after every discriminator step (``after_discriminator_step``).

    k is a proportional controller that keeps E[L(G(z))] = gamma E[L(x)]:
    gamma (the diversity ratio) trades diversity (high) for quality (low). It
    lives in a non-trainable variable (``model.k``), so it survives
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
    uses the decoder's architecture). BEGAN's losses are fixed: ``loss``,
    ``penalty`` and ``penalty_weight`` raise a TypeError.
    Paper: https://arxiv.org/abs/1703.10717

    Args:
        generator: ``keras.Model``, latents (B, latent_dim) -> images.
        autoencoder: ``keras.Model``, images -> reconstructions of the same shape
            (e.g. ``architectures.began_autoencoder``).
        latent_dim: width of z ~ N(0, I).
        gamma: the equilibrium ratio E[L(G(z))] / E[L(x)], in (0, 1].
        lambda_k: the learning rate of k (>= 0).
        d_steps, seed: as in ``GAN``.
    """

    network_arguments = ("generator", "autoencoder")

    def __init__(self, generator, autoencoder, latent_dim, gamma=0.5, lambda_k=1e-3, **kwargs):
        fixed = ("BEGAN's losses are the paper's (L(x) - k L(G(z)) and L(G(z))) and it has no penalty; "
                 "tune it with gamma and lambda_k.")
        validation.reject("BEGAN", kwargs, loss=fixed, penalty=fixed, penalty_weight=fixed)
        gamma = validation.check_float("gamma", gamma, "in (0, 1]", " (the ratio E[L(G(z))] / E[L(x)])")
        lambda_k = validation.check_float("lambda_k", lambda_k, ">= 0")
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
        """k_{t+1} from the L(x) and L(G(z_D)) of the discriminator step just taken
        (evaluated before its update, inside its loss)."""
        real_error = ops.stop_gradient(logs["real_error"])
        fake_error = ops.stop_gradient(logs["fake_error"])
        k = began_k_update(ops.convert_to_tensor(self.k), real_error, fake_error, self.gamma, self.lambda_k)
        self.k.assign(k)
        self.convergence.assign(logs["M"])
        logs["k"] = k

    def get_config(self):
        config = super().get_config()
        for key in ("loss", "penalty", "penalty_weight"):
            config.pop(key, None)
        config["autoencoder"] = config.pop("discriminator")
        config.update({"gamma": self.gamma, "lambda_k": self.lambda_k})
        return config
