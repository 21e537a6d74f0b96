"""The labelling pages' handlers as plain functions: login and logout, the labelling view, the
adjudication view, progress, agreement, export, admin, and the server-side role checks."""

from __future__ import annotations

import os

import csv
import re
from datetime import timedelta
from pathlib import Path

import numpy as np
from PIL import Image
import pytest

from fpgrade.labelling.model import (
    AlreadyDecidedError, AuthenticationError, LabellingError, PermissionDeniedError,
)
from fpgrade.storage import database
from fpgrade.storage.tables import (
    Annotation,
    Assignment,
    Media,
    MediaKind,
    ModelVersion,
    Prediction,
    Subject,
    Visit,
)
from fpgrade_ui import labelling_adjudication as adj
from fpgrade_ui import labelling_admin as adm
from fpgrade_ui import labelling_handlers as h
from fpgrade_ui import labelling_progress as prog
from fpgrade_ui.markdown_text import md
from tests.labelling_helpers import PASSWORD, users
from tests.media_rows import add_medium
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture


def media_files(folder: Path, count: int, *, movement: str = "MV0", prefix: str = "S",
                url: str | None = None, size: int = 48) -> list[int]:
    """``count`` small real PNG media (one subject each, pseudonymous codes); their ids."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    with database.session(url) as session:
        for index in range(count):
            path = folder / f"{prefix}{index:03d}_{movement}.png"
            rgb = np.full((size, size, 3), (index * 37) % 256, dtype=np.uint8)
            rgb[size // 4: size // 2, size // 4: 3 * size // 4] = 255
            Image.fromarray(rgb).save(path)
            ids.append(add_medium(session, f"{prefix}{index:03d}", path,
                                  f"{prefix}{index:04d}{movement}".ljust(64, "0")[:64],
                                  movement=movement).id)
        session.commit()
    return ids


@pytest.fixture
def team():
    return users(ann="labeller", bob="labeller", cara="adjudicator", dan="admin", eve="clinician")


@pytest.fixture
def campaign(team, tmp_path):
    media_files(tmp_path / "media", 3)
    message = adm.create_campaign(team["dan"], "c1", "house_brackmann", "MV0", 2)
    assert "created" in message
    return 1


def label_all(account, campaign, labels: dict[int, str]) -> None:
    while (view := h.next_task(account, campaign)) is not None:
        h.submit(account, view, labels[view.task.media_id])


def test_login_logout_and_a_disabled_account(team):
    ann = h.login("ann", PASSWORD)
    assert ann.name == "ann" and ann.role == "labeller"
    with pytest.raises(AuthenticationError):
        h.login("ann", "wrong password")
    h.logout(ann)
    with pytest.raises(h.NotLoggedInError, match="log in first"):
        h.open_campaigns(None)  # the page's state after logout
    adm.set_disabled(team["dan"], "ann", True)
    with pytest.raises(PermissionDeniedError, match="disabled"):
        h.open_campaigns(ann)  # a session opened before the account was disabled
    with pytest.raises(AuthenticationError):
        h.login("ann", PASSWORD)


def test_the_labelling_view_shows_the_photo_levels_and_stores_once(team, campaign):
    view = h.next_task(team["ann"], campaign)
    assert view.image is not None and view.video is None
    with Image.open(view.image) as shown:  # an upright JPEG copy under a neutral name
        assert shown.format == "JPEG" and shown.mode == "RGB"
    assert Path(view.image).name == "medium.jpg"
    assert [code for _, code in view.levels] == ["I", "II", "III", "IV", "V", "VI"]
    assert "| **3**: **III** Moderate dysfunction | Obvious but not disfiguring" in view.levels_text
    assert "At rest: Normal symmetry and tone. Motion: Forehead" in view.levels_text
    assert "hidden" in view.suggestion_text and view.suggestion is None
    assert "/" not in view.title and "Medium #" in view.title   # no path on the page
    first = h.submit(team["ann"], view, "III")
    again = h.submit(team["ann"], view, "III")                   # a double click
    assert not first.duplicate and again.duplicate and "Already stored" in again.message
    with database.session() as session:
        assert len(session.exec(Annotation.__table__.select()).all()) == 1
    with pytest.raises(LabellingError, match="choose a level"):
        h.submit(team["ann"], h.next_task(team["ann"], campaign), None)


def test_a_double_submit_after_the_next_medium_opened_stores_once(team, campaign):
    first = h.next_task(team["ann"], campaign)
    h.submit(team["ann"], first, "II", shown=first.task.assignment_id)
    second = h.next_task(team["ann"], campaign)    # the page opened the next medium
    # the other tab answered I: what is stored is the first submit's II, and the message says so
    again = h.submit(team["ann"], second, "I", shown=first.task.assignment_id)
    assert again.duplicate
    assert again.message == (f"Already stored: medium #of assignment {first.task.assignment_id}"
                             " = II (your first submit).")
    with database.session() as session:
        rows = session.exec(Annotation.__table__.select()).all()
    assert [r.assignment_id for r in rows] == [first.task.assignment_id]
    with pytest.raises(LabellingError, match="already answered"):
        h.skip(team["ann"], second, first.task.assignment_id)


def test_my_queue_counts_my_passes_and_the_teams(team, campaign):
    assert h.my_queue(team["ann"], campaign) == (
        "Your queue in c1: 0 passes done by you; 6 blind passes left for the team (a medium's "
        "passes go to different raters).")
    h.submit(team["ann"], h.next_task(team["ann"], campaign), "I")
    assert "1 passes done by you; 5 blind passes left" in h.my_queue(team["ann"], campaign)


def test_skip_and_cannot_grade(team, campaign):
    view = h.next_task(team["ann"], campaign)
    assert "Skipped" in h.skip(team["ann"], view)
    other = h.next_task(team["ann"], campaign)
    assert other.task.assignment_id != view.task.assignment_id
    done = h.submit(team["ann"], other, None, cannot_grade="bad_photo", note="blurred")
    assert "cannot grade" in done.message


def test_two_blind_passes_adjudication_agreement_and_export(team, campaign, tmp_path):
    labels = {1: "II", 2: "III", 3: "IV"}
    label_all(team["ann"], campaign, labels)
    label_all(team["bob"], campaign, {**labels, 3: "V"})
    # bob's comment on medium 3, typed with markup: escaped in the case, flagged in the queue
    [bobs] = [(text, value) for text, value in h.my_labels(team["bob"], campaign)
              if text.startswith("medium #3 ")]
    assert bobs[0] == "medium #3 (At rest, looking straight ahead (MV0)): V"
    assert "Changed: medium #3 = V (logged)." == h.change(
        team["bob"], bobs[1], "V", "forehead <b>still</b> | moves")
    queue = adj.adjudication_queue(team["cara"], campaign)
    assert adj.QUEUE_HEADERS[:4] == ["adjudication", "subject", "movement", "disagreement"]
    assert [row[1:] for row in queue] == [["S002", "At rest, looking straight ahead (MV0)",
                                           "ann: IV / bob: V (comment)", 3, "open"]]
    case = adj.open_case(team["cara"], queue[0][0])
    assert "| ann |" in case.details and "| bob |" in case.details and "V" in case.details
    assert md("forehead <b>still</b> | moves") in case.details  # shown as typed, escaped
    assert "At rest, looking straight ahead (MV0)" in case.title
    assert [text for text, _ in case.levels][:2] == ["1: I (Normal)", "2: II (Slight dysfunction)"]
    assert "No trained model for house_brackmann" in case.details
    other = adj.open_case(team["dan"], queue[0][0])                 # opened twice at once
    assert "IV" in adj.decide(team["cara"], case, "IV", "bob's V is too severe at rest")
    with pytest.raises(AlreadyDecidedError, match="by cara"):
        adj.decide(team["dan"], other, "V", "second opinion")
    report = prog.agreement(team["eve"], campaign)
    assert "Cohen's kappa" in report.text and "Fleiss' kappa" in report.text
    assert "ann / bob | 3 | 66.7%" in report.text
    assert report.heatmap.ndim == 3 and report.heatmap.shape[2] == 3
    figures = prog.progress(team["eve"], campaign)
    assert "final" in figures and "#### Per labeller" in figures
    # both raters: 3 items; one final label (IV), ann agreed with it, bob did not
    assert re.search(r"\| ann \| 3 \| \d+\.\d s \| 1 \| 100% \| n/a \|", figures), figures
    assert re.search(r"\| bob \| 3 \| \d+\.\d s \| 1 \| 0% \| 0\.00 \|", figures), figures
    # decided: no more change of either label of medium 3
    assert h.my_labels(team["bob"], campaign) == [
        (t, v) for t, v in h.my_labels(team["bob"], campaign) if not t.startswith("medium #3 ")]
    with pytest.raises(LabellingError, match="decided already"):
        h.change(team["bob"], bobs[1], "IV")
    path, count = prog.export_csv(team["eve"], campaign, str(tmp_path))
    rows = list(csv.DictReader(open(path)))
    assert count == 1 and rows[0]["label"] == "IV" and rows[0]["method"] == "adjudicated"
    assert rows[0]["subject"] == "S002"


@pytest.mark.parametrize("call", [
    lambda a: adj.adjudication_queue(a), lambda a: adj.open_case(a, 1),
    lambda a: adm.users_table(a), lambda a: adm.add_user(a, "mallory", PASSWORD, "admin"),
    lambda a: adm.set_disabled(a, "cara", True), lambda a: adm.create_campaign(a, "x", "sided7"),
    lambda a: adm.close_campaign(a, 1), lambda a: adm.run_second_check(a, 1),
    lambda a: adm.import_manifest(a, "/etc/passwd"), lambda a: prog.progress(a, 1),
    lambda a: prog.agreement(a, 1), lambda a: prog.export_csv(a, 1),
    # the role is checked before anything else is looked at
    lambda a: prog.agreement(a, None), lambda a: adj.open_case(a, None),
    lambda a: adj.decide(a, None, "I", "reason"), lambda a: prog.progress(a, None),
])
def test_a_labeller_is_refused_by_every_adjudication_admin_and_view_handler(team, campaign,
                                                                          call):
    with pytest.raises(PermissionDeniedError):
        call(team["ann"])
    with pytest.raises(PermissionDeniedError, match="log in first"):
        call(None)


@pytest.mark.parametrize("call", [
    lambda a: h.next_task(a, 1), lambda a: h.my_queue(a, 1), lambda a: h.open_campaigns(a),
    lambda a: h.submit(a, None, "I", shown=1), lambda a: h.skip(a, None, 1),
    lambda a: h.my_labels(a, 1), lambda a: h.change(a, 1, "I"), lambda a: h.face_crop(a, None),
])
def test_a_clinician_or_nobody_is_refused_by_the_labelling_handlers(team, campaign, call):
    with pytest.raises(PermissionDeniedError):
        call(team["eve"])
    with pytest.raises(PermissionDeniedError, match="log in first"):
        call(None)


def test_admin_handlers(team, tmp_path):
    assert ["cara", "adjudicator", "active"] in adm.users_table(team["dan"])
    assert "added" in adm.add_user(team["dan"], "fay", PASSWORD, "labeller")
    assert "disabled" in adm.set_disabled(team["dan"], "fay", True)
    assert ["fay", "labeller", "disabled"] in adm.users_table(team["dan"])
    with pytest.raises(LabellingError, match="no medium"):
        adm.create_campaign(team["dan"], "empty", "sided7")
    with pytest.raises(LabellingError, match="no such manifest"):
        adm.import_manifest(team["dan"], str(tmp_path / "missing.csv"))


def test_a_stored_suggestion_is_shown_where_allowed_and_stored_with_its_version(team, tmp_path):
    ids = media_files(tmp_path / "media", 1)
    with database.session() as session:
        version = ModelVersion(model_id="m", version="m-v1", scale="house_brackmann",
                               weights_sha256="0" * 64, weights_path=str(tmp_path / "m.safetensors"))
        session.add(version)
        session.flush()
        session.add(Prediction(media_id=ids[0], model_version_id=version.id, scale="house_brackmann",
                               label="II", probabilities={"II": 0.81, "III": 0.19}))
        session.commit()
    adm.create_campaign(team["dan"], "open", "house_brackmann", "", 2, suggestions_in_blind=True)
    view = h.next_task(team["ann"], 1)
    assert "**II** (probability 0.81), model version `m-v1`" in view.suggestion_text
    h.submit(team["ann"], view, "II")
    with database.session() as session:
        stored = session.exec(Annotation.__table__.select()).one()
    assert stored.suggestion_shown and stored.suggestion_accepted
    assert stored.suggestion_model_version == "m-v1"


def test_no_trained_model_no_suggestion_said_plainly(team, tmp_path):
    media_files(tmp_path / "media", 1)
    adm.create_campaign(team["dan"], "open", "sided7", "", 2, suggestions_in_blind=True)
    view = h.next_task(team["ann"], 1)
    assert view.suggestion is None and view.suggestion_text == \
        "No trained model for sided7: no suggestion."


def test_a_video_is_shown_as_a_copy_in_the_servers_temporary_folder(team, tmp_path):
    from tests.media_factory import write_video

    path = write_video(tmp_path / "media" / "V001_MV4.mp4", frames=6, size=64)
    with database.session() as session:
        subject = Subject(code="V001")
        session.add(subject)
        session.flush()
        visit = Visit(subject_id=subject.id)
        session.add(visit)
        session.flush()
        session.add(Media(visit_id=visit.id, path=str(path), kind=MediaKind.VIDEO,
                          movement="MV4", sha256="v" * 64))
        session.commit()
    adm.create_campaign(team["dan"], "videos", "sided7", "MV4", 2)
    view = h.next_task(team["ann"], 1, str(tmp_path / "served"))
    assert view.image is None and Path(view.video).read_bytes() == path.read_bytes()
    assert Path(view.video).parent.parent == tmp_path / "served"
    assert Path(view.video).name == "medium.mp4"    # not the file's own name
    # its label is refused until the player reports its end (no sooner than it lasts)
    assert view.task.must_play
    with pytest.raises(LabellingError, match="play it to its end"):
        h.submit(team["ann"], view, "L1")
    with database.session() as session:
        row = session.get(Assignment, view.task.assignment_id)
        row.claimed_at -= timedelta(minutes=1)     # as if opened a minute ago
        session.add(row)
        session.commit()
    assert "played to its end" in h.video_played(team["ann"], view)
    assert h.submit(team["ann"], view, "L1").message.startswith("Stored")


def test_an_unreadable_photo_is_still_shown_so_that_it_can_be_marked(team, campaign, tmp_path):
    for png in (tmp_path / "media").glob("*.png"):
        png.write_bytes(b"not a picture")
    view = h.next_task(team["ann"], campaign)
    assert view.image is None and "cannot be read" in view.title and "png" not in view.title
    assert "cannot grade" in h.submit(team["ann"], view, None, cannot_grade="bad_photo").message


def test_without_a_stored_prediction_the_current_trained_version_suggests(team, tmp_path,
                                                                         monkeypatch):
    from fpgrade.clinic import models

    media_files(tmp_path / "media", 1)
    info = models.VersionInfo("asymmetry_classifier", "ac-v7", "sided7", "/w.safetensors", True)
    monkeypatch.setattr(models, "current_versions", lambda scales=None: {"sided7": info})
    monkeypatch.setattr(models, "grade", lambda registry, i, path, movement=None: {
        "label": "L2", "probabilities": {"L2": 0.64, "N": 0.36}})
    adm.create_campaign(team["dan"], "open", "sided7", "", 2, suggestions_in_blind=True)
    view = h.next_task(team["ann"], 1)
    assert "**L2** (probability 0.64), model version `ac-v7`" in view.suggestion_text
    h.submit(team["ann"], view, "L1")
    with database.session() as session:
        stored = session.exec(Annotation.__table__.select()).one()
    assert stored.suggestion_shown and stored.suggestion_model_version == "ac-v7"
    assert stored.suggestion_label == "L2" and not stored.suggestion_accepted


def test_the_face_crop_of_a_real_photo_and_the_whole_photo_where_no_face_is_found(team, tmp_path):
    """fpgrade's face detection (real MediaPipe) on scikit-image's astronaut: the crop holds the
    face and is much smaller than the photo; a photo without a face: the whole photo, said."""
    from PIL import Image

    from tests.media_factory import astronaut

    path = tmp_path / "A001_MV0.png"
    Image.fromarray(astronaut()).save(path)
    with database.session() as session:
        add_medium(session, "A001", path, "a" * 64, movement="MV0")
        session.commit()
    media_files(tmp_path / "media", 1)   # a flat grey square: no face
    adm.create_campaign(team["dan"], "faces", "house_brackmann", "MV0", 2)
    seen = {}
    while (view := h.next_task(team["ann"], 1)) is not None:
        crop, note = h.face_crop(team["ann"], view)
        seen[view.task.media_id] = (np.asarray(Image.open(view.image)).shape, crop.shape, note)
        assert h.face_crop(team["ann"], view)[0] is crop      # computed once per open photo
        h.submit(team["ann"], view, "I")
    (photo, face, said), (grey, same, none) = seen[1], seen[2]
    assert said.startswith("Face crop (") and face[0] * face[1] < photo[0] * photo[1] / 3
    assert same == grey and none == "No face found: the whole photo is shown."
    with pytest.raises(PermissionDeniedError):
        h.face_crop(team["eve"], None)


def test_a_rater_gets_an_upright_copy_without_the_photos_metadata(tmp_path):
    """A camera JPEG stored sideways (EXIF orientation 6) with its maker and date: the rater's
    copy is upright, carries no EXIF, and its long side is at most SHOWN_LONG_SIDE."""
    original = tmp_path / "L0001_smile_2026-01-10.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6            # orientation: the camera was turned 90 degrees
    exif[0x010F] = "ClinicCam"  # maker
    exif[0x0132] = "2026:01:10 09:30:00"
    Image.fromarray(np.tile(np.arange(3000, dtype=np.uint8)[None, :, None] % 251,
                            (1000, 1, 3))).save(original, exif=exif,
                                                comment=b"Patient DOE Jane MRN 12345")
    shown = Path(h._shown_photo(original, str(tmp_path / "work")))
    with Image.open(shown) as copy:
        assert copy.size == (853, 2560)          # upright (taller than wide), long side capped
        assert not copy.getexif() and "exif" not in copy.info and "comment" not in copy.info
    assert b"DOE" not in shown.read_bytes() and b"ClinicCam" not in shown.read_bytes()
    assert shown.name == "medium.jpg" and "L0001" not in str(shown)


def test_a_photos_shown_copy_is_made_once_and_again_when_the_photo_changes(tmp_path):
    """The second pass and the adjudication get the copy already made (a stat, no decode); a
    photo changed on disk gets a new copy; a half-written copy is never at the shown name."""
    original = tmp_path / "L0002_MV0.png"
    Image.fromarray(np.full((40, 60, 3), 10, np.uint8)).save(original)
    work = str(tmp_path / "work")
    first = Path(h._shown_photo(original, work))
    made = first.stat().st_mtime_ns
    assert Path(h._shown_photo(original, work)) == first and first.stat().st_mtime_ns == made
    Image.fromarray(np.full((40, 60, 3), 200, np.uint8)).save(original)   # the photo changes
    os.utime(original, ns=(made + 10**9, made + 10**9))
    second = Path(h._shown_photo(original, work))
    assert second != first and second.name == "medium.jpg"
    with Image.open(second) as copy:
        assert copy.getpixel((5, 5))[0] > 150
    assert not [p for p in second.parent.iterdir() if p.name != "medium.jpg"]


def test_the_next_photos_are_made_ahead_in_queue_order(team, campaign, tmp_path):
    """Opening a medium makes the photos the raters open next (the campaign's queue order),
    so that the next submit sends a copy made while this photo was looked at."""
    from fpgrade.labelling.workflow import upcoming_photos

    work = str(tmp_path / "ahead")
    view = h.next_task(team["ann"], campaign, work)
    with database.session() as session:
        upcoming = upcoming_photos(session, campaign, h.AHEAD)
    assert upcoming[0] != view.task.path                   # claimed: not open any more
    assert len(set(upcoming)) == len(upcoming)             # each photo once (two passes)
    assert h.make_ahead(upcoming, work).wait(timeout=60)
    for path in upcoming:
        assert Path(h._shown_photo(path, work)).is_file()
    following = h.next_task(team["bob"], campaign, work)
    assert following.task.path == upcoming[0]              # what bob opens was made ahead


@pytest.mark.parametrize("shown", [1e30, 2**63, "nan", float("inf"), "abc", -3, 0, 5.5])
def test_a_shown_id_that_is_no_assignment_number_is_refused_in_one_line(team, campaign, shown):
    """A crafted ``shown`` (the hidden number the page sends back) is refused as a labelling
    error, never an unhandled exception or a database error."""
    view = h.next_task(team["ann"], campaign)
    with pytest.raises(LabellingError, match="not a medium shown to you"):
        h.submit(team["ann"], view, "II", shown=shown)
    with pytest.raises(LabellingError):
        h.skip(team["ann"], view, shown)
