"""Dataset import: a manifest CSV, or a folder ``<subject>/<movement>.<ext>`` with a labels CSV.

Each row is checked (file exists and is a photo or video, scale known, label in scale) and written
in its own savepoint, so a bad row is reported with where it came from and why, and the good rows
are kept. Files are stored once per sha256; re-running the same import changes nothing.

Several imports may run at once on one database: files are probed and hashed outside any
transaction, rows are written in batches of :data:`BATCH_ROWS`, each batch committed on its own
and retried as a whole when it loses a race for the database (:mod:`fpgrade.storage.retry`); a
row whose subject, visit, file or label another import has just stored is retried in its
savepoint and then finds the stored one.

An imported label becomes the medium's final label on its scale (method ``imported``) where all
imported labels of that medium and scale agree; where they disagree there is no final label
until a labelling campaign decides (counted as ``undecided``). An import never replaces a
campaign's final label; a campaign's decision replaces an imported one
(:mod:`fpgrade.labelling.final`).
"""

from __future__ import annotations

import codecs
import csv
import errno
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.markup import escape
from rich.progress import track
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from fpgrade.errors import FpgradeError, ImportRowError
from fpgrade.labelling.final import set_final
from fpgrade.labelling.model import Method, PassKind
from fpgrade.media import MediaInfo, probe, sha256_file
from fpgrade.registry import Registry
from fpgrade.storage.retry import in_transaction
from fpgrade.storage.tables import (
    Annotation, AnnotationSource, FinalLabel, Media, Subject, Visit,
)

MANIFEST_COLUMNS = ("subject", "path", "movement", "scale", "label")
LABEL_COLUMNS = ("subject", "scale", "label")
DEFAULT_ANNOTATOR = "import"
DEFAULT_VISIT = "default"
BATCH_ROWS = 50
ROW_ATTEMPTS = 3
_TRUE, _FALSE = ("1", "true", "yes"), ("0", "false", "no")


@dataclass(frozen=True)
class ImportItem:
    """One file to store, with at most one label, and where it came from (for error messages)."""

    origin: str
    subject: str
    path: Path
    movement: str | None = None
    visit: str = DEFAULT_VISIT
    scale: str | None = None
    label: str | None = None
    annotator: str = DEFAULT_ANNOTATOR
    pass_number: int = 1
    synthetic: bool = False


@dataclass(frozen=True)
class RowError:
    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


@dataclass
class ImportReport:
    """What an import added, what it found already stored, and which rows it refused."""

    rows: int = 0
    subjects_added: int = 0
    media_added: int = 0
    annotations_added: int = 0
    unchanged: int = 0
    #: media whose imported labels on a scale disagree: no final label until a campaign decides
    undecided: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.subjects_added or self.media_added or self.annotations_added)

    def add(self, other: ImportReport) -> None:
        """Add the counts and errors of ``other`` (one committed batch) to this report."""
        self.rows += other.rows
        self.subjects_added += other.subjects_added
        self.media_added += other.media_added
        self.annotations_added += other.annotations_added
        self.unchanged += other.unchanged
        self.undecided += other.undecided
        self.errors += other.errors

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "subjects_added": self.subjects_added,
            "media_added": self.media_added,
            "annotations_added": self.annotations_added,
            "unchanged": self.unchanged,
            "undecided": self.undecided,
            "errors": [{"origin": e.origin, "reason": e.reason} for e in self.errors],
        }


def _cell(row: dict[str, str | None], column: str) -> str | None:
    value = (row.get(column) or "").strip()
    return value or None


def why_missing(path: Path) -> str:
    """Why ``path`` cannot be opened although it was named: a symbolic link loop, a link to a
    missing file, or simply no such file (``Path.exists`` says ``False`` for all three)."""
    if path.is_symlink():
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "a symbolic link loop (the links point at each other, never at a file)"
            return f"a symbolic link to {os.readlink(path)}, which does not exist"
    return "no such file or folder"


def _resolved(path: Path) -> Path:
    """``path`` made absolute through its links; a link loop is refused by name
    (``Path.resolve`` raises RuntimeError on Python 3.11, OSError from 3.13)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:
        raise ImportRowError(f"{path}: {why_missing(path)}") from exc


def _encoding(path: Path) -> str:
    """The encoding of a CSV from its byte-order mark: UTF-16/32 as Excel's "Unicode text" and
    some Windows tools write, else UTF-8 (with or without its mark)."""
    with open(path, "rb") as raw:
        head = raw.read(4)
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise FpgradeError(f"{path}: looks like UTF-16 text without a byte-order mark; save it as "
                           "\"CSV UTF-8\"")
    return "utf-8-sig"


def _read_csv(path: Path, required: Iterable[str]) -> Iterator[tuple[int, dict[str, str | None]]]:
    """Rows of a CSV with their line numbers; the header must have the required columns.

    UTF-8 is read, and UTF-16 or UTF-32 with a byte-order mark; any other encoding is one line
    saying how to save the file."""
    if not path.exists():
        raise FpgradeError(f"{path}: {why_missing(path)}")
    try:
        encoding = _encoding(path)
        handle = open(path, newline="", encoding=encoding)
    except OSError as exc:
        raise FpgradeError(f"{path}: cannot read ({exc.strerror})") from exc
    rows = _csv_rows(handle, path, required)
    try:
        yield from rows
    except UnicodeError as exc:
        raise FpgradeError(
            f"{path}: not {encoding.removesuffix('-sig').upper()} text ({exc.reason}); "
            "save it as \"CSV UTF-8\"") from None


def _csv_rows(handle, path: Path, required: Iterable[str]) -> Iterator[tuple[int, dict[str, str | None]]]:
    with handle:
        reader = csv.DictReader(handle)
        header = [name.strip().lower() for name in reader.fieldnames or ()]
        missing = [name for name in required if name not in header]
        if missing:
            delimiter = _wrong_delimiter(header)
            if delimiter:
                raise FpgradeError(
                    f"{path}: the delimiter looks wrong: the header is one column split by "
                    f"{delimiter!r}; fpgrade reads comma-separated CSV ({','.join(required)})"
                )
            raise FpgradeError(f"{path}: missing column(s) {', '.join(missing)} in the header")
        reader.fieldnames = header
        for row in reader:
            yield reader.line_num, row


def _wrong_delimiter(header: list[str]) -> str | None:
    """The delimiter a one-column header seems to use instead of commas, if any."""
    if len(header) != 1:
        return None
    counts = {d: header[0].count(d) for d in (";", "\t", "|", ":")}
    best = max(counts, key=counts.get)
    return best if counts[best] else None


def _synthetic(row: dict[str, str | None]) -> bool:
    raw = (_cell(row, "synthetic") or "0").lower()
    if raw not in _TRUE + _FALSE:
        raise ImportRowError(f"synthetic {raw!r} is not 1/0 (or yes/no, true/false)")
    return raw in _TRUE


def _pass_number(row: dict[str, str | None]) -> int:
    raw = _cell(row, "pass") or "1"
    if not raw.isdigit() or int(raw) < 1:
        raise ImportRowError(f"pass {raw!r} is not a positive whole number")
    return int(raw)


def manifest_items(manifest: Path) -> Iterator[ImportItem | RowError]:
    """Items of a manifest CSV (columns subject, path, movement, scale, label[, annotator,
    visit, pass, synthetic]); relative paths are relative to the manifest's folder. ``synthetic``
    is 1 for data made by ``fpgrade synth`` (also yes/true), empty or 0 for real data."""
    for line, row in _read_csv(manifest, MANIFEST_COLUMNS):
        origin = f"{manifest}:{line}"
        subject, raw_path = _cell(row, "subject"), _cell(row, "path")
        if not subject or not raw_path:
            yield RowError(origin, "subject and path are required")
            continue
        try:
            pass_number = _pass_number(row)
            synthetic = _synthetic(row)
            path = _resolved(manifest.parent / raw_path)
        except ImportRowError as exc:
            yield RowError(origin, str(exc))
            continue
        yield ImportItem(
            origin=origin,
            subject=subject,
            path=path,
            movement=_cell(row, "movement"),
            visit=_cell(row, "visit") or DEFAULT_VISIT,
            scale=_cell(row, "scale"),
            label=_cell(row, "label"),
            annotator=_cell(row, "annotator") or DEFAULT_ANNOTATOR,
            pass_number=pass_number,
            synthetic=synthetic,
        )


def folder_items(root: Path, labels: Path | None) -> Iterator[ImportItem | RowError]:
    """Items of a folder ``<subject>/<movement>.<ext>``; ``labels`` (columns subject, scale,
    label[, movement, annotator, pass]) labels one movement, or all of a subject's files when its
    movement cell is empty."""
    if not root.is_dir():
        raise FpgradeError(f"{root}: not a folder")
    files = sorted(
        p for p in root.glob("*/*") if p.is_file() and not p.name.startswith(".")
    )
    if not files:
        raise FpgradeError(_no_layout(root))
    for link in sorted(p for p in root.glob("*/*") if p.is_symlink() and not p.exists()):
        yield RowError(str(link), why_missing(link))
    by_subject: dict[str, list[Path]] = {}
    for path in files:
        by_subject.setdefault(path.parent.name, []).append(path)
    labelled: set[Path] = set()
    for line, row in _read_csv(labels, LABEL_COLUMNS) if labels else ():
        origin = f"{labels}:{line}"
        subject, movement = _cell(row, "subject"), _cell(row, "movement")
        targets = [
            p for p in by_subject.get(subject or "", []) if movement in (None, p.stem)
        ]
        if not targets:
            where = f"{root / (subject or '?')}/{movement or '*'}.*"
            yield RowError(origin, f"no file matches {where}")
            continue
        try:
            pass_number = _pass_number(row)
        except ImportRowError as exc:
            yield RowError(origin, str(exc))
            continue
        for path in targets:
            labelled.add(path)
            yield ImportItem(
                origin=f"{origin} ({path.relative_to(root)})",
                subject=path.parent.name,
                path=path.resolve(),
                movement=path.stem,
                scale=_cell(row, "scale"),
                label=_cell(row, "label"),
                annotator=_cell(row, "annotator") or DEFAULT_ANNOTATOR,
                pass_number=pass_number,
            )
    for path in files:
        if path not in labelled:
            yield ImportItem(str(path), path.parent.name, path.resolve(), movement=path.stem)


def _no_layout(root: Path) -> str:
    """Why a folder gave nothing to import: the layout expected, and what is there instead."""
    flat = sum(1 for p in root.iterdir() if p.is_file() and not p.name.startswith("."))
    found = (f"found {flat} file(s) directly in it and none in sub-folders" if flat
             else "found no file in its sub-folders")
    hint = (f"; to measure or grade the files as they are, without storing them: "
            f"fpgrade measure {root} --out table.csv" if flat else "")
    return (f"{root}: nothing to import ({found}). Expected one sub-folder per subject holding "
            f"that subject's photos and videos named by movement, e.g. {root / 'S001' / 'MV1.jpg'} "
            f"and {root / 'S001' / 'MV2.mp4'}, or a manifest CSV (fpgrade import MANIFEST.csv){hint}")


@dataclass(frozen=True)
class _Checked:
    """An item whose label, file type and hash were checked outside any transaction."""

    item: ImportItem
    label: tuple[str, str] | None
    info: MediaInfo
    digest: str


class Importer:
    """Writes :class:`ImportItem` s into the database: checked first, then written in batches
    (one savepoint per row, one retried transaction per batch)."""

    def __init__(self, session: Session, registry: Registry, batch_rows: int = BATCH_ROWS) -> None:
        self.session = session
        self.registry = registry
        self.batch_rows = batch_rows
        self.report = ImportReport()
        self._hashes: dict[Path, str] = {}

    def run(self, items: Iterable[ImportItem | RowError], description: str) -> ImportReport:
        batch: list[_Checked | RowError] = []
        for item in track(list(items), description=escape(description), transient=True):
            batch.append(self._check(item))
            if len(batch) >= self.batch_rows:
                self._write(batch)
                batch = []
        self._write(batch)
        return self.report

    def _check(self, item: ImportItem | RowError) -> _Checked | RowError:
        """The cheap checks first (label), then the file (type, size, hash); no database."""
        if isinstance(item, RowError):
            return item
        try:
            label = self._checked_label(item)
            info = probe(item.path)
            if item.path not in self._hashes:
                self._hashes[item.path] = sha256_file(item.path)
        except FpgradeError as exc:
            return RowError(item.origin, str(exc))
        except OSError as exc:
            return RowError(item.origin, f"{item.path}: cannot read ({exc.strerror})")
        return _Checked(item, label, info, self._hashes[item.path])

    def _write(self, batch: list[_Checked | RowError]) -> None:
        """Store one batch in one transaction, retried as a whole if it loses a race."""
        if not batch:
            return

        def work() -> ImportReport:
            report = ImportReport()
            for entry in batch:
                report.rows += 1
                if isinstance(entry, RowError):
                    report.errors.append(entry)
                else:
                    self._store_row(entry, report)
            return report

        self.report.add(in_transaction(self.session, work))

    def _store_row(self, checked: _Checked, report: ImportReport) -> None:
        """One row in its own savepoint; a unique key that another import stored meanwhile
        (PostgreSQL) rolls the savepoint back and the row is tried again."""
        for attempt in range(ROW_ATTEMPTS):
            row_report = ImportReport()
            try:
                with self.session.begin_nested():
                    self._store(checked, row_report)
            except FpgradeError as exc:
                report.errors.append(RowError(checked.item.origin, str(exc)))
                return
            except IntegrityError:
                if attempt == ROW_ATTEMPTS - 1:
                    raise
                continue
            report.add(row_report)
            return

    def _checked_label(self, item: ImportItem) -> tuple[str, str] | None:
        if item.scale is None and item.label is None:
            return None
        if item.scale is None or item.label is None:
            raise ImportRowError("scale and label must be given together")
        scale = self.registry.scale(item.scale)
        return scale.id, scale.normalise(item.label)

    def _store(self, checked: _Checked, report: ImportReport) -> None:
        item, label = checked.item, checked.label
        media = self._media(item, checked.digest, checked.info, report)
        if label is None:
            return
        scale_id, code = label
        stored = self.session.exec(
            select(Annotation).where(
                Annotation.media_id == media.id,
                Annotation.annotator == item.annotator,
                Annotation.pass_number == item.pass_number,
                Annotation.scale == scale_id,
            )
        ).first()
        if stored is not None:
            if stored.label != code:
                raise ImportRowError(
                    f"label {code!r} conflicts with the stored label {stored.label!r} of "
                    f"annotator {item.annotator!r} (pass {item.pass_number}, {scale_id}); "
                    "the stored label is kept"
                )
            report.unchanged += 1
            return
        annotation = Annotation(
            media_id=media.id,
            annotator=item.annotator,
            pass_number=item.pass_number,
            scale=scale_id,
            label=code,
            source=AnnotationSource.IMPORT,
            pass_kind=PassKind.IMPORTED.value,
        )
        self.session.add(annotation)
        self.session.flush()
        report.annotations_added += 1
        self._final(annotation, report)

    def _final(self, annotation: Annotation, report: ImportReport) -> None:
        """An imported label is final where every imported label of the medium on that scale
        agrees and no campaign has decided it; imports that disagree withdraw the imported
        final label (a campaign decides), and an import never overrides a campaign."""
        media_id, scale_id = annotation.media_id, annotation.scale
        final = self.session.exec(select(FinalLabel).where(
            FinalLabel.media_id == media_id, FinalLabel.scale == scale_id)).first()
        if final is not None and final.method != Method.IMPORTED:
            return
        imported = self.session.exec(select(Annotation.id, Annotation.label).where(
            Annotation.media_id == media_id, Annotation.scale == scale_id,
            Annotation.pass_kind == PassKind.IMPORTED.value)).all()
        if len({label for _, label in imported}) > 1:
            if final is not None:
                self.session.delete(final)
                self.session.flush()
            report.undecided += 1
            return
        if final is None:
            set_final(self.session, media_id=media_id, scale=scale_id, label=annotation.label,
                      method=Method.IMPORTED, decided_by=annotation.annotator,
                      annotation_ids=[i for i, _ in imported])
        else:
            final.annotation_ids = [i for i, _ in imported]
            self.session.add(final)

    def _subject_visit(self, item: ImportItem, report: ImportReport) -> Visit:
        subject = self.session.exec(select(Subject).where(Subject.code == item.subject)).first()
        if subject is None:
            subject = Subject(code=item.subject)
            self.session.add(subject)
            self.session.flush()
            report.subjects_added += 1
        visit = self.session.exec(
            select(Visit).where(Visit.subject_id == subject.id, Visit.name == item.visit)
        ).first()
        if visit is None:
            visit = Visit(subject_id=subject.id, name=item.visit)
            self.session.add(visit)
            self.session.flush()
        return visit

    def _media(self, item: ImportItem, digest: str, info: MediaInfo, report: ImportReport) -> Media:
        media = self.session.exec(select(Media).where(Media.sha256 == digest)).first()
        if media is not None:
            visit = self.session.get(Visit, media.visit_id)
            owner = self.session.get(Subject, visit.subject_id)
            if owner.code != item.subject:
                raise ImportRowError(
                    f"{item.path} is the same file (sha256 {digest[:12]}) as media "
                    f"#{media.id} of subject {owner.code!r}, not {item.subject!r}"
                )
            if item.movement and media.movement and item.movement != media.movement:
                raise ImportRowError(
                    f"{item.path} is the same file as media #{media.id}, stored with movement "
                    f"{media.movement!r}, not {item.movement!r}"
                )
            if item.synthetic != media.synthetic:
                raise ImportRowError(
                    f"{item.path} is the same file as media #{media.id}, stored as "
                    f"{'synthetic' if media.synthetic else 'real'} data, not "
                    f"{'synthetic' if item.synthetic else 'real'}"
                )
            if item.scale is None:
                report.unchanged += 1
            return media
        visit = self._subject_visit(item, report)
        media = Media(
            visit_id=visit.id,
            path=str(item.path),
            sha256=digest,
            kind=info.kind,
            movement=item.movement,
            source=AnnotationSource.IMPORT,
            width=info.width,
            height=info.height,
            frames=info.frames,
            synthetic=item.synthetic,
        )
        self.session.add(media)
        self.session.flush()
        report.media_added += 1
        return media


def import_manifest(manifest: Path, *, session: Session, registry: Registry) -> ImportReport:
    """Import a manifest CSV into the database behind ``session``."""
    return Importer(session, registry).run(manifest_items(manifest), f"Importing {manifest.name}")


def import_folder(
    root: Path, labels: Path | None, *, session: Session, registry: Registry
) -> ImportReport:
    """Import a ``<subject>/<movement>.<ext>`` folder (and its labels CSV) into the database."""
    return Importer(session, registry).run(folder_items(root, labels), f"Importing {root.name}")
