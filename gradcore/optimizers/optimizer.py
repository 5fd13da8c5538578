"""``gc.optimizers.Optimizer``: the Keras 3 optimizer contract (keras/src/optimizers/base_optimizer.py).

A subclass creates its slot variables in ``build`` and moves one variable in
``update_step``. Everything around that happens here, in the order of Keras'
``BaseOptimizer.apply``:

    drop None gradients -> check each gradient against its variable (backend, shape) ->
    build -> unscale (loss_scale_factor) -> clip -> per variable: cast the gradient to the
    variable's dtype, decoupled weight decay, update_step -> iterations += 1

The per-variable part runs as one backend kernel for all the variables of a dtype
where the rule has one and it computes the same numbers (gradcore/optimizers/fused.py).

Every check comes before the first write, so a step that raises leaves the variables,
the slots and ``iterations`` as they were.

The whole step runs with every tape paused: an optimizer update is not part of
the computation being differentiated, and a tape the user keeps open around the
training step must not grow (or watch the slots) because of it.
"""

import re
import warnings

import numpy as np

from gradcore import initializers
from gradcore.distribute.optimizer_steps import summed_over_replicas
from gradcore.distribute.variables import writes_in_sync
from gradcore.engine import dtypes, tracking
from gradcore.engine.convert import convert_to_tensor, device
from gradcore.engine.recording import paused
from gradcore.engine.tape import GradientTape
from gradcore.engine.tensor import Tensor
from gradcore.engine.variables import Variable
from gradcore.errors import BackendError, ShapeError
from gradcore.ops.clip_ops import clip_by_global_norm, clip_by_norm, clip_by_value
from gradcore.ops.math_ops import cast
from gradcore.optimizers import schedules
from gradcore.optimizers.fused import fused_rule, fused_update
from gradcore.optimizers.schedules import LearningRateSchedule
from gradcore.plugin.discovery import backend_scope

_COMMON_ARGUMENTS = (
    "weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema", "ema_momentum",
    "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps",
)


def through_float32(value):
    """``value`` rounded to float32, as a Python float.

    Keras casts some Python hyperparameters with ``ops.cast(value, variable.dtype)``, which
    on TensorFlow makes a float32 tensor first: even a float64 variable sees the
    float32-rounded SGD momentum, weight decay, Adam betas in the bias-correction powers and
    Adagrad's initial accumulator. Handed to an op
    as a weak Python scalar, the rounded value gives exactly that cast in every dtype.
    """
    return float(np.float32(value))


def is_real_number(value):
    """Python and NumPy ints and floats, not bools: what gradcore accepts as a hyperparameter.

    Keras 3 accepts only Python floats for ``learning_rate`` and ``momentum``; gradcore takes
    any real number (docs/deviations.md, "API and errors").
    """
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def checked_float(name, value):
    """``value`` as a Python float, or a ValueError naming the argument."""
    if not is_real_number(value):
        raise ValueError(f"Argument `{name}` must be a float. Received: {name}={value!r}")
    return float(value)


class Optimizer:
    """Base class of gradcore's optimizers, as ``tf.keras.optimizers.Optimizer`` (Keras 3).

    Args (the keyword arguments every optimizer takes):
        learning_rate: a float (ints and NumPy scalars too), a ``LearningRateSchedule``
            called with ``iterations`` before it is incremented, or a callable of no
            arguments called each step.
        weight_decay: decoupled decay ``w -= lr * weight_decay * w``, on the pre-update ``w``, before the update.
        clipnorm / clipvalue / global_clipnorm: at most one may be set; only values > 0 act (0 turns clipping off).
        loss_scale_factor: gradients are divided by it; ``scale_loss`` multiplies by it.
        use_ema, ema_momentum, ema_overwrite_frequency, gradient_accumulation_steps: accepted
            for Keras' signature; turning EMA or accumulation on is not implemented yet.
        name: defaults to the class name in lower case.

    ``iterations`` and the learning-rate variable are made on the backend and device current
    at construction, and the variables it updates must live on that backend; each slot is
    made on its variable's backend and device.
    """

    #: Names of the subclass' constructor arguments, for ``get_config``.
    _hyperparameters = ()

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        _check_unknown_arguments(kwargs)
        _check_one_clipping(clipnorm, clipvalue, global_clipnorm)
        if use_ema or gradient_accumulation_steps:
            raise NotImplementedError(
                f"gc.optimizers.{type(self).__name__}: use_ema and gradient_accumulation_steps are not "
                f"implemented yet (received use_ema={use_ema}, "
                f"gradient_accumulation_steps={gradient_accumulation_steps})"
            )
        self.name = name or type(self).__name__.lower()
        self.weight_decay = None if weight_decay is None else checked_float("weight_decay", weight_decay)
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.use_ema, self.ema_momentum, self.ema_overwrite_frequency = use_ema, ema_momentum, ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables = []
        self._trainable_variables = []
        self._indices = {}  # id(model variable) -> its position in the list built with
        self._decayed = []  # per position: whether weight decay applies (see exclude_from_weight_decay)
        self._excluded_ids, self._excluded_names = set(), None
        self._iterations = self._track(Variable(0, trainable=False, name="iteration", dtype=dtypes.int64))
        self._learning_rate = self._initial_learning_rate(learning_rate)

    def _initial_learning_rate(self, learning_rate):
        if callable(learning_rate):  # a LearningRateSchedule or a function of no arguments
            return learning_rate
        if not is_real_number(learning_rate):
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or a "
                f"callable (that takes no arguments and returns the learning rate). Received instead: "
                f"learning_rate={learning_rate!r}"
            )
        # float32, Keras' floatx: a float64 model sees the float32-rounded rate, as on Keras.
        return self._track(Variable(float(learning_rate), trainable=False, name="learning_rate", dtype=dtypes.float32))

    # ---- state ----------------------------------------------------------------------------

    @property
    def iterations(self):
        """The number of steps applied: a non-trainable int64 Variable."""
        return self._iterations

    @property
    def variables(self):
        """The optimizer's own variables (iteration, learning_rate, then the slots), as a new list."""
        return list(self._variables)

    @property
    def learning_rate(self):
        """The current learning rate: the variable, or the schedule / callable evaluated now."""
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        current = self._learning_rate
        if callable(learning_rate):
            self._variables = [v for v in self._variables if v is not current]
            self._learning_rate = learning_rate
        elif isinstance(current, Variable):
            current.assign(float(learning_rate) if is_real_number(learning_rate) else learning_rate)
        else:
            kind = "`LearningRateSchedule` object" if isinstance(current, LearningRateSchedule) else "callable"
            raise TypeError(
                f"This optimizer was created with a {kind} as its `learning_rate` constructor argument, "
                "hence its learning rate is not settable. If you need the learning rate to be settable, "
                "you should instantiate the optimizer with a float `learning_rate` argument."
            )

    def _current_learning_rate(self):
        learning_rate = self._learning_rate
        if isinstance(learning_rate, Variable):
            return learning_rate
        if isinstance(learning_rate, LearningRateSchedule):
            return learning_rate(self._iterations)
        return learning_rate()

    def _track(self, variable):
        self._variables.append(variable)
        if tracking.waiting:  # a checkpoint restore may wait for this slot (docs/checkpoints.md)
            tracking.child_added(self._variables, str(len(self._variables) - 1), variable)
        return variable

    def _trackable_children(self):
        """Every optimizer variable in creation order: the iteration count, a variable learning
        rate, then the slots as ``build`` made them (the same program makes them in the same order)."""
        return {"variables": self._variables}

    # ---- building ---------------------------------------------------------------------------

    def build(self, var_list):
        """Remember the model variables; subclasses then create their slots (Keras' pattern)."""
        if self.built:
            return
        var_list = list(var_list)
        self._trainable_variables = var_list
        self._indices = {id(v): i for i, v in enumerate(var_list)}
        self._decayed = [self._use_weight_decay(v) for v in var_list]
        self.built = True

    def _get_variable_index(self, variable):
        return self._indices[id(variable)]

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none", layout=None, name=None):
        """A new non-trainable optimizer variable, tracked in ``variables``.

        ``initializer`` is anything ``gc.initializers.get`` takes: a name, an Initializer or a
        callable ``(shape, dtype) -> value``.
        """
        dtype = dtypes.float32 if dtype is None else dtypes.as_dtype(dtype)
        with paused():
            value = initializers.get(initializer)(tuple(shape), dtype)
        return self._track(Variable(value, trainable=False, name=name))

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A slot shaped, typed and placed like ``reference_variable``, named ``<w>_0_<name>`` as in Keras.

        The name is Keras': the reference's name ("w:0") with "/" and ":" made "_", so
        a variable "w" gets slots "w_0_momentum", "w_0_velocity" (gradcore's Variable
        then appends its own ":0").
        """
        slot_name = f"{reference_variable.name.replace('/', '_').replace(':', '_')}_{name or 'var'}"
        with backend_scope(reference_variable.backend.name), device(reference_variable.device):
            return self.add_variable(reference_variable.shape, initializer, reference_variable.dtype, name=slot_name)

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """One slot per variable for ``name`` (or a tuple of lists for a list of names), interleaved as Keras."""
        names = [name] if isinstance(name, str) else list(name)
        one_initializer = isinstance(initializer, str) or callable(initializer)
        initializers = [initializer] * len(names) if one_initializer else list(initializer)
        slots = tuple([] for _ in names)
        for variable in trainable_variables:
            for slot_list, slot_name, slot_initializer in zip(slots, names, initializers):
                slot_list.append(self.add_variable_from_reference(variable, slot_name, slot_initializer))
        return slots[0] if isinstance(name, str) else slots

    # ---- weight decay exclusions --------------------------------------------------------------

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt ``var_list`` and variables whose name contains any of ``var_names`` from weight decay.

        Must be called before the optimizer is built.
        """
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._excluded_ids = {id(v) for v in var_list or ()}
        self._excluded_names = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._excluded_ids:
            return False
        return self._excluded_names is None or self._excluded_names.search(variable.name) is None

    # ---- one step -----------------------------------------------------------------------------

    def apply_gradients(self, grads_and_vars):
        """Apply ``(gradient, variable)`` pairs; returns ``iterations``, already incremented.

        An empty list is a no-op, as Keras' ``apply([])`` (Keras' ``apply_gradients([])`` fails;
        docs/deviations.md, "API and errors").
        """
        pairs = list(grads_and_vars)
        if pairs:
            grads, trainable_variables = zip(*pairs)
            self._apply(grads, trainable_variables, "apply_gradients")
        return self._iterations

    def minimize(self, loss, var_list, tape=None):
        """One step down ``loss``: ``compute_gradients``, then ``apply_gradients``; returns None.

        Keras 3 (TF 2.21's ``tf.keras``) has no ``minimize``; this is tf_keras 2.21's (Keras 2,
        ``TF_USE_LEGACY_KERAS=1``), whose return value is None. ``loss`` is a callable of no
        arguments, or a Tensor computed under ``tape``; ``var_list`` a list of Variables or a
        callable returning one, called after ``loss`` (a model may make its variables on its
        first call). A loss this method computes itself is scaled by ``scale_loss`` on the tape,
        as Keras 3's trainers do, so ``loss_scale_factor`` leaves the step unchanged; a Tensor
        loss is the caller's to scale, as with ``apply_gradients``.
        """
        grads_and_vars = self.compute_gradients(loss, var_list, tape)
        _check_variables(grads_and_vars, f"{type(self).__name__}.minimize")
        self.apply_gradients(grads_and_vars)

    def compute_gradients(self, loss, var_list, tape=None):
        """``[(gradient, variable)]`` of ``loss`` for ``var_list`` (a gradient may be None), as tf_keras'.

        A callable ``loss`` is called under ``tape`` (a new GradientTape if None), which also
        watches a ``var_list`` given as a list, so non-trainable variables get gradients too.
        """
        api = f"{type(self).__name__}.compute_gradients"
        if var_list is None:
            raise ValueError(f"{api}: `var_list` is required: a list of gc.Variable, or a callable returning one.")
        if not callable(loss) and tape is None:
            raise ValueError(
                f"{api}: `tape` is required when a `Tensor` loss is passed. Received: loss of type "
                f"{type(loss).__name__}, tape=None. Pass the gc.GradientTape that computed the loss, or pass "
                "`loss` as a callable of no arguments."
            )
        if not callable(var_list):
            var_list = list(var_list)
        tape = GradientTape() if tape is None else tape
        if callable(loss):
            with tape:
                if not callable(var_list):
                    tape.watch(var_list)
                loss = self.scale_loss(loss())
        if callable(var_list):
            var_list = list(var_list())
        return list(zip(tape.gradient(loss, var_list), var_list))

    def apply(self, grads, trainable_variables=None):
        """One step. Without ``trainable_variables`` the grads follow the list built with (an error if not built)."""
        self._apply(grads, trainable_variables, "apply")

    def _apply(self, grads, trainable_variables, api):
        grads = list(grads)
        if not grads:
            return
        with paused():
            all_variables = self._variables_to_update(grads, trainable_variables)
            grads, trainable_variables = _drop_missing_gradients(grads, all_variables)
            grads = self._checked_gradients(grads, trainable_variables, f"{type(self).__name__}.{api}")
            if not self.built:
                self.build(all_variables)
            grads = summed_over_replicas(grads, trainable_variables, [self._iterations],
                                         f"{type(self).__name__}.{api}")
            if self.loss_scale_factor is not None:
                grads = [g / self.loss_scale_factor for g in grads]
            with writes_in_sync():  # every replica applies the same summed gradients (docs/distribute.md)
                self._update(self._clip_gradients(grads), trainable_variables)
                self._iterations.assign_add(1)

    def _variables_to_update(self, grads, trainable_variables):
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be built on a list "
                    "of variables. Call `optimizer.build(trainable_variables)` first."
                )
            if len(grads) != len(self._trainable_variables):
                raise ValueError(
                    f"When passing `grads` as a list of gradient tensors, the gradients must match the "
                    f"variables the optimizer was built with one-to-one. Received a list of {len(grads)} "
                    f"gradients, but the optimizer is tracking {len(self._trainable_variables)} trainable variables."
                )
            return self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            return trainable_variables  # built from this list once the gradients pass their checks
        for v in trainable_variables:
            if id(v) not in self._indices:
                raise ValueError(
                    f"Unknown variable: {v.name!r} (shape {v.shape}, dtype {v.dtype.name}). This optimizer can "
                    "only be called for the variables it was originally built with. When working with a new "
                    "set of variables, you should recreate a new optimizer instance."
                )
        return trainable_variables

    def _checked_gradients(self, grads, trainable_variables, api):
        """The gradients as Tensors, each on its variable's backend with its variable's shape.

        The update's ops would broadcast a wrong-shaped gradient into the slots and the
        variable without a word, and a gradient or variable from another backend would fail
        inside some op halfway through the step, after some slots have moved; all of it is
        caught here, before anything is written. Shapes are compared as the arrays' own shape
        tuples: no kernel, no host sync, a fraction of a microsecond per variable. A gradient of
        another dtype is fine: ``_update`` casts it to the variable's dtype, as Keras' update_step does.
        """
        backend = self._iterations._backend  # the learning rate and step count live here
        checked = []
        for gradient, variable in zip(grads, trainable_variables):
            if not isinstance(gradient, (Tensor, Variable)):
                with backend_scope(backend.name), device(variable.device):  # a NumPy array, a list
                    gradient = convert_to_tensor(gradient)
            if variable._backend is not backend or gradient._backend is not backend:
                raise _foreign_backend_error(api, gradient, variable, backend)
            if gradient._value.shape != variable._value.shape:  # one backend, so one kind of shape object
                raise ShapeError(
                    f"{api}: the gradient for variable {variable.name!r} has shape {gradient.shape}, "
                    f"but the variable has shape {variable.shape}; optimizers do not broadcast gradients"
                )
            checked.append(gradient)
        return checked

    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return [clip_by_norm(g, float(self.clipnorm)) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, float(self.global_clipnorm))[0]
        if self.clipvalue and self.clipvalue > 0:
            limit = float(self.clipvalue)
            return [clip_by_value(g, -limit, limit) for g in grads]
        return grads

    def _update(self, grads, trainable_variables):
        learning_rate = self._current_learning_rate()
        by_dtype = {}  # dtype -> (variables, their gradients cast to it): the step's scalars are made once per dtype
        for gradient, variable in zip(grads, trainable_variables):
            variables, gradients = by_dtype.setdefault(variable.dtype, ([], []))
            variables.append(variable)
            gradients.append(cast(gradient, variable.dtype))
        for dtype, (variables, gradients) in by_dtype.items():
            decay, step_size = self._step_scalars(learning_rate, dtype)
            rule = fused_rule(self, dtype, variables)
            if rule is not None:
                fused_update(self, rule, variables, gradients, decay, step_size)
                continue
            for gradient, variable in zip(gradients, variables):
                if decay is not None and self._decayed[self._indices[id(variable)]]:
                    variable.assign_sub(variable * decay)
                self.update_step(gradient, variable, step_size)

    def _step_scalars(self, learning_rate, dtype):
        """(lr * weight_decay or None, what update_step gets) for variables of ``dtype``."""
        learning_rate = cast(learning_rate, dtype)
        decay = None if self.weight_decay is None else learning_rate * through_float32(self.weight_decay)
        return decay, self._step_size(learning_rate)

    def _step_size(self, learning_rate):
        """What ``update_step`` receives as ``learning_rate``: by default the learning rate itself."""
        return learning_rate

    def update_step(self, gradient, variable, learning_rate):
        """Move ``variable`` by one step. ``gradient`` and ``learning_rate`` are in its dtype already."""
        raise NotImplementedError(f"{type(self).__name__} must implement update_step(gradient, variable, learning_rate)")

    def _fused_rule(self):
        """``update_step`` as an optional backend kernel: ``(kernel name, slot lists, hyperparameters)``, or None.

        The kernel is called as ``kernel(variables, gradients, *slots, step_size, *hyperparameters)``
        for the variables of one dtype, each slot list narrowed to them (None stays None: an option
        that is off), and returns their new arrays (gradcore/optimizers/fused.py). Used only while the
        class that defines this method also defines the ``update_step`` in use.
        """

    def scale_loss(self, loss):
        """``loss * loss_scale_factor`` (the gradients are divided by the factor again in ``apply``)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    # ---- configuration ---------------------------------------------------------------------------

    def get_config(self):
        """The constructor arguments, as Keras': a float learning rate is read from its variable, a
        schedule is serialized to ``{"module", "class_name", "config", "registered_name"}``, and a
        callable of no arguments stays itself."""
        learning_rate = self._learning_rate
        if isinstance(learning_rate, Variable):
            learning_rate = float(learning_rate.numpy())
        elif isinstance(learning_rate, LearningRateSchedule):
            learning_rate = _serialized_schedule(learning_rate)
        config = {"name": self.name, "learning_rate": learning_rate}
        config.update({key: getattr(self, key) for key in _COMMON_ARGUMENTS})
        config.update({key: getattr(self, key) for key in self._hyperparameters})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The optimizer ``get_config`` describes; a schedule of your own is found in ``custom_objects``."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _deserialized_schedule(config["learning_rate"], custom_objects)
        return cls(**config)


def _check_unknown_arguments(kwargs):
    if kwargs.pop("decay", None) is not None:
        warnings.warn("Argument `decay` is no longer supported and will be ignored.", stacklevel=3)
    if kwargs:
        raise ValueError(f"Argument(s) not recognized: {kwargs}")


def _check_one_clipping(clipnorm, clipvalue, global_clipnorm):
    if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
        raise ValueError(
            "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
            f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
        )


def _foreign_backend_error(api, gradient, variable, backend):
    if variable._backend is not backend:
        return BackendError(
            f"{api}: variable {variable.name!r} lives on backend {variable._backend.name}, but this optimizer "
            f"was made on backend {backend.name}; make the optimizer inside "
            f"gc.backend_scope({variable._backend.name!r})"
        )
    return BackendError(
        f"{api}: the gradient for variable {variable.name!r} lives on backend {gradient._backend.name}, the "
        f"variable on {backend.name}; compute the gradient on the variable's backend, or move it with "
        f"gc.constant(g.numpy()) inside gc.backend_scope({backend.name!r})"
    )


def _serialized_schedule(schedule):
    return {"module": "gradcore.optimizers.schedules", "class_name": type(schedule).__name__,
            "config": schedule.get_config(), "registered_name": None}


def _deserialized_schedule(serialized, custom_objects):
    known = {name: value for name, value in vars(schedules).items()
             if not name.startswith("_") and isinstance(value, type) and issubclass(value, LearningRateSchedule)}
    known.update(custom_objects or {})
    name = serialized.get("class_name")
    if name not in known:
        raise ValueError(
            f"Could not deserialize the learning rate schedule {name!r}: known schedules are "
            f"{sorted(known)}; pass a schedule class of your own in `custom_objects={{{name!r}: ...}}`"
        )
    return known[name].from_config(dict(serialized.get("config", {})))


def _check_variables(grads_and_vars, api):
    """Only Variables can be moved: a Tensor in ``var_list`` is an error before anything is written."""
    for position, (_, variable) in enumerate(grads_and_vars):
        if not isinstance(variable, Variable):
            raise TypeError(
                f"{api}: `var_list` must hold gc.Variable objects, but item {position} is a "
                f"{type(variable).__name__}; an optimizer can only update variables"
            )


def _drop_missing_gradients(grads, trainable_variables):
    """Pairs whose gradient is None are skipped with a warning; all None is an error, as in Keras."""
    missing = [v.name for g, v in zip(grads, trainable_variables) if g is None]
    if not missing:
        return grads, trainable_variables
    kept = [(g, v) for g, v in zip(grads, trainable_variables) if g is not None]
    if not kept:
        raise ValueError(f"No gradients provided for any variable. Variables: {missing}")
    warnings.warn(
        f"Gradients do not exist for variables {missing} when minimizing the loss. If using "
        "`model.compile()`, did you forget to provide a `loss` argument?",
        stacklevel=4,
    )
    return [g for g, _ in kept], [v for _, v in kept]
