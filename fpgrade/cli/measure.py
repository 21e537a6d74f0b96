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
                   iris_mm: float, want_overlay: bool, show_progress: bool = True):
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
                  console=err_console, transient=True, disable=not show_progress) as bar:
        task = bar.add_task("reading the video", total=total)
        faces = analyse_video(path, stride=stride, max_frames=max_frames, strict=strict,
                              on_frame=keep_worst if want_overlay else None,
                              progress=lambda read: bar.update(task, completed=read))
    per_frame = [measure_face(lm, iris_diameter_mm=iris_mm) for lm in faces.landmarks]
    rgas = [m.asymmetry["RgAs"] for m in per_frame]
    # The overlay shows the most asymmetric frame: the one a clinician would look at.
    chosen = int(np.argmax(rgas))
    summary = summarise(per_frame)
    result = summary.as_dict()
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
    frames = [(int(i), lm.faces_found, m) for i, lm, m in zip(faces.indices, faces.landmarks, per_frame)]
    return result, picture, summary, frames


def measure_file(path: Path, *, strict: bool = False, stride: int = 1,
                 max_frames: int | None = None, iris_mm: float = IRIS_DIAMETER_MM,
                 want_overlay: bool = False, show_progress: bool = False,
                 landmarks_file: Path | None = None):
    """Measure one photo or video: its JSON result, the overlay's picture (with
    ``want_overlay``), the :class:`FaceMeasurements` summarised, and per frame
    ``(number, faces found, measurements)`` (a photo: none). ``landmarks_file``: measure a
    photo from those points (:mod:`fpgrade.face.landmark_file`) instead of the detector's.

    :raises FpgradeError: naming the file (not a photo or video, damaged, no face...).
    """
    from fpgrade.face.analysis import analyse_photo
    from fpgrade.media import MediaKind, probe

    info = probe(path)
    if landmarks_file is not None and info.kind is not MediaKind.IMAGE:
        raise FpgradeError(f"{path}: --landmarks needs a photo (a video's frames each have "
                           "their own landmarks)")
    if info.kind is MediaKind.IMAGE:
        if landmarks_file is not None:
            rgb, landmarks = _given_landmarks(path, landmarks_file, strict=strict)
        else:
            rgb, landmarks = analyse_photo(path, strict=strict)
        measured = measure_face(landmarks, iris_diameter_mm=iris_mm)
        result = measured.as_dict()
        result.update(kind="image", summary="single photo", faces_found=landmarks.faces_found,
                      frames={"read": 1, "with_face": 1, "dropped_without_face": 0, "stride": 1},
                      per_frame=[_frame_row(0, measured)], overlay_frame=0)
        if landmarks_file is not None:
            result["landmarks_from"] = str(landmarks_file)
        return result, (rgb, landmarks, measured), measured, []
    return _measure_video(path, stride=stride, max_frames=max_frames, strict=strict,
                          iris_mm=iris_mm, want_overlay=want_overlay, show_progress=show_progress)


def _given_landmarks(path: Path, landmarks_file: Path, *, strict: bool):
    """The photo and the landmarks of ``landmarks_file``; the detector runs only for a file of
    changed points (the others are used as they are)."""
    import json

    from fpgrade.face import landmark_file as lf
    from fpgrade.face.analysis import analyse_photo
    from fpgrade.imageio import load_image

    try:
        changed_only = "changed" in json.loads(landmarks_file.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        changed_only = False  # lf.read names the problem
    if changed_only:
        rgb, detected = analyse_photo(path, strict=strict)
    else:
        rgb, detected = load_image(path), None
    size = (rgb.shape[1], rgb.shape[0])
    return rgb, lf.read(landmarks_file, detected=detected, size=size)


def measure_command(
    paths: list[Path] = typer.Argument(
        ..., metavar="PHOTO_VIDEO_FOLDER_OR_LIST",
        help="Photos, videos, folders (searched in sub-folders too) and lists of files (.txt: one "
             "path a line; .csv/.tsv: a 'path' column)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (errors in 'errors')."),
    out: Path | None = typer.Option(
        None, "--out", metavar="TABLE.csv|.jsonl|.parquet",
        help="Write a table: one row per photo; per video one row of medians and one per frame."),
    resume: bool = typer.Option(False, "--resume", help="With --out: skip the files already in it."),
    workers: int | None = typer.Option(None, "--workers", min=1, metavar="N",
                                       help="Worker processes (default: the cores)."),
    shard: str | None = typer.Option(None, "--shard", metavar="I/N",
                                     help="Only the I-th of N equal parts of the files (one per "
                                          "machine; concatenate the tables)."),
    overlay: Path | None = typer.Option(None, "--overlay", help="Write the overlay picture (PNG)."),
    strict: bool = typer.Option(False, "--strict", help="Several faces are an error."),
    stride: int = typer.Option(1, "--stride", min=1, help="Videos: measure every N-th frame."),
    max_frames: int | None = typer.Option(None, "--max-frames", min=1, help="Videos: at most N frames."),
    iris_mm: float = typer.Option(IRIS_DIAMETER_MM, "--iris-mm", min=1.0,
                                  help="Horizontal visible iris diameter used as the ruler."),
    landmarks: Path | None = typer.Option(
        None, "--landmarks", metavar="POINTS.json",
        help="One photo: measure from these points (all 68 iBUG points and both iris circles, "
             "or only the points that changed, as the clinician page exports them after a hand "
             "correction) instead of the detector's."),
) -> None:
    """Measure brow height, eye opening, mouth-corner excursion, smile angle... in millimetres.

    Many files run in one process with a pool of workers: a file that cannot be measured is
    reported (one line) and counted, the others are measured; the exit code is 1 if any failed."""
    from fpgrade.batch import MANIFEST_SUFFIXES

    from fpgrade.batch import parse_shard

    options = {"strict": strict, "stride": stride, "max_frames": max_frames, "iris_mm": iris_mm}
    part = parse_shard(shard) if shard is not None else None
    if resume and out is None:
        raise FpgradeError("--resume needs --out: the table whose files are skipped")
    if out is not None:
        from fpgrade.batch_output import check_output

        check_output(out, resume)
    single = (len(paths) == 1 and out is None and part is None and paths[0].is_file()
              and paths[0].suffix.lower() not in MANIFEST_SUFFIXES)
    if overlay is not None and not single:
        raise FpgradeError("--overlay draws one file: give one photo or video, without --out")
    if landmarks is not None and (len(paths) != 1 or out is not None or part is not None
                                  or paths[0].is_dir()):
        raise FpgradeError("--landmarks gives the points of one photo: give one photo, without "
                           "--out")
    if landmarks is not None:
        options["landmarks_file"] = landmarks
    if single or (len(paths) == 1 and not paths[0].exists() and out is None):
        _measure_one(paths[0], as_json=as_json, overlay=overlay, options=options)
        return
    _measure_many(paths, as_json=as_json, out=out, resume=resume, workers=workers, options=options,
                  shard=part)


def _measure_one(path: Path, *, as_json: bool, overlay: Path | None, options: dict) -> None:
    """One file, as before issue 21: a table (or one JSON object) and, on request, an overlay."""
    from fpgrade.face.detect import MultipleFacesWarning
    from fpgrade.face.overlay import draw_overlay, save_rgb

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MultipleFacesWarning)
        try:
            result, picture, _, _ = measure_file(path, want_overlay=overlay is not None,
                                                 show_progress=True, **options)
        except FpgradeError as exc:
            if as_json:  # still JSON on stdout; the one line on stderr as for any error
                print_json({"path": str(path), "errors": [{"path": str(path), "error": str(exc)}]})
            raise
    for warning in caught:
        err_console.print(f"warning: {warning.message}", markup=False, emoji=False, highlight=False)
    if overlay is not None:
        try:
            save_rgb(overlay, draw_overlay(*picture))
        except (OSError, ValueError) as exc:
            raise FpgradeError(f"{overlay}: cannot write the overlay ({exc})") from exc
    if as_json:
        print_json({"path": str(path), **result, "errors": []})
        return
    _print_result(path, result)
    if overlay is not None:
        console.print(f"overlay written to {overlay}", markup=False, emoji=False, highlight=False)


def _print_result(path: Path, result: dict) -> None:
    title = f"{path.name}: " + ("photo" if result["kind"] == "image" else
                                f"video, median of {result['frames']['with_face']} frames "
                                f"({result['frames']['dropped_without_face']} without a face)")
    console.print(_table(result, title))
    for line in _flag_lines(result):
        console.print(line, markup=False, emoji=False, highlight=False)
    console.print(_asymmetry_table(result["asymmetry"]))


def _measure_many(paths: list[Path], *, as_json: bool, out: Path | None, resume: bool,
                  workers: int | None, options: dict, shard: tuple[int, int] | None = None) -> None:
    """Many files through the worker pool (:mod:`fpgrade.batch`), rows to ``out``."""
    from contextlib import nullcontext

    from fpgrade.batch import collect_inputs, default_workers, run_pool
    from fpgrade.batch_output import RowWriter, done_paths
    from fpgrade.measure_batch import COLUMNS, measure_task

    files, problems = collect_inputs(paths)
    if shard is not None:
        files = files[shard[0] - 1::shard[1]]
    errors = [{"path": path, "error": line} for path, line in problems]
    for error in errors:
        err_console.print(f"error: {error['error']}", markup=False, emoji=False, highlight=False)
    skipped = 0
    if resume and out is not None:
        done = done_paths(out)
        todo = [path for path in files if path.resolve() not in done]
        skipped, files = len(files) - len(todo), todo
    results, rows, measured, shown = [], 0, 0, set()
    writer = RowWriter(out, COLUMNS) if out is not None else nullcontext()
    with writer:
        for outcome, bar in run_pool(measure_task, files, (options,),
                                     workers=workers or default_workers(), description="measuring",
                                     show_progress=len(files) > 1):
            say = bar.console.print if bar is not None else err_console.print
            for warning in outcome.warnings:
                if warning not in shown:  # once per run, as for any command
                    shown.add(warning)
                    say(f"warning: {warning}", markup=False, emoji=False, highlight=False)
            if outcome.error is not None:
                errors.append({"path": outcome.path, "error": outcome.error})
                say(f"error: {outcome.error}", markup=False, emoji=False, highlight=False)
                continue
            measured += 1
            if out is not None:
                writer.write(outcome.rows)
                rows += len(outcome.rows)
            else:
                results.append(outcome.result)
    summary = (f"measured {measured} of {len(files)} files"
               + (f", {rows} rows written to {out}" if out is not None else "")
               + (f"; {skipped} already in {out}, skipped" if skipped else "")
               + (f"; {len(errors)} failed (listed above)" if errors else ""))
    order = {str(path): number for number, path in enumerate(files)}
    results.sort(key=lambda result: order[result["path"]])  # workers finish out of order
    if as_json:
        report = {"inputs": [str(p) for p in paths], "files": len(files), "measured": measured,
                  "failed": len(errors), "skipped_already_in_output": skipped,
                  "out": None if out is None else str(out), "rows_written": rows}
        if out is None:
            report["results"] = results
        print_json({**report, "errors": errors})
    elif out is None:
        for result in results:
            _print_result(Path(result["path"]), result)
    err_console.print(summary, markup=False, emoji=False, highlight=False)
    if errors:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    app.command("measure")(measure_command)
