"""Is a wall-clock gap between two implementations the code or the machine?

Runs the same TensorFlow ``GAN.fit`` (Lucic et al.'s DCGAN, batch 64, non-saturating loss) on the
same data in repeated rounds, one process, feeding it in three forms (a numpy array, a tensor, a
tf.data pipeline), and prints each round's wall and CPU seconds per step. Same code and same
work each round: on a quiet machine the rounds agree; a machine whose scheduling changes (a
shared host handing this one core or two) shows rounds at the same CPU time and very different
wall times. benchmarks/backends.py's CPU column is the figure to trust on such a machine.

    python benchmarks/wall_states.py [--steps 60] [--rounds 4]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    import keras
    import numpy as np
    import tensorflow as tf

    import keras_gan as kg
    batch = 64
    x = np.random.default_rng(0).uniform(-1, 1, (args.steps * batch, 28, 28, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = kg.GAN(kg.architectures.dcgan_generator(64), kg.architectures.dcgan_discriminator(norm="batch"),
                   64, seed=0)
    model.compile(d_optimizer=keras.optimizers.Adam(2e-4, 0.5), g_optimizer=keras.optimizers.Adam(2e-4, 0.5))
    inputs = {"numpy": x, "tensor": tf.constant(x),
              "tf.data": tf.data.Dataset.from_tensor_slices(x).batch(batch).prefetch(2)}
    model.fit(inputs["tf.data"].take(5), verbose=0)  # trace once
    print(f"{args.rounds} rounds of {args.steps} steps; per round: wall s/step / CPU s/step")
    for name, data in inputs.items():
        print(f"{name:8s}", end="", flush=True)
        for _ in range(args.rounds):
            options = {} if name == "tf.data" else {"batch_size": batch, "shuffle": False}
            wall, cpu = time.perf_counter(), time.process_time()
            model.fit(data, epochs=1, verbose=0, **options)
            print(f"  {(time.perf_counter() - wall) / args.steps:.3f}/{(time.process_time() - cpu) / args.steps:.3f}",
                  end="", flush=True)
        print()


if __name__ == "__main__":
    main()
