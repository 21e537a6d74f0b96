"""``fpgrade measure``: clinical measurements and asymmetry of a photo or video, with an overlay.

``--json`` prints one object of the same shape for a photo and a video: the measurements (a
video's are the medians over its frames with a face), their quality flags, and ``frames`` /
``per_frame`` / ``overlay_frame`` (a photo is a video of one frame). A video is decoded once:
the frame shown in the overlay (the most asymmetric) is kept while the landmarks are found.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import typer
from rich.table import Table
from rich.text import Text

from fpgrade.cli.console import console, err_console, print_json
from fpgrade.errors import FpgradeError
from fpgrade.face.measure import (
    FLAGS,
    IRIS_DIAMETER_MM,
    FaceMeasurements,
    SideValue,
    measure_face,
)

# OpenCV and MediaPipe (face analysis, overlay) are imported when the command runs, so that
# ``fpgrade --help`` does not wait for them.

ANGLES = ("MAn", "NAn", "EbAn", "AnAs")


def _flags(result: dict, name: str, side: str | None = None) -> list[str]:
    return list(result["quality"].get(name if side is None else f"{name}_{side}", ()))


def _value(number: float, flags: list[str]) -> str:
    return f"{number:.2f}" + (" *" if flags else "")


def _table(result: dict, title: str) -> Table:
    """The measurements; a value marked * has quality flags (listed under the table)."""
    table = Table("measurement", "right", "left", "difference", "percent", "unit",
                  title=Text(title))
    for name, value in result["measurements"].items():
        if isinstance(value, dict):
            percent = "" if value["percent"] is None else f"{value['percent']:.1f} %"
            table.add_row(name, _value(value["right"], _flags(result, name, "right")),
                          _value(value["left"], _flags(result, name, "left")),
                          f"{value['difference']:.2f}", percent, value["unit"])
        else:
            table.add_row(name, "", "", _value(value, _flags(result, name)), "",
                          result["units"][name])
    return table


def _flag_lines(result: dict) -> list[str]:
    return [f"* {key.replace('_left', ' (left)').replace('_right', ' (right)')}: {', '.join(flags)}"
            for key, flags in result["quality"].items() if flags]


def _asymmetry_table(asymmetry: dict) -> Table:
    table = Table("index", "value", title="asymmetry (paper 001)")
    for name, value in asymmetry.items():
        table.add_row(name, f"{value:.3f}" + (" deg" if name in ANGLES else ""))
    return table


def summarise(per_frame: list[FaceMeasurements]) -> FaceMeasurements:
    """One :class:`FaceMeasurements` for a video: the median over frames of every value, the
    reference side most frames chose, and the flags raised in at least half of the frames."""

    def median(values) -> float:
        return float(np.median(list(values)))

    first = per_frame[0]
    reference = Counter(m.reference_side for m in per_frame).most_common(1)[0][0]
    quality = {}
    for key in first.quality:
        counts = Counter(flag for m in per_frame for flag in m.quality.get(key, ()))
        quality[key] = tuple(f for f in FLAGS if counts[f] * 2 >= len(per_frame))
    return FaceMeasurements(
        sides={name: SideValue(left=median(m.sides[name].left for m in per_frame),
                               right=median(m.sides[name].right for m in per_frame),
                               unit=value.unit, reference=reference)
               for name, value in first.sides.items()},
        deviations={name: median(m.deviations[name] for m in per_frame) for name in first.deviations},
        asymmetry={name: median(m.asymmetry[name] for m in per_frame) for name in first.asymmetry},
        signed={name: median(m.signed[name] for m in per_frame) for name in first.signed},
        mm_per_px=median(m.mm_per_px for m in per_frame),
        reference_side=reference,
        quality=quality,
        yaw_degrees=median(m.yaw_degrees for m in per_frame),
    )


def _frame_row(index: int, m: FaceMeasurements) -> dict:
    return {"frame": index, "RgAs": m.asymmetry["RgAs"], "AnAs": m.asymmetry["AnAs"]}


def _measure_video(path: Path, *, stride: int, max_frames: int | None, strict: bool,
                   iris_mm: float, want_overlay: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from fpgrade.face.analysis import analyse_video
    from fpgrade.video import video_info

    total = max(1, video_info(path).frames // stride)
    if max_frames is not None:
        total = min(total, max_frames)
    worst: dict = {}

    def keep_worst(index, frame, landmarks):
        m = measure_face(landmarks, iris_diameter_mm=iris_mm)
        if not worst or m.asymmetry["RgAs"] > worst["rgas"]:
            worst.update(rgas=m.asymmetry["RgAs"], index=index, frame=frame)

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task("reading the video", total=total)
        faces = analyse_video(path, stride=stride, max_frames=max_frames, strict=strict,
                              on_frame=keep_worst if want_overlay else None,
                              progress=lambda read: bar.update(task, completed=read))
    per_frame = [measure_face(lm, iris_diameter_mm=iris_mm) for lm in faces.landmarks]
    rgas = [m.asymmetry["RgAs"] for m in per_frame]
    # The overlay shows the most asymmetric frame: the one a clinician would look at.
    chosen = int(np.argmax(rgas))
    result = summarise(per_frame).as_dict()
    result.update(
        kind="video",
        summary="median over frames with a face",
        faces_found=max(lm.faces_found for lm in faces.landmarks),
        frames={"read": faces.frames_read, "with_face": len(faces.indices),
                "dropped_without_face": faces.frames_dropped, "stride": stride},
        per_frame=[_frame_row(int(i), m) for i, m in zip(faces.indices, per_frame)],
        overlay_frame=int(faces.indices[chosen]),
    )
    picture = None
    if want_overlay:
        picture = (worst["frame"], faces.landmarks[chosen], per_frame[chosen])
    return result, picture


def measure_command(
    path: Path = typer.Argument(..., help="A photo or a video of a face."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    overlay: Path | None = typer.Option(None, "--overlay", help="Write the overlay picture (PNG)."),
    strict: bool = typer.Option(False, "--strict", help="Several faces are an error."),
    stride: int = typer.Option(1, "--stride", min=1, help="Videos: measure every N-th frame."),
    max_frames: int | None = typer.Option(None, "--max-frames", min=1, help="Videos: at most N frames."),
    iris_mm: float = typer.Option(IRIS_DIAMETER_MM, "--iris-mm", min=1.0,
                                  help="Horizontal visible iris diameter used as the ruler."),
) -> None:
    """Measure brow height, eye opening, mouth-corner excursion, smile angle... in millimetres."""
    from fpgrade.face.analysis import analyse_photo
    from fpgrade.face.detect import MultipleFacesWarning
    from fpgrade.face.overlay import draw_overlay, save_rgb
    from fpgrade.media import probe
    from fpgrade.storage.tables import MediaKind

    info = probe(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MultipleFacesWarning)
        if info.kind is MediaKind.IMAGE:
            rgb, landmarks = analyse_photo(path, strict=strict)
            measured = measure_face(landmarks, iris_diameter_mm=iris_mm)
            result = measured.as_dict()
            result.update(kind="image", summary="single photo", faces_found=landmarks.faces_found,
                          frames={"read": 1, "with_face": 1, "dropped_without_face": 0, "stride": 1},
                          per_frame=[_frame_row(0, measured)], overlay_frame=0)
            picture = (rgb, landmarks, measured)
        else:
            result, picture = _measure_video(path, stride=stride, max_frames=max_frames,
                                             strict=strict, iris_mm=iris_mm,
                                             want_overlay=overlay is not None)
    for warning in caught:
        err_console.print(f"warning: {warning.message}", markup=False, emoji=False, highlight=False)
    if overlay is not None:
        try:
            save_rgb(overlay, draw_overlay(*picture))
        except (OSError, ValueError) as exc:
            raise FpgradeError(f"{overlay}: cannot write the overlay ({exc})") from exc
    if as_json:
        print_json({"path": str(path), **result})
        return
    title = f"{path.name}: " + ("photo" if result["kind"] == "image" else
                                f"video, median of {result['frames']['with_face']} frames "
                                f"({result['frames']['dropped_without_face']} without a face)")
    console.print(_table(result, title))
    for line in _flag_lines(result):
        console.print(line, markup=False, emoji=False, highlight=False)
    console.print(_asymmetry_table(result["asymmetry"]))
    if overlay is not None:
        console.print(f"overlay written to {overlay}", markup=False, emoji=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("measure")(measure_command)
