"""Run by test_cross_backend.py, one process per Keras backend (KERAS_BACKEND set by the test):

    python tests/backend_worker.py steps OUT       one discriminator and one generator step of every
                                                   case (SGD, the same weights, batch and draws), the
                                                   whole training state -> OUT/steps-BACKEND.npz
    python tests/backend_worker.py save OUT        fit, save OUT/BACKEND-CASE.keras, generate -> OUT/saved-BACKEND.npz
    python tests/backend_worker.py load OUT        load every OUT/*-CASE.keras, generate -> OUT/loaded-BACKEND.npz
    python tests/backend_worker.py errors OUT      bad input: (exception type, message) -> OUT/errors-BACKEND.json

Every output records ``keras.backend.backend()``, so the test can check which backend ran.
"""

import glob
import json
import os
import sys
import warnings

import keras
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402

import keras_gan as kg  # noqa: E402

BACKEND = keras.backend.backend()
SAVED = ("bn_gan", "wgan_gp_d2", "began", "cgan", "infogan")


def steps(out):
    result = {"backend": np.array(BACKEND)}
    for case in cases.CASES:
        model = cases.compiled(case)
        draws = cases.FixedDraws()
        with draws:
            model.fit(*cases.batches(case, steps=model.d_steps), batch_size=cases.BATCH, epochs=1, verbose=0,
                      shuffle=False, callbacks=[draws])
        for i, value in enumerate(cases.state(model)):
            result[f"{case}/{i}"] = value
        result[f"{case}/draws"] = np.array(draws.calls)
    np.savez(os.path.join(out, f"steps-{BACKEND}.npz"), **result)


def save(out):
    result = {"backend": np.array(BACKEND)}
    for case in SAVED:
        # wgan_gp_d2 is saved with jit_compile=True, which PyTorch cannot honour with a penalty:
        # loading it there must fall back to eager PyTorch, not fail.
        jit = True if case == "wgan_gp_d2" and BACKEND != "torch" else "auto"
        model = cases.compiled(case, optimizer=lambda: keras.optimizers.Adam(1e-2, 0.5), jit_compile=jit)
        model.fit(*cases.batches(case, steps=2 * model.d_steps), batch_size=cases.BATCH, epochs=1, verbose=0,
                  shuffle=False)
        model.save(os.path.join(out, f"{BACKEND}-{case}.keras"))
        result[f"{case}/images"] = _images(model, case)
        result[f"{case}/step"] = np.array(int(keras.ops.convert_to_numpy(model.d_step_count)))
        result[f"{case}/seed"] = keras.ops.convert_to_numpy(model.seed_generator.state).astype("int64")
    np.savez(os.path.join(out, f"saved-{BACKEND}.npz"), **result)


def _images(model, case):
    kwargs = {"labels": np.arange(16) % cases.NUM_CLASSES} if case.startswith("cgan") else {}
    return model.generate(16, seed=0, **kwargs)


def load(out):
    result = {"backend": np.array(BACKEND)}
    for path in sorted(glob.glob(os.path.join(out, "*-*.keras"))):
        saver, case = os.path.basename(path)[:-len(".keras")].split("-", 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", kg.gan.BatchNormPenaltyWarning)
            model = keras.models.load_model(path)
        result[f"{saver}/{case}/images"] = _images(model, case)
        result[f"{saver}/{case}/step"] = np.array(int(keras.ops.convert_to_numpy(model.d_step_count)))
        result[f"{saver}/{case}/seed"] = keras.ops.convert_to_numpy(model.seed_generator.state).astype("int64")
        result[f"{saver}/{case}/jit"] = np.array(bool(model.jit_compile))
        # It trains on, with the loaded optimizer state.
        model.fit(*cases.batches(case, steps=model.d_steps), batch_size=cases.BATCH, epochs=1, verbose=0)
        result[f"{saver}/{case}/trained"] = np.array(int(keras.ops.convert_to_numpy(model.d_step_count)))
    np.savez(os.path.join(out, f"loaded-{BACKEND}.npz"), **result)


def _bad_inputs():
    """(name, thunk) pairs; each thunk must raise a ValueError or TypeError before training."""
    x = np.random.default_rng(0).normal(0, 0.5, (16, 2)).astype("float32")

    def fit(case, *data, compile_=True):
        model = cases.build(case)
        if compile_:
            model.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
        model.fit(*data, batch_size=8, epochs=1, verbose=0)

    def one_optimizer():
        cases.build("wgan").compile(d_optimizer=keras.optimizers.SGD(0.1))

    return [
        ("fit before compile", lambda: fit("non_saturating", x, compile_=False)),
        ("one optimizer", one_optimizer),
        ("uint8 data", lambda: fit("non_saturating", (x * 100).astype("uint8"))),
        ("wrong width", lambda: fit("non_saturating", np.zeros((16, 3), "float32"))),
        ("NaN", lambda: fit("non_saturating", np.where(x > 0.5, np.nan, x).astype("float32"))),
        ("float labels", lambda: fit("cgan", x, np.zeros(16, "float32"))),
        ("labels out of range", lambda: fit("cgan", x, np.full(16, 9, "int32"))),
        ("no labels", lambda: fit("cgan", x)),
        ("WGANGP penalty_weight", lambda: kg.WGANGP(*cases.networks("wgan_gp"), cases.LATENT, penalty_weight=1.0)),
        ("d_steps 0", lambda: kg.GAN(*cases.networks("gan"), cases.LATENT, d_steps=0)),
        ("latent_dim", lambda: kg.GAN(*cases.networks("gan"), cases.LATENT + 1)),
        ("generate positional", lambda: cases.build("non_saturating").generate(4, 0)),
        ("unknown loss", lambda: kg.GAN(*cases.networks("gan"), cases.LATENT, loss="nope")),
        ("unknown pipeline", lambda: kg.data.mixture("ring8").dataset(8, pipeline="grain")),
    ]


def errors(out):
    result = {"backend": BACKEND}
    for name, thunk in _bad_inputs():
        try:
            thunk()
            result[name] = ["no error", ""]
        except (ValueError, TypeError) as error:
            result[name] = [type(error).__name__, str(error)]
    with open(os.path.join(out, f"errors-{BACKEND}.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    mode, out = sys.argv[1], sys.argv[2]
    {"steps": steps, "save": save, "load": load, "errors": errors}[mode](out)
    print(f"{mode} done on {BACKEND}")
