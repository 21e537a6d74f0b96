"""Packaging guards: every package is in the wheel, every built-in plugin is an entry point,
and CI runs exactly the README's test command."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_folder_is_listed_in_pyproject():
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = set()
    for name, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((name, *relative)))
    assert found == listed


def test_every_built_in_plugin_module_is_an_entry_point():
    declared = set(PYPROJECT["project"]["entry-points"]["fpgrade"].values())
    modules = {
        "fpgrade_plugins." + ".".join(p.relative_to(ROOT / "plugins").with_suffix("").parts)
        for p in (ROOT / "plugins").rglob("*.py")
        if p.name != "__init__.py" and "hookimpl" in p.read_text()
    }
    assert modules == declared


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test   # the whole test suite" in readme
    assert "\nmake test\n" in ci
    assert "make demo   # the clinician demo" in readme
