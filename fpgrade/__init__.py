"""fpgrade: grading facial nerve paralysis from photos and videos.

The core holds the plugin registry (:mod:`fpgrade.registry`), the grading-scale data model
(:mod:`fpgrade.scales`), storage (:mod:`fpgrade.storage`) and the command line
(:mod:`fpgrade.cli`). Everything a user grades with (scales, preprocessors, models) arrives as a
plugin through the ``fpgrade`` entry-point group, the built-ins included.
"""

import os
from importlib.metadata import PackageNotFoundError, version

# Quiet the native libraries' own logging (FFmpeg inside OpenCV, glog/TFLite inside MediaPipe):
# fpgrade reports their failures itself, as one line naming the file. Set before they load.
for _name, _value in {"OPENCV_FFMPEG_LOGLEVEL": "-8", "OPENCV_LOG_LEVEL": "ERROR",
                      "GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}.items():
    os.environ.setdefault(_name, _value)

try:
    __version__ = version("fpgrade")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
