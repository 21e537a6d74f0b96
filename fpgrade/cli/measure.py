"""``fpgrade measure``: clinical measurements and asymmetry of a photo or video, with an overlay."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from fpgrade.cli.console import console, err_console, print_json
from fpgrade.errors import FpgradeError
from fpgrade.face.measure import (
    IRIS_DIAMETER_MM,
    SIDE_MEASURES,
    FaceMeasurements,
    SideValue,
    measure,
)


def _measure(landmarks, iris_mm: float) -> FaceMeasurements:
    return measure(landmarks.ibug68, landmarks.iris_right, landmarks.iris_left,
                   iris_diameter_mm=iris_mm)


def _table(result: dict, title: str) -> Table:
    table = Table("measurement", "right", "left", "difference", "percent", "unit", title=title)
    for name, value in result["measurements"].items():
        if isinstance(value, dict):
            percent = "" if value["percent"] is None else f"{value['percent']:.1f} %"
            table.add_row(name, f"{value['right']:.2f}", f"{value['left']:.2f}",
                          f"{value['difference']:.2f}", percent, value["unit"])
        else:
            table.add_row(name, "", "", f"{value:.2f}", "", result["units"][name])
    return table


def _asymmetry_table(asymmetry: dict) -> Table:
    table = Table("index", "value", title="asymmetry (paper 001)")
    for name, value in asymmetry.items():
        table.add_row(name, f"{value:.3f}" + (" deg" if name in ("MAn", "NAn", "EbAn", "AnAs") else ""))
    return table


def _summarise(per_frame: list[FaceMeasurements]) -> dict:
    """Median over frames of every value (left, right, deviations, indices)."""
    first = per_frame[0].as_dict()
    summary: dict = {"measurements": {}, "units": first["units"], "asymmetry": {}}
    for name in SIDE_MEASURES:
        summary["measurements"][name] = SideValue(
            left=float(np.median([m.sides[name].left for m in per_frame])),
            right=float(np.median([m.sides[name].right for m in per_frame])),
            unit=first["units"][name],
            reference=per_frame[0].sides[name].reference,
        ).as_dict()
    for name in per_frame[0].deviations:
        summary["measurements"][name] = float(np.median([m.deviations[name] for m in per_frame]))
    for name in per_frame[0].asymmetry:
        summary["asymmetry"][name] = float(np.median([m.asymmetry[name] for m in per_frame]))
    return summary


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
    from fpgrade.face.analysis import analyse_photo, analyse_video
    from fpgrade.face.detect import MultipleFacesWarning
    from fpgrade.face.overlay import draw_overlay, save_rgb
    from fpgrade.media import probe
    from fpgrade.storage.tables import MediaKind
    from fpgrade.video import read_frames

    info = probe(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MultipleFacesWarning)
        if info.kind is MediaKind.IMAGE:
            rgb, landmarks = analyse_photo(path, strict=strict)
            result_obj = _measure(landmarks, iris_mm)
            result = result_obj.as_dict()
            result.update(kind="image", faces_found=landmarks.faces_found)
            picture = (rgb, landmarks, result_obj)
        else:
            faces = analyse_video(path, stride=stride, max_frames=max_frames, strict=strict)
            per_frame = [_measure(lm, iris_mm) for lm in faces.landmarks]
            result = _summarise(per_frame)
            result.update(
                kind="video",
                summary="median over frames with a face",
                frames={"read": faces.frames_read, "with_face": len(faces.indices),
                        "dropped_without_face": faces.frames_dropped, "stride": stride},
                per_frame=[{"frame": int(i), "RgAs": m.asymmetry["RgAs"], "AnAs": m.asymmetry["AnAs"]}
                           for i, m in zip(faces.indices, per_frame)],
            )
            # The overlay shows the most asymmetric frame: the one a clinician would look at.
            worst = int(np.argmax([m.asymmetry["RgAs"] for m in per_frame]))
            frame_index = int(faces.indices[worst])
            frame = next(f for i, f in read_frames(path, stride, max_frames) if i == frame_index)
            picture = (frame, faces.landmarks[worst], per_frame[worst])
            result["overlay_frame"] = frame_index
    for warning in caught:
        err_console.print(f"warning: {warning.message}", markup=False, highlight=False)
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
    console.print(_asymmetry_table(result["asymmetry"]))
    if overlay is not None:
        console.print(f"overlay written to {overlay}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("measure")(measure_command)
