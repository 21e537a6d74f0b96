"""The clinician page end to end in a real browser: Debian's chromium driven by Playwright.

One server (``fpgrade demo``) for the module, on its own database, started in a folder outside
the repository (the example buttons must work from anywhere); the tests run in order on one
page: a single photo, a trained model's grade, the example set saved as two visits, the recovery
view, the PDF of the five-photo set (every photo and item, checked on the rendered pages), Clear
(every output empty, Save refused), a second patient whose recovery shows only their own values,
and the server stopping within 2 s on SIGTERM with the page open. Screenshots of the page and of
the PDF's pages go to ``build/test-artefacts/``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.browser import ARGS, ARTEFACTS, BROWSER_TEST, CHROMIUM, WAIT_MS, fpgrade_server

pytestmark = BROWSER_TEST


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("browser-data")
    temp = tmp_path_factory.mktemp("browser-tmp")
    env = {**os.environ, "FPGRADE_DATA_DIR": str(data_dir), "TMPDIR": str(temp)}
    env.pop("FPGRADE_DATABASE_URL", None)
    outside = tmp_path_factory.mktemp("elsewhere")  # not the repository: no examples here
    with fpgrade_server("demo", env, data_dir / "server.log", timeout_s=60,
                        cwd=outside) as served:
        yield {**served, "data_dir": data_dir, "temp": temp}


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(WAIT_MS)
        page.goto(server["url"])
        page.wait_for_selector("#grade-button")
        yield page
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTEFACTS / name), full_page=True)


def grade_and_wait(page, expected: str) -> None:
    page.click("#grade-button")
    page.wait_for_selector(f"#grades:has-text('{expected}')")
    page.wait_for_selector("#overlays img")


def test_a_file_that_is_no_picture_is_a_message_and_the_page_goes_on(page, tmp_path):
    (tmp_path / "notes.txt").write_text("not a picture")
    page.locator("#video input[type=file]").set_input_files(str(tmp_path / "notes.txt"))
    page.wait_for_selector("#notes:has-text('The photos changed')")  # the upload's reset ran
    page.click("#grade-button")
    page.wait_for_selector("#notes:has-text('not an image or a video')")
    assert "0 of 1 graded" in page.inner_text("#notes")
    shot(page, "00_bad_file.png")
    page.click("#clear-button")
    page.wait_for_function(  # the clear has reached every input before the next upload
        "!document.querySelector('#video').innerText.includes('notes')")


def test_a_single_photo_shows_overlay_table_scores_and_no_model(page, shared_faces):
    assert page.input_value("#eface-brow_rest input") == ""  # not graded: empty, not 0
    page.locator("#single-photo input[type=file]").set_input_files(
        str(shared_faces / "single_face.jpg"))
    page.wait_for_selector("#single-photo a[download]")  # the upload has finished
    page.wait_for_selector("#notes:has-text('The photos changed')")  # and its reset ran
    grade_and_wait(page, "No trained model for sided7")
    assert page.locator("#overlays img").count() >= 1
    assert "Brow height (iris centre to eyebrow)" in page.inner_text("#measurements")
    assert "static" in page.inner_text("#eface-scores")
    assert float(page.input_value("#eface-brow_rest input")) > 0
    assert "Weaker side" in page.inner_text("#summary")
    assert "fpgrade train" in page.inner_text("#grades")
    shot(page, "01_single_photo.png")


def test_a_trained_model_grade_appears_labelled_synthetic(page, server, synthetic_sided7,
                                                          monkeypatch, tmp_path):
    from fpgrade.cli import main
    from tests.conftest import _clear_caches

    monkeypatch.setenv("FPGRADE_DATA_DIR", str(server["data_dir"]))  # the server's database
    _clear_caches()
    code = main(["train", "--model", "asymmetry_classifier", "--scale", "sided7", "--data",
                 str(synthetic_sided7), "--protocol", "split:8:3:3", "--epochs", "1",
                 "--batch-size", "8", "--out", str(tmp_path / "run")])
    assert code == 0
    # a person promotes it: a tiny model may be no better than chance, which the "newest usable
    # version" rule never serves (issue 17)
    from fpgrade.models.versions import version_name

    digest = json.loads((tmp_path / "run" / "fold_0" / "best.json").read_text())["weights_sha256"]
    assert main(["models", "promote", version_name("asymmetry_classifier", digest)]) == 0
    grade_and_wait(page, "trained on SYNTHETIC data")
    grades = page.inner_text("#grades")
    assert "SYNTHETIC" in grades and "No trained model for house_brackmann" in grades
    assert "No trained model for sided7" not in grades
    assert re.search(r"7-class side-aware: (N|[LR][123]) \(", grades)  # one grade for the set
    assert "mean of the class probabilities" in grades
    page.get_by_text("Grades of each photo").click()
    page.wait_for_selector("#photo-grades:has-text('At rest, looking straight ahead')")
    page.locator("#grades").scroll_into_view_if_needed()
    shot(page, "02_model_grade.png")


def test_the_example_set_saved_as_two_visits_makes_a_recovery_plot(page):
    page.click("#example-set")
    page.wait_for_selector("#summary:has-text('Weaker side')")
    page.wait_for_function("document.querySelectorAll('#overlays img').length >= 5")
    assert "Pucker the lips" in page.inner_text("#notes")
    assert "Error" not in page.inner_text("#summary")
    assert "does not look like a face at rest" in page.inner_text("#summary")
    assert page.locator("#measurements details").count() == 5
    table_box = page.locator("#measurements").bounding_box()
    assert table_box["height"] < 900  # one movement open at a time: no 50-row scroll box
    shot(page, "03_example_set.png")
    page.fill("#subject textarea, #subject input", "P001")
    page.fill("#visit textarea, #visit input", "2026-01-10")
    page.click("#save-visit")
    page.wait_for_selector("#message:has-text('visit 2026-01-10')")
    page.fill("#eface-brow_elevation input", "90")
    page.wait_for_selector("#eface-scores:has-text('Brow elevation (90 entered)')")
    assert "Brow elevation: no movement" not in page.inner_text("#eface-scores")  # notes follow
    page.fill("#visit textarea, #visit input", "2026-03-12")
    page.click("#save-visit")
    page.wait_for_selector("#message:has-text('visit 2026-03-12')")
    page.get_by_role("tab", name="Recovery").click()
    page.fill("#recovery-subject textarea, #recovery-subject input", "P001")
    page.click("#recovery-show")
    page.wait_for_selector("#recovery-text:has-text('2 visit(s) of P001')")
    page.wait_for_selector("#recovery-plot img")
    assert "2026-03-12" in page.inner_text("#recovery-table")
    shot(page, "04_recovery.png")


def test_the_sunnybrook_form_computes_the_composite(page):
    from fpgrade.clinic import sunnybrook as sb

    page.get_by_role("tab", name="Grade").click()
    page.get_by_text("Sunnybrook (entered by the clinician)").click()
    choices = {"rest_eye": "1: narrow", "rest_cheek": "1: less pronounced",
               "rest_mouth": "1: corner drooped"}
    choices |= {i: "4: movement almost complete" for i in sb.item_ids(sb.VOLUNTARY)}
    choices |= {i: "1: mild" for i in sb.item_ids(sb.SYNKINESIS)}
    for item, text in choices.items():
        page.click(f"#sb-{item} input")
        page.keyboard.type(text)
        page.keyboard.press("Enter")
        assert page.input_value(f"#sb-{item} input") == text
    page.click("#update-scores")
    page.wait_for_selector("#sunnybrook-scores:has-text('composite 60')")
    assert "resting symmetry 15" in page.inner_text("#sunnybrook-scores")
    page.locator("#sunnybrook-scores").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTEFACTS / "05_sunnybrook.png"))


def test_the_pdf_report_downloads(page):
    import pypdfium2

    page.get_by_role("tab", name="Grade").click()
    page.click("#export")
    link = page.locator("#report-files a[download$='.pdf']").first
    link.wait_for()
    with page.expect_download() as info:
        link.click()
    path = ARTEFACTS / "downloaded_report.pdf"
    info.value.save_as(str(path))
    assert path.read_bytes().startswith(b"%PDF")
    pdf = pypdfium2.PdfDocument(str(path))
    text = pdf[0].get_textpage().get_text_range()
    assert "not a diagnosis" in text
    _check_the_report(pdf)
    shot(page, "07_export.png")


def _check_the_report(pdf) -> None:
    """The PDF of the example set: five photos on page 1, every item, scores with ranges; each
    page rendered to a PNG (to look at)."""
    import pypdfium2.raw as pdfium_c

    from fpgrade.clinic.movements import MOVEMENTS
    from fpgrade.registry import get_registry

    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    for i in range(len(pdf)):
        pdf[i].render(scale=1.5).to_pil().save(ARTEFACTS / f"06_report_page{i + 1}.png")
    assert len(list(pdf[0].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))) == 5
    assert "Photos graded (5 of 5)" in text
    assert re.search(r"Sunnybrook composite\s+60\s+0-100\s+100", text)
    assert re.search(r"eFACE total\s+\d+\s+0-100\s+100", text)
    for m in MOVEMENTS:
        if m.key not in ("close_eyes_tightly", "pucker"):
            assert m.instruction in text
    registry = get_registry()
    for item in (*registry.composite("eface").items, *registry.composite("sunnybrook").items):
        assert item.name in text, item.name
    for words in ("Clinician:", "Signature:", "Clinician's comment", "MRD1", "Rana et al."):
        assert words in text


def _eface_static(page) -> int:
    return int(re.search(r"at rest \(static\) (\d+)", page.inner_text("#eface-scores")).group(1))


def test_clear_empties_every_output_and_a_second_patient_sees_only_their_own_values(page):
    page.get_by_role("tab", name="Grade").click()
    first_static = _eface_static(page)
    page.click("#clear-button")
    page.wait_for_function(  # Clear has landed (while it runs, its outputs say "processing")
        "document.querySelectorAll('#overlays img').length === 0"
        " && document.querySelector('#summary').innerText.trim() === ''")
    for selector in ("#summary", "#notes", "#measurements", "#eface-scores", "#grades"):
        assert page.inner_text(selector).strip() == "", selector
    assert page.input_value("#eface-brow_rest input") == ""
    assert page.input_value("#eface-oral_commissure_smile input") == ""
    assert page.locator("#report-files a[download]").count() == 0
    shot(page, "08_cleared.png")
    page.fill("#subject textarea, #subject input", "NEWPATIENT-9")
    page.click("#save-visit")
    page.wait_for_selector("#message:has-text('Grade a photo or a set first')")

    page.click("#example-one")  # the second patient: one photo
    page.wait_for_selector("#summary:has-text('Weaker side')")
    page.wait_for_function("document.querySelectorAll('#overlays img').length === 1")
    second_static = _eface_static(page)
    page.fill("#subject textarea, #subject input", "P002")
    page.fill("#visit textarea, #visit input", "2026-02-02")
    page.click("#save-visit")
    page.wait_for_selector("#message:has-text('Saved assessment')")
    page.click("#save-visit")  # the same visit again: asks, saves nothing yet
    page.wait_for_selector("#message:has-text('Not saved yet')")
    page.wait_for_selector("#save-replace", state="visible")
    shot(page, "09_second_save_asks.png")
    page.click("#save-replace")
    page.wait_for_selector("#message:has-text('replaced the earlier one')")
    page.get_by_role("tab", name="Recovery").click()
    page.fill("#recovery-subject textarea, #recovery-subject input", "P002")
    page.click("#recovery-show")
    page.wait_for_selector("#recovery-text:has-text('1 visit(s) of P002')")
    table = page.inner_text("#recovery-table")
    assert "2026-01-10" not in table and "2026-03-12" not in table  # the first patient's visits
    static = re.search(r"2026-02-02\s+([\d.]+)", table)
    assert static and round(float(static.group(1))) == second_static, table
    assert first_static != second_static  # the first patient's values are not carried over
    page.wait_for_selector("#recovery-plot img")
    shot(page, "10_second_patient_recovery.png")
    page.fill("#recovery-subject textarea, #recovery-subject input", "NEWPATIENT-9")
    page.click("#recovery-show")
    page.wait_for_selector("#recovery-text:has-text('No saved visit')")


def test_a_protocol_video_gives_a_strip_and_one_graded_frame_per_movement(page, shared_faces):
    """The shared expression video uploaded as a protocol: one frame per movement found in the
    strip (rest, gentle and tight closure, smile; no brow raise, nose wrinkle or pucker), then
    graded as the photo set: one graded row per movement."""
    page.get_by_role("tab", name="Grade").click()
    page.set_input_files("#protocol-video input[type=file]",
                         str(shared_faces / "WolfgangLanger_Pexels.mp4"))
    page.wait_for_selector("#protocol-notes:has-text('4 of 7 movements found')")
    page.wait_for_function("document.querySelectorAll('#protocol-strip img').length === 4")
    notes = page.inner_text("#protocol-notes")
    assert "Wrinkle the nose: not found" in notes
    assert "Pucker the lips (whistle): not found" in notes
    strip = page.inner_text("#protocol-strip")
    assert re.search(r"(9\.[89]|10\.[0-4]) s: At rest, looking straight ahead", strip), strip
    assert re.search(r"1[89]\.\d s: Smile showing the teeth", strip), strip
    shot(page, "11_protocol_strip.png")
    page.locator("#protocol-strip img").nth(3).click()  # the smile: the slider goes to its time
    page.wait_for_selector("#protocol-preview img")
    page.click("#protocol-grade")
    page.wait_for_selector("#summary:has-text('Weaker side')")
    page.wait_for_function("document.querySelectorAll('#overlays img').length === 4")
    assert page.locator("#measurements details").count() == 4
    table = page.inner_text("#measurements")
    for words in ("At rest", "Close the eyes gently", "Close the eyes tightly", "Smile"):
        assert words in table, words
    assert "wrinkle the nose" in page.inner_text("#summary")  # not photographed: said so
    shot(page, "12_protocol_graded.png")
    page.click("#clear-button")  # the next patient: the protocol video and its strip go too
    page.wait_for_function("document.querySelectorAll('#protocol-strip img').length === 0"
                           " && document.querySelectorAll('#overlays img').length === 0")
    assert page.inner_text("#protocol-notes").strip() == ""


def test_the_server_stops_within_2_s_on_sigterm_with_the_page_open(page, server):
    proc = server["proc"]
    assert proc.poll() is None
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=5)
    assert time.monotonic() - start < 2.0
    assert not list(Path(server["temp"]).glob("fpgrade-demo-*"))  # uploads removed
