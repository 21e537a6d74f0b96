"""The command line starts without the deep-learning stack: nothing heavy is imported until a
command needs it (issue 7). Timing is measured by ``bench/startup.py``, not here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("torch", "timm", "torchvision", "mediapipe", "cv2", "gradio", "PIL", "sqlalchemy")

PROBE = """
import json, sys
from fpgrade.cli import main
code = main({argv!r})
print("\\n" + json.dumps({{"code": code, "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def _heavy_after(argv: list[str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv, heavy=HEAVY)],
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, done.stderr
    return result["heavy"]


@pytest.mark.parametrize("argv", [["scales", "--json"], ["--help"], ["models", "--json"],
                                  ["plugins", "--json"], ["train", "--help"], ["measure", "--help"],
                                  ["import", "--help"]])
def test_listing_and_help_import_nothing_heavy(argv):
    assert _heavy_after(argv) == []


def _python(code: str) -> str:
    """What a fresh interpreter prints after loading the registry and running ``code``."""
    prelude = "import sys; from fpgrade.registry import load_registry; r = load_registry(); "
    done = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def test_the_registry_lists_every_model_without_importing_torch():
    assert _python("assert len(r.models) >= 11, r.models; "
                   "print([m for m in ('torch', 'timm', 'cv2', 'mediapipe') if m in sys.modules])") == "[]"


def test_building_a_network_imports_torch_then():
    assert _python("r.model('asymmetry_classifier').build('sided7', num_classes=7); "
                   "print('torch' in sys.modules)") == "True"


def test_measuring_one_photo_loads_no_plugin_database_or_scipy_package(tmp_path):
    """A one-photo ``fpgrade measure`` (issue 21: within 1.5x a raw MediaPipe script, timed by
    ``bench/measure_startup.py``) loads MediaPipe and nothing it does not need: no plugin, no
    database layer, no torch, and SciPy's compiled FITPACK without the scipy.interpolate package."""
    from tests.conftest import SHARED_FACES

    probe = ("import json, sys; from fpgrade.cli import main; "
             f"code = main(['measure', {str(SHARED_FACES / 'single_face.jpg')!r}, '--json']); "
             "print(json.dumps([code, sorted(m for m in sys.modules if m.split('.')[0] in "
             "('torch', 'sqlalchemy', 'sqlmodel', 'pluggy', 'fpgrade_plugins', 'gradio') or m in "
             "('fpgrade.registry', 'scipy.interpolate', 'scipy.optimize', 'scipy.special'))]))")
    env = {**os.environ, "FPGRADE_CACHE_ENABLED": "0", "FPGRADE_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env=env)
    code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 0, done.stderr
    assert loaded == []
