"""A video counts as seen only once played (issue 20): the labelling page reports that the
video played to its end (the player's ``end`` event); the server keeps it per assignment
(``Assignment.played_at``), and :func:`.workflow.submit_label` refuses a video's label until
then, unless the campaign says videos need not be played (``Campaign.videos_must_play``).

The server does not take the page's word blindly: a report that comes sooner after the claim
than the video lasts (its frame count over its frame rate, read from the file, less
:data:`TOLERANCE_S`) is refused, so a script cannot mark a video played at once. A new claim of
the assignment (a lease taken over, a skip) forgets the report.

Deviation: "cannot grade" needs no play (a video that will not play must still be reportable).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session

from fpgrade.labelling import audit
from fpgrade.labelling._tx import transaction
from fpgrade.labelling.model import (
    Action, AssignmentError, AssignmentState, LabellingError, PassKind,
)
from fpgrade.labelling.passes import open_campaign
from fpgrade.labelling.users import Account, require
from fpgrade.media import MediaKind
from fpgrade.storage.tables import Assignment, Campaign, Media, utcnow

#: seconds a play report may come before the video's full length has passed since the claim
#: (container frame counts are estimates; players start a little late or skip the last frame)
TOLERANCE_S = 1.0


class VideoNotPlayedError(LabellingError):
    """A video's label submitted before the video was played to its end."""


def video_seconds(path: str | Path) -> float | None:
    """How long a video lasts, from its container (``None`` where it cannot be read)."""
    from fpgrade.video import video_info

    try:
        info = video_info(Path(path))
    except Exception:   # an unreadable file: the report is taken as it is
        return None
    return info.frames / info.fps if info.fps > 0 and info.frames > 0 else None


def report_played(session: Session, user: Account, assignment_id: int, *,
                  now: datetime | None = None) -> datetime:
    """Keep that the user's claimed video played to its end; returns when.

    :raises AssignmentError: not a blind assignment claimed by this user; :class:`LabellingError`:
        not a video, or reported sooner than the video lasts.
    """

    def work() -> datetime:
        me = require(session, user, Action.LABEL)
        assignment = session.get(Assignment, assignment_id)
        if assignment is None or assignment.pass_kind != PassKind.BLIND:
            raise AssignmentError(f"no blind assignment {assignment_id}")
        campaign = open_campaign(session, assignment.campaign_id)
        if assignment.state != AssignmentState.CLAIMED or assignment.user_id != me.id:
            raise AssignmentError(f"assignment {assignment_id} is not claimed by {me.name!r}")
        medium = session.get(Media, assignment.media_id)
        if MediaKind(medium.kind) is not MediaKind.VIDEO:
            raise LabellingError(f"medium #{medium.id} is a photo, not a video")
        moment = now or utcnow()
        lasts = video_seconds(medium.path)
        since = (moment - assignment.claimed_at).total_seconds() if assignment.claimed_at else 0
        if lasts is not None and since < lasts - TOLERANCE_S:
            raise LabellingError(f"medium #{medium.id}: reported played {since:.1f} s after it "
                                 f"opened, but the video lasts {lasts:.1f} s")
        session.execute(update(Assignment).where(Assignment.id == assignment_id)
                        .values(played_at=moment).execution_options(synchronize_session=False))
        audit.record(session, me.name, "video_played", campaign_id=campaign.id,
                     media_id=medium.id, assignment_id=assignment_id, seconds=lasts)
        return moment

    return transaction(session, work)


def require_played(session: Session, campaign: Campaign, assignment: Assignment,
                   label: str | None) -> None:
    """Refuse a video's label (not a "cannot grade") before the video was played to its end,
    where the campaign asks for it. :raises VideoNotPlayedError: not played yet."""
    if label is None or not campaign.videos_must_play or assignment.played_at is not None:
        return
    medium = session.get(Media, assignment.media_id)
    if MediaKind(medium.kind) is MediaKind.VIDEO:
        raise VideoNotPlayedError(f"medium #{medium.id} is a video: play it to its end before "
                                  "grading it (this campaign asks for it)")
