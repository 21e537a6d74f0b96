"""Before and after without a browser (issue 19): a saved visit keeps its photos only when asked,
under the data folder, privately; replacing or deleting the visit removes rows and files; two
visits compare per movement and per score with signed differences and verdicts in words; the
eFACE chart shows every item against normal, on the page and in the PDF."""

from __future__ import annotations

import stat

import numpy as np
import pytest
from sqlmodel import select

from fpgrade.clinic import compare, eface_chart, recovery, visit_photos
from fpgrade.clinic.movements import MOVEMENTS
from fpgrade.labelling import audit
from fpgrade.storage import database
from fpgrade.storage.tables import Assessment, Visit, VisitPhoto
from fpgrade_ui import handlers, visit_handlers

NO_SET = [None] * len(MOVEMENTS)


@pytest.fixture(autouse=True)
def session_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    (tmp_path / "gradio").mkdir()


@pytest.fixture(scope="module")
def graded_set(tmp_path_factory):
    """The example set and the single example photo, graded once for the module (real
    MediaPipe on real photos)."""
    from tests.conftest import _clear_caches

    folder = tmp_path_factory.mktemp("graded")
    with pytest.MonkeyPatch.context() as patch:   # its own data folder and temporary folder
        patch.setenv("GRADIO_TEMP_DIR", str(folder))
        patch.setenv("FPGRADE_DATA_DIR", str(tmp_path_factory.mktemp("graded-data")))
        patch.delenv("FPGRADE_DATABASE_URL", raising=False)
        _clear_caches()
        many = handlers.grade(handlers.example_set())
        one = handlers.grade(NO_SET, single=handlers.example_single())
    _clear_caches()
    return many, one


def _save(graded, day, *, keep, subject="P050", on_existing=None):
    return handlers.save_visit(graded.session, subject, day, graded.eface_values, [],
                               on_existing, keep_photos=keep)


def _ids(subject="P050"):
    return [s["id"] for s in recovery.saved(subject)]


def test_photos_are_kept_only_when_asked_privately_under_the_data_folder(graded_set,
                                                                         isolated_settings):
    many, one = graded_set
    text, ask = _save(many, "2026-01-10", keep=True)
    assert not ask and "with its 5 photos and overlays, kept on this computer" in text
    text, _ = _save(one, "2026-03-12", keep=False)
    assert "the photos themselves are not kept" in text
    first, second = _ids()
    folder = recovery.load(first)["folder"]
    assert folder.parent == isolated_settings / "visit_photos" and folder.name.startswith(f"{first}-")
    assert folder.is_dir() and stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == 10 and "rest.jpg" in files and "rest.overlay.png" in files
    assert all(stat.S_IMODE((folder / f).stat().st_mode) == 0o600 for f in files)
    # the copy is the uploaded file, byte for byte
    rest = next(p for p in many.session.result.photos if p.movement == "rest")
    assert (folder / "rest.jpg").read_bytes() == open(rest.path, "rb").read()
    assert recovery.load(second)["folder"] is None
    assert [p.name for p in (isolated_settings / "visit_photos").iterdir()] == [folder.name]
    saved = {s["id"]: s for s in recovery.saved("P050")}
    assert saved[first]["photos"] == 5 and "5 photos kept" in saved[first]["label"]
    assert saved[second]["photos"] == 0 and "numbers only" in saved[second]["label"]
    loaded = recovery.load(first)
    assert set(loaded["photos"]) == {p.movement for p in many.session.result.photos if p.ok}
    assert all(not v["photo"].startswith("/") for v in loaded["photos"].values())  # relative
    overlay = visit_photos.image(loaded["photos"]["smile"]["overlay"])
    assert overlay is not None and overlay.shape[2] == 3


def test_a_path_outside_the_photos_folder_is_never_read(isolated_settings):
    (isolated_settings / "secret.png").write_bytes(b"x")
    assert visit_photos.absolute("../secret.png") is None
    assert visit_photos.absolute("visit_photos/../secret.png") is None
    assert visit_photos.image("/etc/passwd") is None


def test_deleting_a_visit_removes_its_rows_and_files_and_leaves_the_other(graded_set,
                                                                         isolated_settings):
    many, one = graded_set
    _save(many, "2026-01-10", keep=True)
    _save(one, "2026-03-12", keep=True)
    first, second = _ids()
    folder_1, folder_2 = recovery.load(first)["folder"], recovery.load(second)["folder"]
    question, ask = visit_handlers.delete_question(first)
    assert ask and "2026-01-10" in question and "5 kept photos" in question
    assert "cannot be undone" in question and str(folder_1) not in question  # no server path
    assert folder_1.is_dir()  # asking deletes nothing
    # a delete that the question did not name (a request sent without asking, or naming
    # another visit) deletes nothing
    assert "Nothing was deleted" in visit_handlers.delete_visit(first, None, by="eve")
    assert "Nothing was deleted" in visit_handlers.delete_visit(first, second, by="eve")
    assert folder_1.is_dir() and _ids() == [first, second]
    text = visit_handlers.delete_visit(first, first, by="dr-b")
    assert text == "Deleted the visit of 2026-01-10 of subject P050 and its 5 kept photos."
    with database.session() as s:
        [event] = audit.events(s, action="visit_delete")
        assert event.actor == "dr-b" and event.details["subject"] == "P050"
    assert not folder_1.exists() and folder_2.is_dir()
    with database.session() as s:
        assert s.get(Assessment, first) is None
        assert s.exec(select(VisitPhoto).where(VisitPhoto.assessment_id == first)).all() == []
        assert len(s.exec(select(VisitPhoto).where(VisitPhoto.assessment_id == second)).all()) == 1
        assert [v.name for v in s.exec(select(Visit)).all()] == ["2026-03-12"]
    assert _ids() == [second]
    assert "does not exist" in visit_handlers.delete_visit(first, first)


def test_replacing_a_visit_removes_the_replaced_photos(graded_set, isolated_settings):
    many, one = graded_set
    _save(many, "2026-01-10", keep=True)
    [old] = _ids()
    old_folder = recovery.load(old)["folder"]
    text, ask = _save(one, "2026-01-10", keep=True)
    assert ask and "Not saved yet" in text
    assert old_folder.is_dir()  # nothing changed yet
    text, _ = _save(one, "2026-01-10", keep=True, on_existing="replace")
    assert "replaced the earlier one" in text
    [new] = _ids()   # SQLite may give the new assessment the old one's id: never its folder
    new_folder = recovery.load(new)["folder"]
    assert not old_folder.exists() and new_folder != old_folder
    assert sorted(p.name for p in new_folder.iterdir()) == ["rest.jpg", "rest.overlay.png"]


def test_a_failed_save_keeps_no_file(graded_set, isolated_settings, monkeypatch):
    many, _ = graded_set

    def broken(*args, **kwargs):
        raise recovery.FpgradeError("disk full")

    monkeypatch.setattr(visit_photos, "_png", broken)
    text, _ = _save(many, "2026-01-10", keep=True)
    assert text == "⚠️ disk full"
    assert _ids() == [] and not any((isolated_settings / "visit_photos").glob("*/*"))


def test_two_visits_side_by_side_per_movement_with_signed_differences(graded_set):
    many, one = graded_set
    _save(one, "2026-03-12", keep=False)   # the later visit saved first, without photos
    _save(many, "2026-01-10", keep=True)
    choices, first, last, _ = visit_handlers.visit_choices("P050")
    assert [c[0] for c in choices] == ["2026-01-10, 5 photos kept", "2026-03-12, numbers only"]
    result = visit_handlers.compare_visits(last, first)  # chosen the wrong way round
    assert "swapped" in result.message and "2026-03-12 was saved without photos" in result.message
    keys = [v.key for v in result.movements]
    assert keys == [m.key for m in MOVEMENTS if m.key in {p.movement for p in many.session.result.photos}]
    rest = result.movements[0]
    assert rest.heading == "At rest, looking straight ahead"
    assert rest.earlier is not None and rest.earlier.ndim == 3 and rest.later is None
    assert rest.earlier_label == "2026-01-10 (earlier)"
    assert rest.later_label == "2026-03-12: saved without photos: numbers only"
    assert "MRD1" in rest.table and ("better" in rest.table or "worse" in rest.table
                                     or "unchanged" in rest.table)
    assert rest.summary.startswith("The sides, over 10 measurements: ")
    smile = next(v for v in result.movements if v.key == "smile")
    assert smile.summary == "Nothing to compare: this movement was measured at one visit only."
    assert "not comparable" in smile.table  # the later visit has no smile photo
    assert "eFACE total" in result.scores and "eFACE item: Brow at rest" in result.scores
    # five photos against one: the totals average other items, never a "better" or "worse"
    assert "not comparable: different items graded (7 and 3)" in result.scores
    assert "Sunnybrook" not in result.scores  # graded at neither visit: no row
    assert "Measured at 2026-01-10 only" in smile.table
    assert visit_handlers.compare_visits(first, first).message == "⚠️ Choose two different visits."


def test_the_differences_are_signed_and_judged_by_the_gap_between_the_sides():
    def saved(right, left, deviation, total, composite, resting):
        return {"measurements": {"rest": {"measurements": {
                    "mrd1": {"right": right, "left": left, "unit": "mm"},
                    "commissure_height_deviation": deviation}}},
                "eface": {"scores": {"total": total}, "items": {"brow_rest": total}},
                "sunnybrook": {"scores": {"composite": composite, "resting": resting}},
                "grades": {"house_brackmann": {"status": "graded", "set": {"label": "IV"}}},
                "photos": {}}

    before = saved(4.0, 1.0, -3.0, 50.0, 40, 15)
    after = saved(3.5, 3.0, 0.4, 80.0, 70, 5)
    after["grades"]["house_brackmann"]["set"]["label"] = "II"
    mrd1, deviation = compare.measurement_changes(before, after, "rest")
    assert mrd1.right_change == pytest.approx(-0.5) and mrd1.left_change == pytest.approx(2.0)
    assert mrd1.gap == (3.0, 0.5) and mrd1.change == pytest.approx(-2.5)
    assert mrd1.verdict == compare.BETTER
    assert deviation.gap == (3.0, 0.4) and deviation.verdict == compare.BETTER
    worse = compare.measurement_changes(after, before, "rest")[0]
    assert worse.verdict == compare.WORSE and worse.change == pytest.approx(2.5)
    same = compare.measurement_changes(before, saved(4.1, 1.0, -3.2, 50.4, 40, 15), "rest")
    assert [c.verdict for c in same] == [compare.SAME, compare.SAME]
    scores = {(c.scale, c.key): c for c in compare.score_changes(before, after)}
    assert scores[("eface", "total")].change == 30 and scores[("eface", "total")].verdict == "better"
    assert scores[("sunnybrook", "resting")].verdict == "better"  # lower is better
    assert scores[("sunnybrook", "composite")].verdict == "better"
    hb = scores[("house_brackmann", "grade")]
    assert (hb.earlier, hb.later, hb.change, hb.verdict) == ("IV", "II", -2.0, "better")
    fewer = dict(after, eface={"scores": {"total": 90.0}, "items": {"brow_rest": 90.0,
                                                                    "brow_elevation": 90.0}})
    total = next(c for c in compare.score_changes(before, fewer) if c.key == "total")
    assert (total.verdict, total.change) == (compare.NONE, None) and "different items" in total.note
    html = visit_handlers.scores_html(list(scores.values()), "2026-01-10", "2026-03-12")
    assert "+30" in html and "color:#1a7f37" in html and ">better<" in html
    table = visit_handlers.measurements_html([mrd1], "2026-01-10", "2026-03-12")
    assert "−0.5 mm" in table and "+2.0 mm" in table and "better (closer)" in table


def test_the_eface_chart_has_every_item_against_normal():
    from fpgrade.registry import get_registry

    scale = get_registry().composite("eface")
    values = {"brow_rest": 92.0, "oral_commissure_smile": 40.0, "brow_elevation": 70.0}
    scores = scale.score(values)
    rows = eface_chart.rows(scale.items, values, scores, {"brow_rest": 92.0,
                                                           "oral_commissure_smile": 40.0})
    assert [r[1] for r in rows[:len(scale.items)]] == [
        i.name for g in ("static", "dynamic", "synkinesis") for i in scale.items if i.group == g]
    by_name = {r[1]: r for r in rows}
    assert by_name["Brow at rest"][2:] == (92.0, "from the photos")
    assert by_name["Brow elevation"][3] == "entered by the clinician"
    assert by_name["Nasolabial fold with smile"][2:] == (None, "not graded (clinician's item)")
    assert by_name["Total score"][2] == scores["total"]
    assert eface_chart.colour(40) != eface_chart.colour(92)
    figure = eface_chart.figure(scale.items, values, scores)
    bars = [p for p in figure.axes[0].patches]
    assert sum(1 for b in bars if b.get_width() == 100.0) == len(rows)  # a normal bar per row
    assert sorted(b.get_width() for b in bars if b.get_width() != 100.0) == sorted(
        [92.0, 40.0, 70.0, *[v for v in scores.values() if v is not None]])


def test_the_page_chart_and_the_pdf_show_the_eface_items(graded_set, tmp_path):
    import pypdfium2

    many, _ = graded_set
    image = visit_handlers.eface_chart_image(many.session, many.eface_values)
    assert image is not None and image.ndim == 3 and image.shape[0] > 400
    assert visit_handlers.eface_chart_image(None, many.eface_values) is None
    files, _ = handlers.export(many.session, many.eface_values, [], "P050", "2026-01-10")
    pdf = pypdfium2.PdfDocument(files[0])
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "eFACE: each item against normal" in text and "normal 100" in text
    assert "Platysmal synkinesis" in text and "Total score" in text
    np.testing.assert_array_equal(image[..., 0].shape, image[..., 1].shape)


def test_a_video_keeps_its_graded_frame_and_a_vanished_upload_its_overlay(graded_set, tmp_path,
                                                                          isolated_settings):
    import copy
    import shutil

    _, one = graded_set
    session = copy.copy(one.session)
    result = copy.copy(one.session.result)
    photo = copy.copy(result.photos[0])
    moved = tmp_path / "gone.jpg"
    shutil.copy(photo.path, moved)
    photo.path = str(moved)
    result.photos = [photo]
    session.result = result
    moved.unlink()  # the server's cache removed the upload before the save
    kept, notes = visit_handlers.kept(session)
    assert kept[0].source is None and kept[0].overlay is not None
    assert notes == ["At rest, looking straight ahead: the uploaded file is no longer on the "
                     "server; only its overlay is kept"]
    video = visit_photos.Kept("smile", "/nonexistent/clip.mp4", "clip.mp4", "video",
                              np.zeros((8, 8, 3), np.uint8))
    day = recovery.save("P051", "2026-01-10", healthy_side="left", eface={}, sunnybrook={},
                        grades={}, measurements={}, photos=[*kept, video])
    saved = recovery.load(day)
    assert saved["photos"]["smile"]["photo"] is None and saved["photos"]["smile"]["kind"] == "video"
    assert saved["photos"]["rest"]["photo"] is None
    assert sorted(p.name for p in saved["folder"].iterdir()) == ["rest.overlay.png",
                                                                 "smile.overlay.png"]
    assert visit_photos.image(saved["photos"]["smile"]["overlay"]).shape == (8, 8, 3)
