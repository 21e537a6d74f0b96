"""What a preprocessor plugin provides: an id, what it requires and provides, and a call.

Preprocessors run in a pipeline over a dict of named results (``"image"``, ``"face_box"``,
``"landmarks"``...). Each declares the names it ``requires`` and ``provides`` so a pipeline for a
model can be resolved in order, failing with a message that names a missing piece.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar


class Preprocessor(ABC):
    """Base class of every registered preprocessor."""

    id: ClassVar[str]
    description: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ()
    provides: ClassVar[tuple[str, ...]] = ()

    def params(self) -> Mapping[str, Any]:
        """The parameters that change this preprocessor's output (part of its cache key)."""
        return {}

    @abstractmethod
    def __call__(self, results: Mapping[str, Any]) -> Mapping[str, Any]:
        """Compute :attr:`provides` from :attr:`requires`; returns the new entries only."""

    @classmethod
    def describe(cls) -> dict[str, object]:
        return {
            "id": cls.id,
            "description": cls.description,
            "requires": list(cls.requires),
            "provides": list(cls.provides),
        }
