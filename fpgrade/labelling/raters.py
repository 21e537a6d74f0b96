"""Per-labeller figures of a campaign (issue 20): how many blind passes each rater did, the
median time per item, and agreement with the campaign's final labels.

- **items**: the rater's blind passes (a "cannot grade" counts: it is work done);
- **median time per item**: from the claim to the submit of each of their assignments (the
  assignment's ``claimed_at`` and ``done_at``), in seconds; a pass pulled from elsewhere (no
  claim) is left out;
- **agreement with the final label**: over the media of the campaign with a final label and a
  graded pass of the rater, scikit-learn's ``accuracy_score`` and ``cohen_kappa_score`` (on the
  scale's codes; ``None`` where kappa is undefined, e.g. one class only). An adjudicated final
  label is partly the rater's own judgement, so this is agreement, not accuracy against a truth.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from sqlmodel import Session, select

from fpgrade.labelling.campaigns import get_campaign
from fpgrade.labelling.model import Action, PassKind
from fpgrade.labelling.users import Account, require
from fpgrade.storage.tables import Annotation, Assignment, FinalLabel


@dataclass(frozen=True)
class RaterFigures:
    rater: str
    items: int
    median_seconds: float | None
    with_final: int                  # graded passes on media with a final label
    accuracy: float | None           # share equal to the final label (0-1)
    kappa: float | None              # Cohen's kappa with the final label

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def blind_passes_and_finals(session: Session, campaign_id: int) -> tuple[list, dict[int, str]]:
    """Every blind pass of a campaign (annotation, assignment) and its final labels by medium."""
    rows = session.exec(select(Annotation, Assignment).join(
        Assignment, Annotation.assignment_id == Assignment.id).where(
        Annotation.campaign_id == campaign_id,
        Assignment.pass_kind == PassKind.BLIND.value)).all()
    finals = dict(session.exec(select(FinalLabel.media_id, FinalLabel.label).where(
        FinalLabel.campaign_id == campaign_id)).all())
    return list(rows), finals


def labeller_figures(session: Session, campaign: int | str, labels: tuple[str, ...], *,
                     by: Account | None = None) -> list[RaterFigures]:
    """The figures of every rater with a blind pass in ``campaign``, by name (``labels``: the
    scale's codes, for the kappa)."""
    from sklearn.metrics import accuracy_score, cohen_kappa_score

    if by is not None:
        require(session, by, Action.VIEW)
    rows, finals = blind_passes_and_finals(session, get_campaign(session, campaign).id)
    by_rater: dict[str, list[tuple[Annotation, Assignment]]] = {}
    for annotation, assignment in rows:
        by_rater.setdefault(annotation.annotator, []).append((annotation, assignment))
    out = []
    for rater in sorted(by_rater):
        done = by_rater[rater]
        seconds = [(s.done_at - s.claimed_at).total_seconds() for _, s in done
                   if s.claimed_at is not None and s.done_at is not None]
        pairs = [(a.label, finals[a.media_id]) for a, _ in done
                 if a.label and a.media_id in finals]
        accuracy = kappa = None
        if pairs:
            mine, final = zip(*pairs)
            accuracy = float(accuracy_score(final, mine))
            if len(set(mine) | set(final)) > 1:
                value = float(cohen_kappa_score(final, mine, labels=list(labels)))
                kappa = None if math.isnan(value) else value
        out.append(RaterFigures(rater, len(done),
                                statistics.median(seconds) if seconds else None,
                                len(pairs), accuracy, kappa))
    return out
