"""Benchmark of face preprocessing: per-photo time, detection rate, video fps, cache speed-up.

    .venv/bin/python -m bench.preprocess [--repeats 15] [--json OUT.json] [--no-detection-set]

Per photo: detection + landmarks (mirror-averaged, and single pass) + every crop the networks use
(faces 128/224/299/112, the two 40x120 regions), timed ``--repeats`` times after one warm-up; the
median is reported. Video: frames per second of landmark detection over
``WolfgangLanger_Pexels.mp4`` (every frame), median of three passes. Cache: the second pass of
``analyse_photo`` over the photos (landmarks read from the cache) against the first.
Detection: the test set of :mod:`bench.detection_set` (tight crops, small faces in a big frame,
rotations up to 30 degrees, red/blue swapped, greyscale, made from the shared faces): per kind, how
many faces were found and the median time per image (one pass each, after a warm-up).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.machine import describe, median_seconds

SHARED = Path(__file__).resolve().parents[1] / "tests" / "media" / "faces"
PHOTOS = ("single_face.jpg", "0-f1-su-ph.jpg", "Image_with_alpha.png", "multi_face.jpg")


def _photos(tmp: Path) -> list[Path]:
    from PIL import Image
    from skimage.data import astronaut

    path = tmp / "astronaut.png"
    Image.fromarray(astronaut()).save(path)
    found = [SHARED / name for name in PHOTOS if (SHARED / name).is_file()]
    return [path, *found]


def _median_ms(function, repeats: int) -> float:
    return 1000 * median_seconds(function, repeats)


def photo_times(photos: list[Path], repeats: int) -> dict[str, dict[str, float]]:
    from fpgrade.face.crops import face_crop, region_crops
    from fpgrade.face.detect import FaceAnalyser
    from fpgrade.imageio import load_image

    results = {}
    for symmetric in (True, False):
        analyser = FaceAnalyser(symmetric=symmetric)
        for path in photos:
            rgb = load_image(path)

            def run():
                landmarks = analyser.analyse(rgb)
                for size in (128, 224, 299, 112):
                    face_crop(rgb, landmarks, size)
                region_crops(rgb, landmarks)

            results.setdefault(path.name, {})[
                "mirror_averaged_ms" if symmetric else "single_pass_ms"] = _median_ms(run, repeats)
    return results


def video_fps(path: Path, passes: int = 3) -> dict[str, float]:
    from fpgrade.face.detect import FaceAnalyser
    from fpgrade.errors import NoFaceFoundError
    from fpgrade.video import read_frames

    frames = [frame for _, frame in read_frames(path)]
    rates = {}
    for symmetric in (True, False):
        analyser = FaceAnalyser(symmetric=symmetric)
        per_pass = []
        for _ in range(passes):
            start = time.perf_counter()
            for frame in frames:
                try:
                    analyser.analyse(frame)
                except NoFaceFoundError:
                    pass
            per_pass.append(len(frames) / (time.perf_counter() - start))
        rates["mirror_averaged_fps" if symmetric else "single_pass_fps"] = statistics.median(per_pass)
    rates["frames"] = len(frames)
    return rates


def detection_report() -> dict[str, dict[str, object]]:
    """Per kind of the detection test set: found / total, misses, median ms per image."""
    from fpgrade.errors import NoFaceFoundError
    from fpgrade.face.detect import FaceAnalyser

    from bench.detection_set import KINDS, variants

    analyser = FaceAnalyser()
    report = {kind: {"found": 0, "total": 0, "missed": [], "times_ms": []} for kind in KINDS}
    for index, (kind, name, rgb) in enumerate(variants()):
        if index == 0:
            try:
                analyser.analyse(rgb)  # warm-up: graphs start
            except NoFaceFoundError:
                pass
        entry = report[kind]
        entry["total"] += 1
        start = time.perf_counter()
        try:
            analyser.analyse(rgb, source=name)
            entry["found"] += 1
        except NoFaceFoundError:
            entry["missed"].append(name)
        entry["times_ms"].append(1000 * (time.perf_counter() - start))
    for entry in report.values():
        times = entry.pop("times_ms")
        entry["median_ms"] = statistics.median(times) if times else float("nan")
        entry["rate"] = entry["found"] / entry["total"] if entry["total"] else float("nan")
    return report


def cache_speedup(photos: list[Path], tmp: Path) -> dict[str, float]:
    import warnings

    from fpgrade.cache import PreprocessCache
    from fpgrade.face.analysis import analyse_photo

    cache = PreprocessCache(tmp / "cache")

    def one_pass():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for path in photos:
                analyse_photo(path, cache=cache)
        return time.perf_counter() - start

    first = one_pass()
    second = statistics.median(one_pass() for _ in range(5))
    return {"first_pass_ms": 1000 * first, "cached_pass_ms": 1000 * second,
            "speedup": first / second, "hits": cache.stats.hits, "misses": cache.stats.misses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-detection-set", action="store_true",
                        help="Skip the detection-rate test set (about 10 s).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        photos = _photos(Path(tmp))
        report = {"machine": describe(), "repeats": args.repeats,
                  "photos": photo_times(photos, args.repeats)}
        video = SHARED / "WolfgangLanger_Pexels.mp4"
        if video.is_file():
            report["video"] = video_fps(video)
        report["cache"] = cache_speedup(photos, Path(tmp))
        if not args.no_detection_set:
            report["detection"] = detection_report()
    print(f"machine: {report['machine']}")
    print(f"{'photo':28s} {'mirror-averaged':>16s} {'single pass':>12s}   (ms, median of {args.repeats})")
    for name, times in report["photos"].items():
        print(f"{name:28s} {times['mirror_averaged_ms']:16.1f} {times['single_pass_ms']:12.1f}")
    if "video" in report:
        v = report["video"]
        print(f"video {v['frames']} frames: {v['mirror_averaged_fps']:.1f} fps mirror-averaged, "
              f"{v['single_pass_fps']:.1f} fps single pass (median of 3)")
    for kind, entry in report.get("detection", {}).items():
        print(f"detection {kind:8s} {entry['found']:3d}/{entry['total']:<3d} found "
              f"({100 * entry['rate']:.0f} %), median {entry['median_ms']:.1f} ms per image"
              + (f"; missed: {', '.join(entry['missed'])}" if entry["missed"] else ""))
    c = report["cache"]
    print(f"cache: first pass {c['first_pass_ms']:.0f} ms, cached pass {c['cached_pass_ms']:.0f} ms "
          f"-> {c['speedup']:.1f}x")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
