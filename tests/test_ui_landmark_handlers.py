"""The landmark editor's handlers without a browser (issue 19): what the editor draws, a move
graded again (a clinician's eFACE entries kept), the corrected points exported for
``fpgrade measure --landmarks``, saved with the visit, and summarised for the group by
``fpgrade corrections``."""

from __future__ import annotations

import csv
import io
import json

import pytest

from fpgrade.cli import main
from fpgrade.clinic import correction_summary
from fpgrade_ui import handlers, landmark_handlers

UP = 6.0


@pytest.fixture
def graded(shared_faces):
    return handlers.grade([None] * 7, single=str(shared_faces / "single_face.jpg"))


def _move(session) -> dict:
    editor = landmark_handlers.editor_value(session)["photos"][0]
    x, y = editor["points"]["38"]
    return {"movement": editor["movement"], "points": {**editor["points"], "38": [x, y - UP]}}


def test_the_editor_gets_each_photo_with_its_points(graded):
    value = landmark_handlers.editor_value(graded.session)
    (photo,) = value["photos"]
    assert photo["movement"] == "rest" and photo["image"].startswith("data:image/jpeg;base64,")
    assert (photo["width"], photo["height"]) == (572, 562)
    assert len(photo["points"]["iris_left"]) == 3 and "5" not in photo["points"]  # no jaw
    assert photo["points"] == photo["detected"]
    assert photo["words"]["38"] == "upper lid, right (38)" and photo["sides"]["38"] == "right"
    assert photo["sides"]["57"] == "middle" and photo["sides"]["44"] == "left"
    assert landmark_handlers.editor_value(None) is None


def test_a_move_grades_again_and_keeps_what_the_clinician_entered(graded):
    ids = [i.id for i in handlers.eface_scale().items]
    form = list(graded.eface_values)
    form[ids.index("nasolabial_fold_rest")] = 40.0  # entered by the clinician
    form[ids.index("brow_rest")] = 77.0  # a photo value the clinician overrode
    fissure_before = form[ids.index("palpebral_fissure_rest")]
    move = _move(graded.session)
    shown, message = landmark_handlers.correct(graded.session, move, form, "dr-who")
    values = dict(zip(ids, shown.eface_values))
    assert values["nasolabial_fold_rest"] == 40.0 and values["brow_rest"] == 77.0
    assert values["palpebral_fissure_rest"] != fissure_before  # follows the new eye opening
    assert "upper lid, right (38)" in message and "by dr-who" in message
    assert 'data-corrected="yes"' in shown.table and "eFACE" in shown.summary_text
    assert len(shown.gallery) == 1 and shown.session is graded.session
    assert shown.chart is not None
    quick, _ = landmark_handlers.correct(graded.session, move, form, None,
                                         chart=False)  # the page draws the chart after
    assert quick.chart is None and quick.table == shown.table
    assert landmark_handlers.chart(graded.session).shape[2] == 3
    assert landmark_handlers.chart(None) is None
    bad, text = landmark_handlers.correct(graded.session, {"movement": "smile", "points": {}},
                                          form, None)
    assert text.startswith("⚠️") and "no measured photo of 'smile'" in text


def test_the_exported_points_measure_again_to_the_pages_values(graded, capsys, shared_faces):
    shown, _ = landmark_handlers.correct(graded.session, _move(graded.session),
                                         graded.eface_values, None)
    (path,) = landmark_handlers.points_files(graded.session, "fpgrade-report")
    assert path.endswith("fpgrade-report-landmarks-rest.json")
    document = json.loads(open(path).read())
    assert document["corrections"][0]["by"] == "demo" and len(document["ibug68"]) == 68
    code = main(["measure", str(shared_faces / "single_face.jpg"), "--landmarks", path, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    page = graded.session.result.photos[0].measurements.sides["mrd1"]
    measured = json.loads(out.out)["measurements"]["mrd1"]
    assert measured["right"] == pytest.approx(page.right, abs=1e-9)
    assert measured["left"] == pytest.approx(page.left, abs=1e-9)


def test_saved_corrections_are_summarised_per_landmark_group(graded, capsys, shared_faces):
    landmark_handlers.correct(graded.session, _move(graded.session), graded.eface_values, "a")
    text, _ = handlers.save_visit(graded.session, "P001", "2026-01-10", graded.eface_values, [])
    assert text.startswith("Saved"), text
    other = handlers.grade([None] * 7, single=str(shared_faces / "single_face.jpg"))
    assert handlers.save_visit(other.session, "P002", "2026-01-10", other.eface_values,
                               [])[0].startswith("Saved")  # not corrected: counts as a photo
    stored = correction_summary.saved()
    assert sum("landmark_corrections" in m["rest"] for m in stored) == 1
    assert main(["corrections", "--csv", "-"]) == 0
    rows = {r["landmark group"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    lid = rows["upper lid"]
    assert (lid["photos saved"], lid["photos corrected"], lid["points moved"]) == ("2", "1", "1")
    assert lid["share of photos (%)"] == "50.0" and lid["corrected by"] == "a"
    assert float(lid["median distance (mm)"]) > 3
    assert rows["brow"]["photos corrected"] == "0" and rows["brow"]["median distance (mm)"] == ""


def test_the_summary_counts_photos_points_and_distances():
    def record(group, mm, by="x"):
        return {"group": group, "distance_mm": mm, "by": by}

    saved = [{"rest": {"mrd1": {}, "landmark_corrections": [record("upper lid", 1.0),
                                                             record("upper lid", 3.0),
                                                             record("iris", 0.5, "y")]},
              "smile": {"mrd1": {}}},
             {"rest": {"mrd1": {}, "landmark_corrections": [record("upper lid", 2.0, "y")]}}]
    rows = {r["landmark group"]: r for r in correction_summary.summarise(saved)}
    lid = rows["upper lid"]
    assert lid["photos saved"] == 3 and lid["photos corrected"] == 2
    assert lid["share of photos (%)"] == 66.7 and lid["points moved"] == 3
    assert (lid["median distance (mm)"], lid["mean distance (mm)"],
            lid["largest distance (mm)"]) == (2.0, 2.0, 3.0)
    assert lid["corrected by"] == "x, y" and rows["iris"]["photos corrected"] == 1
    assert correction_summary.markdown(correction_summary.summarise([])).startswith("No saved")
