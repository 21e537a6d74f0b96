"""Throughput of ``fpgrade measure FOLDER --out table.csv`` over 10 to 200+ photos, 1 and 2 workers.

    .venv/bin/python -m bench.measure_throughput [--photos 200] [--workers 1 2] [--single-pass]

The photos are made from the real faces of ``tests/media/faces`` and scikit-image's
astronaut: each source flipped or not, cropped by 0-15 % and rescaled to 320-640 px on its
longer side (deterministic). Each run is one new ``fpgrade`` process over a folder of the first
N photos, with the cache off (every photo is analysed) in a new data folder; it reports the
wall time, photos per second, and the marginal cost per photo between successive folder sizes
(start-up excluded): a flat per-photo cost means those costs stay put as N grows.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import describe

FACES = Path(__file__).resolve().parents[1] / "tests" / "media" / "faces"
SOURCES = ("single_face.jpg", "0-f1-su-ph.jpg", "45-m7-di-ph.jpg", "multi_face.jpg")


def make_photos(folder: Path, count: int) -> list[Path]:
    """``count`` photos in ``folder``: variants of the real faces and the astronaut."""
    from PIL import Image, ImageOps
    from skimage.data import astronaut

    sources = [Image.open(FACES / name).convert("RGB") for name in SOURCES if (FACES / name).exists()]
    sources.append(Image.fromarray(astronaut()))
    paths = []
    for number in range(count):
        image = sources[number % len(sources)]
        variant = number // len(sources)
        if variant % 2:
            image = ImageOps.mirror(image)
        w, h = image.size
        cut = (variant % 4) * 0.05 * 0.5  # 0, 2.5, 5, 7.5 % on each side
        image = image.crop((int(w * cut), int(h * cut), w - int(w * cut), h - int(h * cut)))
        side = 320 + 40 * (variant % 9)
        image = image.copy()
        image.thumbnail((side, side))
        path = folder / f"photo{number:04d}.jpg"
        image.save(path, quality=90)
        paths.append(path)
    return paths


def run(folder: Path, workers: int, mirror: bool) -> tuple[float, int]:
    """Wall seconds of one ``fpgrade measure`` over ``folder``, and the photos it measured."""
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "FPGRADE_DATA_DIR": data, "FPGRADE_CACHE_ENABLED": "0",
               "FPGRADE_MIRROR_AVERAGED_LANDMARKS": "1" if mirror else "0"}
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "fpgrade", "measure", str(folder), "--out",
                        str(Path(data) / "table.csv"), "--workers", str(workers)],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        with open(Path(data) / "table.csv") as handle:
            return seconds, sum(1 for _ in handle) - 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10, 50, 100])
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--single-pass", action="store_true", help="Mirror averaging off too.")
    args = parser.parse_args(argv)
    print(describe())
    with tempfile.TemporaryDirectory() as scratch:
        photos = make_photos(Path(scratch), args.photos)
        sizes = sorted({*args.sizes, args.photos})
        folders = {}
        for size in sizes:
            folder = Path(scratch) / f"n{size}"
            folder.mkdir()
            for photo in photos[:size]:
                os.link(photo, folder / photo.name)
            folders[size] = folder
        for mirror in ((True, False) if args.single_pass else (True,)):
            for workers in args.workers:
                runs = {size: run(folders[size], workers, mirror) for size in sizes}
                times = {size: seconds for size, (seconds, _) in runs.items()}
                name = "mirror-averaged" if mirror else "single pass"
                for size in sizes:
                    print(f"{name}, {workers} worker(s), {size:4d} photos: {times[size]:6.1f} s, "
                          f"{size / times[size]:5.2f} photos/s ({runs[size][1]} measured)",
                          flush=True)
                for small, large in zip(sizes, sizes[1:]):
                    marginal = (times[large] - times[small]) / (large - small)
                    print(f"{name}, {workers} worker(s): photos {small + 1}-{large} cost "
                          f"{marginal * 1000:.0f} ms each ({1 / marginal:.1f} photos/s once started)",
                          flush=True)

if __name__ == "__main__":
    main()
