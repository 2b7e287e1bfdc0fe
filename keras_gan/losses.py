"""Adversarial losses: one small class per formulation, registered by name.

Every loss takes the discriminator's *raw* outputs (logits for the
probabilistic losses, critic values for the Wasserstein and hinge losses) on a
real batch and on a generated batch, and returns a scalar (the mean over the
batch). Each method is the direct image of its equation; the probabilistic
losses use ``softplus`` so that logits of +-50 (or +-1e4) stay finite:

    -log(sigmoid(t))     = softplus(-t)
    -log(1 - sigmoid(t)) = softplus(t)

    import keras_gan as kg
    loss = kg.losses.get("non_saturating")
    d = loss.discriminator_loss(real_logits, fake_logits)
    g = loss.generator_loss(real_logits, fake_logits)

``real_logits`` is an argument of ``generator_loss`` because the relativistic
losses need it; the other losses ignore it.
"""

import keras
from keras import ops

from keras_gan.validation import check_float

__all__ = [
    "Loss", "Minimax", "NonSaturating", "LeastSquares", "Wasserstein", "Hinge",
    "RelativisticAverage", "RelativisticAverageLeastSquares", "get", "names",
]

_REGISTRY = {}


def _register(name):
    def wrap(cls):
        cls.name = name
        _REGISTRY[name] = cls
        return keras.saving.register_keras_serializable("keras_gan")(cls)
    return wrap


def _mean(x):
    return ops.mean(ops.cast(x, "float32"))


def _f32(x):
    return ops.cast(x, "float32")


class Loss:
    """Base class: a pair of scalar losses of the discriminator's raw outputs."""

    name = None
    # True when generator_loss reads real_logits (the relativistic losses), so
    # the train step runs the discriminator on real data in the generator step.
    generator_uses_real = False

    def discriminator_loss(self, real_logits, fake_logits):
        raise NotImplementedError

    def generator_loss(self, real_logits, fake_logits):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@_register("minimax")
class Minimax(Loss):
    r"""The original, saturating minimax GAN loss (Goodfellow et al. 2014).

    L_D = -E[log s(D(x))] - E[log(1 - s(D(G(z))))]
        =  E[softplus(-D(x))] + E[softplus(D(G(z)))]
    L_G = +E[log(1 - s(D(G(z))))] = -E[softplus(D(G(z)))]

    The generator minimises the same value function the discriminator
    maximises. Its gradient dL_G/dD(G(z)) = -s(D(G(z))) vanishes when the
    discriminator confidently rejects fakes (D(G(z)) -> -inf): the loss
    *saturates* early in training. Kept genuinely saturating here on purpose.
    Paper: https://arxiv.org/abs/1406.2661
    """

    def discriminator_loss(self, real_logits, fake_logits):
        return _mean(ops.softplus(-_f32(real_logits))) + _mean(ops.softplus(_f32(fake_logits)))

    def generator_loss(self, real_logits, fake_logits):
        return -_mean(ops.softplus(_f32(fake_logits)))


@_register("non_saturating")
class NonSaturating(Minimax):
    r"""The non-saturating GAN loss (Goodfellow et al. 2014, section 3).

    L_D = E[softplus(-D(x))] + E[softplus(D(G(z)))]       (same as minimax)
    L_G = -E[log s(D(G(z)))] = E[softplus(-D(G(z)))]

    dL_G/dD(G(z)) = s(D(G(z))) - 1 -> -1 when D rejects fakes: strong
    gradients exactly where the minimax loss gives none.
    Paper: https://arxiv.org/abs/1406.2661
    """

    def generator_loss(self, real_logits, fake_logits):
        return _mean(ops.softplus(-_f32(fake_logits)))


@_register("least_squares")
class LeastSquares(Loss):
    r"""Least-squares GAN loss (Mao et al. 2017), a least-squares *fit of the
    discriminator's raw output to target codes*: a for fake, b for real, and
    c, the value the generator wants D to assign to its samples.

    L_D = 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]
    L_G = 1/2 E[(D(G(z)) - c)^2]

    Default coding a=0, b=1, c=1 (the paper's section 3.2.3 "0-1 coding",
    used in its experiments). ``a=-1, b=1, c=0`` is the coding with
    b - c = 1 and b - a = 2 under which minimising the objective minimises the
    Pearson chi^2 divergence between p_data + p_g and 2 p_g (paper, eq. 9).
    Paper: https://arxiv.org/abs/1611.04076

    ``on_sigmoid=True`` fits s(D(.)) instead of D(.) to the codes: the variant in Lucic et al.'s
    code (google/compare_gan, "Are GANs Created Equal?" 2018), named
    ``"least_squares_sigmoid"`` in ``get``. Its generator gradient,
    (s(D(G(z))) - c) s'(D(G(z))), vanishes when D rejects the fakes confidently, like minimax's.
    """

    def __init__(self, a=0.0, b=1.0, c=1.0, on_sigmoid=False):
        self.a, self.b, self.c = (check_float(name, value, "finite") for name, value in (("a", a), ("b", b), ("c", c)))
        if not isinstance(on_sigmoid, bool):
            raise TypeError(f"on_sigmoid must be True or False, got {on_sigmoid!r}.")
        self.on_sigmoid = on_sigmoid

    def _output(self, logits):
        return ops.sigmoid(_f32(logits)) if self.on_sigmoid else _f32(logits)

    def discriminator_loss(self, real_logits, fake_logits):
        return 0.5 * _mean(ops.square(self._output(real_logits) - self.b)) + 0.5 * _mean(
            ops.square(self._output(fake_logits) - self.a))

    def generator_loss(self, real_logits, fake_logits):
        return 0.5 * _mean(ops.square(self._output(fake_logits) - self.c))

    def get_config(self):
        config = {"a": self.a, "b": self.b, "c": self.c}
        if self.on_sigmoid:
            config["on_sigmoid"] = True
        return config


@_register("wasserstein")
class Wasserstein(Loss):
    r"""Wasserstein loss (Arjovsky et al. 2017), the Kantorovich-Rubinstein dual.

    L_D = E[D(G(z))] - E[D(x)]     (the critic maximises E D(x) - E D(G(z)))
    L_G = -E[D(G(z))]

    -L_D estimates W_1(p_data, p_g) only if D is (K-)Lipschitz: pair it with
    weight clipping (``kg.WGAN``) or a gradient penalty (``kg.WGANGP``).
    Paper: https://arxiv.org/abs/1701.07875
    """

    def discriminator_loss(self, real_logits, fake_logits):
        return _mean(fake_logits) - _mean(real_logits)

    def generator_loss(self, real_logits, fake_logits):
        return -_mean(fake_logits)


@_register("hinge")
class Hinge(Loss):
    r"""Hinge loss (Lim & Ye 2017, "Geometric GAN"; used by SNGAN and SAGAN).

    L_D = E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]
    L_G = -E[D(G(z))]

    The discriminator is a margin classifier: real outputs beyond +1 and fake
    outputs below -1 contribute no loss and no gradient.
    Paper: https://arxiv.org/abs/1705.02894
    """

    def discriminator_loss(self, real_logits, fake_logits):
        return _mean(ops.relu(1.0 - _f32(real_logits))) + _mean(ops.relu(1.0 + _f32(fake_logits)))

    def generator_loss(self, real_logits, fake_logits):
        return -_mean(fake_logits)


@_register("relativistic_average")
class RelativisticAverage(Loss):
    r"""Relativistic average GAN loss, RaSGAN (Jolicoeur-Martineau 2018).

    With  r = D(x) - E[D(G(z))]  and  f = D(G(z)) - E[D(x)]:
    L_D = BCE(r, 1) + BCE(f, 0) = E[softplus(-r)] + E[softplus(f)]
    L_G = BCE(f, 1) + BCE(r, 0) = E[softplus(-f)] + E[softplus(r)]

    D estimates the probability that real data is *more realistic than the
    average fake*; the generator's loss depends on real data too, so it also
    pushes real logits down.
    Paper: https://arxiv.org/abs/1807.00734
    """

    generator_uses_real = True

    @staticmethod
    def _relative(real_logits, fake_logits):
        real, fake = _f32(real_logits), _f32(fake_logits)
        return real - ops.mean(fake), fake - ops.mean(real)

    def discriminator_loss(self, real_logits, fake_logits):
        r, f = self._relative(real_logits, fake_logits)
        return _mean(ops.softplus(-r)) + _mean(ops.softplus(f))

    def generator_loss(self, real_logits, fake_logits):
        r, f = self._relative(real_logits, fake_logits)
        return _mean(ops.softplus(-f)) + _mean(ops.softplus(r))


@_register("relativistic_average_least_squares")
class RelativisticAverageLeastSquares(RelativisticAverage):
    r"""Relativistic average least-squares loss, RaLSGAN (Jolicoeur-Martineau 2018).

    With  r = D(x) - E[D(G(z))]  and  f = D(G(z)) - E[D(x)]:
    L_D = E[(r - 1)^2] + E[(f + 1)^2]
    L_G = E[(f - 1)^2] + E[(r + 1)^2]
    Paper: https://arxiv.org/abs/1807.00734
    """

    def discriminator_loss(self, real_logits, fake_logits):
        r, f = self._relative(real_logits, fake_logits)
        return _mean(ops.square(r - 1.0)) + _mean(ops.square(f + 1.0))

    def generator_loss(self, real_logits, fake_logits):
        r, f = self._relative(real_logits, fake_logits)
        return _mean(ops.square(f - 1.0)) + _mean(ops.square(r + 1.0))


#: Named variants of a registered loss, accepted by ``get`` (not in ``names()``): formulations
#: from another source than the loss's paper, shown as extra rows of the comparison.
VARIANTS = {"least_squares_sigmoid": lambda: LeastSquares(on_sigmoid=True)}


def names():
    """The registered loss names, in a stable order (the papers' formulations)."""
    return tuple(_REGISTRY)


def get(identifier):
    """Return a loss object from a name, a config dict or a ``Loss`` instance.

    Raises ValueError naming the valid losses for an unknown name.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    if isinstance(identifier, str):
        key = identifier.strip().lower().replace("-", "_")
        if key in _REGISTRY:
            return _REGISTRY[key]()
        if key in VARIANTS:
            return VARIANTS[key]()
        raise ValueError(
            f"Unknown GAN loss {identifier!r}. Valid names: {', '.join(names())}.")
    raise TypeError(
        f"A GAN loss must be a name or a keras_gan.losses.Loss instance, got "
        f"{type(identifier).__name__}. Valid names: {', '.join(names())}.")
