"""The measurement table of a graded set, grouped by movement, in words: one group per photo,
one row per measurement (right, left, difference, percentage where meaningful, the normal value
of healthy adults where published, and the quality flags beside the value they concern; a value
read from landmarks corrected by hand names those points, issue 19).

The page shows it as HTML (:func:`html`), the PDF draws it (:mod:`fpgrade.clinic.report`), the
CSV writes :func:`csv_rows` with stable ids beside the words.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass

from fpgrade.clinic.movements import BY_KEY
from fpgrade.clinic.vocabulary import (ORDER, PERCENT_FLOOR_MM, flag_words, measure,
                                       percent_shown)

NOTE = (f"Right and left are the patient's. % = the difference over the reference side (the "
        f"side the lower lip is pulled towards), shown only for millimetre values of at least "
        f"{PERCENT_FLOOR_MM:g} mm on both sides. Shaded rows carry a quality flag: treat those "
        "values with care.")
HEADER = ["Measurement", "Right", "Left", "Difference", "%", "Unit", "Normal (healthy adults)",
          "Quality"]


@dataclass
class Row:
    id: str
    short: str
    words: str
    right: float | None
    left: float | None
    difference: float
    percent: float | None
    unit: str
    normal: str
    flags: str
    corrected: str = ""  # the hand-moved points this value reads (issue 19), in words

    def cells(self, *, short: bool = False, normal: str | None = None) -> list[str]:
        def num(v, digits=2):
            return "" if v is None else f"{v:.{digits}f}"

        quality = "; ".join(t for t in (self.flags, self.corrected) if t)
        return [self.short if short else self.words, num(self.right), num(self.left),
                num(self.difference), num(self.percent, 0), self.unit,
                self.normal if normal is None else normal, quality]


def movement_words(key: str) -> str:
    m = BY_KEY.get(key)
    return m.instruction if m else key.replace("_", " ")


def photo_rows(m, corrections: list[dict] | None = None) -> list[Row]:
    """The rows of one photo's :class:`~fpgrade.face.measure.FaceMeasurements`; a value that
    reads a point corrected by hand (``corrections``, :mod:`fpgrade.clinic.corrections`) says
    so in ``corrected``."""
    from fpgrade.clinic.corrections import affected, point_words

    moved = affected(corrections or [])

    def corrected(*keys: str) -> str:
        points = list(dict.fromkeys(p for k in keys for p in moved.get(k, [])))
        return ("landmarks corrected by hand: " + ", ".join(point_words(p) for p in points)
                ) if points else ""

    rows = []
    names = [n for n in ORDER if n in m.sides or n in m.deviations]
    names += [n for n in (*m.sides, *m.deviations) if n not in names]
    for name in names:
        words = measure(name)
        if name in m.sides:
            v = m.sides[name]
            flags = sorted({*m.flags(name, "left"), *m.flags(name, "right")})
            side_flags = {s: m.flags(name, s) for s in ("right", "left")}
            text = "; ".join(f"{s}: {flag_words(f)}" for s, f in side_flags.items() if f) \
                if set(side_flags["right"]) != set(side_flags["left"]) else flag_words(flags)
            rows.append(Row(name, words.short, words.label, v.right, v.left, v.difference,
                            percent_shown(v.left, v.right, v.percent, v.unit), v.unit,
                            words.normal_text, text,
                            corrected(f"{name}_right", f"{name}_left")))
        else:
            rows.append(Row(name, words.short, words.label, None, None, m.deviations[name], None,
                            "mm", words.normal_text, flag_words(m.flags(name)), corrected(name)))
    return rows


def groups(result) -> list[tuple[str, str, list[Row]]]:
    """(movement key, movement in words, rows) for each measured photo of the set."""
    return [(p.movement, movement_words(p.movement),
             photo_rows(p.measurements, getattr(p, "corrections", None)))
            for p in result.photos if p.ok]


def html(result) -> str:
    """The grouped table for the page: one foldable block per movement (the first open), each
    short enough to read without scrolling inside a box."""
    cell = 'style="padding:2px 6px;border-bottom:1px solid #ddd;text-align:left"'
    parts = ['<div class="fp-table">']
    for i, (key, words, rows) in enumerate(groups(result)):
        parts.append(f'<details{" open" if i == 0 else ""} data-movement="{key}" '
                     'style="margin:4px 0;border:1px solid #ccc;border-radius:6px;padding:4px 8px">'
                     f"<summary><b>{_html.escape(words)}</b> ({len(rows)} measurements)</summary>"
                     '<table style="width:100%;border-collapse:collapse;font-size:0.85em">'
                     "<thead><tr>" + "".join(f"<th {cell}>{h}</th>" for h in HEADER)
                     + "</tr></thead><tbody>")
        for row in rows:
            cells = row.cells()
            style = ' style="background:rgba(255,200,0,0.18)"' if row.flags else ""
            marks = f' data-measure="{row.id}"' + (' data-corrected="yes"' if row.corrected
                                                   else "")
            cells[7] = "<br>".join(part for part in (
                f"⚠️ {_html.escape(row.flags)}" if row.flags else "",
                f'<span style="color:#1f4e79">{_html.escape(row.corrected)}</span>'
                if row.corrected else "") if part)
            parts.append(f"<tr{style}{marks}>" + "".join(
                f"<td {cell}>{c if j == 7 else _html.escape(c)}</td>"
                for j, c in enumerate(cells)) + "</tr>")
        parts.append("</tbody></table></details>")
    parts.append(f"<p style=\"font-size:0.85em\">{_html.escape(NOTE)}</p></div>")
    return "".join(parts)


def csv_header() -> list[str]:
    return ["movement [id]", "measurement [id]", "right", "left", "difference", "percent",
            "unit", "normal (healthy adults)", "quality flags", "landmarks corrected by hand"]


def csv_rows(result) -> list[list]:
    """Flat rows for the CSV: words with the stable ids in brackets."""
    out = []
    for key, words, rows in groups(result):
        for r in rows:
            out.append([f"{words} [{key}]", f"{measure(r.id).label} [{r.id}]",
                        *("" if v is None else round(v, 3) for v in (r.right, r.left,
                                                                     r.difference, r.percent)),
                        r.unit, r.normal, r.flags, r.corrected.split(": ", 1)[-1]])
    return out

