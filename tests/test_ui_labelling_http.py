"""The labelling pages through their HTTP API (gradio_client), against a real ``fpgrade label``:

- many raters at once: 8 simulated raters, each submit sent twice, on SQLite and on PostgreSQL;
  every submission is stored exactly once (the load figures come from ``bench.labelling_load``);
- security: a labeller calling the adjudication, admin and view endpoints is refused by the
  server and changes nothing; logout ends the session; a disabled account is refused at once.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from bench.labelling_load import client, load_test, prepare, serve, whoami
from fpgrade.storage import database
from fpgrade.storage.tables import Annotation, Campaign, FinalLabel, User
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture

pytestmark = pytest.mark.slow
RATERS = 8
MEDIA = 20   # x 2 blind passes: 40 submissions, each sent twice


def assert_exactly_once(result: dict) -> None:
    check = result["check"]
    assert check["errors"] == []
    assert check["assignments"] == check["done"] == check["annotations"] == 2 * MEDIA
    assert check["stored_twice"] == [] and check["answered_stored_twice"] == []
    assert check["answered_stored"] == 2 * MEDIA           # each first submit: "Stored"
    assert check["answered_already"] == 2 * MEDIA          # each repeat: "Already stored"
    assert check["same_rater_twice"] == 0                  # two passes, two raters
    assert result["submissions"] == 2 * MEDIA


def test_eight_raters_over_http_store_every_submission_once_on_sqlite(tmp_path):
    assert_exactly_once(load_test(f"sqlite:///{tmp_path / 'load.db'}", tmp_path, RATERS, MEDIA))


def test_eight_raters_over_http_store_every_submission_once_on_postgresql(
        tmp_path, fresh_postgres_database):
    assert_exactly_once(load_test(fresh_postgres_database, tmp_path, RATERS, MEDIA))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("label-http")
    url = f"sqlite:///{workdir / 'http.db'}"
    campaign = prepare(url, workdir / "media", 2, 4)
    with serve(url, workdir) as address:
        yield {"address": address, "url": url, "campaign": campaign}


#: endpoint -> its arguments (the session's state is not an argument: the server keeps it)
FORBIDDEN = {
    "/adjudication_queue": (None,), "/open_case": (None,), "/decide": (None, "anything"),
    "/exclude": ("bad_photo", "anything"), "/agreement": (None,), "/export": (None,),
    "/users": (), "/add_user": ("mallory", "a long password", "admin"),
    "/disable_user": ("r1",), "/enable_user": ("r1",),
    "/create_campaign": ("x", "sided7", "", 2, False), "/close_campaign": (None,),
    "/reopen_campaign": (None,), "/set_guideline": (None, "x"), "/export_figures": (None,),
    "/second_check": (None,), "/import_manifest": ("/etc/passwd",),
}


@pytest.mark.parametrize("endpoint", sorted(FORBIDDEN))
def test_a_labeller_calling_an_adjudication_admin_or_view_endpoint_is_refused(served,
                                                                            endpoint):
    labeller = client(served["address"], "r0")
    assert "r0" in whoami(labeller)
    answer = labeller.predict(*FORBIDDEN[endpoint], api_name=endpoint)
    message = answer[-1] if isinstance(answer, (list, tuple)) else answer
    assert "Refused" in message and "may not" in message, message
    with database.session(served["url"]) as session:
        assert [u.name for u in session.exec(select(User)).all()] == ["r0", "r1"]
        assert not session.exec(select(User).where(User.disabled)).all()
        assert [c.state for c in session.exec(select(Campaign)).all()] == ["open"]
        assert not session.exec(select(FinalLabel)).all()


def test_logout_ends_the_session_and_a_disabled_account_is_refused_at_once(served):
    import httpx

    from fpgrade.labelling.users import set_disabled

    rater = client(served["address"], "r0")
    opened = rater.predict(served["campaign"], api_name="/next_medium")
    assert "Medium #" in opened[0]
    httpx.get(served["address"] + "logout", cookies=rater.cookies)
    with pytest.raises(Exception):    # the server answers 401: no session any more
        rater.predict(served["campaign"], api_name="/next_medium")
    other = client(served["address"], "r1")
    with database.session(served["url"]) as session:
        set_disabled(session, "r1", True)
    with pytest.raises(Exception):
        other.predict(served["campaign"], api_name="/next_medium")
    with database.session(served["url"]) as session:
        assert not session.exec(select(Annotation)).all()
        set_disabled(session, "r1", False)


def test_a_play_report_over_http_is_refused_without_an_open_video(served):
    """The play of a video is kept by the server: a report for a photo (or nothing open) is
    refused and stores nothing."""
    rater = client(served["address"], "r1")
    message = rater.predict(api_name="/video_played")
    assert "Refused" in message and "no video is open" in message, message
    rater.predict(served["campaign"], api_name="/next_medium")   # a photo
    message = rater.predict(api_name="/video_played")
    assert "Refused" in message and "no video is open" in message, message
    with database.session(served["url"]) as session:
        from fpgrade.storage.tables import Assignment

        assert not session.exec(select(Assignment).where(
            Assignment.played_at.is_not(None))).all()
        rows = session.exec(select(Assignment).where(Assignment.state == "claimed")).all()
        for row in rows:       # give the claim back: the other tests expect open assignments
            row.state, row.user_id, row.claimed_at = "open", None, None
            session.add(row)
        session.commit()
