"""Label Studio as a source of passes whose lifecycle fpgrade mirrors (issue 17), against the
real Label Studio server of the session: two raters act over its HTTP API, ``fpgrade sync``
pulls, and the final labels are checked after each case.

A campaign of two blind passes whose second check is a model's stored prediction (so the check
is exact and fast): both raters say N, the model says N, ``campaign check`` gives the final
label N. Then a rater deletes her annotation and makes a new one, edits hers into ``mild``
with no side, the project is deleted, the server is reached by another URL, a new version is
promoted.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from fpgrade.cli import main
from fpgrade.labelling.final import final_labels
from fpgrade.labelling.workflow import adjudication_queue, decide, media_statuses
from fpgrade.models import lifecycle
from fpgrade.storage import database
from fpgrade.storage.tables import Annotation, AuditEvent, Campaign, LsProject, LsTask
from tests.labelling_helpers import fast_password_hashes, users  # noqa: F401 - autouse fixture
from tests.labelstudio_helpers import (campaign_with_files, probabilities,
                                       promoted_version_with_predictions)
from tests.labelstudio_server import add_user

RATER = "lifecycle-rater@fpgrade.test"


@pytest.fixture(scope="module")
def rater(labelstudio):
    """A second Label Studio user (made once: ``label-studio init`` takes a while)."""
    from label_studio_sdk import LabelStudio

    _, token = add_user(labelstudio, RATER)
    return LabelStudio(base_url=labelstudio.url, api_key=token)


@pytest.fixture
def ls(ls_env):
    from label_studio_sdk import LabelStudio

    labelstudio = ls_env
    labelstudio.admin = LabelStudio(base_url=labelstudio.url, api_key=labelstudio.token)
    return labelstudio


def choose(severity: str, side: str | None = None) -> list[dict]:
    out = [{"from_name": "grade", "to_name": "image", "type": "choices",
            "value": {"choices": [severity]}}]
    if side:
        out.append({"from_name": "side", "to_name": "image", "type": "choices",
                    "value": {"choices": [side]}})
    return out


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def pull_json(capsys, *args: str) -> dict:
    code, out, err = run(capsys, "sync", "pull", "--json", *args)
    assert code == 0, err
    return json.loads(out)


def finals(campaign: str) -> dict[int, tuple[str, str]]:
    """medium id -> (final label, method) of a campaign."""
    with database.session() as session:
        found = session.exec(select(Campaign).where(Campaign.name == campaign)).one()
        return {r.media_id: (r.label, r.method)
                for r in final_labels(session, "sided7", campaign_id=found.id)}


def status(campaign: str, media_id: int) -> str:
    with database.session() as session:
        found = session.exec(select(Campaign).where(Campaign.name == campaign)).one()
        return media_statuses(session, found.id)[media_id].value


def counted(media_id: int) -> list[tuple[str, str]]:
    """(annotator, label) of the blind passes of a medium (annotations holding an assignment)."""
    with database.session() as session:
        return sorted((a.annotator, a.label) for a in session.exec(select(Annotation).where(
            Annotation.media_id == media_id, Annotation.assignment_id.is_not(None))).all())


def actions() -> list[str]:
    with database.session() as session:
        return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


def final_n(ls, rater, registry, tmp_path, capsys, count: int = 1):
    """A pushed campaign whose first medium both raters graded N and whose check gave the final
    label N; returns (name, media ids, {medium: task id}, {rater: annotation id})."""
    scale = registry.scale("sided7")
    name, media = campaign_with_files(registry, ls, count)
    version = promoted_version_with_predictions(
        tmp_path, scale, {m: probabilities(scale, "N", 0.9) for m in media})
    with database.session() as session:
        campaign = session.exec(select(Campaign).where(Campaign.name == name)).one()
        campaign.check_model_version = version
        session.add(campaign)
        session.commit()
    code, out, err = run(capsys, "sync", "push", "--campaign", name, "--json")
    assert code == 0, err
    project_id = json.loads(out)["project_id"]
    tasks = {t.data["fpgrade_media_id"]: t.id
             for t in ls.admin.tasks.list(project=project_id, fields="all")}
    mine = ls.admin.annotations.create(id=tasks[media[0]], result=choose("normal"))
    hers = rater.annotations.create(id=tasks[media[0]], result=choose("normal"))
    (report,) = pull_json(capsys, "--campaign", name).values()
    assert report["as_blind_pass"] == 2
    assert run(capsys, "campaign", "check", name, "--partial")[0] == 0
    assert finals(name) == {media[0]: ("N", "agreed_checked")}
    return name, media, tasks, {"admin": mine.id, "rater": hers.id}, project_id


def test_a_deleted_and_redone_annotation_replaces_the_pass_and_reopens_the_final_label(
        ls, rater, registry, tmp_path, capsys):
    name, media, tasks, ids, _ = final_n(ls, rater, registry, tmp_path, capsys)
    rater.annotations.delete(id=ids["rater"])
    redo = rater.annotations.create(id=tasks[media[0]], result=choose("moderate", "right"))

    code, out, err = run(capsys, "sync", "pull", "--campaign", name, "--json")
    assert code == 0
    (report,) = json.loads(out).values()
    assert report["deleted"] == [ids["rater"]] and report["withdrawn"] == 1
    assert report["as_blind_pass"] == 1  # her new annotation is her blind pass, not "not counted"
    assert "not counted" not in err
    assert f"Label Studio annotation {ids['rater']} was deleted" in err
    assert "final label N" in err  # the reopened final label is reported
    assert counted(media[0]) == [("ls:admin@fpgrade.test", "N"), ("ls:" + RATER, "R2")]
    assert finals(name) == {}  # the final label from the deleted annotation is gone
    assert status(name, media[0]) == "adjudication"  # N against R2
    assert {"pass_withdrawn", "final_label_reopened", "check_reopened"} <= set(actions())

    assert run(capsys, "campaign", "check", name, "--partial")[0] == 0
    assert finals(name) == {}  # the check never decides a disagreement
    people = users(judge="adjudicator")
    with database.session() as session:
        (case,) = adjudication_queue(session, people["judge"], name)
        decide(session, people["judge"], case.assignment_id, label="R2",
               reason="the redone annotation is right")
    assert finals(name) == {media[0]: ("R2", "adjudicated")}
    with database.session() as session:
        withdrawn = session.exec(select(AuditEvent).where(AuditEvent.action == "pass_withdrawn")).one()
        assert withdrawn.details["annotation"]["label"] == "N"
        assert str(ids["rater"]) in withdrawn.details["why"]
    with database.session() as session:
        pulled = session.exec(select(AuditEvent).where(AuditEvent.action == "ls_annotation_pull")).all()
        assert redo.id in [e.details["ls_annotation_id"] for e in pulled]


def test_an_invalid_edit_withdraws_the_old_label_and_a_valid_one_counts_again(
        ls, rater, registry, tmp_path, capsys):
    name, media, tasks, ids, _ = final_n(ls, rater, registry, tmp_path, capsys)
    rater.annotations.update(id=ids["rater"], result=choose("mild"))  # mild with no side

    code, out, err = run(capsys, "sync", "pull", "--campaign", name, "--json")
    assert code == 0
    (report,) = json.loads(out).values()
    assert report["withdrawn"] == 1 and report["updated"] == 0
    (line,) = [x for x in err.splitlines() if str(ids["rater"]) in x]
    assert "'mild' with side none is not a level of sided7" in line
    assert "the earlier label N is withdrawn" in line and "final label N" in line
    assert counted(media[0]) == [("ls:admin@fpgrade.test", "N")]
    assert finals(name) == {} and status(name, media[0]) == "blind"  # her pass is open again

    rater.annotations.update(id=ids["rater"], result=choose("normal"))
    (again,) = pull_json(capsys, "--campaign", name).values()
    assert again["as_blind_pass"] == 1
    assert status(name, media[0]) == "awaiting_check"
    assert run(capsys, "campaign", "check", name, "--partial")[0] == 0
    assert finals(name) == {media[0]: ("N", "agreed_checked")}


def test_a_deleted_project_is_reported_the_others_pulled_and_relink_repairs_it(
        ls, rater, registry, tmp_path, capsys):
    # campaign B first (pulled fine), then A (its project deleted): the later one fails
    other, other_media = campaign_with_files(registry, ls, 1)
    assert run(capsys, "sync", "push", "--campaign", other)[0] == 0
    name, media, tasks, ids, project_id = final_n(ls, rater, registry, tmp_path, capsys)
    with database.session() as session:
        other_project = session.exec(select(LsProject).where(LsProject.title == f"fpgrade: {other}")).one()
    (other_task,) = ls.admin.tasks.list(project=other_project.project_id)
    ls.admin.annotations.create(id=other_task.id, result=choose("severe", "left"))
    ls.admin.projects.delete(id=project_id)

    code, out, err = run(capsys, "sync", "pull")
    assert code == 1
    assert f"fpgrade: {other}: 1 annotations added" in out  # the other project is pulled, shown
    (gone,) = [x for x in err.splitlines() if x.startswith("Error:")]
    assert f"fpgrade: {name}" in gone and f"id {project_id}" in gone and "is gone" in gone
    assert f"fpgrade sync push --campaign {name} --relink" in gone
    assert "<html" not in err.lower() and "404" not in gone
    assert finals(name) == {media[0]: ("N", "agreed_checked")}  # nothing pulled is lost
    code, _, err = run(capsys, "sync", "check")
    assert code == 1 and f"problem: Label Studio project 'fpgrade: {name}'" in err
    assert f"--campaign {name} --relink" in err

    code, _, err = run(capsys, "sync", "push", "--campaign", name)
    assert code == 1 and "--relink" in err and len(err.strip().splitlines()) == 1
    code, out, err = run(capsys, "sync", "push", "--campaign", name, "--relink", "--json")
    assert code == 0, err
    pushed = json.loads(out)
    assert pushed["relinked"] and pushed["kept"] == 2 and pushed["added"] == 1
    assert pushed["project_id"] != project_id
    with database.session() as session:
        assert len(session.exec(select(LsProject)).all()) == 2  # the link moved, none added
        assert session.exec(select(AuditEvent).where(
            AuditEvent.action == "ls_project_relinked")).one().details["from_project"] == project_id

    code, out, err = run(capsys, "sync", "pull", "--json")
    assert code == 0, err
    assert json.loads(out)[f"fpgrade: {name}"]["withdrawn"] == 0  # the kept passes stay
    assert finals(name) == {media[0]: ("N", "agreed_checked")}
    assert counted(media[0]) == [("ls:admin@fpgrade.test", "N"), ("ls:" + RATER, "N")]
    # a rater's new annotation in the new project replaces her kept pass
    (task,) = ls.admin.tasks.list(project=pushed["project_id"])
    rater.annotations.create(id=task.id, result=choose("mild", "left"))
    code, out, err = run(capsys, "sync", "pull", "--json")
    assert code == 0, err
    assert counted(media[0]) == [("ls:admin@fpgrade.test", "N"), ("ls:" + RATER, "L1")]
    assert finals(name) == {} and status(name, media[0]) == "adjudication"
    assert "replaces the same rater's earlier label N" in err


def test_the_same_server_under_another_url_is_one_server_and_one_project(
        ls, rater, registry, tmp_path, capsys, monkeypatch):
    name, media, tasks, ids, project_id = final_n(ls, rater, registry, tmp_path, capsys)
    other_url = ls.url.replace("127.0.0.1", "localhost")
    code, out, err = run(capsys, "sync", "push", "--campaign", name, "--url", other_url, "--json")
    assert code == 0, err
    again = json.loads(out)
    assert again["project_id"] == project_id and again["added"] == 0 and again["already"] == 1
    code, out, err = run(capsys, "sync", "pull", "--url", other_url, "--full", "--json")
    assert code == 0, err
    (report,) = json.loads(out).values()
    assert report["added"] == 0 and report["unchanged"] == 2  # no duplicate annotation
    with database.session() as session:
        assert len(session.exec(select(LsProject)).all()) == 1
        assert len(session.exec(select(Annotation)).all()) == 2
    assert finals(name) == {media[0]: ("N", "agreed_checked")}

    # a webhook-driven server reached by the other URL knows the project too
    from fpgrade.sync.client import connect
    from fpgrade.sync.links import links

    with database.session() as session:
        assert [r.project_id for r in links(session, connect(other_url))] == [project_id]

    # a second link left by an older fpgrade (before one server was recognised under two URLs)
    with database.session() as session:
        first = session.exec(select(LsProject)).one()
        twin = LsProject(url=other_url, project_id=project_id, title=first.title,
                         scale=first.scale, campaign_id=first.campaign_id)
        session.add(twin)
        session.flush()
        for task in session.exec(select(LsTask).where(LsTask.ls_project_id == first.id)).all():
            session.add(LsTask(ls_project_id=twin.id, media_id=task.media_id, task_id=task.task_id))
        session.commit()
    code, out, err = run(capsys, "sync", "pull", "--full", "--json")
    assert code == 0, err
    assert f"Label Studio project {project_id} is linked twice" in err
    with database.session() as session:
        assert len(session.exec(select(Annotation)).all()) == 2  # nothing stored twice
        twin = session.exec(select(LsProject).where(LsProject.url == other_url)).one()
        for task in session.exec(select(LsTask).where(LsTask.ls_project_id == twin.id)).all():
            session.delete(task)
        session.flush()
        session.delete(twin)
        session.commit()

    code, _, err = run(capsys, "sync", "push", "--campaign", name, "--project", "another title")
    assert code == 1 and "one campaign, one project" in err and len(err.strip().splitlines()) == 1
    code, out, err = run(capsys, "sync", "push", "--campaign", name, "--project", "another title",
                         "--another-project", "--json")
    assert code == 0, err
    assert json.loads(out)["project_id"] != project_id  # asked for: a second project


def test_push_after_a_promotion_refreshes_pre_annotations_and_order(
        ls, rater, registry, tmp_path, capsys):
    scale = registry.scale("sided7")
    name, media, tasks, ids, project_id = final_n(ls, rater, registry, tmp_path, capsys, count=3)
    first = {p.model_version for t in ls.admin.tasks.list(project=project_id, fields="all")
             for p in t.predictions}
    assert len(first) == 1
    (tmp_path / "v2").mkdir()
    confidence = {media[0]: 0.9, media[1]: 0.3, media[2]: 0.6}
    version = promoted_version_with_predictions(
        tmp_path / "v2", scale, {m: probabilities(scale, "L3", p) for m, p in confidence.items()})

    code, out, err = run(capsys, "sync", "push", "--campaign", name)
    assert code == 0, err
    assert f"pre-annotations by {version} (3 tasks already there refreshed to it)" in out
    after = {t.data["fpgrade_media_id"]: t for t in ls.admin.tasks.list(project=project_id, fields="all")}
    for media_id, top in confidence.items():
        (prediction,) = after[media_id].predictions  # the retired version's is gone
        assert prediction.model_version == version and prediction.score == pytest.approx(top)
        assert after[media_id].data["uncertainty"] == pytest.approx(1 - top)
    assert ls.admin.projects.get(id=project_id).model_version == version

    from fpgrade.sync.refresh import VIEW_TITLE

    (view,) = [v for v in ls.admin.views.list(project=project_id) if v.data.get("title") == VIEW_TITLE]
    ordered = [t.data["fpgrade_media_id"] for t in
               ls.admin.tasks.list(project=project_id, view=view.id, fields="all")]
    assert ordered == [media[1], media[2], media[0]]  # least confident first

    code, out, err = run(capsys, "sync", "push", "--campaign", name)
    assert code == 0 and "refreshed" not in out  # once
    (report,) = pull_json(capsys, "--campaign", name).values()
    assert report["added"] == 0 and report["withdrawn"] == 0
    assert finals(name) == {media[0]: ("N", "agreed_checked")}  # labels untouched by a refresh

    with database.session() as session:
        lifecycle.rollback(session, "sided7", by="tester")
    code, out, err = run(capsys, "sync", "push", "--campaign", name)
    assert code == 0, err
    assert "3 tasks already there refreshed" in out and version not in out  # back to the old one
    assert {p.model_version for t in ls.admin.tasks.list(project=project_id, fields="all")
            for p in t.predictions} == first
