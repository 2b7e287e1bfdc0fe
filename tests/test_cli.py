"""`python -m keras_gan train`: outputs on disk, and one-line errors for bad arguments."""

import contextlib
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_gan import cli


def run_cli(*args):
    return cli.main(list(args))


def test_train_grid25_writes_outputs(tmp_path):
    out = tmp_path / "run"
    assert run_cli("train", "--model", "wgan_gp", "--dataset", "grid25", "--epochs", "2",
                   "--steps-per-epoch", "5", "--out", str(out), "--verbose", "0") == 0
    assert {"samples.png", "history.json", "generator.keras", "gan.keras", "run.json"} <= set(os.listdir(out))
    history = json.loads((out / "history.json").read_text())
    assert set(history) == {"d_loss", "g_loss", "gp"} and len(history["d_loss"]) == 2
    generator = keras.models.load_model(out / "generator.keras", safe_mode=True)
    assert generator.output_shape == (None, 2)
    assert json.loads((out / "run.json").read_text())["latent_dim"] == generator.input_shape[-1]


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"), reason="needs dataset-fashion-mnist")
def test_train_fashion_mnist_gan_with_loss(tmp_path):
    out = tmp_path / "img"
    assert run_cli("train", "--model", "gan", "--loss", "hinge", "--dataset", "fashion_mnist", "--epochs", "1",
                   "--steps-per-epoch", "2", "--out", str(out), "--verbose", "0") == 0
    gan = keras.models.load_model(out / "gan.keras", safe_mode=True)
    assert gan.loss_fn.name == "hinge"
    samples = gan.generate(4, seed=0)
    assert samples.shape == (4, 28, 28, 1) and np.abs(samples).max() <= 1


@pytest.mark.parametrize("args, message", [
    (["--model", "vae"], "unknown --model 'vae'; valid models: gan, wgan"),
    (["--loss", "l2"], "unknown --loss 'l2'; valid losses: minimax"),
    (["--model", "wgan", "--loss", "hinge"], "--loss applies to --model gan, cgan, infogan only"),
    (["--dataset", "imagenet"], "unknown --dataset 'imagenet'; valid datasets: fashion_mnist"),
    (["--epochs", "0"], "argument --epochs: must be >= 1, got 0"),
])
def test_bad_arguments_one_line(tmp_path, capsys, args, message):
    # argparse rejects --epochs itself (SystemExit 2); the rest return 2 from main().
    with pytest.raises(SystemExit, match="2") if "--epochs" in args else contextlib.nullcontext():
        assert run_cli("train", "--out", str(tmp_path / "x"), *args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_unwritable_out_dir_in_a_subprocess(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = subprocess.run([sys.executable, "-m", "keras_gan", "train", "--out", str(blocker / "run")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"keras_gan: error: cannot write to --out '{blocker / 'run'}': Not a directory"]
