"""Error types. Each names the offending file, value or plugin in its message.

The command line turns any :class:`FpgradeError` into one line on stderr and a non-zero exit.
"""

from __future__ import annotations


class FpgradeError(Exception):
    """Base of every error fpgrade raises on purpose."""


class PluginError(FpgradeError):
    """A plugin could not be loaded or registered something invalid."""


class DuplicateIdError(PluginError):
    """Two plugins registered the same id for the same kind of thing."""


class UnknownScaleError(FpgradeError, KeyError):
    """A scale id that no loaded plugin registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownModelError(UnknownScaleError):
    """A model id that no loaded plugin registered."""


class UnknownLabelError(FpgradeError, ValueError):
    """A label that is not a level of the scale it was given for."""


class UndefinedConversionError(FpgradeError, ValueError):
    """A conversion between scales that none of the papers defines."""


class MediaError(FpgradeError):
    """A file that cannot be used as a photo or a video."""


class ImportRowError(FpgradeError):
    """One row of a dataset import that was refused (the others are kept)."""


class ImageTooLargeError(MediaError):
    """An image above the configured pixel limit (refused before it is decoded)."""


class CorruptVideoError(MediaError):
    """A video that cannot be opened or yields no frame."""


class NoFaceFoundError(MediaError):
    """No face in a photo, or in any frame of a video."""


class MultipleFacesError(MediaError):
    """Several faces where one was required (``--strict``)."""


class WeightsError(FpgradeError):
    """A weight file that is missing, damaged, or made for another model or scale."""


class TrainingError(FpgradeError):
    """Training cannot start or continue (no data, a split without a class...)."""


class OutputExistsError(FpgradeError):
    """An output folder that already holds data, and no permission to overwrite it."""


class TooFewIdentitiesError(FpgradeError):
    """More synthetic subjects asked for than the source faces hold distinct people."""


class ConfigurationError(FpgradeError):
    """An ``FPGRADE_*`` environment variable that does not hold what fpgrade expects."""


class DatabaseError(FpgradeError):
    """The configured database cannot be reached or used: its URL, its file, its folder, its
    schema revision."""


class NoSpaceError(FpgradeError):
    """The device holding an output is full; what was written before stays whole."""
