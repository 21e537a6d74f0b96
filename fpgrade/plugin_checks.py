"""What keeps a registration from being admitted, in words: :func:`offer_problem` for what a
hook hands over, :func:`model_problem` for what keeps a model from training or grading.

The registry (:mod:`fpgrade.registry`) asks :func:`model_problem` about every model class once the
scales and preprocessors of all plugins are known; a model with a problem is not registered, and
its plugin is left out with the reason (``fpgrade plugins``). The checks are those a researcher
would otherwise meet only at ``fpgrade train``, once per file:

- ``input_keys`` and a known layout (:data:`fpgrade.model_api.LAYOUTS`) for each;
- every scale and preprocessor the card names is registered, unless it may belong to a plugin
  that is blocked (``FPGRADE_DISABLE_PLUGINS``: not loaded, so what it would register is unknown)
  or that failed and offered that id; one registered scale is needed in any case;
- the recipe names an optimiser and a schedule fpgrade builds (unless ``optimisers()`` is the
  model's own), the ``optimisers()`` signature, the augmentation and the mirror signs;
- for every medium on the card, the preprocessing pipeline plans
  (:func:`fpgrade.pipeline.plan`) and, where the model keeps the default ``samples()``, every
  input key is a result some registered preprocessor provides; while a plugin is blocked or
  failed, one medium that plans is enough (the others may need its preprocessors).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping

from fpgrade.augmentation import Augmentation
from fpgrade.model_api import LAYOUTS, RECIPE_OPTIMIZERS, RECIPE_SCHEDULES, GradingModel, ModelCard
from fpgrade.preprocess_api import Preprocessor
from fpgrade.scales import CompositeScale, GradingScale


def offer_problem(kind: str, item: Any) -> str | None:
    """Why ``item`` is not something a ``register_*`` hook of this kind may register."""
    if kind == "scale":
        if not isinstance(item, (GradingScale, CompositeScale)):
            return f"registered {item!r}, not a GradingScale or a CompositeScale"
        return None
    if kind == "preprocessor":
        if not (inspect.isclass(item) and issubclass(item, Preprocessor)):
            return f"registered {item!r}, not a Preprocessor class"
        if not isinstance(getattr(item, "id", None), str):
            return f"registered the preprocessor {item.__name__}, which has no id"
        return None
    if not (inspect.isclass(item) and issubclass(item, GradingModel)):
        return f"registered {item!r}, not a GradingModel class"
    if not isinstance(getattr(item, "card", None), ModelCard):
        return f"registered the model {item.__name__}, which has no ModelCard"
    return None


def model_problem(cls: type[GradingModel], registry,
                  elsewhere: Callable[[str, str], bool] = lambda kind, item_id: False,
                  ) -> str | None:
    """The first problem of ``cls`` in words (None if none).

    :param registry: a :class:`fpgrade.registry.Registry` holding the scales and preprocessors.
    :param elsewhere: ``(kind, id)`` -> whether a missing scale or preprocessor may belong to a
        blocked or failed plugin (then it is no fault of this model).
    """
    strict = not elsewhere("any", "")
    return (_inputs_problem(cls) or _card_problem(cls, registry, elsewhere)
            or _recipe_problem(cls) or _augmentation_problem(cls)
            or _pipeline_problem(cls, registry, strict))


def _inputs_problem(cls: type[GradingModel]) -> str | None:
    keys = cls.input_keys
    if not keys or not isinstance(keys, (tuple, list)) or not all(isinstance(k, str) for k in keys):
        return "declares no input_keys (a tuple naming the preprocessing results forward() takes)"
    layouts = cls.input_layouts if isinstance(cls.input_layouts, Mapping) else {}
    for key in keys:
        layout = layouts.get(key)
        if layout not in LAYOUTS:
            return (f"gives input {key!r} the layout {layout!r} in input_layouts "
                    f"(one of {', '.join(LAYOUTS)} is needed)")
    return None


def _card_problem(cls: type[GradingModel], registry, elsewhere) -> str | None:
    card = cls.card
    scales = registry.scales
    missing = [s for s in card.scales if s not in scales]
    unexplained = [s for s in missing if not elsewhere("scale", s)]
    if not card.scales or len(missing) == len(card.scales) or unexplained:
        return (f"names the scale {', '.join(map(repr, unexplained or missing)) or 'none'} on its "
                f"card, which no plugin registered (registered: "
                f"{', '.join(sorted(scales)) or 'none'})")
    unknown = [p for p in card.preprocessors
               if p not in registry.preprocessors and not elsewhere("preprocessor", p)]
    if unknown:
        return (f"names the preprocessor {', '.join(map(repr, unknown))} on its card, which no "
                f"plugin registered (registered: {', '.join(sorted(registry.preprocessors))})")
    media = [m for m in card.media if m not in ("image", "video")]
    if not card.media or media:
        return f"grades the media {card.media!r} (each must be 'image' or 'video')"
    return None


def _recipe_problem(cls: type[GradingModel]) -> str | None:
    own_optimisers = cls.optimisers.__func__ is not GradingModel.optimisers.__func__
    if own_optimisers and "steps_per_epoch" in inspect.signature(cls.optimisers).parameters:
        return ("overrides optimisers() with the signature (network, stage, epochs, "
                "steps_per_epoch): fpgrade calls optimisers(network, stage, epochs, recipe)")
    recipe = cls.card.recipe
    if not own_optimisers and str(recipe.get("optimizer", "adam")).lower() not in RECIPE_OPTIMIZERS:
        return (f"names the optimizer {recipe.get('optimizer')!r} in its recipe "
                f"(known: {', '.join(RECIPE_OPTIMIZERS)}; or override optimisers())")
    if not own_optimisers and recipe.get("schedule", "constant") not in RECIPE_SCHEDULES:
        return (f"names the schedule {recipe.get('schedule')!r} in its recipe "
                f"(known: {', '.join(RECIPE_SCHEDULES)}; or override optimisers())")
    return None


def _augmentation_problem(cls: type[GradingModel]) -> str | None:
    if not isinstance(cls.augmentation, Augmentation):
        return (f"declares augmentation as {cls.augmentation!r}, not an "
                "fpgrade.augmentation.Augmentation (a model declares its own transforms, "
                "e.g. Augmentation(flip=0.5))")
    if cls.augmentation.flip:
        unsigned = [k for k in cls.input_keys
                    if cls.input_layouts[k] == "vector" and k not in cls.mirror_signs]
        if unsigned:
            return (f"flips in augmentation but gives no mirror_signs for its vector input "
                    f"{', '.join(unsigned)}")
    return None


def _pipeline_problem(cls: type[GradingModel], registry, strict: bool) -> str | None:
    """Each medium's pipeline plans; where none does (or, when strict, where one does not), the
    reason. The default ``samples()`` takes the input keys straight from the results, so each
    must be provided by a preprocessor."""
    from fpgrade.errors import FpgradeError
    from fpgrade.pipeline import plan

    offered = sorted({name for p in registry.preprocessors.values() for name in p.provides})
    default_samples = cls.samples.__func__ is GradingModel.samples.__func__
    problems = []
    for kind in cls.card.media:
        medium = "photo" if kind == "image" else kind
        try:
            targets = tuple(cls.pipeline_targets(kind))
        except Exception as exc:  # noqa: BLE001 - the plugin's own code raised
            problems.append(f"cannot prepare a {medium}: pipeline_targets({kind!r}) raised "
                            f"{type(exc).__name__}: {exc}")
            continue
        unknown = [t for t in targets if t not in offered and t not in registry.preprocessors
                   and t not in ("path", "movement")]
        if unknown:
            problems.append(f"takes the input {', '.join(map(repr, unknown))} (for a {medium}), "
                            f"which no registered preprocessor provides (results on offer: "
                            f"{', '.join(offered)})")
            continue
        try:
            pipeline = plan(registry, targets)
        except FpgradeError as exc:
            problems.append(f"cannot prepare a {medium}: {exc} (results on offer: "
                            f"{', '.join(offered)})")
            continue
        except Exception as exc:  # noqa: BLE001 - a preprocessor's constructor raised
            problems.append(f"cannot prepare a {medium}: making its preprocessors raised "
                            f"{type(exc).__name__}: {exc}")
            continue
        provided = {"path", "movement", *(n for step in pipeline.steps for n in step.provides)}
        missing = [k for k in cls.input_keys if k not in provided]
        if default_samples and missing:
            problems.append(f"takes the input {', '.join(map(repr, missing))} (for a {medium}), "
                            f"which no registered preprocessor provides (results on offer: "
                            f"{', '.join(offered)})")
    if problems and (strict or len(problems) == len(cls.card.media)):
        return problems[0]
    return None
