"""Benchmark of the clinician page: time to a served page, and server-side grading time.

    .venv/bin/python -m bench.demo [--starts 5] [--repeats 7] [--cnn idfnp] [--json OUT.json]

- page ready: ``fpgrade demo`` started ``--starts`` times as a new process (fresh data folder);
  seconds until ``GET /`` answers 200; the median is reported;
- first grade, cold: a new Python process imports the grading code and grades one photo (what
  the first **Grade** of a just-started page costs: MediaPipe's graphs load then), median of
  ``--starts`` processes; the seconds count from the first import, not the interpreter's start;
- one photo: :func:`fpgrade.clinic.assess.grade_medium` (landmarks, measurements, overlay) plus the
  eFACE items, landmark cache off (a photo the server has not seen), median of ``--repeats``;
- a seven-photo set: :func:`fpgrade.clinic.assess.grade_set` over the five example photos plus two
  of them again as the missing movements (timing only), cache off;
- with a CNN on top: the same photo through ``--cnn``'s own preprocessing and network (random
  weights: this times the work of grading, the weights do not change it).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.machine import describe, free_port, median_seconds

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "ui" / "examples"


def page_ready(starts: int) -> list[float]:
    times = []
    for _ in range(starts):
        port = free_port()
        with tempfile.TemporaryDirectory() as data:
            env = {**os.environ, "FPGRADE_DATA_DIR": data}
            start = time.perf_counter()
            proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "fpgrade"), "demo", "--port",
                                     str(port)], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:
                while True:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                            if r.status == 200:
                                break
                    except OSError:
                        time.sleep(0.05)
                    if time.perf_counter() - start > 120:
                        raise RuntimeError("the page did not come up in 120 s")
                times.append(time.perf_counter() - start)
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=10)
    return times


COLD = """
import time
start = time.perf_counter()
from fpgrade.clinic import eface
from fpgrade.clinic.assess import grade_medium
result = grade_medium({photo!r}, "rest")
eface.automatic_items({{"rest": result.measurements}}, result.measurements.reference_side)
print(time.perf_counter() - start)
"""


def first_grade_cold(starts: int) -> list[float]:
    """Seconds from the first import to the first graded photo, each in a new process."""
    times = []
    for _ in range(starts):
        with tempfile.TemporaryDirectory() as data:
            env = {**os.environ, "FPGRADE_DATA_DIR": data, "FPGRADE_CACHE_ENABLED": "false"}
            out = subprocess.run([sys.executable, "-c",
                                  COLD.format(photo=str(EXAMPLES / "single_face.jpg"))],
                                 env=env, capture_output=True, text=True, check=True)
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


def grading(repeats: int, cnn: str | None) -> dict[str, float]:
    os.environ["FPGRADE_CACHE_ENABLED"] = "false"
    from fpgrade.clinic import eface
    from fpgrade.clinic.assess import grade_medium, grade_set

    photo = EXAMPLES / "single_face.jpg"

    def one():
        result = grade_medium(photo, "rest")
        eface.automatic_items({"rest": result.measurements}, result.measurements.reference_side)

    sets = {p.stem: p for p in (EXAMPLES / "set").glob("*.jpg")}
    sets |= {"close_eyes_tightly": sets["close_eyes_gently"], "pucker": sets["smile"]}
    out = {"photo_ms": 1000 * median_seconds(one, repeats),
           "set_of_7_ms": 1000 * median_seconds(lambda: grade_set(sets), max(3, repeats // 2))}
    if cnn:
        import torch

        from fpgrade.registry import get_registry
        from fpgrade.training.inputs import InputMaker, to_batch

        registry = get_registry()
        model = registry.model(cnn)
        scale = model.card.scales[0]
        network = model.build(scale, num_classes=len(registry.scale(scale))).eval()
        maker = InputMaker(registry, model)

        def graded_by_cnn():
            one()
            batch = to_batch(maker(photo, "MV0"), model)
            with torch.no_grad():
                network(*(batch[key] for key in model.input_keys))

        out[f"photo_with_{cnn}_ms"] = 1000 * median_seconds(graded_by_cnn, repeats)
        out["torch_threads"] = torch.get_num_threads()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cnn", default="idfnp", help="model id to time on top ('' for none)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    ready = page_ready(args.starts)
    cold = first_grade_cold(args.starts)
    result = {"machine": describe(), "page_ready_s": statistics.median(ready),
              "page_ready_all_s": [round(t, 2) for t in ready],
              "first_grade_cold_s": statistics.median(cold),
              "first_grade_cold_all_s": [round(t, 2) for t in cold],
              **grading(args.repeats, args.cnn or None)}
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
