"""fpgrade: grading facial nerve paralysis from photos and videos.

The core holds the plugin registry (:mod:`fpgrade.registry`), the grading-scale data model
(:mod:`fpgrade.scales`), storage (:mod:`fpgrade.storage`) and the command line
(:mod:`fpgrade.cli`). Everything a user grades with (scales, preprocessors, models) arrives as a
plugin through the ``fpgrade`` entry-point group, the built-ins included.
"""

import os

# Quiet the native libraries' own logging (FFmpeg inside OpenCV, glog/TFLite inside MediaPipe):
# fpgrade reports their failures itself, as one line naming the file. Set before they load.
for _name, _value in {"OPENCV_FFMPEG_LOGLEVEL": "-8", "OPENCV_LOG_LEVEL": "ERROR",
                      "GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}.items():
    os.environ.setdefault(_name, _value)


def __getattr__(name: str) -> str:
    """``fpgrade.__version__``, read from the installed metadata on first use: importlib.metadata
    costs a one-photo ``fpgrade measure`` 50-100 ms of start-up (issue 21) and it rarely asks."""
    if name != "__version__":
        raise AttributeError(f"module 'fpgrade' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("fpgrade")
    except PackageNotFoundError:  # running from a source tree that was never installed
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value
