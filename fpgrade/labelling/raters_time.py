"""Per-labeller figures over time (issue 20): for each rater and period, how many blind passes,
the median time per item, and agreement with the final label and with each other rater, so a
team sees a rater drift (or learn) over the campaign.

- **period**: the ISO week of the submit (``2026-W49``, :data:`WEEK`), or blocks of the rater's
  own passes in submit order (``items 1-50``, ``items 51-100``: ``per_items=50``);
- **agreement with the final label**: the share of the rater's graded passes of the period on
  media with a final label that equal it (n: how many such passes);
- **agreement with another rater**: over the rater's graded passes of the period, the media the
  other rater also graded (in any period): the share of equal labels.

Same inputs as :mod:`.raters` (blind passes with their assignments; the campaign's final
labels). A pass with no submit time (pulled from elsewhere) is left out of the weeks, kept in
the item blocks (ordered after the timed ones, by id).
"""

from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass, field
from typing import TextIO

from sqlmodel import Session

from fpgrade.labelling.campaigns import get_campaign
from fpgrade.labelling.export import _cell
from fpgrade.labelling.model import Action
from fpgrade.labelling.raters import blind_passes_and_finals
from fpgrade.labelling.users import Account, require
from fpgrade.storage.tables import Annotation, Assignment

WEEK = "week"
FINAL = "final label"
#: the blocks of a rater's passes on the progress page and in the figures export
BLOCK = 50


@dataclass(frozen=True)
class Agreement:
    n: int
    share: float | None         # 0-1; ``None`` when n is 0


@dataclass
class PeriodFigures:
    rater: str
    period: str
    items: int
    median_seconds: float | None
    agreement: dict[str, Agreement] = field(default_factory=dict)   # FINAL or a rater's name


def _agreement(pairs: list[tuple[str, str]]) -> Agreement:
    return Agreement(len(pairs), sum(a == b for a, b in pairs) / len(pairs) if pairs else None)


def figures_over_time(session: Session, campaign: int | str, *, per_items: int | None = None,
                      by: Account | None = None) -> list[PeriodFigures]:
    """Every rater's figures per week (``per_items`` ``None``) or per block of ``per_items`` of
    their passes; by rater, then period in time order."""
    if by is not None:
        require(session, by, Action.VIEW)
    if per_items is not None and per_items < 1:
        raise ValueError(f"items per period: at least 1, not {per_items}")
    found = get_campaign(session, campaign)
    rows, finals = blind_passes_and_finals(session, found.id)
    graded: dict[str, dict[int, str]] = {}
    by_rater: dict[str, list[tuple[Annotation, Assignment]]] = {}
    for annotation, assignment in rows:
        by_rater.setdefault(annotation.annotator, []).append((annotation, assignment))
        if annotation.label:
            graded.setdefault(annotation.annotator, {})[annotation.media_id] = annotation.label
    out = []
    for rater in sorted(by_rater):
        done = sorted(by_rater[rater], key=lambda r: (r[1].done_at is None, r[1].done_at,
                                                      r[0].id))
        periods: dict[str, list[tuple[Annotation, Assignment]]] = {}
        for index, (annotation, assignment) in enumerate(done):
            if per_items is None:
                if assignment.done_at is None:
                    continue
                year, week, _ = assignment.done_at.isocalendar()
                key = f"{year}-W{week:02d}"
            else:
                start = index // per_items * per_items
                key = f"items {start + 1}-{start + per_items}"
            periods.setdefault(key, []).append((annotation, assignment))
        for period, passes in periods.items():
            seconds = [(s.done_at - s.claimed_at).total_seconds() for _, s in passes
                       if s.claimed_at is not None and s.done_at is not None]
            labelled = [(a.media_id, a.label) for a, _ in passes if a.label]
            agreement = {FINAL: _agreement([(label, finals[m]) for m, label in labelled
                                            if m in finals])}
            for other in sorted(graded):
                if other != rater:
                    theirs = graded[other]
                    agreement[other] = _agreement([(label, theirs[m]) for m, label in labelled
                                                   if m in theirs])
            out.append(PeriodFigures(rater, period, len(passes),
                                     statistics.median(seconds) if seconds else None,
                                     agreement))
    return out


def exported_figures(session: Session, campaign: int | str, *,
                     by: Account | None = None) -> list[PeriodFigures]:
    """What the figures export holds (the progress page's **Export figures** and ``fpgrade
    campaign figures``): every rater's figures per ISO week, then per block of :data:`BLOCK`
    of their passes. ``by``: the user asking (needs ``view``); ``None``: the command line."""
    return (figures_over_time(session, campaign, by=by)
            + figures_over_time(session, campaign, per_items=BLOCK, by=by))


CSV_COLUMNS = ("rater", "period", "items", "median_seconds", "compared_with", "n", "agreement")


def write_csv(figures: list[PeriodFigures], handle: TextIO) -> int:
    """The figures in long form (one row per rater, period and comparison); returns rows."""
    writer = csv.writer(handle)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for f in figures:
        for compared, value in f.agreement.items():
            writer.writerow([_cell(f.rater), f.period, f.items,
                             "" if f.median_seconds is None else f"{f.median_seconds:.1f}",
                             _cell(compared), value.n, "" if value.share is None else
                             f"{value.share:.3f}"])
            count += 1
    return count
