"""Models, weights, data and random draws that are the same on every Keras backend.

Used by the multi-backend tests (test_backends.py, run with KERAS_BACKEND=tensorflow, jax
or torch) and by the scripts they start in subprocesses (backend_worker.py: one backend per
process; multidevice_worker.py: JAX on two virtual CPU devices). Nothing here imports a
backend framework: only keras, keras.ops and numpy.

- ``build(case)``: every model of the issue, on small MLPs (tanh hidden layers), plus
  batch-norm and ``d_steps`` variants. ``CASES`` lists them.
- ``set_weights(model)``: every trainable weight from numpy (the backends' initialisers
  draw different numbers from the same seed).
- ``FixedDraws``: replaces ``keras.random.normal``, ``uniform`` and ``randint`` by numpy
  draws keyed by their order within a train step, so that the latents and the penalties'
  coefficients are the same on every backend; the SeedGenerator still advances.
"""

import keras
import numpy as np
from keras import ops

import keras_gan as kg

LATENT, BATCH, LR = 3, 8, 0.1
NUM_CLASSES, NUM_CAT, NUM_CONT = 4, 3, 2
LOSSES = ("minimax", "non_saturating", "least_squares", "wasserstein", "hinge", "relativistic_average",
          "relativistic_average_least_squares")
#: The issue's models: GAN with each loss, WGAN (clipping), WGAN-GP, DRAGAN, R1, BEGAN, cGAN, InfoGAN.
MODELS = LOSSES + ("wgan", "wgan_gp", "dragan", "r1", "began", "cgan", "infogan")
#: Batch norm in both networks (its statistics threaded through the step), a batch-norm critic
#: with a penalty (statistics of the interpolates too), and generator updates every 2nd step.
EXTRA = ("bn_gan", "bn_wgan_gp", "wgan_gp_d2", "cgan_d2")
CASES = MODELS + EXTRA


def _mlp(inputs, outputs, name, hidden=8, batch_norm=False):
    tensors = [keras.Input((w,)) for w in inputs]
    x = tensors[0] if len(tensors) == 1 else keras.layers.Concatenate()(tensors)
    # No bias before batch norm (it cancels; its gradient is rounding noise, which Adam scales up).
    x = keras.layers.Dense(hidden, use_bias=not batch_norm)(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(momentum=0.5)(x)
    x = keras.layers.Activation("tanh")(x)
    heads = [keras.layers.Dense(w)(x) for w in outputs]
    return keras.Model(tensors if len(tensors) > 1 else tensors[0], heads if len(heads) > 1 else heads[0],
                       name=name)


def networks(case):
    bn = case.startswith("bn_")
    if case.startswith("cgan"):
        return _mlp([LATENT, NUM_CLASSES], [2], "g"), _mlp([2, NUM_CLASSES], [1], "d")
    if case == "infogan":
        return _mlp([LATENT + NUM_CAT + NUM_CONT], [2], "g"), _mlp([2], [1, NUM_CAT + NUM_CONT], "d")
    if case == "began":
        return _mlp([LATENT], [2], "g"), _mlp([2], [2], "ae", hidden=4)
    return _mlp([LATENT], [2], "g", batch_norm=bn), _mlp([2], [1], "d", batch_norm=bn)


def build(case, seed=3, **overrides):
    """An uncompiled model for ``case``: one discriminator step per generator step unless the
    case says otherwise; ``overrides`` replace constructor arguments (e.g. ``d_steps=2``)."""
    import warnings

    g, d = networks(case)
    cls, kwargs = {
        "bn_gan": (kg.GAN, {}),
        "bn_wgan_gp": (kg.WGANGP, {"gp_weight": 2.0, "d_steps": 1}),
        "wgan": (kg.WGAN, {"clip_value": 0.3, "d_steps": 1}),
        "wgan_gp": (kg.WGANGP, {"gp_weight": 2.0, "d_steps": 1}),
        "wgan_gp_d2": (kg.WGANGP, {"gp_weight": 2.0, "d_steps": 2}),
        "dragan": (kg.DRAGAN, {"penalty_weight": 2.0, "c": 0.7}),
        "r1": (kg.GAN, {"penalty": "r1", "penalty_weight": 3.0}),
        "began": (kg.BEGAN, {"gamma": 0.6, "lambda_k": 0.2}),
        "cgan": (kg.ConditionalGAN, {"num_classes": NUM_CLASSES}),
        "cgan_d2": (kg.ConditionalGAN, {"num_classes": NUM_CLASSES, "loss": "hinge", "penalty": "gradient_penalty",
                                        "penalty_weight": 0.5, "d_steps": 2}),
        "infogan": (kg.InfoGAN, {"num_categories": NUM_CAT, "num_continuous": NUM_CONT, "categorical_weight": 0.7,
                                 "continuous_weight": 0.3}),
    }.get(case, (kg.GAN, {"loss": case}))
    with warnings.catch_warnings():   # bn_wgan_gp: a batch-norm critic with a penalty, on purpose
        warnings.simplefilter("ignore", kg.gan.BatchNormPenaltyWarning)
        return cls(g, d, LATENT, seed=seed, **{**kwargs, **overrides})


def compiled(case, optimizer=lambda: keras.optimizers.SGD(LR), overrides=None, **kwargs):
    """``build(case, **overrides)`` with ``set_weights``, compiled with two ``optimizer()``s."""
    model = build(case, **(overrides or {}))
    set_weights(model)
    model.compile(d_optimizer=optimizer(), g_optimizer=optimizer(), **kwargs)
    if case == "began":
        model.k.assign(0.3)            # k_0 = 0 would hide the k L(G(z)) term
    return model


def set_weights(model, seed=0):
    """Every trainable weight of both networks from numpy, in a fixed order."""
    rng = np.random.default_rng(seed)
    for v in model.generator.trainable_weights + model.discriminator.trainable_weights:
        scale = 0.1 if "bias" in v.path or "beta" in v.path else 0.6
        base = 1.0 if "gamma" in v.path else 0.0
        v.assign((base + rng.normal(0.0, scale, tuple(v.shape))).astype("float32"))


def batches(case, steps=1, seed=11):
    """``steps`` batches of BATCH rows (numpy), with int32 labels for the conditional cases."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.6, (steps * BATCH, 2)).astype("float32")
    labels = rng.integers(NUM_CLASSES, size=steps * BATCH).astype("int32")
    return (x, labels) if case.startswith("cgan") else (x,)


def state(model):
    """Every piece of training state as numpy, in a fixed order: the model's variables
    (weights, batch-norm statistics, d_step_count, BEGAN's k, the seed state) and both
    optimizers' variables."""
    variables = list(model.variables) + list(model.d_optimizer.variables) + list(model.g_optimizer.variables)
    return [np.asarray(ops.convert_to_numpy(v.value)) for v in variables]


class FixedDraws(keras.callbacks.Callback):
    """While active (a context manager), ``keras.random.normal``/``uniform``/``randint`` return
    numpy draws: the k-th draw of a train step is ``default_rng(1000 + k)``'s, whatever the
    backend. ``on_train_batch_begin`` restarts k, so a step traced once (TensorFlow, JAX) and
    a step run eagerly every time (PyTorch) draw the same numbers. ``self.calls`` counts the
    draws of the last step."""

    def __init__(self, batch=BATCH):
        super().__init__()
        self.batch, self.calls, self._saved = batch, 0, None

    def on_train_batch_begin(self, batch, logs=None):
        self.calls = 0

    def _shape(self, shape):
        return tuple(d if isinstance(d, int) else self.batch for d in shape)

    def _rng(self, seed):
        if isinstance(seed, keras.random.SeedGenerator):
            seed.next()                # the state advances as with real draws
        self.calls += 1
        return np.random.default_rng(1000 + self.calls - 1)

    def __enter__(self):
        self._saved = (keras.random.normal, keras.random.uniform, keras.random.randint)

        def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
            x = self._rng(seed).normal(mean, stddev, self._shape(shape))
            return ops.convert_to_tensor(x.astype(dtype or "float32"))

        def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
            x = self._rng(seed).uniform(minval, maxval, self._shape(shape))
            return ops.convert_to_tensor(x.astype(dtype or "float32"))

        def randint(shape, minval, maxval, dtype="int32", seed=None):
            x = self._rng(seed).integers(minval, maxval, self._shape(shape))
            return ops.convert_to_tensor(x.astype(dtype))

        keras.random.normal, keras.random.uniform, keras.random.randint = normal, uniform, randint
        return self

    def __exit__(self, *exc):
        keras.random.normal, keras.random.uniform, keras.random.randint = self._saved
