"""WGAN (weight clipping) and WGAN-GP (gradient penalty)."""

import keras
from keras import ops

from keras_gan import penalties, validation
from keras_gan.gan import GAN

__all__ = ["WGAN", "WGANGP"]


@keras.saving.register_keras_serializable("keras_gan")
class WGAN(GAN):
    r"""Wasserstein GAN with weight clipping (Arjovsky, Chintala & Bottou 2017).

    Critic:    max_w  E[D_w(x)] - E[D_w(G(z))],  then  w <- clip(w, -c, c)
    Generator: min    -E[D_w(G(z))]

    Clipping every critic weight to [-c, c] after each critic update keeps D
    K-Lipschitz for some K, so -L_D estimates K * W_1(p_data, p_g). Paper
    defaults: c = 0.01, n_critic = 5, RMSprop(5e-5), batch 64. Clipping also
    bounds the critic's capacity: most weights pile up at +-c (notebook 03).
    ``loss``, ``penalty``, ``penalty_weight`` and ``seed`` are ``GAN``'s.
    Paper: https://arxiv.org/abs/1701.07875
    """

    def __init__(self, generator, discriminator, latent_dim, clip_value=0.01, d_steps=5, **kwargs):
        clip_value = validation.check_float(
            "clip_value", clip_value, "> 0", " (the critic's weights are clipped to [-clip_value, clip_value])")
        kwargs.setdefault("loss", "wasserstein")
        super().__init__(generator, discriminator, latent_dim, d_steps=d_steps, **kwargs)
        self.clip_value = clip_value

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

    ``model.penalty`` is a ``penalties.GradientPenalty``; lambda is ``gp_weight``
    (``penalty_weight`` is refused, with a TypeError naming ``gp_weight``). For
    another penalty with the Wasserstein loss use ``GAN(..., loss="wasserstein",
    penalty=..., d_steps=5)``. Paper defaults: lambda = 10, n_critic = 5,
    Adam(1e-4, beta_1=0, beta_2=0.9) (the authors' code uses beta_1 = 0.5). The
    critic must not use batch norm.
    Paper: https://arxiv.org/abs/1704.00028
    """

    def __init__(self, generator, discriminator, latent_dim, gp_weight=10.0, d_steps=5, **kwargs):
        validation.reject(
            "WGANGP", kwargs,
            penalty_weight=f"pass gp_weight={kwargs.get('penalty_weight')!r} (WGAN-GP's lambda).",
            penalty=("WGAN-GP's penalty is the gradient penalty; for another use kg.GAN(generator, "
                     "discriminator, latent_dim, loss='wasserstein', penalty=..., penalty_weight=..., d_steps=5)."))
        gp_weight = validation.check_float("gp_weight", gp_weight, ">= 0")
        kwargs.setdefault("loss", "wasserstein")
        super().__init__(generator, discriminator, latent_dim, penalty=penalties.GradientPenalty(),
                         penalty_weight=gp_weight, d_steps=d_steps, **kwargs)

    @property
    def gp_weight(self):
        return self.penalty_weight

    def get_config(self):
        config = super().get_config()
        for key in ("penalty", "penalty_weight"):
            config.pop(key)
        config["gp_weight"] = self.gp_weight
        return config
