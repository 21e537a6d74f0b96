"""Start-up of a one-photo ``fpgrade measure`` against a raw MediaPipe script doing the same work.

    .venv/bin/python -m bench.measure_startup [--repeats 5] [--photo PATH]

Both run as new processes (the way a user types them), ``--repeats`` times after one warm-up
run; for each run the CPU time (user + system) and the peak memory (max RSS) of the child come
from ``os.wait4``, and the medians are printed with their ratio (issue 21's target: 1.5x at most).
The raw script decodes the photo with Pillow and runs MediaPipe's short-range detector and the
478-point face mesh in a window around the face, on the photo and (mirror-averaged, fpgrade's
default) on its mirror too: the graphs fpgrade needs for a close-up. fpgrade runs with its cache
off (``FPGRADE_CACHE_ENABLED=0``) in a new data folder, so the work is done every time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


DEFAULT_PHOTO = Path(__file__).resolve().parents[1] / "tests" / "media" / "faces" / "single_face.jpg"

RAW = r'''
import sys, json
import numpy as np
from PIL import Image, ImageOps
import mediapipe as mp
mirror = sys.argv[2] == "1"
rgb = np.asarray(ImageOps.exif_transpose(Image.open(sys.argv[1])).convert("RGB"))
def detect(image):
    with mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5) as d:
        box = d.process(image).detections[0].location_data.relative_bounding_box
    h, w = image.shape[:2]
    return box.xmin * w, box.ymin * h, box.width * w, box.height * h
def mesh(window):
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1,
                                         refine_landmarks=True) as m:
        points = m.process(window).multi_face_landmarks[0].landmark
    return [(p.x, p.y) for p in points]
images = [rgb, np.ascontiguousarray(rgb[:, ::-1])] if mirror else [rgb]
out = []
for image in images:
    x, y, w, h = detect(image)
    side = int(1.6 * max(w, h)); cx, cy = int(x + w / 2), int(y + h / 2)
    x0, y0 = max(0, cx - side // 2), max(0, cy - side // 2)
    out.append(mesh(np.ascontiguousarray(image[y0:y0 + side, x0:x0 + side]))[:5])
print(json.dumps(out))
'''


def _child(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU seconds (user + system) and peak memory (MiB) of one child process."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode})")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _medians(command: list[str], env: dict[str, str], repeats: int) -> tuple[float, float]:
    _child(command, env)
    runs = [_child(command, env) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--photo", type=Path, default=DEFAULT_PHOTO)
    args = parser.parse_args(argv)
    # In a child: describe() imports torch, and a child's peak memory starts from its parent's.
    print(subprocess.run([sys.executable, "-c", "from bench.machine import describe; print(describe())"],
                         capture_output=True, text=True).stdout.strip())
    print(f"photo: {args.photo}; median of {args.repeats} runs after one warm-up")
    with tempfile.TemporaryDirectory() as data:
        for mirror in (True, False):
            env = {**os.environ, "FPGRADE_DATA_DIR": data, "FPGRADE_CACHE_ENABLED": "0",
                   "FPGRADE_MIRROR_AVERAGED_LANDMARKS": "1" if mirror else "0"}
            cpu, mib = _medians([sys.executable, "-m", "fpgrade", "measure", str(args.photo),
                                 "--json"], env, args.repeats)
            raw_cpu, raw_mib = _medians([sys.executable, "-c", RAW, str(args.photo),
                                         "1" if mirror else "0"], env, args.repeats)
            name = "mirror-averaged" if mirror else "single pass"
            print(f"{name:>16}: fpgrade measure {cpu:5.2f} s CPU {mib:5.0f} MiB | raw MediaPipe "
                  f"{raw_cpu:5.2f} s CPU {raw_mib:5.0f} MiB | ratio CPU {cpu / raw_cpu:4.2f}x, "
                  f"memory {mib / raw_mib:4.2f}x")


if __name__ == "__main__":
    main()
