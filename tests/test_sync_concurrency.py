"""A Label Studio pull and raters of the UI writing at the same time (threads, separate sessions,
one SQLite database): every blind pass is given once, no pass reaches two writers, every Label
Studio annotation is stored once, and a second pull adds nothing (issue 12)."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from collections import Counter
from types import SimpleNamespace

from sqlmodel import select

from fpgrade.labelling.campaigns import create_campaign
from fpgrade.labelling.workflow import next_assignment, submit_label
from fpgrade.registry import get_registry
from fpgrade.storage import database
from fpgrade.storage.tables import Annotation, Assignment, LsProject, LsTask
from fpgrade.sync.client import Server
from fpgrade.sync.pull import pull_project
from tests.labelling_helpers import add_media, users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture

MEDIA = 12


class FakeLabelStudio:
    """The two SDK calls a pull makes, answering like Label Studio: tasks 1..MEDIA, one
    annotation each, filtered on ``tasks:updated_at`` and paged as the server does."""

    def __init__(self):
        self.users = SimpleNamespace(list=lambda: [SimpleNamespace(id=5, email="ls@lab", username="ls")])
        self.tasks = SimpleNamespace(list=self._tasks)

    @staticmethod
    def _task(number):
        stamp = datetime(2026, 11, 22, 10, number, 0, tzinfo=timezone.utc)  # minutes apart
        return SimpleNamespace(id=number, updated_at=stamp, annotations=[{
            "id": 1000 + number, "was_cancelled": False, "completed_by": 5,
            "updated_at": stamp.isoformat(),
            "result": [{"from_name": "grade", "to_name": "image", "type": "choices",
                        "value": {"choices": ["mild"]}},
                       {"from_name": "side", "to_name": "image", "type": "choices",
                        "value": {"choices": ["left"]}}]}])

    def _tasks(self, *, project, fields, include, query, page, page_size):
        time.sleep(0.05)  # a request takes a moment: the raters write meanwhile
        items = [self._task(n) for n in range(1, MEDIA + 1)]
        for item in json.loads(query).get("filters", {}).get("items", []):
            bound = datetime.strptime(item["value"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
            items = [t for t in items if t.updated_at >= bound]
        return SimpleNamespace(items=items[(page - 1) * page_size:page * page_size])


def test_pull_and_ui_raters_at_once_give_each_blind_pass_once(monkeypatch):
    import fpgrade.sync.changes as changes

    monkeypatch.setattr(changes, "PAGE_SIZE", 2)  # six pages, each its own transaction
    registry = get_registry()
    team = users(ann="labeller", bob="labeller")
    media = add_media(MEDIA)
    with database.session() as session:
        campaign = create_campaign(session, "race", "sided7", registry=registry)
        project = LsProject(url="http://ls.test", project_id=1, title="race", scale="sided7",
                            campaign_id=campaign.id)
        session.add(project)
        session.flush()
        session.add_all(LsTask(ls_project_id=project.id, media_id=m, task_id=i + 1)
                        for i, m in enumerate(media))
        session.commit()
        ls_project_id = project.id
    server = Server("http://ls.test", FakeLabelStudio())
    import label_studio_sdk.core.api_error  # noqa: F401 - imported by the pull's first request:
    #                                         seconds here, and the raters would be done by then
    errors, reports = [], []
    start = threading.Barrier(3)

    def rater(name):
        try:
            start.wait()
            with database.session() as session:
                while (task := next_assignment(session, team[name], campaign.id)) is not None:
                    submit_label(session, team[name], task.assignment_id, label="L1")
                    time.sleep(0.1)  # a rater takes a moment: the pull interleaves
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"{name}: {exc!r}")

    def puller():
        try:
            start.wait()
            with database.session() as session:
                reports.append(pull_project(session, server, registry, ls_project_id))
        except Exception as exc:  # noqa: BLE001
            errors.append(f"pull: {exc!r}")

    threads = [threading.Thread(target=rater, args=(n,)) for n in ("ann", "bob")]
    threads.append(threading.Thread(target=puller))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    with database.session() as session:
        blind = session.exec(select(Assignment).where(Assignment.campaign_id == campaign.id,
                                                      Assignment.pass_kind == "blind")).all()
        annotations = session.exec(select(Annotation).where(Annotation.campaign_id == campaign.id)).all()
    passes = Counter(a.assignment_id for a in annotations if a.assignment_id is not None)
    assert all(count == 1 for count in passes.values())  # no pass reached two writers
    assert {a.id for a in blind} == set(passes)  # every blind pass given
    pulled = [a for a in annotations if a.pass_kind == "label-studio"]
    assert len(pulled) == MEDIA and reports[0].added == MEDIA  # each stored once
    assert 0 < reports[0].as_blind_pass < 2 * MEDIA  # both sides really wrote passes
    assert reports[0].as_blind_pass == sum(1 for a in pulled if a.assignment_id is not None)
    for medium in media:  # two blind passes by two different raters per medium
        raters = [a.annotator for a in annotations if a.media_id == medium and a.assignment_id]
        assert len(raters) == 2 and len(set(raters)) == 2
    with database.session() as session:
        again = pull_project(session, server, registry, ls_project_id)
    assert again.added == 0 and again.unchanged == 1  # the last stamp is re-read (overlap)
    with database.session() as session:
        full = pull_project(session, server, registry, ls_project_id, full=True)
    assert (full.added, full.unchanged) == (0, MEDIA) and full.problems == []
