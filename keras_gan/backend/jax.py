"""JAX versions of the train step's backend-specific pieces (``keras_gan.backend``).

Keras's JAX trainer jits ``train_step(state, data)``, a pure function of the model's
state: (trainable, non-trainable, optimizer and metric variables). ``TrainerMixin``
runs the one stateful step, ``GAN.adversarial_step``, inside a ``keras.StatelessScope``
that maps every variable to its value in ``state`` and reads the new values back from
it. Inside that scope a variable read is a scope read and ``assign`` records a new
value, so the step's code is the same as on the other backends. Three things need care:

- **Two optimizers.** The trainer carries only ``self.optimizer``'s variables through
  the jitted step (``_get_jax_state``, ``jax_state_sync``, ``_purge_model_variables``,
  ``_get_state_sharding_spec``). A GAN has ``d_optimizer`` and ``g_optimizer`` and no
  ``self.optimizer``; the overrides below carry both optimizers' variables.
- **Random numbers.** A ``SeedGenerator``'s state is a non-trainable variable of the
  state, so drawing inside the scope reads the current state and records the next one:
  every step draws new numbers (outside the scope, the purged variable would give the
  same draw every step).
- **Transformations are pure.** ``jax.grad`` (``minimize``, ``input_gradients``) and
  ``lax.cond`` (``run_every``, where the generator update's schedule is not known in
  Python; ``fit`` schedules it in Python, see ``TrainerMixin.make_train_function``) trace
  a function; a value assigned inside it must leave it as an output. ``_Scope`` runs such
  a function in a child scope that starts from the enclosing one and records what it
  assigns (batch-norm statistics, the seed state, metrics, the generator update's
  variables); those values are returned through the transformation and assigned in the
  enclosing scope afterwards.

Under ``keras.distribution.DataParallel`` the jitted step is one program over the global
batch that XLA partitions (inserting the all-reduces), so random draws, DRAGAN's std and
batch statistics are the global batch's, as on one device: ``per_replica`` and
``global_std`` have nothing to do.
"""

import contextlib
import contextvars
import types

import jax
import keras
from keras import ops
from keras.src.backend.common.stateless_scope import get_stateless_scope

#: The step counter's dtype (JAX's default integers are 32-bit).
COUNTER_DTYPE = "int32"


class _Scope(keras.StatelessScope):
    """A StatelessScope starting from the enclosing scope's values (``overrides``, pairs of
    (variable, value), replace some) that records which variables are assigned in it."""

    def __init__(self, overrides=()):
        super().__init__()
        parent = get_stateless_scope()
        if parent is not None:
            self.state_mapping.update(parent.state_mapping)
        for variable, value in overrides:
            self.state_mapping[id(variable)] = value
        self.assigned = {}

    def add_update(self, update):
        super().add_update(update)
        self.assigned[id(update[0])] = update[0]

    def updates(self, skip=()):
        """[(variable, new value)] of the variables assigned here, except those in ``skip``."""
        skip = {id(v) for v in skip}
        return [(v, self.state_mapping[key]) for key, v in self.assigned.items() if key not in skip]


def _value(variable):
    """The variable's current value: the enclosing scope's, else its own."""
    scope = get_stateless_scope()
    value = None if scope is None else scope.get_current_value(variable)
    return variable.value if value is None else value


def _assign(variables, values):
    for variable, value in zip(variables, values):
        variable.assign(value)


def _pure(fn, skip=()):
    """``fn`` as a function a JAX transformation may trace: it returns ``(fn(*args), new values
    of the variables fn assigned)``; the variables themselves are left in ``written``."""
    written = []

    def pure(*args, overrides=()):
        with _Scope(overrides) as scope:
            result = fn(*args)
        updates = scope.updates(skip)
        written[:] = [v for v, _ in updates]
        return result, [value for _, value in updates]

    return pure, written


def minimize(optimizer, loss_fn, variables):
    """One ``optimizer`` update of ``variables`` on the total of ``(total, logs) = loss_fn()``
    (``jax.grad``, then ``optimizer.stateless_apply``); returns ``logs``. Under mixed
    precision ``scale_loss`` scales the total and the LossScaleOptimizer unscales."""
    variables = list(variables)

    def scaled(values):
        total, logs = loss_fn()
        return optimizer.scale_loss(total), logs

    pure, written = _pure(scaled, skip=variables)

    def loss(values):
        (total, logs), new_values = pure(values, overrides=zip(variables, values))
        return total, (logs, new_values)

    grads, (logs, new_values) = jax.grad(loss, has_aux=True)([_value(v) for v in variables])
    _assign(written, new_values)      # batch-norm statistics, the seed state: into the next call
    trainable, slots = optimizer.stateless_apply(
        [_value(v) for v in optimizer.variables], grads, [_value(v) for v in variables])
    _assign(variables, trainable)
    _assign(optimizer.variables, slots)
    return logs


def gradients(fn, variables):
    """d fn() / dv for each of ``variables`` (``fn()`` returns a scalar), as a list (``jax.grad``
    of ``fn`` as a function of the variables' values)."""
    variables = list(variables)
    pure, written = _pure(fn, skip=variables)
    grads, new_values = jax.grad(lambda values: pure(overrides=zip(variables, values)), has_aux=True)(
        [_value(v) for v in variables])
    _assign(written, new_values)
    return grads


def no_grad(fn):
    """``fn()`` as a constant: ``stop_gradient`` of its result."""
    return ops.stop_gradient(fn())


def input_gradients(fn, x):
    """d sum(fn(x)) / dx in float32 (``jax.grad``, itself differentiable: the penalties
    nest it in ``minimize``'s). Summing over the batch gives each sample its own gradient
    when ``fn`` has no batch-coupled layers (no batch norm)."""
    pure, written = _pure(lambda x: ops.sum(ops.cast(fn(x), "float32")))
    grads, new_values = jax.grad(pure, has_aux=True)(ops.cast(x, "float32"))
    _assign(written, new_values)
    return grads


#: Whether the step being traced updates the generator (True/False), set by the train function
#: that schedules the update in Python; None where the schedule is unknown (``lax.cond``).
_GENERATOR_DUE = contextvars.ContextVar("keras_gan_generator_due", default=None)


def run_every(counter, period, fn, args=()):
    """``fn(*args)`` when ``counter % period == 0``. In ``fit`` the train function knows the
    answer in Python (``TrainerMixin.make_train_function``) and this is a plain call or
    nothing; otherwise a ``lax.cond`` whose branches are pure (the taken one returns the new
    values of what ``fn`` assigns, the other their current values), assigned after it."""
    due = _GENERATOR_DUE.get()
    if period == 1 or due is True:
        fn(*args)
        return
    if due is False:
        return
    pure, written = _pure(lambda args: fn(*args))

    def taken(args):
        return pure(args)[1]

    def skipped(args):
        if not written:            # traced before `taken`: learn what `taken` assigns
            taken(args)
        return [_value(v) for v in written]

    new_values = jax.lax.cond(ops.equal(_value(counter) % period, 0), taken, skipped, tuple(args))
    _assign(written, new_values)


def per_replica(draw, shape):
    """``draw(shape)``: under ``DataParallel`` the step is one global program, so the draw is
    already the global batch's, partitioned by XLA."""
    return draw(shape)


def global_std(x):
    """Standard deviation of ``x``: the global batch's, also under ``DataParallel``."""
    return ops.std(x)


def checked_range(values, low, high, what):
    """``values`` (integers), checked to lie in [low, high) when they are concrete (a
    ValueError); in the jitted step they are not checked (the first-batch check of
    ``fit`` is)."""
    if isinstance(values, jax.core.Tracer):
        return values
    found = ops.convert_to_numpy(values)
    if found.size and (found.min() < low or found.max() >= high):
        raise ValueError(f"{what} must lie in [{low}, {high}), got values from {found.min()} to {found.max()}.")
    return values


def check_compile(model, jit_compile):
    """Every compile option works on JAX."""


def check_fit(model):
    """Nothing to refuse: one device, or several through ``keras.distribution.DataParallel``."""


def strategy(name="none"):
    """The CLI's ``--strategy`` on JAX: "none", or "mirrored" for
    ``keras.distribution.DataParallel`` over all local devices (``.scope()`` builds the
    model in it). "multiworker" is ``tf.distribute``'s and needs TensorFlow."""
    name = "none" if name is None else str(name).lower()
    if name == "none":
        return types.SimpleNamespace(scope=contextlib.nullcontext)
    if name == "mirrored":
        return keras.distribution.DataParallel(devices=keras.distribution.list_devices())
    if name == "multiworker":
        raise ValueError("--strategy multiworker is tf.distribute's MultiWorkerMirroredStrategy: run with "
                         "KERAS_BACKEND=tensorflow, or use --strategy mirrored (keras.distribution.DataParallel "
                         "over this machine's devices) on JAX.")
    raise ValueError(f"Unknown strategy {name!r}. Valid strategies: none, mirrored, multiworker.")


def is_chief(strat=None):
    """True in the process that writes files (JAX process 0)."""
    return jax.process_index() == 0


class TrainerMixin:
    """Keras's JAX ``train_step(state, data)`` around ``adversarial_step``, and the trainer
    methods that carry the state, with both optimizers' variables."""

    def _state_groups(self):
        """(trainable, non-trainable, both optimizers', metric variables): the jitted state."""
        optimizers = [o for o in (getattr(self, "d_optimizer", None), getattr(self, "g_optimizer", None)) if o]
        return (self.trainable_variables, self.non_trainable_variables,
                [v for o in optimizers for v in o.variables], self.metrics_variables)

    def train_step(self, state, data):
        data = jax.tree_util.tree_map(jax.numpy.asarray, data)   # numpy batches when not jitted
        groups = self._state_groups()
        mapping = [(v, value) for variables, values in zip(groups, state) for v, value in zip(variables, values)]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            logs = self.adversarial_step(data)
        return logs, tuple([scope.get_current_value(v) for v in variables] for variables in groups)

    def make_train_function(self, force=False):
        """Keras's train function, except that with ``d_steps`` > 1 the generator update is
        scheduled in Python, as a hand-written loop does: two programs (with and without the
        update), chosen from a host copy of ``d_step_count`` (read from the state when its
        counter is not the one the last step returned, then counted). A ``lax.cond`` in one
        program costs XLA about 8% more per step on a CPU (benchmarks/backends.py)."""
        if self.train_function is not None and not force:
            return
        period = getattr(self, "d_steps", 1)
        if period == 1:
            return super().make_train_function(force)
        index = next(i for i, v in enumerate(self.non_trainable_variables) if v is self.d_step_count)
        jit = not self.run_eagerly and self.jit_compile
        out_shardings = (None, self._get_state_sharding_spec()) if jit and keras.distribution.distribution() else None
        variants = {}
        for due in (False, True):
            def step(state, data, due=due):
                token = _GENERATOR_DUE.set(due)
                try:
                    return self.train_step(state, data)
                finally:
                    _GENERATOR_DUE.reset(token)
            variants[due] = jax.jit(step, donate_argnums=0, out_shardings=out_shardings) if jit else step
        last = {"counter": None, "count": 0}

        def scheduled_step(state, data):
            # The counter array this function returned comes back unless the state was fetched
            # from variables that something else assigned (a load, BackupAndRestore): read it then.
            if state[1][index] is not last["counter"]:
                last["count"] = int(state[1][index])
            last["count"] += 1
            logs, state = variants[last["count"] % period == 0](state, data)
            last["counter"] = state[1][index]
            return logs, state

        self.train_function = self._make_function(scheduled_step)

    def _get_jax_state(self, trainable_variables=False, non_trainable_variables=False, optimizer_variables=False,
                       metrics_variables=False, purge_model_variables=False):
        wanted = (trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables)
        state = tuple([v.value for v in group] for want, group in zip(wanted, self._state_groups()) if want)
        if purge_model_variables:
            self._purge_model_variables(*wanted)
        return state

    def _purge_model_variables(self, trainable_variables=False, non_trainable_variables=False,
                               optimizer_variables=False, metrics_variables=False):
        wanted = (trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables)
        for want, group in zip(wanted, self._state_groups()):
            for v in group if want else ():
                v._value = None

    def jax_state_sync(self):
        if not getattr(self, "_jax_state", None) or self._jax_state_synced:
            return
        keys = ("trainable_variables", "non_trainable_variables", "optimizer_variables", "metrics_variables")
        for key, group in zip(keys, self._state_groups()):
            values = self._jax_state.get(key, None)
            if values:
                _assign(group, values)
        self._jax_state_synced = True

    def _get_state_sharding_spec(self):
        return tuple([v.value.sharding for v in group] for group in self._state_groups())
