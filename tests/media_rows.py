"""One subject, one visit and one medium row: what the labelling and sync tests and benchmarks
set up by the hundred (no import, no file check; the caller writes the file if it needs one)."""

from __future__ import annotations

from sqlmodel import Session

from fpgrade.storage.tables import Media, MediaKind, Subject, Visit


def add_medium(session: Session, subject: str, path, sha256: str, *, movement: str = "MV0",
               synthetic: bool = False) -> Media:
    """A medium of a new subject ``subject`` (its own visit), flushed, not committed."""
    row = Subject(code=subject)
    session.add(row)
    session.flush()
    visit = Visit(subject_id=row.id)
    session.add(visit)
    session.flush()
    media = Media(visit_id=visit.id, path=str(path), sha256=sha256, kind=MediaKind.IMAGE,
                  movement=movement, synthetic=synthetic)
    session.add(media)
    session.flush()
    return media
