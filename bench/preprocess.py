"""Benchmark of face preprocessing: per-photo time, video frames per second, cache speed-up.

    .venv/bin/python -m bench.preprocess [--repeats 15] [--json OUT.json]

Per photo: detection + landmarks (mirror-averaged, and single pass) + every crop the networks use
(faces 128/224/299/112, the two 40x120 regions), timed ``--repeats`` times after one warm-up; the
median is reported. Video: frames per second of landmark detection over
``WolfgangLanger_Pexels.mp4`` (every frame), median of three passes. Cache: the second pass of
``analyse_photo`` over the photos (landmarks read from the cache) against the first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.machine import describe, median_seconds

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        photos = _photos(Path(tmp))
        report = {"machine": describe(), "repeats": args.repeats,
                  "photos": photo_times(photos, args.repeats)}
        video = SHARED / "WolfgangLanger_Pexels.mp4"
        if video.is_file():
            report["video"] = video_fps(video)
        report["cache"] = cache_speedup(photos, Path(tmp))
    print(f"machine: {report['machine']}")
    print(f"{'photo':28s} {'mirror-averaged':>16s} {'single pass':>12s}   (ms, median of {args.repeats})")
    for name, times in report["photos"].items():
        print(f"{name:28s} {times['mirror_averaged_ms']:16.1f} {times['single_pass_ms']:12.1f}")
    if "video" in report:
        v = report["video"]
        print(f"video {v['frames']} frames: {v['mirror_averaged_fps']:.1f} fps mirror-averaged, "
              f"{v['single_pass_fps']:.1f} fps single pass (median of 3)")
    c = report["cache"]
    print(f"cache: first pass {c['first_pass_ms']:.0f} ms, cached pass {c['cached_pass_ms']:.0f} ms "
          f"-> {c['speedup']:.1f}x")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
