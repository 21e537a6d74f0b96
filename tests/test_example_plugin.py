"""The example third-party package, installed for real with pip, appears and can be disabled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fpgrade-example-plugin"


@pytest.fixture(scope="module")
def example_site(tmp_path_factory) -> Path:
    """pip-install the example into its own folder (the project's venv stays untouched)."""
    target = tmp_path_factory.mktemp("example-site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "--target", str(target), str(EXAMPLE)],
        check=True,
    )
    return target


def fpgrade_json(site: Path, *args: str, **env: str) -> list[dict]:
    environ = {**os.environ, "PYTHONPATH": str(site), **env}
    done = subprocess.run(
        [sys.executable, "-m", "fpgrade", *args, "--json"],
        capture_output=True, text=True, env=environ, check=True,
    )
    return json.loads(done.stdout)


def test_the_example_plugin_shows_up_once_installed(example_site, isolated_settings):
    env = {"FPGRADE_DATA_DIR": str(isolated_settings)}
    plugins = {p["name"]: p for p in fpgrade_json(example_site, "plugins", **env)}
    assert plugins["example"]["version"] == "0.2.0"
    assert plugins["example"]["distribution"] == "fpgrade-example-plugin"
    assert plugins["example"]["scales"] == ["example_eye_closure"]
    assert plugins["example"]["models"] == ["example_tiny_linear"]
    models = fpgrade_json(example_site, "models", **env)
    assert [m["id"] for m in models if m["id"] == "example_tiny_linear"]


def test_the_example_plugin_disappears_when_disabled(example_site, isolated_settings):
    env = {"FPGRADE_DATA_DIR": str(isolated_settings), "FPGRADE_DISABLE_PLUGINS": "example"}
    plugins = {p["name"]: p for p in fpgrade_json(example_site, "plugins", **env)}
    assert plugins["example"]["status"] == "blocked" and plugins["example"]["scales"] == []
    assert plugins["example"]["reason"] == "blocked by FPGRADE_DISABLE_PLUGINS"
    assert plugins["house_brackmann"]["status"] == "ok"
    scales = [s["id"] for s in fpgrade_json(example_site, "scales", **env)]
    assert "example_eye_closure" not in scales


def test_without_installing_it_is_absent(isolated_settings, registry):
    assert "example" not in registry.plugins
