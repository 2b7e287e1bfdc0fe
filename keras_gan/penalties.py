"""Gradient penalties on the discriminator: WGAN-GP, DRAGAN and R1.

Each function takes ``critic``, any callable mapping a batch of inputs to the
discriminator's *raw* output (logit or critic value, never its sigmoid), and
returns a scalar: the penalty *before* its weight. The model that uses it adds
``weight * penalty`` in exactly one place (``GAN.discriminator_losses``).

Conventions (the bugs they avoid are listed in DESIGN.md section 4):
- the interpolation coefficient alpha is drawn U(0, 1) **per sample**, with
  shape (B, 1, ..., 1);
- the gradient norm is taken over **all non-batch axes**, with a small epsilon
  inside the square root (so the gradient of the norm is finite at 0);
- everything is computed in float32, also under a mixed_float16 policy.

For a linear critic D(x) = <w, x> the gradient is w everywhere, so
``gradient_penalty`` and ``dragan_penalty`` return (||w|| - 1)^2 and
``r1_penalty`` returns ||w||^2 / 2; the tests check exactly that.
"""

import keras
import tensorflow as tf
from keras import ops

from keras_gan.distribute import per_replica

__all__ = ["gradient_penalty", "dragan_penalty", "r1_penalty", "gradient_norms", "get", "names"]

EPSILON = 1e-12


def _uniform(shape, seed):
    # Under tf.distribute each replica keeps its rows of the global batch's draw
    # (keras_gan.distribute.per_replica), so replicas do not share coefficients.
    return per_replica(lambda s: keras.random.uniform(s, 0.0, 1.0, dtype="float32", seed=seed), shape)


def _per_sample_uniform(x, seed):
    return _uniform((ops.shape(x)[0],) + (1,) * (len(x.shape) - 1), seed)


def gradient_norms(critic, x):
    """||grad_x D(x)||_2 per sample (shape (B,)), norm over all non-batch axes."""
    x = ops.cast(x, "float32")
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = ops.cast(critic(x), "float32")
        # Summing over the batch gives each sample's own gradient: samples are
        # independent in a critic without batch-coupled layers (no batch norm).
        total = ops.sum(out)
    grads = tape.gradient(total, x)
    axes = tuple(range(1, len(x.shape)))
    return ops.sqrt(ops.sum(ops.square(grads), axis=axes) + EPSILON)


def gradient_penalty(critic, real, fake, seed=None, target=1.0):
    r"""WGAN-GP's two-sided gradient penalty (Gulrajani et al. 2017, eq. 3).

    GP = E_{x_hat} [(||grad_{x_hat} D(x_hat)||_2 - 1)^2],
    x_hat = alpha x + (1 - alpha) G(z),  alpha ~ U(0, 1) per sample.

    Paper weight lambda = 10. Use a critic without batch norm (the penalty is
    per sample; the paper uses layer norm or none).
    Paper: https://arxiv.org/abs/1704.00028

    Args:
        critic: callable, inputs -> raw critic output.
        real, fake: batches of the same shape.
        seed: int, ``keras.random.SeedGenerator`` or None, for alpha.
        target: the norm the gradient is pulled towards (1 in the paper).
    """
    real = ops.cast(real, "float32")
    fake = ops.cast(fake, "float32")
    alpha = _per_sample_uniform(real, seed)
    x_hat = alpha * real + (1.0 - alpha) * fake
    return ops.mean(ops.square(gradient_norms(critic, x_hat) - target))


def dragan_penalty(critic, real, c=0.5, seed=None, target=1.0, std=None):
    r"""DRAGAN's local gradient penalty (Kodali et al. 2017, "On Convergence and
    Stability of GANs"; DRAGAN = Deep Regret Analytic GAN).

    x_p   = x + c * std(x) * u,      u ~ U[0, 1) per element
    x_hat = x + alpha (x_p - x),     alpha ~ U(0, 1) per sample
    P     = E[(||grad_{x_hat} D(x_hat)||_2 - 1)^2]

    std(x) is the standard deviation of the whole real batch (as in the
    authors' code); pass ``std`` to use another value (``GAN`` passes the
    global batch's under ``tf.distribute``, see ``keras_gan.distribute``).
    The penalty acts only in a small neighbourhood of the data, where it stops
    the discriminator from growing sharp gradients around real points (the
    local equilibria behind mode collapse). Paper weight 10, c=0.5.
    Paper: https://arxiv.org/abs/1705.07215
    """
    real = ops.cast(real, "float32")
    if isinstance(seed, int):
        noise_seed, alpha_seed = seed, seed + 1
    else:  # a SeedGenerator (or None) yields a fresh seed per call
        noise_seed = alpha_seed = seed
    noise = _uniform(ops.shape(real), noise_seed)
    std = ops.std(real) if std is None else ops.cast(std, "float32")
    perturbed = real + c * std * noise
    alpha = _per_sample_uniform(real, alpha_seed)
    x_hat = real + alpha * (perturbed - real)
    return ops.mean(ops.square(gradient_norms(critic, x_hat) - target))


def r1_penalty(critic, real, seed=None):
    r"""R1 regulariser (Mescheder et al. 2018, "Which Training Methods for GANs
    do actually Converge?", eq. 9), on real data only:

    R1 = 1/2 E_x [||grad_x D(x)||^2]

    The factor 1/2 is included, so the model's ``penalty_weight`` is the paper's
    gamma (gamma = 10 for the paper's image experiments, often much smaller).
    ``seed`` is unused; it is accepted so that all penalties share a signature.
    Paper: https://arxiv.org/abs/1801.04406
    """
    del seed
    return 0.5 * ops.mean(ops.square(gradient_norms(critic, real)))


_PENALTIES = {
    "gradient_penalty": gradient_penalty,
    "dragan": dragan_penalty,
    "r1": r1_penalty,
}
_SHORT_NAMES = {"gradient_penalty": "gp", "dragan": "dragan_gp", "r1": "r1"}


def names():
    return tuple(_PENALTIES)


def get(name):
    """The penalty function registered under ``name``; ValueError if unknown."""
    key = str(name).strip().lower().replace("-", "_")
    key = {"gp": "gradient_penalty", "wgan_gp": "gradient_penalty", "dragan_penalty": "dragan",
           "r1_penalty": "r1"}.get(key, key)
    if key not in _PENALTIES:
        raise ValueError(f"Unknown penalty {name!r}. Valid names: {', '.join(names())} (or None).")
    return key, _PENALTIES[key]


def metric_name(name):
    """The progress-bar name of a penalty: 'gp', 'dragan_gp' or 'r1'."""
    return _SHORT_NAMES[get(name)[0]]
