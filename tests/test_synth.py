"""``fpgrade synth``: one person per synthetic subject, no silent overwrite, marked synthetic."""

from __future__ import annotations

import csv
import hashlib
import warnings

import pytest
from sqlmodel import select

from fpgrade.cli import main
from fpgrade.storage import database
from fpgrade.storage.tables import Media


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def rows(folder):
    return list(csv.DictReader(open(folder / "manifest.csv")))


def digests(folder):
    return {p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_more_subjects_than_source_people_is_refused(tmp_path, capsys):
    code, out, err = run(capsys, "synth", str(tmp_path / "s"), "--subjects", "2")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "the sources hold 1 identity (skimage astronaut)" in err
    assert not (tmp_path / "s").exists()  # nothing written


def test_each_face_of_a_group_photo_is_one_subject(shared_faces, tmp_path, capsys):
    group = str(shared_faces / "multi_face.jpg")
    code, _, err = run(capsys, "synth", str(tmp_path / "six"), "--subjects", "6", "--faces", group)
    assert code == 1 and "the sources hold 5 identities (multi_face.jpg face 1, " in err
    code, _, _ = run(capsys, "synth", str(tmp_path / "s"), "--subjects", "5", "--faces", group,
                     "--images-per-subject", "2")
    assert code == 0
    by_subject = {}
    for row in rows(tmp_path / "s"):
        by_subject.setdefault(row["subject"], set()).add(row["source"])
    assert len(by_subject) == 5 and all(len(s) == 1 for s in by_subject.values())
    assert len(set.union(*by_subject.values())) == 5  # no two subjects share a person


def test_a_video_is_one_person_whose_frames_are_its_photos(shared_faces, tmp_path, capsys):
    video = str(shared_faces / "WolfgangLanger_Pexels.mp4")
    assert run(capsys, "synth", str(tmp_path / "two"), "--subjects", "2", "--faces", video)[0] == 1
    code, _, _ = run(capsys, "synth", str(tmp_path / "s"), "--subjects", "1", "--faces", video,
                     "--images-per-subject", "3", "--scale", "palsy_binary")
    assert code == 0
    written = rows(tmp_path / "s")
    assert {r["source"] for r in written} == {"WolfgangLanger_Pexels.mp4"} and len(written) == 3


def test_synth_refuses_to_overwrite_an_existing_set(tmp_path, capsys):
    out = tmp_path / "s"
    assert run(capsys, "synth", str(out), "--subjects", "1", "--images-per-subject", "4")[0] == 0
    (out / "notes.txt").write_text("the group's own notes")
    before = digests(out)
    code, stdout, err = run(capsys, "synth", str(out), "--subjects", "1", "--seed", "5")
    assert code == 1 and stdout == "" and err.count("\n") == 1
    assert f"{out}: folder exists and is not empty; pass --overwrite" in err and "another folder" in err
    assert digests(out) == before  # manifest and images untouched

    code, _, _ = run(capsys, "synth", str(out), "--subjects", "1", "--seed", "5", "--overwrite")
    assert code == 0
    assert len(rows(out)) == 2 and sorted(p.name for p in out.glob("*/*.png")) == [
        "synthetic_0.png", "synthetic_1.png"]  # the old set is gone, the manifest matches the files
    assert (out / "notes.txt").read_text() == "the group's own notes"  # not ours: kept


def test_a_missing_faces_file_is_file_not_found(tmp_path, capsys):
    missing = tmp_path / "missing.jpg"
    code, _, err = run(capsys, "synth", str(tmp_path / "s"), "--subjects", "1", "--faces", str(missing))
    assert code == 1 and err.strip() == f"Error: {missing}: file not found"


def test_synthetic_rows_are_marked_in_the_database(tmp_path, capsys):
    assert run(capsys, "synth", str(tmp_path / "s"), "--subjects", "1")[0] == 0
    assert {r["synthetic"] for r in rows(tmp_path / "s")} == {"1"}
    assert run(capsys, "import", str(tmp_path / "s" / "manifest.csv"))[0] == 0
    with database.session() as session:
        media = session.exec(select(Media)).all()
    assert len(media) == 2 and all(m.synthetic for m in media)


def test_the_palsy_warp_raises_no_scikit_image_warning(astronaut_landmarks):
    from fpgrade.scales import Side
    from fpgrade.synth import Palsy, warp_face
    from tests.media_factory import astronaut

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warped = warp_face(astronaut(), astronaut_landmarks, Palsy(Side.RIGHT, 1.0))
    assert warped.shape == (512, 512, 3) and (warped != astronaut()).any()


def test_help_placeholders_are_written_for_people(capsys):
    for command in (["synth"], ["import"], ["db", "upgrade"], ["demo"]):
        code, out, _ = run(capsys, *command, "--help")
        assert code == 0
        for machine in ("<list[Path]>", "{out}", "{source}", "{revision}", "<int", "--scale <str>", "--host <str>"):
            assert machine not in out, (command, machine, out)
    synth_help = run(capsys, "synth", "--help")[1]
    assert "--faces PATH" in synth_help and "--subjects N" in synth_help
    assert "FOLDER" in synth_help.splitlines()[0]
