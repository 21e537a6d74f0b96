"""The setup of docs/labelstudio.md against the real Label Studio server of the session, and the
one-line messages of a wrong URL (issue 17)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.machine import free_port
from fpgrade.cli import main
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture
from tests.labelstudio_helpers import campaign_with_files

DOC = Path(__file__).resolve().parents[1] / "docs" / "labelstudio.md"


@pytest.fixture
def ls(ls_env):
    return ls_env


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_recipe_starts_label_studio_as_the_test_server_does(labelstudio):
    exports = dict(re.findall(r"^export (LABEL_STUDIO_\w+)=(\S+)", DOC.read_text(), re.MULTILINE))
    assert {"LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED", "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT",
            "LABEL_STUDIO_SSRF_PROTECTION_ENABLED", "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN",
            "LABEL_STUDIO_USERNAME", "LABEL_STUDIO_PASSWORD", "LABEL_STUDIO_USER_TOKEN"} <= set(exports)
    for name, value in exports.items():
        assert name in labelstudio.env, name
        if value in ("true", "false"):
            assert labelstudio.env[name] == value, name
    assert labelstudio.env["LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT"] == str(labelstudio.files_root)
    commands = re.findall(r"^(fpgrade sync [a-z]+(?: [a-z]+)?)", DOC.read_text(), re.MULTILINE)
    assert {"fpgrade sync check", "fpgrade sync push", "fpgrade sync serve",
            "fpgrade sync webhook register"} <= set(commands)
    readme = (DOC.parents[1] / "README.md").read_text()
    assert "docs/labelstudio.md" in readme


def test_check_push_register_the_webhook_and_check_again(ls, registry, capsys, tmp_path):
    hook = f"http://127.0.0.1:{free_port()}/"
    code, out, err = run(capsys, "sync", "check")
    assert code == 0, err
    assert "ok: Label Studio 1.23" in out and "ok: Label Studio serves local files" in out

    code, _, err = run(capsys, "sync", "check", "--files-root", str(tmp_path / "missing"))
    assert code == 1 and "problem: the files root" in err and "is not a folder" in err

    name, _ = campaign_with_files(registry, ls, 2)
    assert run(capsys, "sync", "push", "--campaign", name)[0] == 0
    code, out, err = run(capsys, "sync", "check")
    assert code == 1
    assert "its media are served" in out
    (missing,) = err.strip().splitlines()
    assert missing.startswith("problem:") and "has no webhook" in missing
    assert "fpgrade sync webhook register --to" in missing

    code, out, err = run(capsys, "sync", "webhook", "register", "--to", hook)
    assert code == 0, err
    assert f"webhook to {hook} registered" in out
    code, out, err = run(capsys, "sync", "webhook", "register", "--to", hook)
    assert code == 0 and "already there" in out

    from label_studio_sdk import LabelStudio

    client = LabelStudio(base_url=ls.url, api_key=ls.token)
    code, out, _ = run(capsys, "sync", "push", "--campaign", name, "--json")
    project_id = json.loads(out)["project_id"]
    (webhook,) = [w for w in client.webhooks.list(project=str(project_id)) if w.url == hook]
    assert webhook.is_active and sorted(webhook.actions) == [
        "ANNOTATIONS_DELETED", "ANNOTATION_CREATED", "ANNOTATION_UPDATED"]

    code, out, err = run(capsys, "sync", "check", "--webhook", hook)
    assert code == 0, err
    assert f"has a webhook to {hook}" in out and f"accepts webhooks to {hook}" in out
    assert [w.url for w in client.webhooks.list(project=str(project_id))].count(hook) == 1  # probe gone


def test_a_wrong_path_or_port_is_one_line_that_says_so(ls, registry, capsys):
    code, _, err = run(capsys, "sync", "pull", "--url", ls.url + "/labelstudio")
    (line,) = err.strip().splitlines()
    assert code == 1 and "HTTP 404" in line and "not Label Studio's API" in line
    assert "<" not in line and len(line) < 400

    down = f"http://127.0.0.1:{free_port()}"
    code, _, err = run(capsys, "sync", "pull", "--url", down)
    (line,) = err.strip().splitlines()
    assert code == 1 and "not reachable" in line and down in line and "push first" not in line

    code, _, err = run(capsys, "sync", "check", "--url", down)
    assert code == 1 and err.startswith("problem: ") and "not reachable" in err


def test_a_refused_token_is_one_line_that_says_which_token(ls, capsys, monkeypatch):
    from fpgrade.settings import get_settings

    monkeypatch.setenv("FPGRADE_LABEL_STUDIO_TOKEN", "0" * 40)
    get_settings.cache_clear()
    code, _, err = run(capsys, "sync", "check")
    (line,) = err.strip().splitlines()
    assert code == 1 and line.startswith("problem: ") and "HTTP 401" in line
    assert "FPGRADE_LABEL_STUDIO_TOKEN" in line and "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN" in line


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """A second server with Label Studio's default SSRF protection (on): what a group gets when
    it starts Label Studio without the recipe's setting."""
    from tests.labelstudio_server import EXECUTABLE, labelstudio_server

    if not EXECUTABLE.is_file():
        pytest.skip(f"Label Studio is not installed in {EXECUTABLE.parents[1]} (make labelstudio)")
    with labelstudio_server(tmp_path_factory.mktemp("guarded"),
                            tmp_path_factory.mktemp("guarded-files"),
                            {"LABEL_STUDIO_SSRF_PROTECTION_ENABLED": "true"}) as server:
        yield server


def test_ssrf_protection_blocking_webhooks_is_said_with_the_setting_to_change(
        guarded, registry, capsys, monkeypatch):
    from fpgrade.settings import get_settings

    monkeypatch.setenv("FPGRADE_LABEL_STUDIO_URL", guarded.url)
    monkeypatch.setenv("FPGRADE_LABEL_STUDIO_TOKEN", guarded.token)
    monkeypatch.setenv("FPGRADE_LABEL_STUDIO_FILES_ROOT", str(guarded.files_root))
    get_settings.cache_clear()
    hook = f"http://127.0.0.1:{free_port()}/"
    code, _, err = run(capsys, "sync", "check", "--webhook", hook)
    (line,) = err.strip().splitlines()
    assert code == 1 and f"refuses webhooks to {hook}" in line
    assert "SSRF_PROTECTION_ENABLED=false" in line and "docs/labelstudio.md" in line

    name, _ = campaign_with_files(registry, guarded, 1)
    assert run(capsys, "sync", "push", "--campaign", name)[0] == 0
    code, _, err = run(capsys, "sync", "webhook", "register", "--to", hook)
    (line,) = err.strip().splitlines()
    assert code == 1 and "SSRF_PROTECTION_ENABLED=false" in line and "HTTP" not in line
