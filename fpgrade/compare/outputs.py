"""The files of a comparison in ``--out``: ``table.md``, ``table.csv`` (models), ``pairs.csv``
(paired tests), ``table.tex``, ``comparison.json`` and ``report.html``; each written whole or not at
all (:mod:`fpgrade.files`)."""

from __future__ import annotations

from pathlib import Path

from fpgrade.compare import report, tables
from fpgrade.files import write_json, write_text

FILES = ("table.md", "table.csv", "pairs.csv", "table.tex", "comparison.json", "report.html")


def write_all(comparison: dict, out: Path) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / "table.md", tables.markdown(comparison))
    write_text(out / "table.csv", tables.models_csv(comparison))
    write_text(out / "pairs.csv", tables.pairs_csv(comparison))
    write_text(out / "table.tex", tables.latex(comparison))
    write_json(out / "comparison.json", comparison)
    write_text(out / "report.html", report.render(comparison))
    return [out / name for name in FILES]
