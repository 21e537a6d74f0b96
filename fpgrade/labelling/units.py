"""What one grade of a campaign covers: one medium (``medium``, the default) or one visit of a
subject (``visit``: per-subject labelling, issue 20).

House-Brackmann judges the whole patient, so a visit campaign asks for one grade per visit,
with all the visit's selected movements shown side by side. The state machine is not touched:
each visit has one *anchor* medium, and the blind passes, the first and second check, agreement
and adjudication run on the anchor exactly as on a medium of a per-medium campaign. What the
anchor stands for is kept in the campaign's ``selection`` (``units``: anchor id -> the ids of
the media it covers), fixed at creation, so that a medium added to the visit later does not
silently receive a grade its raters never saw.

- the anchor is the visit's medium whose movement sorts first (``MV0``, at rest, where the visit
  has one), ties by the lowest id: the anchors of a campaign are then mostly the same movement,
  so the second check's per-movement ranges (:mod:`.checks`) are learnt from comparable photos;
- the second check measures the anchor only (deviation: a check over every movement of the visit
  would need per-movement ranges combined into one verdict, which paper 001 does not define);
- when a visit's final label is set it is written to every medium it covers
  (:func:`set_unit_final`); export then shows one row per visit, with the media it covers
  (:mod:`.export`);
- every medium belongs to a visit in fpgrade's schema (``media.visit_id`` is required; an import
  without a visit puts a medium in its subject's ``default`` visit), so there is no medium
  without one; a visit with a single selected medium is a unit of one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from fpgrade.labelling.final import set_final
from fpgrade.labelling.model import CampaignError, Method
from fpgrade.storage.tables import Campaign, FinalLabel, Media, MediaKind

MEDIUM = "medium"
VISIT = "visit"
UNITS = (MEDIUM, VISIT)
#: what a clinician reads for each unit
UNIT_WORDS = {MEDIUM: "one grade per photo or video",
              VISIT: "one grade per subject's visit (all its movements side by side)"}


def unit_of(value: str | None) -> str:
    """A campaign unit, checked. :raises CampaignError: not ``medium`` nor ``visit``."""
    unit = (value or MEDIUM).strip().lower()
    if unit not in UNITS:
        raise CampaignError(f"campaign unit {value!r}: choose {' or '.join(UNITS)}")
    return unit


def _anchor_key(media: Media) -> tuple[bool, str, int]:
    return (media.movement is None, media.movement or "", media.id)


def group_media(media: Iterable[Media], unit: str) -> dict[int, tuple[int, ...]]:
    """anchor id -> the ids of the media its grade covers (anchor first, then by movement).

    ``medium``: every medium is its own anchor; ``visit``: one anchor per visit (see the
    module's docstring for which)."""
    if unit == MEDIUM:
        return {m.id: (m.id,) for m in media}
    by_visit: dict[int, list[Media]] = {}
    for m in media:
        by_visit.setdefault(m.visit_id, []).append(m)
    out = {}
    for rows in by_visit.values():
        rows.sort(key=_anchor_key)
        out[rows[0].id] = tuple(m.id for m in rows)
    return dict(sorted(out.items()))


def covered(campaign: Campaign, anchor_id: int) -> tuple[int, ...]:
    """The media that the grade of ``anchor_id`` covers in ``campaign`` (the medium alone in a
    per-medium campaign)."""
    units: Mapping[str, list[int]] = (campaign.selection or {}).get("units") or {}
    return tuple(units.get(str(anchor_id)) or (anchor_id,))


def covered_media(campaign: Campaign) -> set[int]:
    """Every medium a visit campaign's grades cover (empty for a per-medium campaign: its
    assignments name its media)."""
    units = (campaign.selection or {}).get("units") or {}
    return {int(m) for ids in units.values() for m in ids}


def set_unit_final(session: Session, campaign: Campaign, anchor_id: int, *, label: str,
                   method: Method, decided_by: str, annotation_ids: list[int] | None = None,
                   check_result_id: int | None = None,
                   reason: str | None = None) -> tuple[FinalLabel, bool]:
    """:func:`.final.set_final` for the anchor and every other medium its grade covers, in the
    caller's transaction; returns the anchor's (final label, written)."""
    first = None
    for media_id in covered(campaign, anchor_id):
        result = set_final(session, media_id=media_id, scale=campaign.scale, label=label,
                           method=method, decided_by=decided_by, campaign_id=campaign.id,
                           annotation_ids=annotation_ids, check_result_id=check_result_id,
                           reason=reason)
        if media_id == anchor_id:
            first = result
    return first


@dataclass(frozen=True)
class UnitMedium:
    """One medium of a visit's grade, as the labelling and adjudication views show it."""

    media_id: int
    path: Path
    kind: str
    movement: str | None


def unit_media(session: Session, campaign: Campaign, anchor_id: int) -> tuple[UnitMedium, ...]:
    """The media a grade of a visit campaign covers, anchor first (empty in a per-medium
    campaign: the view shows the one medium as before)."""
    if (campaign.unit or MEDIUM) == MEDIUM:
        return ()
    ids = covered(campaign, anchor_id)
    rows = {m.id: m for m in session.exec(select(Media).where(Media.id.in_(ids))).all()}
    return tuple(UnitMedium(i, Path(rows[i].path), MediaKind(rows[i].kind).value,
                            rows[i].movement) for i in ids if i in rows)
