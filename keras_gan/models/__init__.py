"""Models built on the shared `GAN.train_step`: thin subclasses that change
defaults or one hook, never the step itself.

WGAN, WGANGP (``wasserstein``) and DRAGAN (``dragan``) are the Wasserstein family and
its local cousin. BEGAN, ConditionalGAN and InfoGAN change the game itself, each
through hooks:

    BEGAN           discriminate -> per-sample L1 reconstruction error; its own
                    losses; after_discriminator_step updates k
    ConditionalGAN  unpack_batch -> (images, one-hot labels); generator_inputs and
                    discriminate feed the label to both networks
    InfoGAN         sample_latent adds the codes; discriminate returns (logit, q);
                    adversarial_output picks the logit; both losses add lambda L_I

Every constructor argument takes effect or raises a TypeError naming the one to use
(``WGANGP(penalty_weight=...)``: use ``gp_weight``; ``DRAGAN(dragan_c=...)``: use ``c``).
"""

from keras_gan.models.began import BEGAN, began_convergence, began_k_update
from keras_gan.models.conditional import ConditionalGAN
from keras_gan.models.dragan import DRAGAN
from keras_gan.models.infogan import InfoGAN, mutual_information_terms
from keras_gan.models.wasserstein import WGAN, WGANGP

__all__ = ["WGAN", "WGANGP", "DRAGAN", "BEGAN", "ConditionalGAN", "InfoGAN",
           "began_k_update", "began_convergence", "mutual_information_terms"]
