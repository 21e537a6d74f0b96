"""Campaigns: which media are labelled on which scale, by how many blind passes, and how far
they are."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from fpgrade.labelling import audit
from fpgrade.labelling.model import (
    Action, AssignmentState, CampaignError, Method, PassKind, Status,
)
from fpgrade.labelling.names import campaign_name
from fpgrade.labelling.units import covered, covered_media, group_media, unit_of
from fpgrade.labelling.users import Account, actor_name, require
from fpgrade.registry import Registry
from fpgrade.labelling._tx import transaction
from fpgrade.storage.tables import (
    Annotation, Assignment, Campaign, FinalLabel, Media, Subject, Visit,
)

MAX_BLIND_PASSES = 3


@dataclass(frozen=True)
class CampaignView:
    """A campaign's settings as plain data (what pages and the CLI keep and show)."""

    id: int
    name: str
    scale: str
    movements: tuple[str, ...]
    blind_passes: int
    allow_same_rater: bool
    min_gap_s: int
    suggestions_in_blind: bool
    check_model_version: str | None
    range_percentile: float
    min_range_samples: int
    state: str
    created_by: str
    videos_must_play: bool = True
    unit: str = "medium"            # what one grade covers (:mod:`.units`)

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignView:
        return cls(campaign.id, campaign.name, campaign.scale, tuple(campaign.movements or ()),
                   campaign.blind_passes, campaign.allow_same_rater, campaign.min_gap_s,
                   campaign.suggestions_in_blind, campaign.check_model_version,
                   campaign.range_percentile, campaign.min_range_samples, campaign.state,
                   campaign.created_by, campaign.videos_must_play, campaign.unit or "medium")


def get_campaign(session: Session, campaign: int | str) -> Campaign:
    """A campaign by id or name. :raises CampaignError: no such campaign."""
    if isinstance(campaign, int) or str(campaign).isdigit():
        found = session.get(Campaign, int(campaign))
        if found is None and isinstance(campaign, str):
            found = session.exec(select(Campaign).where(Campaign.name == campaign)).first()
    else:
        found = session.exec(select(Campaign).where(Campaign.name == campaign)).first()
    if found is None:
        raise CampaignError(f"no campaign {campaign!r}")
    return found


def list_campaigns(session: Session) -> list[CampaignView]:
    return [CampaignView.of(c) for c in session.exec(select(Campaign).order_by(Campaign.id)).all()]


def _selected_media(session: Session, scale: str, movements: Sequence[str],
                    subjects: Sequence[str] | None, include_synthetic: bool) -> list[Media]:
    query = (select(Media).join(Visit, Media.visit_id == Visit.id)
             .join(Subject, Visit.subject_id == Subject.id).order_by(Media.id))
    if movements:
        query = query.where(Media.movement.in_(list(movements)))
    if subjects:
        query = query.where(Subject.code.in_(list(subjects)))
    if not include_synthetic:
        query = query.where(Media.synthetic.is_(False))
    decided = set(session.exec(select(FinalLabel.media_id).where(
        FinalLabel.scale == scale, FinalLabel.method != Method.IMPORTED.value)).all())
    busy = set(busy_media(session, scale))
    return [m for m in session.exec(query).all() if m.id not in decided | busy]


def busy_media(session: Session, scale: str, *, besides: int | None = None,
               among: set[int] | None = None) -> dict[int, str]:
    """medium id -> the open campaign on ``scale`` (other than ``besides``) that labels it: its
    assignments' media, and every medium a visit campaign's grades cover (:mod:`.units`).
    ``among``: only these media."""
    query = select(Assignment.media_id, Campaign.name).join(
        Campaign, Assignment.campaign_id == Campaign.id).where(
        Campaign.scale == scale, Campaign.state == "open")
    if besides is not None:
        query = query.where(Campaign.id != besides)
    if among is not None:
        query = query.where(Assignment.media_id.in_(among or {-1}))
    out = dict(session.exec(query).all())
    for other in session.exec(select(Campaign).where(
            Campaign.scale == scale, Campaign.state == "open", Campaign.unit != "medium")).all():
        if other.id != besides:
            out.update({m: other.name for m in covered_media(other)
                        if among is None or m in among})
    return out


def create_campaign(session: Session, name: str, scale: str, *, registry: Registry,
                    movements: Sequence[str] = (), subjects: Sequence[str] | None = None,
                    include_synthetic: bool = False, blind_passes: int = 2,
                    allow_same_rater: bool = False, min_gap_s: int = 0,
                    suggestions_in_blind: bool = False, check_model_version: str | None = None,
                    range_percentile: float = 0.0, min_range_samples: int = 3,
                    videos_must_play: bool = True, unit: str = "medium",
                    by: Account | None = None, seed: int | None = None) -> CampaignView:
    """A new campaign with one open blind assignment per selected medium (``unit`` ``visit``:
    per visit of the selected media, on its anchor medium, :mod:`.units`) and pass; each pass
    in its own shuffled order.

    Media of the movements (all when empty) and subjects (all when ``None``), not synthetic
    unless asked, that have no campaign-decided final label on ``scale`` and are in no other
    open campaign on ``scale``. ``videos_must_play``: a video's label is refused until the page
    reports it played to its end (:mod:`.playback`). ``by``: the admin (``None``: the command
    line).

    :raises CampaignError: name taken, bad settings, or no medium to label.
    """
    name = campaign_name(name)
    scale_id = registry.scale(scale).id
    if not 2 <= blind_passes <= MAX_BLIND_PASSES:
        raise CampaignError(f"blind passes: 2 to {MAX_BLIND_PASSES}, not {blind_passes}")
    if not 0 <= range_percentile < 50:
        raise CampaignError(f"range percentile {range_percentile} is not in [0, 50)")
    unit = unit_of(unit)
    rng = random.Random(seed)

    def work() -> CampaignView:
        if by is not None:
            require(session, by, Action.ADMIN)
        if session.exec(select(Campaign.id).where(Campaign.name == name)).first() is not None:
            raise CampaignError(f"campaign {name!r} exists already")
        media = _selected_media(session, scale_id, movements, subjects, include_synthetic)
        if not media:
            raise CampaignError(f"campaign {name!r}: no medium to label on {scale_id} "
                                "(none selected, or all decided or in another open campaign)")
        units = group_media(media, unit)
        anchors = [m for m in media if m.id in units]
        campaign = Campaign(
            name=name, scale=scale_id, movements=list(movements),
            selection={"movements": list(movements), "subjects": list(subjects or []),
                       "include_synthetic": include_synthetic, "media": len(media),
                       **({"units": {str(a): list(ids) for a, ids in units.items()}}
                          if unit != "medium" else {})},
            blind_passes=blind_passes, allow_same_rater=allow_same_rater, min_gap_s=min_gap_s,
            suggestions_in_blind=suggestions_in_blind, check_model_version=check_model_version,
            range_percentile=range_percentile, min_range_samples=min_range_samples,
            videos_must_play=bool(videos_must_play), created_by=actor_name(by), unit=unit)
        session.add(campaign)
        session.flush()
        for number in range(1, blind_passes + 1):
            order = rng.sample(range(len(anchors)), len(anchors))
            session.add_all(Assignment(campaign_id=campaign.id, media_id=m.id,
                                       pass_kind=PassKind.BLIND.value, pass_number=number,
                                       order_key=key)
                            for m, key in zip(anchors, order, strict=True))
        audit.record(session, actor_name(by), "campaign_create", campaign_id=campaign.id,
                     scale=scale_id, media=len(media), blind_passes=blind_passes,
                     **({"unit": unit, "visits": len(anchors)} if unit != "medium" else {}))
        return CampaignView.of(campaign)

    try:
        return transaction(session, work)
    except IntegrityError:
        raise CampaignError(f"campaign {name!r} exists already") from None


def close_campaign(session: Session, campaign: int | str, *,
                   by: Account | None = None) -> CampaignView:
    """Close a campaign when done: no more claims, submits or decisions (its final labels stay;
    it leaves the raters' lists). Audited (``campaign_close``); :func:`reopen_campaign` undoes it.

    :raises CampaignError: no such campaign, or closed already.
    """

    def work() -> CampaignView:
        if by is not None:
            require(session, by, Action.ADMIN)
        found = get_campaign(session, campaign)
        if found.state == "closed":
            raise CampaignError(f"campaign {found.name!r} is closed already")
        found.state = "closed"
        session.add(found)
        audit.record(session, actor_name(by), "campaign_close", campaign_id=found.id)
        return CampaignView.of(found)

    return transaction(session, work)


def reopen_campaign(session: Session, campaign: int | str, *,
                    by: Account | None = None) -> CampaignView:
    """Open a closed campaign again (audited: ``campaign_reopen``).

    :raises CampaignError: open already; or a medium of it that is not decided is now in
        another open campaign on the same scale (two campaigns would label it at once).
    """
    from fpgrade.labelling.workflow import media_statuses

    def work() -> CampaignView:
        if by is not None:
            require(session, by, Action.ADMIN)
        found = get_campaign(session, campaign)
        if found.state == "open":
            raise CampaignError(f"campaign {found.name!r} is open already")
        undecided = {m for a, s in media_statuses(session, found.id).items()
                     if s not in (Status.FINAL, Status.EXCLUDED) for m in covered(found, a)}
        clash = next(iter(busy_media(session, found.scale, besides=found.id,
                                     among=undecided).values()), None)
        if clash is not None:
            raise CampaignError(f"campaign {found.name!r} cannot reopen: some of its undecided "
                                f"media are in the open campaign {clash!r} on the same scale")
        found.state = "open"
        session.add(found)
        audit.record(session, actor_name(by), "campaign_reopen", campaign_id=found.id)
        return CampaignView.of(found)

    return transaction(session, work)


#: why a campaign closed itself (the audit event's ``reason``; the progress page shows it)
DONE_REASON = "every medium has a final label (or was found impossible to grade)"


def close_if_done(session: Session, campaign: Campaign, actor: str) -> bool:
    """Close an open campaign, in the caller's transaction, once every medium has a final label
    or was excluded by an adjudicator (audited: ``campaign_close`` with ``auto``). Deviation
    from the issue's wording ("every medium has a final label"): an excluded medium never gets
    one, so it counts as decided too, or such a campaign would never close."""
    from fpgrade.labelling.workflow import media_statuses

    if campaign.state != "open":
        return False
    statuses = media_statuses(session, campaign.id)
    if not statuses or any(s not in (Status.FINAL, Status.EXCLUDED) for s in statuses.values()):
        return False
    campaign.state = "closed"
    session.add(campaign)
    audit.record(session, actor, "campaign_close", campaign_id=campaign.id, auto=True,
                 reason=DONE_REASON)
    return True


def reopen_if_closed_by_itself(session: Session, campaign: Campaign, actor: str, why: str) -> bool:
    """Open again, in the caller's transaction, a campaign that closed itself, when a pass it
    rested on is withdrawn or changed (a Label Studio edit): its medium is undecided again and
    must be labelled. A campaign an admin closed stays closed. Audited (``campaign_reopen``,
    ``auto``)."""
    if not closed_by_itself(session, campaign):
        return False
    campaign.state = "open"
    session.add(campaign)
    audit.record(session, actor, "campaign_reopen", campaign_id=campaign.id, auto=True, why=why)
    return True


def _last_close(session: Session, campaign: Campaign):
    closes = audit.events(session, campaign_id=campaign.id, action="campaign_close")
    return closes[-1] if closes else None


def closed_by_itself(session: Session, campaign: Campaign) -> bool:
    """Whether ``campaign`` is closed and its last close was its own (:func:`close_if_done`),
    not an admin's."""
    if campaign.state == "open":
        return False
    last = _last_close(session, campaign)
    return last is not None and bool(last.details.get("auto"))


def closed_note(session: Session, campaign: Campaign) -> str | None:
    """How a closed campaign closed, in words (``None`` while open)."""
    if campaign.state == "open":
        return None
    last = _last_close(session, campaign)
    if last is None:
        return "closed"
    when = f"{last.at:%Y-%m-%d %H:%M} UTC"
    if last.details.get("auto"):
        return f"closed by itself on {when}: {last.details.get('reason', DONE_REASON)}"
    return f"closed by {last.actor} on {when}"


@dataclass
class Progress:
    """How far a campaign is: media per status, assignments done, done per rater."""

    campaign: str
    media: int
    statuses: Counter = field(default_factory=Counter)
    assignments_done: int = 0
    assignments_total: int = 0
    by_rater: Counter = field(default_factory=Counter)
    state: str = "open"
    closed: str | None = None       # how it closed, in words (:func:`closed_note`)
    unit: str = "medium"            # ``visit``: ``media`` and ``statuses`` count visits

    def as_dict(self) -> dict[str, object]:
        return {"campaign": self.campaign, "media": self.media,
                "statuses": {s.value: self.statuses.get(s, 0) for s in Status},
                "assignments_done": self.assignments_done,
                "assignments_total": self.assignments_total, "by_rater": dict(self.by_rater),
                "state": self.state, "closed": self.closed, "unit": self.unit}


def campaign_progress(session: Session, campaign: int | str, *,
                      by: Account | None = None) -> Progress:
    """Media per :class:`Status` and assignments done, of one campaign. ``by``: the user asking
    (the pages pass it: it needs the ``view`` permission); ``None``: the command line."""
    from fpgrade.labelling.workflow import media_statuses

    if by is not None:
        require(session, by, Action.VIEW)
    found = get_campaign(session, campaign)
    statuses = media_statuses(session, found.id)
    assignments = session.exec(select(Assignment).where(Assignment.campaign_id == found.id)).all()
    done = [a for a in assignments if a.state == AssignmentState.DONE]
    annotators = dict(session.exec(select(Annotation.assignment_id, Annotation.annotator)
                                   .where(Annotation.campaign_id == found.id)).all())
    return Progress(found.name, len(statuses), Counter(statuses.values()), len(done),
                    len(assignments), Counter(annotators.get(a.id, "?") for a in done),
                    found.state, closed_note(session, found), found.unit or "medium")

