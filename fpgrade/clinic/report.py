"""What a graded set becomes on paper and on disk: the measurement table, the regional
asymmetry chart, the PDF report (:mod:`fpgrade.clinic.pdf`), CSV and JSON, and the recovery
plot.

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

from fpgrade.clinic import tables
from fpgrade.clinic.assess import REGIONS, SetResult, set_regions
from fpgrade.clinic.movements import BY_KEY
from fpgrade.clinic.set_grades import RULE, combine, with_set_grades
from fpgrade.clinic.vocabulary import REGION_WORDS, SCORE_WORDS, scale_words

DISCLAIMER = ("Decision support, not a diagnosis: measurement-based scores and model grades are "
              "for a clinician to review with the patient in front of them.")
SIDE_COLOURS = {"right": "#d62728", "left": "#1f77b4"}


def movement_label(key: str) -> str:
    """A movement in words (``"Smile showing the teeth"``)."""
    return tables.movement_words(key)


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
            axes.bar(xs, [np.nan if values[n] is None else values[n] for n in names], width,
                     label=movement_label(key))
        axes.legend(fontsize=7, loc="upper right", ncols=2)
    axes.axhline(5, color="grey", linestyle=":", linewidth=1)
    axes.set_xticks(range(len(names)), [REGION_WORDS[n] for n in names])
    axes.set_ylabel("asymmetry x 100")
    axes.set_title("Regional asymmetry x 100 (0 = symmetric; dotted: 5)\n"
                   "no eye bar where both eyes are shut", fontsize=8)
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
    """The numbers as CSV: measurement rows (words with the stable ids in brackets), then eFACE
    and Sunnybrook items and scores, then model grades (the set's, then one row per photo)."""
    from fpgrade.registry import get_registry

    registry = get_registry()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", *tables.csv_header()])
    for row in tables.csv_rows(result):
        writer.writerow(["measurement", *row])
    for section, data, scale in (("eface", eface, "eface"), ("sunnybrook", sunnybrook,
                                                             "sunnybrook")):
        composite = registry.composite(scale)
        for key, value in (data.get("items") or {}).items():
            writer.writerow([f"{section} item", "", f"{composite.item(key).name} [{key}]", value,
                             "", "", "", "", "", ""])
        for key, value in (data.get("scores") or {}).items():
            writer.writerow([f"{section} score", "", f"{composite.name} {key} [{key}]", value,
                             "", "", "", "", "", ""])
    for scale, entry in with_set_grades(grades).items():
        if entry.get("set"):
            writer.writerow(["grade of the set", "", f"{scale_words(scale)} [{scale}]",
                             entry["set"]["label"], entry["set"]["probability"], "",
                             entry.get("model_version"), RULE, "", ""])
        for key, grade in (entry.get("photos") or {}).items():
            writer.writerow(["grade of a photo", f"{movement_label(key)} [{key}]",
                             f"{scale_words(scale)} [{scale}]",
                             grade.get("label", grade.get("error")),
                             (grade.get("probabilities") or {}).get(grade.get("label"), ""), "",
                             entry.get("model_version"), "", "", ""])
    return out.getvalue()


def payload(result: SetResult, eface: Mapping, sunnybrook: Mapping, grades: Mapping,
            summary: str, *, subject: str | None = None, visit: str | None = None,
            comment: str = "", clinician: str = "") -> dict:
    """Everything the page showed, as one JSON-able dict (saved, exported, reported)."""
    from fpgrade import __version__

    return {
        "fpgrade_report": 2, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "version": __version__, "subject": subject, "visit": visit,
        "healthy_side": result.healthy_side, "side_reason": result.side_reason,
        "rest_warning": result.rest_warning,
        "photos": [{"movement": p.movement, "mv": BY_KEY[p.movement].mv if p.movement in BY_KEY
                    else None, "name": p.name, "kind": p.kind, "error": p.error, "notes": p.notes,
                    "regions": p.regions,
                    "measurements": p.measurements.as_dict() if p.ok else None,
                    "landmark_corrections": getattr(p, "corrections", [])}
                   for p in result.photos],
        "landmarks_corrected_by_hand": correction_lines(result),
        "missing_movements": result.missing,
        "eface": dict(eface), "sunnybrook": dict(sunnybrook), "grades": with_set_grades(grades),
        "set_grade_rule": RULE, "summary": summary, "comment": comment, "clinician": clinician,
        "disclaimer": DISCLAIMER,
    }


def correction_lines(result: SetResult) -> list[str]:
    """One line per photo whose landmarks were corrected by hand (the points, how far, by
    whom), for the JSON and the PDF."""
    from fpgrade.clinic.corrections import all_corrections, line

    return [line(movement_label(key), records) for key, records in all_corrections(result)]


def write_pdf(path: Path, result: SetResult, report: Mapping) -> Path:
    """The PDF report (see :mod:`fpgrade.clinic.pdf`)."""
    from fpgrade.clinic import pdf
    from fpgrade.registry import get_registry

    registry = get_registry()
    automatic = {k: v.get("value") for k, v in result.eface_items.items()}
    return pdf.write(Path(path), result, report, eface_scale=registry.composite("eface"),
                     sunnybrook_scale=registry.composite("sunnybrook"), automatic=automatic,
                     disclaimer=DISCLAIMER)


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
            name = f"eFACE {SCORE_WORDS.get(key, key)}"
            series.setdefault(name, [None] * len(history))[i] = value
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
            combined = entry.get("set") or combine(entry)
            labels = [combined["label"]] if combined else ["no photo graded"]
            name = scale_words(scale)
            if name not in rows:
                rows.append(name)
            y = rows.index(name)
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
        import matplotlib.dates as mdates

        grade_axes.set_xticks(sorted(set(days)))  # the visits' days, never hours
        grade_axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    grade_axes.set_title("trained-model grades (versions: see the table)" if rows else
                         "no trained-model grade saved", fontsize=8)
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
