"""The labelling pages end to end in a real browser (Debian's chromium driven by Playwright).

One ``fpgrade label`` server for the module on its own SQLite database, with a campaign of three
photos on House-Brackmann, every page at 1366x768. Two labellers log in (each in their own
browser context) and label the same photos in two blind passes (one with the keyboard
shortcuts: the photo fits the window, wheel / + zoom, arrows pan, C contrast, F face crop; a
comment typed with markup; her label of one photo changed before its check); they disagree on
one, which reaches the adjudicator's queue (subject, movement in words, both labels), who sees
the comment as typed and decides from the keyboard at the labelling view's photo size; the
progress page shows per-labeller figures, the agreement page the kappa and the heat map; a
campaign the admin creates reaches a logged-in labeller's list without a new login; the admin
writes c1's guideline and the labeller opens it with G (example photo from its final label);
the final labels export as CSV; a labeller sees no adjudication or admin tab; logout ends the
session; a per-subject campaign (created in the Admin tab) shows a visit's three real photos
side by side under their movement names, two raters grade the visit, the adjudicator decides
it from the keyboard and every photo of the visit gets the final label; SIGTERM stops the server
within 2 s. Screenshots go to ``build/test-artefacts/``.
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

#: what each labeller says per photo (by order of the photos); they disagree on the third (ann
#: first says II there, with a comment, and changes it to IV before the check)
ANN = ["I", "III", "IV"]
ANN_FIRST = ["I", "III", "II"]
COMMENT = "left brow <b>droops</b> | check forehead"
BOB = ["I", "III", "V"]
GUIDELINE = ("## Grade by the forehead\n\nSee [House & Brackmann 1985]"
             "(https://doi.org/10.1177/019459988509300202).\n\n"
             "<script>window.__guidelineRan = 1</script> [x](javascript:alert(1))")


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
    context = browser.new_context(viewport={"width": 1366, "height": 768},
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(server["url"])
    page.fill("#username", name)      # the server's login form (fpgrade_ui.web_auth)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector(f"#whoami:has-text('{name}')")
    return page


def shot(page, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(ARTEFACTS / name), full_page=full_page)


def photo_box(page, frame: str) -> dict:
    """Where the shown photo's frame is on the page (its <img> is zoomed inside it)."""
    return page.locator(f"{frame}").bounding_box()


def zoom_of(page, frame: str) -> float:
    return float(page.locator(f"{frame} img").get_attribute("data-zoom") or 1)


def medium_number(page) -> int:
    return int(re.search(r"Medium #(\d+)", page.inner_text("#medium-title")).group(1))


def zoom_and_face(page) -> None:
    """The photo fits 1366x768; wheel and + zoom, 0 goes back; F shows the face crop and back."""
    frame = photo_box(page, "#medium-image")
    assert frame["y"] + frame["height"] <= 768, frame      # the whole photo, no scrolling
    assert frame["height"] >= 400, frame
    page.mouse.move(frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 3)
    page.mouse.wheel(0, -300)
    page.wait_for_function("Number(document.querySelector('#medium-image img')"
                           ".dataset.zoom) > 1.2")
    page.locator("#medium-title").click()
    page.keyboard.press("+")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("c")
    assert zoom_of(page, "#medium-image") > 1.5
    shot(page, "10b_label_view_zoomed.png", full_page=False)
    page.keyboard.press("0")
    assert zoom_of(page, "#medium-image") == 1.0
    page.keyboard.press("f")
    page.wait_for_selector("#face-note:has-text('Face crop (')")
    shot(page, "10c_label_view_face_crop.png", full_page=False)
    page.locator("#medium-title").click()
    page.keyboard.press("f")
    page.wait_for_function("() => !document.querySelector('#face-note').innerText.includes('Face')")


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
        assert "At rest, looking straight ahead (MV0)" in page.inner_text("#medium-title")
        if screenshot and done == 0:
            shot(page, screenshot, full_page=False)
            if keys:
                zoom_and_face(page)
        if keys and number == server["media"][2]:
            page.fill("#note textarea, #note input", COMMENT)
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
    assert label_everything(ann, server, ANN_FIRST, keys=True,
                            screenshot="10_label_view.png") == 3
    server["photo"] = photo_box(ann, "#medium-image")
    # ann changes her label of the third photo (II -> IV) before its check has run
    ann.click("#my-labels")
    shot(ann, "10d_my_labels.png")
    ann.click("#my-label input")
    ann.get_by_role("option").filter(has_text=f"medium #{server['media'][2]} ").click()
    ann.locator("#new-level label").nth(3).click()        # IV
    ann.fill("#change-note textarea, #change-note input", COMMENT)
    ann.click("#change-button")
    ann.wait_for_selector(f"#change-message:has-text('Changed: medium #{server['media'][2]} = IV')")
    shot(ann, "10d_label_changed.png")
    bob = open_as(browser, server, "bob")
    assert label_everything(bob, server, BOB, keys=False, screenshot="11_label_view_bob.png") == 3
    shot(bob, "12_label_nothing_left.png")
    ann.click("#next-button")
    ann.wait_for_selector("#medium-title:has-text('Nothing left')")
    ann.context.close()
    bob.context.close()


def test_the_disagreement_reaches_the_adjudicator_who_decides(browser, server):
    cara = open_as(browser, server, "cara")
    cara.get_by_role("tab", name="Adjudication").click()     # the queue loads on the tab
    cara.wait_for_selector("#case-message:has-text('1 undecided')")
    queue = cara.inner_text("#adj-queue")
    # subject, movement in words and the disagreement (ann's changed label, her comment flagged)
    assert "P003" in queue and "At rest, looking straight ahead (MV0)" in queue, queue
    assert "ann: IV (comment) / bob: V" in queue, queue
    cara.locator("#adj-queue").click()                         # focus out of any input
    cara.keyboard.press("o")                                   # opens the chosen case
    cara.wait_for_selector("#case-details:has-text('bob')")
    details = cara.inner_text("#case-details")
    assert "ann" in details and "IV" in details and "V" in details
    assert COMMENT in details, details                         # shown as typed, not as markup
    assert "No trained model for house_brackmann" in details
    cara.wait_for_selector("#case-image img")
    frame = photo_box(cara, "#case-image")                     # the labelling view's size
    assert frame["y"] + frame["height"] <= 768, frame          # and it fits the window
    assert abs(frame["height"] - server["photo"]["height"]) <= 2, (frame, server["photo"])
    assert abs(frame["width"] - server["photo"]["width"]) <= 2, (frame, server["photo"])
    shot(cara, "13_adjudication.png", full_page=False)
    cara.locator("#case-title").click()
    cara.keyboard.press("f")                                   # the face crop here too
    cara.wait_for_selector("#case-face-note:has-text('Face crop (')")
    cara.locator("#case-title").click()
    cara.keyboard.press("4")                                   # IV
    cara.wait_for_function("document.querySelectorAll('#decision input')[3].checked")
    cara.keyboard.press("r")                                   # to the reason
    cara.keyboard.type("synkinesis mild; forehead movement present: IV not V")
    cara.keyboard.press("Control+Enter")                       # decides
    cara.wait_for_selector("#case-message:has-text('= IV (final label)')")
    shot(cara, "14_adjudication_decided.png", full_page=False)
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
    progress = cara.inner_text("#progress-text")
    assert "final" in progress and "Per labeller" in progress
    # ann agreed with the one final label (IV), bob did not
    assert re.search(r"ann\s+3\s+\d+\.\d s\s+1\s+100%", progress), progress
    assert re.search(r"bob\s+3\s+\d+\.\d s\s+1\s+0%", progress), progress
    # over time: per week, agreement with the final label and with each other
    assert "Per labeller, per week" in progress and "Per labeller, per 50 items" in progress
    assert re.search(r"ann\s+\d{4}-W\d\d\s+3\s+\d+\.\d s\s+100% \(1\)\s+67% \(3\)",
                     progress), progress
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
    ann = open_as(browser, server, "ann")              # logged in before the new campaign
    dan = open_as(browser, server, "dan")
    dan.get_by_role("tab", name="Admin").click()
    dan.wait_for_selector("#users-table:has-text('cara')")
    dan.fill("#new-user input, #new-user textarea", "fay")
    dan.fill("#new-password input", PASSWORD)
    dan.click("#add-user")
    dan.wait_for_selector("#admin-message:has-text('User fay added (labeller)')")
    assert "fay" in dan.inner_text("#users-table")
    dan.fill("#campaign-name input, #campaign-name textarea", "c2 second look")
    dan.click("#campaign-scale input")
    dan.get_by_role("option").filter(has_text="(sided7)").first.click()  # c1 holds the photos on HB
    dan.click("#create-campaign")
    dan.wait_for_selector("#admin-message:has-text('Campaign c2 second look')")
    shot(dan, "16_admin.png")
    # the admin writes c1's guideline (Markdown; HTML in it stays text)
    dan.click("#admin-campaign input")
    dan.get_by_role("option").filter(has_text="c1 (house_brackmann").first.click()
    dan.click("#guideline-editor")
    dan.fill("#guideline-markdown textarea", GUIDELINE)
    dan.click("#guideline-save")
    dan.wait_for_selector("#admin-message:has-text('Guideline of c1 saved')")
    dan.wait_for_selector("#guideline-preview:has-text('Grade by the forehead')")
    assert dan.locator("#guideline-preview h2").count() == 1, \
        dan.inner_html("#guideline-preview")
    shot(dan, "16b_guideline_editor.png")
    ann.click("#refresh-campaigns")                     # no new login needed
    ann.click("#label-campaign input")
    ann.get_by_role("option").filter(has_text="c2 second look").wait_for()
    ann.keyboard.press("Escape")
    assert "c1" in ann.input_value("#label-campaign input")      # her choice is kept
    # ann opens c1's guideline from the labelling view (G): the text, the example photo of
    # its one final label (IV), in the photo's place; G again: back
    ann.locator("#my-queue").click()
    ann.keyboard.press("g")
    ann.wait_for_selector("#guideline-text:has-text('Grade by the forehead')")
    assert ann.locator("#guideline-text h2").count() == 1, ann.inner_html("#guideline-text")
    ann.wait_for_selector("#guideline-examples img")
    assert not ann.locator("#guideline-text script, #guideline-text img").count()
    assert "<script>" in ann.inner_text("#guideline-text")   # shown as text, never run
    assert ann.evaluate("window.__guidelineRan === undefined")
    href = ann.locator("#guideline-text a").first.get_attribute("href")
    assert href == "https://doi.org/10.1177/019459988509300202", href
    assert "1 example photo" in ann.inner_text("#guideline-title")
    assert "IV" in ann.inner_text("#guideline-examples")
    panel = ann.locator("#guideline-panel").bounding_box()
    assert panel["y"] + panel["height"] <= 768, panel            # fits the window
    shot(ann, "16c_guideline_shown.png", full_page=False)
    ann.locator("#my-queue").click()
    ann.keyboard.press("g")
    ann.wait_for_selector("#guideline-panel", state="hidden")
    ann.keyboard.press("g")                     # open again: "Next medium" puts the photo back
    ann.wait_for_selector("#guideline-panel", state="visible")
    ann.click("#next-button")
    ann.wait_for_selector("#guideline-panel", state="hidden")
    ann.wait_for_selector("#photo-column", state="visible")
    ann.context.close()
    dan.click("#logout-button")
    dan.wait_for_selector("#message:has-text('Logged out')")
    assert dan.url.endswith("login?bye=1") and not dan.locator("#main").count()
    dan.goto(server["url"])            # the page again: back to the login form
    dan.wait_for_selector("#login-button")
    shot(dan, "17_logged_out.png")
    dan.context.close()


def test_a_rater_labels_a_per_subject_campaign_side_by_side(browser, server):
    """A visit of three real photos; the admin creates a per-subject campaign (one grade per
    visit) in the Admin tab; ann sees the three movements side by side with their names, at
    1366x768 without scrolling, zooms, and grades the visit with the keyboard."""
    from fpgrade.storage import database
    from fpgrade.storage.tables import Media, MediaKind, Subject, Visit
    from tests.conftest import SHARED_FACES

    if not SHARED_FACES.is_dir():
        pytest.skip(f"real test media not found at {SHARED_FACES}")
    folder = Path(server["temp"]).parent / "visit-media"
    folder.mkdir(exist_ok=True)
    with database.session(server["db"]) as session:
        subject = Subject(code="V001")
        session.add(subject)
        session.flush()
        visit = Visit(subject_id=subject.id, name="baseline")
        session.add(visit)
        session.flush()
        for movement, name in (("MV0", "0-f1-su-ph.jpg"), ("MV1", "45-m7-di-ph.jpg"),
                               ("MV4", "single_face.jpg")):
            path = folder / f"V001_{movement}.jpg"
            path.write_bytes((SHARED_FACES / name).read_bytes())
            session.add(Media(visit_id=visit.id, path=str(path), kind=MediaKind.IMAGE,
                              sha256=f"V001{movement}".ljust(64, "0"), movement=movement))
        session.commit()
    dan = open_as(browser, server, "dan")
    dan.get_by_role("tab", name="Admin").click()
    dan.fill("#campaign-name input, #campaign-name textarea", "visits")
    dan.click("#campaign-scale input")
    dan.get_by_role("option").filter(has_text="(house_brackmann)").first.click()
    dan.click("#campaign-per-visit input")
    dan.click("#create-campaign")
    dan.wait_for_selector("#admin-message:has-text(\"one grade per subject's visit\")")
    dan.context.close()
    ann = open_as(browser, server, "ann")
    ann.click("#label-campaign input")
    ann.get_by_role("option").filter(has_text="visits").first.click()
    ann.click("#next-button")
    ann.wait_for_selector("#medium-title:has-text('one grade for its 3 movements')")
    ann.wait_for_selector("#medium-image img")
    names = ann.inner_text("#medium-title")
    assert ("Left to right: 1. At rest, looking straight ahead (MV0); 2. Close the eyes gently or tightly "
            "(MV1); 3. Smile showing the teeth (MV4)") in names, names
    frame = photo_box(ann, "#medium-image")
    shot(ann, "18_visit_side_by_side.png", full_page=False)
    assert frame["y"] + frame["height"] <= 768, frame      # the whole visit, no scrolling
    assert frame["height"] >= 400, frame
    last = ann.locator("#guideline-button").bounding_box()   # the buttons fit too
    assert last["y"] + last["height"] <= 768, last
    ann.locator("#medium-title").click()
    ann.keyboard.press("+")                                # zoom works on the whole visit
    assert zoom_of(ann, "#medium-image") > 1.2
    ann.keyboard.press("0")
    number = int(re.search(r"medium #(\d+)", ann.inner_text("#medium-title")).group(1))
    ann.keyboard.press("3")
    ann.wait_for_function("document.querySelectorAll('#level-choice input')[2].checked")
    ann.keyboard.press("Enter")
    ann.wait_for_selector(f"#label-message:has-text('Stored: visit of medium #{number} = III')")
    ann.wait_for_selector("#medium-title:has-text('Nothing left')")
    ann.context.close()
    bob = open_as(browser, server, "bob")
    bob.click("#label-campaign input")
    bob.get_by_role("option").filter(has_text="visits").first.click()
    bob.click("#next-button")
    bob.wait_for_selector("#medium-title:has-text('one grade for its 3 movements')")
    bob.locator("#level-choice label").nth(4).click()          # V: they disagree
    bob.click("#submit-label")
    bob.wait_for_selector(f"#label-message:has-text('Stored: visit of medium #{number} = V')")
    bob.context.close()
    # the adjudicator sees the whole visit in the queue and the case, and decides for it
    cara = open_as(browser, server, "cara")
    cara.get_by_role("tab", name="Adjudication").click()
    cara.wait_for_selector("#adj-queue:has-text('whole visit')")
    queue = cara.inner_text("#adj-queue")
    assert "V001" in queue and "Close the eyes gently or tightly (MV1)" in queue, queue
    assert "ann: III / bob: V" in queue, queue
    cara.locator("#adj-queue").click()                     # the one undecided case: chosen
    cara.keyboard.press("o")
    cara.wait_for_selector("#case-title:has-text('visit of medium')")
    cara.wait_for_selector("#case-image img")
    frame = photo_box(cara, "#case-image")
    assert frame["y"] + frame["height"] <= 768, frame
    assert "Left to right: 1. At rest" in cara.inner_text("#case-title")
    shot(cara, "19_visit_adjudication.png", full_page=False)
    cara.locator("#case-title").click()
    cara.keyboard.press("4")
    cara.wait_for_function("document.querySelectorAll('#decision input')[3].checked")
    cara.keyboard.press("r")
    cara.keyboard.type("eye closes with effort; mouth asymmetric in the smile")
    cara.keyboard.press("Control+Enter")
    cara.wait_for_selector(f"#case-message:has-text('the visit of medium #{number} (3 media) = IV')")
    cara.context.close()
    from sqlmodel import select

    from fpgrade.storage.tables import FinalLabel
    with database.session(server["db"]) as session:
        finals = session.exec(select(FinalLabel.media_id, FinalLabel.label).join(
            Media, FinalLabel.media_id == Media.id).where(Media.path.like("%V001_%"))).all()
    assert sorted(label for _, label in finals) == ["IV", "IV", "IV"]


def test_the_server_stops_within_2_s_on_sigterm(browser, server):
    page = open_as(browser, server, "ann")
    proc = server["proc"]
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=5)
    assert time.monotonic() - start < 2.0
    assert not list(Path(server["temp"]).glob("fpgrade-label-*"))
    page.context.close()
