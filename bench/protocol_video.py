"""Benchmark of a protocol video: choosing the frame of every movement in a 30 s video.

    .venv/bin/python -m bench.protocol_video [--repeats 3] [--seconds 30] [--json OUT.json]

The video: the shared expression video (tests/media/faces/WolfgangLanger_Pexels.mp4, 640x360,
23.976 fps, 19.7 s) looped to ``--seconds`` (its frames written again from the start once it
ends: 720 frames for 30 s) into an MP4 (OpenCV's mp4v), written once and not timed. Its content
is one woman's expressions, not the seven movements acted in turn; the work per frame is the same.

Timed, median of ``--repeats`` runs after one warm-up run (:func:`bench.machine.median_seconds`):

- ``protocol``: :func:`fpgrade.clinic.protocol_video.find_movements` as the page runs it:
  decoding, sampling at most 10 frames a second (every 3rd frame: 240 frames), the face mesh in
  video mode, writing every sampled frame as a JPEG, choosing the frames, and the hand check
  on the chosen frames (and around any covered one).
- ``raw MediaPipe``: the same 240 sampled frames decoded and given to MediaPipe's face mesh
  one by one as photos (``static_image_mode=True``, iris refinement), nothing else: what a
  script that calls MediaPipe on each frame would cost. The ratio is protocol / raw.
- ``raw MediaPipe tracking``: the same frames through the face mesh in video mode alone.
- ``protocol and grading``: the protocol, then the chosen frames graded as the photo set
  (:func:`fpgrade.clinic.assess.grade_set`: the full analyser, measurements, overlays, eFACE
  items), landmark cache off (``FPGRADE_CACHE_ENABLED=false``), no trained model.

The machine is shared: the load average before and after is printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from bench.machine import describe, median_seconds

VIDEO = (Path(__file__).resolve().parents[1] / "tests" / "media" / "faces"
         / "WolfgangLanger_Pexels.mp4")


def looped(source: Path, seconds: float, target: Path) -> int:
    """``source`` looped to ``seconds`` into ``target`` (same size and rate); frames written."""
    import cv2

    from fpgrade.video import read_frames, video_info

    info = video_info(source)
    frames = [f for _, f in read_frames(source)]
    wanted = int(round(seconds * info.fps))
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), info.fps,
                             (info.width, info.height))
    for i in range(wanted):
        writer.write(cv2.cvtColor(frames[i % len(frames)], cv2.COLOR_RGB2BGR))
    writer.release()
    return wanted


def raw_mediapipe(path: Path, static: bool) -> int:
    """The sampled frames through one face-mesh graph only; frames with a face."""
    import mediapipe as mp

    from fpgrade.face.tracking import sampling_stride
    from fpgrade.video import read_frames, video_info

    stride = sampling_stride(video_info(path).fps)
    found = 0
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=static, max_num_faces=1,
                                         refine_landmarks=True) as mesh:
        for _, rgb in read_frames(path, stride=stride):
            found += bool(mesh.process(rgb).multi_face_landmarks)
    return found


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    os.environ["FPGRADE_CACHE_ENABLED"] = "false"  # every run computes its landmarks
    from fpgrade.clinic.assess import grade_set
    from fpgrade.clinic.protocol_video import find_movements

    with tempfile.TemporaryDirectory(prefix="fpgrade-bench-protocol-") as tmp:
        video = Path(tmp) / "protocol-30s.mp4"
        frames = looped(VIDEO, args.seconds, video)
        load_before = os.getloadavg()[0]
        runs = []

        def protocol():
            folder = Path(tempfile.mkdtemp(dir=tmp))
            runs.append(find_movements(video, folder=folder))

        def graded():
            protocol()
            grade_set(runs[-1].set_files())

        ours = median_seconds(protocol, args.repeats)
        whole = median_seconds(graded, args.repeats)
        raw = median_seconds(lambda: raw_mediapipe(video, static=True), args.repeats)
        tracking = median_seconds(lambda: raw_mediapipe(video, static=False), args.repeats)
        load_after = os.getloadavg()[0]
        last = runs[-1]
    result = {
        "machine": describe(), "load_average_1min": [round(load_before, 1), round(load_after, 1)],
        "video": f"{VIDEO.name} looped to {args.seconds:g} s ({frames} frames)",
        "sampled_frames": int(len(last.track.frames)),
        "sample_fps": round(last.track.sample_fps, 2),
        "protocol_s": round(ours, 2), "protocol_and_grading_s": round(whole, 2),
        "raw_mediapipe_s": round(raw, 2),
        "raw_mediapipe_tracking_s": round(tracking, 2),
        "ratio_to_raw": round(ours / raw, 2), "ratio_to_raw_tracking": round(ours / tracking, 2),
        "found": [k for k, c in last.choices.items() if c.found],
        "repeats": args.repeats,
    }
    print(f"{result['machine']}; load average {result['load_average_1min']}")
    print(f"{result['video']}: {result['sampled_frames']} frames sampled "
          f"({result['sample_fps']} a second)")
    print(f"protocol video (median of {args.repeats}): {ours:.2f} s; raw MediaPipe face mesh "
          f"on the same frames as photos: {raw:.2f} s (ratio {ours / raw:.2f}); in video mode "
          f"alone: {tracking:.2f} s (ratio {ours / tracking:.2f})")
    print(f"protocol and grading the {len(result['found'])} frames found as the photo set: "
          f"{whole:.2f} s")
    print(f"found: {', '.join(result['found'])}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
