"""The plugin registry: loads every plugin of the ``fpgrade`` entry-point group through pluggy.

Built-in plugins live in ``plugins/`` and are declared in fpgrade's own ``pyproject.toml``, in the
same group a third-party package uses, so they load the same way. The rest of the code asks a
:class:`Registry` for scales, preprocessors and models and never calls ``pm.hook`` itself.

Rules:

- a plugin that fails to import (or whose hook raises) is reported as a :class:`PluginFailure`
  with its name and error, and the others still load;
- ``FPGRADE_DISABLE_PLUGINS=a,b`` blocks plugins by entry-point name;
- a duplicate id is a :class:`~fpgrade.errors.DuplicateIdError` naming both modules.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from fpgrade import hookspecs
from fpgrade.errors import DuplicateIdError, PluginError, UnknownModelError, UnknownScaleError
from fpgrade.augmentation import Augmentation
from fpgrade.model_api import LAYOUTS, RECIPE_OPTIMIZERS, RECIPE_SCHEDULES, GradingModel, ModelCard
from fpgrade.preprocess_api import Preprocessor
from fpgrade.scales import CompositeScale, GradingScale
from fpgrade.settings import get_settings

ENTRY_POINT_GROUP = hookspecs.PROJECT


@dataclass
class PluginInfo:
    """One loaded plugin and what it registered."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    scales: list[str] = field(default_factory=list)
    preprocessors: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "scales": self.scales,
            "preprocessors": self.preprocessors,
            "models": self.models,
            "hooks": self.hooks,
        }


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, or whose hook raised."""

    name: str
    error: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "error": self.error}


@dataclass
class Registry:
    """Everything the loaded plugins registered, by id."""

    plugin_manager: pluggy.PluginManager
    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    scales: dict[str, GradingScale] = field(default_factory=dict)
    composite_scales: dict[str, CompositeScale] = field(default_factory=dict)
    preprocessors: dict[str, type[Preprocessor]] = field(default_factory=dict)
    models: dict[str, type[GradingModel]] = field(default_factory=dict)
    _owner: dict[tuple[str, str], str] = field(default_factory=dict)

    @staticmethod
    def _lookup(table: dict, item_id: str, kind: str, error: type[Exception]):
        try:
            return table[item_id]
        except KeyError:
            known = ", ".join(sorted(table)) or "none"
            raise error(f"unknown {kind} {item_id!r} (known: {known})") from None

    def scale(self, scale_id: str) -> GradingScale:
        """The scale with this id; :class:`UnknownScaleError` names the known ones."""
        return self._lookup(self.scales, scale_id, "scale", UnknownScaleError)

    def composite(self, scale_id: str) -> CompositeScale:
        """The composite scale (items and a formula: eFACE, Sunnybrook) with this id."""
        return self._lookup(self.composite_scales, scale_id, "composite scale", UnknownScaleError)

    def model(self, model_id: str) -> type[GradingModel]:
        """The model class with this id; :class:`UnknownModelError` names the known ones."""
        return self._lookup(self.models, model_id, "model", UnknownModelError)

    def preprocessor(self, preprocessor_id: str) -> type[Preprocessor]:
        """The preprocessor class with this id; :class:`PluginError` names the known ones."""
        return self._lookup(self.preprocessors, preprocessor_id, "preprocessor", PluginError)

    def add_commands(self, cli: Any) -> None:
        """Let every plugin add its commands to ``cli`` (a failing plugin is reported, not fatal)."""
        for impl in self.plugin_manager.hook.register_commands.get_hookimpls():
            try:
                impl.function(cli=cli)
            except Exception as exc:  # noqa: BLE001 - one plugin must not break the CLI
                self.failures.append(PluginFailure(impl.plugin_name, _describe(exc)))

    # -- registration -------------------------------------------------------------------------

    def _claim(self, kind: str, item_id: str, plugin: str) -> None:
        key = (kind, item_id)
        if key in self._owner:
            first = self._owner[key]
            raise DuplicateIdError(
                f"{kind} id {item_id!r} is registered twice: by plugin {first!r} "
                f"(module {self.plugins[first].module}) and by plugin {plugin!r} "
                f"(module {self.plugins[plugin].module}); disable one with "
                f"FPGRADE_DISABLE_PLUGINS={plugin}"
            )
        self._owner[key] = plugin

    def _register_scale(self, plugin: str, scale: GradingScale | CompositeScale) -> None:
        if isinstance(scale, CompositeScale):  # items and a formula: kept apart from the levels
            self._claim("scale", scale.id, plugin)
            self.composite_scales[scale.id] = scale
            self.plugins[plugin].scales.append(scale.id)
            return
        if not isinstance(scale, GradingScale):
            raise PluginError(f"plugin {plugin!r} registered {scale!r}, not a GradingScale "
                              "or a CompositeScale")
        self._claim("scale", scale.id, plugin)
        self.scales[scale.id] = scale
        self.plugins[plugin].scales.append(scale.id)

    def _register_preprocessor(self, plugin: str, cls: type[Preprocessor]) -> None:
        if not (inspect.isclass(cls) and issubclass(cls, Preprocessor)):
            raise PluginError(f"plugin {plugin!r} registered {cls!r}, not a Preprocessor class")
        self._claim("preprocessor", cls.id, plugin)
        self.preprocessors[cls.id] = cls
        self.plugins[plugin].preprocessors.append(cls.id)

    def _register_model(self, plugin: str, cls: type[GradingModel]) -> None:
        if not (inspect.isclass(cls) and issubclass(cls, GradingModel)):
            raise PluginError(f"plugin {plugin!r} registered {cls!r}, not a GradingModel class")
        if not isinstance(getattr(cls, "card", None), ModelCard):
            raise PluginError(f"plugin {plugin!r}: model {cls.__name__} has no ModelCard")
        problem = _model_problem(cls, self.scales)
        if problem:
            raise PluginError(f"plugin {plugin!r}: model {cls.card.id!r} {problem}")
        self._claim("model", cls.card.id, plugin)
        self.models[cls.card.id] = cls
        self.plugins[plugin].models.append(cls.card.id)


def _model_problem(cls: type[GradingModel], scales: dict[str, GradingScale]) -> str | None:
    """What keeps a model class from training or grading, in words (None if nothing)."""
    keys = cls.input_keys
    if not keys or not isinstance(keys, (tuple, list)) or not all(isinstance(k, str) for k in keys):
        return "declares no input_keys (a tuple naming the preprocessing results forward() takes)"
    for key in keys:
        layout = cls.input_layouts.get(key)
        if layout not in LAYOUTS:
            return (f"gives input {key!r} the layout {layout!r} in input_layouts "
                    f"(one of {', '.join(LAYOUTS)} is needed)")
    # a scale of another plugin may be disabled (FPGRADE_DISABLE_PLUGINS): one registered is enough
    if not any(s in scales for s in cls.card.scales):
        return (f"names no registered scale on its card ({', '.join(cls.card.scales) or 'none'})")
    own_optimisers = cls.optimisers.__func__ is not GradingModel.optimisers.__func__
    if own_optimisers and "steps_per_epoch" in inspect.signature(cls.optimisers).parameters:
        return ("overrides optimisers() with the old signature (network, stage, epochs, "
                "steps_per_epoch): since fpgrade 0.2 it is (network, stage, epochs, recipe)")
    recipe = cls.card.recipe
    if not own_optimisers and str(recipe.get("optimizer", "adam")).lower() not in RECIPE_OPTIMIZERS:
        return (f"names the optimizer {recipe.get('optimizer')!r} in its recipe "
                f"(known: {', '.join(RECIPE_OPTIMIZERS)}; or override optimisers())")
    if not own_optimisers and recipe.get("schedule", "constant") not in RECIPE_SCHEDULES:
        return (f"names the schedule {recipe.get('schedule')!r} in its recipe "
                f"(known: {', '.join(RECIPE_SCHEDULES)}; or override optimisers())")
    if not isinstance(cls.augmentation, Augmentation):
        return (f"declares augmentation as {cls.augmentation!r}, not an "
                "fpgrade.augmentation.Augmentation (since fpgrade 0.2 a model declares its own "
                "transforms; named recipes are gone)")
    if cls.augmentation.flip:
        unsigned = [k for k in keys if cls.input_layouts[k] == "vector" and k not in cls.mirror_signs]
        if unsigned:
            return (f"flips in augmentation but gives no mirror_signs for its vector input "
                    f"{', '.join(unsigned)}")
    return None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _call_hook(
    registry: Registry, hook_name: str, register: Callable[[str, Any], None]
) -> None:
    """Call one register_* hook plugin by plugin, so each registration knows its plugin."""
    hook = getattr(registry.plugin_manager.hook, hook_name)
    for impl in hook.get_hookimpls():  # registration order
        try:
            impl.function(register=lambda item, _p=impl.plugin_name: register(_p, item))
        except DuplicateIdError:
            raise
        except Exception as exc:  # noqa: BLE001 - report the plugin, keep the others
            registry.failures.append(PluginFailure(impl.plugin_name, _describe(exc)))


def load_registry(
    entry_points_: Iterable[EntryPoint] | None = None,
    disabled: Iterable[str] | None = None,
) -> Registry:
    """Load every plugin and collect what it registers.

    :param entry_points_: the entry points to load (default: the installed ``fpgrade`` group).
    :param disabled: plugin names to block (default: ``FPGRADE_DISABLE_PLUGINS``).
    :raises DuplicateIdError: two plugins registered the same id.
    """
    if entry_points_ is None:
        entry_points_ = entry_points(group=ENTRY_POINT_GROUP)
    blocked = set(get_settings().disable_plugins if disabled is None else disabled)

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    registry = Registry(plugin_manager=pm)

    for ep in sorted(entry_points_, key=lambda ep: ep.name):
        if ep.name in blocked:
            pm.set_blocked(ep.name)
            registry.blocked.append(ep.name)
            continue
        if ep.name in registry.plugins:
            raise DuplicateIdError(
                f"plugin name {ep.name!r} is declared twice: module "
                f"{registry.plugins[ep.name].module} and module {ep.value}"
            )
        try:
            module = ep.load()
            pm.register(module, name=ep.name)
        except Exception as exc:  # noqa: BLE001 - report it, load the others
            registry.failures.append(PluginFailure(ep.name, _describe(exc)))
            continue
        dist = ep.dist
        registry.plugins[ep.name] = PluginInfo(
            name=ep.name,
            module=ep.value,
            distribution=dist.name if dist else None,
            version=dist.version if dist else None,
            hooks=sorted(hc.name for hc in pm.get_hookcallers(module) or ()),
        )
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"a plugin implements a hook fpgrade does not have: {exc}") from exc

    _call_hook(registry, "register_scales", registry._register_scale)
    _call_hook(registry, "register_preprocessors", registry._register_preprocessor)
    _call_hook(registry, "register_models", registry._register_model)
    return registry


@lru_cache(maxsize=1)
def get_registry() -> Registry:
    """The process-wide registry, loaded once."""
    return load_registry()
