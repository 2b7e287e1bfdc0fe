"""MultiWorkerMirroredStrategy with two worker processes on 127.0.0.1, against one process.

The script starts two workers (this file with ``--worker 0`` and ``--worker 1``, each
with its own ``TF_CONFIG``), which train the same model for a few steps under
``tf.distribute.MultiWorkerMirroredStrategy``, each on its half of every global batch
(``distribute_datasets_from_function``: worker i takes rows [i B, (i + 1) B) of each
global batch of 2 B). It also trains the model in a single process on the global
batches. It prints, per model, the largest absolute difference between the two
workers' final states (weights, optimizer states, step counter, random state) and
between a worker and the single process. ``keras_gan.distribute.per_replica`` makes the
latents (and penalty coefficients) of the two replicas the rows of the single-process
draw, so only the order of floating-point sums differs.

    python benchmarks/multiworker.py [--models gan,wgan_gp,dragan] [--steps 5]

``--cli MODEL`` instead starts ``python -m keras_gan train --strategy multiworker`` twice
(workers 0 and 1, 2 epochs on ring8) and prints their exit codes and what the chief wrote.

The CLI runs the same way: start ``python -m keras_gan train --strategy multiworker ...``
once per worker, each with its TF_CONFIG (``worker_config`` below); the chief (worker 0)
writes the run directory.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

GLOBAL_BATCH = 128


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def worker_config(ports, index):
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


def global_batches(model, steps):
    import keras_gan as kg
    x, y = kg.data.mixture("ring8").sample_with_labels(steps * GLOBAL_BATCH, seed=0)
    return (x, y.astype("int32")) if getattr(model, "uses_labels", False) else (x,)


def train(name, steps, strategy=None):
    import numpy as np
    import tensorflow as tf

    from keras_gan import recipes
    scope = strategy.scope() if strategy is not None else tf.distribute.get_strategy().scope()
    with scope:
        model, _ = recipes.build(name, "ring8", seed=0)
    arrays = global_batches(model, steps)
    if strategy is None:
        data = tf.data.Dataset.from_tensor_slices(arrays).batch(GLOBAL_BATCH)
    else:
        # Sharded by data: the global batches are rebatched into per-worker halves, and
        # worker i keeps halves i, i + 2, ... = rows [i B, (i + 1) B) of every global batch.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        data = tf.data.Dataset.from_tensor_slices(arrays).batch(GLOBAL_BATCH).with_options(options)
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    values = [np.array(v.numpy()) for v in model.variables]
    for optimizer in (model.d_optimizer, model.g_optimizer):
        values += [np.array(v.numpy()) for v in optimizer.variables]
    return values


def run_worker(args):
    import numpy as np
    import tensorflow as tf
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    assert strategy.num_replicas_in_sync == 2
    for name in args.models.split(","):
        values = train(name, args.steps, strategy)
        np.savez(os.path.join(args.out, f"{name}_worker{args.worker}.npz"), *values)


def start_two_workers(command, cwd=None):
    """Start ``command(index)`` for workers 0 and 1 of one cluster on free local ports (CPU only)."""
    ports = free_ports(2)
    return [subprocess.Popen(command(index), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=dict(os.environ, TF_CONFIG=worker_config(ports, index), CUDA_VISIBLE_DEVICES=""))
            for index in range(2)]


def run_cli(model, steps):
    """Two CLI workers (--strategy multiworker) on ring8; the chief writes the run directory."""
    with tempfile.TemporaryDirectory() as out:
        workers = start_two_workers(
            lambda index: [sys.executable, "-m", "keras_gan", "train", "--model", model, "--dataset", "ring8",
                           "--strategy", "multiworker", "--epochs", "2", "--steps-per-epoch", str(steps),
                           "--verbose", "0", "--out", out],
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        codes = []
        for index, worker in enumerate(workers):
            output, _ = worker.communicate(timeout=900)
            codes.append(worker.returncode)
            if worker.returncode != 0:
                print(output[-3000:])
        with open(os.path.join(out, "history.json")) as f:
            history = json.load(f)
        written = sorted(name for name in os.listdir(out) if not name.startswith("backup"))
        print(f"CLI --strategy multiworker, {model}: exit codes {codes}; chief wrote {', '.join(written)}; "
              f"d_loss per epoch {[round(v, 4) for v in history['d_loss']]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="gan,wgan,wgan_gp,dragan,began,cgan,infogan")
    parser.add_argument("--steps", type=int, default=5, help="5: one generator update at d_steps=5")
    parser.add_argument("--cli", default=None, metavar="MODEL", help="instead: two CLI workers train MODEL")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        return run_worker(args)
    if args.cli:
        return run_cli(args.cli, steps=10 * args.steps)

    import numpy as np
    with tempfile.TemporaryDirectory() as out:
        workers = start_two_workers(
            lambda index: [sys.executable, os.path.abspath(__file__), "--worker", str(index), "--out", out,
                           "--models", args.models, "--steps", str(args.steps)])
        # Meanwhile, the single-process reference (no TF_CONFIG here).
        single = {name: train(name, args.steps) for name in args.models.split(",")}
        for index, worker in enumerate(workers):
            output, _ = worker.communicate(timeout=900)
            if worker.returncode != 0:
                raise RuntimeError(f"worker {index} failed:\n{output[-12000:]}")
        print(f"MultiWorkerMirroredStrategy, 2 workers on 127.0.0.1 (1 CPU replica each), global batch "
              f"{GLOBAL_BATCH}, {args.steps} steps; ring8 recipes")
        print(f"{'model':8s} {'worker0 vs worker1':>19s} {'workers vs 1 process':>21s}")
        for name in args.models.split(","):
            w = [list(np.load(os.path.join(out, f"{name}_worker{i}.npz")).values()) for i in range(2)]

            def diff(a, b):
                return max(float(np.max(np.abs(x.astype("float64") - y.astype("float64")))) for x, y in zip(a, b))
            print(f"{name:8s} {diff(w[0], w[1]):19.3g} {diff(w[0], single[name]):21.3g}", flush=True)


if __name__ == "__main__":
    main()
