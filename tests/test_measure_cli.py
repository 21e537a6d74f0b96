"""``fpgrade measure`` on photos and videos, JSON and overlay, and its bad-input errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from fpgrade.cli import main
from tests.media_factory import write_image, write_video


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_measure_a_photo_as_json_with_overlay(tmp_path, capsys):
    photo = write_image(tmp_path / "astronaut.png")
    overlay = tmp_path / "overlay.png"
    code, out, err = run(capsys, "measure", str(photo), "--json", "--overlay", str(overlay))
    assert code == 0, err
    data = json.loads(out)
    assert data["kind"] == "image" and data["faces_found"] == 1
    mrd1 = data["measurements"]["mrd1"]
    assert set(mrd1) >= {"left", "right", "unit"} and mrd1["unit"] == "mm"
    assert {"RgAs", "AnAs"} <= set(data["asymmetry"])
    picture = np.asarray(Image.open(overlay))
    original = np.asarray(Image.open(photo))
    assert picture.shape == original.shape
    changed = np.argwhere((picture != original).any(axis=2))
    ys, xs = changed[:, 0], changed[:, 1]
    # Drawing sits on her face (upper middle of the portrait), not all over the picture.
    assert 150 < np.median(xs) < 300 and 60 < np.median(ys) < 260


def test_measure_table_output(shared_faces, capsys):
    code, out, _ = run(capsys, "measure", str(shared_faces / "single_face.jpg"))
    assert code == 0
    assert "commissure_excursion" in out and "RgAs" in out and "mm" in out


def test_measure_a_video_summarises_frames(shared_faces, capsys, tmp_path):
    overlay = tmp_path / "frame.png"
    code, out, _ = run(capsys, "measure", str(shared_faces / "face_noface.mov"), "--json",
                       "--stride", "5", "--overlay", str(overlay))
    data = json.loads(out)
    assert code == 0 and data["kind"] == "video"
    assert data["frames"]["read"] == 34 and data["frames"]["dropped_without_face"] > 0
    assert len(data["per_frame"]) == data["frames"]["with_face"]
    assert data["overlay_frame"] in [f["frame"] for f in data["per_frame"]]
    assert overlay.is_file()


def test_several_faces_warn_or_fail_under_strict(shared_faces, capsys):
    code, out, err = run(capsys, "measure", str(shared_faces / "multi_face.jpg"), "--json")
    assert code == 0 and "warning:" in err and "5 faces found; using the largest" in err
    assert json.loads(out)["faces_found"] == 5
    code, out, err = run(capsys, "measure", str(shared_faces / "multi_face.jpg"), "--strict")
    assert code == 1 and out == ""
    assert err.strip().endswith("multi_face.jpg: 5 faces found, one expected (strict)")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.jpg", b"a letter, not a photo", "not an image or a video that can be read"),
        ("empty.png", b"", "empty file"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    code, out, err = run(capsys, "measure", str(path))
    assert code == 1 and out == ""
    assert err.strip() == f"Error: {path}: {message}"


def test_no_face_photo_and_video(shared_faces, capsys):
    code, _, err = run(capsys, "measure", str(shared_faces / "free-mountain-vector-01.jpg"))
    assert code == 1 and "free-mountain-vector-01.jpg: no face found" in err
    code, _, err = run(capsys, "measure", str(shared_faces / "no_face.mp4"), "--stride", "10")
    assert code == 1 and "no_face.mp4: no face found in any of" in err


def test_a_huge_image_is_refused(tmp_path, capsys):
    path = tmp_path / "huge.png"
    Image.new("L", (10_000, 6_000)).save(path, compress_level=1)
    code, _, err = run(capsys, "measure", str(path))
    assert code == 1 and "60.0 megapixels is above the limit" in err


def test_a_truncated_video(tmp_path, capsys):
    video = write_video(tmp_path / "v.mp4")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[:400])
    code, _, err = run(capsys, "measure", str(cut))
    assert code == 1 and "cut.mp4" in err and "Traceback" not in err


def test_an_unwritable_overlay(tmp_path, capsys):
    photo = write_image(tmp_path / "a.png")
    code, _, err = run(capsys, "measure", str(photo), "--overlay", str(tmp_path / "no" / "dir" / "o.png"))
    assert code == 1 and "cannot write the overlay" in err


def test_photo_and_video_json_have_one_shape(shared_faces, tmp_path, capsys):
    photo = write_image(tmp_path / "a.png")
    _, out, _ = run(capsys, "measure", str(photo), "--json")
    image = json.loads(out)
    _, out, _ = run(capsys, "measure", str(shared_faces / "single_face.mp4"), "--json",
                    "--stride", "10", "--max-frames", "3")
    video = json.loads(out)
    assert set(image) == set(video)
    assert image["kind"] == "image" and video["kind"] == "video"
    for key in ("measurements", "asymmetry", "asymmetry_signed", "quality", "frames"):
        assert set(image[key]) == set(video[key]), key
    assert set(image["measurements"]["mrd1"]) == set(video["measurements"]["mrd1"])
    assert image["frames"] == {"read": 1, "with_face": 1, "dropped_without_face": 0, "stride": 1}
    assert image["per_frame"][0]["frame"] == image["overlay_frame"] == 0
    assert video["frames"]["read"] == 3 and len(video["per_frame"]) == video["frames"]["with_face"]


@pytest.mark.parametrize("name", [("x[", "]y.png"), ("face:100:.png",), ("[bold]red[", "bold].png")])
def test_file_names_print_verbatim(tmp_path, capsys, name):
    photo = write_image(tmp_path.joinpath(*name))
    overlay = tmp_path.joinpath(*name[:-1], "o" + name[-1])
    code, out, err = run(capsys, "measure", str(photo), "--overlay", str(overlay))
    assert code == 0, err
    assert f"{photo.name}: photo" in out
    assert f"overlay written to {overlay}" in out


def test_a_video_is_decoded_once(shared_faces, tmp_path, capsys, monkeypatch):
    from fpgrade.face import analysis

    calls = []
    real = analysis.read_frames

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis, "read_frames", counting)
    overlay = tmp_path / "o.png"
    args = ("measure", str(shared_faces / "face_noface.mov"), "--json", "--stride", "10",
            "--overlay", str(overlay))
    code, out, _ = run(capsys, *args)
    assert code == 0 and len(calls) == 1 and overlay.is_file()
    first = json.loads(out)
    # Landmarks cached: decoded once more for the overlay frame, and only because of it.
    overlay.unlink()
    code, out, _ = run(capsys, *args)
    assert code == 0 and len(calls) == 2 and overlay.is_file()
    assert json.loads(out)["overlay_frame"] == first["overlay_frame"]
    code, _, _ = run(capsys, *args[:-2])
    assert code == 0 and len(calls) == 2  # no overlay, cached landmarks: no decoding at all
