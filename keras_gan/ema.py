"""The generator EMA: an exponential moving average of the generator's weights (Yazici et al.
2019, "The Unusual Effectiveness of Averaging in GAN Training"; ProGAN, BigGAN, StyleGAN and
StudioGAN sample from such an average). A compile option of every keras_gan model:

    model.compile(d_optimizer=..., g_optimizer=..., generator_ema=0.999)
    model.compile(..., generator_ema=kg.GeneratorEMA(decay=0.999, start_step=1000))

After the generator's t-th update (t = 1, 2, ...; ``d_step_count // d_steps``) every weight
w of the generator, batch-norm statistics included, moves its average w_avg:

    w_avg <- beta_t * w_avg + (1 - beta_t) * w
    beta_t = 0                                             if t <= start_step  (w_avg = w)
    beta_t = min(decay, (1 + s) / (10 + s)),  s = t - start_step     (ramp_up, the default)
    beta_t = decay                                                   (ramp_up=False)

Why the ramp-up: without it, an average started from the first weights keeps
decay^t of them, at 0.999 still 63% after 468 updates (half an epoch at batch 64) and 1% only
after 4,600. With it (TensorFlow's ``ExponentialMovingAverage(num_updates=...)`` rule) the
weight of update s is 9 / (10 + s): the average spans roughly the last 11% of the updates
until (1 + s) / (10 + s) reaches ``decay`` (s = 8,990 at 0.999), then the last ~1 / (1 - decay).
Integer weights (a seed state, say) are copied, not averaged.

The averaged weights live in ``model.averaged_generator``, a non-trainable copy of the
generator (``keras.models.clone_model``), so they are part of the model's variables: the jitted
JAX step carries them, ``save``/``load_model`` and ``BackupAndRestore`` keep them, and a resumed
run continues the same average. ``generate`` (and so ``keras_gan.evaluation``, ``SampleGrid``,
``compare``) samples from the average when there is one; ``generate(..., use_ema=False)`` from
the trained generator. The average never feeds back into training: a run's weights, losses and
random draws are the same with and without it.
"""

import numbers

import keras
from keras import ops

from keras_gan import validation

__all__ = ["GeneratorEMA", "get"]


@keras.saving.register_keras_serializable("keras_gan")
class GeneratorEMA:
    """How a model averages its generator: ``decay``, ``start_step``, ``ramp_up`` (module
    docstring for the formula).

    Args:
        decay: the largest beta, in (0, 1): 0.999 (Yazici et al.'s and ProGAN's) averages
            about the last 1,000 generator updates once ramped up.
        start_step: generator updates before averaging starts (until then the average is a
            copy of the weights); StudioGAN starts after 1,000 or more.
        ramp_up: beta_t = min(decay, (1 + s) / (10 + s)) rather than decay from the start.
    """

    def __init__(self, decay=0.999, start_step=0, ramp_up=True):
        self.decay = validation.check_float(
            "decay", decay, "in (0, 1)", " (e.g. 0.999 averages about the last 1,000 generator updates)")
        self.start_step = validation.check_int("start_step", start_step, 0, " (generator updates before averaging)")
        if not isinstance(ramp_up, bool):
            raise TypeError(f"ramp_up must be True or False, got {ramp_up!r}.")
        self.ramp_up = ramp_up

    def beta(self, step):
        """beta_t of the update after the generator's ``step``-th update (a scalar tensor)."""
        step = ops.cast(step, "float32")
        since = step - float(self.start_step)
        beta = ops.minimum(self.decay, (1.0 + since) / (10.0 + since)) if self.ramp_up else \
            ops.convert_to_tensor(self.decay, "float32")
        return ops.where(since > 0.0, beta, 0.0)

    def update(self, averages, weights, step):
        """Move each of ``averages`` towards its weight: ``w_avg <- beta w_avg + (1 - beta) w``
        (integer weights are copied). ``step`` is the generator's update count, from 1."""
        beta = self.beta(step)
        for average, weight in zip(averages, weights):
            value = ops.stop_gradient(ops.convert_to_tensor(weight))
            if "float" in str(average.dtype):
                b = ops.cast(beta, average.dtype)
                value = b * average + (1.0 - b) * ops.cast(value, average.dtype)
            average.assign(value)

    def get_config(self):
        return {"decay": self.decay, "start_step": self.start_step, "ramp_up": self.ramp_up}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"GeneratorEMA(decay={self.decay}, start_step={self.start_step}, ramp_up={self.ramp_up})"

    def __eq__(self, other):
        return isinstance(other, GeneratorEMA) and self.get_config() == other.get_config()


def get(value):
    """``compile``'s ``generator_ema``: None (no average), a decay (a float in (0, 1)), a
    ``GeneratorEMA`` or its config dict."""
    if value is None or isinstance(value, GeneratorEMA):
        return value
    if isinstance(value, dict):
        return GeneratorEMA.from_config(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return GeneratorEMA(decay=value)
    raise TypeError(f"generator_ema must be None, a decay such as 0.999, or kg.GeneratorEMA(decay=..., "
                    f"start_step=..., ramp_up=...), got {value!r}.")


def average_of(generator):
    """A non-trainable copy of ``generator`` holding its current weights: the average's start."""
    try:
        copy = keras.models.clone_model(generator)
    except Exception as error:  # a subclassed generator without a usable get_config()
        raise TypeError(
            f"generator_ema needs a copy of the generator '{generator.name}' "
            f"(keras.models.clone_model failed: {error}). Build the generator as a Functional or "
            "Sequential model, or give your subclassed model get_config() and from_config().") from error
    if [tuple(w.shape) for w in copy.weights] != [tuple(w.shape) for w in generator.weights]:
        raise TypeError(f"keras.models.clone_model('{generator.name}') made weights of other shapes; "
                        "generator_ema cannot average this generator.")
    copy.trainable = False
    for average, weight in zip(copy.weights, generator.weights):
        average.assign(ops.copy(weight.value))  # a buffer of its own (JAX donates the state to the step)
    return copy
