"""The labelling and adjudication views of a per-subject campaign (issue 20), as plain handlers:
the visit's real photos side by side under their movement names, one grade for the visit, the
face crop of each photo, the adjudicator's decision written to every medium of the visit."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select

from fpgrade.storage import database
from fpgrade.storage.tables import FinalLabel, Media, MediaKind, Subject, Visit
from fpgrade_ui import labelling_adjudication as adj
from fpgrade_ui import labelling_admin as adm
from fpgrade_ui import labelling_handlers as h
from fpgrade_ui import labelling_progress as prog
from fpgrade_ui.labelling_visit import columns_for, compose
from tests.labelling_helpers import users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture

#: one visit: real faces for rest and eyes closed, a landscape (no face) for the smile
VISIT = (("MV0", "0-f1-su-ph.jpg"), ("MV1", "45-m7-di-ph.jpg"),
         ("MV4", "free-mountain-vector-01.jpg"))


def add_visit(folder, shared_faces, code: str = "V001") -> list[int]:
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    with database.session() as session:
        subject = Subject(code=code)
        session.add(subject)
        session.flush()
        visit = Visit(subject_id=subject.id, name="baseline")
        session.add(visit)
        session.flush()
        for movement, name in reversed(VISIT):          # stored out of order
            path = folder / f"{code}_{movement}{Path(name).suffix}"
            shutil.copyfile(shared_faces / name, path)
            media = Media(visit_id=visit.id, path=str(path), kind=MediaKind.IMAGE,
                          sha256=f"{code}{movement}".ljust(64, "0"), movement=movement)
            session.add(media)
            session.flush()
            ids.append(media.id)
        session.commit()
    return ids


def size_of(path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as shown:
        return shown.size


@pytest.fixture
def team():
    return users(ann="labeller", bob="labeller", cara="adjudicator", dan="admin")


def test_a_visit_is_labelled_side_by_side_and_decided_for_all_its_media(team, tmp_path,
                                                                         shared_faces):
    media = add_visit(tmp_path / "media", shared_faces)
    said = adm.create_campaign(team["dan"], "hb visits", "house_brackmann", "", 2,
                               per_visit=True)
    assert "one grade per subject's visit" in said
    views = {}
    for rater, grade in (("ann", "II"), ("bob", "IV")):
        view = h.next_task(team[rater], 1)
        views[rater] = view
        assert view.video is None and "one grade for its 3 movements" in view.title
        assert "/" not in view.title                             # no path on the page
        assert ("Left to right: 1. At rest, looking straight ahead (MV0); 2. Close the eyes "
                "gently or tightly (MV1); 3. Smile showing the teeth (MV4).") in view.title
        # one picture, three tiles in a row: wider than high
        width, height = size_of(view.image)
        assert width > 2 * height and Path(view.image).name == "visit.jpg"  # a neutral name
        assert not h.submit(team[rater], view, grade).duplicate
        assert h.next_task(team[rater], 1) is None                # one visit: nothing left
    crop, note = h.face_crop(team["ann"], views["ann"])
    assert note.startswith("Left to right: 1. At rest") and "1 without a face found" in note
    assert crop.shape[:2][::-1] != size_of(views["ann"].image)
    ((assignment, subject, movement, disagreement, *_),) = adj.adjudication_queue(team["cara"], 1)
    assert (subject, disagreement) == ("V001", "ann: II / bob: IV")
    assert movement == ("whole visit: At rest, looking straight ahead (MV0); Close the eyes "
                        "gently or tightly (MV1); Smile showing the teeth (MV4)")
    case = adj.open_case(team["cara"], assignment)
    assert "visit of medium" in case.title and "one grade for its 3 movements" in case.title
    assert "2. Close the eyes gently or tightly (MV1)" in case.title
    assert size_of(case.image) == size_of(views["ann"].image)  # the same picture as the raters'
    said = adj.decide(team["cara"], case, "III", "forehead moves; eye closes with effort")
    assert said.endswith("the visit of medium #%d (3 media) = III (final label)." % max(media))
    with database.session() as session:
        finals = {f.media_id: f.label for f in session.exec(select(FinalLabel)).all()}
    assert finals == {m: "III" for m in media}
    figures = prog.progress(team["dan"], 1)
    assert "hb visits: 1 visit, 3 of 3 assignments done" in figures
    assert "| status | visits |" in figures and "| final | 1 |" in figures


@pytest.mark.parametrize(("count", "columns"), [(1, 1), (3, 3), (4, 2), (7, 4)])
def test_the_grid_stays_about_as_wide_as_the_photo_frame(count, columns):
    assert columns_for(count) == columns
    tiles = [(np.full((60, 40, 3), 200, np.uint8), f"movement {n}") for n in range(count)]
    picture = compose(tiles, height=100)
    rows = -(-count // columns)
    assert picture.shape[0] == rows * (100 + 78) + 8 * (rows - 1)
