"""Benchmark of a hand-corrected landmark (issue 19): what one move on the clinician page costs.

    .venv/bin/python -m bench.landmark_recompute [--repeats 9]

The five-photo example set (``ui/examples/set``) is graded once; then the right upper lid of the
rest photo is raised by 1-9 px, one move per repeat, and the set is graded again from the moved
points by :func:`fpgrade.clinic.corrections.correct` (measurements, eFACE items, summary and the
photo's overlay; the regional chart is drawn after the answer, as the page does). The baseline is
the detector's own measurement of the same points (:func:`fpgrade.clinic.assess.measure_points`),
the least any recompute can cost. Medians of ``--repeats``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from bench.machine import describe

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "ui" / "examples" / "set"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    os.environ.setdefault("FPGRADE_CACHE_ENABLED", "false")
    from fpgrade.clinic import corrections
    from fpgrade.clinic.assess import grade_set, measure_points
    from fpgrade.face import landmark_file

    graded = grade_set({p.stem: p for p in SET.glob("*.jpg")})
    rest = next(p for p in graded.photos if p.movement == "rest")
    points = corrections.editable_points(rest.landmarks)
    recompute, measure_only = [], []
    for step in range(1, args.repeats + 1):
        moved = {k: [points[k][0], points[k][1] - step] for k in ("37", "38")}
        start = time.perf_counter()
        corrections.correct(graded, "rest", moved, by="bench")
        recompute.append(time.perf_counter() - start)
        start = time.perf_counter()
        measure_points(landmark_file.with_points(rest.landmarks, moved))
        measure_only.append(time.perf_counter() - start)
    result = {"machine": describe(), "load_average": os.getloadavg(),
              "recompute_ms": 1000 * statistics.median(recompute),
              "measure_points_ms": 1000 * statistics.median(measure_only)}
    result["ratio"] = result["recompute_ms"] / result["measure_points_ms"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
