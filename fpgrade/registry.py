"""The plugin registry: loads every plugin of the ``fpgrade`` entry-point group through pluggy.

Built-in plugins live in ``plugins/`` and are declared in fpgrade's own ``pyproject.toml``, in the
same group a third-party package uses, so they load the same way. The rest of the code asks a
:class:`Registry` for scales, preprocessors and models and never calls ``pm.hook`` itself.

A plugin fails alone: whatever goes wrong with it, it is left out (none of its scales,
preprocessors, models or commands is registered), listed by ``fpgrade plugins`` as failed with the
reason in words, and every other plugin and command works. A plugin fails when

- its module cannot be imported, or it implements a hook fpgrade does not have (``register_scale``);
- one of its hooks raises, or registers something that is not a scale, preprocessor or model class;
- it registers an id (scale, preprocessor, model) that another plugin already registered: the
  built-ins (distribution ``fpgrade``) load first, then the others by name, and the later one is
  left out (``FPGRADE_DISABLE_PLUGINS=<first>`` lets the later one in instead);
- one of its models cannot train or grade (:func:`fpgrade.plugin_checks.model_problem`): no
  preprocessor provides an input, the card names an unknown scale or preprocessor, ...;
- its ``register_commands`` hook raises or adds a command fpgrade already has.

Leaving a plugin out can take away a scale or preprocessor that another plugin's model needs, so
the registry settles in rounds until no plugin fails (a plugin once failed stays out).
``FPGRADE_DISABLE_PLUGINS=a,b`` blocks plugins by entry-point name (listed as ``blocked``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from fpgrade import hookspecs
from fpgrade.errors import PluginError, UnknownModelError, UnknownScaleError
from fpgrade.model_api import GradingModel
from fpgrade.plugin_checks import model_problem, offer_problem
from fpgrade.preprocess_api import Preprocessor
from fpgrade.scales import CompositeScale, GradingScale
from fpgrade.settings import get_settings

ENTRY_POINT_GROUP = hookspecs.PROJECT
BUILT_IN_DISTRIBUTION = "fpgrade"
#: the registering hooks, in the order they are called, and what each registers
REGISTER_HOOKS = (("register_scales", "scale"), ("register_preprocessors", "preprocessor"),
                  ("register_models", "model"))
OK, FAILED, BLOCKED = "ok", "failed", "blocked"


@dataclass
class PluginInfo:
    """One plugin: where it comes from, what it registered, and whether it loaded."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    scales: list[str] = field(default_factory=list)
    preprocessors: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)
    #: ``ok``, ``failed`` (left out, see :attr:`reason`) or ``blocked`` (FPGRADE_DISABLE_PLUGINS)
    status: str = OK
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK

    def fail(self, reason: str) -> None:
        self.status, self.reason = FAILED, _one_line(reason)
        self.scales, self.preprocessors, self.models = [], [], []

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "reason": self.reason,
            "scales": self.scales,
            "preprocessors": self.preprocessors,
            "models": self.models,
            "hooks": self.hooks,
        }


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that was left out, and why."""

    name: str
    error: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "error": self.error}


@dataclass
class Registry:
    """Everything the loaded plugins registered, by id."""

    plugin_manager: pluggy.PluginManager
    #: every plugin found, by entry-point name, in load order: ok, failed and blocked ones
    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    scales: dict[str, GradingScale] = field(default_factory=dict)
    composite_scales: dict[str, CompositeScale] = field(default_factory=dict)
    preprocessors: dict[str, type[Preprocessor]] = field(default_factory=dict)
    models: dict[str, type[GradingModel]] = field(default_factory=dict)
    #: what each plugin's hooks offered, by plugin: (kind, item)
    _offered: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    _owner: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def failures(self) -> list[PluginFailure]:
        """The plugins left out, with their reasons."""
        return [PluginFailure(p.name, p.reason or "") for p in self.plugins.values()
                if p.status == FAILED]

    @property
    def blocked(self) -> list[str]:
        return [p.name for p in self.plugins.values() if p.status == BLOCKED]

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
        """The model class with this id; :class:`UnknownModelError` names the known ones, or the
        reason a plugin offering it was left out."""
        if model_id not in self.models:
            for info in self.plugins.values():
                offers = self._offered.get(info.name, ())
                if info.status == FAILED and any(kind == "model" and _item_id(kind, item) == model_id
                                                 for kind, item in offers):
                    raise UnknownModelError(f"model {model_id!r} is not available: its plugin "
                                            f"{info.name!r} was left out: {info.reason}")
        return self._lookup(self.models, model_id, "model", UnknownModelError)

    def preprocessor(self, preprocessor_id: str) -> type[Preprocessor]:
        """The preprocessor class with this id; :class:`PluginError` names the known ones."""
        return self._lookup(self.preprocessors, preprocessor_id, "preprocessor", PluginError)

    def add_commands(self, cli: Any) -> None:
        """Let every plugin that loaded add its commands to ``cli``.

        Each plugin adds them to an application of its own first, moved to ``cli`` only when its
        hook returns: a hook that raises, or a command name fpgrade already has, leaves the
        plugin out (its registrations too) and adds none of its commands."""
        import typer

        impls = {impl.plugin_name: impl
                 for impl in self.plugin_manager.hook.register_commands.get_hookimpls()}
        taken = {_command_name(c) for c in cli.registered_commands}
        taken |= {_group_name(g) for g in cli.registered_groups}
        failed = False
        for name, info in self.plugins.items():
            if not info.ok or name not in impls:
                continue
            staging = typer.Typer()
            try:
                impls[name].function(cli=staging)
            except Exception as exc:  # noqa: BLE001 - one plugin must not break the CLI
                info.fail(f"its register_commands hook raised {_describe(exc)}")
                failed = True
                continue
            names = [_command_name(c) for c in staging.registered_commands]
            names += [_group_name(g) for g in staging.registered_groups]
            clash = [n for n in names if n in taken]
            if clash:
                info.fail(f"adds the command {', '.join(map(repr, clash))}, which fpgrade "
                          "already has")
                failed = True
                continue
            taken.update(names)
            cli.registered_commands += staging.registered_commands
            cli.registered_groups += staging.registered_groups
        if failed:
            self._settle()

    # -- registration -------------------------------------------------------------------------

    def _settle(self) -> None:
        """Fill the tables from the plugins that are ok, in rounds until none fails."""
        while True:
            self.scales, self.composite_scales, self.preprocessors, self.models = {}, {}, {}, {}
            self._owner = {}
            for info in self.plugins.values():
                info.scales, info.preprocessors, info.models = [], [], []
            if self._admit("scale", "preprocessor") or self._admit("model"):
                continue
            return

    def _admit(self, *kinds: str) -> bool:
        """Register each ok plugin's offers of these kinds, a plugin all or nothing; True when a
        plugin failed (the round starts again without it)."""
        for name, info in self.plugins.items():
            if not info.ok:
                continue
            offers = [(kind, item) for kind, item in self._offered.get(name, ()) if kind in kinds]
            problem = None
            seen: set[tuple[str, str]] = set()
            for kind, item in offers:
                problem = self._problem(name, kind, item, seen)
                if problem:
                    break
                seen.add(("scale" if kind == "scale" else kind, _item_id(kind, item)))
            if problem:
                info.fail(problem)
                return True
            for kind, item in offers:
                self._store(name, kind, item)
        return False

    def _elsewhere(self, kind: str, item_id: str) -> bool:
        """Whether a missing id may belong to a blocked plugin (not loaded: its ids unknown) or
        to a failed one that offered it; ``("any", "")``: whether any is blocked or failed."""
        if self.blocked:
            return True
        failed = [p.name for p in self.plugins.values() if p.status == FAILED]
        if kind == "any":
            return bool(failed)
        return any(k == kind and _item_id(k, item) == item_id
                   for name in failed for k, item in self._offered.get(name, ()))

    def _problem(self, plugin: str, kind: str, item: Any, seen: set) -> str | None:
        item_id = _item_id(kind, item)
        key = (kind, item_id)
        if key in seen:
            return f"registers the {kind} id {item_id!r} twice"
        if key in self._owner:
            first = self.plugins[self._owner[key]]
            return (f"{kind} id {item_id!r} is registered twice: by plugin {first.name!r} "
                    f"(module {first.module}) and by plugin {plugin!r} (module "
                    f"{self.plugins[plugin].module}); {plugin!r} is left out "
                    f"(FPGRADE_DISABLE_PLUGINS={first.name} would keep it instead)")
        if kind == "model":
            problem = model_problem(item, self, self._elsewhere)
            if problem:
                return f"model {item_id!r} {problem}"
        return None

    def _store(self, plugin: str, kind: str, item: Any) -> None:
        item_id = _item_id(kind, item)
        self._owner[(kind, item_id)] = plugin
        info = self.plugins[plugin]
        if kind == "scale":
            table = self.composite_scales if isinstance(item, CompositeScale) else self.scales
            table[item_id] = item
            info.scales.append(item_id)
        elif kind == "preprocessor":
            self.preprocessors[item_id] = item
            info.preprocessors.append(item_id)
        else:
            self.models[item_id] = item
            info.models.append(item_id)


def _item_id(kind: str, item: Any) -> str:
    return item.card.id if kind == "model" else item.id


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _describe(exc: BaseException) -> str:
    return _one_line(f"{type(exc).__name__}: {exc}")


def _command_name(command: Any) -> str | None:
    """The name typer gives a registered command (its function's name, ``_`` as ``-``)."""
    if command.name:
        return command.name
    callback = command.callback
    return callback.__name__.lower().replace("_", "-") if callback else None


def _distribution(ep: EntryPoint, cache: dict) -> tuple[str | None, str | None]:
    """(name, version) of the entry point's distribution, its metadata parsed once (each
    ``Distribution.name`` parses the whole METADATA file again)."""
    dist = ep.dist
    if dist is None:
        return None, None
    if id(dist) not in cache:
        metadata = dist.metadata
        cache[id(dist)] = (dist, metadata["Name"], metadata["Version"])
    return cache[id(dist)][1:]


def _group_name(group: Any) -> str | None:
    return group.name or getattr(group.typer_instance.info, "name", None)


def _load_order(entry_points_: Iterable[EntryPoint], cache: dict) -> list[EntryPoint]:
    """The built-ins first, then the others, each by name: a third party never takes a
    built-in id away (``FPGRADE_DISABLE_PLUGINS`` does, on purpose)."""
    def key(ep: EntryPoint) -> tuple[bool, str]:
        return (_distribution(ep, cache)[0] != BUILT_IN_DISTRIBUTION, ep.name)

    return sorted(entry_points_, key=key)


def _register_module(pm: pluggy.PluginManager, ep: EntryPoint, info: PluginInfo) -> Any:
    """Import the plugin's module and register it with pluggy; a failure is recorded on ``info``
    (and the module unregistered) and None returned."""
    try:
        module = ep.load()
        pm.register(module, name=ep.name)
    except Exception as exc:  # noqa: BLE001 - report it, load the others
        info.fail(_describe(exc))
        return None
    callers = pm.get_hookcallers(module) or []
    unknown = sorted(hc.name for hc in callers if not hc.has_spec())
    if unknown:
        known = sorted(name for name, _ in REGISTER_HOOKS) + ["register_commands"]
        info.fail(f"implements {', '.join(unknown)}, which is not a hook of fpgrade "
                  f"(its hooks: {', '.join(known)})")
        pm.unregister(module)
        return None
    info.hooks = sorted(hc.name for hc in callers)
    return module


def load_registry(
    entry_points_: Iterable[EntryPoint] | None = None,
    disabled: Iterable[str] | None = None,
) -> Registry:
    """Load every plugin and collect what it registers; a broken plugin is left out with its
    reason (:attr:`Registry.failures`), never raised.

    :param entry_points_: the entry points to load (default: the installed ``fpgrade`` group).
    :param disabled: plugin names to block (default: ``FPGRADE_DISABLE_PLUGINS``).
    """
    if entry_points_ is None:
        entry_points_ = entry_points(group=ENTRY_POINT_GROUP)
    blocked = set(get_settings().disable_plugins if disabled is None else disabled)

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    registry = Registry(plugin_manager=pm)

    distributions: dict = {}
    for ep in _load_order(entry_points_, distributions):
        name, version = _distribution(ep, distributions)
        info = PluginInfo(name=ep.name, module=ep.value, distribution=name, version=version)
        if ep.name in registry.plugins:  # a second package uses the name: listed apart
            first = registry.plugins[ep.name]
            info.fail(f"another plugin is already called {ep.name!r} (module {first.module}); "
                      "entry-point names must be unique")
            registry.plugins[f"{ep.name} ({ep.value})"] = info
            continue
        registry.plugins[ep.name] = info
        if ep.name in blocked:
            pm.set_blocked(ep.name)
            info.status, info.reason = BLOCKED, "blocked by FPGRADE_DISABLE_PLUGINS"
            continue
        _register_module(pm, ep, info)

    for hook_name, kind in REGISTER_HOOKS:
        impls = {impl.plugin_name: impl for impl in getattr(pm.hook, hook_name).get_hookimpls()}
        for name, info in registry.plugins.items():
            if not info.ok or name not in impls:
                continue
            offered: list[Any] = []
            try:
                impls[name].function(register=offered.append)
            except Exception as exc:  # noqa: BLE001 - report the plugin, keep the others
                info.fail(f"its {hook_name} hook raised {_describe(exc)}")
                continue
            wrong = next((p for p in (offer_problem(kind, item) for item in offered) if p), None)
            if wrong:
                info.fail(f"its {hook_name} hook {wrong}")
                continue
            registry._offered.setdefault(name, []).extend((kind, item) for item in offered)
    registry._settle()
    return registry


@lru_cache(maxsize=1)
def get_registry() -> Registry:
    """The process-wide registry, loaded once."""
    return load_registry()
