"""Following recovery: a graded set saved to a subject (the clinic's pseudonym) and a visit date,
and every score and grade of a subject over its visits.

A visit date in the future is refused. A second save of the same subject and date is not added
silently: :func:`save` raises :class:`VisitExistsError` unless ``on_existing`` says ``replace``
(the visit's earlier assessments are deleted) or ``keep_both`` (both are kept; the recovery view
shows the latest)."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

from sqlmodel import select

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
         on_existing: str | None = None) -> int:
    """Store an assessment for ``code`` on ``visit_date`` (the visit is created when new);
    returns its id. ``on_existing``: ``None`` (raise :class:`VisitExistsError` when the visit
    already has an assessment), ``"replace"`` or ``"keep_both"``."""
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
        if earlier and on_existing == "replace":
            for old in earlier:
                session.delete(old)
            session.flush()
        row = Assessment(visit_id=visit.id, healthy_side=healthy_side, eface=eface,
                         sunnybrook=sunnybrook, grades=grades, measurements=measurements)
        session.add(row)
        session.commit()
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
