"""DRAGAN: the non-saturating GAN with a local gradient penalty."""

import keras

from keras_gan import penalties, validation
from keras_gan.gan import GAN

__all__ = ["DRAGAN"]


@keras.saving.register_keras_serializable("keras_gan")
class DRAGAN(GAN):
    r"""DRAGAN, "Deep Regret Analytic GAN" (Kodali et al. 2017).

    Discriminator: non-saturating loss + lambda E[(||grad D(x_hat)||_2 - 1)^2]
    x_hat = x + alpha (x_p - x),  x_p = x + c std(x) U[0, 1),  alpha ~ U(0, 1).
    Generator: non-saturating loss.

    The penalty is *local*: x_hat lies near the real data, not on lines between
    real and fake samples as in WGAN-GP. ``model.penalty`` is a
    ``penalties.DRAGANPenalty(c=c)``; lambda is ``penalty_weight``. Paper
    defaults: lambda = 10, c = 0.5, Adam(1e-4, 0.5, 0.9). (DRAGAN is not a
    "reconstruction" network.)
    Paper: https://arxiv.org/abs/1705.07215
    """

    def __init__(self, generator, discriminator, latent_dim, penalty_weight=10.0, c=0.5, **kwargs):
        validation.reject(
            "DRAGAN", kwargs,
            dragan_c=f"pass c={kwargs.get('dragan_c')!r} (DRAGAN's perturbation scale).",
            penalty=("DRAGAN's penalty is DRAGANPenalty(c); for another use kg.GAN(generator, discriminator, "
                     "latent_dim, penalty=..., penalty_weight=...)."))
        kwargs.setdefault("loss", "non_saturating")
        super().__init__(generator, discriminator, latent_dim, penalty=penalties.DRAGANPenalty(c=c),
                         penalty_weight=penalty_weight, **kwargs)

    @property
    def c(self):
        return self.penalty.c

    def get_config(self):
        config = super().get_config()
        config.pop("penalty")
        config["c"] = self.c
        return config
