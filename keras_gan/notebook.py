"""Helpers shared by the notebooks: the quick mode used by CI, and run budgets.

    from keras_gan.notebook import QUICK, budget
    epochs = budget(full=5, quick=1)

``KERAS_GAN_QUICK=1`` (set by the README's test command and CI) shrinks every
training so that all notebooks run under nbval in minutes; the default is the
full run whose outputs are committed.
"""

import os

QUICK = os.environ.get("KERAS_GAN_QUICK", "0").lower() not in ("", "0", "false", "no")

#: The repository, for the "Open in Colab" badges.
REPOSITORY = "keras-gan/keras-gan"


def budget(full, quick):
    """``quick`` under KERAS_GAN_QUICK=1, else ``full``."""
    return quick if QUICK else full


def mode():
    return "quick (KERAS_GAN_QUICK=1)" if QUICK else "full"
