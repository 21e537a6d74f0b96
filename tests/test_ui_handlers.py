"""The clinician page's handlers as plain functions: grading, bad input, model versions, export,
saving visits, and the server's address rule (no browser here; see test_ui_browser.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fpgrade.clinic.movements import MOVEMENTS
from fpgrade_ui import handlers

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT / "build" / "test-artefacts"
NO_SET = [None] * len(MOVEMENTS)


@pytest.fixture(autouse=True)
def session_folders(tmp_path, monkeypatch):
    """Report files go where the server's temporary folder would be (removed with it)."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    (tmp_path / "gradio").mkdir()


def slots(**files):
    return [str(files[m.key]) if m.key in files else None for m in MOVEMENTS]


def test_one_photo_gives_overlay_table_eface_items_and_says_no_model_is_trained():
    graded = handlers.grade(NO_SET, single=handlers.example_single())
    assert len(graded.gallery) == 1 and graded.gallery[0][0].ndim == 3
    assert "Brow height (iris centre to eyebrow)" in graded.table and "MRD1" in graded.table
    assert graded.chart is not None and graded.chart.shape[2] == 3
    values = dict(zip([i.id for i in handlers.eface_scale().items], graded.eface_values))
    assert values["brow_rest"] is not None and values["brow_elevation"] is None
    assert "static" in graded.eface_text and "not a trained network" in graded.eface_text
    assert "No trained model for sided7" in graded.grades_text
    assert "fpgrade train" in graded.grades_text
    assert "Weaker side" in graded.summary_text and "not a diagnosis" in graded.summary_text
    assert "would add" in graded.notes  # the six missing movements


def test_the_example_set_is_graded_with_its_dynamic_items():
    progress = []
    graded = handlers.grade(handlers.example_set(), progress=lambda f, t: progress.append(f))
    values = dict(zip([i.id for i in handlers.eface_scale().items], graded.eface_values))
    assert values["gentle_eye_closure"] is not None and values["oral_commissure_smile"] is not None
    # the set has a raise-brows photo: brow elevation is scored, or says why it is not (this
    # volunteer's healthy brow barely lifts), never silently empty
    assert values["brow_elevation"] is not None or (
        "Brow elevation: no movement on the healthy side" in graded.eface_text)
    assert "Full eye closure: needs the 'close eyes tightly' photo" in graded.eface_text
    assert len(graded.gallery) == 5 and progress and all(0 <= f < 1 for f in progress)
    assert "Pucker the lips" in graded.notes


def test_bad_files_are_readable_messages_and_the_rest_of_the_set_is_graded(
        tmp_path, shared_faces, monkeypatch):
    (tmp_path / "notes.txt").write_text("not a picture")
    damaged = tmp_path / "damaged.jpg"
    damaged.write_bytes((shared_faces / "single_face.jpg").read_bytes()[:2000])
    graded = handlers.grade(slots(rest=shared_faces / "single_face.jpg",
                                  raise_brows=tmp_path / "notes.txt",
                                  close_eyes_gently=damaged,
                                  close_eyes_tightly=shared_faces / "free-mountain-vector-01.jpg",
                                  wrinkle_nose=shared_faces / "multi_face.jpg",
                                  pucker=shared_faces / "no_face.mp4"))
    notes = graded.notes
    assert "notes.txt" in notes and "damaged.jpg" in notes
    assert "no face" in notes.lower() and "several faces" in notes
    assert str(tmp_path) not in notes  # the temporary upload path is not shown
    assert len(graded.gallery) == 2  # rest and the group photo (largest face)
    assert "3 of 6 graded" not in notes and "2 of 6 graded" in notes


def test_a_huge_image_is_refused_by_its_size(tmp_path, monkeypatch, shared_faces):
    from fpgrade.settings import get_settings

    monkeypatch.setenv("FPGRADE_MAX_IMAGE_PIXELS", "10000")
    get_settings.cache_clear()
    graded = handlers.grade(NO_SET, single=str(shared_faces / "BWPictureHuman.jpg"))
    assert "pixel" in graded.notes and graded.gallery == []


def test_a_model_whose_weight_file_is_gone_is_said_so_and_nothing_is_graded_with_it(tmp_path):
    from fpgrade.clinic.models import grades_for_set
    from fpgrade.registry import get_registry
    from fpgrade.storage import database
    from fpgrade.storage.tables import ModelVersion

    weights = tmp_path / "best.safetensors"
    weights.write_bytes(b"x" * 100)
    with database.session() as session:
        session.add(ModelVersion(model_id="idfnp", version="idfnp-aaaaaaaaaaaa", scale="sided7",
                                 weights_sha256="a" * 64, weights_path=str(tmp_path / "gone")))
        session.add(ModelVersion(model_id="idfnp", version="idfnp-bbbbbbbbbbbb",
                                 scale="house_brackmann", weights_sha256="b" * 64,
                                 weights_path=str(weights)))
        session.commit()
    grades = grades_for_set(get_registry(), {"rest": handlers.example_single()})
    assert grades["sided7"]["status"] == "unavailable"
    assert "weight file" in grades["sided7"]["message"] and "is gone" in grades["sided7"]["message"]
    assert "has changed since training" in grades["house_brackmann"]["message"]
    assert grades["severity3"]["status"] == "no_model"


def test_export_writes_a_pdf_csv_and_json_and_the_pdf_renders(tmp_path):
    import pypdfium2

    graded = handlers.grade(handlers.example_set())
    files, message = handlers.export(graded.session, graded.eface_values, [], "P001", "2026-01-10")
    assert "PDF" in message and [Path(f).suffix for f in files] == [".pdf", ".csv", ".json"]
    data = json.loads(Path(files[2]).read_text())
    assert data["subject"] == "P001" and data["eface"]["scores"]["total"] is not None
    assert "not a diagnosis" in data["disclaimer"]
    csv_text = Path(files[1]).read_text()
    assert ('"At rest, looking straight ahead [rest]",Brow height (iris centre to eyebrow) '
            '[brow_height]') in csv_text
    assert "MRD1 (margin-reflex distance 1" in csv_text and "[mrd1]" in csv_text
    pdf = pypdfium2.PdfDocument(files[0])
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "Decision support, not a diagnosis" in text and "7-class side-aware" in text
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    pdf[0].render(scale=1.5).to_pil().save(ARTEFACTS / "report_pdf.png")
    pdf.close()
    shutil.copy(files[0], ARTEFACTS / "report.pdf")
    _, refused = handlers.export(graded.session, graded.eface_values, [], "John Smith", "")
    assert "never the patient's name" in refused


def test_two_saved_visits_make_a_recovery_view():
    graded = handlers.grade(handlers.example_set())
    values = list(graded.eface_values)
    assert "Saved" in handlers.save_visit(graded.session, "P002", "2026-01-10", values, [])[0]
    values[0] = 50.0  # the clinician edits an item before saving the second visit
    sunny = [None] * len(handlers.sunnybrook_scale().items)
    sunny[0] = "1: narrow"
    assert "Saved" in handlers.save_visit(graded.session, "P002", "2026-03-10", values, sunny)[0]
    plot, rows, text = handlers.subject_view("P002")
    assert plot is not None and len(rows) == 2 and "2 visit(s)" in text
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    Image.fromarray(plot).save(ARTEFACTS / "recovery_plot.png")
    assert rows[0][0] == "2026-01-10" and rows[1][1] < rows[0][1]
    assert "⚠️" in handlers.save_visit(graded.session, "Jane Doe", "2026-03-10", values, [])[0]
    assert "YYYY-MM-DD" in handlers.save_visit(graded.session, "P002", "10/03/2026", values,
                                               [])[0]
    assert handlers.subject_view("P404")[2].startswith("No saved visit")


def test_nothing_given_asks_for_a_photo():
    graded = handlers.grade(NO_SET)
    assert "at least one photo" in graded.notes and graded.session.result is None
    assert "Grade a photo" in handlers.export(graded.session, [], [])[1]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_a_non_loopback_address_is_refused_in_one_line(host, capsys):
    from fpgrade.cli import main

    assert main(["demo", "--host", host]) == 1
    err = capsys.readouterr().err
    assert "refusing to serve the clinician page on" in err and "without a login" in err
    assert "--login" in err and err.count("\n") == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_addresses_need_no_login(host):
    from fpgrade.cli.serve import check_host, is_loopback

    assert is_loopback(host)
    check_host(host, login=False)


def test_a_single_photo_never_silently_replaces_a_photo_of_the_set(shared_faces):
    graded = handlers.grade(handlers.example_set(), single=str(shared_faces / "single_face.jpg"),
                            single_movement="rest")
    assert "was not graded: the set already has a photo of that movement" in graded.notes
    rest = next(p for p in graded.session.result.photos if p.movement == "rest")
    assert rest.name == "rest.jpg"
    graded = handlers.grade(NO_SET, single=str(shared_faces / "single_face.jpg"),
                            video=str(shared_faces / "single_face.mp4"), single_movement="smile")
    assert "The video was not graded" in graded.notes
    assert [p.movement for p in graded.session.result.photos] == ["smile"]


def test_a_video_is_graded_over_its_frames(shared_faces):
    graded = handlers.grade(NO_SET, video=str(shared_faces / "single_face.mp4"))
    assert "video: median over" in graded.notes and len(graded.gallery) == 1
