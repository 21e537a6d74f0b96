"""The clinician page's rules for one patient at a time, its words and its report (issue 18),
as plain handler calls on the real example photos (no browser; see test_ui_browser.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fpgrade.clinic import recovery, set_grades, tables
from fpgrade.clinic.movements import MOVEMENTS
from fpgrade_ui import handlers

ROOT = Path(__file__).resolve().parents[1]
NO_SET = [None] * len(MOVEMENTS)


@pytest.fixture(autouse=True)
def session_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    (tmp_path / "gradio").mkdir()


@pytest.fixture(scope="module")
def example_graded(tmp_path_factory):
    import os

    os.environ.setdefault("GRADIO_TEMP_DIR", str(tmp_path_factory.mktemp("gradio")))
    return handlers.grade(handlers.example_set())


def test_the_examples_are_copies_in_the_servers_temporary_folder(tmp_path):
    files = [f for f in handlers.example_set() if f]
    assert len(files) == 5
    for f in files:
        assert Path(f).is_relative_to(tmp_path / "gradio") and Path(f).is_file()
        assert not Path(f).is_relative_to(ROOT)
    assert Path(handlers.example_single()).is_relative_to(tmp_path / "gradio")


def test_the_examples_are_package_data_of_fpgrade_ui():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"]["fpgrade_ui"] == "ui"
    shipped = {p for g in config["package-data"]["fpgrade_ui"] for p in (ROOT / "ui").glob(g)}
    examples = {p for p in (ROOT / "ui" / "examples").rglob("*") if p.is_file()}
    assert len(examples) == 8 and examples <= shipped


def test_after_clear_nothing_of_the_last_patient_can_be_saved(example_graded):
    cleared = handlers.empty()
    assert cleared.session is None and cleared.table == "" and cleared.gallery == []
    assert all(v is None for v in cleared.eface_values)  # empty, never 0 (the worst score)
    message, ask = handlers.save_visit(cleared.session, "NEWPATIENT-9", "2026-01-10",
                                       example_graded.eface_values, [])
    assert "Grade a photo or a set first" in message and not ask
    assert recovery.history("NEWPATIENT-9") == []


def test_an_ungraded_set_is_not_saved(shared_faces):
    graded = handlers.grade(NO_SET, single=str(shared_faces / "free-mountain-vector-01.jpg"))
    assert "0 of 1 graded" in graded.notes
    message, ask = handlers.save_visit(graded.session, "P100", "2026-01-10",
                                       graded.eface_values, [])
    assert "0 of 1 photo graded" in message and not ask
    assert "0 of 1" in handlers.export(graded.session, graded.eface_values, [])[1]
    assert recovery.history("P100") == []


def test_a_future_visit_date_is_refused(example_graded):
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    message, _ = handlers.save_visit(example_graded.session, "P101", tomorrow,
                                     example_graded.eface_values, [])
    assert "is in the future" in message and recovery.history("P101") == []
    today = dt.date.today().isoformat()
    assert "Saved" in handlers.save_visit(example_graded.session, "P101", today,
                                          example_graded.eface_values, [])[0]


def test_a_second_save_of_the_same_visit_asks_then_replaces_or_keeps_both(example_graded):
    from sqlmodel import select

    from fpgrade.storage import database
    from fpgrade.storage.tables import Assessment, Subject, Visit

    values = list(example_graded.eface_values)
    assert "Saved" in handlers.save_visit(example_graded.session, "P102", "2026-02-01", values,
                                          [])[0]
    values[0] = 40.0
    message, ask = handlers.save_visit(example_graded.session, "P102", "2026-02-01", values, [])
    assert ask and "Not saved yet" in message and "already has 1 saved assessment" in message

    def saved():
        with database.session() as session:
            return session.exec(select(Assessment).join(Visit).join(Subject)
                                .where(Subject.code == "P102")).all()

    assert len(saved()) == 1
    message, ask = handlers.save_visit(example_graded.session, "P102", "2026-02-01", values, [],
                                       "replace")
    assert not ask and "replaced the earlier one" in message
    rows = saved()
    assert len(rows) == 1 and rows[0].eface["items"]["brow_rest"] == 40.0
    message, _ = handlers.save_visit(example_graded.session, "P102", "2026-02-01", values, [],
                                     "keep_both")
    assert "kept beside the earlier one" in message and len(saved()) == 2
    assert len(recovery.history("P102")) == 1  # one visit, its latest assessment


def test_the_rest_photo_that_smiles_is_warned_about_and_a_neutral_one_is_not(
        example_graded, shared_faces):
    # the healthy example volunteer's "rest" photo shows her teeth, like her smile photo
    assert "does not look like a face at rest" in example_graded.summary_text
    assert "teeth show" in example_graded.notes and "as far out as in the smile photo" in \
        example_graded.notes
    neutral = handlers.grade(NO_SET, single=str(shared_faces / "45-m7-di-ph.jpg"))
    assert neutral.session.result.rest_warning is None
    assert "does not look like a face at rest" not in neutral.summary_text


def test_the_table_is_in_words_grouped_by_movement_with_meaningful_percentages(example_graded):
    result = example_graded.session.result
    groups = tables.groups(result)
    assert [words for _, words, _ in groups] == [
        "At rest, looking straight ahead", "Raise the eyebrows", "Close the eyes gently",
        "Wrinkle the nose", "Smile showing the teeth"]
    closed = {r.id: r for r in dict((k, rows) for k, _, rows in groups)["close_eyes_gently"]}
    # MRD1 -0.04 vs 0.19 mm: no 120 % asymmetry; the flag stands beside the value
    assert closed["mrd1"].percent is None and "eye closed" in closed["mrd1"].flags
    assert closed["smile_angle"].percent is None  # degrees: no percentage
    rest = {r.id: r for r in groups[0][2]}
    assert rest["mrd1"].percent is not None and "Rana et al." in rest["mrd1"].normal
    assert "no normative data used" in rest["brow_height"].normal
    html = example_graded.table
    assert html.count("<details") == 5 and "close_eyes_gently" not in html.split(
        "data-movement")[0]
    for code in (">rest<", ">mrd1<", "sided7", "palpebral_fissure_height<"):
        assert code not in html


def test_each_open_page_counts_its_own_patients():
    from fpgrade_ui.clinician_page import _Patients

    patients = _Patients()
    assert patients.current("page-a") == patients.current("page-b") == 0
    patients.next("page-a")  # Clear on page a: a grading that started before shows nothing
    assert patients.current("page-a") == 1 and patients.current("page-b") == 0


def test_the_eface_notes_follow_the_clinicians_edits(example_graded):
    ids = [i.id for i in handlers.eface_scale().items]
    values = list(example_graded.eface_values)
    assert values[ids.index("brow_elevation")] is None
    assert "Brow elevation: no movement on the healthy side" in example_graded.eface_text
    values[ids.index("brow_elevation")] = 80.0
    values[ids.index("brow_rest")] = 60.0
    text, _, _ = handlers.update_scores(example_graded.session, values, [])
    assert "Brow elevation: no movement" not in text
    assert "Brow elevation (80 entered)" in text and "Brow at rest (100 from the photos, 60 " \
        "entered)" in text


def test_the_set_grade_is_the_mean_of_the_photos_probabilities():
    entry = {"status": "graded", "photos": {
        "rest": {"label": "R1", "probabilities": {"N": 0.1, "R1": 0.5, "L1": 0.4}},
        "smile": {"label": "L1", "probabilities": {"N": 0.1, "R1": 0.1, "L1": 0.8}},
        "pucker": {"error": "no face"}}}
    combined = set_grades.combine(entry)
    assert combined["label"] == "L1" and combined["photos"] == 2
    assert combined["probability"] == pytest.approx(0.6)
    assert set_grades.combine({"photos": {"rest": {"error": "x"}}}) is None
    assert set_grades.level_words("sided7", "L1") == "L1 (left mild dysfunction)"


def test_the_pdf_of_the_five_photo_set_has_every_photo_and_every_item(example_graded):
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    sunny = [None] * len(handlers.sunnybrook_scale().items)
    sunny[0] = "1: narrow"
    files, message = handlers.export(example_graded.session, example_graded.eface_values, sunny,
                                     "P103", "2026-01-10", "Retake the rest photo.", "Dr Example")
    pdf = pypdfium2.PdfDocument(files[0])
    images = sum(len(list(pdf[i].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])))
                 for i in range(len(pdf)))
    first = len(list(pdf[0].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])))
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    pdf.close()
    assert first == 5 and images == 6  # the five photos, then the regional chart
    assert "Photos graded (5 of 5)" in text
    for m in MOVEMENTS[:3] + MOVEMENTS[4:6]:
        assert m.instruction in text
    for item in (*handlers.eface_scale().items, *handlers.sunnybrook_scale().items):
        assert item.name in text, item.name
    for words in ("MRD1", "Eye opening", "Dental show", "Lower-lip height difference",
                  "Rana et al.", "eFACE total", "Sunnybrook composite", "0-100", "20-100",
                  "Retake the rest photo.", "Clinician: Dr Example", "Signature", "narrow",
                  "does not look like a face at rest", "Decision support, not a diagnosis",
                  "mean of the class probabilities"):
        assert words in text, words
    for code in ("close_eyes_gently", "palpebral_fissure_height", "sided7"):
        assert code not in text


def test_a_video_is_not_called_one_photo(shared_faces):
    graded = handlers.grade(NO_SET, video=str(shared_faces / "single_face.mp4"))
    assert "1th" not in graded.notes and "estimated from one photo" not in graded.summary_text
    assert "one video" in graded.summary_text
    photo = handlers.grade(NO_SET, single=str(shared_faces / "single_face.jpg"))
    assert "estimated from one photo" in photo.summary_text and "image" not in photo.summary_text
