"""Hand correction of landmarks (issue 19) without a browser: the set graded again from corrected
points by the detector's own code, the record of what moved, the exports, and
``fpgrade measure --landmarks``."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from fpgrade.cli import main
from fpgrade.clinic import corrections, report, tables
from fpgrade.clinic.assess import grade_set, measure_points
from fpgrade.face import landmark_file
from fpgrade.face.measure import measure_face

UP = 6.0  # pixels the right upper lid is raised by hand


@pytest.fixture(scope="module")
def graded(shared_faces_module):
    return grade_set({"rest": shared_faces_module / "single_face.jpg"})


@pytest.fixture(scope="module")
def shared_faces_module():
    from tests.conftest import SHARED_FACES

    if not SHARED_FACES.is_dir():
        pytest.skip(f"real test media not found at {SHARED_FACES}")
    return SHARED_FACES


def _raised(photo) -> dict:
    points = corrections.editable_points(photo.landmarks)
    return {k: [points[k][0], points[k][1] - UP] for k in ("37", "38")}


def test_a_raised_lid_is_measured_by_the_detectors_code_and_recorded(graded):
    photo = graded.photos[0]
    before = photo.measurements
    result = corrections.correct(graded, "rest", _raised(photo), by="dr-who",
                                 at="2026-01-01T10:00:00+00:00")
    after = result.photos[0]
    # the same function as grading, on the moved points: no second formula
    expected = measure_points(landmark_file.with_points(photo.landmarks, _raised(photo)))
    assert after.measurements.sides["mrd1"] == expected.sides["mrd1"]
    assert after.measurements.sides["mrd1"].right > before.sides["mrd1"].right + 2  # mm
    assert after.measurements.sides["mrd1"].left == before.sides["mrd1"].left
    assert after.measurements.sides["brow_height"] == before.sides["brow_height"]
    # the eFACE item reading the eye opening at rest follows
    assert (result.eface_items["palpebral_fissure_rest"]["value"]
            != graded.eface_items["palpebral_fissure_rest"]["value"])
    records = {r["point"]: r for r in after.corrections}
    assert set(records) == {"37", "38"}
    r = records["38"]
    assert r["by"] == "dr-who" and r["at"] == "2026-01-01T10:00:00+00:00"
    assert r["group"] == "upper lid" and r["words"] == "upper lid, right (38)"
    assert r["distance_px"] == pytest.approx(UP, abs=0.01)
    assert r["distance_mm"] == pytest.approx(UP * after.measurements.mm_per_px, abs=0.01)
    assert r["to"][1] == pytest.approx(r["from"][1] - UP, abs=0.02)
    assert corrections.affected(after.corrections) == {
        "mrd1_right": ["37", "38"], "palpebral_fissure_height_right": ["37", "38"]}
    # the detector's points are kept: the original set is unchanged
    assert graded.photos[0].corrections == [] and graded.photos[0].measurements is before


def test_moving_a_point_back_is_no_correction_and_an_earlier_record_is_kept(graded):
    photo = graded.photos[0]
    points = corrections.editable_points(photo.landmarks)
    once = corrections.correct(graded, "rest", _raised(photo), by="a", at="t1")
    lower_lip = {"57": [points["57"][0], points["57"][1] + 3]}
    twice = corrections.correct(once, "rest", lower_lip, by="b", at="t2")
    records = {r["point"]: (r["by"], r["at"]) for r in twice.photos[0].corrections}
    assert records == {"37": ("a", "t1"), "38": ("a", "t1"), "57": ("b", "t2")}
    back = corrections.correct(twice, "rest", {k: points[k] for k in ("37", "38", "57")})
    assert back.photos[0].corrections == [] and back.photos[0].corrected is None
    assert back.photos[0].measurements == photo.measurements


def test_a_point_not_measured_or_a_bad_value_is_refused(graded):
    with pytest.raises(corrections.CorrectionError, match="cannot be moved by hand"):
        corrections.correct(graded, "rest", {"5": [1, 2]})  # a jaw point: no measurement reads it
    with pytest.raises(landmark_file.LandmarksFileError, match=r"iris_left: the radius must be"):
        corrections.correct(graded, "rest", {"iris_left": [100, 100, 0]})
    with pytest.raises(corrections.CorrectionError, match="no measured photo of 'smile'"):
        corrections.correct(graded, "smile", {"38": [1, 2]})


def test_the_exports_say_which_points_moved_and_flag_the_values(graded, tmp_path):
    result = corrections.correct(graded, "rest", _raised(graded.photos[0]), by="dr-who")
    eface = {"items": {}, "scores": {}}
    rows = list(csv.reader(io.StringIO(report.to_csv(result, eface, {"items": {}}, {}))))
    header = rows[0]
    column = header.index("landmarks corrected by hand")
    flagged = {r[2]: r[column] for r in rows[1:] if r[0] == "measurement" and r[column]}
    assert sorted(k.rsplit("[", 1)[1] for k in flagged) == ["mrd1]", "palpebral_fissure_height]"]
    assert all(v == "upper lid, right (37), upper lid, right (38)" for v in flagged.values())
    data = report.payload(result, eface, {}, {}, "summary", subject="P1", visit="2026-01-01")
    assert data["photos"][0]["landmark_corrections"][0]["by"] == "dr-who"
    assert data["landmarks_corrected_by_hand"][0].startswith(
        "Landmarks corrected by hand (At rest")
    assert "upper lid, right (38)" in data["landmarks_corrected_by_hand"][0]
    page = tables.html(result)
    assert page.count('data-corrected="yes"') == 2
    assert ">landmarks corrected by hand: upper lid, right (37), upper lid, right (38)<" in page


def test_the_pdf_has_the_correction_line_and_the_new_mrd1(graded, tmp_path):
    import pypdfium2

    result = corrections.correct(graded, "rest", _raised(graded.photos[0]), by="dr-who")
    data = report.payload(result, {"items": {}, "scores": {}}, {}, {}, "summary")
    path = report.write_pdf(tmp_path / "r.pdf", result, data)
    pdf = pypdfium2.PdfDocument(str(path))
    text = " ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    text = " ".join(text.split())
    assert "Landmarks corrected by hand (At rest" in text and "by dr-who" in text
    mrd1 = result.photos[0].measurements.sides["mrd1"]
    assert f"MRD1 {mrd1.right:.2f} {mrd1.left:.2f}" in text


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_measure_with_all_points_gives_the_detectors_values_and_changed_points_move_them(
        shared_faces_module, tmp_path, capsys):
    from fpgrade.face.analysis import analyse_photo

    photo = shared_faces_module / "single_face.jpg"
    rgb, detected = analyse_photo(photo)
    size = (rgb.shape[1], rgb.shape[0])
    full = tmp_path / "all.json"
    full.write_text(json.dumps(landmark_file.document(detected, image=photo.name, size=size)))
    code, out, err = run(capsys, "measure", str(photo), "--landmarks", str(full), "--json")
    assert code == 0, err
    mrd1 = json.loads(out)["measurements"]["mrd1"]
    plain = measure_face(detected).sides["mrd1"]
    assert mrd1["right"] == pytest.approx(plain.right, abs=1e-9)
    assert mrd1["left"] == pytest.approx(plain.left, abs=1e-9)
    x, y = landmark_file.points_of(detected)["38"]
    sparse = tmp_path / "changed.json"
    sparse.write_text(json.dumps({"changed": {"38": [x, y - UP]}}))
    code, out, err = run(capsys, "measure", str(photo), "--landmarks", str(sparse), "--json")
    assert code == 0, err
    moved = json.loads(out)
    assert moved["measurements"]["mrd1"]["right"] > plain.right + 1
    assert moved["measurements"]["mrd1"]["left"] == pytest.approx(plain.left, abs=1e-9)
    assert moved["landmarks_from"] == str(sparse)


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "not JSON (Expecting value, line 1)"),
    ("[1, 2]", "expected a JSON object with 'ibug68', 'changed' or 'mesh', got list"),
    ('{"ibug68": [[1, 2]], "iris_right": [1, 2, 3], "iris_left": [4, 5, 6]}',
     "'ibug68' must list 68 points [x, y], got 1"),
    ('{"changed": {"38": [1]}}', "point 38: expected [x, y] as 2 numbers, got [1]"),
    ('{"changed": {"99": [1, 2]}}',
     "unknown point '99' (iBUG indices 0-67, iris_right or iris_left)"),
    ('{"changed": {}, "width": 10, "height": 10}', "the points are of a 10 x 10 picture, the "
     "photo is 572 x 562"),
])
def test_a_bad_points_file_is_one_line_naming_it(shared_faces_module, tmp_path, capsys, content,
                                                 message):
    bad = tmp_path / "points.json"
    bad.write_text(content)
    code, out, err = run(capsys, "measure", str(shared_faces_module / "single_face.jpg"),
                         "--landmarks", str(bad))
    assert code == 1 and out == ""
    assert err.strip() == f"Error: {bad}: {message}"


def test_a_mesh_file_is_read_as_the_detector_maps_its_mesh(tmp_path):
    from fpgrade.face.detect import landmarks_from_mesh

    rng = np.random.default_rng(0)
    mesh = rng.uniform(100, 400, size=(478, 2))
    path = tmp_path / "mesh.json"
    path.write_text(json.dumps({"mesh": mesh.tolist()}))
    read = landmark_file.read(path)
    expected = landmarks_from_mesh(np.column_stack([mesh, np.zeros(478)]))
    assert np.array_equal(read.ibug68, expected.ibug68)
    assert read.iris_left == expected.iris_left


def test_points_of_a_video_or_of_many_files_are_refused(shared_faces_module, tmp_path, capsys):
    points = tmp_path / "points.json"
    points.write_text('{"changed": {}}')
    video = shared_faces_module / "single_face.mp4"
    code, out, err = run(capsys, "measure", str(video), "--landmarks", str(points))
    assert code == 1 and err.strip() == (f"Error: {video}: --landmarks needs a photo (a video's "
                                         "frames each have their own landmarks)")
    code, out, err = run(capsys, "measure", str(shared_faces_module), "--landmarks", str(points))
    assert code == 1 and "--landmarks gives the points of one photo" in err


def test_a_larger_iris_changes_the_ruler_and_marks_every_millimetre_value(graded):
    photo = graded.photos[0]
    x, y, radius = corrections.editable_points(photo.landmarks)["iris_left"]
    result = corrections.correct(graded, "rest", {"iris_left": [x, y, radius + 2]}, by="a")
    after = result.photos[0]
    (record,) = after.corrections
    assert record["point"] == "iris_left" and record["radius_change_px"] == pytest.approx(2)
    assert record["distance_px"] == 0 and record["words"] == "iris, left"
    assert after.measurements.mm_per_px < photo.measurements.mm_per_px  # a larger ruler
    flagged = corrections.affected(after.corrections)
    assert "brow_height_right" in flagged and "commissure_height_deviation" in flagged
    assert "radius +2.0 px" in corrections.line("At rest", after.corrections)


def test_a_point_far_off_the_face_or_a_huge_iris_is_refused_and_nothing_changes(graded):
    photo = graded.photos[0]
    points = corrections.editable_points(photo.landmarks)
    for moved, said in (({"36": [-50000, 99999]}, "away from the face"),
                        ({"iris_left": [*points["iris_left"][:2], 2e9]}, "over half the face")):
        with pytest.raises(corrections.CorrectionError, match=said):
            corrections.correct(graded, "rest", moved)
    assert photo.corrections == [] or not photo.corrections
