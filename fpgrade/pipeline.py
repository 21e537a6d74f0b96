"""Resolve preprocessors into an ordered pipeline from what each requires and provides.

``plan(registry, ["face_224"])`` finds the preprocessor providing ``face_224``, then whatever
provides its requirements, and so on back to what the caller gives (by default a ``path``); a
missing piece is an error naming it and who needed it. Wanted items may be result names or
preprocessor ids (a model card lists ids).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fpgrade.errors import PluginError
from fpgrade.preprocess_api import Preprocessor
from fpgrade.registry import Registry


@dataclass
class Pipeline:
    steps: list[Preprocessor]

    @property
    def ids(self) -> list[str]:
        return [step.id for step in self.steps]

    def __call__(self, results: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(results)
        for step in self.steps:
            out.update(step(out))
        return out


def plan(registry: Registry, wanted: Sequence[str], given: Iterable[str] = ("path",),
         params: Mapping[str, Mapping[str, Any]] | None = None) -> Pipeline:
    """An ordered pipeline producing every item of ``wanted`` from ``given``.

    :param params: preprocessor id -> keyword arguments of its constructor.
    :raises PluginError: nothing provides a needed result, or several preprocessors do.
    """
    params = params or {}
    providers: dict[str, list[type[Preprocessor]]] = {}
    for cls in registry.preprocessors.values():
        for name in cls.provides:
            providers.setdefault(name, []).append(cls)
    available = set(given)
    ordered: list[type[Preprocessor]] = []
    visiting: list[str] = []

    def provider_of(name: str, needed_by: str) -> type[Preprocessor]:
        if name in registry.preprocessors:
            return registry.preprocessors[name]
        found = providers.get(name, [])
        if not found:
            raise PluginError(f"no preprocessor provides {name!r} (needed by {needed_by})")
        if len(found) > 1:
            raise PluginError(
                f"{name!r} (needed by {needed_by}) is provided by several preprocessors: "
                f"{', '.join(c.id for c in found)}; ask for one by id"
            )
        return found[0]

    def add(cls: type[Preprocessor]) -> None:
        if cls in ordered:
            return
        if cls.id in visiting:
            raise PluginError(f"preprocessors depend on each other in a cycle: {' -> '.join(visiting)}")
        visiting.append(cls.id)
        for name in cls.requires:
            if name not in available:
                add(provider_of(name, cls.id))
        visiting.pop()
        ordered.append(cls)
        available.update(cls.provides)

    for item in wanted:
        if item not in available or item in registry.preprocessors:
            add(provider_of(item, "the request"))
    return Pipeline([cls(**params.get(cls.id, {})) for cls in ordered])
