"""A video counts as seen only once played (issue 20), enforced by the server: a video's label is
refused until the page reported it played to its end; a report sooner than the video lasts is
refused; a new claim forgets the report; a campaign may say videos need not be played."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fpgrade.labelling import audit
from fpgrade.labelling.campaigns import create_campaign
from fpgrade.labelling.model import AssignmentError, LabellingError
from fpgrade.labelling.playback import VideoNotPlayedError, report_played, video_seconds
from fpgrade.labelling.workflow import next_assignment, skip_assignment, submit_label
from fpgrade.media import MediaKind
from fpgrade.storage import database
from fpgrade.storage.tables import Assignment, Media
from tests.conftest import SHARED_FACES
from tests.labelling_helpers import add_media, users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture

VIDEO = SHARED_FACES / "no_face.mp4"     # 98 frames at 23.7 frames/s: 4.1 s


@pytest.fixture
def team():
    return users(ann="labeller", bob="labeller", dan="admin")


def _video_campaign(registry, **options):
    [medium] = add_media(1)
    with database.session() as session:
        row = session.get(Media, medium)
        row.kind, row.path = MediaKind.VIDEO, str(VIDEO)
        session.add(row)
        session.commit()
        return medium, create_campaign(session, "videos", "house_brackmann", registry=registry,
                                       seed=1, **options)


def _claimed_at(session, assignment_id):
    session.expire_all()
    return session.get(Assignment, assignment_id).claimed_at


def test_a_video_label_is_refused_until_the_video_played_to_its_end(team, registry):
    assert video_seconds(VIDEO) == pytest.approx(98 / 23.67, abs=0.05)
    medium, c = _video_campaign(registry)
    with database.session() as session:
        task = next_assignment(session, team["ann"], c.id)
        with pytest.raises(VideoNotPlayedError, match="play it to its end"):
            submit_label(session, team["ann"], task.assignment_id, label="II")
        claimed = _claimed_at(session, task.assignment_id)
        # a report one second after opening a 4.1 s video is not believed
        with pytest.raises(LabellingError, match="lasts 4.1 s"):
            report_played(session, team["ann"], task.assignment_id,
                          now=claimed + timedelta(seconds=1))
        # nobody else reports it for her
        with pytest.raises(AssignmentError, match="not claimed by 'bob'"):
            report_played(session, team["bob"], task.assignment_id,
                          now=claimed + timedelta(seconds=5))
        report_played(session, team["ann"], task.assignment_id,
                      now=claimed + timedelta(seconds=4))
        stored = submit_label(session, team["ann"], task.assignment_id, label="II")
        assert stored.label == "II" and not stored.duplicate
        [event] = audit.events(session, campaign_id=c.id, action="video_played")
        assert event.actor == "ann"


def test_cannot_grade_needs_no_play_and_a_skip_forgets_the_report(team, registry):
    medium, c = _video_campaign(registry)
    with database.session() as session:
        task = next_assignment(session, team["ann"], c.id)
        report_played(session, team["ann"], task.assignment_id,
                      now=_claimed_at(session, task.assignment_id) + timedelta(seconds=5))
        skip_assignment(session, team["ann"], task.assignment_id)
        again = next_assignment(session, team["bob"], c.id)
        assert again.assignment_id == task.assignment_id        # bob takes it: not played
        with pytest.raises(VideoNotPlayedError):
            submit_label(session, team["bob"], again.assignment_id, label="I")
        # a video that will not play can still be reported
        assert submit_label(session, team["bob"], again.assignment_id,
                            cannot_grade="bad_photo").cannot_grade == "bad_photo"


def test_a_campaign_may_say_videos_need_not_be_played(team, registry):
    medium, c = _video_campaign(registry, videos_must_play=False)
    assert c.videos_must_play is False
    with database.session() as session:
        task = next_assignment(session, team["ann"], c.id)
        assert submit_label(session, team["ann"], task.assignment_id, label="III").label == "III"


def test_a_photo_is_never_reported_played(team, registry):
    add_media(1)
    with database.session() as session:
        c = create_campaign(session, "photos", "house_brackmann", registry=registry, seed=1)
        task = next_assignment(session, team["ann"], c.id)
        with pytest.raises(LabellingError, match="is a photo"):
            report_played(session, team["ann"], task.assignment_id)
        assert submit_label(session, team["ann"], task.assignment_id, label="I").label == "I"
