"""Running the second check on a campaign: every medium whose blind passes agreed and that has
not been checked gets a :class:`~fpgrade.storage.tables.CheckResult` (method, version, indices,
the ranges used, outcome). Agreeing media get their final label (``agreed_checked``); the others
go to adjudication. The rules are in :mod:`.checks`.

The slow part (landmarks and indices of every agreed medium) runs outside any transaction; the
verdicts are written in one transaction, each medium once (a unique key per campaign and medium).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from fpgrade.labelling import audit, checks
from fpgrade.labelling._tx import transaction
from fpgrade.labelling.campaigns import close_if_done, get_campaign
from fpgrade.labelling.checks import (
    RANGES_VERSION, Sample, Verdict, check_with_model, check_with_ranges,
)
from fpgrade.labelling.units import set_unit_final
from fpgrade.labelling.model import (
    Action, AssignmentState, CampaignError, Method, Outcome, PassKind,
)
from fpgrade.labelling.state import PassLabel, first_check
from fpgrade.labelling.users import Account, actor_name, require
from fpgrade.labelling.workflow import open_adjudication
from fpgrade.storage.tables import (
    Annotation, Assignment, Campaign, CheckResult, Media, MediaKind, ModelVersion, Prediction,
)

IndicesOf = Callable[[Path, str], "dict[str, float] | None"]


def agreed_labels(session: Session, campaign: Campaign) -> dict[int, tuple[str, list[int]]]:
    """media id -> (agreed label, blind annotation ids) for media whose first check agreed.

    A blind pass is an annotation of a blind assignment, whatever its own ``pass_kind`` (a
    Label Studio annotation pulled into one is ``label-studio``)."""
    rows = session.exec(select(Annotation).join(
        Assignment, Annotation.assignment_id == Assignment.id).where(
        Annotation.campaign_id == campaign.id,
        Assignment.pass_kind == PassKind.BLIND.value)).all()
    by_media: dict[int, list[Annotation]] = {}
    for annotation in rows:
        by_media.setdefault(annotation.media_id, []).append(annotation)
    out = {}
    for media_id, passes in by_media.items():
        label = first_check([PassLabel(a.label, a.cannot_grade) for a in passes],
                            campaign.blind_passes)
        if label is not None:
            out[media_id] = (label, [a.id for a in passes])
    return out


def run_second_check(session: Session, campaign: int | str, *, by: Account | None = None,
                     indices_of: IndicesOf | None = None, partial: bool = False) -> Counter:
    """Check every agreed, unchecked medium of ``campaign``; returns the outcomes counted.

    ``indices_of(path, kind)`` gives a medium's RgAs and AnAs (default:
    :func:`.checks.indices_of_file`, from its file through the landmark cache); ``by`` is the
    admin running it (``None``: the command line).

    The ranges are learnt from the first check's results, so the check waits until every blind
    pass of the campaign is done; ``partial`` runs it earlier (media checked then are not checked
    again when more agreed media arrive).

    :raises CampaignError: blind passes still open (without ``partial``).
    """
    found = get_campaign(session, campaign)
    if by is not None:
        require(session, by, Action.ADMIN)
    open_blind = session.exec(select(func.count()).select_from(Assignment).where(
        Assignment.campaign_id == found.id, Assignment.pass_kind == PassKind.BLIND.value,
        Assignment.state != AssignmentState.DONE.value)).one()
    if open_blind and not partial:
        session.rollback()
        raise CampaignError(f"campaign {found.name!r}: {open_blind} blind assignments are not "
                            "done yet; the ranges are learnt from the whole first check "
                            "(run it once they are, or ask for a partial check)")
    agreed = agreed_labels(session, found)
    checked = {c.media_id: dict(c.indices or {}) for c in session.exec(
        select(CheckResult).where(CheckResult.campaign_id == found.id)).all()}
    media = {m.id: (Path(m.path), MediaKind(m.kind).value, m.movement)
             for m in session.exec(select(Media).where(Media.id.in_(list(agreed)))).all()}
    predictions = {}
    if found.check_model_version:
        for p in session.exec(select(Prediction).join(
                ModelVersion, Prediction.model_version_id == ModelVersion.id).where(
                ModelVersion.version == found.check_model_version,
                Prediction.scale == found.scale,
                Prediction.media_id.in_(list(agreed))).order_by(Prediction.id)).all():
            predictions[p.media_id] = p.label
    settings = (found.id, found.scale, found.check_model_version, found.range_percentile,
                found.min_range_samples)
    session.rollback()  # no transaction (nor SQLite's write lock) held while faces are measured

    indices_of = indices_of or checks.indices_of_file
    indices: dict[int, dict[str, float] | None] = {}
    if not found.check_model_version:
        for media_id, (path, kind, _) in media.items():
            indices[media_id] = checked.get(media_id) or indices_of(path, kind)
    samples = [Sample(media_id, media[media_id][2], agreed[media_id][0], values)
               for media_id, values in indices.items() if values]
    campaign_id, scale, model_version, percentile, min_samples = settings
    verdicts: dict[int, Verdict] = {}
    for media_id, (label, _) in agreed.items():
        if media_id in checked:
            continue
        if model_version:
            verdicts[media_id] = check_with_model(label, predictions.get(media_id), model_version)
        else:
            verdicts[media_id] = check_with_ranges(media_id, media[media_id][2], label,
                                                   indices.get(media_id), samples,
                                                   percentile=percentile, min_samples=min_samples)

    def work() -> Counter:
        stored = session.get(Campaign, campaign_id)
        actor = actor_name(by)
        counts: Counter = Counter()
        for media_id, verdict in verdicts.items():
            label, annotation_ids = agreed[media_id]
            result = CheckResult(
                campaign_id=campaign_id, media_id=media_id, scale=scale, label=label,
                method="model" if model_version else "ranges",
                version=model_version or RANGES_VERSION, indices=indices.get(media_id) or {},
                ranges=verdict.ranges, outcome=verdict.outcome.value, reason=verdict.reason)
            try:
                with session.begin_nested():
                    session.add(result)
            except IntegrityError:  # checked meanwhile by another run
                continue
            counts[verdict.outcome] += 1
            audit.record(session, actor, "second_check", campaign_id=campaign_id,
                         media_id=media_id, outcome=verdict.outcome.value, reason=verdict.reason)
            if verdict.outcome is Outcome.AGREE:
                set_unit_final(session, stored, media_id, label=label,
                               method=Method.AGREED_CHECKED, decided_by=actor,
                               annotation_ids=annotation_ids, check_result_id=result.id)
            else:
                open_adjudication(session, stored, media_id, actor,
                                  f"second check {verdict.outcome.value}: {verdict.reason}")
        close_if_done(session, stored, actor)
        return counts

    return transaction(session, work)
