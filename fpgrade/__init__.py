"""fpgrade: grading facial nerve paralysis from photos and videos.

The core holds the plugin registry (:mod:`fpgrade.registry`), the grading-scale data model
(:mod:`fpgrade.scales`), storage (:mod:`fpgrade.storage`) and the command line
(:mod:`fpgrade.cli`). Everything a user grades with (scales, preprocessors, models) arrives as a
plugin through the ``fpgrade`` entry-point group, the built-ins included.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fpgrade")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
