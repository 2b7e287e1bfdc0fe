"""``python -m keras_gan``: see keras_gan.cli."""

import sys

from keras_gan.cli import main

sys.exit(main())
