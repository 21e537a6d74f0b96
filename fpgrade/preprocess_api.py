"""What a preprocessor plugin provides: an id, what it requires and provides, and a call.

Preprocessors run in a pipeline over a dict of named results (``"image"``, ``"face_box"``,
``"landmarks"``...). Each declares the names it ``requires`` and ``provides`` so a pipeline for a
model can be resolved in order, failing with a message that names a missing piece. What each
provided result is (type, shape, meaning, the model input layout it fits) is declared in
:attr:`Preprocessor.outputs`, shown by ``fpgrade preprocessors`` and the table of
``docs/plugins.md`` (``tests/test_preprocessor_outputs.py`` checks the declarations against what
the built-ins really return for a real photo and video).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Output:
    """What one result of a preprocessor is.

    :param dtype: the numpy dtype of an array (``uint8``, ``float32``, ``int64``), else the type
        (``FaceLandmarks``, ``dict``, ``int``); ``list[uint8]`` for a list of arrays.
    :param shape: the array's shape, letters for sizes that vary (``(H, W, 3)``, ``(C, 4, 128,
        128, 3)``); for a list, its length first. Empty for what is not an array.
    :param meaning: what it holds, in words.
    :param layout: the :data:`fpgrade.model_api.LAYOUTS` entry a model gives it as an input key
        (``image``, ``sequence``, ``clip``, ``mask``, ``vector``), or None when a network cannot
        take it as it is.
    """

    dtype: str
    shape: str
    meaning: str
    layout: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: what a pipeline is given rather than computed: the medium's file and, optionally, its movement
GIVEN: Mapping[str, Output] = {
    "path": Output("Path", "", "the photo or video file (given by the caller)"),
    "movement": Output("str", "", "the movement code (MV0-MV6), optional; "
                       "crops keep a wider margin for the mouth and brow movements"),
}


class Preprocessor(ABC):
    """Base class of every registered preprocessor."""

    id: ClassVar[str]
    description: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ()
    provides: ClassVar[tuple[str, ...]] = ()
    #: for each name in :attr:`provides`, what it is (optional for a third party, shown as "not
    #: declared"; every built-in declares all of its results)
    outputs: ClassVar[Mapping[str, Output]] = {}

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
            "outputs": {name: out.as_dict() for name, out in cls.outputs.items()},
        }
