"""Dataset import: good rows kept, bad rows reported with line and reason, re-runs change nothing."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from fpgrade.errors import FpgradeError
from fpgrade.importer import import_folder, import_manifest, manifest_items
from fpgrade.storage import database
from fpgrade.storage.tables import Annotation, Media, MediaKind, Subject, Visit
from tests.media_factory import astronaut, write_image, write_video


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def dataset(tmp_path) -> Path:
    media = tmp_path / "media"
    write_image(media / "p01_rest.jpg")
    write_image(media / "p01_smile.png", astronaut()[:, ::-1].copy())
    shutil.copy(media / "p01_rest.jpg", media / "p01_rest_copy.jpg")  # same bytes
    write_video(media / "p02_smile.mp4")
    (media / "notes.jpg").write_text("this is a text file, not a photo")
    return media


def manifest(tmp_path: Path) -> Path:
    header = ["subject", "path", "movement", "scale", "label", "annotator"]
    return write_csv(tmp_path / "manifest.csv", header, [
        ["P01", "media/p01_rest.jpg", "MV0", "house_brackmann", "III", "dr_a"],      # 2 good
        ["P01", "media/p01_smile.png", "MV4", "sided7", "L2", "dr_a"],              # 3 good
        ["P02", "media/p02_smile.mp4", "MV4", "house_brackmann", "2", ""],          # 4 good
        ["P03", "media/missing.jpg", "MV0", "house_brackmann", "I", "dr_a"],        # 5 missing
        ["P03", "media/notes.jpg", "MV0", "house_brackmann", "I", "dr_a"],          # 6 not media
        ["P01", "media/p01_rest.jpg", "MV0", "house_brackmann", "VII", "dr_b"],     # 7 bad label
        ["P01", "media/p01_rest.jpg", "MV0", "hb_scale", "III", "dr_b"],            # 8 bad scale
        ["P01", "media/p01_rest_copy.jpg", "MV0", "house_brackmann", "III", "dr_c"],# 9 dup file
        ["P04", "media/p01_rest.jpg", "MV0", "", "", ""],                           # 10 other subj
        ["P01", "media/p01_rest.jpg", "MV0", "house_brackmann", "", "dr_d"],        # 11 no label
    ])


def counts(session) -> dict[str, int]:
    return {
        table.__name__: len(session.exec(select(table)).all())
        for table in (Subject, Visit, Media, Annotation)
    }


def test_manifest_keeps_good_rows_reports_bad_ones_and_is_idempotent(tmp_path, dataset, registry):
    path = manifest(tmp_path)
    with database.session() as session:
        report = import_manifest(path, session=session, registry=registry)
    assert (report.rows, report.media_added, report.annotations_added) == (10, 3, 4)
    reasons = {int(e.origin.rsplit(":", 1)[1]): e.reason for e in report.errors}
    assert sorted(reasons) == [5, 6, 7, 8, 10, 11]
    assert reasons[5].endswith("missing.jpg: file not found")
    assert "notes.jpg: not an image or a video" in reasons[6]
    assert reasons[7].startswith("label 'VII' is not in scale 'house_brackmann'")
    assert reasons[8].startswith("unknown scale 'hb_scale'")
    assert "of subject 'P01', not 'P04'" in reasons[10]
    assert reasons[11] == "scale and label must be given together"
    assert all(str(path) in e.origin for e in report.errors)

    with database.session() as session:
        before = counts(session)
        assert before == {"Subject": 2, "Visit": 2, "Media": 3, "Annotation": 4}
        video = session.exec(select(Media).where(Media.kind == MediaKind.VIDEO)).one()
        assert video.frames == 12 and video.movement == "MV4"
        hb = session.exec(select(Annotation).where(Annotation.annotator == "import")).one()
        assert hb.label == "II"  # "2" normalised to the canonical code
        copy = session.exec(select(Annotation).where(Annotation.annotator == "dr_c")).one()
        assert copy.media_id == session.exec(select(Media).where(Media.movement == "MV0")).one().id

        again = import_manifest(path, session=session, registry=registry)
        assert not again.changed and again.unchanged == 4
        assert counts(session) == before


def test_a_conflicting_label_is_refused_and_the_stored_one_kept(tmp_path, dataset, registry):
    header = ["subject", "path", "movement", "scale", "label", "annotator"]
    first = write_csv(tmp_path / "a.csv", header, [["P01", "media/p01_rest.jpg", "MV0", "sided7", "L1", "x"]])
    second = write_csv(tmp_path / "b.csv", header, [["P01", "media/p01_rest.jpg", "MV0", "sided7", "R3", "x"]])
    with database.session() as session:
        import_manifest(first, session=session, registry=registry)
        report = import_manifest(second, session=session, registry=registry)
        assert "conflicts with the stored label 'L1'" in report.errors[0].reason
        assert session.exec(select(Annotation.label)).all() == ["L1"]


def test_a_manifest_without_required_columns_is_refused(tmp_path, registry):
    path = write_csv(tmp_path / "m.csv", ["subject", "file"], [["P1", "x.jpg"]])
    with database.session() as session, pytest.raises(FpgradeError, match=r"m.csv: missing column"):
        import_manifest(path, session=session, registry=registry)


def test_folder_layout_with_labels(tmp_path, registry):
    root = tmp_path / "study"
    write_image(root / "S1" / "MV0.jpg")
    write_image(root / "S1" / "MV4.png", astronaut()[::-1].copy())
    write_video(root / "S2" / "MV4.mp4")
    labels = write_csv(tmp_path / "labels.csv", ["subject", "movement", "scale", "label", "annotator"], [
        ["S1", "", "house_brackmann", "IV", "dr_a"],      # all of S1's files
        ["S2", "MV4", "mouth_motion", "smile", "dr_a"],
        ["S2", "MV9", "house_brackmann", "I", "dr_a"],    # no such file
        ["S3", "", "house_brackmann", "I", "dr_a"],       # no such subject
    ])
    with database.session() as session:
        report = import_folder(root, labels, session=session, registry=registry)
        assert (report.media_added, report.annotations_added) == (3, 3)
        assert [e.origin.rsplit(":", 1)[1] for e in report.errors] == ["4", "5"]
        assert "no file matches" in report.errors[0].reason
        assert {m.movement for m in session.exec(select(Media)).all()} == {"MV0", "MV4"}
        again = import_folder(root, labels, session=session, registry=registry)
        assert not again.changed


def test_real_photos_and_videos_from_shared_media(tmp_path, shared_faces, registry):
    rows = [
        ["A", str(shared_faces / "single_face.jpg"), "MV0", "palsy_binary", "normal"],
        ["A", str(shared_faces / "single_face.mp4"), "MV0", "palsy_binary", "normal"],
        ["B", str(shared_faces / "Image_with_alpha.png"), "MV0", "", ""],
        ["B", str(shared_faces / "BWPictureHuman.jpg"), "MV1", "", ""],
    ]
    path = write_csv(tmp_path / "m.csv", ["subject", "path", "movement", "scale", "label"], rows)
    with database.session() as session:
        report = import_manifest(path, session=session, registry=registry)
    assert report.errors == [] and report.media_added == 4


def test_a_truncated_video_or_empty_file_is_refused(tmp_path, registry):
    video = write_video(tmp_path / "v.mp4")
    (tmp_path / "cut.mp4").write_bytes(video.read_bytes()[:200])
    (tmp_path / "empty.jpg").write_bytes(b"")
    path = write_csv(tmp_path / "m.csv", ["subject", "path", "movement", "scale", "label"], [
        ["A", "cut.mp4", "MV0", "", ""], ["A", "empty.jpg", "MV0", "", ""],
    ])
    with database.session() as session:
        report = import_manifest(path, session=session, registry=registry)
    assert "cut.mp4: not an image or a video" in report.errors[0].reason
    assert report.errors[1].reason.endswith("empty.jpg: empty file")


def test_the_synthetic_column_marks_media(tmp_path, registry):
    write_image(tmp_path / "real.jpg")
    write_image(tmp_path / "synth.png", astronaut()[:, ::-1].copy())
    write_image(tmp_path / "other.png", astronaut()[::-1].copy())
    path = write_csv(tmp_path / "m.csv", ["subject", "path", "movement", "scale", "label", "synthetic"], [
        ["R1", "real.jpg", "MV0", "sided7", "N", ""],
        ["S1", "synth.png", "MV0", "sided7", "L2", "1"],
        ["S2", "other.png", "MV0", "sided7", "L2", "maybe"],
    ])
    items = list(manifest_items(path))
    assert [getattr(i, "synthetic", None) for i in items[:2]] == [False, True]
    with database.session() as session:
        report = import_manifest(path, session=session, registry=registry)
        assert report.media_added == 2
        assert report.errors[0].reason == "synthetic 'maybe' is not 1/0 (or yes/no, true/false)"
        marks = {m.path.rsplit("/", 1)[1]: m.synthetic for m in session.exec(select(Media)).all()}
        assert marks == {"real.jpg": False, "synth.png": True}


def test_the_same_file_as_real_and_as_synthetic_is_refused(tmp_path, registry):
    write_image(tmp_path / "a.png")
    header = ["subject", "path", "movement", "scale", "label", "synthetic"]
    first = write_csv(tmp_path / "a.csv", header, [["S1", "a.png", "MV0", "", "", "1"]])
    second = write_csv(tmp_path / "b.csv", header, [["S1", "a.png", "MV0", "", "", "0"]])
    with database.session() as session:
        import_manifest(first, session=session, registry=registry)
        report = import_manifest(second, session=session, registry=registry)
    assert "stored as synthetic data, not real" in report.errors[0].reason


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_manifest_with_another_delimiter_says_so(tmp_path, registry, delimiter):
    path = tmp_path / "m.csv"
    path.write_text(delimiter.join(["subject", "path", "movement", "scale", "label"]) + "\n"
                    + delimiter.join(["P1", "a.jpg", "MV0", "sided7", "N"]) + "\n")
    with database.session() as session, pytest.raises(FpgradeError) as caught:
        import_manifest(path, session=session, registry=registry)
    message = str(caught.value)
    assert message.startswith(f"{path}: the delimiter looks wrong") and repr(delimiter) in message
    assert "missing column" not in message


def test_rows_are_written_in_batches_and_every_batch_is_kept(tmp_path, registry):
    from fpgrade.importer import Importer

    rows = []
    for i in range(7):
        rgb = astronaut()[:64, :64].copy()
        rgb[0, 0] = (i, i, i)
        write_image(tmp_path / f"{i}.png", rgb)
        rows.append([f"P{i % 3}", f"{i}.png", "MV0", "sided7", "X9" if i == 4 else "N"])
    path = write_csv(tmp_path / "m.csv", ["subject", "path", "movement", "scale", "label"], rows)
    with database.session() as session:
        report = Importer(session, registry, batch_rows=2).run(manifest_items(path), "test")
        assert (report.rows, report.media_added, report.annotations_added) == (7, 6, 6)
        assert [e.origin.rsplit(":", 1)[1] for e in report.errors] == ["6"]
        assert counts(session) == {"Subject": 3, "Visit": 3, "Media": 6, "Annotation": 6}


def test_a_folder_without_the_expected_layout_says_which_layout_it_expected(tmp_path, capsys):
    """A flat folder of photos (issue 21) is not "0 rows ... 0 refused" with exit 0: one line says
    the layout expected, with an example, and how to measure the files as they are."""
    from fpgrade.cli import main

    flat = tmp_path / "photos"
    write_image(flat / "a.jpg")
    write_image(flat / "b.jpg")
    assert main(["import", str(flat)]) == 1
    err = capsys.readouterr().err
    assert "nothing to import (found 2 file(s) directly in it and none in sub-folders)" in err
    assert f"{flat / 'S001' / 'MV1.jpg'}" in err and "fpgrade measure" in err
    (tmp_path / "empty").mkdir()
    assert main(["import", str(tmp_path / "empty")]) == 1
    assert "found no file in its sub-folders" in capsys.readouterr().err
