"""The table a batch command writes: CSV, JSON Lines or Parquet, chosen by the file's ending.

Rows are written as each file finishes (CSV and JSON Lines are flushed row by row, so a run that
is stopped keeps every row written, and ``--resume`` goes on from there); Parquet, a columnar
format, is written once at the end (with ``--resume``, the old rows are read and written again
with the new). Parquet needs ``pyarrow``, which fpgrade does not install: asking for it without
pyarrow is refused before anything is read. Column names are fixed by the command (units in the
names, e.g. ``mrd1_right_mm``), so tables of several runs can be concatenated.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from fpgrade.errors import FpgradeError

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


def output_format(out: Path) -> str:
    """``csv``, ``jsonl`` or ``parquet`` from the name of ``out``; refused (one line) when the
    ending is none of these, or is Parquet without pyarrow."""
    kind = FORMATS.get(out.suffix.lower())
    if kind is None:
        raise FpgradeError(f"{out}: cannot tell the table format from the ending "
                           f"'{out.suffix}': use .csv, .jsonl or .parquet")
    if kind == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise FpgradeError(f"{out}: Parquet needs the pyarrow package, which is not "
                               "installed (pip install pyarrow); or write .csv or .jsonl") from None
    return kind


def check_output(out: Path, resume: bool) -> str:
    """The format of ``out``, after checking that it can be written: its folder exists, and an
    existing table is only added to with ``resume`` (never overwritten)."""
    kind = output_format(out)
    if not out.parent.exists():
        raise FpgradeError(f"{out}: the folder {out.parent} does not exist")
    if out.exists() and not resume and out.stat().st_size > 0:
        raise FpgradeError(f"{out} already exists: pass --resume to add the files not yet in it, "
                           "or choose another name")
    return kind


def _cell(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_rows(out: Path) -> list[dict[str, Any]]:
    """The rows already in ``out`` (none when it does not exist)."""
    if not out.exists() or out.stat().st_size == 0:
        return []
    kind = output_format(out)
    if kind == "csv":
        with open(out, newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    if kind == "jsonl":
        rows = []
        with open(out, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:  # the last line of a run that was killed mid-write
                    raise FpgradeError(f"{out}: line {number} is not JSON (a run stopped while "
                                       "writing it?): remove that line and resume") from None
        return rows
    import pyarrow.parquet as pq

    return pq.read_table(out).to_pylist()


def done_paths(out: Path) -> set[Path]:
    """The files that already have rows in ``out`` (resolved paths), for ``--resume``."""
    return {Path(str(row["path"])).resolve() for row in read_rows(out) if row.get("path")}


class RowWriter:
    """Appends rows with the fixed ``columns`` to ``out`` (a context manager)."""

    def __init__(self, out: Path, columns: list[str]) -> None:
        self.out, self.columns, self.kind = out, columns, output_format(out)
        self._handle = None
        self._csv = None
        self._buffer: list[dict[str, Any]] = []
        self.written = 0

    def __enter__(self) -> RowWriter:
        exists = self.out.exists() and self.out.stat().st_size > 0
        if self.kind == "csv":
            if exists:
                with open(self.out, newline="", encoding="utf-8") as handle:
                    header = next(csv.reader(handle), [])
                if header != self.columns:
                    raise FpgradeError(f"{self.out}: its columns are not the ones this command "
                                       "writes (another command or version): write to a new file")
            self._handle = open(self.out, "a", newline="", encoding="utf-8")
            self._csv = csv.DictWriter(self._handle, fieldnames=self.columns, extrasaction="ignore")
            if not exists:
                self._csv.writeheader()
        elif self.kind == "jsonl":
            self._handle = open(self.out, "a", encoding="utf-8")
        else:
            self._buffer = read_rows(self.out) if exists else []
        return self

    def write(self, rows: list[dict[str, Any]]) -> None:
        rows = [{column: _cell(row.get(column)) for column in self.columns} for row in rows]
        if self.kind == "csv":
            self._csv.writerows(rows)
        elif self.kind == "jsonl":
            self._handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        else:
            self._buffer += rows
        if self._handle is not None:
            self._handle.flush()
        self.written += len(rows)

    def __exit__(self, *exc_info) -> None:
        if self._handle is not None:
            self._handle.close()
        elif self.kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pylist(self._buffer) if self._buffer else pa.table(
                {column: pa.array([], pa.null()) for column in self.columns})
            pq.write_table(table, self.out)
