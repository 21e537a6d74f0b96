"""Final labels: the one label per medium and scale that training, export and sync read.

A label from a blind pass is never final on its own. A final label is written by the workflow
(blind passes agreed and the second check agreed; or an adjudicator decided) or by an import
(method ``imported``, only where the medium has no final label on that scale). A campaign's
decision replaces an imported final label; nothing replaces a campaign's decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from fpgrade.labelling.model import Method
from fpgrade.storage.tables import Campaign, FinalLabel, Media, Subject, Visit


@dataclass(frozen=True)
class FinalRecord:
    """A final label with its medium and its provenance."""

    media_id: int
    subject: str
    path: Path
    sha256: str
    movement: str | None
    synthetic: bool
    scale: str
    label: str
    method: str
    decided_by: str
    campaign: str | None
    annotation_ids: tuple[int, ...]
    check_result_id: int | None
    reason: str | None
    decided_at: datetime
    final_label_id: int | None = None
    #: the name of the visit the medium was taken at
    visit: str | None = None
    #: what the campaign's grade covered: ``medium``, or ``visit`` (one grade written to every
    #: medium of the visit it covers, :mod:`.units`)
    unit: str = "medium"


def final_labels(session: Session, scale: str | None = None, *,
                 campaign_id: int | None = None) -> list[FinalRecord]:
    """Every final label (of ``scale``, of a campaign), ordered by subject and path."""
    query = (select(FinalLabel, Media, Subject.code, Campaign.name, Visit.name, Campaign.unit)
             .join(Media, FinalLabel.media_id == Media.id)
             .join(Visit, Media.visit_id == Visit.id)
             .join(Subject, Visit.subject_id == Subject.id)
             .outerjoin(Campaign, FinalLabel.campaign_id == Campaign.id))
    if scale is not None:
        query = query.where(FinalLabel.scale == scale)
    if campaign_id is not None:
        query = query.where(FinalLabel.campaign_id == campaign_id)
    records = [
        FinalRecord(media_id=media.id, subject=code, path=Path(media.path), sha256=media.sha256,
                    movement=media.movement, synthetic=media.synthetic, scale=final.scale,
                    label=final.label, method=final.method, decided_by=final.decided_by,
                    campaign=campaign, annotation_ids=tuple(final.annotation_ids or ()),
                    check_result_id=final.check_result_id, reason=final.reason,
                    decided_at=final.created_at, final_label_id=final.id, visit=visit,
                    unit=unit or "medium")
        for final, media, code, campaign, visit, unit in session.exec(query).all()
    ]
    records.sort(key=lambda r: (r.subject, str(r.path), r.scale))
    return records


def set_final(session: Session, *, media_id: int, scale: str, label: str, method: Method,
              decided_by: str, campaign_id: int | None = None,
              annotation_ids: list[int] | None = None, check_result_id: int | None = None,
              reason: str | None = None) -> tuple[FinalLabel, bool]:
    """Write the final label of (medium, scale) in the caller's transaction.

    Returns the stored final label and whether this call wrote it: an imported label never
    replaces an existing one; a campaign's label replaces an imported one (a conditional
    ``UPDATE ... WHERE method = 'imported'``) and nothing else.
    """
    values = {"label": label, "method": Method(method).value, "decided_by": decided_by,
              "campaign_id": campaign_id, "annotation_ids": list(annotation_ids or ()),
              "check_result_id": check_result_id, "reason": reason}

    def stored() -> FinalLabel | None:
        return session.exec(select(FinalLabel).where(FinalLabel.media_id == media_id,
                                                     FinalLabel.scale == scale)
                            .execution_options(populate_existing=True)).first()

    existing = stored()
    if existing is None:
        try:
            with session.begin_nested():
                final = FinalLabel(media_id=media_id, scale=scale, **values)
                session.add(final)
            return final, True
        except IntegrityError:  # another writer stored one meanwhile (PostgreSQL)
            existing = stored()
    if Method(method) is Method.IMPORTED or existing.method != Method.IMPORTED:
        return existing, False
    result = session.execute(update(FinalLabel)
                             .where(FinalLabel.id == existing.id,
                                    FinalLabel.method == Method.IMPORTED.value)
                             .values(**values)
                             .execution_options(synchronize_session=False))
    return stored(), result.rowcount == 1
