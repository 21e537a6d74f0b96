"""Throughput of ``fpgrade measure FOLDER --out table.csv`` over 10 to 200+ photos, 1 and 2 workers.

    .venv/bin/python -m bench.measure_throughput [--photos 200] [--workers 1 2] [--single-pass]

The photos are made from the real faces of ``tests/media/faces`` and scikit-image's
astronaut: each source flipped or not, cropped by 0-15 % and rescaled to 320-640 px on its
longer side (deterministic). Each run is one new ``fpgrade`` process over a folder of the first
N photos, with the cache off (every photo is analysed) in a new data folder; it reports the
wall time, photos per second, and the marginal cost per photo between successive folder sizes
(start-up excluded): a flat per-photo cost means those costs stay put as N grows. The CPU time
(user + system of the process and its workers, from ``os.wait4``) is printed beside the wall time:
on a machine shared with other work the wall time grows with the load, the CPU time much less, so
``cores / CPU seconds per photo`` is what an idle machine of that many cores would reach. The load
average before and after each configuration is printed.
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


def run(folder: Path, workers: int, mirror: bool) -> tuple[float, int, float]:
    """Wall seconds of one ``fpgrade measure`` over ``folder``, the photos it measured, and its
    CPU seconds (the process and its worker processes)."""
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "FPGRADE_DATA_DIR": data, "FPGRADE_CACHE_ENABLED": "0",
               "FPGRADE_MIRROR_AVERAGED_LANDMARKS": "1" if mirror else "0"}
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "fpgrade", "measure", str(folder),
                                    "--out", str(Path(data) / "table.csv"), "--workers", str(workers)],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(process.pid, 0)  # includes the workers it waited for
        seconds = time.perf_counter() - start
        with open(Path(data) / "table.csv") as handle:
            return seconds, sum(1 for _ in handle) - 1, usage.ru_utime + usage.ru_stime


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
                load = os.getloadavg()[0]
                runs = {size: run(folders[size], workers, mirror) for size in sizes}
                times = {size: seconds for size, (seconds, _, _) in runs.items()}
                cpu = {size: used for size, (_, _, used) in runs.items()}
                name = "mirror-averaged" if mirror else "single pass"
                print(f"{name}, {workers} worker(s): load average {load:.1f} before, "
                      f"{os.getloadavg()[0]:.1f} after", flush=True)
                for size in sizes:
                    print(f"{name}, {workers} worker(s), {size:4d} photos: {times[size]:6.1f} s, "
                          f"{size / times[size]:5.2f} photos/s, CPU {cpu[size]:6.1f} s "
                          f"({runs[size][1]} measured)", flush=True)
                for small, large in zip(sizes, sizes[1:]):
                    marginal = (times[large] - times[small]) / (large - small)
                    marginal_cpu = (cpu[large] - cpu[small]) / (large - small)
                    print(f"{name}, {workers} worker(s): photos {small + 1}-{large} cost "
                          f"{marginal * 1000:.0f} ms each ({1 / marginal:.1f} photos/s once started), "
                          f"CPU {marginal_cpu * 1000:.0f} ms each", flush=True)

if __name__ == "__main__":
    main()
