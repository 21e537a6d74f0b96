"""What a graded set becomes on paper and on disk: the measurement table, the regional
asymmetry chart, the one-page PDF report, CSV and JSON, and the recovery plot.

Charts and the PDF are drawn with matplotlib (its PDF backend writes the report page); nothing
here imports gradio.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from fpgrade.clinic.assess import REGIONS, SetResult, set_regions
from fpgrade.clinic.movements import BY_KEY

DISCLAIMER = ("Decision support, not a diagnosis: measurement-based scores and model grades are "
              "for a clinician to review with the patient in front of them.")
TABLE_HEADER = ["movement", "measurement", "right", "left", "difference", "percent", "unit"]
SIDE_COLOURS = {"right": "#d62728", "left": "#1f77b4"}


def movement_label(key: str) -> str:
    m = BY_KEY.get(key)
    return f"{m.instruction} ({m.mv})" if m else key


def measurement_rows(result: SetResult) -> list[list]:
    """The measurements table: one row per photo and measurement (left, right, difference,
    percent; mm or degrees), then each photo's deviations."""
    rows = []
    for photo in result.photos:
        if not photo.ok:
            continue
        m = photo.measurements
        for name, value in m.sides.items():
            rows.append([photo.movement, name.replace("_", " "), round(value.right, 2),
                         round(value.left, 2), round(value.difference, 2),
                         None if value.percent is None else round(value.percent, 1), value.unit])
        for name, value in m.deviations.items():
            rows.append([photo.movement, name.replace("_", " "), None, None, round(value, 2), None, "mm"])
    return rows


def region_figure(result: SetResult):
    """A grouped bar chart: regional asymmetry (x 100, 0 = symmetric) per region and movement."""
    from matplotlib.figure import Figure

    regions = set_regions(result)
    figure = Figure(figsize=(6.4, 3.2), dpi=100)
    axes = figure.add_subplot()
    names = list(REGIONS)
    if regions:
        width = 0.8 / len(regions)
        for i, (key, values) in enumerate(regions.items()):
            xs = np.arange(len(names)) + (i - (len(regions) - 1) / 2) * width
            axes.bar(xs, [values[n] for n in names], width, label=movement_label(key))
        axes.legend(fontsize=7, loc="upper right", ncols=2)
    axes.axhline(5, color="grey", linestyle=":", linewidth=1)
    axes.set_xticks(range(len(names)), names)
    axes.set_ylabel("asymmetry x 100")
    axes.set_title("Regional asymmetry x 100 (0 = symmetric; dotted line: 5)", fontsize=9)
    figure.tight_layout()
    return figure


def figure_png(figure) -> np.ndarray:
    """An RGB array of a matplotlib figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def to_json(payload: Mapping) -> str:
    return json.dumps(payload, indent=2, default=str)


def to_csv(result: SetResult, eface: Mapping, sunnybrook: Mapping, grades: Mapping) -> str:
    """The numbers as CSV: measurement rows, then eFACE and Sunnybrook items and scores, then
    model grades (one row per photo and scale)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", *TABLE_HEADER])
    for row in measurement_rows(result):
        writer.writerow(["measurement", *row])
    for section, data in (("eface", eface), ("sunnybrook", sunnybrook)):
        for kind in ("items", "scores"):
            for key, value in (data.get(kind) or {}).items():
                writer.writerow([f"{section} {kind[:-1]}", "", key, "", "", value, "", ""])
    for scale, entry in grades.items():
        for key, grade in (entry.get("photos") or {}).items():
            writer.writerow(["grade", key, scale, entry.get("model_version"), "",
                             grade.get("label", grade.get("error")), "", ""])
    return out.getvalue()


def payload(result: SetResult, eface: Mapping, sunnybrook: Mapping, grades: Mapping,
            summary: str, *, subject: str | None = None, visit: str | None = None) -> dict:
    """Everything the page showed, as one JSON-able dict (saved, exported, reported)."""
    return {
        "fpgrade_report": 1, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "subject": subject, "visit": visit,
        "healthy_side": result.healthy_side, "side_reason": result.side_reason,
        "photos": [{"movement": p.movement, "mv": BY_KEY[p.movement].mv if p.movement in BY_KEY
                    else None, "name": p.name, "kind": p.kind, "error": p.error, "notes": p.notes,
                    "regions": p.regions,
                    "measurements": p.measurements.as_dict() if p.ok else None}
                   for p in result.photos],
        "missing_movements": result.missing,
        "eface": dict(eface), "sunnybrook": dict(sunnybrook), "grades": dict(grades),
        "summary": summary, "disclaimer": DISCLAIMER,
    }


def _grade_lines(grades: Mapping) -> list[str]:
    lines = []
    for scale, entry in grades.items():
        if entry.get("status") != "graded":
            lines.append(f"{scale}: no trained model" if entry.get("status") == "no_model"
                         else f"{scale}: {entry.get('message', '')[:110]}")
            continue
        tag = " [SYNTHETIC training data: not clinical evidence]" if entry.get("synthetic") else ""
        metrics = entry.get("test_metrics") or {}
        acc = metrics.get("accuracy")
        lines.append(f"{scale}: {entry['model_version']}{tag}"
                     + (f", test accuracy {acc:.2f}" if acc is not None else ""))
        for key, grade in entry["photos"].items():
            if "error" in grade:
                lines.append(f"    {key}: {grade['error'][:100]}")
            else:
                p = grade["probabilities"][grade["label"]]
                lines.append(f"    {key}: {grade['label']} (p {p:.2f}"
                             + (f", side {grade['side']}" if grade.get("side") else "")
                             + (", unsure" if grade.get("unsure") else "") + ")")
    return lines


def write_pdf(path: Path, result: SetResult, report: Mapping) -> Path:
    """The one-page A4 PDF report: overlay, measurement table, regional chart, eFACE and
    Sunnybrook scores, model grades with versions, the summary and the disclaimer."""
    import textwrap

    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.27, 11.69), dpi=100)
    title = "fpgrade report"
    if report.get("subject"):
        title += f": subject {report['subject']}"
    if report.get("visit"):
        title += f", visit {report['visit']}"
    figure.text(0.05, 0.965, title, fontsize=15, weight="bold")
    figure.text(0.05, 0.948, f"created {report['created']}; healthy side: "
                f"{report.get('healthy_side') or 'unknown'} ({report.get('side_reason', '')})",
                fontsize=7)
    shown = [p for p in result.photos if p.overlay is not None][:4]
    for i, photo in enumerate(shown):
        axes = figure.add_axes((0.05 + i * 0.23, 0.77, 0.21, 0.17))
        axes.imshow(photo.overlay)
        axes.set_title(movement_label(photo.movement), fontsize=6)
        axes.axis("off")
    chart = figure.add_axes((0.08, 0.60, 0.52, 0.14))
    regions = set_regions(result)
    names = list(REGIONS)
    if regions:
        width = 0.8 / len(regions)
        for i, (key, values) in enumerate(regions.items()):
            chart.bar(np.arange(len(names)) + (i - (len(regions) - 1) / 2) * width,
                      [values[n] for n in names], width, label=key.replace("_", " "))
        chart.legend(fontsize=5, ncols=2)
    chart.set_xticks(range(len(names)), names, fontsize=7)
    chart.tick_params(labelsize=6)
    chart.set_title("Regional asymmetry x 100 (0 = symmetric)", fontsize=7)
    eface, sunny = report.get("eface") or {}, report.get("sunnybrook") or {}
    score_lines = ["eFACE-style (measured):"]
    score_lines += [f"  {k}: {'n/a' if v is None else f'{v:.0f}'}"
                    for k, v in (eface.get("scores") or {}).items()]
    score_lines.append("Sunnybrook (clinician):")
    score_lines += [f"  {k}: {'not graded' if v is None else f'{v:g}'}"
                    for k, v in (sunny.get("scores") or {}).items()]
    figure.text(0.66, 0.735, "\n".join(score_lines), fontsize=7, va="top", family="monospace")
    rest = next((p for p in result.photos if p.ok and p.movement == "rest"),
                next((p for p in result.photos if p.ok), None))
    if rest is not None:
        table = figure.add_axes((0.05, 0.36, 0.9, 0.19))
        table.axis("off")
        rows = [[r[1], *("" if v is None else f"{v:g}" for v in r[2:6]), r[6]]
                for r in measurement_rows(result) if r[0] == rest.movement]
        t = table.table(cellText=rows, colLabels=["measurement", "right", "left", "difference",
                                                  "percent", "unit"], loc="upper center",
                        cellLoc="center")
        t.auto_set_font_size(False)
        t.set_fontsize(6)
        t.scale(1, 0.9)
        table.set_title(f"Measurements: {movement_label(rest.movement)}", fontsize=7)
    grade_text = "\n".join(_grade_lines(report.get("grades") or {})[:14])
    figure.text(0.05, 0.335, "Trained-model grades\n" + grade_text, fontsize=6.5, va="top",
                family="monospace")
    errors = [p.error for p in result.photos if p.error]
    body = textwrap.fill(report.get("summary", "").replace("**", ""), 120)
    if errors:
        body += "\n" + "\n".join(textwrap.shorten(e, 130) for e in errors)
    figure.text(0.05, 0.13, body, fontsize=7, va="top")
    figure.text(0.05, 0.03, textwrap.fill(DISCLAIMER, 110), fontsize=8, weight="bold",
                color="#8b0000")
    path = Path(path)
    with PdfPages(path) as pdf:
        pdf.savefig(figure)
    return path


def recovery_figure(code: str, history: list[dict]):
    """Every score and grade of a subject over its visits: eFACE and Sunnybrook scores (top) and
    each trained model's grade per visit, with its version (bottom)."""
    from datetime import date

    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 5.2), dpi=100)
    axes, grade_axes = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1.4))
    days = [date.fromisoformat(h["date"]) for h in history]
    series: dict[str, list] = {}
    for i, h in enumerate(history):
        for key, value in (h["eface"] or {}).items():
            series.setdefault(f"eFACE {key}", [None] * len(history))[i] = value
        value = (h["sunnybrook"] or {}).get("composite")
        series.setdefault("Sunnybrook composite", [None] * len(history))[i] = value
    for name, values in series.items():
        points = [(d, v) for d, v in zip(days, values) if v is not None]
        if points:
            axes.plot(*zip(*points), marker="o", label=name,
                      linestyle="--" if name.startswith("Sunnybrook") else "-")
    axes.set_ylim(0, 105)
    axes.set_ylabel("score (100 = normal)")
    axes.set_title(f"Subject {code}: scores and grades over {len(history)} visit(s)", fontsize=9)
    if any(axes.get_legend_handles_labels()[1]):
        axes.legend(fontsize=7, loc="lower right")
    rows: list[str] = []
    for d, h in zip(days, history):
        for scale, entry in (h["grades"] or {}).items():
            if entry.get("status") != "graded":
                continue
            labels = sorted({g["label"] for g in entry.get("photos", {}).values() if "label" in g})
            if scale not in rows:
                rows.append(scale)
            y = rows.index(scale)
            grade_axes.plot([d], [y], "s", color="grey")
            grade_axes.annotate(", ".join(labels) + (" (SYNTHETIC)" if entry.get("synthetic") else ""),
                                (d, y), xytext=(0, 6), textcoords="offset points", fontsize=6,
                                ha="center")
    grade_axes.set_yticks(range(len(rows)), rows, fontsize=7)
    grade_axes.set_ylim(-0.5, max(len(rows), 1) - 0.2)
    if len(days) > 0:
        span = max((max(days) - min(days)).days, 1)
        from datetime import timedelta

        pad = timedelta(days=max(1, span // 8))
        grade_axes.set_xlim(min(days) - pad, max(days) + pad)
    grade_axes.set_title("trained-model grades (versions: see the table)" if rows else
                         "no trained-model grade saved", fontsize=8)
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
