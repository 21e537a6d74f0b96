"""Following recovery: a graded set saved to a subject (the clinic's pseudonym) and a visit date,
and every score and grade of a subject over its visits.

A visit date in the future is refused. A second save of the same subject and date is not added
silently: :func:`save` raises :class:`VisitExistsError` unless ``on_existing`` says ``replace``
(the visit's earlier assessments are deleted) or ``keep_both`` (both are kept; the recovery view
shows the latest).

A saved assessment may keep its photos (``photos`` of :func:`save`, see
:mod:`fpgrade.clinic.visit_photos`); replacing or deleting it (:func:`delete`) removes them, rows
and files."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

from sqlmodel import select

from fpgrade.clinic import visit_photos
from fpgrade.errors import FpgradeError
from fpgrade.storage import database
from fpgrade.storage.tables import Assessment, Subject, Visit

PSEUDONYM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class SubjectCodeError(FpgradeError):
    """A subject code that is not a pseudonym of the accepted form."""


class VisitExistsError(FpgradeError):
    """The subject already has an assessment on that visit date (``count`` of them)."""

    def __init__(self, code: str, day: date, count: int) -> None:
        super().__init__(f"subject {code} already has {count} saved assessment"
                         f"{'s' if count > 1 else ''} on {day.isoformat()}")
        self.code, self.day, self.count = code, day, count


def check_code(code: str) -> str:
    """The subject code, stripped; refused unless it is a pseudonym (letters, digits, ``. _ -``,
    no spaces: a code such as ``P017``, never the patient's name)."""
    code = (code or "").strip()
    if not PSEUDONYM.match(code):
        raise SubjectCodeError(
            f"subject {code!r}: give the clinic's pseudonym (letters, digits, '.', '_' or '-', "
            "up to 64, no spaces), never the patient's name")
    return code


def parse_date(value: str | date, *, today: date | None = None) -> date:
    """A visit date (``YYYY-MM-DD``), refused when after ``today`` (default: the local date)."""
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            raise FpgradeError(f"visit date {value!r}: write it as YYYY-MM-DD") from None
    today = today or date.today()
    if day > today:
        raise FpgradeError(f"visit date {day.isoformat()} is in the future (today is "
                           f"{today.isoformat()}): give the date the photos were taken")
    return day


def save(code: str, visit_date: str | date, *, healthy_side: str | None, eface: dict,
         sunnybrook: dict, grades: dict, measurements: dict,
         on_existing: str | None = None,
         photos: list[visit_photos.Kept] | None = None) -> int:
    """Store an assessment for ``code`` on ``visit_date`` (the visit is created when new);
    returns its id. ``on_existing``: ``None`` (raise :class:`VisitExistsError` when the visit
    already has an assessment), ``"replace"`` (the earlier assessments and their kept photos
    are deleted) or ``"keep_both"``. ``photos``: the photos to keep with it (``None``: none)."""
    if on_existing not in (None, "replace", "keep_both"):
        raise ValueError(f"on_existing must be None, 'replace' or 'keep_both', not {on_existing!r}")
    code, day = check_code(code), parse_date(visit_date)
    with database.session() as session:
        subject = session.exec(select(Subject).where(Subject.code == code)).first()
        if subject is None:
            subject = Subject(code=code)
            session.add(subject)
            session.flush()
        visit = session.exec(select(Visit).where(Visit.subject_id == subject.id,
                                                 Visit.name == day.isoformat())).first()
        if visit is None:
            visit = Visit(subject_id=subject.id, name=day.isoformat(),
                          recorded_on=datetime(day.year, day.month, day.day, tzinfo=timezone.utc))
            session.add(visit)
            session.flush()
        earlier = session.exec(select(Assessment).where(Assessment.visit_id == visit.id)).all()
        if earlier and on_existing is None:
            raise VisitExistsError(code, day, len(earlier))
        replaced: list = []
        if earlier and on_existing == "replace":
            replaced = visit_photos.delete_rows(session, [int(old.id) for old in earlier])
            session.flush()
            for old in earlier:
                session.delete(old)
            session.flush()
        row = Assessment(visit_id=visit.id, healthy_side=healthy_side, eface=eface,
                         sunnybrook=sunnybrook, grades=grades, measurements=measurements)
        session.add(row)
        session.flush()
        kept = visit_photos.keep(session, int(row.id), photos) if photos else []
        new_folders = {visit_photos.folder_of(p) for p in kept} - {None}
        try:
            session.commit()
        except BaseException:
            visit_photos.remove_folders(new_folders)
            raise
        visit_photos.remove_folders(replaced)
        return int(row.id)


def subjects() -> list[str]:
    """Codes of the subjects with at least one saved assessment."""
    with database.session() as session:
        rows = session.exec(select(Subject.code).join(Visit, Visit.subject_id == Subject.id)
                            .join(Assessment, Assessment.visit_id == Visit.id).distinct()).all()
    return sorted(rows)


def history(code: str) -> list[dict]:
    """One entry per visit of ``code``, oldest first: its date and the latest assessment's
    eFACE and Sunnybrook scores and model grades."""
    code = check_code(code)
    with database.session() as session:
        rows = session.exec(
            select(Visit, Assessment).join(Subject, Subject.id == Visit.subject_id)
            .join(Assessment, Assessment.visit_id == Visit.id).where(Subject.code == code)
            .order_by(Visit.name, Assessment.created_at, Assessment.id)).all()
    latest: dict[str, Assessment] = {}
    for visit, assessment in rows:
        latest[visit.name] = assessment
    return [{"date": day, "healthy_side": a.healthy_side,
             "eface": (a.eface or {}).get("scores", {}),
             "sunnybrook": (a.sunnybrook or {}).get("scores", {}),
             "grades": a.grades or {}} for day, a in sorted(latest.items())]


def saved(code: str) -> list[dict]:
    """Every saved assessment of ``code``, oldest visit first: ``id``, ``date``, ``saved`` (when,
    UTC), ``photos`` (how many kept) and ``label`` (the words a chooser shows)."""
    code = check_code(code)
    with database.session() as session:
        rows = session.exec(
            select(Visit.name, Assessment).join(Subject, Subject.id == Visit.subject_id)
            .join(Assessment, Assessment.visit_id == Visit.id).where(Subject.code == code)
            .order_by(Visit.name, Assessment.created_at, Assessment.id)).all()
        counts: dict[int, int] = {}
        for photo in visit_photos.rows_of(session, [int(a.id) for _, a in rows]):
            counts[photo.assessment_id] = counts.get(photo.assessment_id, 0) + 1
    per_day: dict[str, int] = {}
    for day, _ in rows:
        per_day[day] = per_day.get(day, 0) + 1
    out = []
    for day, a in rows:
        kept = counts.get(int(a.id), 0)
        label = (f"{day}" + (f" (saved {a.created_at:%H:%M})" if per_day[day] > 1 else "")
                 + (f", {kept} photo{'s' if kept != 1 else ''} kept" if kept
                    else ", numbers only"))
        out.append({"id": int(a.id), "date": day, "saved": a.created_at, "photos": kept,
                    "label": label})
    return out


def load(assessment_id: int) -> dict:
    """A saved assessment as a dict (``id``, ``subject``, ``date``, ``healthy_side``, ``eface``,
    ``sunnybrook``, ``grades``, ``measurements``, ``photos``: movement -> ``{"name",
    "kind", "photo", "overlay"}`` relative paths, and ``folder``: where they are, or ``None``).

    :raises FpgradeError: no such assessment (it was deleted).
    """
    with database.session() as session:
        found = session.exec(
            select(Assessment, Visit.name, Subject.code).join(Visit, Visit.id == Assessment.visit_id)
            .join(Subject, Subject.id == Visit.subject_id)
            .where(Assessment.id == int(assessment_id))).first()
        if found is None:
            raise FpgradeError(f"saved assessment {assessment_id} does not exist (deleted?)")
        a, day, code = found
        rows = visit_photos.rows_of(session, [int(a.id)])
        photos = {p.movement: {"name": p.name, "kind": p.kind, "photo": p.photo,
                               "overlay": p.overlay} for p in rows}
        folder = next((f for f in map(visit_photos.folder_of, rows) if f is not None), None)
    return {"id": int(a.id), "subject": code, "date": day, "healthy_side": a.healthy_side,
            "eface": a.eface or {}, "sunnybrook": a.sunnybrook or {}, "grades": a.grades or {},
            "measurements": a.measurements or {}, "photos": photos, "folder": folder}


def delete(assessment_id: int, by: str = "demo") -> dict:
    """Delete a saved assessment, its kept photos (rows and files) and its visit when no other
    assessment or medium belongs to it, written to the audit log as ``visit_delete`` by ``by``
    (the logged-in user); returns ``subject``, ``date``, ``photos`` (how many were deleted)
    and ``files_left`` (the folders that could not be removed).

    :raises FpgradeError: no such assessment.
    """
    from fpgrade.storage.tables import Media

    with database.session() as session:
        a = session.get(Assessment, int(assessment_id))
        if a is None:
            raise FpgradeError(f"saved assessment {assessment_id} does not exist (deleted?)")
        visit = session.get(Visit, a.visit_id)
        subject = session.get(Subject, visit.subject_id)
        photos = len(visit_photos.rows_of(session, [int(a.id)]))
        folders = visit_photos.delete_rows(session, [int(a.id)])
        session.flush()
        session.delete(a)
        session.flush()
        others = session.exec(select(Assessment.id).where(Assessment.visit_id == visit.id)).first()
        media = session.exec(select(Media.id).where(Media.visit_id == visit.id)).first()
        day = visit.name
        if others is None and media is None:
            session.delete(visit)
        from fpgrade.labelling import audit

        audit.record(session, by, "visit_delete", assessment=int(assessment_id),
                     subject=subject.code, date=visit.name, photos=photos)
        session.commit()
        code = subject.code
    left = visit_photos.remove_folders(folders)
    return {"subject": code, "date": day, "photos": photos, "files_left": left}
