"""Models built on the shared `GAN.train_step`: thin subclasses that change
defaults or one hook, never the step itself.

WGAN, WGANGP and DRAGAN are the Wasserstein family and its local cousin.
"""

import keras
from keras import ops

from keras_gan.gan import GAN

__all__ = ["WGAN", "WGANGP", "DRAGAN"]


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
