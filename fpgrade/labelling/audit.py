"""The audit log: every state change of the workflow writes who did what, when."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from fpgrade.storage.tables import AuditEvent


def record(session: Session, actor: str, action: str, *, campaign_id: int | None = None,
           media_id: int | None = None, assignment_id: int | None = None,
           **details: Any) -> AuditEvent:
    """Add one event to the caller's transaction (it is committed with the change it logs)."""
    event = AuditEvent(actor=actor, action=action, campaign_id=campaign_id, media_id=media_id,
                       assignment_id=assignment_id, details=details)
    session.add(event)
    return event


def events(session: Session, *, campaign_id: int | None = None, actor: str | None = None,
           action: str | None = None) -> list[AuditEvent]:
    """Events in the order they happened, filtered by campaign, actor and action."""
    query = select(AuditEvent).order_by(AuditEvent.id)
    if campaign_id is not None:
        query = query.where(AuditEvent.campaign_id == campaign_id)
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.exec(query).all())
