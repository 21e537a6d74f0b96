"""Label Studio sync against a real Label Studio server (issue 12)."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

from fpgrade.cli import main
from fpgrade.sync.config import labelling_config, level_of, result_of
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture
from tests.labelstudio_helpers import (campaign_with_files, probabilities,
                                       promoted_version_with_predictions)


def _client(server):
    from label_studio_sdk import LabelStudio

    return LabelStudio(base_url=server.url, api_key=server.token)


def test_the_server_answers_the_sdk_with_the_headless_token(labelstudio):
    client = _client(labelstudio)
    project = client.projects.create(title="smoke", label_config=(
        '<View><Image name="image" value="$image"/>'
        '<Choices name="grade" toName="image"><Choice value="N"/></Choices></View>'))
    assert "smoke" in [p.title for p in client.projects.list()]
    client.projects.delete(id=project.id)
    os.kill(labelstudio.pid, 0)  # still ours, still running: the fixture stops it by this PID


@pytest.mark.parametrize("scale_id", ["sided7", "house_brackmann", "palsy_binary"])
def test_every_level_survives_the_config_round_trip(registry, scale_id):
    scale = registry.scale(scale_id)
    config = labelling_config(scale, "image")
    assert "$movement" in config
    for level in scale.levels:
        assert level_of(scale, result_of(scale, level.code, "image")) == level.code
        assert (level.description or level.name)[:20].replace("'", "&apos;")[:5] in config


def test_push_creates_the_project_orders_by_uncertainty_and_adds_no_duplicate(
        ls_env, registry, tmp_path, capsys):
    scale = registry.scale("sided7")
    name, media = campaign_with_files(registry, ls_env, 4)
    confident = {media[0]: 0.95, media[1]: 0.40, media[2]: 0.70}  # media[3]: no prediction
    version = promoted_version_with_predictions(
        tmp_path, scale, {m: probabilities(scale, "L2", p) for m, p in confident.items()})
    assert main(["sync", "push", "--campaign", name, "--json"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["created_project"] and report["added"] == 4 and report["already"] == 0
    assert report["model_version"] == version
    assert report["order"] == [media[1], media[2], media[0], media[3]]  # least confident first
    assert "no prediction" in err  # the medium without one (dummy weights cannot predict)

    client = _client(ls_env)
    project = client.projects.get(id=report["project_id"])
    assert '<Choice value="moderate"' in project.label_config and 'name="side"' in project.label_config
    tasks = sorted(client.tasks.list(project=project.id, fields="all"), key=lambda t: t.id)
    assert [t.data["fpgrade_media_id"] for t in tasks] == report["order"]
    first = tasks[0]
    (prediction,) = first.predictions
    assert prediction.model_version == version
    assert prediction.score == pytest.approx(0.40)
    assert {r["from_name"]: r["value"]["choices"] for r in prediction.result} == {
        "grade": ["moderate"], "side": ["left"]}
    assert first.data["uncertainty"] == pytest.approx(0.60)
    assert not tasks[-1].predictions

    # the media are served to Label Studio as local files
    import httpx

    served = httpx.get(ls_env.url + first.data["image"],
                       headers={"Authorization": f"Token {ls_env.token}"})
    assert served.status_code == 200 and served.content[:4] == b"\x89PNG"

    assert main(["sync", "push", "--campaign", name, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["added"] == 0 and again["already"] == 4 and not again["created_project"]
    assert len(list(client.tasks.list(project=project.id))) == 4


def test_a_server_that_is_down_is_one_line_with_its_url(registry, monkeypatch, capsys, tmp_path):
    from types import SimpleNamespace

    from fpgrade.settings import get_settings
    from bench.machine import free_port

    name, _ = campaign_with_files(registry, SimpleNamespace(files_root=tmp_path), 1)
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("FPGRADE_LABEL_STUDIO_URL", url)
    monkeypatch.setenv("FPGRADE_LABEL_STUDIO_TOKEN", "x" * 40)
    get_settings.cache_clear()
    assert main(["sync", "push", "--campaign", name, "--files-root", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and url in err and "not reachable" in err


def _choose(severity: str, side: str | None = None) -> list[dict]:
    out = [{"from_name": "grade", "to_name": "image", "type": "choices",
            "value": {"choices": [severity]}}]
    if side:
        out.append({"from_name": "side", "to_name": "image", "type": "choices",
                    "value": {"choices": [side]}})
    return out


def _annotations(**where):
    from sqlmodel import select

    from fpgrade.storage import database
    from fpgrade.storage.tables import Annotation

    with database.session() as session:
        query = select(Annotation).order_by(Annotation.id)
        for key, value in where.items():
            query = query.where(getattr(Annotation, key) == value)
        return list(session.exec(query).all())


def test_pull_round_trip_edits_deletions_bad_choices_and_a_server_killed_mid_pull(
        ls_env, registry, capsys, monkeypatch):
    from sqlmodel import select

    from fpgrade.labelling.workflow import media_statuses
    from fpgrade.storage import database
    from fpgrade.storage.tables import Assignment, AuditEvent
    from fpgrade.sync.client import connect
    from fpgrade.sync.pull import pull

    name, media = campaign_with_files(registry, ls_env, 2, allow_same_rater=True)
    assert main(["sync", "push", "--campaign", name, "--json"]) == 0
    project_id = json.loads(capsys.readouterr().out)["project_id"]
    client = _client(ls_env)
    tasks = {t.data["fpgrade_media_id"]: t.id for t in client.tasks.list(project=project_id, fields="all")}
    first = client.annotations.create(id=tasks[media[0]], result=_choose("mild", "left"))
    client.annotations.create(id=tasks[media[0]], result=_choose("mild", "left"))
    bad = client.annotations.create(id=tasks[media[1]], result=_choose("catastrophic"))

    # the real server is killed (SIGKILL) after the first page (one task) was read: that page is
    # stored with its cursor, nothing of the next; after a restart the next pull finishes it
    import fpgrade.sync.changes as changes
    import fpgrade.sync.pull as pull_module

    monkeypatch.setattr(changes, "PAGE_SIZE", 1)
    # every pull re-reads all: what it re-reads is counted, whatever the time between pulls
    monkeypatch.setattr(pull_module, "OVERLAP", timedelta(days=1))
    server = connect()
    real = server.client.tasks.list
    calls = []

    def killed_after_first_page(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            ls_env.kill()
        return real(**kwargs)

    server.client.tasks.list = killed_after_first_page
    with database.session() as session:
        (stopped,) = pull(session, server, registry).values()
    assert "not reachable" in stopped.error and ls_env.url in stopped.error
    assert stopped.added == 2  # what was stored before the server went is reported
    assert [a.label for a in _annotations(pass_kind="label-studio")] == ["L1", "L1"]  # page 1
    ls_env.start()

    assert main(["sync", "pull", "--json"]) == 0
    out, err = capsys.readouterr()
    (report,) = json.loads(out).values()
    assert report["added"] == 0 and report["unchanged"] == 2  # page 1 again, nothing twice
    assert "'catastrophic' is not a severity of sided7" in err and f"annotation {bad.id}" in err
    pulled = _annotations(pass_kind="label-studio")
    assert [a.label for a in pulled] == ["L1", "L1"]
    assert {a.annotator for a in pulled} == {"ls:admin@fpgrade.test"}
    assert all(a.assignment_id for a in pulled) and all(a.source == "label-studio" for a in pulled)
    with database.session() as session:
        campaign_id = session.exec(select(Assignment.campaign_id).where(
            Assignment.media_id == media[0])).first()
        assert media_statuses(session, campaign_id)[media[0]].value == "awaiting_check"
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "first_check")).one(
        ).details["outcome"] == "agree"

    assert main(["sync", "pull", "--json"]) == 0  # a re-run adds nothing, reports nothing again
    out, err = capsys.readouterr()
    (again,) = json.loads(out).values()
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 3) and err == ""

    client.annotations.update(id=first.id, result=_choose("moderate", "left"))
    client.annotations.delete(id=bad.id)
    assert main(["sync", "pull", "--json"]) == 0
    (edited,) = json.loads(capsys.readouterr().out).values()
    assert edited["updated"] == 1 and edited["added"] == 0
    assert [a.label for a in _annotations(pass_kind="label-studio")] == ["L2", "L1"]
    with database.session() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "pass_relabelled")).one()
        assert (event.details["from"], event.details["to"]) == ("L1", "L2")
        # the passes now disagree: the first check ran again and opened an adjudication
        assert media_statuses(session, campaign_id)[media[0]].value == "adjudication"
    assert edited["deleted"] == []  # the bad one was never ours: nothing to mark
    second = [a for a in client.annotations.list(id=tasks[media[0]]) if a.id != first.id][0]
    client.annotations.delete(id=second.id)
    assert main(["sync", "pull", "--json"]) == 0
    (deleted,) = json.loads(capsys.readouterr().out).values()
    assert deleted["deleted"] == [second.id] and deleted["withdrawn"] == 1
    assert [a.label for a in _annotations(pass_kind="label-studio")] == ["L2"]  # its pass withdrawn
    with database.session() as session:
        assert media_statuses(session, campaign_id)[media[0]].value == "blind"  # a pass open again
        withdrawn = session.exec(select(AuditEvent).where(AuditEvent.action == "pass_withdrawn")).one()
        assert withdrawn.details["annotation"]["label"] == "L1"  # the audit keeps the copy
        assert session.exec(select(AuditEvent).where(
            AuditEvent.action == "adjudication_reopened")).one()
