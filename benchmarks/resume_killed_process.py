"""Kill a training process with SIGKILL mid-epoch, rerun the same command, and compare
the result with an uninterrupted run.

For each model, three runs of ``python -m keras_gan train`` on the 2D ring8 mixture,
all with ``--seed 0``:
  1. uninterrupted, into ``ref/``;
  2. the same command into ``killed/``, sent SIGKILL in the middle of epoch 3 (half an
     epoch after the epoch-2 backup appears in ``killed/backup``);
  3. the same command again, which resumes from ``killed/backup`` (epoch 2).
It then loads both ``gan.keras`` files and prints the largest absolute difference over
every variable: weights, both optimizers' states, the step counter, the random
generator state (and BEGAN's k), and whether history.json matches. The CLI resumes
the data too: its datasets reshuffle on every pass, and the resumed run starts the
passes the finished epochs used.

    python benchmarks/resume_killed_process.py [--models gan,wgan_gp] [--steps-per-epoch 200]
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def command(model, out, args):
    return [sys.executable, "-m", "keras_gan", "train", "--model", model, "--dataset", "ring8",
            "--epochs", str(args.epochs), "--steps-per-epoch", str(args.steps_per_epoch), "--seed", "0",
            "--verbose", "0", "--out", out]


def run(cmd):
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def backup_epoch(out):
    try:
        with open(os.path.join(out, "backup", "training_metadata.json")) as f:
            return json.load(f)["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def run_and_kill(cmd, out, kill_in_epoch):
    """Start ``cmd``; SIGKILL it half an epoch after the backup of epoch kill_in_epoch - 1."""
    process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = {}
    while process.poll() is None:
        epoch = backup_epoch(out)
        seen.setdefault(epoch, time.monotonic())
        if epoch >= kill_in_epoch - 1 and kill_in_epoch - 2 in seen:
            epoch_seconds = seen[kill_in_epoch - 1] - seen[kill_in_epoch - 2]
            time.sleep(epoch_seconds / 2)
            process.send_signal(signal.SIGKILL)
            process.wait()
            return epoch_seconds
        time.sleep(0.01)
    raise RuntimeError(f"the run finished before it could be killed:\n{process.stderr.read()[-2000:]}")


def state(path):
    import keras
    import numpy as np

    import keras_gan.losses  # noqa: F401  (registers the classes)
    import keras_gan.models  # noqa: F401
    model = keras.models.load_model(path, safe_mode=True)
    values = [np.array(v.numpy()) for v in model.variables]
    for optimizer in (model.d_optimizer, model.g_optimizer):
        values += [np.array(v.numpy()) for v in optimizer.variables]
    return values


def main(argv=None):
    from keras_gan import recipes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(recipes.names()))
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--steps-per-epoch", type=int, default=200)
    args = parser.parse_args(argv)
    import numpy as np

    print(f"ring8, {args.epochs} epochs of {args.steps_per_epoch} steps; SIGKILL in the middle of epoch 3")
    print(f"{'model':8s} {'resumed after':>14s} {'max |diff|':>11s} {'history':>8s}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models.split(","):
            ref, killed = os.path.join(tmp, model, "ref"), os.path.join(tmp, model, "killed")
            run(command(model, ref, args))
            run_and_kill(command(model, killed, args), killed, kill_in_epoch=3)
            assert not os.path.exists(os.path.join(killed, "gan.keras")), "killed too late"
            output = run(command(model, killed, args))      # resumes from killed/backup
            done_epochs = int(output.split(": ", 1)[1].split(" of ")[0]) if "resuming from" in output else 0
            diff = max(float(np.max(np.abs(a.astype("float64") - b.astype("float64"))))
                       for a, b in zip(state(os.path.join(ref, "gan.keras")),
                                       state(os.path.join(killed, "gan.keras"))))
            histories = [json.load(open(os.path.join(d, "history.json"))) for d in (ref, killed)]
            worst = max(worst, diff)
            print(f"{model:8s} {f'{done_epochs} epochs':>14s} {diff:11.3g} "
                  f"{'same' if histories[0] == histories[1] else 'DIFFERS':>8s}", flush=True)
    print(f"largest difference over all models: {worst:.3g} ({'bitwise identical' if worst == 0 else 'not identical'})")


if __name__ == "__main__":
    main()
