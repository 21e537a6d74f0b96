"""Guard tests on the shape of the code: the core never imports a plugin or the UI, and plugin
modules import nothing heavy when they are loaded (paper knowledge lives in the plugins)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` statement of ``path`` names, at any depth (lazy ones too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


CORE = sorted((ROOT / "fpgrade").rglob("*.py"))


def test_the_core_is_found():
    assert len(CORE) > 30


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_core_imports_no_plugin_and_no_ui(path):
    forbidden = {"fpgrade_plugins", "gradio"}
    if path != ROOT / "fpgrade" / "cli" / "serve.py":  # `fpgrade demo` starts the UI
        forbidden.add("fpgrade_ui")
    offending = {m for m in imported_modules(path) if m.split(".")[0] in forbidden}
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


PLUGINS = sorted(p for p in (ROOT / "plugins").rglob("*.py")
                 if p.name != "__init__.py" and not p.name.startswith("_"))
HEAVY = ("torch", "timm", "torchvision", "cv2", "mediapipe", "PIL", "gradio")


@pytest.mark.parametrize("path", PLUGINS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_plugin_module_imports_nothing_heavy_at_module_level(path):
    tree = ast.parse(path.read_text(), str(path))
    top = set()
    for node in tree.body:  # module level only: imports inside functions are the lazy ones
        if isinstance(node, ast.Import):
            top.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            top.add(node.module)
    heavy = {m for m in top if m.split(".")[0] in HEAVY}
    assert not heavy, f"{path.relative_to(ROOT)} imports {sorted(heavy)} at module level"
