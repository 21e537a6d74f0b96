"""The PDF report a clinician files: A4 pages drawn with matplotlib's PDF backend.

Page 1: who and when, the summary (with the rest-photo warning), the scores with their ranges
and normal values, one grade per scale for the set (the rule that combines photos stated), and
every photo of the set with its landmarks (and a line per photo whose landmarks were corrected by
hand: the points, how far, by whom). Then the full measurement table per movement (normal
values and quality flags beside the values), the eFACE chart (every item against normal, as
Auto-eFACE shows it: :mod:`fpgrade.clinic.eface_chart`), the eFACE and Sunnybrook items, each
photo's model grades and notes, a free-text comment, a line for the clinician (name, signature,
date) and the disclaimer on every page.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

from fpgrade.clinic import set_grades, tables
from fpgrade.clinic.vocabulary import (EFACE_ITEM_RANGE, MEASURES, SCORE_RANGES, SCORE_WORDS,
                                       measure, scale_words)

A4 = (8.27, 11.69)
LEFT, RIGHT = 0.06, 0.94
LINE = 0.0145  # one table row, as a fraction of the page height
FONT = 7.0


class _Pages:
    """Figures of A4 pages with a cursor ``y`` that moves down as things are drawn."""

    def __init__(self, title: str, disclaimer: str) -> None:
        self.figures: list = []
        self.title, self.disclaimer = title, disclaimer
        self.new()

    def new(self) -> None:
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=A4, dpi=100)
        self.figures.append(self.figure)
        self.figure.text(LEFT, 0.975, self.title, fontsize=8, color="#444444")
        self.y = 0.955

    def need(self, height: float) -> None:
        if self.y - height < 0.07:
            self.new()

    def text(self, text: str, *, size: float = FONT, weight: str = "normal", color: str = "black",
             width: int | None = None, gap: float = 0.004) -> None:
        per_char = 0.6 if weight == "bold" else 0.53
        width = width or int((RIGHT - LEFT) * A4[0] * 72 / (size * per_char))
        lines = [w for para in text.split("\n") for w in (textwrap.wrap(para, width) or [""])]
        height = len(lines) * size / 72 / A4[1] * 1.35
        self.need(height)
        self.figure.text(LEFT, self.y, "\n".join(lines), fontsize=size, weight=weight,
                         color=color, va="top", linespacing=1.35)
        self.y -= height + gap

    def heading(self, text: str) -> None:
        self.need(0.05)
        self.y -= 0.006
        self.text(text, size=10, weight="bold", gap=0.003)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]],
              widths: Sequence[float], *, shade: Sequence[bool] = (), size: float = FONT) -> None:
        """Rows of text in columns (``widths``: fractions of the printable width); a long cell
        wraps within its column, a table that does not fit continues on the next page."""
        from matplotlib.patches import Rectangle

        span = RIGHT - LEFT
        xs = [LEFT + span * sum(widths[:i]) for i in range(len(widths))]
        chars = [max(4, int(w * span * A4[0] * 72 / (size * 0.56))) for w in widths]

        def draw(cells, bold=False, tint=False):
            wrapped = [textwrap.wrap(str(c), n) or [""] for c, n in zip(cells, chars)]
            height = (max(len(w) for w in wrapped) * size * 1.22 + 3.5) / 72 / A4[1]
            self.need(height)
            if tint:
                self.figure.patches.append(Rectangle(
                    (LEFT, self.y - height + 0.002), span, height,
                    transform=self.figure.transFigure, color="#fff1c2", zorder=0))
            for x, lines in zip(xs, wrapped):
                self.figure.text(x + 0.003, self.y - 0.002, "\n".join(lines), fontsize=size,
                                 va="top", weight="bold" if bold else "normal", linespacing=1.2)
            self.y -= height
            self.figure.add_artist(_rule(self.y))

        draw(header, bold=True)
        for i, row in enumerate(rows):
            if self.y - LINE < 0.07:
                self.new()
                draw(header, bold=True)
            draw(row, tint=bool(shade) and shade[i])
        self.y -= 0.008

    def photos(self, photos: Sequence, columns: int = 4) -> None:
        """Pictures in rows of ``columns``, each as high as its aspect ratio needs."""
        width = (RIGHT - LEFT) / columns

        def height_of(image):
            return width * 0.95 * A4[0] * image.shape[0] / image.shape[1] / A4[1]

        for start in range(0, len(photos), columns):
            row = photos[start:start + columns]
            height = max(height_of(image) for image, _ in row)
            self.need(height + 0.025)
            self.y -= 0.015  # the captions
            for i, (image, caption) in enumerate(row):
                axes = self.figure.add_axes((LEFT + i * width, self.y - height, width * 0.95,
                                             height))
                axes.imshow(image)
                axes.set_title(caption, fontsize=6.5)
                axes.axis("off")
            self.y -= height + 0.01

    def image(self, image, height: float = 0.2) -> None:
        ratio = image.shape[1] / image.shape[0] * height * A4[1] / A4[0]
        self.need(height + 0.01)
        axes = self.figure.add_axes((LEFT, self.y - height, ratio, height))
        axes.imshow(image)
        axes.axis("off")
        self.y -= height + 0.01

    def eface_chart(self, items, values: Mapping, scores: Mapping, automatic: Mapping,
                    why: Mapping) -> None:
        """The eFACE chart (:mod:`fpgrade.clinic.eface_chart`) drawn on the page itself, so its
        words stay text (searchable, sharp when printed)."""
        from fpgrade.clinic import eface_chart

        height = eface_chart.height_inches(items) * 0.8 / A4[1]
        self.need(height + 0.02)
        left = LEFT + 0.22  # the item names go in the margin the axes leave
        axes = self.figure.add_axes((left, self.y - height + 0.03, RIGHT - left - 0.02,
                                     height - 0.05))
        eface_chart.draw(axes, items, {i.id: values.get(i.id) for i in items}, scores, automatic,
                         why)
        self.y -= height + 0.01

    def finish(self, path: Path) -> Path:
        from matplotlib.backends.backend_pdf import PdfPages

        total = len(self.figures)
        with PdfPages(path) as pdf:
            for n, figure in enumerate(self.figures, 1):
                figure.text(LEFT, 0.035, textwrap.fill(self.disclaimer, 130), fontsize=6.5,
                            weight="bold", color="#8b0000", va="top")
                figure.text(RIGHT, 0.975, f"page {n} of {total}", fontsize=8, ha="right",
                            color="#444444")
                pdf.savefig(figure)
        return path


def _rule(y: float):
    from matplotlib.lines import Line2D

    return Line2D([LEFT, RIGHT], [y, y], linewidth=0.3, color="#bbbbbb")


def _fmt(value) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _score_rows(scale: str, scores: Mapping) -> list[list[str]]:
    rows = []
    for key, value in scores.items():
        value_range, normal, source = SCORE_RANGES.get((scale, key), ("", "", ""))
        shown = "not graded" if value is None else f"{value:.0f}" if scale == "eface" \
            else f"{value:g}"
        rows.append([f"{'eFACE' if scale == 'eface' else 'Sunnybrook'} "
                     f"{SCORE_WORDS.get(key, key)}", shown, value_range, normal, source])
    return rows


def write(path: Path, result, report: Mapping, *, eface_scale, sunnybrook_scale,
          automatic: Mapping[str, float | None], disclaimer: str) -> Path:
    """Write the report of a graded ``result`` (see :func:`fpgrade.clinic.report.payload`)."""
    who = f"subject {report.get('subject') or '(no subject given)'}, visit " \
          f"{report.get('visit') or '(no date given)'}"
    pages = _Pages(f"Facial palsy assessment: {who}", disclaimer)
    pages.text("Facial palsy assessment", size=15, weight="bold")
    pages.text(f"Subject (pseudonym): {report.get('subject') or '-'}    Visit date: "
               f"{report.get('visit') or '-'}    Report created: {report['created']}    "
               f"fpgrade {report.get('version', '')}", size=8)
    graded = [p for p in result.photos if p.ok]
    pages.text(f"Photos: {len(graded)} of {len(result.photos)} graded. Healthy side: "
               f"{report.get('healthy_side') or 'unknown'} ({report.get('side_reason', '')}).",
               size=8)
    if result.rest_warning:
        pages.text("WARNING: " + result.rest_warning, size=8, weight="bold", color="#b00000")
    pages.heading("Summary")
    pages.text(report.get("summary", "").replace("**", "").replace("⚠️ ", "").replace(
        result.rest_warning or "\0", "(see the warning above)"), size=8)

    pages.heading("Scores")
    eface, sunny = report.get("eface") or {}, report.get("sunnybrook") or {}
    pages.table(["Score", "Value", "Range", "Normal", "Source of the normal value"],
                _score_rows("eface", eface.get("scores") or {})
                + _score_rows("sunnybrook", sunny.get("scores") or {}),
                [0.3, 0.1, 0.1, 0.08, 0.42])
    pages.text("eFACE items from the photos are measurement-based (after Auto-eFACE), not a "
               "trained network; Sunnybrook items are entered by the clinician.", size=6.5)

    pages.heading("Trained-model grades for the set")
    grade_rows = []
    for scale, entry in (report.get("grades") or {}).items():
        name = scale_words(scale)
        if entry.get("status") != "graded":
            grade_rows.append([name, "no grade", "", "no trained model" if entry.get(
                "status") == "no_model" else "no usable trained model"])
            continue
        combined = entry.get("set") or set_grades.combine(entry)
        acc = (entry.get("test_metrics") or {}).get("accuracy")
        version = entry.get("model_version", "") + (
            " - SYNTHETIC training data, not clinical evidence" if entry.get("synthetic") else "") \
            + (f"; test accuracy {acc:.2f}" if acc is not None else "")
        grade_rows.append([name, set_grades.level_words(scale, combined["label"]) if combined
                           else "no photo graded",
                           f"{combined['probability']:.2f}" if combined else "", version])
    pages.table(["Scale", "Grade of the set", "Probability", "Model version"], grade_rows,
                [0.2, 0.3, 0.1, 0.4])
    pages.text(f"Grade of the set: {set_grades.RULE}. Each photo's grade is listed on the "
               "last page.", size=6.5)

    pages.heading(f"Photos graded ({len(graded)} of {len(result.photos)})")
    pages.text("Landmarks and measurement lines: red on the patient's right, blue on the left "
               "(the patient's right is on the left of the picture).", size=6.5)
    pages.photos([(p.overlay, tables.movement_words(p.movement)) for p in result.photos
                  if p.overlay is not None])
    for p in result.photos:
        if p.error:
            pages.text(f"{tables.movement_words(p.movement)}: NOT GRADED - {p.error}", size=7,
                       color="#b00000")
    for text in report.get("landmarks_corrected_by_hand") or []:
        pages.text(text + " (distances in the photo; the values these points feed are marked "
                   "in the measurement table).", size=7, weight="bold", color="#1f4e79")

    pages.new()
    if graded:
        from fpgrade.clinic.report import figure_png, region_figure

        pages.heading("Regional asymmetry per movement")
        pages.image(figure_png(region_figure(result)), height=0.2)
    pages.heading("Measurements per movement")
    pages.text(tables.NOTE, size=6.5)
    sources: list[str] = []

    def normal(row) -> str:
        m = measure(row.id)
        if not m.normal:
            return "0 if symmetric" if m.symmetric else "none used"
        if m.source not in sources:
            sources.append(m.source)
        return f"{m.normal} [{sources.index(m.source) + 1}]"

    for key, words, rows in tables.groups(result):
        pages.need(LINE * 5)
        pages.text(words, size=8.5, weight="bold", gap=0.001)
        pages.table(["Measurement", "Right", "Left", "Difference", "%", "Unit",
                     "Normal (healthy adults)", "Quality"],
                    [r.cells(short=True, normal=normal(r)) for r in rows],
                    [0.24, 0.07, 0.07, 0.09, 0.05, 0.07, 0.17, 0.25],
                    shade=[bool(r.flags) for r in rows], size=6.5)
    pages.text("Normal values: " + "; ".join(f"[{i}] {s}" for i, s in enumerate(sources, 1))
               + ". 'none used': no normative data is used for this measurement; compare the "
               "two sides.", size=6.5)
    pages.text("Measurements: " + "; ".join(f"{m.short}: {m.words}" for m in MEASURES.values()
                                             if m.short != m.words) + ".", size=6.5)

    pages.new()
    pages.heading("eFACE items (0-100, 100 = like the healthy side; 0 = the worst)")
    items = eface.get("items") or {}
    why = {k: v.get("why", "") for k, v in result.eface_items.items()}
    pages.eface_chart(eface_scale.items, items, eface.get("scores") or {}, automatic, why)
    eface_rows = []
    for item in eface_scale.items:
        value = items.get(item.id)
        auto = automatic.get(item.id)
        if value is None:
            how = why.get(item.id) or ("for the clinician" if not item.automatic else "")
        elif auto is not None and abs(auto - value) < 0.05:
            how = "from the photos"
        else:
            how = "entered by the clinician" + (f" (photos gave {auto:.0f})" if auto is not None
                                                 else "")
        eface_rows.append([item.group, item.name, "" if value is None else f"{value:.0f}", how])
    pages.table(["Group", "Item", "Value", "How"], eface_rows, [0.13, 0.3, 0.08, 0.49])
    pages.text(f"Item range {EFACE_ITEM_RANGE[0]}, normal {EFACE_ITEM_RANGE[1]} "
               f"({EFACE_ITEM_RANGE[2]}). An empty value is not graded.", size=6.5)

    pages.heading("Sunnybrook items (entered by the clinician)")
    chosen = sunny.get("items") or {}
    sunny_rows = []
    for item in sunnybrook_scale.items:
        value = chosen.get(item.id)
        text = "not graded" if value is None else (sunny.get("choices") or {}).get(
            item.id) or " / ".join(t for v, t in item.choices if v == value)
        sunny_rows.append([SCORE_WORDS.get(item.group, item.group), item.name,
                           "" if value is None else f"{value:g}", text])
    pages.table(["Group", "Item", "Value", "Meaning"], sunny_rows, [0.2, 0.32, 0.08, 0.4])

    per_photo = []
    for scale, entry in (report.get("grades") or {}).items():
        for key, g in (entry.get("photos") or {}).items():
            if "error" in g:
                per_photo.append([scale_words(scale), tables.movement_words(key), "error",
                                  g["error"][:90]])
            else:
                per_photo.append([scale_words(scale), tables.movement_words(key),
                                  set_grades.level_words(scale, g["label"]),
                                  f"{g['probabilities'][g['label']]:.2f}"
                                  + (", unsure" if g.get("unsure") else "")])
    if per_photo:
        pages.heading("Model grades per photo")
        pages.table(["Scale", "Photo", "Grade", "Probability"], per_photo, [0.2, 0.35, 0.3, 0.15])
    notes = [f"{tables.movement_words(p.movement)}: {n}" for p in result.photos for n in p.notes]
    if notes:
        pages.heading("Notes on the photos")
        pages.text("\n".join(notes), size=6.5)

    pages.heading("Clinician's comment")
    comment = (report.get("comment") or "").strip()
    if comment:
        pages.text(comment, size=8)
    else:
        for _ in range(4):
            pages.text("_" * 120, size=8, color="#999999")
    pages.need(0.06)
    pages.y -= 0.02
    clinician = (report.get("clinician") or "").strip()
    pages.text(f"Clinician: {clinician or '_' * 26}    Signature: {'_' * 24}    "
               f"Date: {'_' * 12}", size=9, width=200)
    return pages.finish(Path(path))
