"""The served pages attacked over real HTTP, as an outsider or a curious colleague would (issue 16).

One ``fpgrade label`` server (a real process) for the module, users of every role, a campaign.
Every probe must be refused by the running server:

- Gradio's session hash replayed by another client (with another login's cookie, or none);
  a cookie value the client chose; the token of before a login (rotation);
- every file URL a logged-in page received fetched without the cookie, with another user's
  cookie, after logout, after the user is disabled (and re-enabled), and path traversal on
  every file route;
- a password guessed in a row and in parallel (throttled per account and per address, audited);
- HTML and Markdown typed into every name and text field (refused, or shown as text);
- the clinician page beyond loopback without a login; a labeller on the clinician page.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from bench.labelling_load import PASSWORD, client, prepare, serve
from fpgrade.storage import database
from fpgrade.storage.tables import AuditEvent, Campaign, User

pytestmark = pytest.mark.slow
EVIL = "<img src=x onerror=alert(1)> [evil](http://example.org) **bold** `code`"
COOKIE = "fpgrade_session"


def fast_user(url: str, name: str, role: str) -> None:
    from argon2 import PasswordHasher

    hashed = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with database.session(url) as session:
        session.add(User(name=name, password_hash=hashed, role=role))
        session.commit()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("web-security")
    url = f"sqlite:///{workdir / 'web.db'}"
    campaign = prepare(url, workdir / "media", 2, 3)          # labellers r0, r1
    for name, role in [("ann", "admin"), ("cara", "adjudicator"), ("carl", "clinician"),
                       ("eve", "labeller"), ("fred", "labeller"), ("gil", "labeller"),
                       ("hal", "labeller")]:
        fast_user(url, name, role)
    with serve(url, workdir) as address:
        yield {"address": address, "url": url, "campaign": campaign, "workdir": workdir}


def login(site, name: str, password: str = PASSWORD, *, address_of: str | None = None,
          cookies: dict | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": address_of} if address_of else {}
    return httpx.post(site["address"] + "login", data={"username": name, "password": password},
                      headers=headers, cookies=cookies, timeout=60)


def cookie_of(site, name: str) -> str:
    answer = login(site, name)
    assert answer.status_code == 200, answer.text
    return answer.cookies[COOKIE]


def get(site, path: str, token: str | None = None) -> httpx.Response:
    cookies = {COOKIE: token} if token else None
    return httpx.get(site["address"] + path.lstrip("/"), cookies=cookies, timeout=60)


def fn_index(site, token: str, api_name: str) -> int:
    config = get(site, "config", token).json()
    for index, dependency in enumerate(config["dependencies"]):
        if dependency.get("api_name") == api_name:
            return dependency.get("id", index)
    raise AssertionError(f"no endpoint {api_name}")


def join(site, token: str | None, session_hash: str, fn: int, data: list) -> httpx.Response:
    return httpx.post(site["address"] + "gradio_api/queue/join",
                      json={"data": data, "fn_index": fn, "session_hash": session_hash,
                            "event_data": None, "trigger_id": None},
                      cookies={COOKIE: token} if token else None, timeout=60)


def users(site) -> list[str]:
    with database.session(site["url"]) as session:
        return sorted(u.name for u in session.exec(select(User)).all())


def assert_headers(response: httpx.Response) -> None:
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_session_hash_of_an_admin_is_no_credential_for_anyone_else(site):
    admin = client(site["address"], "ann")          # a real logged-in page session
    admin_hash = admin.session_hash
    bob = cookie_of(site, "r0")
    add_user = fn_index(site, bob, "add_user")
    before = users(site)
    # the attack of the issue: the admin's hash, from a client without any login
    refused = join(site, None, admin_hash, add_user, ["mallory", "a long password", "admin"])
    assert refused.status_code == 401
    assert_headers(refused)
    # ... and from a logged-in labeller: the hash belongs to the admin's login
    replay = join(site, bob, admin_hash, add_user, ["mallory", "a long password", "admin"])
    assert replay.status_code == 403 and "another login" in replay.text
    assert get(site, f"gradio_api/queue/data?session_hash={admin_hash}", bob).status_code == 403
    assert get(site, f"gradio_api/heartbeat/{admin_hash}", bob).status_code == 403
    # Gradio also reads a session's messages at a REST call's result route
    assert get(site, f"gradio_api/call/whoami/{admin_hash}", bob).status_code == 403
    assert get(site, f"gradio_api/call/v2/whoami/{admin_hash}", bob).status_code == 403
    # a JSON body under another declared type is read all the same
    for kind in ("application/x+json", "application/json-patch+json", "text/plain"):
        sneaky = httpx.post(site["address"] + "gradio_api/queue/join", cookies={COOKIE: bob},
                            headers={"Content-Type": kind}, timeout=60, content=json.dumps({
                                "data": ["mallory", "a long password", "admin"],
                                "fn_index": add_user, "session_hash": admin_hash,
                                "event_data": None, "trigger_id": None}))
        assert sneaky.status_code == 403, (kind, sneaky.status_code)
    # another origin (another site, or another port of this host) can neither drive nor read
    other = httpx.get(site["address"] + "gradio_api/info", cookies={COOKIE: bob},
                      headers={"Origin": "http://127.0.0.1:9"}, timeout=60)
    assert other.status_code == 403
    assert not [h for h in get(site, "config", bob).headers if h.startswith("access-control")]
    # the labelling pages take no uploads
    upload = httpx.post(site["address"] + "gradio_api/upload", cookies={COOKIE: bob},
                        files={"files": ("x.bin", b"0" * 1024)}, timeout=60)
    assert upload.status_code == 403
    # a value the client chose is never a session
    assert get(site, "config", "chosen-by-the-client").status_code == 401
    assert get(site, "", "chosen-by-the-client").headers["location"].startswith("login")
    # the labeller with her own hash: the role check of the server refuses
    own = httpx.Client(base_url=site["address"], cookies={COOKIE: bob}, timeout=60)
    assert own.post("gradio_api/queue/join", json={
        "data": ["mallory", "a long password", "admin"], "fn_index": add_user,
        "session_hash": "bobs-own-hash", "event_data": None, "trigger_id": None}).status_code == 200
    with own.stream("GET", "gradio_api/queue/data?session_hash=bobs-own-hash") as events:
        text = ""
        for line in events.iter_lines():
            text += line
            if "process_completed" in line:
                break
    assert "may not admin" in text
    assert users(site) == before


def test_login_rotates_the_token_and_logout_disable_password_and_role_end_sessions(site):
    from fpgrade.labelling.users import set_disabled, set_password, set_role

    first = cookie_of(site, "eve")
    again = login(site, "eve", cookies={COOKIE: first})
    second = again.cookies[COOKIE]
    assert second != first
    assert get(site, "config", first).status_code == 401          # the old token is gone
    assert get(site, "config", second).status_code == 200
    assert "httponly" in again.headers["set-cookie"].lower()
    assert "samesite=strict" in again.headers["set-cookie"].lower()
    # a link to /logout from another site does not end the session
    httpx.get(site["address"] + "logout", cookies={COOKIE: second},
              headers={"Sec-Fetch-Site": "cross-site"})
    assert get(site, "config", second).status_code == 200
    httpx.get(site["address"] + "logout", cookies={COOKIE: second})
    assert get(site, "config", second).status_code == 401
    for change in (lambda s: set_disabled(s, "eve", True), lambda s: set_password(
            s, "eve", "another long password"), lambda s: set_role(s, "eve", "adjudicator")):
        with database.session(site["url"]) as session:
            set_disabled(session, "eve", False)
            set_password(session, "eve", PASSWORD)
        token = cookie_of(site, "eve")
        with database.session(site["url"]) as session:
            change(session)
            set_disabled(session, "eve", False)                     # re-enabled at once
        assert get(site, "config", token).status_code == 401, "a session came back"


def test_every_file_a_page_received_needs_the_cookie_of_its_user(site):
    from fpgrade.labelling.users import set_disabled

    admin = client(site["address"], "ann")
    exported = admin.predict(site["campaign"], api_name="/export")[0]
    url = exported["url"]
    path = url.split(site["address"].rstrip("/"), 1)[1]
    ann = admin.cookies[COOKIE]
    assert get(site, path, ann).status_code == 200
    assert get(site, path).status_code == 401                        # no cookie
    assert get(site, path, cookie_of(site, "r1")).status_code == 403  # not sent to r1
    assert get(site, path, cookie_of(site, "cara")).status_code == 403  # not even a viewer
    # a path typed into a request (and echoed back by an error answer) is never taken as sent
    r1 = cookie_of(site, "r1")
    httpx.post(site["address"] + "gradio_api/call/whoami", cookies={COOKIE: r1},
               json={"data": f"/gradio_api/file={path.split('file=', 1)[1]}"}, timeout=60)
    assert get(site, path, r1).status_code == 403
    assert f"final_labels_{site['campaign']}_load.csv" in path
    httpx.get(site["address"] + "logout", cookies={COOKIE: ann})
    assert get(site, path, ann).status_code == 401                   # after logout

    rater = client(site["address"], "hal")
    shown = rater.predict(site["campaign"], api_name="/next_medium")
    image = shown[1]["value"] if "value" in shown[1] else shown[1]
    photo = image["url"].split(site["address"].rstrip("/"), 1)[1]
    hal = rater.cookies[COOKIE]
    assert get(site, photo, hal).status_code == 200
    assert get(site, photo).status_code == 401
    with database.session(site["url"]) as session:
        set_disabled(session, "hal", True)
    assert get(site, photo, hal).status_code == 401                  # disabled
    with database.session(site["url"]) as session:
        set_disabled(session, "hal", False)
    assert get(site, photo, hal).status_code == 401                  # and not revived


def test_path_traversal_on_every_file_route_is_refused(site):
    admin = client(site["address"], "ann")
    exported = admin.predict(site["campaign"], api_name="/export")[0]["url"]
    folder = exported.split("file=", 1)[1].rsplit("/", 1)[0]       # Gradio's cache folder
    token = admin.cookies[COOKIE]
    database_file = site["url"].split("sqlite:///", 1)[1]
    probes = ["gradio_api/file=/etc/passwd", "gradio_api/file=../../../../../etc/passwd",
              "gradio_api/file=%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
              f"gradio_api/file={folder}/../../../../../../../etc/passwd",
              f"gradio_api/file={folder}/x.csv",
              f"gradio_api/file={folder}/..%2f..%2f..%2f..%2fetc/passwd",
              f"gradio_api/file={database_file}", "gradio_api/file/etc/passwd",
              "gradio_api/file/..%2f..%2f..%2fetc/passwd", "file=/etc/passwd"]
    for probe in probes:
        answer = httpx.get(site["address"] + probe, cookies={COOKIE: token}, timeout=60)
        assert 400 <= answer.status_code < 500, (probe, answer.status_code)
        assert "root:" not in answer.text and "SQLite" not in answer.text, probe
        assert_headers(answer)


def test_guessing_a_password_is_throttled_per_account_and_per_address_and_audited(site):
    for attempt in range(5):
        assert login(site, "fred", "wrong password", address_of="203.0.113.5").status_code == 401
    throttled = login(site, "fred", "wrong password", address_of="203.0.113.5")
    assert throttled.status_code == 429
    assert "Too many attempts: try again in" in throttled.json()["detail"]
    assert int(throttled.headers["retry-after"]) > 0
    # the right password from elsewhere is refused too while the account's window is full
    assert login(site, "fred", address_of="198.51.100.20").status_code == 429
    # in parallel: never more than the window's attempts reach the password check
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda _: login(site, "gil", "wrong", address_of="203.0.113.6")
                              .status_code, range(40)))
    assert codes.count(401) <= 5 and codes.count(429) >= 35, codes
    assert login(site, "gil", address_of="203.0.113.99").status_code == 429
    # per address: many accounts from one address
    codes = [login(site, f"nobody{i}", "wrong", address_of="192.0.2.9").status_code
             for i in range(32)]
    assert codes[:30].count(401) == 30 and codes[-1] == 429
    with database.session(site["url"]) as session:
        failed = session.exec(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
    by_user = [e.details["user"] for e in failed]
    assert by_user.count("fred") >= 7 and by_user.count("gil") == 41
    assert {e.details["reason"] for e in failed} >= {"wrong credentials", "throttled"}
    assert all(e.details["client"] for e in failed)
    # the browser's form gets the message as a page
    page = httpx.post(site["address"] + "login", data={"username": "fred", "password": "x"},
                      headers={"Accept": "text/html", "X-Forwarded-For": "203.0.113.5"})
    assert page.status_code == 429 and "Too many attempts" in page.text
    # a form posted from another site is refused before anything is checked
    assert httpx.post(site["address"] + "login", data={"username": "r1", "password": PASSWORD},
                      headers={"Origin": "http://evil.example"}).status_code == 403


def test_what_users_type_is_validated_in_and_escaped_out(site):
    admin = client(site["address"], "ann")
    for name in (EVIL, "", "ward/7 spring", "a" * 81, "[x](javascript:alert(1))"):
        message = admin.predict(name, "house_brackmann", "", 2, False,
                                api_name="/create_campaign")[-1]
        assert "Refused" in message and "campaign" in message, message
    for name in ("<b>x</b>", "a b", "x" * 65):
        message = admin.predict(name, "a long password", "labeller", api_name="/add_user")[-1]
        assert "Refused" in message and "user name" in message, message
    with database.session(site["url"]) as session:
        assert [c.name for c in session.exec(select(Campaign)).all()] == ["load"]
    # a note with markup reaches the adjudicator as text
    first, second = client(site["address"], "r0"), client(site["address"], "r1")
    for rater, level in ((first, "I"), (second, "III")):   # every medium they may label
        shown = rater.predict(site["campaign"], api_name="/next_medium")
        while shown[7] not in (None, ""):             # the shown assignment
            shown = rater.predict(site["campaign"], level, EVIL, shown[7],
                                  api_name="/submit_label")
            assert "Stored" in shown[6], shown
    cara = client(site["address"], "cara")
    queue = cara.predict(site["campaign"], api_name="/adjudication_queue")
    assert queue[0]["data"], (queue, first.predict(site["campaign"], api_name="/next_medium"))
    opened = cara.predict(queue[0]["data"][0][0], api_name="/open_case")
    details = opened[3]
    assert "<img" not in details and "](http" not in details and "**bold**" not in details
    assert "&lt;img src\\=x onerror\\=alert\\(1\\)" in details
    # a reason over the limit, or with control characters, is one clear refusal
    refused = cara.predict(None, "x" * 1001, api_name="/decide")
    assert "Refused" in refused


def test_the_clinician_page_needs_a_clinician_login_beyond_loopback(site, tmp_path):
    env = {**os.environ, "FPGRADE_DATABASE_URL": site["url"],
           "FPGRADE_DATA_DIR": str(site["workdir"])}
    run = subprocess.run([sys.executable, "-m", "fpgrade", "demo", "--host", "0.0.0.0",
                          "--port", "9"], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "without a login" in run.stderr and "Traceback" not in run.stderr
    empty = {**env, "FPGRADE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    run = subprocess.run([sys.executable, "-m", "fpgrade", "demo", "--login", "--port", "9"],
                         env=empty, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "no active clinician or admin account" in run.stderr
    from tests.browser import fpgrade_server

    with fpgrade_server("demo --login", env, tmp_path / "demo.log") as demo:
        page = demo["url"]
        assert httpx.get(page).status_code == 303
        labeller = httpx.post(page + "login", data={"username": "r0", "password": PASSWORD})
        assert labeller.status_code == 403 and COOKIE not in labeller.cookies
        carl = httpx.post(page + "login", data={"username": "carl", "password": PASSWORD})
        assert carl.status_code == 200
        opened = httpx.get(page, cookies={COOKIE: carl.cookies[COOKIE]})
        assert opened.status_code == 200 and "gradio" in opened.text.lower()
        assert_headers(opened)
        # a file of the server's disk named in a request (with or without Gradio's meta, or
        # as a URL for the server to fetch) is refused before Gradio reads it: nobody grades
        # or reads a file by typing its path
        token = carl.cookies[COOKIE]
        secret = next((site["workdir"] / "media").iterdir())
        for offered in ({"path": str(secret), "meta": {"_type": "gradio.FileData"}},
                        {"path": str(secret)}, {"path": "http://example.org/face.jpg"},
                        {"path": "/tmp/gradio/x/../../etc/hostname"}):
            for fn in (0, 1):
                answer = httpx.post(page + "gradio_api/queue/join", cookies={COOKIE: token},
                                    json={"data": [None, [offered]], "fn_index": fn,
                                          "session_hash": "carl-files", "event_data": None,
                                          "trigger_id": None}, timeout=60)
                assert answer.status_code == 403, (offered, answer.text)
                assert "not sent to this login" in answer.text
        plain = httpx.post(page + "gradio_api/queue/join", cookies={COOKIE: token},
                           json={"data": [], "fn_index": 0, "session_hash": "carl-files",
                                 "event_data": None, "trigger_id": None}, timeout=60)
        assert plain.status_code != 403, plain.text


def test_an_idle_session_ends_and_is_deleted(tmp_path):
    from fpgrade.labelling import sessions
    from fpgrade.labelling.users import Account
    from fpgrade.storage.tables import WebSession

    url = f"sqlite:///{tmp_path / 'idle.db'}"
    fast_user(url, "ida", "labeller")
    with database.session(url) as session:
        user = session.exec(select(User)).one()
        token = sessions.open_session(session, Account.of(user))
        assert sessions.resolve(session, token, idle=timedelta(minutes=30)).name == "ida"
        row = session.exec(select(WebSession)).one()
        assert row.token_sha256 != token                # only the digest is stored
        row.last_seen_at = row.last_seen_at - timedelta(minutes=31)
        session.add(row)
        session.commit()
        assert sessions.resolve(session, token, idle=timedelta(minutes=30)) is None
        assert sessions.count(session) == 0


@pytest.mark.parametrize("change", ["password", "disable", "role"])
def test_a_login_overtaken_by_a_reset_disable_or_role_change_opens_no_session(tmp_path, change):
    """The password is checked without a lock, the session written after: a reset, a disable or
    a role change that lands in between (an attacker racing logins against an admin's reset)
    leaves no session, whatever the timing (the order is forced here, no race needed)."""
    from fpgrade.labelling import sessions
    from fpgrade.labelling.model import AuthenticationError
    from fpgrade.labelling.users import check_password, set_disabled, set_password, set_role
    from fpgrade.storage.tables import WebSession

    url = f"sqlite:///{tmp_path / 'race.db'}"
    fast_user(url, "ida", "labeller")
    with database.read_session(url) as reading:
        account, checked = check_password(reading, "ida", PASSWORD)
    with database.session(url) as admin:
        {"password": lambda: set_password(admin, "ida", "a-new-password-123"),
         "disable": lambda: set_disabled(admin, "ida", True),
         "role": lambda: set_role(admin, "ida", "adjudicator")}[change]()
    with database.session(url) as session:
        with pytest.raises(AuthenticationError):
            sessions.log_in(session, account, checked, PASSWORD, client="x")
        assert session.exec(select(WebSession)).all() == []
        assert not session.exec(select(AuditEvent).where(AuditEvent.action == "login")).all()
    with database.read_session(url) as reading:      # and without a change it opens one
        if change == "role":
            account, checked = check_password(reading, "ida", PASSWORD)
            with database.session(url) as session:
                token = sessions.log_in(session, account, checked, PASSWORD)
                assert sessions.resolve(session, token, idle=timedelta(minutes=5)).name == "ida"


def test_a_cookie_is_checked_without_the_write_lock_until_a_write_is_due(tmp_path):
    """Every request checks its cookie: :func:`sessions.peek` reads only (no SQLite write
    lock), and says when :func:`sessions.resolve` must write (a touch every TOUCH_EVERY, an
    idle session to delete)."""
    from fpgrade.labelling import sessions
    from fpgrade.labelling.users import Account
    from fpgrade.storage.tables import WebSession

    url = f"sqlite:///{tmp_path / 'peek.db'}"
    fast_user(url, "ida", "labeller")
    with database.session(url) as session:
        token = sessions.open_session(session, Account.of(session.exec(select(User)).one()))
    idle = timedelta(minutes=30)
    with database.session(url) as writer:     # another writer holds the lock meanwhile
        writer.exec(select(User)).first()
        with database.read_session(url) as reading:
            account, due = sessions.peek(reading, token, idle=idle)
        assert (account.name, due) == ("ida", False)
        writer.rollback()
    assert sessions.peek(database.read_session(url), "not-a-token", idle=idle) == (None, False)
    with database.session(url) as session:
        row = session.exec(select(WebSession)).one()
        row.last_seen_at = row.last_seen_at - sessions.TOUCH_EVERY - timedelta(seconds=1)
        session.add(row)
        session.commit()
        assert sessions.peek(session, token, idle=idle)[1] is True     # a touch is due
        assert sessions.resolve(session, token, idle=idle).name == "ida"
        assert sessions.peek(session, token, idle=idle) == (sessions.peek(session, token,
                                                                          idle=idle)[0], False)
        row = session.exec(select(WebSession)).one()
        row.last_seen_at = row.last_seen_at - idle - timedelta(seconds=1)
        session.add(row)
        session.commit()
        assert sessions.peek(session, token, idle=idle) == (None, True)  # to delete


def test_the_clinician_page_without_login_answers_this_machine_only():
    """DNS rebinding and other local pages: a Host that is not loopback, or another Origin, is
    refused, and no CORS header lets a page of another origin read an answer."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from fpgrade_ui.web_guard import Guard

    async def page(request):
        return PlainTextResponse("page", headers={"Access-Control-Allow-Origin": "*"})

    guarded = TestClient(Guard(Starlette(routes=[Route("/", page)]), None),
                         base_url="http://127.0.0.1:7860")
    assert guarded.get("/").status_code == 200
    assert "access-control-allow-origin" not in guarded.get("/").headers
    assert guarded.get("/", headers={"Host": "localhost:7860"}).status_code == 200
    assert guarded.get("/", headers={"Host": "attacker.example:7860"}).status_code == 403
    assert guarded.get("/", headers={"Origin": "http://localhost:3000"}).status_code == 403
    assert guarded.get("/", headers={"Origin": "http://127.0.0.1:7860"}).status_code == 200


XSS = ("# Grading\n<script>alert(1)</script> <img src=x onerror=alert(2)>\n"
       "[click](javascript:alert(3)) [also](JaVaScRiPt:alert(4)) [data](data:text/html,x)\n"
       "![tracker](https://example.org/pixel.png) [the paper](https://doi.org/10.1177/0194599885)"
       "\n\n**Grade II**: slight weakness on close inspection")


def _tags(html: str) -> list[tuple[str, dict]]:
    """Every tag of an HTML text with its attributes, as a browser would parse them."""
    from html.parser import HTMLParser

    found = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: found.append((tag, dict(attrs)))
    parser.feed(html)
    return found


def test_a_guideline_with_html_and_script_links_reaches_raters_as_safe_html_with_its_examples(
        site):
    """The admin's Markdown over HTTP: no tag, no script link, no outside image comes out; the
    example photo (from the campaign's final labels) is served to the rater who was sent it,
    to nobody else; a labeller may not write a guideline."""
    from PIL import Image

    from fpgrade.labelling.campaigns import create_campaign
    from fpgrade.labelling.final import set_final
    from fpgrade.labelling.model import Method
    from fpgrade.registry import get_registry
    from tests.media_rows import add_medium

    photo = site["workdir"] / "media" / "G0001_MV1.png"
    Image.new("RGB", (32, 32), (200, 10, 10)).save(photo)
    with database.session(site["url"]) as session:
        medium = add_medium(session, "G0001", photo, "g" * 64, movement="MV1")
        session.commit()
        guide = create_campaign(session, "guide", "house_brackmann", registry=get_registry(),
                                subjects=["G0001"]).id
        set_final(session, media_id=medium.id, scale="house_brackmann", label="II",
                  method=Method.AGREED_CHECKED, decided_by="ann", campaign_id=guide)
        session.commit()
    labeller = client(site["address"], "r1")
    refused = labeller.predict(None, XSS, api_name="/set_guideline")[-1]
    assert "Refused" in refused and "may not" in refused
    admin = client(site["address"], "ann")
    admin.predict(None, None, None, None, api_name="/refresh_campaigns")  # the new campaign
    preview, message = admin.predict(guide, XSS, api_name="/set_guideline")
    assert "saved" in message
    rater = client(site["address"], "r0")
    rater.predict(None, None, None, None, api_name="/refresh_campaigns")
    shown = rater.predict(guide, api_name="/guideline")
    [title] = [x for x in shown if isinstance(x, str) and x.startswith("### Guideline")]
    [html] = [x for x in shown if isinstance(x, str) and "<h1>" in x]
    [gallery] = [x for x in shown if isinstance(x, list)]
    for page in (preview, html):
        tags = _tags(page)
        assert {t for t, _ in tags} <= {"h1", "p", "a", "strong"}, page   # no script, no img
        assert all(set(a) <= {"href", "rel", "target"} for _, a in tags), page
        assert [a["href"] for t, a in tags if t == "a"] == [
            "https://example.org/pixel.png", "https://doi.org/10.1177/0194599885"], page
        assert "&lt;script&gt;" in page and "<strong>Grade II</strong>" in page
    assert "1 example photo" in title
    [example] = gallery
    assert example["caption"].startswith("II ")
    url = example["image"]["url"]
    assert "G0001" not in url and url.endswith("/medium.jpg")     # a neutral name
    path = url.split(site["address"].rstrip("/"), 1)[1]
    assert get(site, path, rater.cookies[COOKIE]).status_code == 200
    assert get(site, path, cookie_of(site, "r1")).status_code == 403    # not sent to r1
    assert get(site, path).status_code == 401


def test_the_file_ledger_decodes_nothing_and_keeps_no_path_with_a_parent_part(tmp_path):
    """An upload whose name hides ``..`` behind percent signs stands for itself only: Starlette
    decoded the route once and the ledger decodes nothing again (a crafted upload name once
    made the ledger record another user's cached file as the uploader's)."""
    from fpgrade_ui.web_files import FileLedger

    ledger = FileLedger()
    crafted = str(tmp_path / "up" / "a%2F..%2F..%2Fvictim%2Fimage.webp")
    ledger.remember(1, [crafted, str(tmp_path / "up" / ".." / "victim" / "other.webp")])
    assert ledger.may_read(1, crafted)
    assert not ledger.may_read(1, str(tmp_path / "victim" / "image.webp"))
    assert not ledger.may_read(1, str(tmp_path / "victim" / "other.webp"))
    assert not ledger.may_read(1, str(tmp_path / "up" / ".." / "victim" / "other.webp"))
    assert ledger.may_offer(1, json.dumps({"data": [{"path": crafted}]}).encode()) is None
    assert ledger.may_offer(2, json.dumps({"data": [{"path": crafted}]}).encode()) == crafted
