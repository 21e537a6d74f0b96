"""The labelling pages end to end in a real browser (Debian's chromium driven by Playwright).

One ``fpgrade label`` server for the module on its own SQLite database, with a campaign of three
photos on House-Brackmann. Two labellers log in (each in their own browser context) and label
the same photos in two blind passes (one with the keyboard shortcuts); they disagree on one,
which reaches the adjudicator, who decides; the agreement page shows the kappa and the heat map;
the final labels export as CSV; a labeller sees no adjudication or admin tab; logout ends the
session; SIGTERM stops the server within 2 s. Screenshots go to ``build/test-artefacts/``.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.labelling_helpers import PASSWORD
from tests.browser import ARGS, ARTEFACTS, BROWSER_TEST, CHROMIUM, WAIT_MS, fpgrade_server

pytestmark = BROWSER_TEST

#: what each labeller says per photo (by order of the photos); they disagree on the third
ANN = ["I", "III", "IV"]
BOB = ["I", "III", "V"]


def make_campaign(url: str, folder: Path) -> list[int]:
    """Users, three photos of scikit-image's portrait (pseudonymous subjects) and campaign c1."""
    from argon2 import PasswordHasher
    from PIL import Image, ImageEnhance

    from fpgrade.labelling import users as users_core
    from fpgrade.labelling.campaigns import create_campaign
    from fpgrade.registry import get_registry
    from fpgrade.storage import database
    from tests.media_factory import astronaut
    from tests.media_rows import add_medium

    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    ids = []
    with database.session(url) as session:
        for name, role in [("ann", "labeller"), ("bob", "labeller"), ("cara", "adjudicator"),
                           ("dan", "admin")]:
            session.add(users_core.User(name=name, password_hash=fast.hash(PASSWORD), role=role))
        for index in range(3):
            path = folder / f"P{index + 1:03d}_MV0.jpg"
            image = ImageEnhance.Brightness(Image.fromarray(astronaut())).enhance(0.8 + 0.2 * index)
            image.save(path)
            ids.append(add_medium(session, f"P{index + 1:03d}", path, f"{index:064d}").id)
        session.commit()
        create_campaign(session, "c1", "house_brackmann", registry=get_registry(), seed=3)
    return ids


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("label-data")
    temp = tmp_path_factory.mktemp("label-tmp")
    url = f"sqlite:///{data_dir / 'labels.db'}"
    media = make_campaign(url, data_dir)
    env = {**os.environ, "FPGRADE_DATA_DIR": str(data_dir), "FPGRADE_DATABASE_URL": url,
           "TMPDIR": str(temp)}
    with fpgrade_server("label", env, data_dir / "server.log") as served:
        yield {**served, "temp": temp, "media": media, "db": url}


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def open_as(browser, server, name: str):
    """A fresh browser context (its own session) logged in as ``name``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(server["url"])
    page.fill("#username", name)      # the server's login form (fpgrade_ui.web_auth)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector(f"#whoami:has-text('{name}')")
    return page


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTEFACTS / name), full_page=True)


def medium_number(page) -> int:
    return int(re.search(r"Medium #(\d+)", page.inner_text("#medium-title")).group(1))


def label_everything(page, server, labels: list[str], *, keys: bool, screenshot: str | None):
    """Press Next, then label each photo shown until nothing is left."""
    page.click("#next-button")
    done = 0
    while True:
        page.wait_for_selector("#medium-title:has-text('Medium #'), "
                               "#medium-title:has-text('Nothing left')")
        if "Nothing left" in page.inner_text("#medium-title"):
            return done
        number = medium_number(page)
        code = labels[server["media"].index(number)]
        position = ["I", "II", "III", "IV", "V", "VI"].index(code) + 1
        page.wait_for_selector("#medium-image img")
        assert "hidden in this blind pass" in page.inner_text("#suggestion")
        if screenshot and done == 0:
            shot(page, screenshot)
        if keys:
            page.locator("#medium-title").click()  # focus out of any input
            page.keyboard.press(str(position))
            page.wait_for_function(
                f"document.querySelectorAll('#level-choice input')[{position - 1}].checked")
            page.keyboard.press("Enter")
        else:
            page.locator("#level-choice label").nth(position - 1).click()
            page.click("#submit-label")
        page.wait_for_selector(f"#label-message:has-text('medium #{number} = {code}')")
        done += 1


def test_two_labellers_label_the_same_photos_in_two_blind_passes(browser, server):
    ann = open_as(browser, server, "ann")
    assert not ann.get_by_role("tab", name="Adjudication").is_visible()
    assert not ann.get_by_role("tab", name="Admin").is_visible()
    assert "Moderate dysfunction" not in ann.inner_text("#main")  # nothing open yet
    assert label_everything(ann, server, ANN, keys=True, screenshot="10_label_view.png") == 3
    bob = open_as(browser, server, "bob")
    assert label_everything(bob, server, BOB, keys=False, screenshot="11_label_view_bob.png") == 3
    shot(bob, "12_label_nothing_left.png")
    ann.click("#next-button")
    ann.wait_for_selector("#medium-title:has-text('Nothing left')")
    ann.context.close()
    bob.context.close()


def test_the_disagreement_reaches_the_adjudicator_who_decides(browser, server):
    cara = open_as(browser, server, "cara")
    cara.get_by_role("tab", name="Adjudication").click()
    cara.click("#queue-button")
    cara.wait_for_selector("#case-message:has-text('1 undecided')")
    cara.click("#open-case")
    cara.wait_for_selector("#case-details:has-text('bob')")
    details = cara.inner_text("#case-details")
    assert "ann" in details and "IV" in details and "V" in details
    assert "No trained model for house_brackmann" in details
    cara.wait_for_selector("#case-image img")
    shot(cara, "13_adjudication.png")
    cara.locator("#decision label").nth(3).click()  # IV
    cara.fill("#decision-reason textarea, #decision-reason input",
              "synkinesis mild; forehead movement present: IV not V")
    cara.click("#decide-button")
    cara.wait_for_selector("#case-message:has-text('= IV (final label)')")
    shot(cara, "14_adjudication_decided.png")
    cara.click("#decide-button")  # a second decision of the same case is refused
    cara.wait_for_selector("#case-message:has-text('decided already by cara')")
    cara.context.close()


def test_the_agreement_page_shows_the_kappa_and_the_export_downloads(browser, server):
    cara = open_as(browser, server, "cara")
    cara.get_by_role("tab", name="Progress and agreement").click()
    cara.click("#show-agreement")
    cara.wait_for_selector("#agreement-text:has-text(\"Cohen's kappa\")")
    text = cara.inner_text("#agreement-text")
    assert re.search(r"ann / bob\s+3\s+66\.7%\s+0\.\d{3}\s+0\.\d{3}", text), text
    assert "Fleiss' kappa" in text
    assert "final" in cara.inner_text("#progress-text")
    cara.wait_for_selector("#heatmap img")
    shot(cara, "15_agreement.png")
    cara.click("#export-button")
    link = cara.locator("#export-file a[download]").first
    link.wait_for()
    with cara.expect_download() as info:
        link.click()
    path = ARTEFACTS / "final_labels.csv"
    info.value.save_as(str(path))
    rows = list(csv.DictReader(path.open()))
    assert [(r["subject"], r["label"], r["method"], r["decided_by"]) for r in rows] == \
        [("P003", "IV", "adjudicated", "cara")]
    cara.context.close()


def test_the_admin_page_and_logout(browser, server):
    dan = open_as(browser, server, "dan")
    dan.get_by_role("tab", name="Admin").click()
    dan.wait_for_selector("#users-table:has-text('cara')")
    dan.fill("#new-user input, #new-user textarea", "fay")
    dan.fill("#new-password input", PASSWORD)
    dan.click("#add-user")
    dan.wait_for_selector("#admin-message:has-text('User fay added (labeller)')")
    assert "fay" in dan.inner_text("#users-table")
    shot(dan, "16_admin.png")
    dan.click("#logout-button")
    dan.wait_for_selector("#message:has-text('Logged out')")
    assert dan.url.endswith("login?bye=1") and not dan.locator("#main").count()
    dan.goto(server["url"])            # the page again: back to the login form
    dan.wait_for_selector("#login-button")
    shot(dan, "17_logged_out.png")
    dan.context.close()


def test_the_server_stops_within_2_s_on_sigterm(browser, server):
    page = open_as(browser, server, "ann")
    proc = server["proc"]
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=5)
    assert time.monotonic() - start < 2.0
    assert not list(Path(server["temp"]).glob("fpgrade-label-*"))
    page.context.close()
