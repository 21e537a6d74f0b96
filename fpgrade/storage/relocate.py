"""``fpgrade db relocate OLD NEW``: the stored paths of media after their data folder moved.

Media are stored by content (``Media.sha256``) with the absolute path they were imported from.
When a data folder moves (a new disk, a renamed share), every medium whose stored path lies
under ``OLD`` is looked for at the same place under ``NEW``, and its bytes are hashed: a path
is rewritten only when the file there is the one that was imported (same sha256), because a
label belongs to the bytes that were labelled, not to whatever now has that name. If any file
is missing or different, nothing is rewritten and each is named (the move is incomplete, or
the folder is not the same data); ``partial`` rewrites the ones that match and leaves the others
as they were. All paths change in one transaction, with one audit event that lists the counts.

Paths are compared as stored (``Path.resolve()`` of the imported file, see
:mod:`fpgrade.importer`): ``OLD`` is taken as written, made absolute and resolved when it still
exists (the usual case is that it does not).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from fpgrade.errors import FpgradeError
from fpgrade.storage.tables import Media


class RelocationError(FpgradeError):
    """The relocation was refused: nothing was rewritten."""


@dataclass
class Relocation:
    """What a relocation found (and did, unless ``dry_run``)."""

    old: str
    new: str
    moved: list[tuple[str, str]] = field(default_factory=list)  # (old path, new path)
    missing: list[str] = field(default_factory=list)  # new paths with no file
    changed: list[str] = field(default_factory=list)  # new paths whose bytes differ
    already: int = 0  # media already under NEW (a second run)
    dry_run: bool = False
    written: bool = False

    @property
    def problems(self) -> list[str]:
        return ([f"{path}: missing" for path in self.missing]
                + [f"{path}: not the file that was imported (its sha256 differs)"
                   for path in self.changed])

    def as_dict(self) -> dict:
        return {"old": self.old, "new": self.new, "dry_run": self.dry_run, "written": self.written,
                "relocated": len(self.moved) if self.written else 0,
                "would_relocate": len(self.moved), "already_there": self.already,
                "missing": self.missing, "changed": self.changed,
                "errors": self.problems}


def _folder(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    return path.resolve() if path.exists() else path


def _under(stored: str, folder: Path) -> Path | None:
    """``stored`` relative to ``folder``, or ``None`` if it is not inside it."""
    try:
        return Path(stored).relative_to(folder)
    except ValueError:
        return None


def _where_media_are(paths: list[str], limit: int = 3) -> str:
    folders = Counter(str(Path(p).parent) for p in paths)
    return "; ".join(f"{folder} ({count})" for folder, count in folders.most_common(limit))


def relocate(session: Session, old: Path, new: Path, *, dry_run: bool = False,
             partial: bool = False, actor: str = "fpgrade db relocate") -> Relocation:
    """Rewrite the stored paths of media under ``old`` to the same places under ``new``.

    :param dry_run: check everything, write nothing.
    :param partial: rewrite the media whose file matches even if others are missing or changed.
    :raises RelocationError: ``new`` is not a folder, no medium is stored under ``old``, or
        (without ``partial``) a file is missing or changed: nothing is written.
    """
    from fpgrade.labelling import audit
    from fpgrade.media import sha256_file
    from fpgrade.storage.retry import in_transaction

    old_dir, new_dir = _folder(old), _folder(new)
    if not new_dir.is_dir():
        raise RelocationError(f"{new}: not a folder (the data folder's new place)")
    if old_dir == new_dir:
        raise RelocationError(f"{old} and {new} are the same folder")
    report = Relocation(str(old_dir), str(new_dir), dry_run=dry_run)
    media = list(session.exec(select(Media).order_by(Media.id)).all())
    targets = []
    for medium in media:
        relative = _under(medium.path, old_dir)
        if relative is None:
            report.already += _under(medium.path, new_dir) is not None
            continue
        candidate = new_dir / relative
        if not candidate.is_file():
            report.missing.append(str(candidate))
        elif sha256_file(candidate) != medium.sha256:
            report.changed.append(str(candidate))
        else:
            targets.append((medium, str(candidate)))
            report.moved.append((medium.path, str(candidate)))
    if not targets and not report.missing and not report.changed:
        if report.already:
            return report  # done before: nothing left under OLD
        stored = _where_media_are([m.path for m in media])
        raise RelocationError(f"{old}: no stored medium is under this folder"
                              + (f" (media are stored under {stored})" if stored else
                                 " (the database holds no media)"))
    if report.problems and not partial:
        shown = "; ".join(report.problems[:20])
        more = f"; and {len(report.problems) - 20} more" if len(report.problems) > 20 else ""
        raise RelocationError(
            f"nothing relocated: {len(report.missing)} file(s) missing and {len(report.changed)} "
            f"changed under {new_dir} ({shown}{more}). Finish copying the folder, or run again "
            f"with --partial to relocate the {len(targets)} that match")
    if dry_run or not targets:
        return report

    def work() -> None:
        for medium, path in targets:
            medium.path = path
            session.add(medium)
        audit.record(session, actor, "media_relocated", old=str(old_dir), new=str(new_dir),
                     relocated=len(targets), missing=len(report.missing),
                     changed=len(report.changed))

    in_transaction(session, work)
    report.written = True
    return report
