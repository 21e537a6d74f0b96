"""``fpgrade measure`` over a folder (issue 21): one process, a pool of two workers, real photos
with broken files among them; rows to CSV, one reason per bad file, ``--resume``, ``--json``.

The photos are the real faces of ``tests/media/faces`` and scikit-image's astronaut, flipped,
cropped and rescaled to at most 320 px (small, so that the test stays fast).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from skimage.data import astronaut

from fpgrade.measure_batch import COLUMNS

SOURCES = ("single_face.jpg", "0-f1-su-ph.jpg", "45-m7-di-ph.jpg")


def _variants(image: Image.Image) -> list[Image.Image]:
    image = image.convert("RGB")
    image.thumbnail((320, 320))
    w, h = image.size
    return [image, ImageOps.mirror(image),
            image.crop((w // 20, h // 20, w - w // 20, h - h // 20)).resize((w * 9 // 10, h * 9 // 10))]


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory) -> tuple[Path, list[Path], list[Path]]:
    faces = Path(__file__).resolve().parent / "media" / "faces"
    if not faces.is_dir():
        pytest.skip(f"real test media not found at {faces}")
    folder = tmp_path_factory.mktemp("photos")
    sources = [Image.open(faces / name) for name in SOURCES] + [Image.fromarray(astronaut())]
    good = []
    for number, source in enumerate(sources):
        sub = folder / f"subject{number}"
        sub.mkdir()
        for kind, variant in zip(("plain", "mirrored", "cropped"), _variants(source)):
            path = sub / f"{kind}.jpg"
            variant.save(path, quality=90)
            good.append(path)
    truncated = folder / "subject0" / "truncated.jpg"
    truncated.write_bytes(good[0].read_bytes()[:2000])
    text = folder / "notes.jpg"
    text.write_text("not a photo\n")
    (folder / "README.txt").write_text("ignored: not a photo by its name\n")
    return folder, good, [truncated, text]


def _fpgrade(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "fpgrade", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def measured(photo_folder, tmp_path_factory):
    folder, _, _ = photo_folder
    out = tmp_path_factory.mktemp("out") / "m.csv"
    return out, _fpgrade("measure", folder, "--out", out, "--workers", "2")


def _rows(out: Path) -> list[dict]:
    with open(out, newline="") as handle:
        return list(csv.DictReader(handle))


def test_folder_is_measured_in_one_run_past_broken_files(photo_folder, measured):
    _, good, broken = photo_folder
    out, done = measured
    assert len(good) >= 12
    assert done.returncode == 1, done.stderr
    rows = _rows(out)
    assert list(rows[0]) == COLUMNS
    assert "mrd1_right_mm" in COLUMNS and "smile_angle_left_deg" in COLUMNS
    assert sorted(Path(r["path"]).resolve() for r in rows) == sorted(p.resolve() for p in good)
    assert {r["kind"] for r in rows} == {"photo"}
    for row in rows:
        assert np.isfinite(float(row["mrd1_right_mm"])) and 0 < float(row["mm_per_px"]) < 5
    error_lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 2, done.stderr
    for path in broken:
        assert sum(str(path) in line for line in error_lines) == 1
    assert f"measured {len(good)} of {len(good) + 2} files" in done.stderr
    assert "2 failed" in done.stderr


def test_resume_measures_nothing_again(photo_folder, measured):
    folder, good, _ = photo_folder
    out, _ = measured
    before = out.read_bytes()
    again = _fpgrade("measure", folder, "--out", out, "--resume", "--workers", "2", "--json")
    report = json.loads(again.stdout)
    assert report["skipped_already_in_output"] == len(good)
    assert report["measured"] == 0 and report["rows_written"] == 0
    assert len(report["errors"]) == 2  # the broken files are tried again, and fail again
    assert again.returncode == 1
    assert out.read_bytes() == before


def test_existing_table_is_not_overwritten_without_resume(photo_folder, measured):
    folder, _, _ = photo_folder
    out, _ = measured
    before = out.read_bytes()
    refused = _fpgrade("measure", folder, "--out", out)
    assert refused.returncode == 1
    assert "--resume" in refused.stderr and refused.stderr.count("\n") == 1
    assert out.read_bytes() == before


def test_json_with_errors_is_valid_json(photo_folder, measured):
    _, good, broken = photo_folder
    done = _fpgrade("measure", good[0], broken[1], "--json", "--workers", "1")
    report = json.loads(done.stdout)
    assert done.returncode == 1
    assert [r["path"] for r in report["results"]] == [str(good[0])]
    mrd1 = report["results"][0]["measurements"]["mrd1"]
    assert mrd1["unit"] == "mm"
    row = next(r for r in _rows(measured[0]) if Path(r["path"]) == good[0])
    assert mrd1["right"] == pytest.approx(float(row["mrd1_right_mm"]), abs=1e-9)
    assert [e["path"] for e in report["errors"]] == [str(broken[1])]
    single = _fpgrade("measure", broken[0], "--json")
    assert single.returncode == 1
    assert json.loads(single.stdout)["errors"][0]["path"] == str(broken[0])


def test_output_format_is_checked_before_reading(tmp_path, photo_folder):
    folder, _, _ = photo_folder
    for name, words in (("m.xlsx", "use .csv, .jsonl or .parquet"), ("m.parquet", "pyarrow")):
        try:
            import pyarrow  # noqa: F401
            if name.endswith(".parquet"):
                continue
        except ImportError:
            pass
        done = _fpgrade("measure", folder, "--out", tmp_path / name)
        assert done.returncode == 1 and words in done.stderr
        assert "measuring" not in done.stderr and not (tmp_path / name).exists()


@pytest.mark.parametrize("protocol", ["banana:7", "kfold:1", "split:7:2"])
def test_train_protocol_is_refused_before_any_data_is_read(tmp_path, protocol):
    from fpgrade.cli import main
    from fpgrade.registry import get_registry

    model = next(iter(get_registry().models))
    missing = tmp_path / "no-such-manifest.csv"  # reading it would fail with another message
    done = _fpgrade("train", "--model", model, "--data", missing, "--protocol", protocol,
                    "--epochs", "1", "--out", tmp_path / "run")
    assert done.returncode == 1
    assert protocol in done.stderr and "no-such-manifest" not in done.stderr
    assert main  # the command line imports


def test_import_of_a_flat_folder_says_which_layout_it_expected(photo_folder, tmp_path):
    _, good, _ = photo_folder
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in good[:2]:
        (flat / f"{path.parent.name}-{path.name}").write_bytes(path.read_bytes())
    done = _fpgrade("import", flat)
    assert done.returncode == 1
    assert "found 2 file(s) directly in it" in done.stderr
    assert str(flat / "S001" / "MV1.jpg") in done.stderr and "fpgrade measure" in done.stderr


def test_predict_with_unusable_weights_still_prints_json(photo_folder, tmp_path):
    folder, good, broken = photo_folder
    done = _fpgrade("predict", folder, "--model", "phcnn", "--weights", tmp_path / "none.safetensors",
                    "--json")
    results = json.loads(done.stdout)
    assert done.returncode == 1
    assert sorted(Path(r["path"]).resolve() for r in results) == sorted(
        p.resolve() for p in [*good, *broken])
    assert all("none.safetensors" in r["error"] for r in results)


def test_a_video_gives_a_median_row_and_a_row_per_frame(photo_folder, tmp_path):
    faces = Path(__file__).resolve().parent / "media" / "faces"
    video = faces / "WolfgangLanger_Pexels.mp4"
    out = tmp_path / "v.jsonl"
    done = _fpgrade("measure", video, "--max-frames", "2", "--stride", "5", "--out", out,
                    "--workers", "1")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["row"], r["frame"]) for r in rows] == [("video median", None), ("frame", 0), ("frame", 5)]
    assert list(rows[0]) == COLUMNS
    frames = sorted(r["mrd1_right_mm"] for r in rows[1:])
    assert rows[0]["mrd1_right_mm"] == pytest.approx(sum(frames) / 2)  # the median of two


def test_shards_split_the_files_between_machines(photo_folder, tmp_path):
    folder, good, _ = photo_folder
    tables = [tmp_path / f"part{i}.csv" for i in (1, 2)]
    for number, table in enumerate(tables, start=1):
        _fpgrade("measure", folder, "--out", table, "--shard", f"{number}/2", "--workers", "1")
    parts = [{Path(r["path"]).resolve() for r in _rows(table)} for table in tables]
    assert parts[0] and parts[1] and not parts[0] & parts[1]
    assert parts[0] | parts[1] == {p.resolve() for p in good}
    refused = _fpgrade("measure", folder, "--out", tmp_path / "x.csv", "--shard", "3/2")
    assert refused.returncode == 1 and "--shard 3/2" in refused.stderr
