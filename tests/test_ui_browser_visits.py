"""Before and after in a real browser (issue 19): Debian's chromium driven by Playwright on
``fpgrade demo --login`` (a real server process with two clinicians' accounts).

One long test, as a clinician works: grade the example set, see the eFACE chart, save it as a
visit keeping its photos; grade the single example photo, save it as a later visit of the same
subject keeping its photo; open Recovery, choose the two visits, see the overlays side by side
per movement and the differences in words; the pictures are served to this login only (another
clinician, no cookie, and the kept file's own path are refused); delete the first visit after
confirming and find its files gone. Screenshots go to ``build/test-artefacts/``.
"""

from __future__ import annotations

import os

import httpx
import pytest
from sqlmodel import select

from tests.browser import ARGS, ARTEFACTS, BROWSER_TEST, CHROMIUM, WAIT_MS, fpgrade_server

pytestmark = BROWSER_TEST
PASSWORD = "correct horse battery staple"
COOKIE = "fpgrade_session"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from argon2 import PasswordHasher

    from fpgrade.storage import database
    from fpgrade.storage.tables import User

    data_dir = tmp_path_factory.mktemp("visits-data")
    url = f"sqlite:///{data_dir / 'fpgrade.db'}"
    hashed = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with database.session(url) as session:
        for name in ("carl", "cleo"):
            session.add(User(name=name, password_hash=hashed, role="clinician"))
        session.commit()
    database.get_engine.cache_clear()
    env = {**os.environ, "FPGRADE_DATA_DIR": str(data_dir), "FPGRADE_DATABASE_URL": url,
           "TMPDIR": str(tmp_path_factory.mktemp("visits-tmp"))}
    with fpgrade_server("demo --login", env, data_dir / "server.log", timeout_s=90,
                        cwd=tmp_path_factory.mktemp("elsewhere")) as served:
        yield {**served, "data_dir": data_dir, "db": url}


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTEFACTS / name), full_page=True)


def choose(page, selector: str, text: str) -> None:
    page.click(f"{selector} input")
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    assert page.input_value(f"{selector} input") == text


def save_with_photos(page, subject: str, day: str, expected: str) -> None:
    page.fill("#subject textarea, #subject input", subject)
    page.fill("#visit textarea, #visit input", day)
    box = page.locator("#keep-photos input[type=checkbox]")
    assert not box.is_checked()  # opt-in: off for every new patient
    box.check()
    page.click("#save-visit")
    page.wait_for_selector(f"#message:has-text('{expected}')")


def test_two_visits_with_photos_side_by_side_then_one_deleted(server):
    from playwright.sync_api import sync_playwright

    from fpgrade.storage import database
    from fpgrade.storage.tables import Assessment, VisitPhoto

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(WAIT_MS)
        page.goto(server["url"])
        page.fill("#username", "carl")
        page.fill("#password", PASSWORD)
        page.click("#login-button")
        page.wait_for_selector("#grade-button")

        # the first visit: the example set, its eFACE chart, saved with its photos
        page.click("#example-set")
        page.wait_for_selector("#summary:has-text('Weaker side')")
        page.wait_for_function("document.querySelectorAll('#overlays img').length >= 5")
        page.wait_for_selector("#eface-chart img", state="attached")
        page.locator("#eface-chart").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTEFACTS / "visits_01_eface_chart.png"))
        assert "visit_photos" in page.inner_text("#keep-photos")  # says where they are kept
        save_with_photos(page, "P900", "2026-01-10", "with its 5 photos and overlays")
        assert "kept on this computer" in page.inner_text("#message")
        shot(page, "visits_02_saved_with_photos.png")

        # the later visit: the single example photo, saved with its photo
        page.click("#example-one")
        page.wait_for_function("document.querySelectorAll('#overlays img').length === 1")
        page.wait_for_selector("#summary:has-text('Weaker side')")
        save_with_photos(page, "P900", "2026-03-12", "with its 1 photo and overlays")

        # Recovery: both visits, side by side per movement
        page.get_by_role("tab", name="Recovery").click()
        page.fill("#recovery-subject textarea, #recovery-subject input", "P900")
        page.click("#recovery-show")
        page.wait_for_selector("#recovery-text:has-text('2 visit(s) of P900')")
        assert page.input_value("#compare-earlier input") == "2026-01-10, 5 photos kept"
        assert page.input_value("#compare-later input") == "2026-03-12, 1 photo kept"
        page.click("#compare-visits")
        page.wait_for_selector("#compare-rest-earlier img", state="attached")
        page.wait_for_selector("#compare-rest-later img", state="attached")
        assert "At rest, looking straight ahead" in page.inner_text("#compare-rest")
        assert "The sides, over 10 measurements" in page.inner_text("#compare-rest")
        assert "2026-01-10 (earlier)" in page.inner_text("#compare-rest-earlier")
        assert "2026-03-12 (later)" in page.inner_text("#compare-rest-later")
        table = page.inner_text("#compare-rest-table")
        assert "MRD1" in table and " mm" in table
        assert any(word in table for word in ("better", "worse", "unchanged"))
        # a movement photographed at the first visit only: its photo, and the other side says so
        page.wait_for_selector("#compare-smile-earlier img", state="attached")
        assert "no photo of this movement" in page.inner_text("#compare-smile-later")
        assert "not comparable" in page.inner_text("#compare-smile-table")
        scores = page.inner_text("#compare-scores")
        assert "eFACE total" in scores and "eFACE item: Brow at rest" in scores
        page.locator("#compare-text").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTEFACTS / "visits_03_side_by_side.png"))
        shot(page, "visits_04_side_by_side_full.png")

        # the pictures are this login's only
        source = page.locator("#compare-rest-earlier img").get_attribute("src")
        path = source.split(server["url"].rstrip("/"), 1)[-1]
        carl = next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE)
        cleo = httpx.post(server["url"] + "login",
                          data={"username": "cleo", "password": PASSWORD}).cookies[COOKIE]

        def fetch(what: str, token: str | None) -> int:
            return httpx.get(server["url"] + what.lstrip("/"), timeout=60,
                             cookies={COOKIE: token} if token else None).status_code

        assert fetch(path, carl) == 200
        assert fetch(path, cleo) == 403 and fetch(path, None) == 401
        with database.session(server["db"]) as session:
            rows = session.exec(select(VisitPhoto)).all()
            first_id = min(r.assessment_id for r in rows)
            kept = [server["data_dir"] / r.photo for r in rows if r.assessment_id == first_id]
        assert len(kept) == 5 and all(k.is_file() for k in kept)
        folder = kept[0].parent
        assert fetch(f"/gradio_api/file={kept[0]}", carl) == 403  # never sent: never served

        # delete the first visit: asked first, then rows and files gone
        page.get_by_text("Delete a saved visit").click()
        choose(page, "#delete-choice", "2026-01-10, 5 photos kept")
        page.click("#delete-visit")
        page.wait_for_selector("#ask-delete", state="visible")
        question = page.inner_text("#delete-text")
        assert "2026-01-10" in question and "cannot be undone" in question
        assert folder.is_dir()  # asking deletes nothing
        page.locator("#delete-text").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTEFACTS / "visits_05_delete_asks.png"))
        page.click("#delete-confirm")
        page.wait_for_selector("#delete-text:has-text('Deleted the visit of 2026-01-10')")
        assert "5 kept photos" in page.inner_text("#delete-text")
        assert not folder.exists() and not any(k.exists() for k in kept)
        with database.session(server["db"]) as session:
            assert len(session.exec(select(Assessment)).all()) == 1
            assert first_id not in {r.assessment_id for r in session.exec(select(VisitPhoto)).all()}
        page.wait_for_function(
            "document.querySelector('#compare-earlier input').value.startsWith('2026-03-12')")
        page.wait_for_selector("#recovery-text:has-text('1 visit(s) of P900')")  # redrawn
        assert "2026-01-10" not in page.inner_text("#recovery-table")
        shot(page, "visits_06_deleted.png")
        browser.close()
