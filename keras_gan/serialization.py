"""Saving and loading the GAN models (a mixin of ``GAN``).

- The config holds the networks, the loss and the penalty as nested Keras objects,
  so ``keras.models.load_model(path, safe_mode=True)`` rebuilds any model whose
  classes are registered (every keras_gan class is, on ``import keras_gan``; a
  custom ``Loss`` or ``Penalty`` needs ``keras.saving.register_keras_serializable``).
- The weights include the ``SeedGenerator``'s state, so a loaded or resumed model
  continues the random stream where it stopped.
- Configs written before penalties were objects still load: ``"penalty": "dragan"``
  with ``"dragan_c": c`` becomes ``DRAGANPenalty(c=c)`` (``upgrade_config``).
"""

import keras
import numpy as np

from keras_gan import penalties

__all__ = ["SerializationMixin", "upgrade_config"]

# Key of the SeedGenerator's state in the model's saved variables (see save_own_variables).
_SEED_STATE_KEY = "seed_generator_state"


def upgrade_config(config):
    """A config written before penalties were objects, in today's form. Such configs
    hold ``dragan_c`` (every model wrote it): with ``"penalty": "dragan"`` it becomes
    ``DRAGANPenalty(c=dragan_c)``; elsewhere it had no effect and is dropped."""
    config = dict(config)
    if "dragan_c" in config:
        c = config.pop("dragan_c")
        if config.get("penalty") == "dragan":
            config["penalty"] = penalties.DRAGANPenalty(c=c)
    return config


class SerializationMixin:
    """``get_config``/``from_config`` and the saved variables; mixed into ``keras_gan.GAN``."""

    #: Constructor arguments that hold networks (BEGAN calls its discriminator "autoencoder").
    network_arguments = ("generator", "discriminator")

    def save_own_variables(self, store):
        """Also save the SeedGenerator's state (Keras saves layer variables only), so
        that ``model.save``, ``save_weights`` and ``BackupAndRestore`` continue the
        same random stream: a resumed run draws the latents an uninterrupted run draws."""
        super().save_own_variables(store)
        store[_SEED_STATE_KEY] = self.seed_generator.state

    def load_own_variables(self, store):
        keys = list(store.keys())
        if _SEED_STATE_KEY in keys:  # absent from files written before it was saved
            self.seed_generator.state.assign(np.asarray(store[_SEED_STATE_KEY]))
            store = {key: store[key] for key in keys if key != _SEED_STATE_KEY}
        super().load_own_variables(store)

    def get_config(self):
        config = super().get_config()
        config.update({
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "loss": keras.saving.serialize_keras_object(self.loss_fn),
            "penalty": None if self.penalty is None else keras.saving.serialize_keras_object(self.penalty),
            "penalty_weight": self.penalty_weight,
            "d_steps": self.d_steps,
            "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = upgrade_config(config)
        for key in cls.network_arguments:
            config[key] = keras.saving.deserialize_keras_object(config[key])
        for key in ("loss", "penalty"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
